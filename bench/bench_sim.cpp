// Simulator benchmark: compiles Spikformer models with the default quantized
// pipeline, writes the package, loads it back (as `stc simulate` does) and
// runs the simulator on Fashion-MNIST test images (random pixels for other
// input sizes): inferences/s and synaptic events/s per host thread, for 1 and
// 2 threads, next to the fixed-point reference executor on the same inputs
// (outputs compared bit for bit, accuracy of both), and the energy/latency
// ledger per inference on loihi2 and loihi3. Writes bench/results/sim.json.
//   bench_sim [--limit N] [--model FILE.sir]... [--large] [--out bench/results/sim.json]
// --large adds a Spikformer-4-384-shaped model (random weights, few samples).
#include "../tests/core/interp_models.h"
#include "data/fashion_mnist.h"
#include "fixedpoint/executor.h"
#include "ir/ir_io.h"
#include "sim/ledger.h"
#include "sim/simulator.h"
#include "target/compile.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>
#include <unistd.h>

using namespace stc;
using nlohmann::json;

namespace {

double cpuNow() // process CPU seconds (all threads): the machine is shared, wall time is not ours alone
{
    return double(std::clock()) / CLOCKS_PER_SEC;
}

double now()
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::vector<float> randomPixels(int64_t n, uint64_t seed)
{
    std::vector<float> v(static_cast<size_t>(n));
    uint64_t s = seed * 0x9E3779B97F4A7C15ULL + 1;
    for (auto& x : v) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        x = float(double(s >> 40) / double(1 << 24));
    }
    return v;
}

int argmax(const float* v, int64_t n)
{
    return int(std::max_element(v, v + n) - v);
}

json benchModel(const std::string& label, const ir::Module& m, int64_t limit)
{
    json out;
    out["model"] = label;
    std::vector<float> pixels;
    std::vector<uint8_t> labels;
    int64_t n = 0, size = 0;
    for (const char* chip : {"loihi3", "loihi2"}) {
        std::fprintf(stderr, "[%s] compiling for %s...\n", label.c_str(), chip);
        target::CompileRequest req;
        req.chip = chip;
        double t0 = now();
        target::CompileOutput c = target::compileModule(m, req);
        if (!c.ok() && c.error.find("--chips") != std::string::npos) { // does not fit one chip
            req.chips = 4;
            std::fprintf(stderr, "[%s] %s: does not fit one chip, compiling for 4\n", label.c_str(), chip);
            c = target::compileModule(m, req);
        }
        const double compileS = now() - t0;
        json jc;
        jc["chips_requested"] = req.chips;
        jc["compile_seconds"] = compileS;
        if (!c.ok()) {
            jc["error"] = c.error;
            out[chip] = jc;
            continue;
        }
        const std::string dir = (std::filesystem::temp_directory_path() /
                                 ("stc-bench-sim-" + std::to_string(::getpid()) + "-" + chip + ".stcpkg"))
                                    .string();
        std::string err;
        if (!target::writePackage(c.package, dir, "bench\n", &err)) {
            jc["error"] = err;
            out[chip] = jc;
            continue;
        }
        t0 = now();
        sim::ProgramLoad load = sim::loadProgram(dir);
        jc["load_seconds"] = now() - t0;
        std::filesystem::remove_all(dir);
        if (!load.ok()) {
            jc["error"] = load.error;
            out[chip] = jc;
            continue;
        }
        const sim::SimProgram& prog = *load.program;
        if (pixels.empty()) {
            size = prog.inputSize();
            if (size == 784) {
                auto set = data::loadFashionMnist(data::Split::Test, data::defaultFashionMnistDir(), limit);
                if (set.ok()) {
                    pixels = std::move(set.value.pixels);
                    labels = std::move(set.value.labels);
                    n = set.value.count;
                }
            }
            if (pixels.empty()) {
                n = limit;
                pixels = randomPixels(n * size, 7);
            }
            out["samples"] = n;
            out["inputs"] = labels.empty() ? "random pixels in [0, 1)" : "Fashion-MNIST test images";
        }
        int64_t structural = 0;
        for (const auto& core : prog.cores)
            for (const auto& in : core.inputs)
                structural += in.structuralSynapses;
        jc["cores"] = prog.cores.size();
        jc["neurons"] = prog.totalNeurons;
        jc["structural_synapses"] = structural;
        jc["projected_chip"] = prog.projectedChip;

        // Fixed-point reference on the same inputs (the exactness target).
        std::vector<float> refOut;
        if (std::strcmp(chip, "loihi3") == 0) {
            for (int threads : {1, 2}) {
                fixedpoint::RunOptions ro;
                ro.threads = threads;
                t0 = now();
                const double c0 = cpuNow();
                fixedpoint::RunResult ref = fixedpoint::run(c.module, {interp::InputBatch{n, pixels}}, ro);
                const double s = now() - t0;
                out["reference_cpu_seconds_per_inference_threads_" + std::to_string(threads)] = (cpuNow() - c0) / double(n);
                if (!ref.ok()) {
                    out["reference_error"] = ref.error;
                    break;
                }
                out["reference_inferences_per_second_threads_" + std::to_string(threads)] = double(n) / s;
                refOut = ref.outputs[0];
            }
        }
        json runs = json::array();
        sim::SimResult last;
        for (int threads : {1, 2}) {
            sim::SimOptions opt;
            opt.threads = threads;
            opt.parallel = sim::Parallel::Samples;
            std::fprintf(stderr, "[%s] %s: simulating %lld samples on %d thread(s)...\n", label.c_str(), chip,
                         (long long)n, threads);
            const double c0 = cpuNow();
            sim::SimResult r = sim::simulate(prog, pixels, n, opt);
            const double cpu = cpuNow() - c0;
            if (!r.ok()) {
                jc["error"] = r.error;
                break;
            }
            const double events = double(r.counters.total().synapticOps);
            runs.push_back({{"threads", threads},
                            {"parallel", sim::toString(r.parallel)},
                            {"seconds", r.seconds},
                            {"inferences_per_second", double(r.samples) / r.seconds},
                            {"synaptic_events_per_second", events / r.seconds},
                            {"synaptic_events_per_second_per_thread", events / r.seconds / threads},
                            {"cpu_seconds", cpu},
                            {"cpu_seconds_per_inference", cpu / double(r.samples)},
                            {"synaptic_events_per_cpu_second", events / cpu}});
            last = std::move(r);
        }
        // One Cores-parallel run (per-step barrier between host threads).
        {
            sim::SimOptions opt;
            opt.threads = 2;
            opt.parallel = sim::Parallel::Cores;
            const int64_t k = std::min<int64_t>(n, 64);
            sim::SimResult r = sim::simulate(prog, std::vector<float>(pixels.begin(), pixels.begin() + k * size), k, opt);
            if (r.ok())
                runs.push_back({{"threads", 2},
                                {"parallel", "cores"},
                                {"samples", k},
                                {"seconds", r.seconds},
                                {"inferences_per_second", double(k) / r.seconds},
                                {"synaptic_events_per_second", double(r.counters.total().synapticOps) / r.seconds}});
        }
        jc["runs"] = runs;
        if (last.samples == n && n > 0) {
            const int64_t outN = int64_t(last.outputs[0].size()) / n;
            if (!refOut.empty())
                jc["outputs_equal_reference_bitwise"] =
                    refOut.size() == last.outputs[0].size() &&
                    std::memcmp(refOut.data(), last.outputs[0].data(), refOut.size() * sizeof(float)) == 0;
            if (!labels.empty()) {
                int64_t ok = 0, refOk = 0;
                for (int64_t s = 0; s < n; ++s) {
                    ok += argmax(last.outputs[0].data() + s * outN, outN) == labels[size_t(s)];
                    if (!refOut.empty())
                        refOk += argmax(refOut.data() + s * outN, outN) == labels[size_t(s)];
                }
                jc["accuracy"] = double(ok) / double(n);
                if (!refOut.empty())
                    out["reference_accuracy"] = double(refOk) / double(n);
            }
            const sim::Ledger l = sim::buildLedger(prog, last.counters);
            const auto& e = l.perInference;
            jc["per_inference"] = {
                {"synaptic_ops", e.synapticOps},
                {"spikes", e.spikes},
                {"messages", e.messages},
                {"neuron_updates_active", e.neuronActive},
                {"neuron_updates_idle", e.neuronIdle},
                {"energy_uj", l.totalPj() * 1e-6},
                {"dynamic_uj", l.dynamicPj * 1e-6},
                {"static_uj", l.staticPj * 1e-6},
                {"latency_mode_us", l.latency.latencyModeNs * 1e-3},
                {"throughput_interval_us", l.latency.throughputIntervalNs * 1e-3},
                {"literature_formula_uj", l.baselines.literaturePj * 1e-6},
                {"dense_macs", l.baselines.denseMacs},
                {"dense_gpu_equivalent_uj", l.baselines.denseGpuPj * 1e-6},
                {"label", l.label()},
                {"compile_estimate_uj", c.package.energyPj * 1e-6},
            };
        }
        out[chip] = jc;
    }
    return out;
}

} // namespace

int main(int argc, char** argv)
{
    int64_t limit = 500;
    bool large = false;
    std::string outPath = std::string(STC_SOURCE_RESOURCE_DIR) + "/../bench/results/sim.json";
    std::vector<std::string> models;
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--limit") && i + 1 < argc)
            limit = std::max<int64_t>(1, std::atoll(argv[++i]));
        else if (!std::strcmp(argv[i], "--model") && i + 1 < argc)
            models.push_back(argv[++i]);
        else if (!std::strcmp(argv[i], "--large"))
            large = true;
        else if (!std::strcmp(argv[i], "--out") && i + 1 < argc)
            outPath = argv[++i];
        else {
            std::fprintf(stderr, "usage: bench_sim [--limit N] [--model FILE.sir]... [--large] [--out FILE]\n");
            return 2;
        }
    }
    if (models.empty()) {
        models.push_back(std::string(STC_SOURCE_RESOURCE_DIR) + "/../tests/data/ir/spikformer_cifar.sir");
        const std::string bundled = std::string(STC_SOURCE_RESOURCE_DIR) + "/models/spikformer_fmnist.sir";
        if (std::filesystem::exists(bundled))
            models.push_back(bundled);
    }
    json j;
    j["benchmark"] = "simulator throughput, events and ledger per inference";
    j["host_threads_available"] = std::thread::hardware_concurrency();
    j["note"] = "2-core host shared with other jobs: absolute rates are lower bounds; ratios come from one run";
    json results = json::array();
    for (const auto& path : models) {
        ir::LoadResult r = ir::loadModule(path);
        if (!r.ok()) {
            std::fprintf(stderr, "%s", r.diagnostics.format().c_str());
            return 1;
        }
        results.push_back(benchModel(std::filesystem::path(path).filename().string(), *r.module, limit));
    }
    if (large) {
        test::SpikformerSpec spec;
        spec.embed = 384;
        spec.heads = 12;
        spec.blocks = 4;
        std::string err;
        const ir::Module m = test::buildSpikformer(spec, &err);
        if (!err.empty()) {
            std::fprintf(stderr, "%s\n", err.c_str());
            return 1;
        }
        results.push_back(benchModel("spikformer-4-384-shaped (random weights)", m, std::min<int64_t>(limit, 4)));
    }
    j["results"] = results;
    std::filesystem::create_directories(std::filesystem::path(outPath).parent_path());
    std::ofstream(outPath) << j.dump(1) << "\n";
    std::printf("%s\n", j.dump(1).c_str());
    std::fprintf(stderr, "wrote %s\n", outPath.c_str());
    return 0;
}

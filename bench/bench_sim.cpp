// Simulator benchmark: compiles Spikformer models with the default quantized
// pipeline, writes the package, loads it back (as `stc simulate` does) and
// runs the simulator on Fashion-MNIST test images (image-like smooth noise
// for other image shapes, bench/sim_bench_support.h): inferences/s and synaptic events/s per host thread, for 1 and
// 2 threads, next to the fixed-point reference executor on the same inputs
// (outputs compared bit for bit, accuracy of both), and the energy/latency
// ledger per inference on loihi2 and loihi3. Writes bench/results/sim.json.
//   bench_sim [--limit N] [--model FILE.sir]... [--large] [--out bench/results/sim.json]
// --large adds a Spikformer-4-384-shaped model (random weights, few samples).
#include "../tests/core/interp_models.h"
#include "fixedpoint/executor.h"
#include "ir/ir_io.h"
#include "sim/ledger.h"
#include "sim/simulator.h"
#include "sim_bench_support.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

using namespace stc;
using namespace stc::bench;
using nlohmann::json;

namespace {

json benchModel(const std::string& label, const ir::Module& m, int64_t limit)
{
    json out;
    out["model"] = label;
    std::vector<float> pixels;
    std::vector<uint8_t> labels;
    int64_t n = 0, size = 0;
    for (const char* chip : {"loihi3", "loihi2"}) {
        CompiledProgram cp = compileAndLoad(label, m, chip);
        json jc;
        jc["chips_requested"] = cp.chipsRequested;
        jc["compile_seconds"] = cp.compileSeconds;
        if (cp.program)
            jc["load_seconds"] = cp.loadSeconds;
        if (!cp.error.empty()) {
            jc["error"] = cp.error;
            out[chip] = jc;
            continue;
        }
        const target::CompileOutput& c = cp.compiled;
        const sim::SimProgram& prog = *cp.program;
        if (pixels.empty()) {
            size = prog.inputSize();
            const auto modelInputs = m.inputs();
            std::vector<int64_t> shape{size};
            if (modelInputs.size() == 1 && m.typeOf(modelInputs.front()).numElements() == size)
                shape = m.typeOf(modelInputs.front()).shape;
            Inputs in = makeInputs(shape, limit);
            pixels = std::move(in.pixels);
            labels = std::move(in.labels);
            n = in.count;
            out["samples"] = n;
            out["inputs"] = in.what;
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
                const double t0 = now();
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
            TimedSimulation t = timeSimulation(label + " " + chip, prog, pixels, n, threads);
            sim::SimResult& r = t.result;
            const double cpu = t.cpuSeconds;
            if (!r.ok()) {
                jc["error"] = r.error;
                break;
            }
            const double events = t.synapticOps();
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

// Compile benchmark: a Spikformer-4-384-shaped model (embed 384, 12 heads,
// 4 blocks, MLP x4, T=4, ~9.1 M parameters, 28x28 input -> 49 tokens) through
// fold-bn,canonicalize,dce + partition/place/route + package writing, and a
// multi-chip scaling table. Writes bench/results/compile.json. Mapping, package
// encoding and writing run on every host thread (CPU time can exceed wall time).
//   bench_compile [--quick] [--chip loihi3] [--chips 16] [--out bench/results/compile.json]
//                 [--write-sir FILE]   (also saves the model as Spike IR text, for timing `stc compile`)
#include "../tests/core/interp_models.h"
#include "ir/ir_io.h"
#include "passes/runner.h"
#include "target/backend.h"
#include "target/cost_model.h"
#include "target/target_passes.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <thread>

using namespace stc;

namespace {

struct Timer {
    std::chrono::steady_clock::time_point wall = std::chrono::steady_clock::now();
    std::clock_t cpu = std::clock();
    double wallS() const { return std::chrono::duration<double>(std::chrono::steady_clock::now() - wall).count(); }
    double cpuS() const { return double(std::clock() - cpu) / CLOCKS_PER_SEC; }
};

struct Run {
    bool ok = false;
    std::shared_ptr<target::TargetSession> session;
    double wall = 0, cpu = 0;
    std::string error;
};

Run compile(const ir::Module& m, const std::string& chip, int chips, const std::string& objective)
{
    Run r;
    r.session = std::make_shared<target::TargetSession>();
    r.session->options.threads = 0; // as stc compile: every host thread
    passes::PassRegistry reg = passes::makeBuiltinRegistry();
    target::registerTargetPasses(reg, r.session);
    const std::string text = "fold-bn,canonicalize,dce,partition{chip=" + chip + " chips=" + std::to_string(chips) +
                             " objective=" + objective + "},place,route";
    Diagnostics d;
    auto p = passes::parsePipeline(text, reg, d);
    passes::CompileContext ctx;
    Timer t;
    passes::RunResult res = passes::runPipeline(m, *p, reg, ctx);
    r.wall = t.wallS();
    r.cpu = t.cpuS();
    r.ok = res.ok() && r.session->routed;
    if (!r.ok)
        r.error = res.allDiagnostics().format();
    return r;
}

} // namespace

int main(int argc, char** argv)
{
    std::string chip = "loihi3", out = "bench/results/compile.json", sirOut;
    int chips = 16;
    bool quick = false; // --quick: main compile only (no min-cores run, no multi-chip table)
    for (int i = 1; i < argc; ++i) {
        const bool hasValue = i + 1 < argc;
        if (!std::strcmp(argv[i], "--quick"))
            quick = true;
        else if (hasValue && !std::strcmp(argv[i], "--chip"))
            chip = argv[++i];
        else if (hasValue && !std::strcmp(argv[i], "--chips"))
            chips = std::atoi(argv[++i]);
        else if (hasValue && !std::strcmp(argv[i], "--out"))
            out = argv[++i];
        else if (hasValue && !std::strcmp(argv[i], "--write-sir"))
            sirOut = argv[++i];
        else {
            std::fprintf(stderr, "bench_compile: unknown or incomplete option '%s'\n", argv[i]);
            return 2;
        }
    }
    test::SpikformerSpec spec;
    spec.embed = 384;
    spec.heads = 12;
    spec.blocks = 4;
    std::string err;
    const ir::Module model = test::buildSpikformer(spec, &err);
    if (!err.empty()) {
        std::fprintf(stderr, "model: %s\n", err.c_str());
        return 1;
    }
    if (!sirOut.empty()) {
        const Diagnostics d = ir::saveModule(model, sirOut);
        if (d.hasErrors()) {
            std::fprintf(stderr, "%s\n", d.format().c_str());
            return 1;
        }
        std::printf("wrote %s\n", sirOut.c_str());
    }
    nlohmann::json j;
    j["model"] = {{"name", "spikformer-4-384-shaped (linear form, 28x28 input, 49 tokens)"},
                  {"parameters", ir::parameterCount(model)},
                  {"timesteps", model.timesteps}};
    j["chip"] = chip;
    // Mapping (as in stc compile), package encoding and writing run on every host thread.
    const unsigned hostThreads = std::max(1u, std::thread::hardware_concurrency());
    j["host_threads"] = {{"mapping", hostThreads}, {"package", hostThreads}};

    Run main = compile(model, chip, chips, "balanced");
    if (!main.ok) {
        std::fprintf(stderr, "compile failed:\n%s\n", main.error.c_str());
        return 1;
    }
    const auto& s = *main.session;
    Timer pt;
    const std::string dir = (std::filesystem::temp_directory_path() / "stc_bench_compile.stcpkg").string();
    std::string listing, perr;
    const bool written = target::emitLoihiPackage(s.network, s.mapping, *s.chip, "bench", dir, &listing, &perr);
    const double pkgWall = pt.wallS(), pkgCpu = pt.cpuS();
    uintmax_t pkgBytes = 0, pkgFiles = 0;
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir))
        if (e.is_regular_file())
            pkgBytes += e.file_size(), ++pkgFiles;
    const target::Estimate est = target::estimateCost(s.network, s.mapping, *s.chip);
    std::printf("%s", target::formatSummary(s.network, s.mapping, est, *s.chip).c_str());
    std::printf("compile %.2f s wall / %.2f s cpu; package %.2f s wall / %.2f s cpu (%s, %ju files, %.1f MB)\n",
                main.wall, main.cpu, pkgWall, pkgCpu, written ? "written" : perr.c_str(), pkgFiles,
                double(pkgBytes) / 1e6);
    j["compile"] = {{"chips", chips},
                    {"objective", "balanced"},
                    {"cores", s.mapping.cores.size()},
                    {"binding_utilization", s.mapping.meanBindingUtilization},
                    {"utilization_with_step_time", s.mapping.meanUtilizationWithTime},
                    {"step_time_ns", s.mapping.stepTimeNs},
                    {"energy_uj_estimate", est.totalPj() * 1e-6},
                    {"latency_us_estimate", est.latencyNs * 1e-3},
                    {"projected_chip", s.chip->projectedChip},
                    {"pipeline_and_mapping_wall_s", main.wall},
                    {"pipeline_and_mapping_cpu_s", main.cpu},
                    {"package_wall_s", pkgWall},
                    {"package_cpu_s", pkgCpu},
                    {"package_bytes", pkgBytes},
                    {"package_files", pkgFiles},
                    {"package_written", written}};

    if (quick) {
        std::ofstream(out) << j.dump(2) << '\n';
        return 0;
    }
    Run minCores = compile(model, chip, chips, "min-cores");
    const size_t needed = minCores.ok ? minCores.session->mapping.cores.size() : 0;
    std::printf("min-cores: %zu cores, compile %.2f s wall / %.2f s cpu\n", needed, minCores.wall, minCores.cpu);
    j["compile_min_cores"] = {{"cores", needed},
                              {"binding_utilization", minCores.ok ? minCores.session->mapping.meanBindingUtilization : 0},
                              {"step_time_ns", minCores.ok ? minCores.session->mapping.stepTimeNs : 0},
                              {"pipeline_and_mapping_wall_s", minCores.wall},
                              {"pipeline_and_mapping_cpu_s", minCores.cpu}};

    nlohmann::json table = nlohmann::json::array();
    double base = 0;
    for (int n : {1, 2, 4, 8, 10, 12, 16}) {
        if (size_t(n) * size_t(s.chip->coresPerChip()) < needed) {
            std::printf("chips %2d: does not fit (needs %zu cores, has %d)\n", n, needed, n * s.chip->coresPerChip());
            table.push_back({{"chips", n}, {"fits", false}, {"cores_needed", needed}});
            continue;
        }
        Run r = compile(model, chip, n, "latency");
        nlohmann::json row = {{"chips", n}, {"fits", r.ok}, {"wall_s", r.wall}, {"cpu_s", r.cpu}};
        if (r.ok) {
            const auto& m = r.session->mapping;
            if (base == 0)
                base = m.stepTimeNs;
            nlohmann::json perChip = nlohmann::json::array();
            for (const auto& c : m.chips)
                perChip.push_back({{"chip", c.chip}, {"cores", c.coresUsed}, {"utilization", c.meanBindingUtilization}});
            row.update({{"cores", m.cores.size()},
                        {"chips_used", m.chipsUsed},
                        {"step_time_ns", m.stepTimeNs},
                        {"speedup_vs_smallest_fit", base / m.stepTimeNs},
                        {"inter_chip_spikes_per_step", m.interChipTrafficPerStep},
                        {"binding_utilization", m.meanBindingUtilization},
                        {"per_chip", perChip}});
            std::printf("chips %2d: %5zu cores on %2d chips, step %.0f ns, speed-up %.2f, inter-chip %.1f spikes/step\n",
                        n, m.cores.size(), m.chipsUsed, m.stepTimeNs, base / m.stepTimeNs, m.interChipTrafficPerStep);
        } else {
            std::printf("chips %2d: does not fit\n", n);
        }
        table.push_back(row);
    }
    j["multi_chip"] = table;
    std::filesystem::create_directories(std::filesystem::path(out).parent_path());
    std::ofstream(out) << j.dump(2) << '\n';
    std::printf("wrote %s\n", out.c_str());
    return 0;
}

// Shared by the simulator benchmarks (bench_sim, bench_sim_torch): clocks,
// inputs, and compile -> package on disk -> sim::loadProgram as `stc compile`
// + `stc simulate` do it.
#pragma once

#include "data/fashion_mnist.h"
#include "sim/program.h"
#include "sim/simulator.h"
#include "target/compile.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <optional>
#include <string>
#include <unistd.h>
#include <vector>

namespace stc::bench {

// Process CPU seconds (all threads): the machine is shared, wall time is not ours alone.
inline double cpuNow() { return double(std::clock()) / CLOCKS_PER_SEC; }

inline double now()
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

inline std::vector<float> randomPixels(int64_t n, uint64_t seed)
{
    std::vector<float> v(static_cast<size_t>(n));
    uint64_t s = seed * 0x9E3779B97F4A7C15ULL + 1;
    for (auto& x : v) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        x = float(double(s >> 40) / double(1 << 24));
    }
    return v;
}

inline int argmax(const float* v, int64_t n) { return int(std::max_element(v, v + n) - v); }

// `limit` samples of `size` pixels: Fashion-MNIST test images for 784-pixel
// inputs (labels filled), else deterministic random pixels in [0, 1).
struct Inputs {
    std::vector<float> pixels;
    std::vector<uint8_t> labels;
    int64_t count = 0;
    std::string what;
};
inline Inputs makeInputs(int64_t size, int64_t limit)
{
    Inputs in;
    if (size == 784) {
        auto set = data::loadFashionMnist(data::Split::Test, data::defaultFashionMnistDir(), limit);
        if (set.ok()) {
            in.pixels = std::move(set.value.pixels);
            in.labels = std::move(set.value.labels);
            in.count = set.value.count;
            in.what = "Fashion-MNIST test images";
            return in;
        }
    }
    in.count = limit;
    in.pixels = randomPixels(limit * size, 7);
    in.what = "random pixels in [0, 1)";
    return in;
}

struct CompiledProgram {
    target::CompileOutput compiled;
    std::optional<sim::SimProgram> program;
    int chipsRequested = 1;
    double compileSeconds = 0, loadSeconds = 0;
    std::string error;
};

// Compiles for `chip` (retrying on 4x as many chips, up to `maxChips`, while
// the model does not fit), writes the package to a temporary directory and
// loads it back.
inline CompiledProgram compileAndLoad(const std::string& label, const ir::Module& m, const std::string& chip,
                                      int maxChips = 4)
{
    CompiledProgram out;
    std::fprintf(stderr, "[%s] compiling for %s...\n", label.c_str(), chip.c_str());
    target::CompileRequest req;
    req.chip = chip;
    double t0 = now();
    out.compiled = target::compileModule(m, req);
    while (!out.compiled.ok() && out.compiled.error.find("--chips") != std::string::npos && req.chips * 4 <= maxChips) {
        req.chips *= 4;
        std::fprintf(stderr, "[%s] %s: does not fit, compiling for %d chips\n", label.c_str(), chip.c_str(), req.chips);
        out.compiled = target::compileModule(m, req);
    }
    out.compileSeconds = now() - t0;
    out.chipsRequested = req.chips;
    if (!out.compiled.ok()) {
        out.error = out.compiled.error;
        return out;
    }
    const std::string dir = (std::filesystem::temp_directory_path() /
                             ("stc-bench-sim-" + std::to_string(::getpid()) + "-" + chip + ".stcpkg"))
                                .string();
    if (!target::writePackage(out.compiled.package, dir, "bench\n", &out.error))
        return out;
    t0 = now();
    sim::ProgramLoad load = sim::loadProgram(dir);
    out.loadSeconds = now() - t0;
    std::filesystem::remove_all(dir);
    if (!load.ok())
        out.error = load.error;
    else
        out.program = std::move(load.program);
    return out;
}

// One timed simulator run of `n` samples, whole samples per host thread
// (`batch` of them in lock-step per thread).
struct TimedSimulation {
    sim::SimResult result;
    double cpuSeconds = 0;
    double synapticOps() const { return double(result.counters.total().synapticOps); }
};
inline TimedSimulation timeSimulation(const std::string& label, const sim::SimProgram& prog,
                                      const std::vector<float>& pixels, int64_t n, int threads, int batch = 1)
{
    sim::SimOptions opt;
    opt.threads = threads;
    opt.parallel = sim::Parallel::Samples;
    opt.batch = batch;
    std::fprintf(stderr, "[%s] simulating %lld samples on %d thread(s), batch %d...\n", label.c_str(), (long long)n,
                 threads, batch);
    TimedSimulation t;
    const double c0 = cpuNow();
    t.result = sim::simulate(prog, pixels, n, opt);
    t.cpuSeconds = cpuNow() - c0;
    return t;
}

} // namespace stc::bench

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
#include <cstring>
#include <ctime>
#include <filesystem>
#include <optional>
#include <string>
#include <tuple>
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

// Image-like noise in [0, 1] for C×H×W samples, drawn the way
// tools/models/common.py smooth_noise() draws the images on which the
// random-weight generators (gen_spikformer_4_384.py, gen_spikformer_imagenet.py)
// recalibrate BatchNorm for their target firing rate: uniform noise at 1/8 of
// the resolution (at least 2×2), upsampled bilinearly (PyTorch's
// align_corners=False rule), plus 0.1 × per-pixel uniform noise, clamped. Other
// seeds than the generator's, so these are held-out samples of the
// calibration distribution. Uniform per-pixel noise is far from it: its high
// spatial frequencies drive the convolutions of those models to ~18 % firing
// instead of ~5 % (measured on the 4-384 model, docs/performance.md).
inline std::vector<float> smoothNoise(int64_t n, int64_t channels, int64_t h, int64_t w, uint64_t seed)
{
    const int64_t lh = std::max<int64_t>(h / 8, 2), lw = std::max<int64_t>(w / 8, 2);
    const std::vector<float> low = randomPixels(n * channels * lh * lw, seed);
    const std::vector<float> fine = randomPixels(n * channels * h * w, seed + 1);
    // Source index and weight of output position `o` (of `out`) in an axis of `in`.
    auto axis = [](int64_t o, int64_t in, int64_t out) {
        const double src = std::max(0.0, (double(o) + 0.5) * double(in) / double(out) - 0.5);
        const int64_t i0 = std::min<int64_t>(int64_t(src), in - 1);
        return std::tuple{i0, std::min<int64_t>(i0 + 1, in - 1), float(src - double(i0))};
    };
    std::vector<float> v(static_cast<size_t>(n * channels * h * w));
    for (int64_t p = 0; p < n * channels; ++p) {
        const float* l = low.data() + p * lh * lw;
        for (int64_t y = 0; y < h; ++y) {
            const auto [y0, y1, fy] = axis(y, lh, h);
            for (int64_t x = 0; x < w; ++x) {
                const auto [x0, x1, fx] = axis(x, lw, w);
                const float top = l[y0 * lw + x0] * (1 - fx) + l[y0 * lw + x1] * fx;
                const float bottom = l[y1 * lw + x0] * (1 - fx) + l[y1 * lw + x1] * fx;
                const size_t k = static_cast<size_t>((p * h + y) * w + x);
                v[k] = std::clamp(top * (1 - fy) + bottom * fy + 0.1f * fine[k], 0.0f, 1.0f);
            }
        }
    }
    return v;
}

// `limit` samples of the per-sample `shape`: Fashion-MNIST test images for
// 784-pixel inputs (labels filled), image-like smooth noise for other C×H×W
// images, else deterministic uniform random values in [0, 1).
struct Inputs {
    std::vector<float> pixels;
    std::vector<uint8_t> labels;
    int64_t count = 0;
    std::string what;
};
inline Inputs makeInputs(const std::vector<int64_t>& shape, int64_t limit)
{
    Inputs in;
    int64_t size = 1;
    for (int64_t d : shape)
        size *= d;
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
    if (shape.size() == 3 && shape[1] >= 2 && shape[2] >= 2) {
        in.pixels = smoothNoise(limit, shape[0], shape[1], shape[2], 7);
        in.what = "image-like smooth noise in [0, 1] (the random-weight generators' BN calibration distribution, "
                  "held-out seed)";
    } else {
        in.pixels = randomPixels(limit * size, 7);
        in.what = "random values in [0, 1)";
    }
    return in;
}

struct CompiledProgram {
    target::CompileOutput compiled;
    std::optional<sim::SimProgram> program;
    int chipsRequested = 1;
    double compileSeconds = 0, loadSeconds = 0;
    std::string error;
};

// Compiles for `chip` with `pipeline` (retrying on 4x as many chips, up to
// `maxChips`, while the model does not fit), writes the package to a
// temporary directory and loads it back.
inline CompiledProgram compileAndLoad(const std::string& label, const ir::Module& m, const std::string& chip,
                                      int maxChips = 4,
                                      const std::string& pipeline = target::kDefaultCompilePipeline)
{
    CompiledProgram out;
    std::fprintf(stderr, "[%s] compiling for %s (%s)...\n", label.c_str(), chip.c_str(), pipeline.c_str());
    target::CompileRequest req;
    req.chip = chip;
    req.pipeline = pipeline;
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

// Host-side strategies (threads, batches, execution order) must not change a
// run: outputs bit for bit and every per-(core, step) counter.
inline bool sameResults(const sim::SimResult& a, const sim::SimResult& b)
{
    if (a.outputs.size() != b.outputs.size())
        return false;
    for (size_t k = 0; k < a.outputs.size(); ++k)
        if (a.outputs[k].size() != b.outputs[k].size() ||
            std::memcmp(a.outputs[k].data(), b.outputs[k].data(), a.outputs[k].size() * sizeof(float)) != 0)
            return false;
    const sim::Counters &x = a.counters, &y = b.counters;
    if (x.perCoreStep.size() != y.perCoreStep.size() || x.inputSynapticOps != y.inputSynapticOps)
        return false;
    for (size_t i = 0; i < x.perCoreStep.size(); ++i) {
        const sim::EventCounts &p = x.perCoreStep[i], &q = y.perCoreStep[i];
        if (p.synapticOps != q.synapticOps || p.spikes != q.spikes || p.messages != q.messages ||
            p.neuronActive != q.neuronActive || p.neuronIdle != q.neuronIdle || p.hopsEw != q.hopsEw ||
            p.hopsNs != q.hopsNs || p.chipMessages != q.chipMessages || p.chipLinks != q.chipLinks ||
            p.memReadBytes != q.memReadBytes || p.maxMessageNs != q.maxMessageNs)
            return false;
    }
    return true;
}

// One timed simulator run of `n` samples, whole samples per host thread
// (`batch` of them in lock-step per thread).
struct TimedSimulation {
    sim::SimResult result;
    double cpuSeconds = 0;
    double synapticOps() const { return double(result.counters.total().synapticOps); }
};
inline TimedSimulation timeSimulation(const std::string& label, const sim::SimProgram& prog,
                                      const std::vector<float>& pixels, int64_t n, int threads, int batch = 1,
                                      sim::Order order = sim::Order::Auto)
{
    sim::SimOptions opt;
    opt.threads = threads;
    opt.parallel = sim::Parallel::Samples;
    opt.batch = batch;
    opt.order = order;
    std::fprintf(stderr, "[%s] simulating %lld samples on %d thread(s), batch %d, %s...\n", label.c_str(),
                 (long long)n, threads, batch, sim::toString(order));
    TimedSimulation t;
    const double c0 = cpuNow();
    t.result = sim::simulate(prog, pixels, n, opt);
    t.cpuSeconds = cpuNow() - c0;
    return t;
}

} // namespace stc::bench

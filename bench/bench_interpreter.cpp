// Reference interpreter benchmark: GEMM throughput and ms per image for a
// Spikformer-like network and a conv SNN (random weights, Fashion-MNIST
// images when the dataset is installed, else random pixels). Prints JSON;
// `bench_interpreter out.json` also writes it to a file. Times are the best
// of several repetitions; single-thread runs also report CPU time of the
// process, which is what counts on a shared, overloaded machine.
#include "../tests/core/interp_models.h"
#include "data/fashion_mnist.h"
#include "interp/gemm.h"
#include "interp/interpreter.h"
#include "interp/thread_pool.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <map>
#include <sstream>

using namespace stc;
using Clock = std::chrono::steady_clock;

namespace {

double seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

double cpuSeconds()
{
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

// Best wall time (and, if asked, best process CPU time) over `reps` runs.
template <typename F> double best(int reps, F&& f, double* cpu = nullptr)
{
    double t = 1e30, c = 1e30;
    for (int i = 0; i < reps; ++i) {
        const auto a = Clock::now();
        const double ca = cpuSeconds();
        f();
        c = std::min(c, cpuSeconds() - ca);
        t = std::min(t, seconds(a, Clock::now()));
    }
    if (cpu)
        *cpu = c;
    return t;
}

double gemmGflops(int64_t m, int64_t n, int64_t k, int threads, double* cpuGflops)
{
    std::vector<float> a(size_t(m * k), 0.5f), b(size_t(k * n), 0.25f), c(size_t(m * n));
    std::vector<float> pa(size_t(interp::packedASize(m, k))), pb(size_t(interp::packedBSize(k, n)));
    interp::ThreadPool pool(threads);
    double cpu = 0;
    const double t = best(
        50,
        [&] {
            interp::packA(m, k, {a.data(), k, 1}, pa.data());
            interp::packB(k, n, {b.data(), n, 1}, pb.data());
            interp::gemmPacked(m, n, k, pa.data(), pb.data(), c.data(), n, false, &pool);
        },
        &cpu);
    const double flop = 2.0 * double(m) * double(n) * double(k);
    *cpuGflops = flop / cpu / 1e9;
    return flop / t / 1e9;
}

struct ModelTiming {
    double msPerImage = 0;
    double cpuMsPerImage = 0;
    std::map<std::string, double> msPerOpKind; // batch 1, one thread
};

ModelTiming timeModel(const ir::Module& m, const std::vector<float>& pixels, int64_t batch, int threads, int reps)
{
    ModelTiming r;
    interp::RunOptions opt;
    opt.threads = threads;
    const interp::InputBatch in{batch, std::vector<float>(pixels.begin(), pixels.begin() + batch * 784)};
    double cpu = 0;
    r.msPerImage = best(reps, [&] { (void)interp::run(m, {in}, opt); }, &cpu) * 1e3 / double(batch);
    r.cpuMsPerImage = cpu * 1e3 / double(batch);
    if (batch == 1 && threads == 1) {
        // Rough per-op-kind profile (CPU time between consecutive observer calls;
        // "input" includes validation and planning).
        double last = cpuSeconds();
        opt.observe = [&](int, ir::ValueId v, std::span<const float>) {
            const double now = cpuSeconds();
            r.msPerOpKind[std::string(ir::opName(m.definingOp(v).kind))] += (now - last) * 1e3 / reps;
            last = cpuSeconds();
        };
        for (int i = 0; i < reps; ++i) {
            last = cpuSeconds();
            (void)interp::run(m, {in}, opt);
        }
    }
    return r;
}

} // namespace

int main(int argc, char** argv)
{
    std::vector<float> pixels;
    auto set = data::loadFashionMnist(data::Split::Test, data::defaultFashionMnistDir(), 64);
    if (set.ok()) {
        pixels = std::move(set.value.pixels);
    } else {
        std::fprintf(stderr, "%s; using random pixels\n", set.error.c_str());
        pixels.resize(64 * 784);
        for (size_t i = 0; i < pixels.size(); ++i)
            pixels[i] = float((i * 2654435761u) % 256) / 255.0f;
    }
    std::ostringstream js;
    js << "{\n  \"gemm_gflops\": [\n";
    const int64_t shapes[][3] = {{24, 784, 9}, {48, 196, 216}, {48, 49, 432}, {784, 192, 48}, {256, 256, 256}};
    bool first = true;
    for (const auto& s : shapes)
        for (int threads : {1, 2}) {
            double cpu = 0;
            const double g = gemmGflops(s[0], s[1], s[2], threads, &cpu);
            js << (first ? "" : ",\n") << "    {\"m\": " << s[0] << ", \"n\": " << s[1] << ", \"k\": " << s[2]
               << ", \"threads\": " << threads << ", \"gflops\": " << g << ", \"gflops_per_cpu_second\": " << cpu
               << "}";
            first = false;
        }
    js << "\n  ],\n  \"models\": [\n";
    std::string err;
    const std::vector<ir::Module> models = {test::buildSpikformer(test::SpikformerSpec{}, &err),
                                            test::buildConvSnn(4, 3, &err)};
    if (!err.empty()) {
        std::fprintf(stderr, "model build failed: %s\n", err.c_str());
        return 1;
    }
    first = true;
    for (const auto& m : models) {
        js << (first ? "" : ",\n") << "    {\"name\": \"" << m.name << "\", \"parameters\": " << ir::parameterCount(m)
           << ", \"timesteps\": " << m.timesteps << ", \"mmac_per_image\": " << test::macsPerInference(m) / 1e6
           << ", \"ms_per_image\": [";
        first = false;
        bool firstRun = true;
        std::map<std::string, double> profile;
        for (int64_t batch : {1, 16})
            for (int threads : {1, 2}) {
                const ModelTiming t = timeModel(m, pixels, batch, threads, batch == 1 ? 20 : 5);
                if (!t.msPerOpKind.empty())
                    profile = t.msPerOpKind;
                js << (firstRun ? "" : ", ") << "{\"batch\": " << batch << ", \"threads\": " << threads
                   << ", \"ms\": " << t.msPerImage << ", \"cpu_ms\": " << t.cpuMsPerImage << "}";
                firstRun = false;
            }
        js << "],\n      \"profile_ms_batch1\": {";
        bool firstKind = true;
        for (const auto& [kind, ms] : profile) {
            js << (firstKind ? "" : ", ") << "\"" << kind << "\": " << ms;
            firstKind = false;
        }
        js << "}}";
    }
    js << "\n  ]\n}\n";
    std::fputs(js.str().c_str(), stdout);
    if (argc > 1)
        std::ofstream(argv[1]) << js.str();
    return 0;
}

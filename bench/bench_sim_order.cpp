// A/B of the simulator's execution orders on one package (step-major vs
// core-major, sim::SimOptions::order), interleaved in one process on the
// same inputs: thread CPU time of sim::simulate only (package load
// excluded), one host thread unless --threads says otherwise. Every run's
// outputs and counters are compared with the first step-major run's.
//   bench_sim_order PKG.stcpkg [--samples N] [--rounds R] [--batch B] [--threads N]
//                   [--orders step,core:16,...] [--out FILE.json] [--load-threads N] [--load-only]
// --load-only: reads and decodes the package (sim::loadProgram on
// --load-threads threads, default one per hardware thread), prints the
// load's wall and process CPU time, and exits.
// An order may name its own batch (ORDER:B; default --batch): samples in
// lock-step for step-major, samples per pass for core-major.
// Inputs: Fashion-MNIST test images for 784-value inputs, else the
// image-like smooth noise of bench/sim_bench_support.h (C×H×W inputs) or
// uniform random values. Prints one line per run and a JSON summary.
#include "host_info.h"
#include "sim/simulator.h"
#include "sim_bench_support.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <map>
#include <sstream>

using namespace stc;
using namespace stc::bench;
using nlohmann::json;

namespace {

double cpuNow(clockid_t clock)
{
    timespec ts{};
    clock_gettime(clock, &ts);
    return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

double threadCpuNow()
{
    return cpuNow(CLOCK_THREAD_CPUTIME_ID);
}

} // namespace

int main(int argc, char** argv)
{
    std::string pkg, outPath;
    int64_t samples = 4;
    int rounds = 3, batch = 1, threads = 1, loadThreads = 0;
    bool loadOnly = false;
    std::vector<std::string> orders{"step", "core"};
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto next = [&]() { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
        if (a == "--samples")
            samples = std::max<int64_t>(1, std::atoll(next().c_str()));
        else if (a == "--rounds")
            rounds = std::max(1, std::atoi(next().c_str()));
        else if (a == "--batch")
            batch = std::max(1, std::atoi(next().c_str()));
        else if (a == "--threads")
            threads = std::max(1, std::atoi(next().c_str()));
        else if (a == "--load-threads")
            loadThreads = std::max(1, std::atoi(next().c_str()));
        else if (a == "--load-only")
            loadOnly = true;
        else if (a == "--orders") {
            orders.clear();
            std::stringstream in(next());
            for (std::string o; std::getline(in, o, ',');)
                orders.push_back(o);
        } else if (a == "--out")
            outPath = next();
        else if (pkg.empty() && a.rfind("--", 0) != 0)
            pkg = a;
        else {
            std::fprintf(stderr, "usage: bench_sim_order PKG.stcpkg [--samples N] [--rounds R] [--batch B] "
                                 "[--threads N] [--orders step,core] [--out FILE.json] [--load-threads N] [--load-only]\n");
            return 2;
        }
    }
    const std::map<std::string, sim::Order> known{
        {"step", sim::Order::StepMajor}, {"core", sim::Order::CoreMajor}, {"auto", sim::Order::Auto}};
    auto orderOf = [](const std::string& o) { return o.substr(0, o.find(':')); };
    auto batchOf = [&](const std::string& o) {
        return o.find(':') == std::string::npos ? batch : std::max(1, std::atoi(o.c_str() + o.find(':') + 1));
    };
    for (const std::string& o : orders)
        if (!known.count(orderOf(o))) {
            std::fprintf(stderr, "bench_sim_order: unknown order '%s' (step, core, auto)\n", o.c_str());
            return 2;
        }
    double t0 = now();
    const double cpu0 = cpuNow(CLOCK_PROCESS_CPUTIME_ID);
    sim::ProgramLoad load = sim::loadProgram(pkg, loadThreads);
    if (!load.ok()) {
        std::fprintf(stderr, "bench_sim_order: %s\n", load.error.c_str());
        return 1;
    }
    const sim::SimProgram& prog = *load.program;
    std::fprintf(stderr, "loaded %s: %zu cores in %.2f s (process CPU %.2f s)\n", pkg.c_str(), prog.cores.size(),
                 now() - t0, cpuNow(CLOCK_PROCESS_CPUTIME_ID) - cpu0);
    if (loadOnly)
        return 0;
    std::vector<int64_t> shape{prog.inputSize()};
    if (prog.inputPops.size() == 1) {
        shape = prog.populations[size_t(prog.inputPops[0])].shape;
        while (shape.size() > 3 && shape.front() == 1)
            shape.erase(shape.begin());
    }
    t0 = now();
    const sim::CoreGraph graph = sim::coreGraph(prog, true);
    std::fprintf(stderr, "slice graph built in %.3f s\n", now() - t0);
    const sim::CoreGraph cores = sim::coreGraph(prog, false);
    for (const sim::CoreGraph* g : {&cores, &graph}) {
        size_t largest = 0;
        for (const auto& comp : g->components)
            largest = std::max(largest, comp.size());
        std::fprintf(stderr, "%s graph: %zu nodes, %zu components, %lld cyclic (%lld nodes in cycles, largest %zu)\n",
                     g->bySlice ? "slice" : "core", g->nodes.size(), g->components.size(),
                     (long long)g->cyclicComponents, (long long)g->nodesInCycles, largest);
    }
    const Inputs in = makeInputs(shape, samples);
    std::fprintf(stderr, "%lld samples: %s\n", (long long)in.count, in.what.c_str());

    json runs = json::array();
    std::map<std::string, std::vector<double>> perOrder;
    sim::SimResult ref;
    bool haveRef = false, allSame = true;
    for (int r = 0; r < rounds; ++r)
        for (const std::string& o : orders) {
            sim::SimOptions opt;
            opt.threads = threads;
            opt.parallel = sim::Parallel::Samples;
            opt.batch = batchOf(o);
            opt.order = known.at(orderOf(o));
            const double c0 = threadCpuNow(), p0 = cpuNow(), w0 = now();
            sim::SimResult res = sim::simulate(prog, in.pixels, in.count, opt);
            const double cpu = threads == 1 ? threadCpuNow() - c0 : cpuNow() - p0, wall = now() - w0;
            if (!res.ok()) {
                std::fprintf(stderr, "bench_sim_order: %s\n", res.error.c_str());
                return 1;
            }
            bool same = true;
            if (!haveRef)
                ref = res, haveRef = true;
            else
                same = sameResults(ref, res);
            allSame = allSame && same;
            const double ms = 1000.0 * cpu / double(in.count);
            perOrder[o].push_back(ms);
            std::printf("round %d  %-8s  %s batch %d  %9.2f CPU ms / inference  (wall %.2f s, load %.1f)%s\n", r,
                        o.c_str(), sim::toString(res.order), res.batch, ms, wall, loadAverage(),
                        same ? "" : "  DIFFERS");
            std::fflush(stdout);
            runs.push_back({{"round", r},
                            {"order", o},
                            {"ran", sim::toString(res.order)},
                            {"batch", res.batch},
                            {"cpu_ms_per_inference", ms},
                            {"wall_seconds", wall},
                            {"same_as_first", same}});
        }
    json summary;
    for (auto& [o, v] : perOrder) {
        std::vector<double> s = v;
        std::sort(s.begin(), s.end());
        summary[o] = {{"median_cpu_ms_per_inference", s[s.size() / 2]}, {"min", s.front()}, {"max", s.back()}};
    }
    const sim::EventCounts tot = ref.counters.total();
    json out{{"package", pkg},
             {"cores", prog.cores.size()},
             {"samples", in.count},
             {"inputs", in.what},
             {"threads", threads},
             {"batch", batch},
             {"synaptic_ops_per_inference", double(tot.synapticOps) / double(in.count)},
             {"messages_per_inference", double(tot.messages) / double(in.count)},
             {"spikes_per_inference", double(tot.spikes) / double(in.count)},
             {"slice_graph", {{"nodes", graph.nodes.size()}, {"components", graph.components.size()},
                              {"nodes_in_cycles", graph.nodesInCycles}}},
             {"core_graph", {{"nodes", cores.nodes.size()}, {"components", cores.components.size()},
                             {"nodes_in_cycles", cores.nodesInCycles}}},
             {"all_identical", allSame},
             {"summary", summary},
             {"runs", runs}};
    std::printf("%s\n", out.dump(2).c_str());
    if (!outPath.empty())
        std::ofstream(outPath) << out.dump(2) << "\n";
    return allSame ? 0 : 1;
}

// Core-major execution (SimOptions::order, sim/core_major.cpp) is a host-side
// strategy: every slice runs all steps of an inference window once the
// slices sending to it are done. It must give step-major's outputs, spike
// trains, counters and ledger bit for bit: on the bundled models and the
// test Spikformer, random samples, chunks that do not divide the sample
// count, one and two threads, on a program whose core graph has a cycle
// (the cycle runs step by step among its slices), and with synaptic delays
// on feed-forward slices.
#include "ir/ir_io.h"
#include "sim_compare.h"

#include <QtTest>

#include <queue>
#include <set>

using namespace stc;

namespace {

using simtest::compareResults;
using simtest::compareRuns;
using simtest::modelPath;
using simtest::Run;

Run run(const sim::SimProgram& p, const std::vector<float>& in, int64_t n, int chunk, int threads, sim::Order order)
{
    return simtest::simulateSamples(p, in, n, chunk, threads, 1000, order);
}

// Adds a copy of route `hop` to every neuron of slice `slice` of core `core`.
void addRoute(sim::SimProgram& p, int32_t core, int32_t slice, const sim::RouteHop& hop)
{
    sim::CoreProgram& cp = p.cores[size_t(core)];
    std::vector<sim::RouteHop> routes;
    std::vector<uint32_t> start{0};
    for (size_t n = 0; n + 1 < cp.routeStart.size(); ++n) {
        routes.insert(routes.end(), cp.routes.begin() + cp.routeStart[n], cp.routes.begin() + cp.routeStart[n + 1]);
        if (cp.neuronSlice[n] == slice)
            routes.push_back(hop);
        start.push_back(uint32_t(routes.size()));
    }
    cp.routes = std::move(routes);
    cp.routeStart = std::move(start);
}

// Overwrites the first route of every neuron of slice `slice` of core `core`
// that has routes with `hop` (the route table keeps its sizes).
void replaceFirstRoutes(sim::SimProgram& p, int32_t core, int32_t slice, const sim::RouteHop& hop)
{
    sim::CoreProgram& cp = p.cores[size_t(core)];
    for (size_t n = 0; n + 1 < cp.routeStart.size(); ++n)
        if (cp.neuronSlice[n] == slice && cp.routeStart[n] < cp.routeStart[n + 1])
            cp.routes.edit()[cp.routeStart[n]] = hop;
}

// Makes a cycle: the first route of the earliest sending slice is copied to
// every neuron of the latest sending slice reachable from its destination
// (or, inPlace, replaces the first route of each of them), so that slice
// feeds back into the destination. Returns false when the model has no such
// pair.
bool addFeedback(sim::SimProgram& p, bool inPlace = false)
{
    const sim::CoreGraph g = sim::coreGraph(p, true);
    // The destination of the first route of the earliest component with routes into a non-input slice.
    for (const std::vector<int32_t>& comp : g.components) {
        const auto [c, k] = g.nodes[size_t(comp[0])];
        const sim::CoreProgram& cp = p.cores[size_t(c)];
        for (size_t n = 0; n + 1 < cp.routeStart.size(); ++n) {
            if (cp.neuronSlice[n] != k || cp.routeStart[n] == cp.routeStart[n + 1])
                continue;
            const sim::RouteHop hop = cp.routes[cp.routeStart[n]];
            const int32_t target =
                g.sliceBase[size_t(hop.destCore)] + p.cores[size_t(hop.destCore)].inputs[size_t(hop.destInput)].slice;
            // The latest node reachable from the target that sends something.
            std::vector<char> seen(g.nodes.size(), 0);
            std::queue<int32_t> todo;
            todo.push(target);
            seen[size_t(target)] = 1;
            int32_t last = -1;
            while (!todo.empty()) {
                const int32_t v = todo.front();
                todo.pop();
                const auto [vc, vk] = g.nodes[size_t(v)];
                const sim::CoreProgram& vp = p.cores[size_t(vc)];
                bool sends = false;
                for (size_t m = 0; m + 1 < vp.routeStart.size(); ++m) {
                    if (vp.neuronSlice[m] != vk)
                        continue;
                    for (uint32_t r = vp.routeStart[m]; r < vp.routeStart[m + 1]; ++r) {
                        const sim::RouteHop& h = vp.routes[r];
                        const int32_t w = g.sliceBase[size_t(h.destCore)] +
                                          p.cores[size_t(h.destCore)].inputs[size_t(h.destInput)].slice;
                        sends = true;
                        if (!seen[size_t(w)])
                            seen[size_t(w)] = 1, todo.push(w);
                    }
                }
                if (sends && v != target && (last < 0 || g.componentOf[size_t(v)] > g.componentOf[size_t(last)]))
                    last = v;
            }
            if (last < 0)
                return false;
            if (inPlace)
                replaceFirstRoutes(p, g.nodes[size_t(last)].first, g.nodes[size_t(last)].second, hop);
            else
                addRoute(p, g.nodes[size_t(last)].first, g.nodes[size_t(last)].second, hop);
            return true;
        }
    }
    return false;
}

} // namespace

class TestSimOrder : public QObject {
    Q_OBJECT
private slots:
    void coreMajorEqualsStepMajor_data() { simtest::addStrategyRows(); }

    void coreMajorEqualsStepMajor()
    {
        const simtest::RowPackage row = simtest::compileRow();
        const simtest::Compiled& c = row.compiled;
        const int chips = row.chips;
        // Feed-forward models: the slices never form a cycle (cores may, when
        // one core hosts slices of several layers).
        const sim::CoreGraph g = sim::coreGraph(c.program, true);
        QCOMPARE(g.nodesInCycles, int64_t(0));
        QCOMPARE(g.components.size(), g.nodes.size());
        const int64_t n = 7;
        const std::vector<float> in = simtest::randomSamples(n, c.program.inputSize(), 5);
        const Run ref = run(c.program, in, n, 1, 1, sim::Order::StepMajor);
        QVERIFY2(ref.result.ok(), ref.result.error.c_str());
        QCOMPARE(ref.result.order, sim::Order::StepMajor);
        QVERIFY(ref.result.counters.total().synapticOps > 0);
        QVERIFY(!ref.spikes.empty());
        if (chips > 1)
            QVERIFY(ref.result.counters.total().chipMessages > 0);
        for (auto [chunk, threads] : {std::pair{1, 1}, std::pair{3, 1}, std::pair{7, 1}, std::pair{1, 2},
                                      std::pair{3, 2}}) {
            const Run r = run(c.program, in, n, chunk, threads, sim::Order::CoreMajor);
            QCOMPARE(r.result.order, sim::Order::CoreMajor);
            compareRuns(c.program, ref, r);
            if (QTest::currentTestFailed()) {
                qWarning("chunk %d, %d thread(s)", chunk, threads);
                return;
            }
        }
    }

    void cycleRunsStepByStepAndStaysExact()
    {
        auto m = ir::loadModule(modelPath("convsnn_fmnist.sir"));
        QVERIFY(m.ok());
        simtest::Compiled c = simtest::compile(*m.module);
        QCOMPARE(sim::coreGraph(c.program, true).cyclicComponents, int64_t(0));
        const sim::SimProgram original = c.program;
        QVERIFY(addFeedback(c.program));
        const sim::CoreGraph g = sim::coreGraph(c.program, true);
        QVERIFY(g.cyclicComponents >= 1);
        QVERIFY(g.nodesInCycles >= 2);
        QVERIFY(g.components.size() < g.nodes.size());
        // Every route goes to the sender's own or a later component.
        for (size_t core = 0; core < c.program.cores.size(); ++core) {
            const sim::CoreProgram& cp = c.program.cores[core];
            for (size_t n = 0; n + 1 < cp.routeStart.size(); ++n)
                for (uint32_t r = cp.routeStart[n]; r < cp.routeStart[n + 1]; ++r) {
                    const sim::RouteHop& h = cp.routes[r];
                    const int32_t from = g.sliceBase[core] + cp.neuronSlice[n];
                    const int32_t to = g.sliceBase[size_t(h.destCore)] +
                                       c.program.cores[size_t(h.destCore)].inputs[size_t(h.destInput)].slice;
                    QVERIFY(g.componentOf[size_t(from)] <= g.componentOf[size_t(to)]);
                }
        }
        const int64_t n = 5;
        const std::vector<float> in = simtest::randomSamples(n, c.program.inputSize(), 9);
        const Run ref = run(c.program, in, n, 1, 1, sim::Order::StepMajor);
        QVERIFY2(ref.result.ok(), ref.result.error.c_str());
        for (auto [chunk, threads] : {std::pair{1, 1}, std::pair{2, 1}, std::pair{2, 2}}) {
            const Run r = run(c.program, in, n, chunk, threads, sim::Order::CoreMajor);
            QCOMPARE(r.result.order, sim::Order::CoreMajor);
            compareRuns(c.program, ref, r);
            if (QTest::currentTestFailed())
                return;
        }
        // The cycle carries messages.
        const Run plain = run(original, in, n, 1, 1, sim::Order::StepMajor);
        QVERIFY(ref.result.counters.total().messages > plain.result.counters.total().messages);
    }

    void cycleOfOneSliceIsExact()
    {
        // A slice that routes to itself (a self-loop).
        auto m = ir::loadModule(modelPath("ir/spikformer_cifar.sir"));
        QVERIFY(m.ok());
        simtest::Compiled c = simtest::compile(*m.module);
        const sim::CoreGraph before = sim::coreGraph(c.program, true);
        const sim::SimProgram original = c.program;
        // A route without delay into a slice that itself sends: copy it to that
        // slice's neurons. Messages that would land after the slice's last model
        // step are dropped (SynapseBlock::lastSend), so the first such route whose
        // loop carries integrated messages on these inputs is taken.
        const int64_t n = 3;
        const std::vector<float> in = simtest::randomSamples(n, c.program.inputSize(), 4);
        const sim::EventCounts without = run(original, in, n, 1, 1, sim::Order::StepMajor).result.counters.total();
        bool added = false;
        int tried = 0;
        std::set<std::pair<int32_t, int32_t>> seen; // (core, slice) tried
        for (size_t core = 0; core < original.cores.size() && !added && tried < 64; ++core) {
            const sim::CoreProgram& cp = original.cores[core];
            for (size_t k = 0; k + 1 < cp.routeStart.size() && !added && tried < 64; ++k)
                for (uint32_t r = cp.routeStart[k]; r < cp.routeStart[k + 1] && !added && tried < 64; ++r) {
                    const sim::RouteHop h = cp.routes[r];
                    const sim::SynapseBlock& b = original.cores[size_t(h.destCore)].inputs[size_t(h.destInput)];
                    if (b.delay > 0) // the loop's messages arrive in the slice's own model steps
                        continue;
                    const int32_t slice = b.slice;
                    const sim::CoreProgram& dp = original.cores[size_t(h.destCore)];
                    bool sends = false;
                    for (size_t j = 0; j + 1 < dp.routeStart.size(); ++j)
                        sends = sends || (dp.neuronSlice[j] == slice && dp.routeStart[j] < dp.routeStart[j + 1]);
                    if (!sends || !seen.insert({h.destCore, slice}).second)
                        continue;
                    ++tried;
                    c.program = original;
                    addRoute(c.program, h.destCore, slice, h);
                    added = run(c.program, in, n, 1, 1, sim::Order::StepMajor).result.counters.total().synapticOps >
                            without.synapticOps;
                }
        }
        QVERIFY2(added, "no self-loop route whose messages are integrated");
        const sim::CoreGraph g = sim::coreGraph(c.program, true);
        QCOMPARE(before.cyclicComponents, int64_t(0));
        QCOMPARE(g.cyclicComponents, int64_t(1));
        QCOMPARE(g.nodesInCycles, int64_t(1));
        const Run ref = run(c.program, in, n, 1, 1, sim::Order::StepMajor);
        QVERIFY2(ref.result.ok(), ref.result.error.c_str());
        compareRuns(c.program, ref, run(c.program, in, n, 3, 1, sim::Order::CoreMajor));
        // The loop carries messages that are integrated.
        const sim::EventCounts with = ref.result.counters.total();
        qInfo("messages %lld -> %lld, synaptic ops %lld -> %lld (%d routes tried)", (long long)without.messages,
              (long long)with.messages, (long long)without.synapticOps, (long long)with.synapticOps, tried);
        QVERIFY(with.messages > without.messages);
        QVERIFY(with.synapticOps > without.synapticOps);
    }

    void delayedBlocksAreExact()
    {
        // Synaptic delays on feed-forward slices (a sender's messages into a
        // slice through blocks of one delay or of several). With `late`, the
        // delayed blocks keep their lastSend, so messages also arrive after
        // the destination's last model step and are delivered without being
        // integrated: the next sample must start from clean accumulators again.
        auto m = ir::loadModule(modelPath("ir/spikformer_cifar.sir"));
        QVERIFY(m.ok());
        const simtest::Compiled original = simtest::compile(*m.module);
        const sim::CoreGraph g = sim::coreGraph(original.program, true);
        const int64_t n = 5;
        const std::vector<float> in = simtest::randomSamples(n, original.program.inputSize(), 21);
        for (bool late : {false, true}) {
            sim::SimProgram p = original.program;
            int uniform = 0, mixed = 0;
            for (size_t v = 0; v < g.nodes.size(); ++v) {
                const auto [core, slice] = g.nodes[v];
                int blocks = 0;
                for (sim::SynapseBlock& b : p.cores[size_t(core)].inputs) {
                    if (b.slice != slice)
                        continue;
                    // Every other slice gets delay 1 or 2 on all its blocks,
                    // the rest delay 1 on every other block.
                    const int by = v % 2 == 0 ? 1 + int(v % 4 == 0) : int(blocks % 2 == 0);
                    b.delay += by;
                    b.lastSend -= late ? 0 : by;
                    ++blocks;
                }
                uniform += v % 2 == 0 && blocks > 0;
                mixed += v % 2 == 1 && blocks > 1;
            }
            for (sim::CoreProgram& cp : p.cores)
                for (const sim::SynapseBlock& b : cp.inputs)
                    cp.maxDelay = std::max(cp.maxDelay, b.delay);
            QVERIFY(uniform > 0);
            QVERIFY(mixed > 0);
            const Run ref = run(p, in, n, 1, 1, sim::Order::StepMajor);
            QVERIFY2(ref.result.ok(), ref.result.error.c_str());
            QVERIFY(ref.result.counters.total().synapticOps > 0);
            for (int chunk : {1, 3}) {
                compareRuns(p, ref, run(p, in, n, chunk, 1, sim::Order::CoreMajor));
                if (QTest::currentTestFailed()) {
                    qWarning("chunk %d, late %d", chunk, int(late));
                    return;
                }
            }
        }
    }

    void cachedSliceGraphFollowsTheRoutes()
    {
        // Core-major runs reuse the slice graph and pull plan kept with the
        // program (SimProgram::sliceGraph).
        auto m = ir::loadModule(modelPath("convsnn_fmnist.sir"));
        QVERIFY(m.ok());
        simtest::Compiled c = simtest::compile(*m.module);
        const int64_t n = 4;
        const std::vector<float> in = simtest::randomSamples(n, c.program.inputSize(), 13);
        sim::SimOptions o;
        o.parallel = sim::Parallel::Samples;
        o.threads = 1;
        o.batch = 2;
        o.order = sim::Order::CoreMajor;
        const sim::SimResult first = sim::simulate(c.program, in, n, o); // builds and caches the graph
        QCOMPARE(first.order, sim::Order::CoreMajor);
        compareResults(c.program, run(c.program, in, n, 1, 1, sim::Order::StepMajor).result, first);
        compareResults(c.program, first, sim::simulate(c.program, in, n, o)); // reuses it
        if (QTest::currentTestFailed())
            return;
        // A copy starts without the cache and gets the same results.
        const sim::SimProgram copy = c.program;
        compareResults(copy, first, sim::simulate(copy, in, n, o));
        // An edit that keeps every size of the route tables but adds a route
        // back into an earlier slice (through VersionedArray::edit, whose new
        // version the cache sees): the graph and pull plan are rebuilt.
        QVERIFY(addFeedback(c.program, true));
        QVERIFY(sim::coreGraph(c.program, true).cyclicComponents >= 1);
        const Run ref = run(c.program, in, n, 1, 1, sim::Order::StepMajor);
        QVERIFY2(ref.result.ok(), ref.result.error.c_str());
        QVERIFY(ref.result.counters.total().synapticOps != first.counters.total().synapticOps);
        for (int threads : {1, 2}) {
            o.threads = threads;
            compareResults(c.program, ref.result, sim::simulate(c.program, in, n, o));
            if (QTest::currentTestFailed()) {
                qWarning("%d thread(s)", threads);
                return;
            }
        }
    }

    void autoOrder()
    {
        auto m = ir::loadModule(modelPath("convsnn_fmnist.sir"));
        QVERIFY(m.ok());
        const simtest::Compiled c = simtest::compile(*m.module);
        const std::vector<float> in = simtest::randomSamples(3, c.program.inputSize(), 1);
        sim::SimOptions o;
        o.parallel = sim::Parallel::Samples;
        QCOMPARE(sim::simulate(c.program, in, 3, o).order, sim::Order::CoreMajor);
        o.parallel = sim::Parallel::Cores; // one sample over cores (the IDE's stepping): step-major
        o.order = sim::Order::CoreMajor;
        QCOMPARE(sim::simulate(c.program, in, 1, o).order, sim::Order::StepMajor);
    }
};

QTEST_GUILESS_MAIN(TestSimOrder)
#include "test_sim_order.moc"

// The pull plan of core-major execution (sim/pull_plan.h): the periodic
// tables it stores classes, slots and axon entries in, that it delivers
// every route into a later component exactly once with the route's entry and
// counts every route as the route itself counts, and that the plan kept with
// a program follows edits of its route tables (VersionedArray), and that a
// chip state kept from an earlier run (finished or cancelled) gives the same
// results as a new one.
#include "sim/block_index.h"
#include "sim/pull_plan.h"
#include "sim_compare.h"

#include <QtTest>

#include <algorithm>
#include <random>
#include <tuple>

using namespace stc;
using sim::detail::Periodic;
using sim::detail::PullPlan;

namespace {

// x[i] == table[i % p] + (i / p) * step for every i, with the plan's own split.
bool periodicHolds(const std::vector<uint32_t>& x, uint32_t p)
{
    if (p == 0 || p > std::max<size_t>(1, x.size()))
        return false;
    const Periodic map(p, 0);
    const uint32_t step = p < x.size() ? x[p] - x[0] : 0;
    for (uint32_t i = 0; i < x.size(); ++i) {
        const auto [q, r] = map.split(i);
        if (q != i / p || r != i % p || x[i] != x[r] + q * step)
            return false;
    }
    return true;
}

uint32_t periodOf(const std::vector<uint32_t>& x)
{
    return sim::detail::periodOf(x, [](uint32_t a, uint32_t b) { return a - b; });
}

} // namespace

class TestSimPullPlan : public QObject {
    Q_OBJECT
private slots:
    void periodOfFindsTheSmallestPeriod()
    {
        auto seq = [](uint32_t n, auto f) {
            std::vector<uint32_t> x(n);
            for (uint32_t i = 0; i < n; ++i)
                x[i] = f(i);
            return x;
        };
        QCOMPARE(periodOf({}), 1u);
        QCOMPARE(periodOf({7}), 1u);
        QCOMPARE(periodOf({7, 3}), 1u);
        QCOMPARE(periodOf(seq(100, [](uint32_t i) { return 5 + 384 * i; })), 1u);
        QCOMPARE(periodOf(seq(8192, [](uint32_t i) { return i / 32; })), 32u);             // a class per 32 neurons
        QCOMPARE(periodOf(seq(8192, [](uint32_t i) { return i % 64; })), 64u);             // classes interleaved
        QCOMPARE(periodOf(seq(168, [](uint32_t i) { return (i % 24) * 117 + i / 24; })), 24u); // a transpose
        QCOMPARE(periodOf(seq(10, [](uint32_t i) { return i * i; })), 9u);                 // nothing shorter
        std::mt19937 rng(3);
        for (int round = 0; round < 200; ++round) {
            std::vector<uint32_t> x(1 + rng() % 300);
            const uint32_t block = 1 + rng() % 12;
            for (uint32_t i = 0; i < x.size(); ++i)
                x[i] = round % 3 == 0 ? uint32_t(rng()) : (i / block) * 1000 + (i % block) * 7 + (i % block == 3 ? 1 : 0);
            const uint32_t p = periodOf(x);
            QVERIFY2(periodicHolds(x, p), ("round " + std::to_string(round)).c_str());
            for (uint32_t shorter = 1; shorter < p; ++shorter)
                QVERIFY2(!periodicHolds(x, shorter), ("round " + std::to_string(round)).c_str());
        }
    }

    void splitDividesEveryIndex()
    {
        std::mt19937 rng(5);
        for (uint32_t p : {1u, 2u, 3u, 7u, 24u, 64u, 117u, 1000u, 65537u, 1u << 20, 2147483647u}) {
            const Periodic map(p, 0);
            for (int k = 0; k < 20000; ++k) {
                const uint32_t i = k < 100 ? uint32_t(k) : k < 200 ? 2147483647u - uint32_t(k) : uint32_t(rng() >> 1);
                const auto [q, r] = map.split(i);
                QVERIFY2(q == i / p && r == i % p, (std::to_string(i) + " / " + std::to_string(p)).c_str());
            }
        }
    }

    void planDeliversEveryLaterRouteOnce_data() { simtest::addStrategyRows(); }

    void planDeliversEveryLaterRouteOnce()
    {
        const simtest::RowPackage row = simtest::compileRow();
        const sim::SimProgram& p = row.compiled.program;
        const sim::CoreGraph g = sim::coreGraph(p, true);
        const PullPlan plan = sim::detail::pullPlan(p, g, 2);
        QCOMPARE(plan.nodes.size(), g.nodes.size());
        // Per node: its neurons per (class, slot), from the periodic map.
        std::vector<std::vector<std::vector<int64_t>>> members(g.nodes.size());
        using Route = std::tuple<int32_t, int64_t, int32_t, int32_t, uint32_t>; // core, neuron, dest core, input, entry
        std::vector<Route> expected, pulled;
        int64_t routes = 0;
        for (size_t v = 0; v < g.nodes.size(); ++v) {
            const auto [c, k] = g.nodes[v];
            const sim::CoreProgram& cp = p.cores[size_t(c)];
            const sim::SliceInfo& si = cp.slices[size_t(k)];
            const PullPlan::NodeMap& nm = plan.nodes[v];
            if (nm.classes > 0)
                QVERIFY(nm.classes <= uint64_t(si.count) / 4); // otherwise pushed
            members[v].resize(nm.classes);
            for (int64_t i = 0; i < si.count; ++i) {
                const int64_t n = si.first + i;
                int32_t cls = -1;
                uint32_t slot = 0;
                if (nm.classes > 0) {
                    const auto [q, r] = nm.map.split(uint32_t(i));
                    const PullPlan::ClassSlot cs = plan.classTable[nm.map.table + r];
                    if (cs.cls >= 0)
                        cls = cs.cls + int32_t(q) * nm.classStep, slot = cs.slot + q * uint32_t(nm.slotStep);
                }
                // The routes into later components are the pulled ones; the
                // others stay in the push table, in order.
                std::vector<sim::RouteHop> later, rest;
                for (uint32_t r = cp.routeStart[size_t(n)]; r < cp.routeStart[size_t(n) + 1]; ++r) {
                    const sim::RouteHop& rt = cp.routes[r];
                    const int32_t to = g.sliceBase[size_t(rt.destCore)] +
                                       p.cores[size_t(rt.destCore)].inputs[size_t(rt.destInput)].slice;
                    (g.componentOf[size_t(to)] > g.componentOf[v] && nm.classes > 0 ? later : rest).push_back(rt);
                    ++routes;
                }
                QCOMPARE(cls >= 0, !later.empty());
                const uint32_t* ps = plan.pushStart(cp, size_t(c));
                const sim::RouteHop* pr = plan.pushRoutes(cp, size_t(c));
                QCOMPARE(ps[n + 1] - ps[n], uint32_t(rest.size()));
                for (size_t j = 0; j < rest.size(); ++j)
                    QVERIFY(pr[ps[n] + j].destCore == rest[j].destCore && pr[ps[n] + j].entry == rest[j].entry);
                if (cls < 0)
                    continue;
                QVERIFY(uint32_t(cls) < nm.classes);
                auto& m = members[v][size_t(cls)];
                if (m.size() <= slot)
                    m.resize(slot + 1, -1);
                QCOMPARE(m[slot], int64_t(-1)); // one neuron per slot
                m[slot] = n;
                // The class's counters are this neuron's routes' sums.
                const PullPlan::ClassCounts& cc = plan.classCounts[nm.classBase + uint32_t(cls)];
                sim::EventCounts sum;
                for (const sim::RouteHop& rt : later) {
                    sum.hopsEw += rt.hopsEw, sum.hopsNs += rt.hopsNs, sum.chipLinks += rt.chipLinks;
                    sum.chipMessages += rt.chipLinks > 0;
                    sum.maxMessageNs = std::max(sum.maxMessageNs, double(rt.latencyNs));
                    expected.emplace_back(c, n, rt.destCore, rt.destInput, rt.entry);
                }
                QCOMPARE(int64_t(cc.messages), int64_t(later.size()));
                QCOMPARE(int64_t(cc.hopsEw), sum.hopsEw);
                QCOMPARE(int64_t(cc.hopsNs), sum.hopsNs);
                QCOMPARE(int64_t(cc.chipLinks), sum.chipLinks);
                QCOMPARE(int64_t(cc.chipMessages), sum.chipMessages);
                QCOMPARE(double(cc.maxNs), sum.maxMessageNs);
            }
        }
        QCOMPARE(plan.pulledRoutes + plan.pushedRoutes, routes);
        QVERIFY(plan.pulledRoutes > routes / 2); // feed-forward models: most routes are pulled
        // What the subscriptions deliver: per member of the class, the entry.
        const sim::detail::BlockIndex blocks(p);
        QCOMPARE(plan.subTiles.size(), plan.subs.size());
        int64_t tileSlots = 0, scatterSlots = 0; // messages of subscriptions in tile / scatter form
        for (size_t c = 0; c < p.cores.size(); ++c)
            for (size_t i = 0; i < p.cores[c].inputs.size(); ++i) {
                const size_t gb = blocks.base[c] + i;
                for (uint32_t s = plan.blockSubStart[gb]; s < plan.blockSubStart[gb + 1]; ++s) {
                    const PullPlan::Sub& sub = plan.subs[s];
                    const auto& m = members[size_t(sub.node)][sub.cls];
                    for (uint32_t slot = 0; slot < m.size(); ++slot) {
                        QVERIFY(m[slot] >= 0); // slots are dense
                        const auto [q, r] = sub.entry.split(slot);
                        const uint32_t entry = plan.entries[sub.entry.table + r] + q * sub.step;
                        pulled.emplace_back(g.nodes[size_t(sub.node)].first, m[slot], int32_t(c), int32_t(i), entry);
                        // A scatter form gives the entry's one synapse: target, weight, table bytes.
                        const PullPlan::SubScatter& sc = plan.subScatters[s];
                        if (sc.bytes >= 0) {
                            ++scatterSlots;
                            const int32_t* rec = p.cores[c].inputs[i].rows.data() + entry;
                            QCOMPARE(rec[0], 1);
                            QCOMPARE(rec[1], 1);
                            QCOMPARE(rec[2], sc.bytes);
                            const auto [tq, tr] = sc.target.split(slot);
                            const auto [wq, wr] = sc.weight.split(slot);
                            QCOMPARE(int64_t(plan.scatter[sc.target.table + tr] + tq * sc.targetStep),
                                     int64_t(uint32_t(rec[sim::SynapseBlock::kRowHeader])));
                            QCOMPARE(int32_t(plan.scatter[sc.weight.table + wr] + wq * sc.weightStep),
                                     rec[sim::SynapseBlock::kRowHeader + sim::SynapseBlock::kRunHeader]);
                        }
                        // A tile form gives the entry's axon: its kernel row, group and taps.
                        const PullPlan::SubTile& t = plan.subTiles[s];
                        if (t.group < 0)
                            continue;
                        ++tileSlots;
                        const sim::ConvPlan::Axon& ax = p.cores[c].inputs[i].plan.axons[entry];
                        const auto [tq, tr] = t.row.split(slot);
                        QCOMPARE(int64_t(plan.rows[t.row.table + tr] + tq * t.rowStep), int64_t(ax.kernelRow));
                        QCOMPARE(t.group, ax.group);
                        QCOMPARE(t.tapBegin, ax.tapBegin);
                        QCOMPARE(t.tapEnd, ax.tapEnd);
                        QVERIFY(p.cores[c].inputs[i].plan.groups[size_t(ax.group)].contiguous);
                    }
                }
            }
        std::sort(expected.begin(), expected.end());
        std::sort(pulled.begin(), pulled.end());
        QCOMPARE(pulled.size(), expected.size());
        QVERIFY(pulled == expected);
        bool convModel = false;
        for (const sim::CoreProgram& cp : p.cores)
            for (const sim::SynapseBlock& b : cp.inputs)
                convModel |= b.conv;
        QCOMPARE(tileSlots > 0, convModel); // conv layers' subscriptions take the tile form
        qInfo("%lld of %zu pulled messages in tile form, %lld in scatter form", (long long)tileSlots, pulled.size(),
              (long long)scatterSlots);
    }

    void scatterFormFollowsWeightEdits()
    {
        simtest::Compiled c = simtest::bundledSpikformer();
        sim::SimProgram& p = c.program;
        const auto plan = p.sliceGraph.get(p);
        // A block some subscription reads in scatter form (its weights are in
        // the plan's tables): its first record's weight changes.
        const sim::detail::BlockIndex blocks(p);
        sim::SynapseBlock* edited = nullptr;
        for (size_t c = 0; c < p.cores.size() && !edited; ++c)
            for (size_t i = 0; i < p.cores[c].inputs.size() && !edited; ++i) {
                const size_t gb = blocks.base[c] + i;
                for (uint32_t s = plan->pull.blockSubStart[gb]; s < plan->pull.blockSubStart[gb + 1]; ++s)
                    if (plan->pull.subScatters[s].bytes >= 0) {
                        edited = &p.cores[c].inputs[i];
                        break;
                    }
            }
        QVERIFY(edited);
        std::vector<int32_t>& rows = edited->rows.edit();
        rows[edited->rowStart[0] + sim::SynapseBlock::kRowHeader + sim::SynapseBlock::kRunHeader] += 3;
        simtest::compareCoreMajorRuns(p, 4, 7); // the new weight is the one delivered
    }

    void cachedPlanFollowsRouteEdits()
    {
        auto m = ir::loadModule(simtest::modelPath("convsnn_fmnist.sir"));
        QVERIFY(m.ok());
        simtest::Compiled c = simtest::compile(*m.module);
        sim::SimProgram& p = c.program;
        const auto first = p.sliceGraph.get(p);
        QCOMPARE(p.sliceGraph.get(p), first); // unchanged: kept
        // Every change of a route table stamps a new version.
        sim::CoreProgram& cp = p.cores[0];
        const uint64_t v0 = cp.routes.version();
        const sim::VersionedArray<sim::RouteHop> copy = cp.routes;
        QCOMPARE(copy.version(), v0);
        cp.routes.edit();
        QVERIFY(cp.routes.version() != v0);
        const auto second = p.sliceGraph.get(p);
        QVERIFY(second != first);
        QCOMPARE(p.sliceGraph.get(p), second);
        cp.routeStart = std::vector<uint32_t>(cp.routeStart.values());
        QVERIFY(p.sliceGraph.get(p) != second);
        // A copy of the program starts without the plan.
        const sim::SimProgram other = p;
        QVERIFY(other.sliceGraph.get(other) != p.sliceGraph.get(p));
    }

    void keptChipStateStaysExact()
    {
        // A finished or cancelled core-major run leaves its chip state with
        // the plan; the next run takes it without zeroing it.
        // Delayed blocks that keep their lastSend (as core_test_sim_order's
        // delayedBlocksAreExact): messages arrive after their destination's
        // last model step, so a run leaves accumulators that are not clean.
        auto m = ir::loadModule(simtest::modelPath("ir/spikformer_cifar.sir"));
        QVERIFY(m.ok());
        simtest::Compiled c = simtest::compile(*m.module);
        const sim::CoreGraph g = sim::coreGraph(c.program, true);
        for (size_t v = 0; v < g.nodes.size(); v += 2)
            for (sim::SynapseBlock& b : c.program.cores[size_t(g.nodes[v].first)].inputs)
                if (b.slice == g.nodes[v].second)
                    b.delay += 1;
        for (sim::CoreProgram& cp : c.program.cores)
            for (const sim::SynapseBlock& b : cp.inputs)
                cp.maxDelay = std::max(cp.maxDelay, b.delay);
        const sim::SimProgram fresh = c.program; // a copy: no plan, no kept state
        const int64_t n = 6;
        const std::vector<float> in = simtest::randomSamples(n, c.program.inputSize(), 21);
        sim::SimOptions o;
        o.parallel = sim::Parallel::Samples;
        o.order = sim::Order::CoreMajor;
        o.threads = 1;
        o.batch = 4;
        const sim::SimResult ref = sim::simulate(fresh, in, n, o);
        QVERIFY2(ref.ok(), ref.error.c_str());
        // Cancelled part way (a trace sink cancels once it saw some spikes).
        struct CancelAfter : sim::TraceSink {
            sim::RunControl control;
            size_t seen = 0;
            void onChunk(std::span<const sim::SpikeRecord> r) override
            {
                if ((seen += r.size()) > 20000)
                    control.cancel();
            }
        } cancel;
        sim::SimOptions oc = o;
        oc.trace = &cancel;
        oc.traceChunk = 256;
        oc.control = &cancel.control;
        QVERIFY(sim::simulate(c.program, in, n, oc).cancelled);
        for (int round = 0; round < 2; ++round) {
            simtest::compareResults(c.program, ref, sim::simulate(c.program, in, n, o));
            if (QTest::currentTestFailed())
                return;
        }
        o.threads = 2; // two runners: one takes the kept state, one a new chip
        simtest::compareResults(c.program, ref, sim::simulate(c.program, in, n, o));
    }
};

QTEST_GUILESS_MAIN(TestSimPullPlan)
#include "test_sim_pull_plan.moc"

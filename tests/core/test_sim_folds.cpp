// Core-major execution sums the messages of slices whose neurons each send
// one message into a one-synapse record (the attention products) at the
// sender (sim/fold_plan.h). That must give step-major's outputs, spike
// trains, counters and ledger bit for bit: on the models with attention
// (every product slice is folded), on two chips (messages over chip links),
// with one and two threads and chunks of several samples; and a slice one of
// whose neurons gets a second route is not folded and stays exact; also with
// the trace off or on some populations only, and after the weights of a
// record folded messages go to were edited. Delayed
// receiving blocks and dropped late messages: core_test_sim_order
// (delayedBlocksAreExact runs over folded slices).
#include "sim/pull_plan.h"
#include "sim_compare.h"

#include <QtTest>

using namespace stc;

namespace {

// Per product slice of p: whether its node is folded.
std::vector<bool> productFolds(const sim::SimProgram& p)
{
    const auto plan = p.sliceGraph.get(p);
    std::vector<bool> folded;
    for (size_t v = 0; v < plan->graph.nodes.size(); ++v) {
        const auto [c, k] = plan->graph.nodes[v];
        const sim::SliceInfo& si = p.cores[size_t(c)].slices[size_t(k)];
        if (p.populations[size_t(si.pop)].kind == sim::NeuronKind::Product)
            folded.push_back(plan->folds.nodeFold[v] >= 0);
    }
    return folded;
}

// Core-major with the trace off, or tracing only populations other than the
// products, against step-major (traced).
void compareUntraced(const sim::SimProgram& p, int64_t n)
{
    const std::vector<float> in = simtest::randomSamples(n, p.inputSize(), 23);
    const simtest::Run ref = simtest::simulateSamples(p, in, n, 1, 1, 1000, sim::Order::StepMajor);
    QVERIFY2(ref.result.ok(), ref.result.error.c_str());
    for (bool partial : {false, true}) {
        simtest::TraceCollector trace;
        sim::SimOptions o;
        o.parallel = sim::Parallel::Samples;
        o.threads = 2;
        o.batch = 3;
        o.order = sim::Order::CoreMajor;
        if (partial) {
            o.trace = &trace;
            for (const sim::PopulationInfo& pop : p.populations)
                o.tracePopulations.push_back(pop.kind != sim::NeuronKind::Product);
        }
        const sim::SimResult r = sim::simulate(p, in, n, o);
        simtest::compareResults(p, ref.result, r);
        if (partial) {
            std::vector<sim::SpikeRecord> mine = trace.records, want;
            for (const sim::SpikeRecord& s : ref.spikes)
                if (std::find_if(p.populations.begin(), p.populations.end(), [&](const sim::PopulationInfo& pop) {
                        return s.neuron >= uint32_t(pop.firstId) && s.neuron < uint32_t(pop.firstId + pop.size) &&
                               pop.kind == sim::NeuronKind::Product;
                    }) == p.populations.end())
                    want.push_back(s);
            auto key = [](const sim::SpikeRecord& a, const sim::SpikeRecord& b) {
                return std::tie(a.sample, a.step, a.neuron, a.value) < std::tie(b.sample, b.step, b.neuron, b.value);
            };
            std::sort(mine.begin(), mine.end(), key);
            QCOMPARE(mine.size(), want.size());
            QVERIFY2(mine == want, "spike trains of the traced populations differ");
        }
        if (QTest::currentTestFailed()) {
            qWarning("partial trace %d", int(partial));
            return;
        }
    }
}

} // namespace

class TestSimFolds : public QObject {
    Q_OBJECT
private slots:
    void productSlicesAreFolded_data() { simtest::addStrategyRows(); }
    void productSlicesAreFolded()
    {
        const simtest::RowPackage row = simtest::compileRow();
        const sim::SimProgram& p = row.compiled.program;
        const std::vector<bool> folded = productFolds(p);
        if (folded.empty())
            QSKIP("no attention in this model");
        QVERIFY(std::all_of(folded.begin(), folded.end(), [](bool f) { return f; }));
        simtest::compareCoreMajorRuns(p, 5, 17);
        if (!QTest::currentTestFailed())
            compareUntraced(p, 5);
    }

    void editedReceiverWeightsAreSeen()
    {
        // The plan is kept with the program; a weight edited afterwards in a
        // record a folded slice sends into (the products' sums) must reach
        // the next run.
        simtest::Compiled c = simtest::bundledSpikformer();
        sim::SimProgram& p = c.program;
        simtest::compareCoreMajorRuns(p, 3, 29);
        const auto plan = p.sliceGraph.get(p);
        QVERIFY(!plan->folds.receivers.empty());
        const sim::detail::FoldPlan::Receiver& rc = plan->folds.receivers[0];
        sim::SynapseBlock& b = p.cores[size_t(rc.core)].inputs[size_t(rc.input)];
        int64_t edited = 0;
        for (uint32_t a = 0; a < b.rowStart.size(); ++a)
            sim::SynapseBlock::forEachRun(b, a, [&](uint32_t, int32_t* w, uint32_t n) {
                for (uint32_t j = 0; j < n; ++j)
                    w[j] = w[j] * 3 - 1, ++edited;
            });
        QVERIFY(edited > 0);
        QVERIFY(p.sliceGraph.get(p) != plan); // rebuilt from the edited rows
        simtest::compareCoreMajorRuns(p, 3, 29);
    }

    void secondRouteIsNotFolded()
    {
        simtest::Compiled c = simtest::bundledSpikformer();
        sim::SimProgram& p = c.program;
        const std::vector<bool> before = productFolds(p);
        QVERIFY(!before.empty() && before[0]);
        // The first product slice's first neuron with a route gets a copy of
        // it (its core may host other slices before it).
        const auto plan = p.sliceGraph.get(p);
        int32_t core = -1, slice = -1;
        for (const auto& [cc, k] : plan->graph.nodes)
            if (p.populations[size_t(p.cores[size_t(cc)].slices[size_t(k)].pop)].kind == sim::NeuronKind::Product) {
                core = cc, slice = k;
                break;
            }
        QVERIFY(core >= 0);
        sim::CoreProgram& cp = p.cores[size_t(core)];
        std::vector<sim::RouteHop> routes(cp.routes.begin(), cp.routes.end());
        std::vector<uint32_t> start(cp.routeStart.begin(), cp.routeStart.end());
        const sim::SliceInfo& si = cp.slices[size_t(slice)];
        size_t n = size_t(si.first);
        while (n < size_t(si.first + si.count) && start[n] == start[n + 1])
            ++n;
        QVERIFY(n < size_t(si.first + si.count));
        routes.insert(routes.begin() + start[n], routes[start[n]]);
        for (size_t j = n + 1; j < start.size(); ++j)
            ++start[j];
        cp.routes = std::move(routes);
        cp.routeStart = std::move(start);
        const std::vector<bool> after = productFolds(p);
        QCOMPARE(after.size(), before.size());
        QVERIFY(!after[0]);
        QCOMPARE(std::count(after.begin(), after.end(), true), std::count(before.begin(), before.end(), true) - 1);
        simtest::compareCoreMajorRuns(p, 4, 17);
    }
};

QTEST_GUILESS_MAIN(TestSimFolds)
#include "test_sim_folds.moc"

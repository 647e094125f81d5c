// Bit-for-bit comparison of two simulator runs for the tests of host-side
// strategies (batching, execution order, threads), which must not change
// outputs, spike trains, counters or the ledger.
#pragma once

#include "ir/ir_io.h"
#include "sim/ledger.h"
#include "sim_test_util.h"

#include <QtTest>

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>
#include <tuple>

namespace stc::simtest {

// A bundled model (resources/models) or a test model ("ir/...").
inline std::string modelPath(const std::string& name)
{
    return name.rfind("ir/", 0) == 0 ? std::string(STC_TEST_DATA_DIR) + "/" + name
                                     : std::string(STC_RESOURCE_DIR) + "/models/" + name;
}

// The packages the strategy tests (batching, execution order) run, as Qt
// test data: the bundled Spikformer (loihi3, and loihi2 on three chips so
// messages cross chip links), the bundled ConvSNN and the test Spikformer.
inline void addStrategyRows()
{
    QTest::addColumn<QString>("model");
    QTest::addColumn<QString>("chip");
    QTest::addColumn<int>("chips");
    QTest::newRow("bundled spikformer loihi3") << "spikformer_fmnist.sir" << "loihi3" << 1;
    QTest::newRow("bundled spikformer loihi2 x3") << "spikformer_fmnist.sir" << "loihi2" << 3;
    QTest::newRow("bundled convsnn loihi3") << "convsnn_fmnist.sir" << "loihi3" << 1;
    QTest::newRow("test spikformer_cifar loihi3") << "ir/spikformer_cifar.sir" << "loihi3" << 1;
}

// The current row's package (throws when the model does not load or compile).
struct RowPackage {
    Compiled compiled;
    int chips = 1;
};
inline RowPackage compileRow()
{
    QFETCH(QString, model);
    QFETCH(QString, chip);
    QFETCH(int, chips);
    auto m = ir::loadModule(modelPath(model.toStdString()));
    if (!m.ok())
        throw std::runtime_error(m.diagnostics.format());
    return {compile(*m.module, chip.toStdString(), target::kDefaultCompilePipeline, chips), chips};
}

struct Run {
    sim::SimResult result;
    std::vector<sim::SpikeRecord> spikes; // sorted by (sample, step, neuron)
};

// Parallel::Samples with every spike traced.
inline Run simulateSamples(const sim::SimProgram& p, const std::vector<float>& in, int64_t n, int batch, int threads,
                           size_t traceChunk, sim::Order order)
{
    TraceCollector trace;
    sim::SimOptions o;
    o.parallel = sim::Parallel::Samples;
    o.threads = threads;
    o.batch = batch;
    o.order = order;
    o.trace = &trace;
    o.traceChunk = traceChunk;
    Run r{sim::simulate(p, in, n, o), {}};
    // Samples of a batch (and of two threads) interleave in the stream, and
    // core-major runs emit per core rather than per step; the trains are
    // compared per sample, step and neuron.
    r.spikes = std::move(trace.records);
    std::sort(r.spikes.begin(), r.spikes.end(), [](const sim::SpikeRecord& a, const sim::SpikeRecord& b) {
        return std::tie(a.sample, a.step, a.neuron, a.value) < std::tie(b.sample, b.step, b.neuron, b.value);
    });
    return r;
}

inline void compareCounts(const sim::EventCounts& a, const sim::EventCounts& b, const char* where)
{
    const bool same = a.synapticOps == b.synapticOps && a.neuronActive == b.neuronActive &&
                      a.neuronIdle == b.neuronIdle && a.spikes == b.spikes && a.messages == b.messages &&
                      a.hopsEw == b.hopsEw && a.hopsNs == b.hopsNs && a.chipMessages == b.chipMessages &&
                      a.chipLinks == b.chipLinks && a.memReadBytes == b.memReadBytes &&
                      std::memcmp(&a.maxMessageNs, &b.maxMessageNs, sizeof(double)) == 0;
    QVERIFY2(same, where);
}

// Outputs, counters and ledger of two results (an untraced run has no spike
// trains; its per-(core, step) spike counters are still compared).
inline void compareResults(const sim::SimProgram& p, const sim::SimResult& ref, const sim::SimResult& r)
{
    QVERIFY2(r.ok(), r.error.c_str());
    QCOMPARE(r.samples, ref.samples);
    QCOMPARE(r.outputs.size(), ref.outputs.size());
    for (size_t k = 0; k < ref.outputs.size(); ++k) {
        const auto& a = ref.outputs[k];
        const auto& b = r.outputs[k];
        QCOMPARE(b.size(), a.size());
        QVERIFY2(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0, "outputs differ");
    }
    const sim::Counters& a = ref.counters;
    const sim::Counters& b = r.counters;
    QCOMPARE(b.perCoreStep.size(), a.perCoreStep.size());
    for (size_t i = 0; i < a.perCoreStep.size(); ++i)
        compareCounts(a.perCoreStep[i], b.perCoreStep[i], "per core and step");
    QCOMPARE(b.perPopulation.size(), a.perPopulation.size());
    for (size_t i = 0; i < a.perPopulation.size(); ++i)
        compareCounts(a.perPopulation[i], b.perPopulation[i], "per population");
    QCOMPARE(b.inputSynapticOps, a.inputSynapticOps);
    QCOMPARE(b.samples, a.samples);
    QCOMPARE(sim::ledgerJson(sim::buildLedger(p, b)), sim::ledgerJson(sim::buildLedger(p, a)));
}

inline void compareRuns(const sim::SimProgram& p, const Run& ref, const Run& r)
{
    compareResults(p, ref.result, r.result);
    if (QTest::currentTestFailed())
        return;
    QCOMPARE(r.spikes.size(), ref.spikes.size());
    QVERIFY2(r.spikes == ref.spikes, "spike trains differ");
}

// Core-major runs of p (chunks of 1 and of 3 samples on two threads) against
// a step-major one, all traced, on n random samples (seed).
inline void compareCoreMajorRuns(const sim::SimProgram& p, int64_t n, uint64_t seed)
{
    const std::vector<float> in = randomSamples(n, p.inputSize(), seed);
    const Run ref = simulateSamples(p, in, n, 1, 1, 1000, sim::Order::StepMajor);
    QVERIFY2(ref.result.ok(), ref.result.error.c_str());
    for (auto [chunk, threads] : {std::pair{1, 1}, std::pair{3, 2}}) {
        const Run r = simulateSamples(p, in, n, chunk, threads, 1000, sim::Order::CoreMajor);
        QCOMPARE(r.result.order, sim::Order::CoreMajor);
        compareRuns(p, ref, r);
        if (QTest::currentTestFailed()) {
            qWarning("chunk %d, %d thread(s)", chunk, threads);
            return;
        }
    }
}

// The bundled Spikformer compiled for loihi3 (throws when it does not load).
inline Compiled bundledSpikformer()
{
    auto m = ir::loadModule(modelPath("spikformer_fmnist.sir"));
    if (!m.ok())
        throw std::runtime_error(m.diagnostics.format());
    return compile(*m.module);
}

} // namespace stc::simtest

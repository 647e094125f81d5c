// Batched execution (SimOptions::batch: several samples in lock-step through
// the same synapse rows) is a host-side strategy: on the bundled models and
// on random inputs it must give the unbatched run's outputs, spike trains,
// counters and ledger bit for bit, for batch sizes that do not divide the
// sample count and with one or two host threads.
#include "ir/ir_io.h"
#include "sim/ledger.h"
#include "sim_compare.h"

#include <QtTest>


using namespace stc;

namespace {

using simtest::compareRuns;
using simtest::modelPath;
using simtest::Run;

Run simulate(const sim::SimProgram& p, const std::vector<float>& in, int64_t n, int batch, int threads,
             size_t traceChunk)
{
    // Lock-step batching is a step-major strategy.
    return simtest::simulateSamples(p, in, n, batch, threads, traceChunk, sim::Order::StepMajor);
}

} // namespace

class TestSimBatch : public QObject {
    Q_OBJECT
private slots:
    void batchedEqualsUnbatched_data() { simtest::addStrategyRows(); }

    void batchedEqualsUnbatched()
    {
        const simtest::RowPackage row = simtest::compileRow();
        const simtest::Compiled& c = row.compiled;
        const int chips = row.chips;
        const int64_t n = 7; // no batch size below but 1 and 7 divides it
        const std::vector<float> in = simtest::randomSamples(n, c.program.inputSize(), 11);
        const Run ref = simulate(c.program, in, n, 1, 1, size_t(1) << 16);
        QVERIFY2(ref.result.ok(), ref.result.error.c_str());
        QCOMPARE(ref.result.batch, 1);
        QVERIFY(ref.result.counters.total().synapticOps > 0);
        QVERIFY(!ref.spikes.empty());
        if (chips > 1)
            QVERIFY(ref.result.counters.total().chipMessages > 0);
        for (auto [batch, threads] : {std::pair{2, 1}, std::pair{3, 1}, std::pair{4, 1}, std::pair{7, 1},
                                      std::pair{64, 1}, std::pair{3, 2}, std::pair{2, 2}}) {
            const Run r = simulate(c.program, in, n, batch, threads, 1000);
            QVERIFY(r.result.batch > 1);
            compareRuns(c.program, ref, r);
            if (QTest::currentTestFailed()) {
                qWarning("batch %d, %d thread(s)", batch, threads);
                return;
            }
        }
    }

    void batchIsClampedToTheThreadShare()
    {
        auto m = ir::loadModule(modelPath("convsnn_fmnist.sir"));
        QVERIFY(m.ok());
        const simtest::Compiled c = simtest::compile(*m.module);
        const std::vector<float> in = simtest::randomSamples(5, c.program.inputSize(), 2);
        sim::SimOptions o;
        o.parallel = sim::Parallel::Samples;
        o.threads = 2;
        o.batch = 16;
        const sim::SimResult r = sim::simulate(c.program, in, 5, o);
        QVERIFY(r.ok());
        QCOMPARE(r.batch, 3); // 5 samples over 2 threads
        QCOMPARE(r.samples, int64_t(5));
        o.parallel = sim::Parallel::Cores; // one sample over cores: no batching
        QCOMPARE(sim::simulate(c.program, in, 1, o).batch, 1);
    }

    void missingSampleIsAnError()
    {
        auto m = ir::loadModule(modelPath("convsnn_fmnist.sir"));
        QVERIFY(m.ok());
        const simtest::Compiled c = simtest::compile(*m.module);
        sim::SimOptions o;
        o.parallel = sim::Parallel::Samples;
        o.batch = 4;
        const sim::SimResult r = sim::simulate(
            c.program, 6,
            [&](int64_t s, std::vector<float>& data) {
                data.assign(size_t(c.program.inputSize()), 0.5f);
                return s != 5;
            },
            o);
        QVERIFY(!r.ok());
        QVERIFY2(r.error.find("sample 5") != std::string::npos, r.error.c_str());
    }
};

QTEST_GUILESS_MAIN(TestSimBatch)
#include "test_sim_batch.moc"

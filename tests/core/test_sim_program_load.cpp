// sim::buildProgram decodes cores on several threads: the loaded program
// must not depend on the thread count (every field the executors read,
// compared field by field), and a failing load must name the same core
// (the lowest failing index) whatever the count. The slice neuron maps
// (walked in order at load) are checked against target::Slice::neuronAt.
#include "bundled_models.h"
#include "sim_program_digest.h"
#include "sim_test_util.h"

#include <QtTest>

#include <optional>

using namespace stc;

namespace {

// The first field where b differs from a, or "" when equal.
std::string firstDifference(const sim::SimProgram& a, const sim::SimProgram& b)
{
    const auto da = simtest::programDigest(a), db = simtest::programDigest(b);
    for (size_t i = 0; i < std::min(da.size(), db.size()); ++i)
        if (da[i] != db[i])
            return da[i].first == db[i].first ? da[i].first : da[i].first + " vs " + db[i].first;
    return da.size() == db.size() ? std::string() : "field count " + std::to_string(da.size()) + " vs " +
                                                         std::to_string(db.size());
}

} // namespace

class TestSimProgramLoad : public QObject {
    Q_OBJECT

private slots:
    void threadCountDoesNotChangeTheProgram_data()
    {
        QTest::addColumn<QString>("model");
        // Spikformer: dense and sparse rows, full conv_shared (conv plans) and
        // diagonal conv_shared (pooling and reductions, expanded) on many cores.
        QTest::newRow("spikformer") << "spikformer_fmnist.sir";
        QTest::newRow("convsnn") << "convsnn_fmnist.sir";
    }
    void threadCountDoesNotChangeTheProgram()
    {
        QFETCH(QString, model);
        const simtest::Compiled c = simtest::compile(testutil::loadBundledModel(model.toStdString()));
        const target::Package& pkg = c.out.package;
        QVERIFY(pkg.cores.size() >= 2);
        const sim::ProgramLoad one = sim::buildProgram(pkg, 1);
        QVERIFY2(one.ok(), one.error.c_str());
        // The on-disk round trip (default thread count) loads the same program.
        QCOMPARE(firstDifference(*one.program, c.program), std::string());
        // Slice neurons against target::Slice::neuronAt, index by index.
        for (size_t k = 0; k < pkg.cores.size(); ++k)
            for (size_t s = 0; s < pkg.cores[k].slices.size(); ++s) {
                const target::Slice& sl = pkg.cores[k].slices[s];
                target::Population p;
                p.shape = one.program->populations[size_t(sl.pop)].shape;
                p.featureAxis = one.program->populations[size_t(sl.pop)].featureAxis;
                const std::vector<int32_t>& got = one.program->cores[k].slices[s].popNeuron;
                QCOMPARE(int64_t(got.size()), sl.neurons());
                for (int64_t l = 0; l < sl.neurons(); ++l)
                    if (got[size_t(l)] != sl.neuronAt(p, l))
                        QFAIL(("core " + std::to_string(k) + " slice " + std::to_string(s) + " neuron " +
                               std::to_string(l) + ": " + std::to_string(got[size_t(l)]) + " != neuronAt " +
                               std::to_string(sl.neuronAt(p, l)))
                                  .c_str());
            }
        int64_t expanded = 0, planned = 0;
        for (const sim::CoreProgram& core : one.program->cores)
            for (const sim::SynapseBlock& b : core.inputs)
                (b.conv ? planned : expanded) += b.encoding == target::Encoding::ConvShared;
        if (model.startsWith("spikformer")) {
            QVERIFY2(expanded > 0, "no diagonal conv_shared input in the test package");
            QVERIFY2(planned > 0, "no full conv_shared input in the test package");
        }
        for (int threads : {2, 3, 7}) {
            const sim::ProgramLoad many = sim::buildProgram(pkg, threads);
            QVERIFY2(many.ok(), many.error.c_str());
            QCOMPARE(firstDifference(*one.program, *many.program), std::string());
        }
    }

    // Blocks whose kernels or row records decode to the same values share one
    // copy; the program equals one decoded without sharing, and editing a
    // shared array copies it first.
    void sharedArraysEqualTheirOwnDecoding()
    {
        const simtest::Compiled c = simtest::compile(testutil::loadBundledModel("spikformer_fmnist.sir"));
        sim::ProgramLoad shared = sim::buildProgram(c.out.package, 2);
        sim::ProgramLoad own = sim::buildProgram(c.out.package, 2, false);
        QVERIFY2(shared.ok() && own.ok(), (shared.error + own.error).c_str());
        QCOMPARE(firstDifference(*own.program, *shared.program), std::string());
        // Pairs of groups on different cores with one storage, and the same
        // pairs in the unshared program with their own storage.
        struct At {
            size_t core, input, group;
        };
        std::vector<At> groups;
        for (size_t k = 0; k < shared.program->cores.size(); ++k)
            for (size_t i = 0; i < shared.program->cores[k].inputs.size(); ++i)
                for (size_t g = 0; g < shared.program->cores[k].inputs[i].plan.groups.size(); ++g)
                    groups.push_back({k, i, g});
        auto kernelOf = [](sim::SimProgram& p, const At& a) -> sim::SharedWeights& {
            return p.cores[a.core].inputs[a.input].plan.groups[a.group].kernel;
        };
        std::optional<std::pair<At, At>> pair;
        for (size_t x = 0; x < groups.size() && !pair; ++x)
            for (size_t y = x + 1; y < groups.size() && !pair; ++y)
                if (groups[x].core != groups[y].core &&
                    kernelOf(*shared.program, groups[x]).sameStorage(kernelOf(*shared.program, groups[y])))
                    pair = {groups[x], groups[y]};
        QVERIFY2(pair, "no kernel shared between cores in the bundled Spikformer's package");
        QVERIFY(!kernelOf(*own.program, pair->first).sameStorage(kernelOf(*own.program, pair->second)));
        const std::vector<int32_t> before = kernelOf(*shared.program, pair->second).values();
        kernelOf(*shared.program, pair->first).edit()[0] += 1;
        QCOMPARE(kernelOf(*shared.program, pair->second).values(), before);
        QCOMPARE(kernelOf(*shared.program, pair->first).values()[0], before[0] + 1);
        QVERIFY(!kernelOf(*shared.program, pair->first).sameStorage(kernelOf(*shared.program, pair->second)));

        // Row records (expanded pooling and reductions, attention operands):
        // a write through forEachRun copies a shared block's records first.
        auto& cores = shared.program->cores;
        std::optional<std::pair<sim::SynapseBlock*, sim::SynapseBlock*>> rows;
        for (size_t k = 0; k < cores.size() && !rows; ++k)
            for (sim::SynapseBlock& x : cores[k].inputs)
                for (size_t l = k + 1; l < cores.size() && !rows && !x.rows.empty(); ++l)
                    for (sim::SynapseBlock& y : cores[l].inputs)
                        if (x.rows.sameStorage(y.rows)) {
                            rows = {&x, &y};
                            break;
                        }
        QVERIFY2(rows, "no row records shared between cores in the bundled Spikformer's package");
        const std::vector<int32_t> rowsBefore = rows->second->rows.values();
        int32_t first = 0;
        sim::SynapseBlock::forEachRun(*rows->first, 0, [&](uint32_t, int32_t* w, uint32_t n) {
            if (n > 0 && first == 0)
                first = w[0], w[0] += 1;
        });
        QVERIFY(first != 0);
        QCOMPARE(rows->second->rows.values(), rowsBefore);
        QVERIFY(rows->first->rows.values() != rowsBefore);
    }

    // SynapseBlock::unitRuns (core-major delivery then skips the run walk)
    // is set exactly on the row blocks whose every run has length 1; the
    // bundled Spikformer has such blocks of one synapse per record (the
    // attention product operands) and of several, and row blocks without.
    void unitRunsFlagMatchesTheRecords()
    {
        const simtest::Compiled c = simtest::compile(testutil::loadBundledModel("spikformer_fmnist.sir"));
        const sim::ProgramLoad load = sim::buildProgram(c.out.package, 2);
        QVERIFY2(load.ok(), load.error.c_str());
        int kinds[3] = {}; // unit runs of one synapse per record, unit runs, other
        for (size_t k = 0; k < load.program->cores.size(); ++k)
            for (const sim::SynapseBlock& b : load.program->cores[k].inputs) {
                if (b.rows.empty()) {
                    QVERIFY(!b.unitRuns);
                    continue;
                }
                bool one = true, unit = true;
                for (uint32_t a = 0; a < b.rowStart.size(); ++a) {
                    int runs = 0;
                    sim::SynapseBlock::forEachRun(b, a, [&](uint32_t, const int32_t*, uint32_t n) {
                        unit &= n == 1;
                        ++runs;
                    });
                    one &= runs == 1 && b.rowSynapses(a) == 1;
                }
                QVERIFY2(b.unitRuns == unit, ("core " + std::to_string(k)).c_str());
                ++kinds[unit && one ? 0 : unit ? 1 : 2];
            }
        QVERIFY(kinds[0] > 0);
        QVERIFY(kinds[1] > 0);
        QVERIFY(kinds[2] > 0);
        // A write through the rows may change the runs: the flag no longer holds.
        sim::SimProgram prog = *load.program;
        for (sim::CoreProgram& cp : prog.cores)
            for (sim::SynapseBlock& b : cp.inputs)
                if (b.unitRuns) {
                    QVERIFY(b.unitRunsValid());
                    sim::SynapseBlock::forEachRun(b, 0, [](uint32_t, int32_t*, uint32_t) {});
                    QVERIFY(b.unitRuns && !b.unitRunsValid());
                }
    }

    // ConvPlan::Group::narrow (int8 mantissas, a shift per feature) equals
    // its kernel wherever it is valid, is shared with the kernel, goes stale
    // when the kernel is edited, and is absent for a kernel without the form.
    void narrowKernelsEqualTheirKernels()
    {
        const simtest::Compiled c = simtest::compile(testutil::loadBundledModel("spikformer_fmnist.sir"));
        sim::ProgramLoad load = sim::buildProgram(c.out.package, 2);
        QVERIFY2(load.ok(), load.error.c_str());
        sim::SimProgram& prog = *load.program;
        std::vector<sim::ConvPlan::Group*> groups;
        for (sim::CoreProgram& cp : prog.cores)
            for (sim::SynapseBlock& b : cp.inputs)
                for (sim::ConvPlan::Group& g : b.plan.groups)
                    groups.push_back(&g);
        auto equalsKernel = [](const sim::ConvPlan::Group& g) {
            const size_t n = g.features.size();
            if (g.narrow.size() != g.kernel.size() || g.shift.size() != n)
                return false;
            for (size_t i = 0; i < g.kernel.size(); ++i)
                if (int32_t(uint32_t(int32_t(g.narrow[i])) << g.shift[i % n]) != g.kernel[i])
                    return false;
            return true;
        };
        int valid = 0;
        for (const sim::ConvPlan::Group* g : groups) {
            QVERIFY(g->narrowValid()); // 8-bit weights: every kernel has the form
            QVERIFY(equalsKernel(*g));
            ++valid;
        }
        QVERIFY(valid > 0);
        // Groups sharing a kernel share its narrow form.
        bool sharedSeen = false;
        for (size_t x = 0; x < groups.size(); ++x)
            for (size_t y = x + 1; y < groups.size(); ++y)
                if (groups[x]->kernel.sameStorage(groups[y]->kernel)) {
                    QVERIFY(groups[x]->narrow.sameStorage(groups[y]->narrow));
                    sharedSeen = true;
                }
        QVERIFY(sharedSeen);
        // A nonzero shift somewhere (the quantize pass's per-channel shifts).
        bool shifted = false;
        for (const sim::ConvPlan::Group* g : groups)
            for (uint32_t sh : g->shift.values())
                shifted |= sh > 0;
        QVERIFY(shifted);

        // An edit leaves the narrow form stale; narrowKernels builds it again.
        sim::ConvPlan::Group& g = *groups.front();
        const int32_t step = int32_t(uint32_t(1) << g.shift[0]);
        g.kernel.edit()[0] += g.narrow[0] < 127 ? step : -step; // still of the form
        QVERIFY(!g.narrowValid());
        QCOMPARE(sim::narrowKernels(prog), int64_t(groups.size()));
        QVERIFY(g.narrowValid() && equalsKernel(g));
        // A weight of 9 significant bits has no int8 form: no narrow kernel.
        g.kernel.edit()[0] = 257;
        QCOMPARE(sim::narrowKernels(prog), int64_t(groups.size()) - 1);
        QVERIFY(!g.narrowValid() && g.narrow.empty());
    }

    void failingCoreIsTheLowestWhateverTheThreads()
    {
        const simtest::Compiled c = simtest::compile(testutil::loadBundledModel("spikformer_fmnist.sir"));
        target::Package pkg = c.out.package;
        QVERIFY(pkg.cores.size() > 9);
        // Every core from 4 on fails: with several threads, several cores fail
        // before the workers stop.
        for (size_t k = 4; k < pkg.cores.size(); ++k)
            pkg.cores[k].bias.push_back(0);
        for (int threads : {1, 2, 5}) {
            const sim::ProgramLoad load = sim::buildProgram(pkg, threads);
            QVERIFY(!load.ok());
            QVERIFY2(load.error.rfind("core 4: bias table has", 0) == 0, load.error.c_str());
        }
    }
};

QTEST_GUILESS_MAIN(TestSimProgramLoad)
#include "test_sim_program_load.moc"

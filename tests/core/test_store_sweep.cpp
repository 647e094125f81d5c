// The bits x sparsity sweep on a conv SNN built in code (random weights):
// the rows it writes into a project, honest "not mapped" results, and a bad
// configuration that stops the sweep before anything is recorded.
#include "interp_models.h"

#include "data/fashion_mnist.h"
#include "passes/calibration.h"
#include "store/sweep.h"

#include <QTemporaryDir>
#include <QtTest>

#include <memory>

using namespace stc;
using namespace stc::store;

class TestStoreSweep : public QObject {
    Q_OBJECT

private:
    QTemporaryDir tmp_;
    ir::Module model_;
    std::shared_ptr<data::ImageSet> test_, train_;

    std::string file(const char* name) const { return QDir(tmp_.path()).filePath(name).toStdString(); }

private slots:
    void initTestCase()
    {
        auto test = data::loadFashionMnist(data::Split::Test, data::defaultFashionMnistDir(), 24);
        auto train = data::loadFashionMnist(data::Split::Train, data::defaultFashionMnistDir(), 16);
        if (!test.ok() || !train.ok())
            QSKIP("Fashion-MNIST is not installed (Debian package fashion-mnist)");
        test_ = std::make_shared<data::ImageSet>(std::move(test.value));
        train_ = std::make_shared<data::ImageSet>(std::move(train.value));
        std::string error;
        model_ = test::buildConvSnn(2, 11, &error);
        QVERIFY2(error.empty(), error.c_str());
    }

    void sweepWritesExpectedRows()
    {
        const std::string path = file("sweep.stcproj");
        Project project = Project::create(path, {"sweep test", "loihi3"});
        SweepSpec spec;
        spec.bits = {8, 4};
        spec.sparsity = {0.0, 0.5};
        spec.limit = 20;
        spec.description = "test sweep";
        std::vector<size_t> progress;
        const SweepResult r = runSweep(model_, *test_, passes::imageSetCalibration(train_), spec, &project,
                                       [&](const SweepPoint&, size_t done, size_t total) {
                                           progress.push_back(done);
                                           QCOMPARE(total, size_t(4));
                                       });
        QVERIFY2(r.ok(), r.error.c_str());
        QCOMPARE(progress, (std::vector<size_t>{1, 2, 3, 4}));
        QVERIFY(r.floatBaseline);
        QCOMPARE(r.floatBaseline->samples, int64_t(20));
        QCOMPARE(r.points.size(), size_t(4));
        for (const SweepPoint& p : r.points) {
            QVERIFY2(p.error.empty(), p.error.c_str());
            QVERIFY(p.accuracy);
            QCOMPARE(p.accuracy->samples, int64_t(20));
            QCOMPARE(p.accuracy->path, EvalPath::FixedPoint);
            QVERIFY2(p.compile.mapped, p.compile.notMappedReason.c_str());
            QVERIFY(p.compile.energyPj > 0 && p.compile.latencyNs > 0 && p.compile.coresUsed >= 1);
            QVERIFY(p.compile.projectedChip); // loihi3 is a projection
            QVERIFY(p.pipeline.find("quantize{bits=" + std::to_string(p.bits) + "}") != std::string::npos);
            QVERIFY(p.pipeline.ends_with("partition{chip=loihi3},place,route"));
            QCOMPARE(p.pipeline.find("prune") != std::string::npos, p.sparsity > 0);
            if (p.sparsity > 0)
                QVERIFY(std::abs(p.sparsityAchieved - 0.5) < 0.05);
            else
                QCOMPARE(p.sparsityAchieved, 0.0);
        }
        QCOMPARE(r.points[0].bits, 8);
        QCOMPARE(r.points[1].sparsity, 0.5);
        QCOMPARE(r.points[2].bits, 4);

        // What the project holds: one sweep, the float baseline, 4 linked pairs.
        Project reopened = Project::open(path, OpenMode::ReadOnly);
        const auto sweeps = reopened.sweeps();
        QCOMPARE(sweeps.size(), size_t(1));
        QCOMPARE(sweeps[0].id, r.sweepId);
        QCOMPARE(sweeps[0].description, std::string("test sweep"));
        RunFilter f;
        f.sweepId = r.sweepId;
        QCOMPARE(reopened.listRuns(f).size(), size_t(9));
        f.kind = RunKind::Accuracy;
        QCOMPARE(reopened.listRuns(f).size(), size_t(5));
        auto floatRun = reopened.accuracyRun(r.floatRunId);
        QVERIFY(floatRun);
        QCOMPARE(floatRun->result.path, EvalPath::Float);
        QCOMPARE(floatRun->meta.compileRunId, int64_t(0));

        RunFilter bySweep;
        bySweep.sweepId = r.sweepId;
        const auto configs = reopened.configurations(bySweep);
        QCOMPARE(configs.size(), size_t(4));
        for (size_t i = 0; i < configs.size(); ++i) {
            const SweepPoint& p = r.points[i];
            const ConfigPoint& c = configs[i];
            QCOMPARE(c.meta.id, p.compileRunId);
            QCOMPARE(c.accuracyRunId, p.accuracyRunId);
            QCOMPARE(c.meta.params.at("bits"), std::to_string(p.bits));
            QCOMPARE(c.meta.params.at("sparsity"), p.sparsity > 0 ? std::string("0.5") : std::string("0.0"));
            QCOMPARE(c.meta.chip, std::string("loihi3"));
            QCOMPARE(c.meta.pipeline, p.pipeline);
            QCOMPARE(c.accuracy->correct, p.accuracy->correct);
            QCOMPARE(c.compile.energyPj, p.compile.energyPj);
            auto full = reopened.compileRun(c.meta.id);
            QCOMPARE(full->result.passes.size(), p.compile.passes.size());
            QCOMPARE(full->result.passes.back().pass, std::string("route"));
            QCOMPARE(full->result.passes.back().status, std::string("ok"));
        }
        // The front computed in memory and from the file agree.
        const auto memFront = energyAccuracyFront(r.points);
        const auto dbFront = reopened.paretoFront(Metric::EnergyPj, Metric::Accuracy, bySweep);
        QVERIFY(!memFront.empty());
        QCOMPARE(dbFront.size(), memFront.size());
        for (size_t i = 0; i < memFront.size(); ++i)
            QCOMPARE(dbFront[i].meta.id, r.points[memFront[i]].compileRunId);
    }

    void unknownChipIsReportedAsNotMapped()
    {
        SweepSpec spec;
        spec.bits = {8};
        spec.sparsity = {0.25};
        spec.chip = "no-such-chip";
        spec.limit = 8;
        spec.floatBaseline = false;
        const SweepResult r = runSweep(model_, *test_, passes::imageSetCalibration(train_), spec, nullptr);
        QVERIFY2(r.ok(), r.error.c_str());
        QCOMPARE(r.points.size(), size_t(1));
        const SweepPoint& p = r.points[0];
        QVERIFY(!p.compile.mapped);
        QVERIFY2(p.compile.notMappedReason.find("no-such-chip") != std::string::npos, p.compile.notMappedReason.c_str());
        QVERIFY(p.accuracy); // accuracy does not need a mapping
        QCOMPARE(p.compile.status, CompileStatus::Ok);
        QVERIFY(energyAccuracyFront(r.points).empty());
    }

    void badConfigurationRecordsNothing()
    {
        const std::string path = file("bad.stcproj");
        Project project = Project::create(path, {"bad"});
        SweepSpec spec;
        spec.bits = {8, 1}; // quantize needs bits >= 2
        spec.limit = 4;
        const SweepResult r = runSweep(model_, *test_, {}, spec, &project);
        QVERIFY(!r.ok());
        QVERIFY2(r.error.find("bits=1") != std::string::npos && r.error.find("range") != std::string::npos,
                 r.error.c_str());
        QVERIFY(project.sweeps().empty());
        QVERIFY(project.listRuns().empty());
    }
};

QTEST_GUILESS_MAIN(TestStoreSweep)
#include "test_store_sweep.moc"

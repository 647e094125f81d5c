// The exploration side of sweeps on the bundled trained conv SNN: the two
// knob passes (set-timesteps, scale-thresholds), the grid over five
// dimensions, the seeded random sample, resume from a project, and
// successive halving checked against the full grid it is meant to shortcut.
#include "bundled_models.h"
#include "data/fashion_mnist.h"
#include "ir/ir_io.h"
#include "passes/calibration.h"
#include "passes/pipeline.h"
#include "passes/registry.h"
#include "passes/runner.h"
#include "store/sweep.h"

#include <QTemporaryDir>
#include <QtTest>

#include <memory>
#include <set>

using namespace stc;
using namespace stc::store;

namespace {

std::string label(const SweepPoint& p) { return p.label(); }

} // namespace

class TestStoreSearch : public QObject {
    Q_OBJECT

private:
    QTemporaryDir tmp_;
    ir::Module model_;
    std::shared_ptr<data::ImageSet> test_, train_;

    std::string file(const char* name) const { return QDir(tmp_.path()).filePath(name).toStdString(); }

private slots:
    void initTestCase()
    {
        model_ = testutil::loadBundledModel("convsnn_fmnist.sir");
        auto test = data::loadFashionMnist(data::Split::Test, data::defaultFashionMnistDir(), 160);
        auto train = data::loadFashionMnist(data::Split::Train, data::defaultFashionMnistDir(), 16);
        if (test.ok() && train.ok()) {
            test_ = std::make_shared<data::ImageSet>(std::move(test.value));
            train_ = std::make_shared<data::ImageSet>(std::move(train.value));
        }
    }

    void setTimestepsChangesTAndRefusesAfterQuantize()
    {
        passes::RunResult r = testutil::runPipelineText(model_, "set-timesteps{t=2}");
        QVERIFY2(r.ok(), r.allDiagnostics().format().c_str());
        QCOMPARE(r.module.timesteps, int64_t(2));
        QCOMPARE(r.records[0].stats.getInt("timesteps-before"), model_.timesteps);
        passes::RunResult late = testutil::runPipelineText(model_, "fold-bn,fuse,quantize{bits=8},set-timesteps{t=2}");
        QVERIFY(!late.ok());
        QVERIFY2(late.allDiagnostics().format().find("before quantize") != std::string::npos,
                 late.allDiagnostics().format().c_str());
    }

    void scaleThresholdsScalesSpikingNeuronsOnly()
    {
        passes::RunResult r = testutil::runPipelineText(model_, "scale-thresholds{factor=1.5}");
        QVERIFY2(r.ok(), r.allDiagnostics().format().c_str());
        int64_t spiking = 0;
        for (size_t i = 0; i < model_.ops().size(); ++i) {
            const ir::Op& before = model_.ops()[i];
            if (before.kind != ir::OpKind::Lif)
                continue;
            const double want = before.attrs.getString("output", "spikes") == "membrane"
                                    ? before.attrs.getFloat("v_threshold")
                                    : before.attrs.getFloat("v_threshold") * 1.5;
            spiking += before.attrs.getString("output", "spikes") != "membrane";
            QCOMPARE(r.module.ops()[i].attrs.getFloat("v_threshold"), want);
        }
        QVERIFY(spiking > 0);
        QCOMPARE(r.records[0].stats.getInt("neurons-scaled"), spiking);
    }

    void gridAndRandomSample()
    {
        SweepSpec spec;
        spec.bits = {8, 4};
        spec.sparsity = {0.0, 0.5};
        spec.timesteps = {2, 4};
        spec.thresholdScale = {1.0, 1.25};
        spec.chips = {1, 2};
        const std::vector<SweepConfig> grid = sweepConfigurations(spec);
        QCOMPARE(grid.size(), size_t(32));
        QCOMPARE(grid[1].chips, 2);       // chips vary fastest,
        QCOMPARE(grid[16].bits, 4);       // bits slowest
        QCOMPARE(sweepPipeline(grid[7], "magnitude"),
                 std::string("set-timesteps{t=4},fold-bn,scale-thresholds{factor=1.25},fuse,quantize{bits=8}"));
        QCOMPARE(sweepMapPipeline("loihi3", 2), std::string("partition{chip=loihi3 chips=2},place,route"));
        QCOMPARE(sweepMapPipeline("loihi3", 1), std::string("partition{chip=loihi3},place,route"));
        std::set<std::string> labels;
        for (const auto& c : grid)
            labels.insert(c.label());
        QCOMPARE(labels.size(), grid.size());

        spec.strategy = SweepStrategy::Random;
        spec.samples = 5;
        const auto a = sweepConfigurations(spec), b = sweepConfigurations(spec);
        QCOMPARE(a.size(), size_t(5));
        for (size_t i = 0; i < a.size(); ++i) {
            QCOMPARE(a[i].label(), b[i].label()); // a function of the seed
            QVERIFY(labels.count(a[i].label()));
        }
        std::set<std::string> drawn;
        for (const auto& c : a)
            drawn.insert(c.label());
        QCOMPARE(drawn.size(), size_t(5)); // without repetition
        spec.seed = 2;
        const auto other = sweepConfigurations(spec);
        bool differs = false;
        for (size_t i = 0; i < other.size(); ++i)
            differs = differs || other[i].label() != a[i].label();
        QVERIFY(differs);
    }

    void resumeSkipsConfigurationsMeasuredBefore()
    {
        if (!test_)
            QSKIP("Fashion-MNIST is not installed (Debian package fashion-mnist)");
        Project project = Project::create(file("resume.stcproj"), {"resume", "loihi3"});
        SweepSpec spec;
        spec.sparsity = {0.0, 0.5};
        spec.limit = 24;
        spec.floatBaseline = false;
        const auto calib = passes::imageSetCalibration(train_);
        const SweepResult first = runSweep(model_, *test_, calib, spec, &project);
        QVERIFY2(first.ok(), first.error.c_str());
        QCOMPARE(first.imagesEvaluated, int64_t(48));
        spec.sparsity = {0.0, 0.25, 0.5};
        const SweepResult second = runSweep(model_, *test_, calib, spec, &project);
        QVERIFY2(second.ok(), second.error.c_str());
        QCOMPARE(second.points.size(), size_t(3));
        QVERIFY(second.points[0].resumed && !second.points[1].resumed && second.points[2].resumed);
        QCOMPARE(second.imagesEvaluated, int64_t(24)); // only the new configuration ran
        QCOMPARE(second.points[0].compileRunId, first.points[0].compileRunId);
        QCOMPARE(second.points[2].accuracy->correct, first.points[1].accuracy->correct);
        spec.limit = 16; // other images: nothing to reuse
        const SweepResult third = runSweep(model_, *test_, calib, spec, &project);
        for (const auto& p : third.points)
            QVERIFY(!p.resumed);
        spec.limit = 24;
        spec.resume = false;
        const SweepResult fourth = runSweep(model_, *test_, calib, spec, &project);
        QCOMPARE(fourth.imagesEvaluated, int64_t(72));
    }

    void halvingFindsTheGridsAnswerWithFewerEvaluations()
    {
        if (!test_)
            QSKIP("Fashion-MNIST is not installed (Debian package fashion-mnist)");
        SweepSpec spec;
        spec.bits = {8, 4};
        spec.timesteps = {1, 2, 4};
        spec.thresholdScale = {1.0, 1.5};
        spec.limit = 160;
        spec.floatBaseline = false;
        spec.accuracyBudget = 0.84;
        const auto calib = passes::imageSetCalibration(train_);
        const SweepResult grid = runSweep(model_, *test_, calib, spec, nullptr);
        QVERIFY2(grid.ok(), grid.error.c_str());
        std::optional<size_t> answer;
        for (size_t i = 0; i < grid.points.size(); ++i) {
            const SweepPoint& p = grid.points[i];
            QVERIFY2(p.compile.mapped && p.accuracy, (label(p) + ": " + p.error).c_str());
            qInfo("  %-36s %6.2f %%  %8.3f uJ", label(p).c_str(), 100 * p.accuracy->accuracy(),
                  p.compile.energyPj * 1e-6);
            if (p.accuracy->accuracy() >= spec.accuracyBudget &&
                (!answer || p.compile.energyPj < grid.points[*answer].compile.energyPj))
                answer = i;
        }
        QVERIFY2(answer, "the budget is met by some configuration of the grid");

        spec.strategy = SweepStrategy::Halving;
        const SweepResult h = runSweep(model_, *test_, calib, spec, nullptr);
        QVERIFY2(h.ok(), h.error.c_str());
        for (const auto& line : h.rounds)
            qInfo("  %s", line.c_str());
        qInfo("halving: %lld image evaluations, the grid %lld", (long long)h.imagesEvaluated,
              (long long)grid.imagesEvaluated);
        QCOMPARE(h.points.size(), grid.points.size());
        QVERIFY(h.best);
        QCOMPARE(label(h.points[*h.best]), label(grid.points[*answer]));
        QCOMPARE(h.points[*h.best].accuracy->correct, grid.points[*answer].accuracy->correct); // same images, same result
        QVERIFY(h.imagesEvaluated < grid.imagesEvaluated);
        for (const auto& p : h.points) // every point either ran to the end or says why not
            QVERIFY(p.eliminated.empty() == (p.accuracy && p.accuracy->samples == spec.limit));

        spec.accuracyBudget = 0.999; // out of reach: no answer, said so
        const SweepResult none = runSweep(model_, *test_, calib, spec, nullptr);
        QVERIFY(none.ok() && !none.best);
        spec.chip.clear();
        QVERIFY(!runSweep(model_, *test_, calib, spec, nullptr).ok()); // halving ranks by energy: needs a chip
    }
};

QTEST_GUILESS_MAIN(TestStoreSearch)
#include "test_store_search.moc"

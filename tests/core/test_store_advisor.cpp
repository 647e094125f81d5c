// Guided pass selection on the bundled trained conv SNN: a sweep's history
// in a real project file, the fitted model, proposals inside the history's
// range and not measured yet, and an applied proposal reported with its
// prediction next to the measured result.
#include "bundled_models.h"
#include "data/fashion_mnist.h"
#include "ir/ir_io.h"
#include "passes/calibration.h"
#include "store/advisor.h"
#include "store/sweep.h"

#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <memory>

using namespace stc;
using namespace stc::store;

class TestStoreAdvisor : public QObject {
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
        auto test = data::loadFashionMnist(data::Split::Test, data::defaultFashionMnistDir(), 100);
        auto train = data::loadFashionMnist(data::Split::Train, data::defaultFashionMnistDir(), 16);
        if (!test.ok() || !train.ok())
            QSKIP("Fashion-MNIST is not installed (Debian package fashion-mnist)");
        test_ = std::make_shared<data::ImageSet>(std::move(test.value));
        train_ = std::make_shared<data::ImageSet>(std::move(train.value));
    }

    void emptyHistoryIsExplained()
    {
        Project project = Project::create(file("empty.stcproj"), {"empty", "loihi3"});
        const Advice a = advise(project, {});
        QVERIFY(!a.ok());
        QVERIFY2(a.error.find("stc sweep") != std::string::npos, a.error.c_str());
        QVERIFY(!advise(project, {"power"}).ok()); // unknown objective
    }

    void proposesAndReportsAppliedPredictions()
    {
        Project project = Project::create(file("advice.stcproj"), {"advice", "loihi3"});
        ModelSource src;
        src.path = std::string(STC_RESOURCE_DIR) + "/models/convsnn_fmnist.sir";
        src.sha256 = std::string(64, 'a');
        src.format = "sir";
        src.timesteps = model_.timesteps;
        project.setModel(src);
        SweepSpec spec;
        spec.bits = {8, 4};
        spec.sparsity = {0.0, 0.5};
        spec.timesteps = {2, 4};
        spec.limit = 100;
        spec.floatBaseline = false;
        const auto calib = passes::imageSetCalibration(train_);
        const SweepResult history = runSweep(model_, *test_, calib, spec, &project);
        QVERIFY2(history.ok(), history.error.c_str());

        AdviceRequest req;
        req.tolerance = 0.05;
        req.maxProposals = 100;
        const Advice a = advise(project, req);
        QVERIFY2(a.ok(), a.error.c_str());
        QCOMPARE(a.energyFit.points, 8);
        QCOMPARE(a.accuracyFit.points, 8);
        QCOMPARE(a.images, int64_t(100));
        QCOMPARE(a.knobs, (std::vector<std::string>{"bits", "sparsity", "T"}));
        // Energy is nearly a function of T on this model: the fit must know it.
        QVERIFY2(a.energyFit.looRmse < 0.1, std::to_string(a.energyFit.looRmse).c_str());
        QVERIFY(!a.proposals.empty());
        const double baseline = a.baseline->compile.energyPj;
        for (const Proposal& p : a.proposals) {
            QVERIFY(p.config.bits >= 4 && p.config.bits <= 8);           // inside the history's range
            QVERIFY(p.config.timesteps >= 2 && p.config.timesteps <= 4);
            QVERIFY(p.config.sparsity >= 0 && p.config.sparsity <= 0.5);
            for (const SweepPoint& h : history.points) // not measured yet (the history's T are explicit)
                QVERIFY(p.config.label() != SweepConfig(h).label());
            QVERIFY(p.predicted.energyPj < baseline && p.saving > 0);
            QVERIFY(p.predicted.accuracy >= a.baseline->accuracy->accuracy() - req.tolerance);
            QVERIFY(!p.change.empty());
        }
        for (size_t i = 1; i < a.proposals.size(); ++i)
            QVERIFY(a.proposals[i - 1].saving >= a.proposals[i].saving); // best first
        QVERIFY(a.applied.empty());

        // Apply the best proposal the way `stc advise --apply` does.
        const Proposal& best = a.proposals.front();
        SweepSpec one;
        one.bits = {best.config.bits};
        one.sparsity = {best.config.sparsity};
        one.timesteps = {best.config.timesteps};
        one.limit = 100;
        one.floatBaseline = false;
        one.params = predictionParams(best, a.baseline->meta.id);
        const SweepResult applied = runSweep(model_, *test_, calib, one, &project);
        QVERIFY2(applied.ok() && applied.points.size() == 1, applied.error.c_str());
        const Advice after = advise(project, req);
        QVERIFY2(after.ok(), after.error.c_str());
        QCOMPARE(after.energyFit.points, 9); // the applied run joins the history
        QCOMPARE(after.applied.size(), size_t(1));
        const AppliedAdvice& ap = after.applied.front();
        QCOMPARE(ap.compileRunId, applied.points[0].compileRunId);
        QCOMPARE(ap.config.label(), best.config.label());
        QVERIFY(std::fabs(ap.predicted.energyPj - best.predicted.energyPj) <= 1e-6 * best.predicted.energyPj);
        QVERIFY(ap.measuredAccuracy);
        QCOMPARE(ap.measured.energyPj, applied.points[0].compile.energyPj);
        qInfo("applied %s: energy predicted %.3f uJ, measured %.3f uJ; top-1 predicted %.2f %%, measured %.2f %%",
              best.config.label().c_str(), ap.predicted.energyPj * 1e-6, ap.measured.energyPj * 1e-6,
              100 * ap.predicted.accuracy, 100 * ap.measured.accuracy);
        // The prediction is as good as the model said it would be (3 x its leave-one-out error).
        QVERIFY(std::fabs(std::log(ap.measured.energyPj / ap.predicted.energyPj)) <= 3 * a.energyFit.looRmse + 0.01);
    }
};

QTEST_GUILESS_MAIN(TestStoreAdvisor)
#include "test_store_advisor.moc"

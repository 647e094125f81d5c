// The passes on Spikformers: the bundled Fashion-MNIST model when its Spike IR
// is there (resources/models/spikformer_fmnist.sir); two small Spikformers
// imported by the TorchScript frontend from tests/fixtures/torchscript
// (conv1d and linear q/k/v forms, saved as tests/data/passes/*.sir so that
// this test needs no LibTorch); and a module of the bundled model's
// architecture with random weights.
#include "data/fashion_mnist.h"
#include "fixedpoint/executor.h"
#include "ir/ir_io.h"
#include "ir/verifier.h"
#include "passes/calibration.h"
#include "passes/evaluate.h"
#include "passes/runner.h"
#include "test_pass_util.h"

#include <QtTest>

#include <filesystem>

using namespace stc;
using namespace stc::passes;
using testutil::countOps;

namespace {

RunResult runText(const ir::Module& m, const std::string& text, CompileContext* ctxIn = nullptr)
{
    const PassRegistry reg = makeBuiltinRegistry();
    Diagnostics d;
    auto p = parsePipeline(text, reg, d);
    if (!p)
        throw std::runtime_error(d.format());
    CompileContext local;
    return runPipeline(m, *p, reg, ctxIn ? *ctxIn : local);
}

#if defined(__SANITIZE_ADDRESS__)
constexpr int64_t kAccuracyImages = 100; // ASan + UBSan build: ~20x slower
#else
constexpr int64_t kAccuracyImages = 1000;
#endif

std::optional<ir::Module> bundledModel()
{
    const std::string path = std::string(STC_RESOURCE_DIR) + "/models/spikformer_fmnist.sir";
    if (!std::filesystem::exists(path))
        return std::nullopt;
    auto r = ir::loadModule(path);
    if (!r.ok())
        throw std::runtime_error(r.diagnostics.format());
    return std::move(*r.module);
}

std::vector<interp::InputBatch> images(int64_t n)
{
    auto set = data::loadFashionMnist(data::Split::Test, data::defaultFashionMnistDir(), n);
    if (!set.ok())
        throw std::runtime_error(set.error);
    return {{n, set.value.batch(0, n)}};
}

} // namespace

class TestPassSpikformer : public QObject {
    Q_OBJECT
private slots:
    void structurePasses_data()
    {
        QTest::addColumn<QString>("source");
        QTest::newRow("random-weight spikformer") << "random";
        QTest::newRow("imported conv1d spikformer") << "imported_spikformer_conv1d.sir";
        QTest::newRow("imported linear spikformer") << "imported_spikformer_linear.sir";
        QTest::newRow("bundled spikformer_fmnist") << "bundled";
    }
    void structurePasses()
    {
        QFETCH(QString, source);
        std::optional<ir::Module> model;
        if (source == "random")
            model = testutil::spikformerNet();
        else if (source == "bundled")
            model = bundledModel();
        else {
            auto r = ir::loadModule(std::string(STC_TEST_DATA_DIR) + "/passes/" + source.toStdString());
            QVERIFY2(r.ok(), r.diagnostics.format().c_str());
            model = std::move(*r.module);
        }
        if (!model)
            QFAIL("resources/models/spikformer_fmnist.sir is missing (bundled model, see resources/models/MANIFEST.md)");
        const ir::Module& m = *model;
        const auto in = images(16);
        const auto ref = interp::run(m, in);
        QVERIFY2(ref.ok(), ref.error.c_str());

        RunResult folded = runText(m, "fold-bn,canonicalize,dce");
        QVERIFY2(folded.ok(), folded.allDiagnostics().format().c_str());
        QCOMPARE(countOps(folded.module, ir::OpKind::BatchNorm), 0);
        QCOMPARE(folded.records[0].stats.getInt("bn-folded"), int64_t{countOps(m, ir::OpKind::BatchNorm)});
        QCOMPARE(folded.records[0].stats.getInt("bn-lowered-to-affine"), int64_t{0});
        const auto after = interp::run(folded.module, in);
        QVERIFY(testutil::maxAbsDiff(ref.outputs[0], after.outputs[0]) < 1e-3);

        RunResult lowered = runText(folded.module, "lower-attention");
        QVERIFY2(lowered.ok(), lowered.allDiagnostics().format().c_str());
        QCOMPARE(lowered.records[0].stats.getInt("matmuls-lowered"), int64_t{4});
        const auto low = interp::run(lowered.module, in);
        QCOMPARE(testutil::maxAbsDiff(after.outputs[0], low.outputs[0]), 0.0); // exact

        RunResult heads = runText(folded.module, "prune{mode=head sparsity=0.5}");
        QVERIFY2(heads.ok(), heads.allDiagnostics().format().c_str());
        QCOMPARE(heads.records[0].stats.getInt("attention-blocks"), int64_t{2});
        const int64_t totalHeads = heads.records[0].stats.getInt("heads-total");
        QVERIFY(totalHeads == 4 || totalHeads == 8); // 2 or 4 heads per block
        QCOMPARE(heads.records[0].stats.getInt("heads-pruned"), totalHeads / 2);

        RunResult full = runText(m, "fold-bn,fuse,quantize{bits=8},schedule-time,layout-buffers");
        QVERIFY2(full.ok(), full.allDiagnostics().format().c_str());
        QVERIFY2(!ir::verify(full.module).hasErrors(), ir::verify(full.module).format().c_str());
        QVERIFY(full.records[3].stats.getInt("neuron-layer-depth") >= 10);
        const auto fixed = fixedpoint::run(full.module, in);
        QVERIFY2(fixed.ok(), fixed.error.c_str());
        // Firing rates stay close to float: the stem closely, overall within 10 %
        // (deep layers of these untrained models amplify small differences).
        int64_t refTotal = 0, fixedTotal = 0;
        for (size_t l = 0; l < ref.lif.size(); ++l) {
            refTotal += ref.lif[l].total;
            fixedTotal += fixed.lif[l].total;
            if (l < 3)
                QVERIFY2(std::abs(fixed.lif[l].total - ref.lif[l].total) <= std::max<int64_t>(50, ref.lif[l].total / 20),
                         ref.lif[l].name.c_str());
        }
        QVERIFY(std::abs(fixedTotal - refTotal) <= refTotal / 10);
    }

    void bundledAccuracySubset()
    {
        // The full 10,000-image measurement is bench/bench_accuracy (docs/passes.md).
        auto model = bundledModel();
        if (!model)
            QFAIL("resources/models/spikformer_fmnist.sir is missing (bundled model, see resources/models/MANIFEST.md)");
        auto test = data::loadFashionMnist(data::Split::Test, data::defaultFashionMnistDir(), kAccuracyImages);
        auto train = data::loadFashionMnist(data::Split::Train, data::defaultFashionMnistDir(), 256);
        QVERIFY(test.ok() && train.ok());
        CompileContext ctx;
        ctx.calibration = imageSetCalibration(std::make_shared<data::ImageSet>(std::move(train.value)));
        RunResult q = runText(*model, "fold-bn,fuse,quantize{bits=8}", &ctx);
        QVERIFY2(q.ok(), q.allDiagnostics().format().c_str());
        const EvalResult f = evaluateTop1(*model, test.value, ExecPath::Float, 0, kAccuracyImages, 2);
        const EvalResult x = evaluateTop1(q.module, test.value, ExecPath::FixedPoint, 0, kAccuracyImages, 2);
        QVERIFY(f.error.empty() && x.error.empty());
        const double lossPp = 100.0 * (f.accuracy() - x.accuracy());
        qInfo("float %.2f %%, int8 fixed-point %.2f %% on %lld images (loss %.2f pp)", 100 * f.accuracy(),
              100 * x.accuracy(), static_cast<long long>(kAccuracyImages), lossPp);
        QVERIFY(f.accuracy() > 0.8);
        // <= 0.5 pp in whole images (a float comparison would fail 5 / 1000 on rounding)
        QCOMPARE(f.images, x.images);
        QVERIFY2(200 * (f.correct - x.correct) <= x.images, std::to_string(lossPp).c_str());
    }
};

QTEST_GUILESS_MAIN(TestPassSpikformer)
#include "test_pass_spikformer.moc"

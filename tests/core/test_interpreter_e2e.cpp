// Reference interpreter end to end: a conv SNN and a Spikformer-like network
// with random weights on real Fashion-MNIST test images. Checks shapes,
// determinism, thread- and batch-independence; prints timings (not asserted).
#include "data/fashion_mnist.h"
#include "interp_models.h"
#include "interp_test_util.h"

#include <QElapsedTimer>

using namespace stc;
using namespace stc::test;

class TestInterpreterE2E : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void model_data();
    void model();

private:
    data::ImageSet images_;
};

void TestInterpreterE2E::initTestCase()
{
    auto loaded = data::loadFashionMnist(data::Split::Test, data::defaultFashionMnistDir(), 32);
    QVERIFY2(loaded.ok(), loaded.error.c_str());
    images_ = std::move(loaded.value);
    QCOMPARE(images_.count, int64_t(32));
}

void TestInterpreterE2E::model_data()
{
    QTest::addColumn<int>("which");
    QTest::newRow("conv snn") << 0;
    QTest::newRow("spikformer") << 1;
}

void TestInterpreterE2E::model()
{
    QFETCH(int, which);
    std::string error;
    const ir::Module m = which == 0 ? buildConvSnn(4, 3, &error) : buildSpikformer(SpikformerSpec{}, &error);
    QVERIFY2(error.empty(), error.c_str());
    qDebug("%s: %lld parameters, %lld neurons per step, %.1f MMAC per inference", m.name.c_str(),
           (long long)ir::parameterCount(m), (long long)ir::neuronCount(m), test::macsPerInference(m) / 1e6);

    const int64_t batch = 16;
    const interp::InputBatch in{batch, images_.batch(0, batch)};
    interp::RunOptions opt;
    QElapsedTimer timer;
    timer.start();
    const auto r1 = interp::run(m, {in}, opt);
    const double ms1 = double(timer.nsecsElapsed()) / 1e6;
    QVERIFY2(r1.ok(), r1.error.c_str());
    QCOMPARE(r1.outputShapes, (std::vector<ir::Shape>{{batch, 10}}));
    for (float v : r1.outputs[0])
        QVERIFY(std::isfinite(v));

    // Deterministic, and the same with two threads.
    const auto again = interp::run(m, {in}, opt);
    STC_COMPARE_FLOATS(again.outputs[0], r1.outputs[0]);
    opt.threads = 2;
    timer.restart();
    const auto r2 = interp::run(m, {in}, opt);
    const double ms2 = double(timer.nsecsElapsed()) / 1e6;
    QVERIFY2(r2.ok(), r2.error.c_str());
    STC_COMPARE_FLOATS(r2.outputs[0], r1.outputs[0]);
    QCOMPARE(r2.lif.size(), r1.lif.size());
    for (size_t i = 0; i < r1.lif.size(); ++i)
        QCOMPARE(r2.lif[i].spikesPerStep, r1.lif[i].spikesPerStep);

    // Each sample alone gives the same bits as inside the batch (batch 1, both thread counts).
    double ms1Single = 0;
    for (int64_t b = 0; b < 4; ++b) {
        for (int threads : {1, 2}) {
            opt.threads = threads;
            timer.restart();
            const auto single = interp::run(m, {{1, images_.batch(b, 1)}}, opt);
            if (threads == 1)
                ms1Single += double(timer.nsecsElapsed()) / 1e6 / 4;
            QVERIFY2(single.ok(), single.error.c_str());
            STC_COMPARE_FLOATS(single.outputs[0],
                               std::vector<float>(r1.outputs[0].begin() + b * 10, r1.outputs[0].begin() + (b + 1) * 10));
        }
    }

    // The network is alive: most neuron layers fire, none saturates completely.
    int silent = 0;
    QString rates;
    for (const auto& l : r1.lif) {
        const double rate = double(l.total) / double(l.neuronsPerSample * batch * m.timesteps);
        silent += l.total == 0;
        QVERIFY2(rate < 1.0, l.origin.c_str());
        rates += QString(" %1=%2").arg(QString::fromStdString(l.origin).section('.', -2)).arg(rate, 0, 'f', 3);
    }
    QVERIFY2(silent <= int(r1.lif.size()) / 4, qPrintable(rates));
    qDebug("%s firing rates:%s", m.name.c_str(), qPrintable(rates));
    qDebug("%s: batch %lld: %.2f ms/image (1 thread), %.2f ms/image (2 threads); batch 1: %.2f ms/image", m.name.c_str(),
           (long long)batch, ms1 / double(batch), ms2 / double(batch), ms1Single);
}

QTEST_GUILESS_MAIN(TestInterpreterE2E)
#include "test_interpreter_e2e.moc"

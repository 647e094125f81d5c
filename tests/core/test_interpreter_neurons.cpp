// Reference interpreter: spiking neurons (every LIF form, step by step),
// rate encoding and spike statistics. Expected membranes were computed
// independently with a float32 emulation of the SpikingJelly / snnTorch
// expressions (every operation rounded to float32).
#include "interp/kernels_neuron.h"
#include "interp/rate_encoding.h"
#include "interp/thread_pool.h"
#include "interp_test_util.h"

#include <cmath>

using namespace stc;
using namespace stc::test;

namespace {

struct LifCase {
    ir::Attributes attrs;
    std::vector<float> x; // input per step (one neuron)
    std::vector<float> spikes;
    std::vector<float> v; // membrane after each step (after reset)
};

ir::Attributes lif(double tau, const char* reset = "hard", const char* fire = "ge", double vth = 1.0,
                   bool decayInput = true)
{
    return attrs({{"neuron", std::string("lif")},
                  {"tau", tau},
                  {"decay_input", decayInput},
                  {"v_threshold", vth},
                  {"reset", std::string(reset)},
                  {"fire", std::string(fire)}});
}

ir::Attributes withAttr(ir::Attributes a, const char* key, ir::AttrValue v)
{
    a.set(key, std::move(v));
    return a;
}

ir::Attributes ifNeuron(const char* reset = "hard", const char* fire = "ge")
{
    return attrs({{"neuron", std::string("if")},
                  {"v_threshold", 1.0},
                  {"reset", std::string(reset)},
                  {"fire", std::string(fire)}});
}

ir::Attributes leaky(double beta, const char* reset = "subtract-delayed", const char* fire = "gt")
{
    return attrs({{"neuron", std::string("leaky")},
                  {"beta", beta},
                  {"v_threshold", 1.0},
                  {"reset", std::string(reset)},
                  {"fire", std::string(fire)}});
}

} // namespace

Q_DECLARE_METATYPE(LifCase)
Q_DECLARE_METATYPE(stc::ir::Attributes)

class TestInterpreterNeurons : public QObject {
    Q_OBJECT

private slots:
    void lifSteps_data();
    void lifSteps();
    void lifInModule();
    void lifStatistics();
    void lifMembraneOutput();
    void lifRejectsBadCombinations_data();
    void lifRejectsBadCombinations();
    void rateEncodingGolden();
    void rateEncodingInModule();
};

void TestInterpreterNeurons::lifSteps_data()
{
    QTest::addColumn<LifCase>("c");
    // SpikingJelly LIF, decay_input, hard reset to 0: h = v + (x - v) / tau.
    QTest::newRow("lif tau 2 hard ge") << LifCase{lif(2.0), {1.5f, 1.5f, 1.5f, 1.5f}, {0, 1, 0, 1},
                                                  {0.75f, 0, 0.75f, 0}};
    // h == v_th exactly: "ge" (SpikingJelly heaviside) spikes, "gt" (snnTorch) does not.
    QTest::newRow("tie ge spikes") << LifCase{lif(2.0), {2, 0, 2, 2}, {1, 0, 1, 1}, {0, 0, 0, 0}};
    QTest::newRow("tie gt no spike") << LifCase{lif(2.0, "hard", "gt"), {2, 0, 2, 2}, {0, 0, 1, 0},
                                                {1.0f, 0.5f, 0, 1.0f}};
    QTest::newRow("subtract reset") << LifCase{lif(2.0, "subtract"), {3, 3, 0, 0}, {1, 1, 0, 0},
                                               {0.5f, 0.75f, 0.375f, 0.1875f}};
    QTest::newRow("subtract reset gt") << LifCase{lif(2.0, "subtract", "gt"), {2, 2, 2, 0.5f}, {0, 1, 1, 0},
                                                  {1.0f, 0.5f, 0.25f, 0.375f}};
    QTest::newRow("no reset") << LifCase{lif(2.0, "none"), {3, 3, 0, 0}, {1, 1, 1, 0}, {1.5f, 2.25f, 1.125f, 0.5625f}};
    // Nonzero v_reset: the membrane starts at v_reset (SpikingJelly) and the charge is
    // v + (x - (v - v_reset)) / tau.
    QTest::newRow("v_reset -0.5") << LifCase{withAttr(lif(2.0), "v_reset", -0.5), {2, 2, 2, 2}, {0, 1, 0, 1},
                                             {0.5f, -0.5f, 0.5f, -0.5f}};
    QTest::newRow("v_reset 0.25 vth 0.75")
        << LifCase{withAttr(lif(2.0, "hard", "ge", 0.75), "v_reset", 0.25), {1, 1, 0.2f, 1.3f}, {1, 1, 0, 1},
                   {0.25f, 0.25f, 0.3499999940395355f, 0.25f}};
    // decay_input = false, v_reset 0: h = v * (1 - 1/tau) + x.
    QTest::newRow("no decay_input") << LifCase{lif(2.0, "hard", "ge", 1.0, false), {0.6f, 0.6f, 0.6f, 0.6f},
                                               {0, 0, 1, 0}, {0.6000000238418579f, 0.9000000357627869f, 0, 0.6000000238418579f}};
    // decay_input = false, v_reset 0.25: h = v - (v - v_reset) / tau + x.
    QTest::newRow("no decay_input v_reset 0.25")
        << LifCase{withAttr(lif(2.0, "hard", "ge", 1.0, false), "v_reset", 0.25), {0.6f, 0.6f, 0.6f, 0.6f},
                   {0, 1, 0, 1}, {0.8500000238418579f, 0.25f, 0.8500000238418579f, 0.25f}};
    // tau 3: the factor 1 - 1/3 is computed in double and rounded once (0.66666669f, not 0.66666663f).
    QTest::newRow("no decay_input tau 3")
        << LifCase{lif(3.0, "hard", "ge", 1.0, false), std::vector<float>(6, 0.3f), {0, 0, 0, 0, 0, 0},
                   {0.30000001192092896f, 0.5f, 0.6333333253860474f, 0.7222222089767456f, 0.7814815044403076f,
                    0.8209877014160156f}};
    QTest::newRow("tau 3") << LifCase{lif(3.0), std::vector<float>(6, 1.2f), {0, 0, 0, 0, 1, 0},
                                      {0.4000000059604645f, 0.6666666865348816f, 0.8444444537162781f,
                                       0.9629629850387573f, 0, 0.4000000059604645f}};
    QTest::newRow("tau 1.5") << LifCase{lif(1.5), std::vector<float>(6, 0.9f), {0, 0, 0, 0, 0, 0},
                                        {0.5999999642372131f, 0.7999999523162842f, 0.8666666150093079f,
                                         0.8888888359069824f, 0.8962962627410889f, 0.8987653851509094f}};
    QTest::newRow("tau 1.5 subtract vth 0.5")
        << LifCase{lif(1.5, "subtract", "ge", 0.5), {0.9f, 0.1f, 0.9f, -0.4f, 1.7f, 0.0f}, {1, 0, 1, 0, 1, 0},
                   {0.09999996423721313f, 0.09999998658895493f, 0.13333332538604736f, -0.2222222089767456f,
                    0.559259295463562f, 0.1864197552204132f}};
    // IF: h = v + x.
    QTest::newRow("if hard") << LifCase{ifNeuron(), {0.4f, 0.4f, 0.4f, 0.4f}, {0, 0, 1, 0},
                                        {0.4000000059604645f, 0.800000011920929f, 0, 0.4000000059604645f}};
    QTest::newRow("if subtract") << LifCase{ifNeuron("subtract"), {0.4f, 0.4f, 0.4f, 0.4f}, {0, 0, 1, 0},
                                            {0.4000000059604645f, 0.800000011920929f, 0.20000004768371582f,
                                             0.6000000238418579f}};
    QTest::newRow("if tie gt") << LifCase{ifNeuron("hard", "gt"), {0.5f, 0.5f, 0.5f, 0.25f}, {0, 0, 1, 0},
                                          {0.5f, 1.0f, 0, 0.25f}};
    QTest::newRow("if negative input") << LifCase{ifNeuron("subtract"), {1.5f, -1, -1, 2}, {1, 0, 0, 0},
                                                  {0.5f, -0.5f, -1.5f, 0.5f}};
    // snnTorch Leaky: reset from the previous membrane (strict), mem = beta * mem + x - reset * thr.
    QTest::newRow("leaky subtract-delayed") << LifCase{leaky(0.5), {1.2f, 1.2f, 0, 0}, {1, 0, 0, 0},
                                                       {1.2000000476837158f, 0.8000000715255737f,
                                                        0.40000003576278687f, 0.20000001788139343f}};
    QTest::newRow("leaky tie gt") << LifCase{leaky(0.5), {1.0f, 0.5f, 0.5f, 0}, {0, 0, 0, 0}, {1, 1, 1, 0.5f}};
    // "ge" fires on the tie, but the delayed reset stays strict: no subtraction follows.
    QTest::newRow("leaky tie ge") << LifCase{leaky(0.5, "subtract-delayed", "ge"), {1.0f, 0.5f, 0.5f, 0},
                                             {1, 1, 1, 0}, {1, 1, 1, 0.5f}};
    QTest::newRow("leaky none") << LifCase{leaky(0.9, "none"), {0.5f, 0.5f, 0.5f, 0.5f}, {0, 0, 1, 1},
                                           {0.5f, 0.949999988079071f, 1.3550000190734863f, 1.719499945640564f}};
    // snnTorch clamps beta to [0, 1].
    QTest::newRow("leaky beta clamped") << LifCase{leaky(1.5, "none"), {0.5f, 0.5f, 0.5f, 0.5f}, {0, 0, 1, 1},
                                                   {0.5f, 1.0f, 1.5f, 2.0f}};
    QTest::newRow("leaky beta 0.95") << LifCase{leaky(0.95), std::vector<float>(6, 0.3f), {0, 0, 0, 1, 0, 0},
                                                {0.30000001192092896f, 0.5850000381469727f, 0.8557500243186951f,
                                                 1.1129624843597412f, 0.3573143482208252f, 0.6394486427307129f}};
}

void TestInterpreterNeurons::lifSteps()
{
    QFETCH(LifCase, c);
    interp::detail::LifParams p;
    const std::string err = interp::detail::prepareLif(p, c.attrs);
    QVERIFY2(err.empty(), err.c_str());
    // One neuron, then many neurons x several samples on two threads: same trajectory everywhere.
    for (const auto& [nb, n, threads] : {std::tuple{1, 1, 1}, std::tuple{3, 20000, 2}}) {
        interp::ThreadPool pool(threads);
        std::vector<interp::detail::Scratch> scratch(size_t(pool.size()));
        interp::detail::Exec ex{&pool, &scratch};
        std::vector<float> v(size_t(nb * n), p.initial), x(size_t(nb * n)), s(size_t(nb * n));
        std::vector<int32_t> perNeuron(size_t(n), 0);
        int64_t total = 0;
        for (size_t t = 0; t < c.x.size(); ++t) {
            std::fill(x.begin(), x.end(), c.x[t]);
            int64_t spikes = 0;
            interp::detail::runLif(p, {x.data(), n}, v.data(), {s.data(), n}, nb, n, 1, perNeuron.data(), spikes, ex);
            total += spikes;
            QCOMPARE(spikes, int64_t(c.spikes[t]) * nb * n);
            for (size_t i = 0; i < v.size(); ++i) {
                if (s[i] != c.spikes[t])
                    QVERIFY2(false, qPrintable(QString("step %1: spike %2").arg(t).arg(s[i])));
                if (v[i] != c.v[t])
                    QVERIFY2(false, qPrintable(QString("step %1: v = %2, expected %3")
                                                        .arg(t)
                                                        .arg(double(v[i]), 0, 'g', 9)
                                                        .arg(double(c.v[t]), 0, 'g', 9)));
            }
        }
        for (int32_t count : perNeuron)
            QCOMPARE(int64_t(count) * n, total);
    }
}

void TestInterpreterNeurons::lifInModule()
{
    // Constant input over T steps through encode{direct}: per-step spikes as [batch, T, n].
    TestModule tm(4);
    const ir::ValueId x = tm.input({3}, "x");
    const ir::ValueId e = tm.op(OpKind::Encode, {x}, attrs({{"mode", std::string("direct")}}));
    const ir::ValueId s = tm.op(OpKind::Lif, {e}, lif(2.0), "spikes");
    tm.output({s});
    QVERIFY2(tm.error.empty(), tm.error.c_str());
    // Neuron 0: 1.5 -> 0 1 0 1; neuron 1: 2.0 (tie) -> 1 1 1 1; neuron 2: 0.5 -> never.
    const auto r = runOne(tm, {1.5f, 2.0f, 0.5f, 2.0f, 0.0f, 1.5f}, 2);
    QVERIFY2(r.ok(), r.error.c_str());
    QCOMPARE(r.outputShapes[0], (ir::Shape{2, 4, 3}));
    STC_COMPARE_FLOATS(r.outputs[0], (std::vector<float>{0, 1, 0, 1, 1, 0, 0, 1, 0, 1, 1, 0, /* sample 1 */ 1, 0, 0,
                                                         1, 0, 1, 1, 0, 0, 1, 0, 1}));
}

void TestInterpreterNeurons::lifStatistics()
{
    TestModule tm(4);
    const ir::ValueId x = tm.input({4}, "x");
    const ir::ValueId e = tm.op(OpKind::Encode, {x}, attrs({{"mode", std::string("direct")}}));
    const ir::ValueId s1 = tm.op(OpKind::Lif, {e}, lif(2.0), "l1");
    // A neuron on a value that is the same for all samples: counted once per sample.
    const ir::ValueId c = tm.constant({2}, {2.0f, 0.0f}, "c");
    const ir::ValueId ce = tm.op(OpKind::Encode, {c}, attrs({{"mode", std::string("direct")}}));
    const ir::ValueId s2 = tm.op(OpKind::Lif, {ce}, ifNeuron(), "l2");
    tm.m.mutableOps()[size_t(tm.m.value(s2).def)].origin = "blocks.0.lif";
    tm.output({s1, s2});
    QVERIFY2(tm.error.empty(), tm.error.c_str());
    // sample 0: [0.25 -> 0000, 1.5 -> 0101, 2 -> 1111, 0.6 -> 0000]; sample 1: [2 -> 1111, 0 x3].
    const std::vector<float> in{0.25f, 1.5f, 2.0f, 0.6f, 2.0f, 0.0f, 0.0f, 0.0f};
    interp::RunOptions opt;
    opt.perNeuronCounts = true;
    for (int threads : {1, 2}) {
        opt.threads = threads;
        const auto r = interp::run(tm.m, {{2, in}}, opt);
        QVERIFY2(r.ok(), r.error.c_str());
        QCOMPARE(r.lif.size(), size_t(2));
        const interp::LifStats& a = r.lif[0];
        QCOMPARE(a.value, s1);
        QCOMPARE(a.name, std::string("l1"));
        QCOMPARE(a.neuronsPerSample, int64_t(4));
        QCOMPARE(a.spikesPerStep, (std::vector<int64_t>{2, 3, 2, 3}));
        QCOMPARE(a.total, int64_t(10));
        QCOMPARE(a.perNeuron, (std::vector<int32_t>{4, 2, 4, 0}));
        const interp::LifStats& b = r.lif[1];
        QCOMPARE(b.origin, std::string("blocks.0.lif"));
        // IF with x = 2: spikes every step (h = 2 >= 1, hard reset); two samples.
        QCOMPARE(b.spikesPerStep, (std::vector<int64_t>{2, 2, 2, 2}));
        QCOMPARE(b.total, int64_t(8));
        QCOMPARE(b.perNeuron, (std::vector<int32_t>{8, 0}));
        // The unbatched output is broadcast to every sample.
        QCOMPARE(r.outputShapes[1], (ir::Shape{2, 4, 2}));
        STC_COMPARE_FLOATS(r.outputs[1], (std::vector<float>{1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0}));
    }
    // Without the option there are no per-neuron counts.
    const auto r = interp::run(tm.m, {{2, in}});
    QVERIFY(r.ok());
    QVERIFY(r.lif[0].perNeuron.empty());
    QCOMPARE(r.lif[0].total, int64_t(10));
}

void TestInterpreterNeurons::lifMembraneOutput()
{
    // output = "membrane": the result is the charged membrane h (before the reset), as
    // snnTorch returns mem; the neuron still fires and resets internally.
    TestModule tm(4);
    const ir::ValueId e = tm.op(OpKind::Encode, {tm.input({2}, "x")}, attrs({{"mode", std::string("direct")}}));
    const ir::ValueId h1 = tm.op(OpKind::Lif, {e}, withAttr(lif(2.0), "output", std::string("membrane")), "h1");
    const ir::ValueId h2 = tm.op(OpKind::Lif, {e}, withAttr(leaky(0.5), "output", std::string("membrane")), "h2");
    tm.output({h1, h2});
    QVERIFY2(tm.error.empty(), tm.error.c_str());
    QVERIFY(tm.m.typeOf(h1).elem == ir::ElemType::F32);
    interp::RunOptions opt;
    opt.perNeuronCounts = true;
    for (int threads : {1, 2}) {
        opt.threads = threads;
        const auto r = interp::run(tm.m, {{1, {1.5f, 1.2f}}}, opt);
        QVERIFY2(r.ok(), r.error.c_str());
        // [batch, T, 2]
        STC_COMPARE_FLOATS(r.outputs[0], (std::vector<float>{0.75f, 0.6000000238418579f, 1.125f, 0.9000000357627869f,
                                                             0.75f, 1.0500000715255737f, 1.125f, 0.6000000238418579f}));
        STC_COMPARE_FLOATS(r.outputs[1], (std::vector<float>{1.5f, 1.2000000476837158f, 1.25f, 0.8000000715255737f,
                                                             1.125f, 1.6000001430511475f, 1.0625f, 1.0f}));
        QCOMPARE(r.lif[0].spikesPerStep, (std::vector<int64_t>{0, 1, 1, 1}));
        QCOMPARE(r.lif[0].perNeuron, (std::vector<int32_t>{2, 1}));
        QCOMPARE(r.lif[1].perNeuron, (std::vector<int32_t>{4, 2}));
    }
}

void TestInterpreterNeurons::lifRejectsBadCombinations_data()
{
    QTest::addColumn<ir::Attributes>("a");
    QTest::addColumn<QString>("message");
    QTest::newRow("leaky hard") << leaky(0.5, "hard") << "neuron \"leaky\" supports reset";
    QTest::newRow("lif subtract-delayed") << lif(2.0, "subtract-delayed") << "only defined for neuron \"leaky\"";
    QTest::newRow("if subtract-delayed") << ifNeuron("subtract-delayed") << "only defined for neuron \"leaky\"";
}

void TestInterpreterNeurons::lifRejectsBadCombinations()
{
    QFETCH(ir::Attributes, a);
    QFETCH(QString, message);
    TestModule tm(2);
    const ir::ValueId x = tm.input({2});
    const ir::ValueId e = tm.op(OpKind::Encode, {x}, attrs({{"mode", std::string("direct")}}));
    const ir::ValueId s = tm.op(OpKind::Lif, {e}, a, "bad");
    tm.output({s});
    QVERIFY2(tm.error.empty(), tm.error.c_str());
    const auto r = runOne(tm, {1, 2});
    QVERIFY(!r.error.empty());
    QVERIFY2(QString::fromStdString(r.error).contains(message), r.error.c_str());
    QVERIFY2(QString::fromStdString(r.error).contains("%bad = lif"), r.error.c_str());
    QVERIFY(r.outputs.empty());
}

void TestInterpreterNeurons::rateEncodingGolden()
{
    // Fixed values of the documented formula: the chip simulators must reproduce them.
    QCOMPARE(interp::rateUniform(0, 0, 0), 14819496.0f / 16777216.0f);
    QCOMPARE(interp::rateUniform(42, 3, 17), 14789750.0f / 16777216.0f);
    QCOMPARE(interp::rateUniform(7, 1, 783), 8169712.0f / 16777216.0f);
    QVERIFY(!interp::rateSpike(0.0f, 0, 0, 0));
    QVERIFY(interp::rateSpike(1.0f, 0, 0, 0));
    QVERIFY(interp::rateSpike(0.9f, 0, 0, 0));  // u = 0.8833...
    QVERIFY(!interp::rateSpike(0.88f, 0, 0, 0));
    QVERIFY(interp::rateSpike(5.0f, 1, 2, 3)); // clamped to 1
    QVERIFY(!interp::rateSpike(-1.0f, 1, 2, 3));
}

void TestInterpreterNeurons::rateEncodingInModule()
{
    const int64_t n = 5000, T = 8;
    TestModule tm(T);
    const ir::ValueId x = tm.input({n}, "x");
    const ir::ValueId e = tm.op(OpKind::Encode, {x}, attrs({{"mode", std::string("rate")}, {"seed", int64_t(42)}}));
    tm.output({e});
    QVERIFY2(tm.error.empty(), tm.error.c_str());
    QVERIFY(tm.m.typeOf(e).elem == ir::ElemType::Spike);
    // Three samples: p = 0.3 everywhere, the same again, and the extremes 0 / 1.
    std::vector<float> in(size_t(3 * n), 0.3f);
    for (int64_t i = 0; i < n; ++i)
        in[size_t(2 * n + i)] = i % 2 ? 1.0f : 0.0f;
    const auto r1 = runOne(tm, in, 3, 1);
    const auto r2 = runOne(tm, in, 3, 2);
    QVERIFY2(r1.ok(), r1.error.c_str());
    STC_COMPARE_FLOATS(r1.outputs[0], r2.outputs[0]); // deterministic, thread-independent
    const auto& out = r1.outputs[0];                  // [3, T, n]
    int64_t ones = 0, sameAsStep0 = 0;
    for (int64_t t = 0; t < T; ++t)
        for (int64_t i = 0; i < n; ++i) {
            const float s0 = out[size_t((0 * T + t) * n + i)], s1 = out[size_t((1 * T + t) * n + i)];
            const float s2 = out[size_t((2 * T + t) * n + i)];
            QCOMPARE(s0, s1); // independent of the position in the batch
            QCOMPARE(s0, interp::rateSpike(0.3f, 42, uint64_t(t), uint64_t(i)) ? 1.0f : 0.0f);
            QCOMPARE(s2, i % 2 ? 1.0f : 0.0f);
            ones += s0 == 1.0f;
            sameAsStep0 += s0 == out[size_t(i)];
        }
    const double rate = double(ones) / double(n * T);
    QVERIFY2(std::abs(rate - 0.3) < 0.01, qPrintable(QString::number(rate)));
    QVERIFY(sameAsStep0 < n * T * 0.8); // steps differ
    // Another seed gives other spikes.
    tm.m.mutableOps()[size_t(tm.m.value(e).def)].attrs.set("seed", int64_t(43));
    const auto r3 = runOne(tm, in, 3, 1);
    QVERIFY(r3.outputs[0] != r1.outputs[0]);
}

QTEST_GUILESS_MAIN(TestInterpreterNeurons)
#include "test_interpreter_neurons.moc"

// Reference interpreter: scheduling around the time loop, storage reuse,
// observers, cancellation and error reporting.
#include "interp_test_util.h"

#include <atomic>

using namespace stc;
using namespace stc::test;

namespace {

ir::Attributes lifAttrs(double vth = 1.0)
{
    return attrs({{"neuron", std::string("lif")},
                  {"tau", 2.0},
                  {"decay_input", true},
                  {"v_threshold", vth},
                  {"reset", std::string("hard")}});
}

ir::Attributes direct() { return attrs({{"mode", std::string("direct")}}); }

} // namespace

class TestInterpreterSchedule : public QObject {
    Q_OBJECT

private slots:
    void opsAfterMeanOverTime();
    void meanOverTimeWithAxes();
    void observerOrderAndData();
    void storageReuseInLongChains();
    void perStepValuesReuseStorageAcrossSteps();
    void cancellation();
    void errors_data();
    void errors();
};

void TestInterpreterSchedule::opsAfterMeanOverTime()
{
    // x -> add const (before the loop) -> encode -> lif (each step) -> mean over time
    //   -> linear -> scale (after the loop).
    TestModule tm(3);
    const ir::ValueId x = tm.input({2}, "x");
    const ir::ValueId inv = tm.op(OpKind::Add, {x, tm.constant({2}, {1, 1})}, {}, "inv");
    const ir::ValueId e = tm.op(OpKind::Encode, {inv}, direct(), "e");
    const ir::ValueId s = tm.op(OpKind::Lif, {e}, lifAttrs(), "s");
    const ir::ValueId m = tm.op(OpKind::Mean, {s}, attrs({{"over_time", true}}), "m");
    const ir::ValueId lin = tm.op(OpKind::Linear, {m, tm.constant({1, 2}, {3, 3})}, {}, "lin");
    const ir::ValueId half = tm.op(OpKind::Scale, {lin}, attrs({{"factor", 0.5}}), "half");
    tm.output({half, s, m, inv});
    QVERIFY2(tm.error.empty(), tm.error.c_str());
    QVERIFY(!tm.m.typeOf(m).perStep());
    // inv = [1.5, 2]: spikes 010 and 111, rates 1/3 and 1; 3 * (1/3) + 3 * 1 = 4; * 0.5 = 2.
    const auto r = runOne(tm, {0.5f, 1.0f, 1.0f, 1.0f}, 2);
    QVERIFY2(r.ok(), r.error.c_str());
    QCOMPARE(r.outputShapes[0], (ir::Shape{2, 1}));
    QCOMPARE(r.outputShapes[1], (ir::Shape{2, 3, 2}));
    QCOMPARE(r.outputShapes[2], (ir::Shape{2, 2}));
    STC_COMPARE_FLOATS(r.outputs[0], (std::vector<float>{2, 3}));
    STC_COMPARE_FLOATS(r.outputs[1], (std::vector<float>{0, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1}));
    STC_COMPARE_FLOATS(r.outputs[2], (std::vector<float>{1.0f / 3.0f, 1, 1, 1}));
    STC_COMPARE_FLOATS(r.outputs[3], (std::vector<float>{1.5f, 2, 2, 2}));
}

void TestInterpreterSchedule::meanOverTimeWithAxes()
{
    TestModule tm(4);
    const ir::ValueId x = tm.input({1, 4}, "x");
    const ir::ValueId s = tm.op(OpKind::Lif, {tm.op(OpKind::Encode, {x}, direct())}, lifAttrs());
    // Spikes 0101, 1111, 0000, 0101: per-step means over the 4 neurons 1/4, 3/4, 1/4, 3/4.
    const ir::ValueId m =
        tm.op(OpKind::Mean, {s}, attrs({{"axes", ir::IntList{1}}, {"over_time", true}}), "m");
    const ir::ValueId total = tm.op(OpKind::Sum, {m}, attrs({{"axes", ir::IntList{0}}}), "total");
    const ir::ValueId flat = tm.op(OpKind::Reshape, {total}, attrs({{"shape", ir::IntList{1}}}), "flat");
    tm.output({m, flat});
    QVERIFY2(tm.error.empty(), tm.error.c_str());
    QCOMPARE(tm.m.typeOf(m).shape, (ir::Shape{1}));
    const auto r = runOne(tm, {1.5f, 2.0f, 0.5f, 1.5f});
    QVERIFY2(r.ok(), r.error.c_str());
    STC_COMPARE_FLOATS(r.outputs[0], (std::vector<float>{0.5f}));
    STC_COMPARE_FLOATS(r.outputs[1], (std::vector<float>{0.5f}));
}

void TestInterpreterSchedule::observerOrderAndData()
{
    TestModule tm(2);
    const ir::ValueId x = tm.input({2}, "x");
    const ir::ValueId c = tm.constant({2}, {1, 1}, "c");
    const ir::ValueId inv = tm.op(OpKind::Add, {x, c}, {}, "inv");
    const ir::ValueId e = tm.op(OpKind::Encode, {inv}, direct(), "e");
    const ir::ValueId s = tm.op(OpKind::Lif, {e}, lifAttrs(), "s");
    const ir::ValueId m = tm.op(OpKind::Mean, {s}, attrs({{"over_time", true}}), "m");
    // A per-step value that does not depend on the input: shown to the observer for every sample.
    const ir::ValueId ce = tm.op(OpKind::Encode, {c}, direct(), "ce");
    const ir::ValueId after = tm.op(OpKind::Scale, {m}, attrs({{"factor", 2.0}}), "after");
    tm.output({after, ce});
    QVERIFY2(tm.error.empty(), tm.error.c_str());

    std::vector<std::pair<int, ir::ValueId>> seen;
    std::vector<std::vector<float>> data;
    interp::RunOptions opt;
    opt.observe = [&](int t, ir::ValueId v, std::span<const float> d) {
        seen.emplace_back(t, v);
        data.emplace_back(d.begin(), d.end());
    };
    const auto r = interp::run(tm.m, {{2, {0.5f, 1.0f, 1.0f, 1.0f}}}, opt);
    QVERIFY2(r.ok(), r.error.c_str());
    const std::vector<std::pair<int, ir::ValueId>> want = {
        {-1, x}, {-1, inv}, {0, e}, {0, s}, {0, ce}, {1, e}, {1, s}, {1, ce}, {-1, m}, {-1, after}};
    QCOMPARE(seen, want);
    STC_COMPARE_FLOATS(data[0], (std::vector<float>{0.5f, 1, 1, 1}));
    STC_COMPARE_FLOATS(data[1], (std::vector<float>{1.5f, 2, 2, 2}));
    STC_COMPARE_FLOATS(data[3], (std::vector<float>{0, 1, 1, 1})); // s at t = 0
    STC_COMPARE_FLOATS(data[4], (std::vector<float>{1, 1, 1, 1})); // ce, broadcast to both samples
    STC_COMPARE_FLOATS(data[6], (std::vector<float>{1, 1, 1, 1})); // s at t = 1
    STC_COMPARE_FLOATS(data[8], (std::vector<float>{0.5f, 1, 1, 1}));
    STC_COMPARE_FLOATS(r.outputs[0], (std::vector<float>{1, 2, 2, 2}));
}

void TestInterpreterSchedule::storageReuseInLongChains()
{
    // y_i = y_{i-1} * 0.5 + x with a side branch kept alive to the end: buffers
    // are recycled, but never while a value is still needed.
    TestModule tm;
    const ir::ValueId x = tm.input({100}, "x");
    ir::ValueId y = x;
    const ir::ValueId keep = tm.op(OpKind::Scale, {x}, attrs({{"factor", 3.0}}), "keep");
    for (int i = 0; i < 30; ++i)
        y = tm.op(OpKind::Add, {tm.op(OpKind::Scale, {y}, attrs({{"factor", 0.5}})), x});
    const ir::ValueId out = tm.op(OpKind::Add, {y, keep});
    tm.output({out});
    QVERIFY2(tm.error.empty(), tm.error.c_str());
    const auto in = uniform(300, 3, -1, 1);
    std::vector<float> want(in.size());
    for (size_t i = 0; i < in.size(); ++i) {
        float v = in[i];
        for (int k = 0; k < 30; ++k)
            v = v * 0.5f + in[i];
        want[i] = v + in[i] * 3.0f;
    }
    const auto r = runOne(tm, in, 3);
    QVERIFY2(r.ok(), r.error.c_str());
    STC_COMPARE_FLOATS(r.outputs[0], want);
}

void TestInterpreterSchedule::perStepValuesReuseStorageAcrossSteps()
{
    // An invariant value read in the loop (w) and the time accumulator must survive all
    // steps, while per-step temporaries are recycled within a step.
    TestModule tm(5);
    const ir::ValueId x = tm.input({3}, "x");
    const ir::ValueId w = tm.op(OpKind::Scale, {x}, attrs({{"factor", 0.25}}), "w");
    ir::ValueId v = tm.op(OpKind::Encode, {x}, direct());
    for (int i = 0; i < 6; ++i)
        v = tm.op(OpKind::Add, {tm.op(OpKind::Scale, {v}, attrs({{"factor", 0.5}})), w});
    const ir::ValueId s = tm.op(OpKind::Lif, {v}, lifAttrs(0.5));
    const ir::ValueId m = tm.op(OpKind::Mean, {tm.op(OpKind::Add, {s, w})}, attrs({{"over_time", true}}));
    tm.output({m});
    QVERIFY2(tm.error.empty(), tm.error.c_str());
    const std::vector<float> in{0.4f, 2.0f, -1.0f};
    std::vector<float> want;
    for (float xi : in) {
        const float wi = xi * 0.25f;
        float val = xi;
        for (int i = 0; i < 6; ++i)
            val = val * 0.5f + wi;
        float mem = 0, acc = 0;
        for (int t = 0; t < 5; ++t) {
            const float h = mem + (val - mem) / 2.0f;
            const bool spike = h - 0.5f >= 0;
            mem = spike ? 0.0f : h;
            acc += (spike ? 1.0f : 0.0f) + wi;
        }
        want.push_back(acc / 5.0f);
    }
    const auto r = runOne(tm, in);
    QVERIFY2(r.ok(), r.error.c_str());
    STC_COMPARE_FLOATS(r.outputs[0], want);
}

void TestInterpreterSchedule::cancellation()
{
    TestModule tm(4);
    const ir::ValueId x = tm.input({2});
    const ir::ValueId s = tm.op(OpKind::Lif, {tm.op(OpKind::Encode, {x}, direct())}, lifAttrs());
    tm.output({s});
    std::atomic<bool> cancel{false};
    interp::RunOptions opt;
    opt.cancel = &cancel;
    int calls = 0;
    opt.observe = [&](int t, ir::ValueId, std::span<const float>) {
        ++calls;
        if (t == 1)
            cancel = true;
    };
    auto r = interp::run(tm.m, {{1, {1, 2}}}, opt);
    QVERIFY(r.cancelled);
    QVERIFY(!r.ok());
    QVERIFY(r.error.empty());
    QVERIFY(r.outputs.empty());
    QVERIFY(calls < 1 + 2 * 4);
    // Already cancelled: nothing is computed.
    calls = 0;
    r = interp::run(tm.m, {{1, {1, 2}}}, opt);
    QVERIFY(r.cancelled);
    QCOMPARE(calls, 0);
}

void TestInterpreterSchedule::errors_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<QString>("message");
    QTest::newRow("missing input") << "missing input" << "module has 1 input(s), got 0";
    QTest::newRow("wrong size") << "wrong size" << "expected 1 x 2 = 2 floats, got 3";
    QTest::newRow("batch mismatch") << "batch mismatch" << "differs from input 0's batch 1";
    QTest::newRow("batch 0") << "batch 0" << "batch size must be >= 1";
    QTest::newRow("timesteps 0") << "timesteps 0" << "timesteps must be >= 1";
    QTest::newRow("stale type") << "stale type" << "declared result type f32[3] does not match the inferred type f32[2]";
    QTest::newRow("per-step after mean") << "per-step after mean"
                                         << "cannot use a value computed after the time loop";
    QTest::newRow("use before def") << "use before def" << "is used before its definition";
    QTest::newRow("unknown operand") << "unknown operand" << "refers to value #99, which does not exist";
    QTest::newRow("weight from input") << "weight from input" << "conv weight %w depends on the model input";
    QTest::newRow("const shape") << "const shape" << "but the declared type is f32[1,2]";
    QTest::newRow("bad attribute") << "bad attribute" << "factor must be finite";
    QTest::newRow("no output op") << "no output op" << "module has no 'output' op";
}

void TestInterpreterSchedule::errors()
{
    QFETCH(QString, name);
    QFETCH(QString, message);
    TestModule tm(2);
    std::vector<interp::InputBatch> inputs;
    const ir::ValueId x = tm.input({2}, "x");
    inputs.push_back({1, {1, 2}});
    if (name == "missing input") {
        inputs.clear();
    } else if (name == "wrong size") {
        inputs[0].data.push_back(3);
    } else if (name == "batch mismatch") {
        tm.input({1}, "x2");
        inputs.push_back({2, {1, 2}});
    } else if (name == "batch 0") {
        inputs[0] = {0, {}};
    } else if (name == "timesteps 0") {
        tm.m.timesteps = 0;
    } else if (name == "stale type") {
        const ir::ValueId y = tm.op(OpKind::Scale, {x}, attrs({{"factor", 2.0}}), "y");
        tm.m.setValueType(y, ir::Type{ir::ElemType::F32, {3}, ir::TimeKind::Invariant});
        tm.output({y});
    } else if (name == "per-step after mean") {
        const ir::ValueId s = tm.op(OpKind::Lif, {tm.op(OpKind::Encode, {x}, direct())}, lifAttrs());
        const ir::ValueId m = tm.op(OpKind::Mean, {s}, attrs({{"over_time", true}}));
        tm.output({tm.op(OpKind::Encode, {m}, direct())});
    } else if (name == "use before def" || name == "unknown operand") {
        ir::Op op;
        op.kind = OpKind::Scale;
        op.attrs.set("factor", 1.0);
        op.operands = {name == "unknown operand" ? 99 : x + 2};
        tm.m.append(op, ir::Type{ir::ElemType::F32, {2}, ir::TimeKind::Invariant}, "bad");
        tm.constant({2}, {1, 2});
    } else if (name == "weight from input") {
        const ir::ValueId img = tm.input({1, 4, 4}, "img");
        const ir::ValueId w = tm.input({1, 1, 1, 2}, "w");
        inputs.push_back({1, std::vector<float>(16, 1.0f)});
        inputs.push_back({1, {1, 1}});
        tm.output({tm.op(OpKind::Conv2d, {img, w})});
    } else if (name == "const shape") {
        const ir::ValueId c = tm.constant({2}, {1, 2}, "c");
        tm.m.setValueType(c, ir::Type{ir::ElemType::F32, {1, 2}, ir::TimeKind::Invariant});
    } else if (name == "bad attribute") {
        tm.output({tm.op(OpKind::Scale, {x}, attrs({{"factor", std::numeric_limits<double>::infinity()}}))});
    }
    if (tm.m.outputs().empty() && name != "no output op")
        tm.output({x});
    QVERIFY2(tm.error.empty(), tm.error.c_str());
    const auto r = interp::run(tm.m, inputs);
    QVERIFY2(QString::fromStdString(r.error).contains(message), r.error.c_str());
    QVERIFY(r.outputs.empty());
    QVERIFY(!r.ok());
}

QTEST_GUILESS_MAIN(TestInterpreterSchedule)
#include "test_interpreter_schedule.moc"

// reassociate-matmul, lower-attention, fuse, schedule-time and layout-buffers.
#include "fixedpoint/executor.h"
#include "ir/verifier.h"
#include "passes/runner.h"
#include "test_pass_util.h"

#include <QtTest>

using namespace stc;
using namespace stc::passes;
using testutil::countOps;

namespace {

RunResult runText(const ir::Module& m, const std::string& text)
{
    const PassRegistry reg = makeBuiltinRegistry();
    Diagnostics d;
    auto p = parsePipeline(text, reg, d);
    if (!p)
        throw std::runtime_error(d.format());
    CompileContext ctx;
    return runPipeline(m, *p, reg, ctx);
}

ir::Module attention(int form) { return testutil::attentionNet(form == 1, 4, form == 2); }

// Spikes a [n, k], b [k, m], c [m, p] (LIF of three encoded inputs), the
// chain (a b) c or a (b c) with a scale `factor` after the inner matmul, and
// a LIF of the result; outputs: the chain's time mean and the LIF's.
ir::Module chain(int64_t n, int64_t k, int64_t m, int64_t p, bool innerLeft, double factor)
{
    testutil::Builder b(7);
    auto spikes = [&](ir::Shape shape, const std::string& name) {
        ir::ValueId x = b.m.addInput({ir::ElemType::F32, shape, ir::TimeKind::Invariant}, name);
        ir::Attributes direct;
        direct.set("mode", std::string("direct"));
        return b.lif(b.op(ir::OpKind::Encode, {x}, direct, name + ".enc"), 0.5, name + ".lif");
    };
    const ir::ValueId a = spikes({n, k}, "a"), bb = spikes({k, m}, "b"), c = spikes({m, p}, "c");
    ir::ValueId r;
    if (innerLeft)
        r = b.op(ir::OpKind::MatMul, {b.scale(b.op(ir::OpKind::MatMul, {a, bb}, {}, "ab"), factor), c}, {}, "abc");
    else
        r = b.op(ir::OpKind::MatMul, {a, b.scale(b.op(ir::OpKind::MatMul, {bb, c}, {}, "bc"), factor)}, {}, "abc");
    ir::Attributes mean;
    mean.set("axes", ir::IntList{0});
    b.m.addOutput({b.op(ir::OpKind::Mean, {r}, mean, "abc.mean"), b.meanTime(b.lif(r, 2.0, "abc.lif"))});
    return std::move(b.m);
}

// Float outputs and spike counts of a and b on the same random inputs: equal bit for bit.
void compareRuns(const ir::Module& a, const ir::Module& b)
{
    const auto in = testutil::randomInputs(a, 16, 5);
    const auto ra = interp::run(a, in), rb = interp::run(b, in);
    QVERIFY(ra.ok() && rb.ok());
    QCOMPARE(ra.outputs.size(), rb.outputs.size());
    for (size_t o = 0; o < ra.outputs.size(); ++o)
        QCOMPARE(testutil::maxAbsDiff(ra.outputs[o], rb.outputs[o]), 0.0);
    QCOMPARE(ra.lif.size(), rb.lif.size());
    for (size_t l = 0; l < ra.lif.size(); ++l)
        QCOMPARE(ra.lif[l].total, rb.lif[l].total);
    QVERIFY(ra.lif.back().total > 0);
}

} // namespace

class TestPassLowering : public QObject {
    Q_OBJECT
private slots:
    void lowerAttentionIsExact_data()
    {
        QTest::addColumn<int>("form");
        QTest::newRow("cifar conv1d") << 0;
        QTest::newRow("cifar linear") << 1;
        QTest::newRow("imagenet kv-first") << 2;
    }
    void lowerAttentionIsExact()
    {
        QFETCH(int, form);
        const ir::Module m = attention(form);
        RunResult r = runText(m, "lower-attention");
        QVERIFY2(r.ok(), r.allDiagnostics().format().c_str());
        QVERIFY2(!ir::verify(r.module).hasErrors(), ir::verify(r.module).format().c_str());
        QCOMPARE(countOps(r.module, ir::OpKind::MatMul), 0);
        QCOMPARE(countOps(r.module, ir::OpKind::Scale), 0);
        QCOMPARE(r.records[0].stats.getInt("matmuls-lowered"), int64_t{2});
        QCOMPARE(r.records[0].stats.getInt("scales-folded-into-thresholds"), int64_t{1});
        const ir::Op& lif = r.module.definingOp(r.module.findValue("attn.lif"));
        QCOMPARE(lif.attrs.getFloat("v_threshold"), 0.15 * 8.0);
        compareRuns(m, r.module); // bit-identical
        // The lowered form runs in the fixed-point path too.
        const auto in = testutil::randomInputs(m, 16, 5);
        RunResult q = runText(r.module, "fold-bn,quantize");
        QVERIFY2(q.ok(), q.allDiagnostics().format().c_str());
        QVERIFY(fixedpoint::run(q.module, in).ok());
        // And the order checker knows it is lowered.
        QVERIFY(runText(r.module, "lower-attention").ok());
    }

    void reassociateIsExact_data()
    {
        QTest::addColumn<int>("form");
        QTest::addColumn<int64_t>("chains");
        QTest::newRow("cifar conv1d: (q k^T) v -> q (k^T v)") << 0 << int64_t{1};
        QTest::newRow("cifar linear") << 1 << int64_t{1};
        QTest::newRow("imagenet kv-first: kept") << 2 << int64_t{0};
    }
    void reassociateIsExact()
    {
        QFETCH(int, form);
        QFETCH(int64_t, chains);
        const ir::Module m = attention(form);
        RunResult r = runText(m, "reassociate-matmul");
        QVERIFY2(r.ok(), r.allDiagnostics().format().c_str());
        QVERIFY2(!ir::verify(r.module).hasErrors(), ir::verify(r.module).format().c_str());
        QCOMPARE(r.records[0].stats.getInt("matmul-chains-reassociated"), chains);
        compareRuns(m, r.module);
        // 6 tokens, 2 heads of 4 features: 2 x (6 x 6 x 4 + 6 x 4 x 6) units -> 2 x (4 x 4 x 6 + 6 x 4 x 4).
        if (chains == 1) {
            QCOMPARE(r.records[0].stats.getInt("product-units-per-step-before"), int64_t{576});
            QCOMPARE(r.records[0].stats.getInt("product-units-per-step-after"), int64_t{384});
        }
        // lower-attention still folds the scale (now after the outer matmul) and lowers both matmuls.
        RunResult lowered = runText(r.module, "lower-attention");
        QVERIFY2(lowered.ok(), lowered.allDiagnostics().format().c_str());
        QCOMPARE(countOps(lowered.module, ir::OpKind::MatMul), 0);
        QCOMPARE(countOps(lowered.module, ir::OpKind::Scale), 0);
        QCOMPARE(lowered.records[0].stats.getInt("product-units-per-step"), int64_t{384}); // both orders now
        compareRuns(m, lowered.module);
        // Fixed point: the quantized modules of both orders give the same integers.
        RunResult q0 = runText(m, "fold-bn,canonicalize,dce,quantize");
        RunResult q1 = runText(m, "fold-bn,canonicalize,reassociate-matmul,dce,quantize");
        QVERIFY2(q0.ok() && q1.ok(), (q0.allDiagnostics().format() + q1.allDiagnostics().format()).c_str());
        const auto in = testutil::randomInputs(m, 16, 9);
        const auto f0 = fixedpoint::run(q0.module, in), f1 = fixedpoint::run(q1.module, in);
        QVERIFY(f0.ok() && f1.ok());
        QCOMPARE(f0.outputs, f1.outputs);
    }
    // Both directions, and the chains it must leave alone.
    void reassociateChooses_data()
    {
        QTest::addColumn<int>("n");
        QTest::addColumn<int>("k");
        QTest::addColumn<int>("m");
        QTest::addColumn<int>("p");
        QTest::addColumn<bool>("innerLeft");
        QTest::addColumn<double>("factor");
        QTest::addColumn<int64_t>("chains");
        QTest::newRow("(a b) c -> a (b c)") << 9 << 2 << 9 << 2 << true << 0.25 << int64_t{1};
        QTest::newRow("a (b c) -> (a b) c") << 2 << 9 << 2 << 9 << false << 0.5 << int64_t{1};
        QTest::newRow("(a b) c cheaper: kept") << 2 << 9 << 2 << 9 << true << 0.25 << int64_t{0};
        QTest::newRow("a (b c) cheaper: kept") << 9 << 2 << 9 << 2 << false << 0.25 << int64_t{0};
        QTest::newRow("scale 0.3, not a power of two: kept") << 9 << 2 << 9 << 2 << true << 0.3 << int64_t{0};
    }
    void reassociateChooses()
    {
        QFETCH(int, n);
        QFETCH(int, k);
        QFETCH(int, m);
        QFETCH(int, p);
        QFETCH(bool, innerLeft);
        QFETCH(double, factor);
        QFETCH(int64_t, chains);
        const ir::Module mod = chain(n, k, m, p, innerLeft, factor);
        RunResult r = runText(mod, "reassociate-matmul");
        QVERIFY2(r.ok(), r.allDiagnostics().format().c_str());
        QVERIFY2(!ir::verify(r.module).hasErrors(), ir::verify(r.module).format().c_str());
        QCOMPARE(r.records[0].stats.getInt("matmul-chains-reassociated"), chains);
        if (chains == 0)
            QVERIFY(r.module.sameAs(mod));
        compareRuns(mod, r.module);
        // The result keeps its name and type for its users.
        QVERIFY(r.module.typeOf(r.module.findValue("abc")) == mod.typeOf(mod.findValue("abc")));
    }
    void fuseGroups()
    {
        const ir::Module m = attention(0);
        RunResult r = runText(m, "fold-bn,fuse");
        QVERIFY2(r.ok(), r.allDiagnostics().format().c_str());
        const auto& s = r.records[1].stats;
        QCOMPARE(s.getInt("neuron-groups"), int64_t{countOps(m, ir::OpKind::Lif)});
        QCOMPARE(s.getInt("residual-adds-fused"), int64_t{1}); // res feeds mean -> head only
        QVERIFY(r.module.attrs.getBool("fused"));
        const ir::Op& conv = r.module.definingOp(r.module.findValue("q.conv"));
        const ir::Op& lif = r.module.definingOp(r.module.findValue("q.lif"));
        QCOMPARE(conv.attrs.getString("fuse.role"), std::string("synapse"));
        QCOMPARE(conv.attrs.getInt("fuse.group"), lif.attrs.getInt("fuse.group"));
        QVERIFY(!ir::verify(r.module).hasErrors());
        RunResult again = runText(r.module, "fuse");
        QVERIFY(!again.records[0].changed); // idempotent
        QCOMPARE(runText(m, "fuse").status, RunStatus::Failed); // needs fold-bn
    }

    void scheduleTime()
    {
        RunResult r = runText(testutil::convNet(), "schedule-time");
        QVERIFY(r.ok());
        const auto& s = r.records[0].stats;
        QCOMPARE(s.getInt("neuron-layer-depth"), int64_t{2});
        QCOMPARE(s.getInt("latency-steps.throughput-mode"), int64_t{4 + 2 - 1});
        QCOMPARE(s.getInt("interval-steps.throughput-mode"), int64_t{4});
        QCOMPARE(s.getInt("interval-steps.latency-mode"), int64_t{5});
        QCOMPARE(r.module.attrs.getInt("schedule.latency"), int64_t{5});
        // Residual: the block input waits for the attention branch.
        RunResult a = runText(attention(0), "schedule-time{mode=latency}");
        QVERIFY(a.ok());
        const ir::Op& res = a.module.definingOp(a.module.findValue("res"));
        QVERIFY(res.attrs.getInt("sched.delay") > 0);
        QVERIFY(a.records[0].stats.getInt("delay-buffer-bits") > 0);
        QCOMPARE(a.module.attrs.getInt("schedule.interval"), a.module.attrs.getInt("schedule.latency"));
        QVERIFY(!ir::verify(a.module).hasErrors());
    }

    void layoutBuffers()
    {
        RunResult r = runText(attention(0), "fold-bn,fuse,quantize,schedule-time,layout-buffers");
        QVERIFY2(r.ok(), r.allDiagnostics().format().c_str());
        const auto& s = r.records[4].stats;
        QVERIFY(s.getInt("binary-buffers") > 0);
        QVERIFY(s.getInt("graded-buffers") > 0);
        const ir::Op& lif = r.module.definingOp(r.module.findValue("q.lif"));
        QCOMPARE(lif.attrs.getInt("buf.bits"), int64_t{1});
        QCOMPARE(lif.attrs.getInt("buf.bytes"), int64_t{8}); // 48 spikes -> 2 words
        const ir::Op& res = r.module.definingOp(r.module.findValue("res"));
        QCOMPARE(res.attrs.getInt("buf.bits"), int64_t{4}); // 0..2 signed -> 3 bits -> 4
        QCOMPARE(r.module.attrs.getInt("buffers.bytes"), s.getInt("total-bytes"));
        QVERIFY(s.getInt("max-region-bytes") > 0);
        QVERIFY(!ir::verify(r.module).hasErrors());
    }
};

QTEST_GUILESS_MAIN(TestPassLowering)
#include "test_pass_lowering.moc"

// lower-attention, fuse, schedule-time and layout-buffers.
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
        const auto in = testutil::randomInputs(m, 16, 5);
        const auto a = interp::run(m, in), b = interp::run(r.module, in);
        QVERIFY(a.ok() && b.ok());
        QCOMPARE(testutil::maxAbsDiff(a.outputs[0], b.outputs[0]), 0.0); // bit-identical
        for (size_t l = 0; l < a.lif.size(); ++l)
            QCOMPARE(a.lif[l].total, b.lif[l].total);
        QVERIFY(a.lif.back().total > 0);
        // The lowered form runs in the fixed-point path too.
        RunResult q = runText(r.module, "fold-bn,quantize");
        QVERIFY2(q.ok(), q.allDiagnostics().format().c_str());
        QVERIFY(fixedpoint::run(q.module, in).ok());
        // And the order checker knows it is lowered.
        QVERIFY(runText(r.module, "lower-attention").ok());
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

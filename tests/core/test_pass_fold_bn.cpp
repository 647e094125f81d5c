// fold-bn, dce and canonicalize on modules built in code: structure and
// equivalence in the f32 interpreter.
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

void checkEquivalent(const ir::Module& before, const ir::Module& after, double tol)
{
    const Diagnostics v = ir::verify(after);
    QVERIFY2(!v.hasErrors(), v.format().c_str());
    const auto in = testutil::randomInputs(before, 16, 7);
    const auto full = interp::run(before, in);
    QVERIFY(full.ok());
    for (const auto& l : full.lif) // the test means something only if neurons fire, but not all the time
        QVERIFY2(l.total > 0 && l.total < 16 * 4 * l.neuronsPerSample, (l.name + " " + std::to_string(l.total) + "/" + std::to_string(16 * 4 * l.neuronsPerSample)).c_str());
    const auto a = testutil::runOutputs(before, in);
    const auto b = testutil::runOutputs(after, in);
    QVERIFY2(testutil::maxAbsDiff(a, b) <= tol, std::to_string(testutil::maxAbsDiff(a, b)).c_str());
}

int64_t stat(const RunResult& r, size_t i, const char* name) { return r.records.at(i).stats.getInt(name, -1); }

} // namespace

class TestPassFoldBn : public QObject {
    Q_OBJECT
private slots:
    void convAndLinear()
    {
        const ir::Module m = testutil::convNet();
        RunResult r = runText(m, "fold-bn");
        QVERIFY2(r.ok(), r.allDiagnostics().format().c_str());
        QCOMPARE(countOps(r.module, ir::OpKind::BatchNorm), 0);
        QCOMPARE(stat(r, 0, "bn-folded"), int64_t{2}); // conv2d+bn and linear+bn(axis -1)
        QCOMPARE(stat(r, 0, "bn-lowered-to-affine"), int64_t{0});
        QCOMPARE(countOps(r.module, ir::OpKind::Mul), 0);
        QVERIFY(ir::parameterCount(r.module) < ir::parameterCount(m)); // BN statistics gone
        checkEquivalent(m, r.module, 1e-5);
    }

    void spikformerForms_data()
    {
        QTest::addColumn<bool>("linear");
        QTest::newRow("conv1d-bn1d") << false;
        QTest::newRow("linear-transpose-bn1d-transpose") << true;
    }
    void spikformerForms()
    {
        QFETCH(bool, linear);
        const ir::Module m = testutil::attentionNet(linear);
        RunResult r = runText(m, "fold-bn");
        QVERIFY2(r.ok(), r.allDiagnostics().format().c_str());
        QCOMPARE(countOps(r.module, ir::OpKind::BatchNorm), 0);
        QCOMPARE(stat(r, 0, "bn-folded"), int64_t{4}); // q, k, v, proj
        checkEquivalent(m, r.module, 1e-5);
    }

    void unfoldableBecomesAffine()
    {
        // BN straight after the encoder (no producer) and BN after a conv whose
        // output is also used elsewhere: both lowered to mul+add.
        testutil::Builder b(3);
        ir::ValueId x = b.m.addInput({ir::ElemType::F32, {2, 5, 5}, ir::TimeKind::Invariant}, "x");
        ir::ValueId e = b.encode(x);
        ir::ValueId n0 = b.bn(e, 0, "bn0");
        ir::ValueId c = b.op(ir::OpKind::Conv2d, {n0, b.weight({3, 2, 1, 1}, 0.5f)}, {}, "c");
        ir::ValueId n1 = b.bn(c, 0, "bn1");
        ir::ValueId sum = b.op(ir::OpKind::Add, {n1, c}, {}, "sum");
        b.m.addOutput({b.meanTime(b.lif(sum))});
        RunResult r = runText(b.m, "fold-bn");
        QVERIFY2(r.ok(), r.allDiagnostics().format().c_str());
        QCOMPARE(stat(r, 0, "bn-folded"), int64_t{0});
        QCOMPARE(stat(r, 0, "bn-lowered-to-affine"), int64_t{2});
        QVERIFY(r.module.findValue("bn1") != ir::kNoValue); // keeps the name
        checkEquivalent(b.m, r.module, 1e-5);
    }

    void viewThatMixesChannelsIsNotFolded()
    {
        // linear [4,6] -> reshape [6,4] mixes the channel axis: no fold.
        testutil::Builder b(4);
        ir::ValueId x = b.m.addInput({ir::ElemType::F32, {4, 3}, ir::TimeKind::Invariant}, "x");
        ir::ValueId l = b.op(ir::OpKind::Linear, {b.encode(x), b.weight({6, 3}, 0.5f)}, {}, "l");
        ir::ValueId bn = b.bn(b.reshape(l, {6, 4}), 0, "bn");
        b.m.addOutput({b.meanTime(b.lif(bn, 0.3))});
        RunResult r = runText(b.m, "fold-bn");
        QVERIFY(r.ok());
        QCOMPARE(stat(r, 0, "bn-folded"), int64_t{0});
        QCOMPARE(stat(r, 0, "bn-lowered-to-affine"), int64_t{1});
        checkEquivalent(b.m, r.module, 1e-5);
    }

    void predictionsUnchanged()
    {
        const ir::Module m = testutil::convNet(11);
        RunResult r = runText(m, "fold-bn");
        const auto in = testutil::randomInputs(m, 64, 3);
        const auto a = testutil::runOutputs(m, in), b = testutil::runOutputs(r.module, in);
        for (size_t s = 0; s < 64; ++s) {
            auto argmax = [&](const std::vector<float>& v) {
                return std::max_element(v.begin() + long(s * 10), v.begin() + long(s * 10 + 10)) - v.begin();
            };
            QCOMPARE(argmax(a), argmax(b));
        }
    }

    void dceRemovesUnused()
    {
        ir::Module m = testutil::convNet();
        testutil::Builder b(9);
        b.m = m;
        // An unused branch (like Spikformer's never-called LayerNorm weights).
        ir::ValueId w = b.weight({4, 4}, 1.0f, "unused.w");
        b.op(ir::OpKind::Linear, {w, b.weight({3, 4}, 1.0f)}, {}, "unused.fc");
        RunResult r = runText(b.m, "dce");
        QVERIFY(r.ok());
        QCOMPARE(stat(r, 0, "ops-removed"), int64_t{3});
        QCOMPARE(stat(r, 0, "constants-removed"), int64_t{2});
        QCOMPARE(stat(r, 0, "parameters-removed"), int64_t{28});
        QVERIFY(r.module.sameAs(m));
        RunResult again = runText(r.module, "dce");
        QVERIFY(!again.records[0].changed);
    }

    void canonicalizeViewsAndScales()
    {
        testutil::Builder b(5);
        ir::ValueId x = b.m.addInput({ir::ElemType::F32, {4, 6}, ir::TimeKind::Invariant}, "x");
        ir::ValueId e = b.encode(x);
        ir::ValueId r1 = b.reshape(b.reshape(b.op(ir::OpKind::Flatten, {e}), {6, 4}), {2, 12}); // chain
        ir::ValueId same = b.reshape(r1, {2, 12});                                               // identity
        ir::ValueId p = b.permute(b.permute(same, {1, 0}), {1, 0});                              // cancels
        ir::ValueId id = b.permute(p, {0, 1});                                                   // identity
        ir::ValueId s = b.scale(b.scale(b.scale(id, 0.5), 4.0), 1.0);                            // one scale 2
        ir::ValueId c = b.scale(b.weight({12}, 1.0f, "bias"), 2.0);                              // const fold
        ir::ValueId add = b.op(ir::OpKind::Add, {s, c}, {}, "sum");
        b.m.addOutput({b.meanTime(b.lif(add))});
        RunResult r = runText(b.m, "canonicalize");
        QVERIFY2(r.ok(), r.allDiagnostics().format().c_str());
        QCOMPARE(countOps(r.module, ir::OpKind::Permute), 0);
        QCOMPARE(countOps(r.module, ir::OpKind::Reshape) + countOps(r.module, ir::OpKind::Flatten), 1);
        QCOMPARE(countOps(r.module, ir::OpKind::Scale), 1);
        for (const auto& op : r.module.ops())
            if (op.kind == ir::OpKind::Scale)
                QCOMPARE(op.attrs.getFloat("factor"), 2.0);
        QCOMPARE(stat(r, 0, "constants-folded"), int64_t{1});
        checkEquivalent(b.m, r.module, 1e-6);
        RunResult again = runText(r.module, "canonicalize");
        QVERIFY(!again.records[0].changed); // fixed point
    }

    void canonicalizeKeepsSpikeScaleByOne()
    {
        // scale by 1 of a spike value changes its type to f32: kept.
        testutil::Builder b(6);
        ir::ValueId x = b.m.addInput({ir::ElemType::F32, {3}, ir::TimeKind::Invariant}, "x");
        ir::ValueId s = b.scale(b.lif(b.encode(x)), 1.0);
        b.m.addOutput({b.meanTime(s)});
        RunResult r = runText(b.m, "canonicalize");
        QVERIFY(r.ok());
        QCOMPARE(countOps(r.module, ir::OpKind::Scale), 1);
    }

    void spikformerCanonicalize()
    {
        for (bool linear : {false, true}) {
            const ir::Module m = testutil::attentionNet(linear);
            RunResult r = runText(m, "fold-bn,canonicalize,dce");
            QVERIFY2(r.ok(), r.allDiagnostics().format().c_str());
            QVERIFY(countOps(r.module, ir::OpKind::Permute) <= countOps(m, ir::OpKind::Permute));
            checkEquivalent(m, r.module, 1e-5);
        }
    }
};

QTEST_GUILESS_MAIN(TestPassFoldBn)
#include "test_pass_fold_bn.moc"

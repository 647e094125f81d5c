// prune: magnitude, channel and head modes on modules built in code.
#include "ir/verifier.h"
#include "passes/runner.h"
#include "test_pass_util.h"

#include <QtTest>

using namespace stc;
using namespace stc::passes;

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

const ir::Tensor& weightOf(const ir::Module& m, const std::string& layer)
{
    const ir::Op& op = m.definingOp(m.findValue(layer));
    return *m.definingOp(op.operands[1]).constant;
}

int64_t zeros(const ir::Tensor& t)
{
    int64_t z = 0;
    for (int64_t i = 0; i < t.numElements(); ++i)
        z += t.at(i) == 0.0;
    return z;
}

std::vector<int64_t> zeroRows(const ir::Tensor& t)
{
    std::vector<int64_t> rows;
    const int64_t per = t.numElements() / t.shape()[0];
    for (int64_t r = 0; r < t.shape()[0]; ++r) {
        bool all = true;
        for (int64_t k = 0; k < per; ++k)
            all = all && t.at(r * per + k) == 0.0;
        if (all)
            rows.push_back(r);
    }
    return rows;
}

} // namespace

class TestPassPrune : public QObject {
    Q_OBJECT
private slots:
    void magnitude()
    {
        const ir::Module m = testutil::convNet();
        const ir::Module copy = m;
        RunResult r = runText(m, "prune{sparsity=0.5 skip-float-input=false}");
        QVERIFY2(r.ok(), r.allDiagnostics().format().c_str());
        QVERIFY(m.sameAs(copy)); // the input's (shared) constants are not touched
        for (const char* layer : {"conv", "fc1", "head"}) {
            const ir::Tensor& w = weightOf(r.module, layer);
            QCOMPARE(zeros(w), (w.numElements() + 1) / 2);
            // Every zeroed weight was no larger than every kept one.
            const ir::Tensor& orig = weightOf(m, layer);
            double maxZeroed = 0, minKept = 1e9;
            for (int64_t i = 0; i < w.numElements(); ++i) {
                if (w.at(i) == 0.0)
                    maxZeroed = std::max(maxZeroed, std::fabs(orig.at(i)));
                else
                    minKept = std::min(minKept, std::fabs(orig.at(i)));
            }
            QVERIFY(maxZeroed <= minKept);
        }
        const auto& s = r.records[0].stats;
        QCOMPARE(s.getInt("layers"), int64_t{3});
        QCOMPARE(s.getInt("weights-total"), int64_t{36 + 1024 + 160});
        QCOMPARE(s.getInt("weights-zeroed"), int64_t{18 + 512 + 80});
        QCOMPARE(s.getFloat("sparsity-achieved"), 0.5);
        QCOMPARE(s.getInt("synaptic-bytes-saved"), int64_t{610});
        QVERIFY(!ir::verify(r.module).hasErrors());
    }

    void magnitudeSkipsFloatInputLayersAndCountsBits()
    {
        const ir::Module m = testutil::convNet();
        RunResult r = runText(m, "prune{sparsity=0.25 weight-bits=4}");
        QVERIFY(r.ok());
        const auto& s = r.records[0].stats;
        QCOMPARE(s.getInt("layers"), int64_t{2}); // fc1 and head take spikes; conv takes pixels
        QCOMPARE(zeros(weightOf(r.module, "conv")), int64_t{0});
        QCOMPARE(s.getInt("weights-zeroed"), int64_t{256 + 40});
        QCOMPARE(s.getInt("synaptic-bytes-saved"), int64_t{148});
        QCOMPARE(s.getInt("synaptic-bytes-before"), int64_t{592});
    }

    void zeroSparsityChangesNothing()
    {
        const ir::Module m = testutil::convNet();
        RunResult r = runText(m, "prune{sparsity=0}");
        QVERIFY(r.ok());
        QVERIFY(!r.records[0].changed);
    }

    void channel()
    {
        const ir::Module m = testutil::attentionNet(false);
        RunResult r = runText(m, "fold-bn,prune{mode=channel sparsity=0.25}");
        QVERIFY2(r.ok(), r.allDiagnostics().format().c_str());
        QCOMPARE(r.records[1].stats.getInt("channels-pruned"), int64_t{4 * 2}); // q,k,v,proj x 2 of 8
        for (const char* layer : {"q.conv", "k.conv", "v.conv", "proj.conv"})
            QCOMPARE(int(zeroRows(weightOf(r.module, layer)).size()), 2);
        QCOMPARE(r.records[1].stats.getFloat("sparsity-achieved"), 0.25);
    }

    void heads_data()
    {
        QTest::addColumn<bool>("linear");
        QTest::newRow("conv1d") << false;
        QTest::newRow("linear") << true;
    }
    void heads()
    {
        QFETCH(bool, linear);
        const ir::Module m = testutil::attentionNet(linear);
        RunResult r = runText(m, "fold-bn,prune{mode=head sparsity=0.5}");
        QVERIFY2(r.ok(), r.allDiagnostics().format().c_str());
        const auto& s = r.records[1].stats;
        QCOMPARE(s.getInt("attention-blocks"), int64_t{1});
        QCOMPARE(s.getInt("heads-total"), int64_t{2});
        QCOMPARE(s.getInt("heads-pruned"), int64_t{1});
        std::vector<int64_t> expected;
        for (const char* n : {"q", "k", "v"}) {
            const std::string layer = std::string(n) + (linear ? ".linear" : ".conv");
            const auto rows = zeroRows(weightOf(r.module, layer));
            QCOMPARE(int(rows.size()), 4); // one head of 4 channels
            if (expected.empty())
                expected = rows;
            QCOMPARE(rows, expected); // the same head in q, k and v
            QVERIFY(rows == std::vector<int64_t>({0, 1, 2, 3}) || rows == std::vector<int64_t>({4, 5, 6, 7}));
        }
        QVERIFY(zeroRows(weightOf(r.module, "proj.conv")).empty());
        // The pruned head's attention output is zero at every step.
        const auto in = testutil::randomInputs(r.module, 4, 1);
        const ir::ValueId attnV = r.module.findValue("attn_v");
        interp::RunOptions opt;
        const int64_t head = expected[0] / 4;
        double sum = 0;
        opt.observe = [&](int, ir::ValueId v, std::span<const float> data) {
            if (v != attnV)
                return;
            for (size_t b = 0; b < 4; ++b)
                for (size_t i = 0; i < 24; ++i)
                    sum += std::fabs(data[b * 48 + size_t(head) * 24 + i]);
        };
        QVERIFY(interp::run(r.module, in, opt).ok());
        QCOMPARE(sum, 0.0);
    }
};

QTEST_GUILESS_MAIN(TestPassPrune)
#include "test_pass_prune.moc"

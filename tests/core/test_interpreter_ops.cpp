// Reference interpreter: one op at a time against hand-computed values, plus
// GEMM-based ops against naive loops on small-integer data (exact in float).
#include "interp/gemm.h"
#include "interp/thread_pool.h"
#include "interp_test_util.h"

#include <cmath>
#include <limits>

using namespace stc;
using namespace stc::test;

namespace {

struct Operand {
    ir::Shape shape;
    std::vector<float> values;
};

struct OpCase {
    OpKind kind = OpKind::Add;
    Operand x;                  // the model input
    std::vector<Operand> consts; // further operands, as constants
    ir::Attributes attrs;
    ir::Shape yShape; // per sample
    std::vector<float> y;
};

// Runs x -> op(x, consts...) for `batch` copies of x and checks every sample.
void checkCase(const OpCase& c, int64_t batch = 1, int threads = 1)
{
    TestModule tm;
    std::vector<ir::ValueId> operands{tm.input(c.x.shape, "x")};
    for (const auto& k : c.consts)
        operands.push_back(tm.constant(k.shape, k.values));
    const ir::ValueId y = tm.op(c.kind, operands, c.attrs, "y");
    QVERIFY2(tm.error.empty(), tm.error.c_str());
    QCOMPARE(tm.m.typeOf(y).shape, c.yShape);
    tm.output({y});
    std::vector<float> in;
    for (int64_t b = 0; b < batch; ++b)
        in.insert(in.end(), c.x.values.begin(), c.x.values.end());
    const interp::RunResult r = runOne(tm, in, batch, threads);
    QVERIFY2(r.ok(), r.error.c_str());
    QCOMPARE(r.outputs.size(), size_t(1));
    ir::Shape want{batch};
    want.insert(want.end(), c.yShape.begin(), c.yShape.end());
    QCOMPARE(r.outputShapes[0], want);
    const auto n = c.y.size();
    for (int64_t b = 0; b < batch; ++b)
        STC_COMPARE_FLOATS(std::vector<float>(r.outputs[0].begin() + b * n, r.outputs[0].begin() + (b + 1) * n), c.y);
}

std::vector<float> naiveConv2d(const std::vector<float>& x, int64_t C, int64_t H, int64_t W, const std::vector<float>& w,
                               int64_t O, int64_t KH, int64_t KW, const std::vector<float>& bias, int64_t sh,
                               int64_t sw, int64_t ph, int64_t pw, int64_t dh, int64_t dw, int64_t g, int64_t OH,
                               int64_t OW)
{
    std::vector<float> y(size_t(O * OH * OW));
    const int64_t cg = C / g, og = O / g;
    for (int64_t o = 0; o < O; ++o)
        for (int64_t oy = 0; oy < OH; ++oy)
            for (int64_t ox = 0; ox < OW; ++ox) {
                double s = bias.empty() ? 0.0 : bias[size_t(o)];
                const int64_t grp = o / og;
                for (int64_t c = 0; c < cg; ++c)
                    for (int64_t i = 0; i < KH; ++i)
                        for (int64_t j = 0; j < KW; ++j) {
                            const int64_t iy = oy * sh - ph + i * dh, ix = ox * sw - pw + j * dw;
                            if (iy < 0 || iy >= H || ix < 0 || ix >= W)
                                continue;
                            s += double(x[size_t(((grp * cg + c) * H + iy) * W + ix)]) *
                                 w[size_t(((o * cg + c) * KH + i) * KW + j)];
                        }
                y[size_t((o * OH + oy) * OW + ox)] = float(s);
            }
    return y;
}

std::vector<float> naiveMatMul(const std::vector<float>& a, const std::vector<float>& b, int64_t n, int64_t k,
                               int64_t m)
{
    std::vector<float> y(size_t(n * m));
    for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j < m; ++j) {
            double s = 0;
            for (int64_t q = 0; q < k; ++q)
                s += double(a[size_t(i * k + q)]) * b[size_t(q * m + j)];
            y[size_t(i * m + j)] = float(s);
        }
    return y;
}

} // namespace

Q_DECLARE_METATYPE(OpCase)

class TestInterpreterOps : public QObject {
    Q_OBJECT

private slots:
    void conv2d_data();
    void conv2d();
    void conv2dRandom_data();
    void conv2dRandom();
    void conv1d_data();
    void conv1d();
    void linear_data();
    void linear();
    void linearRandomBatched();
    void batchnorm_data();
    void batchnorm();
    void batchnormRounding();
    void maxpool_data();
    void maxpool();
    void avgpool_data();
    void avgpool();
    void matmul_data();
    void matmul();
    void matmulRandom();
    void gemm_data();
    void gemm();
    void elementwise_data();
    void elementwise();
    void reduce_data();
    void reduce();
    void permute_data();
    void permute();
    void reshapeAndFlatten();
};

// ---------------------------------------------------------------- conv2d

void TestInterpreterOps::conv2d_data()
{
    QTest::addColumn<OpCase>("c");
    const auto k = OpKind::Conv2d;
    // 1..9 in a 3x3 image, 2x2 box filter: sums of the 4 neighbours.
    QTest::newRow("2x2 box") << OpCase{k, {{1, 3, 3}, iota(9)}, {{{1, 1, 2, 2}, {1, 1, 1, 1}}}, {}, {1, 2, 2},
                                       {12, 16, 24, 28}};
    // 3x3 box, stride 2, padding 1: windows centred on the corners, plus bias.
    QTest::newRow("stride 2 pad 1 bias")
        << OpCase{k,
                  {{1, 3, 3}, iota(9)},
                  {{{1, 1, 3, 3}, std::vector<float>(9, 1.0f)}, {{1}, {0.5f}}},
                  attrs({{"stride", ir::IntList{2, 2}}, {"padding", ir::IntList{1, 1}}}),
                  {1, 2, 2},
                  {12.5f, 16.5f, 24.5f, 28.5f}};
    // Dilation 2: the 2x2 kernel touches the four corners: 1*1 + 2*3 + 3*7 + 4*9.
    QTest::newRow("dilation 2") << OpCase{k,
                                          {{1, 3, 3}, iota(9)},
                                          {{{1, 1, 2, 2}, {1, 2, 3, 4}}},
                                          attrs({{"dilation", ir::IntList{2, 2}}}),
                                          {1, 1, 1},
                                          {64}};
    // Depthwise (groups 2), 1x1: each channel scaled by its own weight.
    QTest::newRow("groups 2 pointwise") << OpCase{k,
                                                  {{2, 2, 2}, iota(8)},
                                                  {{{2, 1, 1, 1}, {2, -1}}},
                                                  attrs({{"groups", int64_t(2)}}),
                                                  {2, 2, 2},
                                                  {2, 4, 6, 8, -5, -6, -7, -8}};
    // Two in, two out channels, 1x1: o0 = c0 + c1, o1 = c0 - c1 + 10.
    QTest::newRow("channel mixing") << OpCase{k,
                                              {{2, 2, 2}, iota(8)},
                                              {{{2, 2, 1, 1}, {1, 1, 1, -1}}, {{2}, {0, 10}}},
                                              {},
                                              {2, 2, 2},
                                              {6, 8, 10, 12, 6, 6, 6, 6}};
    // 1x2 kernel [1, 10], stride (1,2), padding (0,1): rows [1 2 3], [4 5 6].
    QTest::newRow("asymmetric stride/padding")
        << OpCase{k,
                  {{1, 2, 3}, iota(6)},
                  {{{1, 1, 1, 2}, {1, 10}}},
                  attrs({{"stride", ir::IntList{1, 2}}, {"padding", ir::IntList{0, 1}}}),
                  {1, 2, 2},
                  {10, 32, 40, 65}};
    // Grouped 3x3 with padding: group 0 sums channel 0, group 1 takes the centre of channel 1 times 2.
    std::vector<float> w(2 * 1 * 9, 0.0f);
    for (int i = 0; i < 9; ++i)
        w[size_t(i)] = 1;
    w[9 + 4] = 2;
    QTest::newRow("groups 2 3x3 pad 1") << OpCase{k,
                                                  {{2, 2, 2}, iota(8)},
                                                  {{{2, 1, 3, 3}, w}},
                                                  attrs({{"padding", ir::IntList{1, 1}}, {"groups", int64_t(2)}}),
                                                  {2, 2, 2},
                                                  {10, 10, 10, 10, 10, 12, 14, 16}};
}

void TestInterpreterOps::conv2d()
{
    QFETCH(OpCase, c);
    checkCase(c);
    checkCase(c, 3, 2);
}

void TestInterpreterOps::conv2dRandom_data()
{
    QTest::addColumn<QList<qint64>>("g"); // C H W O KH KW sh sw ph pw dh dw groups bias
    QTest::newRow("3x3 same") << QList<qint64>{4, 9, 11, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1};
    QTest::newRow("stem 1->16 28x28") << QList<qint64>{1, 28, 28, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 0};
    QTest::newRow("stride 2 no pad") << QList<qint64>{3, 10, 13, 7, 3, 3, 2, 2, 0, 0, 1, 1, 1, 1};
    QTest::newRow("5x5 dilated") << QList<qint64>{2, 12, 12, 5, 3, 3, 1, 2, 2, 1, 2, 3, 1, 1};
    QTest::newRow("grouped 6/3") << QList<qint64>{6, 7, 7, 9, 3, 3, 1, 1, 1, 1, 1, 1, 3, 1};
    QTest::newRow("depthwise") << QList<qint64>{5, 6, 6, 5, 3, 3, 1, 1, 1, 1, 1, 1, 5, 0};
    QTest::newRow("1x1 many channels") << QList<qint64>{70, 3, 5, 33, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1};
    QTest::newRow("K > 256 (k blocking)") << QList<qint64>{40, 6, 6, 13, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1};
    QTest::newRow("1x1 stride 2") << QList<qint64>{3, 8, 8, 4, 1, 1, 2, 2, 0, 0, 1, 1, 1, 0};
}

void TestInterpreterOps::conv2dRandom()
{
    QFETCH(QList<qint64>, g);
    const int64_t C = g[0], H = g[1], W = g[2], O = g[3], KH = g[4], KW = g[5], sh = g[6], sw = g[7], ph = g[8],
                  pw = g[9], dh = g[10], dw = g[11], groups = g[12];
    const bool hasBias = g[13] != 0;
    const int64_t OH = (H + 2 * ph - dh * (KH - 1) - 1) / sh + 1, OW = (W + 2 * pw - dw * (KW - 1) - 1) / sw + 1;
    const auto w = smallInts(O * (C / groups) * KH * KW, 7);
    const auto bias = hasBias ? smallInts(O, 8) : std::vector<float>{};
    TestModule tm;
    const ir::ValueId x = tm.input({C, H, W});
    std::vector<ir::ValueId> ops{x, tm.constant({O, C / groups, KH, KW}, w)};
    if (hasBias)
        ops.push_back(tm.constant({O}, bias));
    const ir::ValueId y = tm.op(OpKind::Conv2d, ops,
                                attrs({{"stride", ir::IntList{sh, sw}},
                                       {"padding", ir::IntList{ph, pw}},
                                       {"dilation", ir::IntList{dh, dw}},
                                       {"groups", groups}}));
    QVERIFY2(tm.error.empty(), tm.error.c_str());
    QCOMPARE(tm.m.typeOf(y).shape, (ir::Shape{O, OH, OW}));
    tm.output({y});
    const int64_t batch = 3;
    const auto in = smallInts(batch * C * H * W, 9);
    for (int threads : {1, 2}) {
        const auto r = runOne(tm, in, batch, threads);
        QVERIFY2(r.ok(), r.error.c_str());
        for (int64_t b = 0; b < batch; ++b) {
            const std::vector<float> xb(in.begin() + b * C * H * W, in.begin() + (b + 1) * C * H * W);
            const auto want = naiveConv2d(xb, C, H, W, w, O, KH, KW, bias, sh, sw, ph, pw, dh, dw, groups, OH, OW);
            STC_COMPARE_FLOATS(std::vector<float>(r.outputs[0].begin() + b * O * OH * OW,
                                                  r.outputs[0].begin() + (b + 1) * O * OH * OW),
                               want);
        }
    }
}

// ---------------------------------------------------------------- conv1d

void TestInterpreterOps::conv1d_data()
{
    QTest::addColumn<OpCase>("c");
    const auto k = OpKind::Conv1d;
    // [1 2 3 4 5] * [1 0 -1], padding 1, stride 2: [0-2, 2-4, 4-0].
    QTest::newRow("stride 2 pad 1") << OpCase{k,
                                              {{1, 5}, iota(5)},
                                              {{{1, 1, 3}, {1, 0, -1}}},
                                              attrs({{"stride", ir::IntList{2}}, {"padding", ir::IntList{1}}}),
                                              {1, 3},
                                              {-2, -2, 4}};
    QTest::newRow("dilation 3") << OpCase{k,
                                          {{1, 5}, iota(5)},
                                          {{{1, 1, 2}, {1, 1}}},
                                          attrs({{"dilation", ir::IntList{3}}}),
                                          {1, 2},
                                          {5, 7}};
    // Spikformer q/k/v: kernel 1 over [C, N] tokens, with bias.
    QTest::newRow("kernel 1 (token mixing)") << OpCase{k,
                                                       {{2, 3}, iota(6)},
                                                       {{{2, 2, 1}, {1, 1, 0, 2}}, {{2}, {0, 0.25f}}},
                                                       {},
                                                       {2, 3},
                                                       {5, 7, 9, 8.25f, 10.25f, 12.25f}};
    QTest::newRow("groups 2") << OpCase{k,
                                        {{2, 3}, iota(6)},
                                        {{{2, 1, 2}, {1, 1, 1, -1}}},
                                        attrs({{"groups", int64_t(2)}}),
                                        {2, 2},
                                        {3, 5, -1, -1}};
}

void TestInterpreterOps::conv1d()
{
    QFETCH(OpCase, c);
    checkCase(c);
    checkCase(c, 2, 2);
}

// ---------------------------------------------------------------- linear

void TestInterpreterOps::linear_data()
{
    QTest::addColumn<OpCase>("c");
    const auto k = OpKind::Linear;
    const Operand w{{2, 3}, {1, 0, -1, 2, 1, 0}};
    const Operand b{{2}, {0.5f, -1}};
    QTest::newRow("vector") << OpCase{k, {{3}, {1, 2, 3}}, {w, b}, {}, {2}, {-1.5f, 3}};
    QTest::newRow("tokens x features") << OpCase{k, {{2, 3}, iota(6)}, {w, b}, {}, {2, 2}, {-1.5f, 3, -1.5f, 12}};
    QTest::newRow("two leading dims, no bias")
        << OpCase{k, {{2, 1, 3}, iota(6)}, {w}, {}, {2, 1, 2}, {-2, 4, -2, 13}};
}

void TestInterpreterOps::linear()
{
    QFETCH(OpCase, c);
    checkCase(c);
    checkCase(c, 5, 2);
}

void TestInterpreterOps::linearRandomBatched()
{
    // Many rows (batch x tokens) split over threads, odd sizes for edge tiles.
    const int64_t tokens = 49, in = 37, out = 19, batch = 7;
    const auto w = smallInts(out * in, 1), bias = smallInts(out, 2), x = smallInts(batch * tokens * in, 3);
    TestModule tm;
    const ir::ValueId y =
        tm.op(OpKind::Linear, {tm.input({tokens, in}), tm.constant({out, in}, w), tm.constant({out}, bias)});
    tm.output({y});
    QVERIFY2(tm.error.empty(), tm.error.c_str());
    std::vector<float> wt(size_t(in * out));
    for (int64_t i = 0; i < in; ++i)
        for (int64_t j = 0; j < out; ++j)
            wt[size_t(i * out + j)] = w[size_t(j * in + i)];
    auto want = naiveMatMul(x, wt, batch * tokens, in, out);
    for (int64_t r = 0; r < batch * tokens; ++r)
        for (int64_t j = 0; j < out; ++j)
            want[size_t(r * out + j)] += bias[size_t(j)];
    for (int threads : {1, 2}) {
        const auto r = runOne(tm, x, batch, threads);
        QVERIFY2(r.ok(), r.error.c_str());
        STC_COMPARE_FLOATS(r.outputs[0], want);
    }
}

// ---------------------------------------------------------------- batchnorm

void TestInterpreterOps::batchnorm_data()
{
    QTest::addColumn<OpCase>("c");
    const auto k = OpKind::BatchNorm;
    // ch0: alpha = 1/sqrt(4) * 2 = 1, beta' = 0.5 - 1 * 1 = -0.5; ch1: alpha = 1/0.5 * 1 = 2, beta' = 0 + 1 * 2 = 2.
    const std::vector<Operand> stats = {{{2}, {1, -1}}, {{2}, {4, 0.25f}}, {{2}, {2, 1}}, {{2}, {0.5f, 0}}};
    QTest::newRow("axis 0 [C,N]") << OpCase{k, {{2, 2}, {3, 5, 0, 1}}, stats, attrs({{"eps", 0.0}}), {2, 2},
                                            {2.5f, 4.5f, 2, 4}};
    QTest::newRow("axis -1 [N,C]") << OpCase{k,
                                             {{3, 2}, {3, 0, 5, 1, 1, -1}},
                                             stats,
                                             attrs({{"eps", 0.0}, {"axis", int64_t(-1)}}),
                                             {3, 2},
                                             {2.5f, 2, 4.5f, 4, 0.5f, 0}};
    QTest::newRow("[C,H,W]") << OpCase{k, {{2, 1, 2}, {3, 5, 0, 1}}, stats, attrs({{"eps", 0.0}}), {2, 1, 2},
                                       {2.5f, 4.5f, 2, 4}};
}

void TestInterpreterOps::batchnorm()
{
    QFETCH(OpCase, c);
    checkCase(c);
    checkCase(c, 2, 2);
}

void TestInterpreterOps::batchnormRounding()
{
    // ATen's eval formula rounds differently from (x - mean) / sqrt(var + eps) * gamma + beta;
    // the interpreter must produce ATen's bits: alpha = (1 / sqrt(var + eps)) * gamma,
    // beta' = beta - mean * alpha, y = x * alpha + beta'.
    const float mean = 0.3f, var = 0.7f, gamma = 1.3f, beta = -0.2f;
    const double eps = 1e-5;
    const auto xs = uniform(64, 5, -3.0f, 3.0f);
    std::vector<float> want;
    int differs = 0;
    for (float x : xs) {
        const float alpha = (1.0f / std::sqrt(var + float(eps))) * gamma;
        const float b2 = beta - mean * alpha;
        const float y = x * alpha + b2;
        want.push_back(y);
        const float naive = (x - mean) / std::sqrt(var + float(eps)) * gamma + beta;
        differs += naive != y;
    }
    QVERIFY(differs > 0); // the test data do tell the two formulas apart
    OpCase c{OpKind::BatchNorm, {{64}, xs}, {{{64}, std::vector<float>(64, mean)}, {{64}, std::vector<float>(64, var)},
                                             {{64}, std::vector<float>(64, gamma)}, {{64}, std::vector<float>(64, beta)}},
             attrs({{"eps", eps}}), {64}, want};
    checkCase(c);
}

// ---------------------------------------------------------------- pooling

void TestInterpreterOps::maxpool_data()
{
    QTest::addColumn<OpCase>("c");
    const auto k = OpKind::MaxPool2d;
    QTest::newRow("3x3 s2 p1 (Spikformer SPS)")
        << OpCase{k,
                  {{1, 4, 4}, iota(16)},
                  {},
                  attrs({{"kernel", ir::IntList{3, 3}}, {"stride", ir::IntList{2, 2}}, {"padding", ir::IntList{1, 1}}}),
                  {1, 2, 2},
                  {6, 8, 14, 16}};
    QTest::newRow("ceil_mode 5x5 k2") << OpCase{k,
                                                {{1, 5, 5}, iota(25)},
                                                {},
                                                attrs({{"kernel", ir::IntList{2, 2}}, {"ceil_mode", true}}),
                                                {1, 3, 3},
                                                {7, 9, 10, 17, 19, 20, 22, 24, 25}};
    QTest::newRow("dilation 2") << OpCase{k,
                                          {{1, 4, 4}, iota(16)},
                                          {},
                                          attrs({{"kernel", ir::IntList{2, 2}},
                                                 {"stride", ir::IntList{1, 1}},
                                                 {"dilation", ir::IntList{2, 2}}}),
                                          {1, 2, 2},
                                          {11, 12, 15, 16}};
    // Padding is -inf, not 0: all-negative input keeps its values.
    QTest::newRow("padding is -inf") << OpCase{k,
                                               {{1, 2, 2}, {-1, -2, -3, -4}},
                                               {},
                                               attrs({{"kernel", ir::IntList{2, 2}},
                                                      {"stride", ir::IntList{1, 1}},
                                                      {"padding", ir::IntList{1, 1}}}),
                                               {1, 3, 3},
                                               {-1, -1, -2, -1, -1, -2, -3, -3, -4}};
    QTest::newRow("two channels") << OpCase{k,
                                            {{2, 2, 2}, {1, 5, 2, 0, -1, -7, -3, -2}},
                                            {},
                                            attrs({{"kernel", ir::IntList{2}}}),
                                            {2, 1, 1},
                                            {5, -1}};
    const float nan = std::numeric_limits<float>::quiet_NaN();
    QTest::newRow("NaN propagates") << OpCase{k, {{1, 2, 2}, {1, nan, 3, 2}}, {}, attrs({{"kernel", ir::IntList{2}}}),
                                              {1, 1, 1}, {nan}};
}

void TestInterpreterOps::maxpool()
{
    QFETCH(OpCase, c);
    checkCase(c);
    checkCase(c, 3, 2);
}

void TestInterpreterOps::avgpool_data()
{
    QTest::addColumn<OpCase>("c");
    const auto k = OpKind::AvgPool2d;
    const auto a3 = [](ir::Attributes extra) {
        extra.set("kernel", ir::IntList{3, 3});
        extra.set("stride", ir::IntList{2, 2});
        extra.set("padding", ir::IntList{1, 1});
        return extra;
    };
    // Window sums over 1..16 (4x4): 14, 30, 57, 99 with 4, 6, 6, 9 real elements.
    QTest::newRow("count_include_pad") << OpCase{k, {{1, 4, 4}, iota(16)}, {}, a3({}), {1, 2, 2},
                                                 {14.0f / 9, 30.0f / 9, 57.0f / 9, 11}};
    QTest::newRow("exclude pad") << OpCase{k, {{1, 4, 4}, iota(16)}, {}, a3(attrs({{"count_include_pad", false}})),
                                           {1, 2, 2}, {3.5f, 5, 9.5f, 11}};
    QTest::newRow("divisor_override 2") << OpCase{k, {{1, 4, 4}, iota(16)}, {},
                                                  a3(attrs({{"divisor_override", int64_t(2)}})), {1, 2, 2},
                                                  {7, 15, 28.5f, 49.5f}};
    // ceil_mode without padding: windows hanging over the edge divide by their clipped size.
    QTest::newRow("ceil_mode 5x5 k2") << OpCase{k,
                                                {{1, 5, 5}, iota(25)},
                                                {},
                                                attrs({{"kernel", ir::IntList{2, 2}}, {"ceil_mode", true}}),
                                                {1, 3, 3},
                                                {4, 6, 7.5f, 14, 16, 17.5f, 21.5f, 23.5f, 25}};
    // ceil_mode with padding: a last window that would start in the right padding is dropped
    // (5 wide, k2 s2 p1: 3 windows, not 4); the others divide by the size clipped to input+padding.
    QTest::newRow("ceil_mode drops window in right padding")
        << OpCase{k,
                  {{1, 1, 5}, iota(5)},
                  {},
                  attrs({{"kernel", ir::IntList{1, 2}},
                         {"stride", ir::IntList{1, 2}},
                         {"padding", ir::IntList{0, 1}},
                         {"ceil_mode", true}}),
                  {1, 1, 3},
                  {0.5f, 2.5f, 4.5f}};
    // ceil_mode with padding, last window reaching past the right padding: divisor clipped to input+padding.
    QTest::newRow("ceil_mode k3 s2 p1")
        << OpCase{k,
                  {{1, 1, 4}, iota(4)},
                  {},
                  attrs({{"kernel", ir::IntList{1, 3}},
                         {"stride", ir::IntList{1, 2}},
                         {"padding", ir::IntList{0, 1}},
                         {"ceil_mode", true}}),
                  {1, 1, 3},
                  {1, 3, 2}};
    QTest::newRow("ceil_mode k3 s2 p1 exclude pad")
        << OpCase{k,
                  {{1, 1, 4}, iota(4)},
                  {},
                  attrs({{"kernel", ir::IntList{1, 3}},
                         {"stride", ir::IntList{1, 2}},
                         {"padding", ir::IntList{0, 1}},
                         {"ceil_mode", true},
                         {"count_include_pad", false}}),
                  {1, 1, 3},
                  {1.5f, 3, 4}};
}

void TestInterpreterOps::avgpool()
{
    QFETCH(OpCase, c);
    checkCase(c);
    checkCase(c, 2, 2);
}

// ---------------------------------------------------------------- matmul

void TestInterpreterOps::matmul_data()
{
    QTest::addColumn<OpCase>("c");
    const auto k = OpKind::MatMul;
    const Operand b{{3, 2}, {1, 0, 0, 1, 1, 1}};
    // a0 = [[1 2 3] [4 5 6]], a1 = [[1 0 0] [0 1 0]], b broadcast over the leading dim.
    QTest::newRow("b broadcast") << OpCase{k,
                                           {{2, 2, 3}, {1, 2, 3, 4, 5, 6, 1, 0, 0, 0, 1, 0}},
                                           {b},
                                           {},
                                           {2, 2, 2},
                                           {4, 5, 10, 11, 1, 0, 0, 1}};
    // a [1,2,2] broadcast against b [2,2,2].
    QTest::newRow("a broadcast") << OpCase{k,
                                           {{1, 2, 2}, {1, 2, 3, 4}},
                                           {{{2, 2, 2}, {1, 0, 0, 1, 0, 1, 1, 0}}},
                                           {},
                                           {2, 2, 2},
                                           {1, 2, 3, 4, 2, 1, 4, 3}};
    // [2,1,1,2] @ [3,2,1]: leading dims [2,1] x [3] -> [2,3].
    QTest::newRow("both broadcast") << OpCase{k,
                                              {{2, 1, 1, 2}, {1, 2, 3, 4}},
                                              {{{3, 2, 1}, {1, 0, 0, 1, 1, 1}}},
                                              {},
                                              {2, 3, 1, 1},
                                              {1, 2, 3, 3, 4, 7}};
    QTest::newRow("plain 2-D") << OpCase{k, {{1, 3}, {1, 2, 3}}, {b}, {}, {1, 2}, {4, 5}};
}

void TestInterpreterOps::matmul()
{
    QFETCH(OpCase, c);
    checkCase(c);
    checkCase(c, 4, 2);
}

void TestInterpreterOps::matmulRandom()
{
    // Attention-like: q[H,N,d] @ kT[H,d,N] with both operands from the input, batch > threads.
    const int64_t H = 3, N = 13, d = 10;
    TestModule tm;
    const ir::ValueId x = tm.input({H, N, d});
    const ir::ValueId kt = tm.op(OpKind::Permute, {x}, attrs({{"perm", ir::IntList{0, 2, 1}}}));
    const ir::ValueId y = tm.op(OpKind::MatMul, {x, kt});
    tm.output({y});
    QVERIFY2(tm.error.empty(), tm.error.c_str());
    for (int64_t batch : {1, 5}) {
        const auto in = smallInts(batch * H * N * d, 11);
        std::vector<float> want;
        for (int64_t b = 0; b < batch; ++b)
            for (int64_t h = 0; h < H; ++h) {
                const std::vector<float> q(in.begin() + (b * H + h) * N * d, in.begin() + (b * H + h + 1) * N * d);
                std::vector<float> qt(size_t(N * d));
                for (int64_t i = 0; i < N; ++i)
                    for (int64_t j = 0; j < d; ++j)
                        qt[size_t(j * N + i)] = q[size_t(i * d + j)];
                const auto p = naiveMatMul(q, qt, N, d, N);
                want.insert(want.end(), p.begin(), p.end());
            }
        for (int threads : {1, 2}) {
            const auto r = runOne(tm, in, batch, threads);
            QVERIFY2(r.ok(), r.error.c_str());
            STC_COMPARE_FLOATS(r.outputs[0], want);
        }
    }
}

void TestInterpreterOps::gemm_data()
{
    QTest::addColumn<qint64>("m");
    QTest::addColumn<qint64>("n");
    QTest::addColumn<qint64>("k");
    QTest::addColumn<bool>("transposedB");
    QTest::newRow("1x1x1") << qint64(1) << qint64(1) << qint64(1) << false;
    QTest::newRow("exact tiles") << qint64(12) << qint64(16) << qint64(8) << false;
    QTest::newRow("edges") << qint64(7) << qint64(9) << qint64(5) << false;
    QTest::newRow("k blocked") << qint64(13) << qint64(29) << qint64(600) << false;
    QTest::newRow("many strips") << qint64(200) << qint64(300) << qint64(20) << true;
    QTest::newRow("k = 0") << qint64(3) << qint64(4) << qint64(0) << false;
}

void TestInterpreterOps::gemm()
{
    QFETCH(qint64, m);
    QFETCH(qint64, n);
    QFETCH(qint64, k);
    QFETCH(bool, transposedB);
    const auto a = smallInts(m * k, 21), b = smallInts(k * n, 22);
    std::vector<float> bt(size_t(k * n));
    for (int64_t i = 0; i < k; ++i)
        for (int64_t j = 0; j < n; ++j)
            bt[size_t(j * k + i)] = b[size_t(i * n + j)];
    const auto want = naiveMatMul(a, b, m, k, n);
    const interp::MatRef bref = transposedB ? interp::MatRef{bt.data(), 1, k} : interp::MatRef{b.data(), n, 1};
    std::vector<float> pa(size_t(interp::packedASize(m, k))), pb(size_t(interp::packedBSize(k, n)));
    interp::packA(m, k, interp::MatRef{a.data(), k, 1}, pa.data());
    interp::packB(k, n, bref, pb.data());
    interp::ThreadPool pool(2);
    for (interp::ThreadPool* p : {static_cast<interp::ThreadPool*>(nullptr), &pool}) {
        std::vector<float> c(size_t(m * n), 99.0f);
        interp::gemmPacked(m, n, k, pa.data(), pb.data(), c.data(), n, false, p);
        STC_COMPARE_FLOATS(c, want);
        // accumulate = C + A*B
        interp::gemmPacked(m, n, k, pa.data(), pb.data(), c.data(), n, true, p);
        std::vector<float> twice(want);
        for (auto& v : twice)
            v *= 2;
        STC_COMPARE_FLOATS(c, twice);
    }
    // Writing into a wider C (ldc > n) leaves the other columns alone.
    std::vector<float> wide(size_t(m * (n + 3)), -5.0f), sa, sb;
    interp::gemm(m, n, k, interp::MatRef{a.data(), k, 1}, bref, wide.data(), n + 3, false, sa, sb);
    for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n + 3; ++j)
            QCOMPARE(wide[size_t(i * (n + 3) + j)], j < n ? want[size_t(i * n + j)] : -5.0f);
}

// ---------------------------------------------------------------- element-wise

void TestInterpreterOps::elementwise_data()
{
    QTest::addColumn<OpCase>("c");
    QTest::newRow("add same shape") << OpCase{OpKind::Add, {{2, 2}, {1, 2, 3, 4}}, {{{2, 2}, {10, 20, 30, 40}}}, {},
                                              {2, 2}, {11, 22, 33, 44}};
    QTest::newRow("add row broadcast") << OpCase{OpKind::Add, {{2, 3}, iota(6)}, {{{3}, {10, 20, 30}}}, {}, {2, 3},
                                                 {11, 22, 33, 14, 25, 36}};
    QTest::newRow("add column broadcast") << OpCase{OpKind::Add, {{2, 3}, iota(6)}, {{{2, 1}, {100, 200}}}, {},
                                                    {2, 3}, {101, 102, 103, 204, 205, 206}};
    QTest::newRow("mul outer product") << OpCase{OpKind::Mul, {{2, 1}, {2, 3}}, {{{1, 3}, {1, 10, 100}}}, {}, {2, 3},
                                                 {2, 20, 200, 3, 30, 300}};
    QTest::newRow("mul scalar const") << OpCase{OpKind::Mul, {{3}, {1, -2, 0.5f}}, {{{}, {4}}}, {}, {3}, {4, -8, 2}};
    QTest::newRow("mul rank 3 middle broadcast")
        << OpCase{OpKind::Mul, {{2, 2, 2}, iota(8)}, {{{2, 1, 2}, {1, -1, 0, 2}}}, {}, {2, 2, 2},
                  {1, -2, 3, -4, 0, 12, 0, 16}};
    QTest::newRow("scale 0.125") << OpCase{OpKind::Scale, {{3}, {8, 1, -3}}, {}, attrs({{"factor", 0.125}}), {3},
                                           {1, 0.125f, -0.375f}};
    // The factor is rounded to float first: 0.1 * 3 in float32 is 0.3000000119...
    QTest::newRow("scale 0.1 in float") << OpCase{OpKind::Scale, {{1}, {3}}, {}, attrs({{"factor", 0.1}}), {1},
                                                  {3.0f * 0.1f}};
}

void TestInterpreterOps::elementwise()
{
    QFETCH(OpCase, c);
    checkCase(c);
    checkCase(c, 3, 2);
}

// ---------------------------------------------------------------- reductions

void TestInterpreterOps::reduce_data()
{
    QTest::addColumn<OpCase>("c");
    const Operand x{{2, 3}, iota(6)};
    QTest::newRow("mean last axis") << OpCase{OpKind::Mean, x, {}, attrs({{"axes", ir::IntList{1}}}), {2}, {2, 5}};
    QTest::newRow("mean axis 0 keepdim") << OpCase{OpKind::Mean, x, {},
                                                   attrs({{"axes", ir::IntList{0}}, {"keepdim", true}}), {1, 3},
                                                   {2.5f, 3.5f, 4.5f}};
    QTest::newRow("mean all (negative axes)") << OpCase{OpKind::Mean, x, {}, attrs({{"axes", ir::IntList{-1, -2}}}),
                                                        ir::Shape{}, {3.5f}};
    QTest::newRow("sum axis 0") << OpCase{OpKind::Sum, x, {}, attrs({{"axes", ir::IntList{0}}}), {3}, {5, 7, 9}};
    QTest::newRow("sum middle keepdim") << OpCase{OpKind::Sum, {{2, 2, 2}, iota(8)}, {},
                                                  attrs({{"axes", ir::IntList{1}}, {"keepdim", true}}), {2, 1, 2},
                                                  {4, 6, 12, 14}};
    // mean = float(sum) / float(count): 1/3 rounded once.
    QTest::newRow("mean rounding") << OpCase{OpKind::Mean, {{3}, {1, 0, 0}}, {}, attrs({{"axes", ir::IntList{0}}}),
                                             ir::Shape{}, {1.0f / 3.0f}};
}

void TestInterpreterOps::reduce()
{
    QFETCH(OpCase, c);
    checkCase(c);
    checkCase(c, 2, 2);
}

void TestInterpreterOps::permute_data()
{
    QTest::addColumn<OpCase>("c");
    QTest::newRow("transpose") << OpCase{OpKind::Permute, {{2, 3}, iota(6)}, {}, attrs({{"perm", ir::IntList{1, 0}}}),
                                         {3, 2}, {1, 4, 2, 5, 3, 6}};
    // [2,3,2] -> perm [2,0,1] -> [2,2,3]: y[k][i][j] = x[i][j][k].
    std::vector<float> want;
    for (int k = 0; k < 2; ++k)
        for (int i = 0; i < 2; ++i)
            for (int j = 0; j < 3; ++j)
                want.push_back(float((i * 3 + j) * 2 + k + 1));
    QTest::newRow("rank 3 rotate") << OpCase{OpKind::Permute, {{2, 3, 2}, iota(12)}, {},
                                             attrs({{"perm", ir::IntList{2, 0, 1}}}), {2, 2, 3}, want};
    QTest::newRow("identity") << OpCase{OpKind::Permute, {{2, 2}, iota(4)}, {}, attrs({{"perm", ir::IntList{0, 1}}}),
                                        {2, 2}, iota(4)};
}

void TestInterpreterOps::permute()
{
    QFETCH(OpCase, c);
    checkCase(c);
    checkCase(c, 3, 2);
}

void TestInterpreterOps::reshapeAndFlatten()
{
    TestModule tm;
    const ir::ValueId x = tm.input({2, 3, 4});
    const ir::ValueId f = tm.op(OpKind::Flatten, {x}, attrs({{"start", int64_t(1)}}));
    const ir::ValueId r = tm.op(OpKind::Reshape, {f}, attrs({{"shape", ir::IntList{4, -1}}}));
    const ir::ValueId s = tm.op(OpKind::Scale, {r}, attrs({{"factor", 2.0}}));
    tm.output({f, r, s, x});
    QVERIFY2(tm.error.empty(), tm.error.c_str());
    const auto in = iota(48);
    const auto res = runOne(tm, in, 2);
    QVERIFY2(res.ok(), res.error.c_str());
    QCOMPARE(res.outputShapes[0], (ir::Shape{2, 2, 12}));
    QCOMPARE(res.outputShapes[1], (ir::Shape{2, 4, 6}));
    QCOMPARE(res.outputShapes[3], (ir::Shape{2, 2, 3, 4}));
    STC_COMPARE_FLOATS(res.outputs[0], in);
    STC_COMPARE_FLOATS(res.outputs[1], in);
    STC_COMPARE_FLOATS(res.outputs[3], in);
    std::vector<float> doubled(in);
    for (auto& v : doubled)
        v *= 2;
    STC_COMPARE_FLOATS(res.outputs[2], doubled);
}

QTEST_GUILESS_MAIN(TestInterpreterOps)
#include "test_interpreter_ops.moc"

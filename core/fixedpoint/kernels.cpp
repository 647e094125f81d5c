#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O3") // the accumulation loops must vectorize (int32 adds over output channels)
#endif
// Integer kernels of the fixed-point executor. All arithmetic is exact: the
// static bounds (qmodel.cpp) keep every value inside int32.
#include "fixedpoint/program.h"

#include <algorithm>
#include <limits>

namespace stc::fixedpoint::detail {

namespace {

using ir::OpKind;

void conv(const Step& s, const std::vector<int32_t>& x, std::vector<int32_t>& y)
{
    const ConvGeom& g = s.g;
    const int64_t cg = g.C / g.groups, og = g.O / g.groups;
    std::vector<int32_t> acc(size_t(g.OH * g.OW * g.O), 0); // [oy][ox][o]
    for (int64_t c = 0; c < g.C; ++c) {
        const int64_t grp = c / cg, ci = c % cg, o0 = grp * og, o1 = o0 + og;
        for (int64_t iy = 0; iy < g.H; ++iy)
            for (int64_t ix = 0; ix < g.W; ++ix) {
                const int32_t xv = x[size_t((c * g.H + iy) * g.W + ix)];
                if (xv == 0)
                    continue;
                for (int64_t ky = 0; ky < g.KH; ++ky) {
                    const int64_t ny = iy + g.py - ky * g.dy;
                    if (ny < 0 || ny % g.sy)
                        continue;
                    const int64_t oy = ny / g.sy;
                    if (oy >= g.OH)
                        continue;
                    for (int64_t kx = 0; kx < g.KW; ++kx) {
                        const int64_t nx = ix + g.px - kx * g.dx;
                        if (nx < 0 || nx % g.sx)
                            continue;
                        const int64_t ox = nx / g.sx;
                        if (ox >= g.OW)
                            continue;
                        const int32_t* w = &s.wT[size_t(((ci * g.KH + ky) * g.KW + kx) * g.O)];
                        int32_t* a = &acc[size_t((oy * g.OW + ox) * g.O)];
                        if (xv == 1)
                            for (int64_t o = o0; o < o1; ++o)
                                a[o] += w[o];
                        else
                            for (int64_t o = o0; o < o1; ++o)
                                a[o] += w[o] * xv;
                    }
                }
            }
    }
    const int64_t plane = g.OH * g.OW;
    y.resize(size_t(g.O * plane));
    for (int64_t p = 0; p < plane; ++p)
        for (int64_t o = 0; o < g.O; ++o)
            y[size_t(o * plane + p)] = (acc[size_t(p * g.O + o)] << s.shift[size_t(o)]) + s.bias[size_t(o)];
}

void linear(const Step& s, const std::vector<int32_t>& x, std::vector<int32_t>& y)
{
    const int64_t O = int64_t(s.bias.size()), I = s.inFeatures;
    y.assign(size_t(s.rows * O), 0);
    for (int64_t r = 0; r < s.rows; ++r) {
        int32_t* a = &y[size_t(r * O)];
        for (int64_t i = 0; i < I; ++i) {
            const int32_t xv = x[size_t(r * I + i)];
            if (xv == 0)
                continue;
            const int32_t* w = &s.wT[size_t(i * O)];
            if (xv == 1)
                for (int64_t o = 0; o < O; ++o)
                    a[o] += w[o];
            else
                for (int64_t o = 0; o < O; ++o)
                    a[o] += w[o] * xv;
        }
        for (int64_t o = 0; o < O; ++o)
            a[o] = (a[o] << s.shift[size_t(o)]) + s.bias[size_t(o)];
    }
}

void matmul(const Step& s, const std::vector<int32_t>& a, const std::vector<int32_t>& b, std::vector<int32_t>& y)
{
    const int64_t batches = int64_t(s.batchA.size());
    y.assign(size_t(batches * s.n * s.mcols), 0);
    for (int64_t bt = 0; bt < batches; ++bt) {
        const int32_t* A = &a[size_t(s.batchA[size_t(bt)])];
        const int32_t* B = &b[size_t(s.batchB[size_t(bt)])];
        int32_t* Y = &y[size_t(bt * s.n * s.mcols)];
        for (int64_t i = 0; i < s.n; ++i)
            for (int64_t kk = 0; kk < s.k; ++kk) {
                const int32_t av = A[i * s.k + kk];
                if (av == 0)
                    continue;
                const int32_t* brow = B + kk * s.mcols;
                int32_t* yrow = Y + i * s.mcols;
                for (int64_t j = 0; j < s.mcols; ++j)
                    yrow[j] += av * brow[j];
            }
    }
}

void pool(const Step& s, const std::vector<int32_t>& x, std::vector<int32_t>& y, bool isMax)
{
    const ConvGeom& g = s.g;
    y.resize(size_t(g.C * g.OH * g.OW));
    for (int64_t c = 0; c < g.C; ++c)
        for (int64_t oy = 0; oy < g.OH; ++oy)
            for (int64_t ox = 0; ox < g.OW; ++ox) {
                int32_t best = isMax ? std::numeric_limits<int32_t>::min() : 0;
                for (int64_t ky = 0; ky < g.KH; ++ky) {
                    const int64_t iy = oy * g.sy - g.py + ky * g.dy;
                    if (iy < 0 || iy >= g.H)
                        continue;
                    for (int64_t kx = 0; kx < g.KW; ++kx) {
                        const int64_t ix = ox * g.sx - g.px + kx * g.dx;
                        if (ix < 0 || ix >= g.W)
                            continue;
                        const int32_t v = x[size_t((c * g.H + iy) * g.W + ix)];
                        best = isMax ? std::max(best, v) : best + v;
                    }
                }
                y[size_t((c * g.OH + oy) * g.OW + ox)] = best;
            }
}

} // namespace

void execStep(const Step& s, std::vector<std::vector<int32_t>>& vals, std::vector<int32_t>* u, std::vector<int32_t>* v,
              int64_t* spikeCount)
{
    std::vector<int32_t>& y = vals[size_t(s.out)];
    const std::vector<int32_t>& x = vals[size_t(s.in.empty() ? s.out : s.in[0])];
    switch (s.kind) {
    case OpKind::Conv1d:
    case OpKind::Conv2d: conv(s, x, y); break;
    case OpKind::Linear: linear(s, x, y); break;
    case OpKind::MatMul: matmul(s, x, vals[size_t(s.in[1])], y); break;
    case OpKind::MaxPool2d: pool(s, x, y, true); break;
    case OpKind::AvgPool2d: pool(s, x, y, false); break;
    case OpKind::Lif: {
        y.resize(x.size());
        int64_t n = 0;
        for (size_t i = 0; i < x.size(); ++i) {
            int32_t charged;
            const bool spike = neuronStep(s.neuron, (*u)[i], (*v)[i], x[i], charged);
            y[i] = s.membraneOut ? charged : int32_t(spike);
            n += spike;
        }
        *spikeCount += n;
        break;
    }
    case OpKind::Reshape:
    case OpKind::Flatten:
    case OpKind::Scale: y = x; break;
    case OpKind::Permute:
        y.resize(s.map0.size());
        for (size_t i = 0; i < s.map0.size(); ++i)
            y[i] = x[size_t(s.map0[i])];
        break;
    case OpKind::Add:
    case OpKind::Mul: {
        const std::vector<int32_t>& b = vals[size_t(s.in[1])];
        y.resize(s.map0.size());
        for (size_t i = 0; i < s.map0.size(); ++i) {
            const int32_t p = x[size_t(s.map0[i])], q = b[size_t(s.map1[i])];
            y[i] = s.kind == OpKind::Add ? (p << s.shift0) + (q << s.shift1) : p * q;
        }
        break;
    }
    case OpKind::Sum:
    case OpKind::Mean: {
        // map0: input index -> output index; the scale carries the 1/count of a mean.
        const int64_t outN = s.map1.empty() ? 0 : s.map1[0];
        y.assign(size_t(outN), 0);
        for (size_t i = 0; i < s.map0.size(); ++i)
            y[size_t(s.map0[i])] += x[i];
        break;
    }
    default: break;
    }
}

} // namespace stc::fixedpoint::detail

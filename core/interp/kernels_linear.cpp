#include "interp/kernels_linear.h"

#include "interp/gemm.h"

#include <algorithm>
#include <cstring>

namespace stc::interp::detail {

namespace {

int64_t ceilDivPos(int64_t a, int64_t b) { return a <= 0 ? 0 : (a + b - 1) / b; }

// col[(c*kh + i)*kw + j][oy*ow + ox] = x[c][oy*sh - ph + i*dh][ox*sw - pw + j*dw] (0 outside).
void im2col(const float* x, const ConvGeom& g, float* col)
{
    const int64_t npix = g.pixels();
    for (int64_t c = 0; c < g.cg(); ++c) {
        const float* xc = x + c * g.h * g.w;
        for (int64_t i = 0; i < g.kh; ++i) {
            for (int64_t j = 0; j < g.kw; ++j) {
                float* dst = col + ((c * g.kh + i) * g.kw + j) * npix;
                // Valid output columns: 0 <= ox*sw - pw + j*dw < w.
                const int64_t off = j * g.dw - g.pw;
                const int64_t x0 = std::min(g.ow, ceilDivPos(-off, g.sw));
                const int64_t x1 = std::max(x0, std::min(g.ow, ceilDivPos(g.w - off, g.sw)));
                for (int64_t oy = 0; oy < g.oh; ++oy, dst += g.ow) {
                    const int64_t iy = oy * g.sh - g.ph + i * g.dh;
                    if (iy < 0 || iy >= g.h) {
                        std::fill(dst, dst + g.ow, 0.0f);
                        continue;
                    }
                    const int64_t base = iy * g.w + off; // + ox * sw is inside the row for ox in [x0, x1)
                    std::fill(dst, dst + x0, 0.0f);
                    if (g.sw == 1 && x1 > x0)
                        std::memcpy(dst + x0, xc + base + x0, sizeof(float) * size_t(x1 - x0));
                    else
                        for (int64_t ox = x0; ox < x1; ++ox)
                            dst[ox] = xc[base + ox * g.sw];
                    std::fill(dst + x1, dst + g.ow, 0.0f);
                }
            }
        }
    }
}

void addBias(float* y, const float* bias, int64_t channels, int64_t inner)
{
    for (int64_t o = 0; o < channels; ++o) {
        const float bv = bias[o];
        float* yo = y + o * inner;
        for (int64_t p = 0; p < inner; ++p)
            yo[p] += bv;
    }
}

} // namespace

std::string prepareConv(ConvState& st, bool is1d, const ir::Shape& x, const ir::Shape& w, const ir::Shape& y,
                        const ir::Attributes& attrs)
{
    ConvGeom& g = st.g;
    const int spatial = is1d ? 1 : 2;
    if (int64_t(x.size()) != 1 + spatial || int64_t(w.size()) != 2 + spatial || int64_t(y.size()) != 1 + spatial)
        return "unexpected conv operand ranks";
    const ir::IntList ones(size_t(spatial), 1), zeros(size_t(spatial), 0);
    const ir::IntList s = attrs.getInts("stride", ones), p = attrs.getInts("padding", zeros),
                      d = attrs.getInts("dilation", ones);
    if (int64_t(s.size()) != spatial || int64_t(p.size()) != spatial || int64_t(d.size()) != spatial)
        return "stride, padding and dilation need " + std::to_string(spatial) + " entries";
    g.groups = attrs.getInt("groups", 1);
    g.c = x[0];
    g.o = w[0];
    if (is1d) {
        g.h = 1, g.w = x[1], g.kh = 1, g.kw = w[2], g.oh = 1, g.ow = y[1];
        g.sh = 1, g.sw = s[0], g.ph = 0, g.pw = p[0], g.dh = 1, g.dw = d[0];
    } else {
        g.h = x[1], g.w = x[2], g.kh = w[2], g.kw = w[3], g.oh = y[1], g.ow = y[2];
        g.sh = s[0], g.sw = s[1], g.ph = p[0], g.pw = p[1], g.dh = d[0], g.dw = d[1];
    }
    if (g.groups < 1 || g.c % g.groups || g.o % g.groups || w[1] != g.cg() || y[0] != g.o)
        return "inconsistent conv channels/groups";
    st.packed = false;
    return {};
}

void runConv(ConvState& st, In x, In w, In bias, Out y, int64_t nb, const Exec& ex)
{
    const ConvGeom& g = st.g;
    const int64_t og = g.og(), kd = g.kdim(), npix = g.pixels();
    const int64_t wStride = packedASize(og, kd);
    if (!st.packed || st.weightPerStep) {
        grow(st.packedW, wStride * g.groups);
        for (int64_t gi = 0; gi < g.groups; ++gi)
            packA(og, kd, MatRef{w.p + gi * og * kd, kd, 1}, st.packedW.data() + gi * wStride);
        st.packed = true;
    }
    const bool pointwise = g.pointwise();
    auto sample = [&](int64_t b, int worker, ThreadPool* inner) {
        Scratch& s = ex.scratchOf(worker);
        const float* xb = x.at(b);
        float* yb = y.at(b);
        float* pb = grow(s.b, packedBSize(kd, npix));
        for (int64_t gi = 0; gi < g.groups; ++gi) {
            const float* xg = xb + gi * g.cg() * g.h * g.w;
            if (pointwise) {
                packB(kd, npix, MatRef{xg, g.h * g.w, 1}, pb);
            } else {
                float* col = grow(s.col, kd * npix);
                im2col(xg, g, col);
                packB(kd, npix, MatRef{col, npix, 1}, pb);
            }
            gemmPacked(og, npix, kd, st.packedW.data() + gi * wStride, pb, yb + gi * og * npix, npix, false, inner);
        }
        if (bias.p)
            addBias(yb, bias.at(b), g.o, npix);
    };
    if (nb >= ex.threads() && ex.threads() > 1) {
        ex.pool->parallelFor(nb, [&](int64_t b, int worker) { sample(b, worker, nullptr); });
    } else {
        for (int64_t b = 0; b < nb; ++b)
            sample(b, 0, ex.pool);
    }
}

std::string prepareLinear(LinearState& st, const ir::Shape& x, const ir::Shape& w)
{
    if (x.empty() || w.size() != 2 || x.back() != w[1])
        return "unexpected linear operand shapes";
    st.in = w[1];
    st.out = w[0];
    st.rows = ir::numElements(x) / std::max<int64_t>(1, st.in);
    st.packed = false;
    return {};
}

void runLinear(LinearState& st, In x, In w, In bias, Out y, int64_t nb, const Exec& ex)
{
    const int64_t in = st.in, out = st.out, rows = st.rows;
    if (!st.packed || st.weightPerStep) {
        grow(st.packedW, packedBSize(in, out));
        packB(in, out, MatRef{w.p, 1, in}, st.packedW.data()); // B[k][j] = W[j][k]
        st.packed = true;
    }
    const int64_t ns = gemmStrips(out, kGemmNR);
    // Rows of all samples form one tall A when x is stored contiguously per sample.
    const bool tall = x.bstride == rows * in || nb == 1;
    const int64_t totalRows = tall ? nb * rows : rows;
    const int64_t samples = tall ? 1 : nb;
    constexpr int64_t kRowBlock = 16 * kGemmMR;
    const int64_t blocks = (totalRows + kRowBlock - 1) / kRowBlock;
    for (int64_t sIdx = 0; sIdx < samples; ++sIdx) {
        const float* xa = tall ? x.p : x.at(sIdx);
        float* ya = tall ? y.p : y.at(sIdx);
        auto block = [&](int64_t blk, int worker) {
            Scratch& s = ex.scratchOf(worker);
            const int64_t r0 = blk * kRowBlock, nr = std::min(kRowBlock, totalRows - r0);
            float* ap = grow(s.a, packedASize(nr, in));
            packA(nr, in, MatRef{xa + r0 * in, in, 1}, ap);
            gemmPackedRange(nr, out, in, ap, st.packedW.data(), ya + r0 * out, out, false, 0,
                            gemmStrips(nr, kGemmMR), 0, ns);
        };
        const double flops = 2.0 * double(totalRows) * double(out) * double(in);
        if (blocks > 1 && ex.threads() > 1 && flops > 2.0e5)
            ex.pool->parallelFor(blocks, block);
        else
            for (int64_t blk = 0; blk < blocks; ++blk)
                block(blk, 0);
    }
    if (bias.p)
        for (int64_t b = 0; b < nb; ++b) {
            const float* bb = bias.at(b);
            float* yb = y.at(b);
            for (int64_t r = 0; r < rows; ++r)
                for (int64_t j = 0; j < out; ++j)
                    yb[r * out + j] += bb[j];
        }
}

std::string prepareMatMul(MatMulState& st, const ir::Shape& a, const ir::Shape& b)
{
    if (a.size() < 2 || b.size() < 2 || a.back() != b[b.size() - 2])
        return "unexpected matmul operand shapes";
    st.n = a[a.size() - 2];
    st.k = a.back();
    st.m = b.back();
    const size_t la = a.size() - 2, lb = b.size() - 2, l = std::max(la, lb);
    st.lead.assign(l, 1);
    st.aLead.assign(l, 0);
    st.bLead.assign(l, 0);
    // Element strides of the leading dims of a row-major tensor.
    int64_t sa = st.n * st.k, sb = st.k * st.m;
    for (size_t i = l; i-- > 0;) {
        const int64_t da = i >= l - la ? a[i - (l - la)] : 1;
        const int64_t db = i >= l - lb ? b[i - (l - lb)] : 1;
        if (da != db && da != 1 && db != 1)
            return "matmul leading dims do not broadcast";
        st.lead[i] = std::max(da, db);
        st.aLead[i] = da == 1 ? 0 : sa;
        st.bLead[i] = db == 1 ? 0 : sb;
        sa *= da;
        sb *= db;
    }
    st.instances = ir::numElements(st.lead);
    return {};
}

void runMatMul(const MatMulState& st, In a, In b, Out y, int64_t nb, const Exec& ex)
{
    const int64_t n = st.n, k = st.k, m = st.m, per = st.instances;
    auto offsets = [&](int64_t r, int64_t& ao, int64_t& bo) {
        ao = bo = 0;
        for (size_t i = st.lead.size(); i-- > 0;) {
            const int64_t idx = r % st.lead[i];
            r /= st.lead[i];
            ao += idx * st.aLead[i];
            bo += idx * st.bLead[i];
        }
    };
    const int64_t total = nb * per;
    const int t = ex.threads();
    if (t > 1 && total >= 2 * t) {
        ex.forRange(total, 1, [&](int64_t i0, int64_t i1, int worker) {
            Scratch& s = ex.scratchOf(worker);
            for (int64_t i = i0; i < i1; ++i) {
                const int64_t smp = i / per, r = i % per;
                int64_t ao, bo;
                offsets(r, ao, bo);
                gemm(n, m, k, MatRef{a.at(smp) + ao, k, 1}, MatRef{b.at(smp) + bo, m, 1}, y.at(smp) + r * n * m, m,
                     false, s.a, s.b);
            }
        });
        return;
    }
    Scratch& s = ex.scratchOf(0);
    for (int64_t i = 0; i < total; ++i) {
        const int64_t smp = i / per, r = i % per;
        int64_t ao, bo;
        offsets(r, ao, bo);
        float* ap = grow(s.a, packedASize(n, k));
        float* bp = grow(s.b, packedBSize(k, m));
        packA(n, k, MatRef{a.at(smp) + ao, k, 1}, ap);
        packB(k, m, MatRef{b.at(smp) + bo, m, 1}, bp);
        gemmPacked(n, m, k, ap, bp, y.at(smp) + r * n * m, m, false, ex.pool);
    }
}

} // namespace stc::interp::detail

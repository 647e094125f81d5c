#include "interp/kernels_pool.h"

#include <cmath>
#include <limits>

namespace stc::interp::detail {

namespace {

ir::IntList pairAttr(const ir::Attributes& a, const char* key, ir::IntList def)
{
    ir::IntList v = a.getInts(key, std::move(def));
    if (v.size() == 1)
        v.push_back(v[0]);
    return v;
}

} // namespace

std::string preparePool(PoolState& st, bool isMax, const ir::Shape& x, const ir::Shape& y, const ir::Attributes& a)
{
    if (x.size() != 3 || y.size() != 3 || x[0] != y[0])
        return "pooling needs [C,H,W] input and output";
    const ir::IntList k = pairAttr(a, "kernel", {});
    const ir::IntList s = pairAttr(a, "stride", k);
    const ir::IntList p = pairAttr(a, "padding", {0, 0});
    const ir::IntList d = isMax ? pairAttr(a, "dilation", {1, 1}) : ir::IntList{1, 1};
    if (k.size() != 2 || s.size() != 2 || p.size() != 2 || d.size() != 2)
        return "kernel, stride, padding and dilation need 2 entries";
    st.c = x[0], st.h = x[1], st.w = x[2], st.oh = y[1], st.ow = y[2];
    st.kh = k[0], st.kw = k[1], st.sh = s[0], st.sw = s[1], st.ph = p[0], st.pw = p[1], st.dh = d[0], st.dw = d[1];
    st.countIncludePad = a.getBool("count_include_pad", true);
    st.divisorOverride = a.getInt("divisor_override", 0);
    if (st.divisorOverride < 0)
        return "divisor_override must be >= 0";
    return {};
}

void runMaxPool(const PoolState& st, In x, Out y, int64_t nb, const Exec& ex)
{
    const int64_t planes = nb * st.c, inPlane = st.h * st.w, outPlane = st.oh * st.ow;
    ex.forRange(planes, std::max<int64_t>(1, 4096 / std::max<int64_t>(1, outPlane)),
                [&](int64_t p0, int64_t p1, int) {
                    for (int64_t pl = p0; pl < p1; ++pl) {
                        const int64_t b = pl / st.c, c = pl % st.c;
                        const float* xp = x.at(b) + c * inPlane;
                        float* yp = y.at(b) + c * outPlane;
                        for (int64_t oy = 0; oy < st.oh; ++oy) {
                            int64_t y0 = oy * st.sh - st.ph;
                            const int64_t y1 = std::min(y0 + (st.kh - 1) * st.dh + 1, st.h);
                            while (y0 < 0)
                                y0 += st.dh;
                            for (int64_t ox = 0; ox < st.ow; ++ox) {
                                int64_t x0 = ox * st.sw - st.pw;
                                const int64_t x1 = std::min(x0 + (st.kw - 1) * st.dw + 1, st.w);
                                while (x0 < 0)
                                    x0 += st.dw;
                                // ATen cpu_max_pool scans row-major and takes val if val > max or val
                                // is NaN; i.e. the first maximum, or the last NaN. Branch-free here.
                                float m = -std::numeric_limits<float>::infinity(), nan = 0.0f;
                                bool anyNan = false;
                                for (int64_t iy = y0; iy < y1; iy += st.dh) {
                                    const float* row = xp + iy * st.w;
                                    for (int64_t ix = x0; ix < x1; ix += st.dw) {
                                        const float val = row[ix];
                                        m = val > m ? val : m;
                                        const bool isNan = val != val;
                                        nan = isNan ? val : nan;
                                        anyNan |= isNan;
                                    }
                                }
                                yp[oy * st.ow + ox] = anyNan ? nan : m;
                            }
                        }
                    }
                });
}

void runAvgPool(const PoolState& st, In x, Out y, int64_t nb, const Exec& ex)
{
    const int64_t planes = nb * st.c, inPlane = st.h * st.w, outPlane = st.oh * st.ow;
    ex.forRange(planes, std::max<int64_t>(1, 4096 / std::max<int64_t>(1, outPlane)),
                [&](int64_t p0, int64_t p1, int) {
                    for (int64_t pl = p0; pl < p1; ++pl) {
                        const int64_t b = pl / st.c, c = pl % st.c;
                        const float* xp = x.at(b) + c * inPlane;
                        float* yp = y.at(b) + c * outPlane;
                        for (int64_t oy = 0; oy < st.oh; ++oy) {
                            for (int64_t ox = 0; ox < st.ow; ++ox) {
                                // ATen cpu_avg_pool: the window is clipped to the padded input for
                                // the count_include_pad divisor, then to the input for the sum.
                                int64_t y0 = oy * st.sh - st.ph, x0 = ox * st.sw - st.pw;
                                int64_t y1 = std::min(y0 + st.kh, st.h + st.ph);
                                int64_t x1 = std::min(x0 + st.kw, st.w + st.pw);
                                const int64_t poolSize = (y1 - y0) * (x1 - x0);
                                y0 = std::max<int64_t>(y0, 0), x0 = std::max<int64_t>(x0, 0);
                                y1 = std::min(y1, st.h), x1 = std::min(x1, st.w);
                                float& out = yp[oy * st.ow + ox];
                                if (y0 >= y1 || x0 >= x1) {
                                    out = 0.0f;
                                    continue;
                                }
                                const int64_t divide = st.divisorOverride ? st.divisorOverride
                                                       : st.countIncludePad ? poolSize
                                                                            : (y1 - y0) * (x1 - x0);
                                float sum = 0.0f;
                                for (int64_t iy = y0; iy < y1; ++iy)
                                    for (int64_t ix = x0; ix < x1; ++ix)
                                        sum += xp[iy * st.w + ix];
                                out = sum / static_cast<float>(divide);
                            }
                        }
                    }
                });
}

} // namespace stc::interp::detail

#include "interp/kernels_elementwise.h"

#include "interp/rate_encoding.h"

#include <cmath>
#include <cstring>

namespace stc::interp::detail {

namespace {

constexpr int64_t kGrain = 16384; // elements per parallel chunk, at least

bool normalizeAxis(int64_t& axis, int64_t rank)
{
    if (axis < 0)
        axis += rank;
    return axis >= 0 && axis < rank;
}

std::vector<int64_t> rowMajorStrides(const ir::Shape& s)
{
    std::vector<int64_t> st(s.size(), 1);
    for (size_t i = s.size(); i-- > 1;)
        st[i - 1] = st[i] * s[i];
    return st;
}

// Offsets of row `row` (all dims but the last) for up to two operands.
inline void rowOffsets(const std::vector<int64_t>& dims, const std::vector<int64_t>& s1,
                       const std::vector<int64_t>* s2, int64_t row, int64_t& o1, int64_t& o2)
{
    o1 = o2 = 0;
    for (size_t d = dims.size() - 1; d-- > 0;) {
        const int64_t i = row % dims[d];
        row /= dims[d];
        o1 += i * s1[d];
        if (s2)
            o2 += i * (*s2)[d];
    }
}

// Row loops with restrict-qualified parameters, so the -O2 vectorizer knows the
// rows do not overlap (see forEach8). Not inlined: GCC drops the restrict
// information when it inlines them into a caller without it.
#define STC_ROW_LOOP __attribute__((noinline))

template <typename F>
STC_ROW_LOOP void mapRow2(const float* __restrict a, const float* __restrict b, float* __restrict y, int64_t n, F f)
{
    forEach8(0, n, [&](int64_t j) { y[j] = f(a[j], b[j]); });
}

template <typename F> STC_ROW_LOOP void mapRow1(const float* __restrict a, float* __restrict y, int64_t n, F f)
{
    forEach8(0, n, [&](int64_t j) { y[j] = f(a[j]); });
}

STC_ROW_LOOP void affineRow(const float* __restrict x, const float* __restrict al, const float* __restrict be,
                      float* __restrict y, int64_t n)
{
    forEach8(0, n, [&](int64_t j) { y[j] = x[j] * al[j] + be[j]; });
}

STC_ROW_LOOP void accumulateRow(const float* __restrict x, float* __restrict acc, int64_t n)
{
    forEach8(0, n, [&](int64_t j) { acc[j] += x[j]; });
}

STC_ROW_LOOP void divideRow(float* __restrict acc, float d, int64_t n)
{
    forEach8(0, n, [&](int64_t j) { acc[j] = acc[j] / d; });
}

// Element k of the flattened [nb, n] range lives in sample k / n; walk it sample by sample.
template <typename F> void forSamples(int64_t k0, int64_t k1, int64_t n, F&& f)
{
    for (int64_t b = k0 / n; b * n < k1; ++b)
        f(b, std::max(k0 - b * n, int64_t(0)), std::min(k1 - b * n, n));
}

template <typename F> void runBinary(const BinaryState& st, In a, In b, Out y, int64_t nb, const Exec& ex, F f)
{
    const int64_t n = st.elements;
    if (st.sameShape) {
        ex.forRange(nb * n, kGrain, [&](int64_t i0, int64_t i1, int) {
            for (int64_t smp = i0 / n; smp * n < i1; ++smp) {
                const int64_t j0 = std::max(i0 - smp * n, int64_t(0)), j1 = std::min(i1 - smp * n, n);
                mapRow2(a.at(smp) + j0, b.at(smp) + j0, y.at(smp) + j0, j1 - j0, f);
            }
        });
        return;
    }
    const int64_t inner = st.dims.back(), rows = n / inner, sa = st.aStr.back(), sb = st.bStr.back();
    ex.forRange(nb * rows, std::max<int64_t>(1, kGrain / inner), [&](int64_t r0, int64_t r1, int) {
        for (int64_t r = r0; r < r1; ++r) {
            const int64_t smp = r / rows, row = r % rows;
            int64_t oa, ob;
            rowOffsets(st.dims, st.aStr, &st.bStr, row, oa, ob);
            const float* pa = a.at(smp) + oa;
            const float* pb = b.at(smp) + ob;
            float* py = y.at(smp) + row * inner;
            if (sa == 1 && sb == 1) {
                mapRow2(pa, pb, py, inner, f);
            } else if (sa == 1 && sb == 0) {
                const float bv = pb[0];
                mapRow1(pa, py, inner, [&](float u) { return f(u, bv); });
            } else if (sa == 0 && sb == 1) {
                const float av = pa[0];
                mapRow1(pb, py, inner, [&](float u) { return f(av, u); });
            } else {
                for (int64_t j = 0; j < inner; ++j)
                    py[j] = f(pa[j * sa], pb[j * sb]);
            }
        }
    });
}

} // namespace

std::string prepareBinary(BinaryState& st, const ir::Shape& a, const ir::Shape& b, const ir::Shape& y)
{
    const size_t r = y.size();
    if (a.size() > r || b.size() > r)
        return "operand rank exceeds result rank";
    st.elements = ir::numElements(y);
    st.sameShape = a == y && b == y;
    std::vector<int64_t> dims(y.begin(), y.end()), as(r, 0), bs(r, 0);
    auto fill = [&](const ir::Shape& s, std::vector<int64_t>& str) -> bool {
        int64_t stride = 1;
        for (size_t i = s.size(); i-- > 0;) {
            const size_t d = i + (r - s.size());
            if (s[i] != y[d] && s[i] != 1)
                return false;
            str[d] = s[i] == 1 ? 0 : stride;
            stride *= s[i];
        }
        return true;
    };
    if (!fill(a, as) || !fill(b, bs))
        return "operand shapes do not broadcast to the result";
    // Drop size-1 dims, then merge neighbours that are contiguous for both operands.
    st.dims.clear(), st.aStr.clear(), st.bStr.clear();
    for (size_t i = 0; i < r; ++i) {
        if (dims[i] == 1)
            continue;
        if (!st.dims.empty() && st.aStr.back() == as[i] * dims[i] && st.bStr.back() == bs[i] * dims[i]) {
            st.dims.back() *= dims[i];
            st.aStr.back() = as[i];
            st.bStr.back() = bs[i];
            continue;
        }
        st.dims.push_back(dims[i]);
        st.aStr.push_back(as[i]);
        st.bStr.push_back(bs[i]);
    }
    if (st.dims.empty()) {
        st.dims = {1};
        st.aStr = {0};
        st.bStr = {0};
    }
    return {};
}

void runAdd(const BinaryState& st, In a, In b, Out y, int64_t nb, const Exec& ex)
{
    runBinary(st, a, b, y, nb, ex, [](float u, float v) { return u + v; });
}

void runMul(const BinaryState& st, In a, In b, Out y, int64_t nb, const Exec& ex)
{
    runBinary(st, a, b, y, nb, ex, [](float u, float v) { return u * v; });
}

void runScale(float factor, In x, Out y, int64_t nb, int64_t n, const Exec& ex)
{
    ex.forRange(nb, std::max<int64_t>(1, kGrain / std::max<int64_t>(1, n)), [&](int64_t b0, int64_t b1, int) {
        for (int64_t b = b0; b < b1; ++b) {
            mapRow1(x.at(b), y.at(b), n, [factor](float u) { return u * factor; });
        }
    });
}

std::string prepareBatchNorm(BatchNormState& st, const ir::Shape& x, const ir::Attributes& attrs)
{
    int64_t axis = attrs.getInt("axis", 0);
    if (!normalizeAxis(axis, int64_t(x.size())))
        return "channel axis out of range";
    st.outer = st.inner = 1;
    for (int64_t i = 0; i < axis; ++i)
        st.outer *= x[size_t(i)];
    for (size_t i = size_t(axis) + 1; i < x.size(); ++i)
        st.inner *= x[i];
    st.channels = x[size_t(axis)];
    st.eps = static_cast<float>(attrs.getFloat("eps"));
    st.alpha.assign(size_t(st.channels), 0.0f);
    st.beta.assign(size_t(st.channels), 0.0f);
    return {};
}

void runBatchNorm(BatchNormState& st, In x, const float* mean, const float* var, const float* gamma,
                  const float* beta, Out y, int64_t nb, const Exec& ex)
{
    // ATen batch_norm_cpu_collect_linear_and_constant_terms (eval):
    //   alpha = (1 / sqrt(var + (float)eps)) * gamma;  beta' = beta - mean * alpha;  y = x * alpha + beta'
    for (int64_t c = 0; c < st.channels; ++c) {
        const float invstd = 1.0f / std::sqrt(var[c] + st.eps);
        st.alpha[size_t(c)] = invstd * gamma[c];
        st.beta[size_t(c)] = beta[c] - mean[c] * st.alpha[size_t(c)];
    }
    if (st.inner == 1) {
        // Channels last ([..., C], e.g. tokens x features): rows of C channels.
        const int64_t c = st.channels, rows = st.outer;
        const float *al = st.alpha.data(), *be = st.beta.data();
        ex.forRange(nb * rows, std::max<int64_t>(1, kGrain / c), [&](int64_t r0, int64_t r1, int) {
            for (int64_t r = r0; r < r1; ++r) {
                affineRow(x.at(r / rows) + (r % rows) * c, al, be, y.at(r / rows) + (r % rows) * c, c);
            }
        });
        return;
    }
    const int64_t rowsPerSample = st.outer * st.channels, inner = st.inner;
    ex.forRange(nb * rowsPerSample, std::max<int64_t>(1, kGrain / inner), [&](int64_t r0, int64_t r1, int) {
        for (int64_t r = r0; r < r1; ++r) {
            const int64_t b = r / rowsPerSample, row = r % rowsPerSample, c = row % st.channels;
            const float al = st.alpha[size_t(c)], be = st.beta[size_t(c)];
            mapRow1(x.at(b) + row * inner, y.at(b) + row * inner, inner, [al, be](float u) { return u * al + be; });
        }
    });
}

std::string preparePermute(PermuteState& st, const ir::Shape& x, const ir::Attributes& attrs)
{
    const ir::IntList perm = attrs.getInts("perm");
    if (perm.size() != x.size())
        return "perm does not match the input rank";
    const std::vector<int64_t> strides = rowMajorStrides(x);
    st.dims.clear(), st.inStr.clear();
    for (int64_t p : perm) {
        if (!normalizeAxis(p, int64_t(x.size())))
            return "perm entry out of range";
        st.dims.push_back(x[size_t(p)]);
        st.inStr.push_back(strides[size_t(p)]);
    }
    if (st.dims.empty()) {
        st.dims = {1};
        st.inStr = {0};
    }
    st.elements = ir::numElements(x);
    return {};
}

void runPermute(const PermuteState& st, In x, Out y, int64_t nb, const Exec& ex)
{
    const int64_t inner = st.dims.back(), rows = st.elements / std::max<int64_t>(1, inner), si = st.inStr.back();
    if (inner == 0)
        return;
    ex.forRange(nb * rows, std::max<int64_t>(1, kGrain / inner), [&](int64_t r0, int64_t r1, int) {
        for (int64_t r = r0; r < r1; ++r) {
            const int64_t smp = r / rows, row = r % rows;
            int64_t ox, unused;
            rowOffsets(st.dims, st.inStr, nullptr, row, ox, unused);
            const float* px = x.at(smp) + ox;
            float* py = y.at(smp) + row * inner;
            for (int64_t j = 0; j < inner; ++j)
                py[j] = px[j * si];
        }
    });
}

std::string prepareReduce(ReduceState& st, bool mean, const ir::Shape& x, const ir::Attributes& attrs)
{
    st.mean = mean;
    std::vector<bool> reduce(x.size(), false);
    for (int64_t ax : attrs.getInts("axes")) {
        if (!normalizeAxis(ax, int64_t(x.size())))
            return "axis out of range";
        reduce[size_t(ax)] = true;
    }
    st.dims.assign(x.begin(), x.end());
    st.outStr.assign(x.size(), 0);
    st.count = 1;
    int64_t stride = 1;
    for (size_t i = x.size(); i-- > 0;) {
        if (reduce[i]) {
            st.count *= x[i];
        } else {
            st.outStr[i] = stride;
            stride *= x[i];
        }
    }
    st.inElements = ir::numElements(x);
    st.outElements = stride;
    st.identity = st.count == 1 && st.outElements == st.inElements;
    if (st.dims.empty()) {
        st.dims = {1};
        st.outStr = {0};
    }
    return {};
}

void runReduce(const ReduceState& st, In x, Out y, int64_t nb, const Exec& ex)
{
    if (st.identity) {
        copyValue(x, y, nb, st.inElements);
        return;
    }
    const float count = static_cast<float>(st.count);
    const size_t rank = st.dims.size();
    ex.forRange(nb, std::max<int64_t>(1, kGrain / std::max<int64_t>(1, st.inElements)),
                [&](int64_t b0, int64_t b1, int worker) {
                    std::vector<double>& acc = ex.scratchOf(worker).acc;
                    grow(acc, st.outElements);
                    int64_t idx[16] = {};
                    std::vector<int64_t> bigIdx;
                    int64_t* ix = idx;
                    if (rank > 16) {
                        bigIdx.assign(rank, 0);
                        ix = bigIdx.data();
                    }
                    for (int64_t b = b0; b < b1; ++b) {
                        std::fill(acc.begin(), acc.begin() + st.outElements, 0.0);
                        std::fill(ix, ix + rank, 0);
                        const float* px = x.at(b);
                        int64_t off = 0;
                        for (int64_t i = 0; i < st.inElements; ++i) {
                            acc[size_t(off)] += px[i];
                            for (size_t d = rank; d-- > 0;) {
                                off += st.outStr[d];
                                if (++ix[d] < st.dims[d])
                                    break;
                                off -= st.outStr[d] * st.dims[d];
                                ix[d] = 0;
                            }
                        }
                        float* py = y.at(b);
                        for (int64_t o = 0; o < st.outElements; ++o) {
                            const float s = static_cast<float>(acc[size_t(o)]);
                            py[o] = st.mean ? s / count : s;
                        }
                    }
                });
}

void runRateEncode(uint64_t seed, int64_t t, In x, Out y, int64_t nb, int64_t n, const Exec& ex)
{
    ex.forRange(nb * n, kGrain, [&](int64_t k0, int64_t k1, int) {
        forSamples(k0, k1, n, [&](int64_t b, int64_t i0, int64_t i1) {
            const float* px = x.at(b);
            float* py = y.at(b);
            for (int64_t i = i0; i < i1; ++i)
                py[i] = rateSpike(px[i], seed, uint64_t(t), uint64_t(i)) ? 1.0f : 0.0f;
        });
    });
}

void accumulate(In x, Out acc, int64_t nb, int64_t n, const Exec& ex)
{
    ex.forRange(nb * n, kGrain, [&](int64_t k0, int64_t k1, int) {
        forSamples(k0, k1, n, [&](int64_t b, int64_t i0, int64_t i1) {
            accumulateRow(x.at(b) + i0, acc.at(b) + i0, i1 - i0);
        });
    });
}

void divideBy(Out acc, float steps, int64_t nb, int64_t n, const Exec& ex)
{
    ex.forRange(nb * n, kGrain, [&](int64_t k0, int64_t k1, int) {
        forSamples(k0, k1, n, [&](int64_t b, int64_t i0, int64_t i1) {
            divideRow(acc.at(b) + i0, steps, i1 - i0);
        });
    });
}

void copyValue(In x, Out y, int64_t nb, int64_t n)
{
    for (int64_t b = 0; b < nb; ++b)
        if (x.at(b) != y.at(b))
            std::memcpy(y.at(b), x.at(b), sizeof(float) * size_t(n));
}

} // namespace stc::interp::detail

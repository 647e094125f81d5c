#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O3") // the scans must vectorize
#endif
// Branch-free neuron updates over a slice (worker.h, Worker::updateSlice):
// every lane does the same int32 arithmetic, so the loop vectorizes (cloned
// for AVX-512 (x86-64-v4: 16 lanes, 10 % less lifScan time on the bundled
// model, docs/performance.md) and AVX2), and the spikes are picked out of an output array afterwards
// (NeuronScans::compact, neuron_emit.cpp).
//
// Exactness against fixedpoint::neuronStep (int64 arithmetic), for the
// parameters lifScanFits accepts (du, dv in [0, 4096], actShift in [0, 31],
// |theta| <= 2^24):
//  * decay(x, d) = sign(x) * ((|x| * m) >> 12) with m = 4096 - d <= 2^12 and
//    |x| <= 2^23 (u is wrapped, v saturated to 24 bits): split |x| = hi * 4096
//    + lo, then (|x| * m) >> 12 = hi * m + ((lo * m) >> 12) exactly, and both
//    products stay below 2^24.
//  * wrap24(decay(u) + (a << actShift)) only depends on the low 24 bits of
//    its operands, so it is computed modulo 2^32 (uint32) from the low 32 bits
//    of a = acc + bias; a != 0 is exact: a's low 32 bits are zero with a != 0
//    only for acc = bias = INT32_MIN (a = -2^32).
//  * v stays within +-2^25 before saturation: int32.
//  * a factor m = 2^k or 0 is a shift (decayShift).
#include "sim/worker.h"

namespace stc::sim::detail {

bool lifScanFits(const fixedpoint::NeuronParams& p)
{
    const int64_t lim = int64_t{1} << 24;
    return p.du >= 0 && p.du <= fixedpoint::kDecayOne && p.dv >= 0 && p.dv <= fixedpoint::kDecayOne &&
           p.actShift >= 0 && p.actShift < 32 && p.theta >= -lim && p.theta <= lim;
}

namespace {
inline int32_t decay32(int32_t x, int32_t m)
{
    const int32_t ax = x < 0 ? -x : x;
    const int32_t r = (ax >> fixedpoint::kDecayBits) * m + (((ax & (fixedpoint::kDecayOne - 1)) * m) >> fixedpoint::kDecayBits);
    return x < 0 ? -r : r;
}

// A decay factor m = 2^k (k <= 12) is a shift: (|x| * 2^k) >> 12 = |x| >>
// (12 - k); m = 0 is a shift by 24 (|x| <= 2^23). Else -1.
int decayShift(int32_t m)
{
    if (m == 0)
        return 24;
    for (int k = 0; k <= fixedpoint::kDecayBits; ++k)
        if (m == int32_t{1} << k)
            return fixedpoint::kDecayBits - k;
    return -1;
}

inline int32_t decayBy(int32_t x, int32_t m, int s, bool byShift)
{
    if (!byShift)
        return decay32(x, m);
    const int32_t r = (x < 0 ? -x : x) >> s;
    return x < 0 ? -r : r;
}

struct LifConsts {
    int32_t mu, mv;
    int su, sv;
    uint32_t shift;
    int32_t theta, fireAt, delayedSub, keep, spikeSub, outMask, smax;
};

// The loop of lifScan, with the decays of u and v as shifts where the
// factors allow (ShiftU, ShiftV: the multiplications are the loop's most
// expensive operations); inlined into each clone of lifScan.
template <bool ShiftU, bool ShiftV>
__attribute__((always_inline)) inline int32_t lifLoop(const LifConsts& k, int32_t* __restrict a0,
                                                      const int32_t* __restrict bias, int32_t* __restrict u,
                                                      int32_t* __restrict v, int32_t* __restrict out, int64_t n)
{
    int32_t active = 0;
    for (int64_t i = 0; i < n; ++i) {
        const int32_t a = a0[i], b = bias[i], ui = u[i], vi = v[i];
        const uint32_t in = uint32_t(a) + uint32_t(b);
        const bool inNonZero = (in != 0) | ((a == INT32_MIN) & (b == INT32_MIN));
        active += inNonZero | (ui != 0) | (vi != 0);
        a0[i] = 0;
        const uint32_t t = uint32_t(decayBy(ui, k.mu, k.su, ShiftU)) + (in << k.shift);
        const int32_t uu = int32_t(t << 8) >> 8; // wrap to 24 bits
        int32_t vv = decayBy(vi, k.mv, k.sv, ShiftV) + uu - (vi > k.theta ? k.delayedSub : 0);
        vv = vv > k.smax ? k.smax : (vv < -k.smax ? -k.smax : vv);
        const int32_t spike = vv >= k.fireAt;
        out[i] = (vv & k.outMask) | (spike & ~k.outMask);
        u[i] = uu;
        v[i] = spike ? (vv & k.keep) - k.spikeSub : vv;
    }
    return active;
}
} // namespace

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
__attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
#endif
int64_t lifScan(const fixedpoint::NeuronParams& p, bool membraneOut, int32_t* __restrict a0,
                const int32_t* __restrict bias, int32_t* __restrict u, int32_t* __restrict v, int32_t* __restrict out,
                int64_t n)
{
    using fixedpoint::Reset;
    LifConsts k;
    k.mu = fixedpoint::kDecayOne - p.du, k.mv = fixedpoint::kDecayOne - p.dv;
    k.su = decayShift(k.mu), k.sv = decayShift(k.mv);
    k.shift = uint32_t(p.actShift);
    k.theta = int32_t(p.theta);
    k.fireAt = p.fireOnEqual ? k.theta : k.theta + 1;                // spike: vv >= fireAt
    k.delayedSub = p.reset == Reset::SubtractDelayed ? k.theta : 0;  // when the old v > theta
    k.keep = p.reset == Reset::Hard ? 0 : -1;                        // v after a spike: (vv & keep) - spikeSub
    k.spikeSub = p.reset == Reset::Subtract ? k.theta : 0;
    k.outMask = membraneOut ? -1 : 0;                                // out: the charged membrane or the spike
    k.smax = int32_t(fixedpoint::kStateMax);
    if (k.su >= 0)
        return k.sv >= 0 ? lifLoop<true, true>(k, a0, bias, u, v, out, n) : lifLoop<true, false>(k, a0, bias, u, v, out, n);
    return k.sv >= 0 ? lifLoop<false, true>(k, a0, bias, u, v, out, n) : lifLoop<false, false>(k, a0, bias, u, v, out, n);
}

} // namespace stc::sim::detail

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O3") // the scans must vectorize
#endif
// Branch-free neuron updates over a slice (worker.h, Worker::updateSlice):
// every lane does the same int32 arithmetic, so the loop vectorizes (cloned
// for AVX2), and the spikes are picked out of an output array afterwards
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
} // namespace

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
__attribute__((target_clones("avx2", "default")))
#endif
int64_t lifScan(const fixedpoint::NeuronParams& p, bool membraneOut, int32_t* __restrict a0,
                const int32_t* __restrict bias, int32_t* __restrict u, int32_t* __restrict v, int32_t* __restrict out,
                int64_t n)
{
    using fixedpoint::Reset;
    const int32_t mu = fixedpoint::kDecayOne - p.du, mv = fixedpoint::kDecayOne - p.dv;
    const uint32_t shift = uint32_t(p.actShift);
    const int32_t theta = int32_t(p.theta);
    const int32_t fireAt = p.fireOnEqual ? theta : theta + 1;        // spike: vv >= fireAt
    const int32_t delayedSub = p.reset == Reset::SubtractDelayed ? theta : 0; // when the old v > theta
    const int32_t keep = p.reset == Reset::Hard ? 0 : -1;             // v after a spike: (vv & keep) - spikeSub
    const int32_t spikeSub = p.reset == Reset::Subtract ? theta : 0;
    const int32_t outMask = membraneOut ? -1 : 0;                     // out: the charged membrane or the spike
    const int32_t smax = int32_t(fixedpoint::kStateMax);
    int32_t active = 0;
    for (int64_t i = 0; i < n; ++i) {
        const int32_t a = a0[i], b = bias[i], ui = u[i], vi = v[i];
        const uint32_t in = uint32_t(a) + uint32_t(b);
        const bool inNonZero = (in != 0) | ((a == INT32_MIN) & (b == INT32_MIN));
        active += inNonZero | (ui != 0) | (vi != 0);
        a0[i] = 0;
        const uint32_t t = uint32_t(decay32(ui, mu)) + (in << shift);
        const int32_t uu = int32_t(t << 8) >> 8; // wrap to 24 bits
        int32_t vv = decay32(vi, mv) + uu - (vi > theta ? delayedSub : 0);
        vv = vv > smax ? smax : (vv < -smax ? -smax : vv);
        const int32_t spike = vv >= fireAt;
        out[i] = (vv & outMask) | (spike & ~outMask);
        u[i] = uu;
        v[i] = spike ? (vv & keep) - spikeSub : vv;
    }
    return active;
}

} // namespace stc::sim::detail

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O3")
#endif
// Spike emission of a slice's neuron update (worker.h, Worker::updateSlice):
// the relay and product updates and the picking of non-zero outputs write
// the slice's events straight into the event buffer, in neuron order.
//
// Implementations with the same results: a portable scalar one (the
// reference), an AVX2 one that tests 8 neurons per compare, takes the
// emitting lanes as a bit mask (movemask) and writes their events with one
// permutation from a table (the "left-pack" of the set lanes), so a slice
// with many spikes does not branch once per spike. The AVX2 one stores 8
// events' worth for every 8 neurons with a spike, past the last real event
// but never past dst + n (before neuron i at most i events were written).
// An AVX-512 one does the same with 16 lanes (and vpcompressd for the
// packing). neuronScans() picks the widest the CPU runs.
#include "sim/worker.h"

#include <array>
#include <cstring>

#if defined(__GNUC__) && defined(__x86_64__)
#define STC_SCAN_AVX2 1
#include <immintrin.h>
#endif

namespace stc::sim::detail {

namespace {

// RelayOr fires at in >= theta (theta is int64; in is int32).
bool relayFires(int32_t in, int64_t theta) { return in >= theta; }

// The portable scans write every neuron's event at the next free slot and
// advance past it only if it is emitted (no branch per neuron: the spike
// densities of 2-20 % make such branches mispredict). The slot is below n.
ScanResult relayPortable(int32_t* a0, const int32_t* bias, int64_t n, bool graded, int64_t theta, uint32_t first,
                         Event* dst)
{
    ScanResult r;
    for (int64_t i = 0; i < n; ++i) {
        const int32_t in = int32_t(uint32_t(a0[i]) + uint32_t(bias[i]));
        a0[i] = 0;
        r.active += in != 0;
        dst[r.emitted] = {first + uint32_t(i), graded ? in : 1};
        r.emitted += (in != 0) & (graded || relayFires(in, theta));
    }
    return r;
}

ScanResult productScalar(int32_t* a0, int32_t* a1, int64_t n, uint32_t first, Event* dst)
{
    ScanResult r;
    for (int64_t i = 0; i < n; ++i) {
        const int32_t x = a0[i], y = a1[i];
        a0[i] = a1[i] = 0;
        r.active += (x | y) != 0;
        // both operands non-zero; the value is the product's low 32 bits (may be 0)
        dst[r.emitted] = {first + uint32_t(i), int32_t(uint32_t(x) * uint32_t(y))};
        r.emitted += (x != 0) & (y != 0);
    }
    return r;
}

// 16 neurons at a time with GCC vector extensions of 4 lanes (SSE2, NEON:
// wider ones are split badly without AVX): most chunks hold no product and
// are only counted and cleared.
ScanResult productPortable(int32_t* a0, int32_t* a1, int64_t n, uint32_t first, Event* dst)
{
    using V = int32_t __attribute__((vector_size(16)));
    const V zero = {};
    V busy = zero; // minus the busy lanes
    ScanResult r;
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        V x[4], y[4], both = zero, any = zero;
        std::memcpy(x, a0 + i, sizeof(x));
        std::memcpy(y, a1 + i, sizeof(y));
        for (int k = 0; k < 4; ++k) {
            both |= (x[k] != 0) & (y[k] != 0);
            any += (x[k] | y[k]) != 0;
        }
        uint64_t w[2];
        std::memcpy(w, &both, sizeof(w));
        if ((w[0] | w[1]) != 0) {
            const ScanResult c = productScalar(a0 + i, a1 + i, 16, first + uint32_t(i), dst + r.emitted);
            r.active += c.active, r.emitted += c.emitted;
            continue;
        }
        busy += any;
        std::memset(a0 + i, 0, 16 * sizeof(int32_t));
        std::memset(a1 + i, 0, 16 * sizeof(int32_t));
    }
    for (int k = 0; k < 4; ++k)
        r.active -= busy[k];
    const ScanResult tail = productScalar(a0 + i, a1 + i, n - i, first + uint32_t(i), dst + r.emitted);
    r.active += tail.active;
    r.emitted += tail.emitted;
    return r;
}

int64_t compactPortable(const int32_t* out, int64_t n, uint32_t first, Event* dst)
{
    int64_t k = 0;
    for (int64_t i = 0; i < n; ++i) {
        dst[k] = {first + uint32_t(i), out[i]};
        k += out[i] != 0;
    }
    return k;
}

#ifdef STC_SCAN_AVX2
// For each 8-bit lane mask: the indices of its set lanes in order, one byte
// each, packed into 64 bits (the rest of the bytes 0).
constexpr std::array<uint64_t, 256> makeLeftPack()
{
    std::array<uint64_t, 256> t{};
    for (unsigned m = 0; m < 256; ++m) {
        int k = 0;
        for (unsigned j = 0; j < 8; ++j)
            if (m & (1u << j))
                t[m] |= uint64_t(j) << (8 * k++);
    }
    return t;
}
constexpr std::array<uint64_t, 256> kLeftPack = makeLeftPack();

#define STC_AVX2 __attribute__((target("avx2,popcnt")))

// Writes the events (idx[j], val[j]) of the lanes j set in m, in lane
// order, at d (always 8 events' worth of stores); returns how many.
STC_AVX2 inline int emit8(Event* d, __m256i idx, __m256i val, unsigned m)
{
    const __m256i perm = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(&kLeftPack[m])));
    idx = _mm256_permutevar8x32_epi32(idx, perm);
    val = _mm256_permutevar8x32_epi32(val, perm);
    const __m256i lo = _mm256_unpacklo_epi32(idx, val); // events 0 1 | 4 5
    const __m256i hi = _mm256_unpackhi_epi32(idx, val); // events 2 3 | 6 7
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(d), _mm256_permute2x128_si256(lo, hi, 0x20));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(d + 4), _mm256_permute2x128_si256(lo, hi, 0x31));
    return __builtin_popcount(m);
}

STC_AVX2 inline unsigned laneMask(__m256i m) { return unsigned(_mm256_movemask_ps(_mm256_castsi256_ps(m))); }

STC_AVX2 inline __m256i load(const int32_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
STC_AVX2 inline void store(int32_t* p, __m256i x) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), x); }

STC_AVX2 ScanResult relayAvx2(int32_t* a0, const int32_t* bias, int64_t n, bool graded, int64_t theta, uint32_t first,
                              Event* dst)
{
    // in >= theta as in > theta - 1 on int32 lanes; theta outside int32 fires never or always.
    const bool never = !graded && theta > INT32_MAX, always = graded || theta <= INT32_MIN;
    const __m256i below = _mm256_set1_epi32(always || never ? 0 : int32_t(theta - 1));
    const __m256i zero = _mm256_setzero_si256(), one = _mm256_set1_epi32(1);
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    ScanResult r;
    Event* d = dst;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256i in = _mm256_add_epi32(load(a0 + i), load(bias + i));
        store(a0 + i, zero);
        const unsigned nz = ~laneMask(_mm256_cmpeq_epi32(in, zero)) & 0xffu;
        if (nz == 0)
            continue;
        r.active += __builtin_popcount(nz);
        const unsigned m = always ? nz : never ? 0u : nz & laneMask(_mm256_cmpgt_epi32(in, below));
        if (m != 0)
            d += emit8(d, _mm256_add_epi32(_mm256_set1_epi32(int32_t(first + uint32_t(i))), lanes),
                       graded ? in : one, m);
    }
    const ScanResult tail = relayPortable(a0 + i, bias + i, n - i, graded, theta, first + uint32_t(i), d);
    r.active += tail.active;
    r.emitted = (d - dst) + tail.emitted;
    return r;
}

STC_AVX2 ScanResult productAvx2(int32_t* a0, int32_t* a1, int64_t n, uint32_t first, Event* dst)
{
    // 16 neurons per iteration, one branch (taken for the few with a
    // product): busy lanes are counted and the operands cleared without
    // testing, as a branch on "some operand non-zero" mispredicts often.
    const __m256i zero = _mm256_setzero_si256();
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    ScanResult r;
    Event* d = dst;
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m256i x0 = load(a0 + i), y0 = load(a1 + i), x1 = load(a0 + i + 8), y1 = load(a1 + i + 8);
        store(a0 + i, zero), store(a1 + i, zero), store(a0 + i + 8, zero), store(a1 + i + 8, zero);
        const unsigned zx = laneMask(_mm256_cmpeq_epi32(x0, zero)) | laneMask(_mm256_cmpeq_epi32(x1, zero)) << 8;
        const unsigned zy = laneMask(_mm256_cmpeq_epi32(y0, zero)) | laneMask(_mm256_cmpeq_epi32(y1, zero)) << 8;
        r.active += __builtin_popcount(~(zx & zy) & 0xffffu);
        const unsigned both = ~(zx | zy) & 0xffffu;
        if (both != 0) { // the products' low 32 bits: mullo
            const __m256i at = _mm256_add_epi32(_mm256_set1_epi32(int32_t(first + uint32_t(i))), lanes);
            d += emit8(d, at, _mm256_mullo_epi32(x0, y0), both & 0xffu);
            d += emit8(d, _mm256_add_epi32(at, _mm256_set1_epi32(8)), _mm256_mullo_epi32(x1, y1), both >> 8);
        }
    }
    const ScanResult tail = productScalar(a0 + i, a1 + i, n - i, first + uint32_t(i), d);
    r.active += tail.active;
    r.emitted = (d - dst) + tail.emitted;
    return r;
}

STC_AVX2 int64_t compactAvx2(const int32_t* out, int64_t n, uint32_t first, Event* dst)
{
    const __m256i zero = _mm256_setzero_si256();
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    Event* d = dst;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256i x = load(out + i);
        const unsigned m = ~laneMask(_mm256_cmpeq_epi32(x, zero)) & 0xffu;
        // No branch on m: LIF slices spike at ~10 %, so "some of 8" is a coin toss.
        d += emit8(d, _mm256_add_epi32(_mm256_set1_epi32(int32_t(first + uint32_t(i))), lanes), x, m);
    }
    return (d - dst) + compactPortable(out + i, n - i, first + uint32_t(i), d);
}

// AVX-512 (F, VL, BW, DQ): 16 lanes per compare, the lane masks in mask
// registers; the emitting lanes' indices and values are packed with
// vpcompressd and interleaved into events with one two-source permutation.
// Stores 16 events' worth per 16 neurons, never past dst + n (as above).
#define STC_AVX512 __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,avx2,popcnt")))

// Writes the events (first + j, val[j]) of the lanes j set in m, in lane order, at d; returns how many.
STC_AVX512 inline int emit16(Event* d, uint32_t first, __m512i val, __mmask16 m)
{
    const __m512i lanes = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512i lo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const __m512i hi = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    const __m512i idx = _mm512_maskz_compress_epi32(m, _mm512_add_epi32(_mm512_set1_epi32(int32_t(first)), lanes));
    val = _mm512_maskz_compress_epi32(m, val);
    _mm512_storeu_si512(d, _mm512_permutex2var_epi32(idx, lo, val));
    _mm512_storeu_si512(d + 8, _mm512_permutex2var_epi32(idx, hi, val));
    return __builtin_popcount(m);
}

STC_AVX512 ScanResult productAvx512(int32_t* a0, int32_t* a1, int64_t n, uint32_t first, Event* dst)
{
    // 32 neurons per iteration and one branch, as productAvx2 does for 16.
    const __m512i zero = _mm512_setzero_si512();
    ScanResult r;
    Event* d = dst;
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        const __m512i x0 = _mm512_loadu_si512(a0 + i), y0 = _mm512_loadu_si512(a1 + i);
        const __m512i x1 = _mm512_loadu_si512(a0 + i + 16), y1 = _mm512_loadu_si512(a1 + i + 16);
        _mm512_storeu_si512(a0 + i, zero), _mm512_storeu_si512(a1 + i, zero);
        _mm512_storeu_si512(a0 + i + 16, zero), _mm512_storeu_si512(a1 + i + 16, zero);
        const uint32_t nx = _mm512_test_epi32_mask(x0, x0) | uint32_t(_mm512_test_epi32_mask(x1, x1)) << 16;
        const uint32_t ny = _mm512_test_epi32_mask(y0, y0) | uint32_t(_mm512_test_epi32_mask(y1, y1)) << 16;
        r.active += __builtin_popcount(nx | ny);
        const uint32_t both = nx & ny;
        if (both != 0) { // the products' low 32 bits: mullo
            d += emit16(d, first + uint32_t(i), _mm512_mullo_epi32(x0, y0), __mmask16(both));
            d += emit16(d, first + uint32_t(i + 16), _mm512_mullo_epi32(x1, y1), __mmask16(both >> 16));
        }
    }
    const ScanResult tail = productAvx2(a0 + i, a1 + i, n - i, first + uint32_t(i), d);
    r.active += tail.active;
    r.emitted = (d - dst) + tail.emitted;
    return r;
}

STC_AVX512 int64_t compactAvx512(const int32_t* out, int64_t n, uint32_t first, Event* dst)
{
    Event* d = dst;
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) { // no branch on the mask, as in compactAvx2
        const __m512i x = _mm512_loadu_si512(out + i);
        d += emit16(d, first + uint32_t(i), x, _mm512_test_epi32_mask(x, x));
    }
    return (d - dst) + compactAvx2(out + i, n - i, first + uint32_t(i), d);
}
#endif // STC_SCAN_AVX2

bool cpuHasAvx2()
{
#ifdef STC_SCAN_AVX2
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("popcnt");
#else
    return false;
#endif
}

bool cpuHasAvx512()
{
#ifdef STC_SCAN_AVX2
    return cpuHasAvx2() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
           __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq");
#else
    return false;
#endif
}

} // namespace

bool scanIsaAvailable(ScanIsa isa)
{
    return isa == ScanIsa::Portable || (isa == ScanIsa::Avx2 ? cpuHasAvx2() : cpuHasAvx512());
}

const NeuronScans& neuronScans(ScanIsa isa)
{
    static const NeuronScans portable{relayPortable, productPortable, compactPortable};
#ifdef STC_SCAN_AVX2
    static const NeuronScans avx2{relayAvx2, productAvx2, compactAvx2};
    static const NeuronScans avx512{relayAvx2, productAvx512, compactAvx512}; // relays: 1 % of the time
    if (isa != ScanIsa::Portable && scanIsaAvailable(isa))
        return isa == ScanIsa::Avx2 ? avx2 : avx512;
#else
    (void)isa;
#endif
    return portable;
}

const NeuronScans& neuronScans()
{
    static const NeuronScans& best = neuronScans(cpuHasAvx512() ? ScanIsa::Avx512
                                                 : cpuHasAvx2() ? ScanIsa::Avx2
                                                                : ScanIsa::Portable);
    return best;
}

} // namespace stc::sim::detail

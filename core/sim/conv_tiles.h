// Internal to core/sim (core_major.cpp): ConvTiles, the delivery of the conv_shared
// messages of one inbox record. Include only after the O3 pragma (the row
// sums must vectorize).
//
// Consecutive messages (up to 32) whose axons share their input position and
// group form a tile: for every tap, their kernel rows (times x, graded) are
// summed in registers and added to the tap's accumulators once per 16 rows,
// instead of one load and store of the accumulators per message. The pull
// plan orders a block's subscriptions so that one position's messages
// follow each other (pull_plan.cpp, tileKey).
//
// The rows come from the group's int8 kernel (ConvPlan::Group::narrow: a
// mantissa per weight and a left shift per feature) when it is valid, else
// from the int32 kernel. With the narrow kernel a tile's mantissas are summed
// and the sum shifted once: (sum of m_r) << e == sum of (m_r << e) mod 2^32,
// and every addition here is uint32 arithmetic, whose result mod 2^32 is the
// exact int32 sum whenever that fits (it does: the quantize pass bounds every
// partial sum inside int32, worker.h), in any order. So both kernels give the
// same accumulators as one message at a time; the narrow one reads a quarter
// of the bytes per row.
#pragma once

#include "sim/worker.h"

#include <type_traits>

namespace stc::sim::detail {

struct ConvTiles {

// Inlined into deliver's clones, so that they vectorize for its ISA.
#define STC_INLINE static inline __attribute__((always_inline))

// int8 rows are summed in int16, at most 16 at a time (|sum| <= 16 x 128),
// 16 lanes per AVX2 register, and widened once.
template <int k, typename Rows>
STC_INLINE auto rowSum(Rows w, uint32_t j)
{
    using Sum = std::conditional_t<sizeof(w[0][0]) == 1, int16_t, uint32_t>;
    if constexpr (k == 1)
        return Sum(w[0][j]);
    else
        return Sum(rowSum<k / 2>(w, j) + rowSum<k / 2>(w + k / 2, j));
}

template <int k, typename Rows>
STC_INLINE uint32_t rowMulSum(Rows w, const uint32_t* x, uint32_t j)
{
    if constexpr (k == 1)
        return x[0] * uint32_t(int32_t(w[0][j]));
    else
        return rowMulSum<k / 2>(w, x, j) + rowMulSum<k / 2>(w + k / 2, x + k / 2, j);
}

// int8 rows times payloads of a graded tile whose sum of |x| is at most
// 255: every product and partial sum fits int16 (255 x 128 < 32768), so
// they are formed in int16 lanes (one multiply per 32 lanes on AVX-512
// instead of a 32-bit multiply per 16) and widened once.
template <int k, typename Rows>
STC_INLINE int16_t rowMulSum16(Rows w, const int16_t* x, uint32_t j)
{
    if constexpr (k == 1)
        return int16_t(x[0] * int16_t(w[0][j]));
    else
        return int16_t(rowMulSum16<k / 2>(w, x, j) + rowMulSum16<k / 2>(w + k / 2, x + k / 2, j));
}

// Per feature j < n of k rows w: d[j] += (the sum over rows r of
// x[r] * w[r][j]) << shift[j] (binary: x == 1; shift null: the int32 kernel).
// k rows (8, 4, 2 or 1) of a binary tile.
template <int k, typename W>
STC_INLINE void addRows(int32_t* __restrict d, const W* base, const size_t* off, const uint32_t* __restrict shift,
                        uint32_t n)
{
    const W* __restrict w[k];
    for (int r = 0; r < k; ++r)
        w[r] = base + off[r];
    if (shift)
        for (uint32_t j = 0; j < n; ++j)
            d[j] = int32_t(uint32_t(d[j]) + (uint32_t(int32_t(rowSum<k>(w, j))) << shift[j]));
    else
        for (uint32_t j = 0; j < n; ++j)
            d[j] = int32_t(uint32_t(d[j]) + uint32_t(int32_t(rowSum<k>(w, j))));
}

// k rows (4, 2 or 1) of a graded tile, with payloads x.
template <int k, typename W>
STC_INLINE void mulAddRows(int32_t* __restrict d, const W* base, const size_t* off, const int32_t* xs,
                           const uint32_t* __restrict shift, uint32_t n)
{
    const W* __restrict w[k];
    uint32_t x[k];
    for (int r = 0; r < k; ++r)
        w[r] = base + off[r], x[r] = uint32_t(xs[r]);
    if (shift)
        for (uint32_t j = 0; j < n; ++j)
            d[j] = int32_t(uint32_t(d[j]) + (rowMulSum<k>(w, x, j) << shift[j]));
    else
        for (uint32_t j = 0; j < n; ++j)
            d[j] = int32_t(uint32_t(d[j]) + rowMulSum<k>(w, x, j));
}

// k int8 rows (8, 4, 2 or 1) of a graded tile with small payloads (rowMulSum16).
template <int k>
STC_INLINE void mulAddRows16(int32_t* __restrict d, const int8_t* base, const size_t* off, const int32_t* xs,
                             const uint32_t* __restrict shift, uint32_t n)
{
    const int8_t* __restrict w[k];
    int16_t x[k];
    for (int r = 0; r < k; ++r)
        w[r] = base + off[r], x[r] = int16_t(xs[r]);
    for (uint32_t j = 0; j < n; ++j)
        d[j] = int32_t(uint32_t(d[j]) + (uint32_t(int32_t(rowMulSum16<k>(w, x, j))) << shift[j]));
}

// The tile's rows base + off[0 .. k) (payloads xs, stride s: 1 binary, 2
// graded) into d; small: a graded tile of int8 rows whose payloads' |x| sum
// to 255 or less.
template <uint32_t s, typename W>
STC_INLINE void addTile(int32_t* d, const W* base, const size_t* off, const int32_t* xs, uint32_t k,
                        const uint32_t* shift, uint32_t n, bool small)
{
    uint32_t j = 0;
    if constexpr (s == 2 && sizeof(W) == 1) {
        if (small) {
            for (; j + 8 <= k; j += 8)
                mulAddRows16<8>(d, base, off + j, xs + j, shift, n);
            if (j + 4 <= k)
                mulAddRows16<4>(d, base, off + j, xs + j, shift, n), j += 4;
            if (j + 2 <= k)
                mulAddRows16<2>(d, base, off + j, xs + j, shift, n), j += 2;
            if (j < k)
                mulAddRows16<1>(d, base, off + j, xs + j, shift, n);
            return;
        }
    }
    if constexpr (s == 1) {
        if constexpr (sizeof(W) == 1)
            for (; j + 16 <= k; j += 16)
                addRows<16>(d, base, off + j, shift, n);
        for (; j + 8 <= k; j += 8)
            addRows<8>(d, base, off + j, shift, n);
        if (j + 4 <= k)
            addRows<4>(d, base, off + j, shift, n), j += 4;
        if (j + 2 <= k)
            addRows<2>(d, base, off + j, shift, n), j += 2;
        if (j < k)
            addRows<1>(d, base, off + j, shift, n);
    } else {
        for (; j + 4 <= k; j += 4)
            mulAddRows<4>(d, base, off + j, xs + j, shift, n);
        if (j + 2 <= k)
            mulAddRows<2>(d, base, off + j, xs + j, shift, n), j += 2;
        if (j < k)
            mulAddRows<1>(d, base, off + j, xs + j, shift, n);
    }
}

// |x| without overflow (a payload of INT32_MIN counts as large).
STC_INLINE uint32_t absOf(int32_t x) { return x < 0 ? 0u - uint32_t(x) : uint32_t(x); }

// Groups of fewer features take the int32 kernel: rows of 16-22 features
// (the bundled model's 3x3 convs) were slower through the widening int8
// loops (3.7 -> 4.7 ms per image with every group narrow).
static constexpr int64_t kNarrowMin = 64;

static constexpr uint32_t kTile = 32; // messages per tile, at most
static_assert(16 * 128 <= 32767, "16 int8 rows must sum inside int16 (rowSum)");

// What a tile needs of its group, looked up again only when the group
// changes (a record's messages are mostly of one group).
struct GroupView {
    int32_t group = -1;
    const int8_t* narrowRows = nullptr; // null: the int32 kernel
    const int32_t* kernelRows = nullptr;
    const uint32_t* shift = nullptr;
    uint32_t n = 0, first = 0;
    bool contiguous = true;
    void of(const ConvPlan& p, int32_t g)
    {
        if (g == group)
            return;
        const ConvPlan::Group& gr = p.groups[size_t(g)];
        group = g;
        n = uint32_t(gr.features.size());
        first = gr.features.empty() ? 0 : gr.features[0];
        contiguous = gr.contiguous;
        const bool narrow = n >= kNarrowMin && gr.narrowValid();
        narrowRows = narrow ? gr.narrow.data() : nullptr;
        kernelRows = gr.kernel.data();
        shift = narrow ? gr.shift.data() : nullptr;
    }
};

// One tile: k <= kTile messages of kernel rows rows[0 .. k) (payloads xs,
// graded: s == 2) whose axons share the contiguous group gv and the taps
// [tapBegin, tapEnd).
template <uint32_t s>
STC_INLINE void deliverTile(const ConvPlan& p, const GroupView& gv, int32_t tapBegin, int32_t tapEnd,
                            const int32_t* rows, const int32_t* xs, uint32_t k, int32_t* acc, int64_t& ops,
                            int64_t& bytes)
{
    uint32_t absSum = 0;
    if constexpr (s == 2)
        for (uint32_t j = 0; j < k; ++j)
            absSum += absOf(xs[j]);
    const bool small = absSum <= 255;
    const uint32_t n = gv.n;
    // The rows' offsets in the kernel, multiplied once per tile rather
    // than once per tap.
    size_t off[kTile];
    for (uint32_t j = 0; j < k; ++j)
        off[j] = size_t(uint32_t(rows[j])) * n;
    for (int32_t t = tapBegin; t < tapEnd; ++t) {
        const size_t tap = size_t(uint32_t(p.tapTap[size_t(t)])) * n;
        int32_t* d = acc + p.tapBase[size_t(t)] + gv.first;
        if (gv.narrowRows)
            addTile<s>(d, gv.narrowRows + tap, off, xs, k, gv.shift, n, small);
        else
            addTile<s>(d, gv.kernelRows + tap, off, xs, k, static_cast<const uint32_t*>(nullptr), n, false);
    }
    ops += int64_t(k) * (tapEnd - tapBegin) * n;
    bytes += int64_t(k) * (4 + (tapEnd - tapBegin) * p.bytesPerTap);
}

// The messages e[0 .. m) (stride s) of one record into block b.
template <uint32_t s>
STC_INLINE void deliverTiles(const SynapseBlock& b, const uint32_t* e, uint32_t m,
                                                               int32_t* acc, int64_t& ops, int64_t& bytes)
{
    const ConvPlan& p = b.plan;
    const ConvPlan::Axon* axons = p.axons.data();
    GroupView gv;
    uint32_t ahead = 0;
    for (; ahead < m && ahead < 2 * kTile; ++ahead)
        prefetch(axons + e[s * ahead]);
    for (uint32_t i = 0; i < m;) {
        for (; ahead < m && ahead < i + 2 * kTile; ++ahead)
            prefetch(axons + e[s * ahead]);
        const ConvPlan::Axon ax = axons[e[s * i]];
        gv.of(p, ax.group);
        if (!gv.contiguous) {
            const int32_t x = s == 2 ? int32_t(e[s * i + 1]) : 1;
            const auto [o, by] = Worker::walkRecord(b, e[s * i], [&](uint32_t at, const int32_t* w, uint32_t len) {
                Worker::accumulate(acc + at, w, len, x);
            });
            ops += o, bytes += by;
            ++i;
            continue;
        }
        int32_t rows[kTile]; // kernel rows (x taps) of the tile's messages
        int32_t xs[kTile];   // their payloads (graded)
        rows[0] = ax.kernelRow;
        xs[0] = s == 2 ? int32_t(e[s * i + 1]) : 1;
        uint32_t k = 1;
        for (; k < kTile && i + k < m; ++k) {
            const ConvPlan::Axon a = axons[e[s * (i + k)]];
            if (a.group != ax.group || a.tapBegin != ax.tapBegin || a.tapEnd != ax.tapEnd)
                break;
            rows[k] = a.kernelRow;
            xs[k] = s == 2 ? int32_t(e[s * (i + k) + 1]) : 1;
        }
        deliverTile<s>(p, gv, ax.tapBegin, ax.tapEnd, rows, xs, k, acc, ops, bytes);
        i += k;
    }
}

// Tiles gathered without records (CoreMajor::deliverPulls, from
// subscriptions in tile form, pull_plan.h): the kernel rows
// rows[begin .. begin + count) (count <= kTile), with payloads xs[...] when
// graded, of axons of one contiguous group and tap list.
struct Gathered {
    int32_t group, tapBegin, tapEnd;
    uint32_t begin, count, graded;
};

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
__attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
#endif
static void deliverGathered(const SynapseBlock& b, const Gathered* tiles, size_t nt, const int32_t* binRows,
                            const int32_t* gradedRows, const int32_t* xs, int32_t* acc, int64_t& ops, int64_t& bytes)
{
    static const int32_t ones[kTile] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
                                        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    GroupView gv;
    for (size_t i = 0; i < nt; ++i) {
        const Gathered& t = tiles[i];
        gv.of(b.plan, t.group);
        if (t.graded)
            deliverTile<2>(b.plan, gv, t.tapBegin, t.tapEnd, gradedRows + t.begin, xs + t.begin, t.count, acc, ops,
                           bytes);
        else
            deliverTile<1>(b.plan, gv, t.tapBegin, t.tapEnd, binRows + t.begin, ones, t.count, acc, ops, bytes);
    }
}

// Clones of its own: it is not inlined into deliverRecord's, and the
// default build's row sums are 4 lanes wide (and have no 32-bit vector
// multiply). The AVX-512 clone sums 32 int8 rows' lanes per instruction:
// 32-41 G synaptic ops/s against 19.5-23 (AVX2) and 11-20 (int32 kernel,
// either ISA) for 8-row tiles from kernels of up to 3 MB (a micro-benchmark,
// docs/performance.md, session 15). deliverRecord needs the same clones: GCC
// calls the clone matching the caller's clone directly.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
__attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
#endif
static void deliver(const SynapseBlock& b, const uint32_t* e, uint32_t m, bool graded, int32_t* acc, int64_t& ops,
                    int64_t& bytes)
{
    if (graded)
        deliverTiles<2>(b, e, m, acc, ops, bytes);
    else
        deliverTiles<1>(b, e, m, acc, ops, bytes);
}

#undef STC_INLINE

};

} // namespace stc::sim::detail

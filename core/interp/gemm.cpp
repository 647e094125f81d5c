#include "interp/gemm.h"

#include "interp/thread_pool.h"

#include <algorithm>
#include <cstring>

namespace stc::interp {

namespace {

// Cache blocking (in strips): a kKC x kGemmNR panel of B stays in L1 while it is
// multiplied with kMCStrips strips of A (about 96 rows x kKC, in L2).
constexpr int64_t kKC = 256;
constexpr int64_t kMCStrips = 16;
constexpr int64_t kNCStrips = 64;

// GCC/Clang vector extension: 8 floats. Lowered to two SSE registers on the
// x86-64 baseline and to one AVX register in the avx2 clone below. Operations
// are element-wise IEEE multiplies and adds either way, so both give the same bits.
typedef float v8f __attribute__((vector_size(32)));

// (Loads and stores go through references: passing a 32-byte vector by value
// would change the ABI between the SSE and AVX clones, see -Wpsabi.)
inline __attribute__((always_inline)) void load8(v8f& v, const float* p) { std::memcpy(&v, p, sizeof v); }
inline __attribute__((always_inline)) void store8(float* p, const v8f& v) { std::memcpy(p, &v, sizeof v); }

// c[0..6)[0..8) (row stride ldc) = (load ? c : 0) + sum_k a[k][r] * b[k][j], k ascending.
inline __attribute__((always_inline)) void microKernel(int64_t kc, const float* __restrict a,
                                                       const float* __restrict b, float* __restrict c,
                                                       int64_t ldc, bool load)
{
    v8f c0 = {}, c1 = {}, c2 = {}, c3 = {}, c4 = {}, c5 = {};
    if (load) {
        load8(c0, c + 0 * ldc);
        load8(c1, c + 1 * ldc);
        load8(c2, c + 2 * ldc);
        load8(c3, c + 3 * ldc);
        load8(c4, c + 4 * ldc);
        load8(c5, c + 5 * ldc);
    }
    for (int64_t k = 0; k < kc; ++k) {
        v8f bv;
        load8(bv, b);
        c0 += a[0] * bv;
        c1 += a[1] * bv;
        c2 += a[2] * bv;
        c3 += a[3] * bv;
        c4 += a[4] * bv;
        c5 += a[5] * bv;
        a += kGemmMR;
        b += kGemmNR;
    }
    store8(c + 0 * ldc, c0);
    store8(c + 1 * ldc, c1);
    store8(c + 2 * ldc, c2);
    store8(c + 3 * ldc, c3);
    store8(c + 4 * ldc, c4);
    store8(c + 5 * ldc, c5);
}

static_assert(kGemmMR == 6 && kGemmNR == 8, "microKernel is written for 6x8 tiles");

} // namespace

void packA(int64_t m, int64_t k, MatRef a, float* out)
{
    for (int64_t s = 0; s * kGemmMR < m; ++s) {
        const int64_t r0 = s * kGemmMR;
        const int64_t rows = std::min(kGemmMR, m - r0);
        float* dst = out + s * kGemmMR * k;
        if (rows == kGemmMR && a.cs == 1) {
            const float* src[kGemmMR];
            for (int64_t r = 0; r < kGemmMR; ++r)
                src[r] = a.p + (r0 + r) * a.rs;
            for (int64_t kk = 0; kk < k; ++kk, dst += kGemmMR)
                for (int64_t r = 0; r < kGemmMR; ++r)
                    dst[r] = src[r][kk];
            continue;
        }
        for (int64_t kk = 0; kk < k; ++kk, dst += kGemmMR) {
            for (int64_t r = 0; r < rows; ++r)
                dst[r] = a.p[(r0 + r) * a.rs + kk * a.cs];
            for (int64_t r = rows; r < kGemmMR; ++r)
                dst[r] = 0.0f;
        }
    }
}

void packB(int64_t k, int64_t n, MatRef b, float* out)
{
    for (int64_t s = 0; s * kGemmNR < n; ++s) {
        const int64_t c0 = s * kGemmNR;
        const int64_t cols = std::min(kGemmNR, n - c0);
        float* dst = out + s * kGemmNR * k;
        if (cols == kGemmNR && b.cs == 1) {
            const float* src = b.p + c0;
            for (int64_t kk = 0; kk < k; ++kk, dst += kGemmNR, src += b.rs)
                std::memcpy(dst, src, sizeof(float) * kGemmNR);
            continue;
        }
        for (int64_t kk = 0; kk < k; ++kk, dst += kGemmNR) {
            const float* src = b.p + kk * b.rs + c0 * b.cs;
            for (int64_t c = 0; c < cols; ++c)
                dst[c] = src[c * b.cs];
            for (int64_t c = cols; c < kGemmNR; ++c)
                dst[c] = 0.0f;
        }
    }
}

#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__) && !defined(STC_NO_TARGET_CLONES)
__attribute__((target_clones("avx2", "default")))
#endif
void gemmPackedRange(int64_t m, int64_t n, int64_t k, const float* ap, const float* bp, float* c, int64_t ldc,
                     bool accumulate, int64_t ms0, int64_t ms1, int64_t ns0, int64_t ns1)
{
    if (k == 0) {
        if (!accumulate)
            for (int64_t i = ms0 * kGemmMR; i < std::min(m, ms1 * kGemmMR); ++i)
                for (int64_t j = ns0 * kGemmNR; j < std::min(n, ns1 * kGemmNR); ++j)
                    c[i * ldc + j] = 0.0f;
        return;
    }
    alignas(32) float tile[kGemmMR * kGemmNR];
    for (int64_t pc = 0; pc < k; pc += kKC) {
        const int64_t kc = std::min(kKC, k - pc);
        const bool load = accumulate || pc > 0;
        for (int64_t jb = ns0; jb < ns1; jb += kNCStrips) {
            const int64_t je = std::min(ns1, jb + kNCStrips);
            for (int64_t ib = ms0; ib < ms1; ib += kMCStrips) {
                const int64_t ie = std::min(ms1, ib + kMCStrips);
                for (int64_t js = jb; js < je; ++js) {
                    const float* bs = bp + js * kGemmNR * k + pc * kGemmNR;
                    const int64_t j0 = js * kGemmNR;
                    const int64_t cols = std::min(kGemmNR, n - j0);
                    for (int64_t is = ib; is < ie; ++is) {
                        const float* as = ap + is * kGemmMR * k + pc * kGemmMR;
                        const int64_t i0 = is * kGemmMR;
                        const int64_t rows = std::min(kGemmMR, m - i0);
                        float* ct = c + i0 * ldc + j0;
                        if (rows == kGemmMR && cols == kGemmNR) {
                            microKernel(kc, as, bs, ct, ldc, load);
                            continue;
                        }
                        // Edge tile: go through a full 6x8 buffer, same arithmetic.
                        for (int64_t r = 0; r < kGemmMR; ++r)
                            for (int64_t q = 0; q < kGemmNR; ++q)
                                tile[r * kGemmNR + q] = (load && r < rows && q < cols) ? ct[r * ldc + q] : 0.0f;
                        microKernel(kc, as, bs, tile, kGemmNR, load);
                        for (int64_t r = 0; r < rows; ++r)
                            for (int64_t q = 0; q < cols; ++q)
                                ct[r * ldc + q] = tile[r * kGemmNR + q];
                    }
                }
            }
        }
    }
}

void gemmPacked(int64_t m, int64_t n, int64_t k, const float* ap, const float* bp, float* c, int64_t ldc,
                bool accumulate, ThreadPool* pool)
{
    const int64_t ms = gemmStrips(m, kGemmMR), ns = gemmStrips(n, kGemmNR);
    const int threads = pool ? pool->size() : 1;
    const double flops = 2.0 * double(m) * double(n) * double(k);
    if (threads <= 1 || flops < 2.0e5 || (ms < 2 && ns < 2)) {
        gemmPackedRange(m, n, k, ap, bp, c, ldc, accumulate, 0, ms, 0, ns);
        return;
    }
    // Split the larger strip dimension into a few chunks per thread.
    const bool splitN = ns >= ms;
    const int64_t strips = splitN ? ns : ms;
    const int64_t chunks = std::min<int64_t>(strips, threads * 4);
    pool->parallelFor(chunks, [&](int64_t t, int) {
        const int64_t s0 = strips * t / chunks, s1 = strips * (t + 1) / chunks;
        if (splitN)
            gemmPackedRange(m, n, k, ap, bp, c, ldc, accumulate, 0, ms, s0, s1);
        else
            gemmPackedRange(m, n, k, ap, bp, c, ldc, accumulate, s0, s1, 0, ns);
    });
}

void gemm(int64_t m, int64_t n, int64_t k, MatRef a, MatRef b, float* c, int64_t ldc, bool accumulate,
          std::vector<float>& scratchA, std::vector<float>& scratchB)
{
    const auto sa = static_cast<size_t>(packedASize(m, k)), sb = static_cast<size_t>(packedBSize(k, n));
    if (scratchA.size() < sa)
        scratchA.resize(sa);
    if (scratchB.size() < sb)
        scratchB.resize(sb);
    packA(m, k, a, scratchA.data());
    packB(k, n, b, scratchB.data());
    gemmPackedRange(m, n, k, scratchA.data(), scratchB.data(), c, ldc, accumulate, 0, gemmStrips(m, kGemmMR), 0,
                    gemmStrips(n, kGemmNR));
}

} // namespace stc::interp

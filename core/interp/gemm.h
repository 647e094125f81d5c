// Single-precision matrix product for the reference interpreter.
//
// C[M,N] = A[M,K] * B[K,N]. Both operands are first packed into strips
// (A: kGemmMR rows, B: kGemmNR columns, zero padded, k-major) covering all of K;
// a register-blocked micro-kernel then walks cache-sized blocks. Every C element
// is accumulated in ascending k order starting from 0 (or from C's previous
// value when accumulating), with separately rounded multiplies and adds (no
// FMA), so the result does not depend on the blocking, the thread split or the
// SIMD width the CPU offers.
#pragma once

#include <cstdint>
#include <vector>

namespace stc::interp {

class ThreadPool;

constexpr int64_t kGemmMR = 6;
constexpr int64_t kGemmNR = 8;

// A strided view of a matrix: element (i, j) is p[i * rs + j * cs].
struct MatRef {
    const float* p = nullptr;
    int64_t rs = 0;
    int64_t cs = 1;
};

inline int64_t gemmStrips(int64_t n, int64_t width) { return (n + width - 1) / width; }
inline int64_t packedASize(int64_t m, int64_t k) { return gemmStrips(m, kGemmMR) * kGemmMR * k; }
inline int64_t packedBSize(int64_t k, int64_t n) { return gemmStrips(n, kGemmNR) * kGemmNR * k; }

// Packs A (M x K) into strips of kGemmMR rows: out[s][k][r]. out needs packedASize(M, K) floats.
void packA(int64_t m, int64_t k, MatRef a, float* out);
// Packs B (K x N) into strips of kGemmNR columns: out[s][k][c]. out needs packedBSize(K, N) floats.
void packB(int64_t k, int64_t n, MatRef b, float* out);

// C (row stride ldc) = [C +] Ap * Bp restricted to row strips [ms0, ms1) and column strips [ns0, ns1).
void gemmPackedRange(int64_t m, int64_t n, int64_t k, const float* ap, const float* bp, float* c, int64_t ldc,
                     bool accumulate, int64_t ms0, int64_t ms1, int64_t ns0, int64_t ns1);

// The whole product, split over `pool` (serial when pool is null or has one thread).
void gemmPacked(int64_t m, int64_t n, int64_t k, const float* ap, const float* bp, float* c, int64_t ldc,
                bool accumulate, ThreadPool* pool);

// Packs both operands into the given scratch vectors (grown as needed) and multiplies, serially.
void gemm(int64_t m, int64_t n, int64_t k, MatRef a, MatRef b, float* c, int64_t ldc, bool accumulate,
          std::vector<float>& scratchA, std::vector<float>& scratchB);

} // namespace stc::interp

// Shared plumbing of the interpreter's kernels: how a value's storage looks
// during a run and what a kernel may use (thread pool, per-worker scratch).
// Internal to core/interp.
#pragma once

#include "interp/thread_pool.h"

#include <algorithm>
#include <cstdint>
#include <vector>

namespace stc::interp::detail {

// A value's storage for a batch: sample b starts at p + b * bstride.
// bstride == 0 means every sample sees the same data (the value does not
// depend on the model inputs, e.g. a constant or something computed from one).
struct In {
    const float* p = nullptr;
    int64_t bstride = 0;
    const float* at(int64_t b) const { return p + b * bstride; }
};

struct Out {
    float* p = nullptr;
    int64_t bstride = 0;
    float* at(int64_t b) const { return p + b * bstride; }
};

// Scratch buffers owned by one worker thread. They only grow, so after the
// first time step a run does not allocate in its kernels.
struct Scratch {
    std::vector<float> a, b, col, tmp;
    std::vector<double> acc;
};

template <typename T> inline T* grow(std::vector<T>& v, int64_t n)
{
    if (v.size() < static_cast<size_t>(n))
        v.resize(static_cast<size_t>(n));
    return v.data();
}

// Calls body(i) for i in [i0, i1): blocks of 8 with a fixed-count inner loop,
// which GCC's -O2 ("very cheap" cost model) vectorizer turns into SIMD code,
// then the scalar tail. Element-wise bodies compute the same bits either way.
template <typename F> inline void forEach8(int64_t i0, int64_t i1, F&& body)
{
    int64_t i = i0;
    for (; i + 8 <= i1; i += 8)
        for (int j = 0; j < 8; ++j)
            body(i + j);
    for (; i < i1; ++i)
        body(i);
}

struct Exec {
    ThreadPool* pool = nullptr;
    std::vector<Scratch>* scratch = nullptr; // one per pool thread
    int threads() const { return pool ? pool->size() : 1; }
    Scratch& scratchOf(int worker) const { return (*scratch)[static_cast<size_t>(worker)]; }

    // Splits [0, n) into contiguous chunks (at least `grain` items each, at most
    // a few per thread) and runs fn(begin, end, worker) on the pool.
    template <typename Fn> void forRange(int64_t n, int64_t grain, Fn&& fn) const
    {
        if (n <= 0)
            return;
        const int t = threads();
        int64_t chunks = grain > 0 ? n / grain : n;
        chunks = std::max<int64_t>(1, std::min<int64_t>(chunks, int64_t(t) * 4));
        if (chunks == 1 || t == 1) {
            fn(int64_t(0), n, 0);
            return;
        }
        pool->parallelFor(chunks, [&](int64_t c, int worker) { fn(n * c / chunks, n * (c + 1) / chunks, worker); });
    }
};

} // namespace stc::interp::detail

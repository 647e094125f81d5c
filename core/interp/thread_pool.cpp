#include "interp/thread_pool.h"

namespace stc::interp {

ThreadPool::ThreadPool(int threads)
{
    if (threads < 1)
        threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    workers_.reserve(static_cast<size_t>(threads - 1));
    for (int i = 1; i < threads; ++i)
        workers_.emplace_back([this, i] { workerLoop(i); });
}

ThreadPool::~ThreadPool()
{
    {
        std::lock_guard lock(mutex_);
        stop_ = true;
    }
    wake_.notify_all();
    for (auto& t : workers_)
        t.join();
}

void ThreadPool::runTasks(const Job& job, int worker)
{
    const uint64_t gen = uint64_t(job.generation) << 32;
    uint64_t cur = claim_.load(std::memory_order_acquire);
    for (;;) {
        if ((cur & ~0xFFFFFFFFull) != gen || int64_t(cur & 0xFFFFFFFFull) >= job.count)
            return; // the job is over (or a newer one runs)
        if (!claim_.compare_exchange_weak(cur, cur + 1, std::memory_order_acq_rel, std::memory_order_acquire))
            continue;
        const int64_t task = int64_t(cur & 0xFFFFFFFFull);
        try {
            (*job.fn)(task, worker);
        } catch (...) {
            std::lock_guard lock(mutex_);
            if (!error_)
                error_ = std::current_exception();
        }
        if (completed_.fetch_add(1, std::memory_order_acq_rel) + 1 == job.count) {
            std::lock_guard lock(mutex_); // pairs with the wait in parallelFor
            done_.notify_all();
        }
        cur = claim_.load(std::memory_order_acquire);
    }
}

void ThreadPool::workerLoop(int worker)
{
    uint32_t seen = 0;
    for (;;) {
        Job job;
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [&] { return stop_ || job_.generation != seen; });
            if (stop_)
                return;
            job = job_;
            seen = job.generation;
        }
        runTasks(job, worker);
    }
}

void ThreadPool::parallelFor(int64_t count, const TaskFn& fn)
{
    if (count <= 0)
        return;
    if (count == 1 || workers_.empty()) {
        for (int64_t i = 0; i < count; ++i)
            fn(i, 0);
        return;
    }
    Job job;
    {
        std::lock_guard lock(mutex_);
        job_.fn = &fn;
        job_.count = count;
        ++job_.generation;
        job = job_;
        error_ = nullptr;
        completed_.store(0, std::memory_order_relaxed);
        claim_.store(uint64_t(job.generation) << 32, std::memory_order_release);
    }
    wake_.notify_all();
    runTasks(job, 0);
    // Wait for tasks claimed by workers (not for workers that never woke up).
    for (int spin = 0; spin < 2000 && completed_.load(std::memory_order_acquire) < count; ++spin)
        std::this_thread::yield();
    std::exception_ptr error;
    {
        std::unique_lock lock(mutex_);
        done_.wait(lock, [&] { return completed_.load(std::memory_order_acquire) >= count; });
        error = error_;
        error_ = nullptr;
    }
    if (error)
        std::rethrow_exception(error);
}

} // namespace stc::interp

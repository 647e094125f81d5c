// A small fork-join pool for the reference interpreter: parallelFor() hands out
// task indices to the calling thread and to `threads - 1` workers and returns
// when every task has run. Work decomposition never changes the arithmetic of a
// single output element, so results do not depend on the number of threads.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace stc::interp {

class ThreadPool {
public:
    // threads < 1 means "as many as the hardware has".
    explicit ThreadPool(int threads);
    ~ThreadPool();
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    // Number of threads taking part in parallelFor (workers + caller).
    int size() const { return static_cast<int>(workers_.size()) + 1; }

    // Runs fn(task, worker) for every task in [0, count) (count < 2^32); worker is in [0, size()).
    // Runs inline when count <= 1 or the pool has one thread. An exception
    // thrown by a task is rethrown here (the other tasks still finish).
    using TaskFn = std::function<void(int64_t task, int worker)>;
    void parallelFor(int64_t count, const TaskFn& fn);

private:
    struct Job {
        const TaskFn* fn = nullptr;
        int64_t count = 0;
        uint32_t generation = 0;
    };
    void workerLoop(int worker);
    // Claims and runs tasks of `job` until none is left. Claims go through a
    // CAS on claim_ = (generation << 32 | next task), so a worker that wakes up
    // late never takes a task of a later job.
    void runTasks(const Job& job, int worker);

    std::vector<std::thread> workers_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::condition_variable done_;
    Job job_;                       // guarded by mutex_
    std::atomic<uint64_t> claim_{0};
    std::atomic<int64_t> completed_{0};
    bool stop_ = false;
    std::exception_ptr error_;
};

} // namespace stc::interp

// Background jobs for the IDE. Each job runs on the Qt thread pool with a
// cancel flag and a progress callback; results come back on the GUI thread.
// Jobs live in lanes (import, layout, run, ...). Starting a job in a lane
// cancels the previous one there and bumps the lane's generation id, so a
// stale result that arrives late is dropped instead of overwriting a newer one.
#pragma once

#include <QElapsedTimer>
#include <QFutureWatcher>
#include <QObject>
#include <QPointer>
#include <QString>
#include <QThreadPool>
#include <QtConcurrent/QtConcurrentRun>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace stc::views {

// What a running job sees. Passed by reference to the work function; the
// cancel flag can be handed to core functions (std::atomic<bool>*).
class JobContext {
public:
    std::atomic<bool> cancelRequested{false};
    bool cancelled() const { return cancelRequested.load(std::memory_order_relaxed); }
    // Thread-safe; throttled before it reaches the GUI thread.
    void progress(double fraction, const std::string& message);
    const std::atomic<bool>* cancelFlag() const { return &cancelRequested; }

private:
    friend class JobRunner;
    std::function<void(double, const QString&)> report_;
    std::mutex mutex_;
    qint64 lastReportMs_ = -1000;
};

// Called on pool threads: jobs run at a lower scheduling priority (Linux:
// nice +5 for the thread) so that on a loaded machine the GUI thread wins the
// CPU it needs to stay responsive; on two cores, two busy workers otherwise
// starved it for 100-200 ms on the first open.
void lowerWorkerPriority();

class JobRunner : public QObject {
    Q_OBJECT
public:
    explicit JobRunner(QObject* parent = nullptr);
    ~JobRunner() override;

    struct JobInfo {
        quint64 id = 0;
        QString lane;
        QString title;
        double progress = 0.0;
        QString message;
    };

    // Runs `work(ctx)` off the GUI thread; `done(result)` runs on the GUI
    // thread only if this job is still the newest of its lane and was not
    // cancelled. Returns the job's generation id.
    template <typename R>
    quint64 start(const QString& lane, const QString& title, std::function<R(JobContext&)> work,
                  std::function<void(R)> done)
    {
        auto [id, ctx] = begin(lane, title);
        auto* watcher = new QFutureWatcher<R>(this);
        watcher->setObjectName(lane); // names the lane in event-dispatch profiles
        QPointer<JobRunner> self(this);
        connect(watcher, &QFutureWatcher<R>::finished, this, [this, watcher, id, lane, ctx, done]() {
            const bool current = isCurrent(lane, id) && !ctx->cancelled();
            if (current && done) {
                QElapsedTimer t;
                t.start();
                done(watcher->result());
                reportSlowCallback(lane, t.nsecsElapsed());
            }
            finish(lane, id, !current);
            watcher->deleteLater();
        });
        watcher->setFuture(QtConcurrent::run(pool_, [work, ctx]() {
            lowerWorkerPriority();
            return work(*ctx);
        }));
        return id;
    }

    bool isCurrent(const QString& lane, quint64 id) const;
    bool isBusy() const { return !running_.empty(); }
    bool isRunning(const QString& lane) const;
    QList<JobInfo> runningJobs() const;
    quint64 generation(const QString& lane) const;

    // Waits (spinning the event loop) until no job is running or the timeout
    // passes. For tests and the headless mode; never call from a slot.
    bool waitForIdle(int timeoutMs);

    // Slowest result callback (GUI-thread work per job result) since the last reset.
    double maxCallbackMs() const { return maxCallbackMs_; }
    QString slowestCallbackLane() const { return slowestLane_; }
    void resetCallbackStats()
    {
        maxCallbackMs_ = 0;
        slowestLane_.clear();
    }

public slots:
    void cancel(const QString& lane);
    void cancelAll();

signals:
    void jobStarted(quint64 id, const QString& lane, const QString& title);
    void jobProgress(quint64 id, double fraction, const QString& message);
    void jobFinished(quint64 id, const QString& lane, bool dropped);
    void busyChanged(bool busy);

private:
    // Result callbacks run on the GUI thread; slow ones are logged (category stc.jobs).
    void reportSlowCallback(const QString& lane, qint64 ns);
    std::pair<quint64, std::shared_ptr<JobContext>> begin(const QString& lane, const QString& title);
    void finish(const QString& lane, quint64 id, bool dropped);

    // Jobs do not run on QThreadPool::globalInstance(): Qt's raster paint
    // engine splits large fills and image draws across that pool and the GUI
    // thread waits for the pieces, so two long jobs there made a 0.3 ms paint
    // wait 30-160 ms for a free pool thread (measured in bench_studio).
    QThreadPool* pool_;
    quint64 nextId_ = 1;
    std::map<QString, quint64> laneGeneration_;
    std::map<quint64, std::shared_ptr<JobContext>> contexts_;
    std::map<quint64, JobInfo> running_;
    double maxCallbackMs_ = 0;
    QString slowestLane_;
};

} // namespace stc::views

#include "jobs/job_runner.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QLoggingCategory>
#include <QThread>
#include <QThreadPool>
#include <QTimer>

#include <algorithm>

#ifdef __linux__
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace stc::views {

void lowerWorkerPriority()
{
#ifdef __linux__
    thread_local bool lowered = false;
    if (lowered)
        return;
    lowered = true;
    const auto tid = id_t(syscall(SYS_gettid));
    const int current = getpriority(PRIO_PROCESS, tid);
    if (current < 5)
        setpriority(PRIO_PROCESS, tid, 5);
#endif
}

void JobContext::progress(double fraction, const std::string& message)
{
    std::function<void(double, const QString&)> report;
    {
        std::lock_guard lock(mutex_);
        const qint64 now = QDateTime::currentMSecsSinceEpoch();
        // At most ~30 updates per second cross to the GUI thread.
        if (now - lastReportMs_ < 33 && fraction < 1.0)
            return;
        lastReportMs_ = now;
        report = report_;
    }
    if (report)
        report(fraction, QString::fromStdString(message));
}

Q_LOGGING_CATEGORY(lcJobs, "stc.jobs")

void JobRunner::reportSlowCallback(const QString& lane, qint64 ns)
{
    if (ns / 1e6 > maxCallbackMs_) {
        maxCallbackMs_ = ns / 1e6;
        slowestLane_ = lane;
    }
    if (ns > 16'000'000)
        qCWarning(lcJobs, "result callback of lane '%s' blocked the GUI thread for %.1f ms", qPrintable(lane), ns / 1e6);
}

JobRunner::JobRunner(QObject* parent) : QObject(parent), pool_(new QThreadPool)
{
    pool_->setMaxThreadCount(std::max(2, QThread::idealThreadCount()));
    pool_->setExpiryTimeout(-1); // no thread creation on the GUI thread again after 30 s idle (see settings_writer.h)
}

JobRunner::~JobRunner()
{
    cancelAll();
    // Jobs may still reference their contexts (shared_ptr) but never `this`
    // after the watchers are gone; wait so no worker outlives the app's data.
    // A job that ignores its cancel flag for 5 s keeps its pool: deleting a
    // QThreadPool waits without a limit.
    if (pool_->waitForDone(5000))
        delete pool_;
}

std::pair<quint64, std::shared_ptr<JobContext>> JobRunner::begin(const QString& lane, const QString& title)
{
    cancel(lane);
    const quint64 id = nextId_++;
    laneGeneration_[lane] = id;
    auto ctx = std::make_shared<JobContext>();
    QPointer<JobRunner> self(this);
    ctx->report_ = [self, id](double f, const QString& msg) {
        if (!self)
            return;
        QMetaObject::invokeMethod(
            self.data(),
            [self, id, f, msg]() {
                if (!self)
                    return;
                auto it = self->running_.find(id);
                if (it == self->running_.end())
                    return;
                it->second.progress = f;
                it->second.message = msg;
                emit self->jobProgress(id, f, msg);
            },
            Qt::QueuedConnection);
    };
    contexts_[id] = ctx;
    const bool wasBusy = isBusy();
    running_[id] = JobInfo{id, lane, title, 0.0, {}};
    emit jobStarted(id, lane, title);
    if (!wasBusy)
        emit busyChanged(true);
    return {id, ctx};
}

void JobRunner::finish(const QString& lane, quint64 id, bool dropped)
{
    contexts_.erase(id);
    running_.erase(id);
    emit jobFinished(id, lane, dropped);
    if (!isBusy())
        emit busyChanged(false);
}

bool JobRunner::isCurrent(const QString& lane, quint64 id) const
{
    auto it = laneGeneration_.find(lane);
    return it != laneGeneration_.end() && it->second == id;
}

bool JobRunner::isRunning(const QString& lane) const
{
    for (const auto& [id, info] : running_)
        if (info.lane == lane)
            return true;
    return false;
}

QList<JobRunner::JobInfo> JobRunner::runningJobs() const
{
    QList<JobInfo> out;
    for (const auto& [id, info] : running_)
        out << info;
    return out;
}

quint64 JobRunner::generation(const QString& lane) const
{
    auto it = laneGeneration_.find(lane);
    return it == laneGeneration_.end() ? 0 : it->second;
}

bool JobRunner::waitForIdle(int timeoutMs)
{
    if (!isBusy())
        return true;
    // A real event loop sleeps between events instead of spinning, so the
    // waiting thread does not compete with the job for a core.
    QEventLoop loop;
    QTimer::singleShot(timeoutMs, &loop, &QEventLoop::quit);
    auto conn = connect(this, &JobRunner::busyChanged, &loop, [&loop](bool busy) {
        if (!busy)
            loop.quit();
    });
    loop.exec();
    disconnect(conn);
    return !isBusy();
}

void JobRunner::cancel(const QString& lane)
{
    for (auto& [id, info] : running_)
        if (info.lane == lane)
            if (auto it = contexts_.find(id); it != contexts_.end())
                it->second->cancelRequested = true;
}

void JobRunner::cancelAll()
{
    for (auto& [id, ctx] : contexts_)
        ctx->cancelRequested = true;
}

} // namespace stc::views

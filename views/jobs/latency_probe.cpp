#include "jobs/latency_probe.h"

#include <algorithm>

namespace stc::views {

LatencyProbe::LatencyProbe(int intervalMs, QObject* parent) : QObject(parent), intervalMs_(intervalMs)
{
    timer_.setTimerType(Qt::PreciseTimer);
    timer_.setInterval(intervalMs_);
    connect(&timer_, &QTimer::timeout, this, &LatencyProbe::tick);
}

void LatencyProbe::start()
{
    reset();
    clock_.start();
    lastNs_ = clock_.nsecsElapsed();
    timer_.start();
}

void LatencyProbe::stop() { timer_.stop(); }

void LatencyProbe::reset() { latenessMs_.clear(); }

void LatencyProbe::tick()
{
    const qint64 now = clock_.nsecsElapsed();
    const double late = double(now - lastNs_) / 1e6 - intervalMs_;
    lastNs_ = now;
    latenessMs_.push_back(std::max(0.0, late));
}

LatencyStats LatencyProbe::stats() const
{
    LatencyStats s;
    s.samples = static_cast<int>(latenessMs_.size());
    if (latenessMs_.empty())
        return s;
    std::vector<double> sorted = latenessMs_;
    std::sort(sorted.begin(), sorted.end());
    auto pct = [&](double p) { return sorted[std::min(sorted.size() - 1, size_t(p * double(sorted.size())))]; };
    s.maxMs = sorted.back();
    s.p50Ms = pct(0.50);
    s.p95Ms = pct(0.95);
    s.p99Ms = pct(0.99);
    return s;
}

} // namespace stc::views

// Measures how late the GUI event loop dispatches a periodic timer. If the
// GUI thread is blocked for 80 ms, the next tick arrives ~80 ms late. Used by
// tests, the bench and the status bar ("max latency" while jobs run).
#pragma once

#include <QElapsedTimer>
#include <QObject>
#include <QTimer>

#include <vector>

namespace stc::views {

struct LatencyStats {
    int samples = 0;
    double maxMs = 0.0;
    double p50Ms = 0.0;
    double p95Ms = 0.0;
    double p99Ms = 0.0;
};

class LatencyProbe : public QObject {
    Q_OBJECT
public:
    explicit LatencyProbe(int intervalMs = 5, QObject* parent = nullptr);
    void start();
    void stop();
    void reset();
    bool running() const { return timer_.isActive(); }
    LatencyStats stats() const;

private:
    void tick();
    int intervalMs_;
    QTimer timer_;
    QElapsedTimer clock_;
    qint64 lastNs_ = 0;
    std::vector<double> latenessMs_;
};

} // namespace stc::views

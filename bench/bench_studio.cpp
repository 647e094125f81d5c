// STC Studio benchmark (offscreen): cold start to an interactive window and
// the largest GUI event-loop stall while a model is opened, laid out,
// compiled and mapped onto a chip, plus the floorplan render time of a
// 16-chip x 128-core board. Writes bench/results/studio.json.
//   bench_studio [MODEL.sir|.pt] [--runs N] [--out bench/results/studio.json]
// Cold start: `stc-studio --startup-bench` is spawned N times; `startup_ms` is
// main() -> window shown and the event loop idle (printed by the child),
// `process_ms` adds process creation, dynamic linking and Qt platform init.
#include "document/document.h"
#include "floorplan/floorplan_panel.h"
#include "floorplan/floorplan_widget.h"
#include "graph/graph_view.h"
#include "jobs/job_runner.h"
#include "jobs/latency_probe.h"
#include "main/main_window.h"
#include "passes/pass_panel.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMetaEnum>
#include <QProcess>
#include <QSignalSpy>
#include <QTimer>
#include <QDir>
#include <QThread>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <vector>

using namespace stc::views;

namespace {

// Times every event dispatch on the GUI thread so a stall can be attributed:
// the receiver's class, its object name and the event type of each dispatch
// that took long, with the nesting depth (a paint inside a timer event, ...).
class TimingApplication : public QApplication {
public:
    using QApplication::QApplication;

    struct SlowEvent {
        double ms;
        double cpuMs; // the GUI thread's CPU time: less than `ms` means it waited (lock, I/O, preempted)
        int depth;
        QString what;
    };

    bool notify(QObject* receiver, QEvent* event) override
    {
        if (!recording_ || QThread::currentThread() != thread())
            return QApplication::notify(receiver, event);
        const QString what = describe(receiver, event); // before dispatch: the receiver may be deleted by it
        QElapsedTimer t;
        t.start();
        const double cpu0 = threadCpuMs();
        ++depth_;
        const bool r = QApplication::notify(receiver, event);
        --depth_;
        const double ms = double(t.nsecsElapsed()) / 1e6;
        if (ms >= 10.0)
            slow_.push_back({ms, threadCpuMs() - cpu0, depth_, what});
        return r;
    }

    void record(bool on)
    {
        recording_ = on;
        if (on)
            slow_.clear();
    }

    // The slowest outermost dispatches, each followed by its slow nested ones.
    QJsonArray slowest(int count) const
    {
        std::vector<size_t> outer;
        for (size_t i = 0; i < slow_.size(); ++i)
            if (slow_[i].depth == 0)
                outer.push_back(i);
        std::sort(outer.begin(), outer.end(), [&](size_t a, size_t b) { return slow_[a].ms > slow_[b].ms; });
        QJsonArray list;
        for (size_t k = 0; k < outer.size() && int(k) < count; ++k) {
            const size_t i = outer[k];
            QJsonArray nested; // recorded before their outer event, which finishes last
            for (size_t j = i; j-- > 0 && slow_[j].depth > 0;)
                nested.prepend(QString("%1 ms (CPU %2)  %3%4")
                                   .arg(slow_[j].ms, 0, 'f', 1)
                                   .arg(slow_[j].cpuMs, 0, 'f', 1)
                                   .arg(QString(2 * slow_[j].depth, ' '), slow_[j].what));
            list.append(QJsonObject{
                {"ms", slow_[i].ms}, {"cpu_ms", slow_[i].cpuMs}, {"event", slow_[i].what}, {"nested", nested}});
        }
        return list;
    }

private:
    static double threadCpuMs()
    {
        timespec ts{};
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        return double(ts.tv_sec) * 1e3 + double(ts.tv_nsec) / 1e6;
    }

    static QString describe(QObject* receiver, QEvent* event)
    {
        QString s = receiver->metaObject()->className();
        if (!receiver->objectName().isEmpty())
            s += "(" + receiver->objectName() + ")";
        const char* type = QMetaEnum::fromType<QEvent::Type>().valueToKey(int(event->type()));
        return s + " " + (type ? QString(type) : QString::number(int(event->type())));
    }

    bool recording_ = false;
    int depth_ = 0;
    std::vector<SlowEvent> slow_;
};

void sleepLoop(int ms)
{
    QEventLoop loop;
    QTimer::singleShot(ms, &loop, &QEventLoop::quit);
    loop.exec();
}

template <typename F> bool waitFor(F done, int timeoutMs)
{
    QElapsedTimer t;
    t.start();
    while (!done() && t.elapsed() < timeoutMs)
        sleepLoop(5);
    return done();
}

QJsonObject stats(const LatencyStats& s)
{
    return {{"max_ms", s.maxMs}, {"p50_ms", s.p50Ms}, {"p95_ms", s.p95Ms}, {"p99_ms", s.p99Ms}, {"samples", s.samples}};
}

// Opens `model`, waits for import + layout + compile + mapping; returns the probe's stats.
QJsonObject openAndMeasure(MainWindow& w, const QString& model, double* seconds)
{
    auto* app = static_cast<TimingApplication*>(QApplication::instance());
    app->record(true);
    LatencyProbe probe(5);
    probe.start();
    QElapsedTimer t;
    t.start();
    bool done = false, ok = false;
    auto c = QObject::connect(&w, &MainWindow::fileOpened, [&](const QString&, bool o) {
        done = true;
        ok = o;
    });
    QSignalSpy mapped(w.floorplanPanel(), &FloorplanPanel::mapped);
    w.openFile(model);
    waitFor([&] { return done; }, 120000);
    QObject::disconnect(c);
    waitFor([&] { return ok && mapped.count() > 0 && !w.jobs()->isBusy() && !w.graphView()->layoutPending(); }, 120000);
    *seconds = double(t.nsecsElapsed()) / 1e9;
    sleepLoop(300); // first paints of the new content
    probe.stop();
    app->record(false);
    QJsonObject o = stats(probe.stats());
    o["slowest_dispatches"] = app->slowest(6);
    o["opened"] = ok;
    o["mapped"] = mapped.count() > 0 && mapped.first().first().toBool();
    o["wall_s"] = *seconds;
    return o;
}

std::shared_ptr<FloorplanData> board16x128()
{
    auto d = std::make_shared<FloorplanData>();
    d->chipId = "synthetic";
    d->chips = 16;
    d->tilesX = 8;
    d->tilesY = 4;
    d->coresPerTile = 4;
    for (int c = 0; c < 16; ++c)
        d->chipPos.push_back({c % 4, c / 4, 0});
    d->layers.resize(40);
    for (int chip = 0; chip < 16; ++chip)
        for (int cell = 0; cell < 124; ++cell) {
            FloorCore fc;
            fc.chip = chip;
            fc.tileX = (cell / 4) % 8;
            fc.tileY = cell / 32;
            fc.core = cell % 4;
            fc.layer = (chip * 124 + cell) * 40 / (16 * 124);
            fc.utilization[0] = (cell % 10) / 10.0;
            d->layers[size_t(fc.layer)].cores.push_back(int(d->cores.size()));
            d->cores.push_back(fc);
        }
    d->index();
    return d;
}

} // namespace

int main(int argc, char** argv)
{
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
        qputenv("QT_QPA_PLATFORM", "offscreen");
    TimingApplication app(argc, argv);
    QApplication::setOrganizationName("STC-bench");
    QApplication::setApplicationName("bench_studio");
    QString model = QString(STC_SOURCE_DIR) + "/tests/data/ir/spikformer_cifar.sir";
    QString out = "bench/results/studio.json";
    int runs = 5;
    const QStringList args = app.arguments();
    for (int i = 1; i < args.size(); ++i) {
        if (args[i] == "--runs" && i + 1 < args.size())
            runs = args[++i].toInt();
        else if (args[i] == "--out" && i + 1 < args.size())
            out = args[++i];
        else
            model = args[i];
    }
    QJsonObject result;
    result["model"] = QFileInfo(model).fileName();
    result["platform"] = QApplication::platformName();
    double load[1] = {0};
    if (getloadavg(load, 1) == 1) // stalls are wall time: a loaded machine inflates them
        result["load_average_1min"] = load[0];
    result["cores"] = QThread::idealThreadCount();

    // 1. Cold start of the real executable.
    QJsonArray startup, process;
    double bestStartup = 1e9, bestProcess = 1e9, worstProcess = 0;
    for (int r = 0; r < runs; ++r) {
        QProcess p;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert("QT_QPA_PLATFORM", "offscreen");
        p.setProcessEnvironment(env);
        QElapsedTimer t;
        t.start();
        p.start(STC_STUDIO_EXE, {"--startup-bench"});
        p.waitForFinished(30000);
        const double wall = double(t.nsecsElapsed()) / 1e6;
        const QString text = QString::fromUtf8(p.readAllStandardOutput());
        const int at = text.indexOf("startup_ms ");
        const double ms = at >= 0 ? text.mid(at + 11).split('\n').first().toDouble() : -1;
        startup.append(ms);
        process.append(wall);
        bestStartup = std::min(bestStartup, ms);
        bestProcess = std::min(bestProcess, wall);
        worstProcess = std::max(worstProcess, wall);
    }
    result["cold_start"] = QJsonObject{{"startup_ms", startup},
                                       {"process_ms", process},
                                       {"best_startup_ms", bestStartup},
                                       {"best_process_ms", bestProcess},
                                       {"worst_process_ms", worstProcess},
                                       {"goal_ms", 1500}};
    std::printf("cold start: main() -> interactive %.0f ms (best of %d), process spawn -> interactive %.0f ms best, "
                "%.0f ms worst\n",
                bestStartup, runs, bestProcess, worstProcess);

    // 2. GUI stall while opening + layout + compile + map (first and second open).
    {
        MainWindow w({false, false});
        w.resize(1600, 1000);
        w.show();
        sleepLoop(200);
        double s1 = 0, s2 = 0;
        const QJsonObject first = openAndMeasure(w, model, &s1);
        const QJsonObject second = openAndMeasure(w, model, &s2);
        result["open_first"] = first;
        result["open_second"] = second;
        result["stall_goal_ms"] = 50;
        std::printf("GUI stall, first open (import+layout+compile+map %.2f s): max %.1f ms, p99 %.1f ms; second open: "
                    "max %.1f ms, p99 %.1f ms\n",
                    s1, first["max_ms"].toDouble(), first["p99_ms"].toDouble(), second["max_ms"].toDouble(),
                    second["p99_ms"].toDouble());
        if (auto f = w.floorplanPanel()->mapping())
            result["mapping"] = QJsonObject{{"chip", f->chipId},
                                            {"cores", int(f->cores.size())},
                                            {"map_ms", w.floorplanPanel()->lastMapSeconds() * 1000}};
    }

    // 3. Floorplan render of 16 chips x 128 cores (124 mapped per chip).
    {
        FloorplanWidget fw;
        fw.resize(1400, 800);
        fw.setData(board16x128());
        fw.setColorMode(FloorplanWidget::ColorMode::Utilization);
        std::vector<double> times;
        for (int i = 0; i < 30; ++i) {
            fw.zoomBy(i < 15 ? 1.1 : 1 / 1.1, QPointF(700, 400));
            fw.renderImage(QSize(1400, 800));
            times.push_back(fw.lastRenderMs());
        }
        fw.setSelectedLayer(20);
        fw.renderImage(QSize(1400, 800));
        const double selected = fw.lastRenderMs();
        std::sort(times.begin(), times.end());
        result["floorplan_16x128"] = QJsonObject{{"render_median_ms", times[times.size() / 2]},
                                                 {"render_max_ms", times.back()},
                                                 {"render_selected_layer_ms", selected},
                                                 {"size", "1400x800"}};
        std::printf("floorplan 16 x 128: render median %.2f ms, max %.2f ms, with a selected layer %.2f ms\n",
                    times[times.size() / 2], times.back(), selected);
    }

    QDir().mkpath(QFileInfo(out).absolutePath());
    QFile f(out);
    if (f.open(QIODevice::WriteOnly)) {
        f.write(QJsonDocument(result).toJson());
        std::printf("wrote %s\n", qPrintable(out));
    }
    return 0;
}

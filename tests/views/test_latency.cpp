// Event-loop latency probe (offscreen): the GUI thread never blocks long
// while the main window opens a model for the FIRST time (import, graph
// layout, pass pipeline, mapping onto the chip, first paints of every
// panel), nor when the mapping is redone for 16 chips. A 5 ms QTimer records
// how late each tick is dispatched (jobs/latency_probe.h).
#include "document/document.h"
#include "floorplan/floorplan_panel.h"
#include "graph/graph_view.h"
#include "jobs/job_runner.h"
#include "jobs/latency_probe.h"
#include "main/main_window.h"
#include "passes/pass_panel.h"

#include "editor/ir_editor_panel.h"
#include "charts/charts_panel.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QFile>
#include <QThread>
#include <QTimer>

#include <cstdlib>
#include <QDockWidget>
#include <QFileInfo>
#include <QSettings>
#include <QSignalSpy>
#include <QTest>

using namespace stc;
using namespace stc::views;

namespace {
// The product's target is 50 ms; it is a speed target, so it is measured by
// bench_studio (bench/results/studio.json, side by side with the machine's
// load), not asserted here: on a shared 2-core machine the same build shows
// 45-85 ms for the first open (first glyph loads, worker threads competing
// for the CPU). This test asserts the defect it exists for: heavy work that
// belongs off the GUI thread running on it (mapping these models takes
// 300-400 ms, a .pt import seconds). 150 ms is 3x the target and under half
// of the mapping.
constexpr double kTargetMs = 50.0;
constexpr double kRegressionBoundMs = 150.0;

// On a machine whose load exceeds its cores the GUI thread also waits for a
// CPU, whatever the app does: the bound is relaxed then, loudly.
double stallBound()
{
    double load[1] = {0};
    const int cores = std::max(1, QThread::idealThreadCount());
    if (getloadavg(load, 1) == 1 && load[0] > cores + 1) {
        qWarning("machine overloaded (load %.1f on %d cores): asserting GUI stalls < 400 ms instead of %.0f ms",
                 load[0], cores, kRegressionBoundMs);
        return 400.0;
    }
    return kRegressionBoundMs;
}

void reportTarget(const char* what, double maxMs)
{
    qInfo("%s: max stall %.1f ms, %s the %.0f ms target (bench_studio measures it)", what, maxMs,
          maxMs < kTargetMs ? "within" : "OVER", kTargetMs);
}

QString golden(const char* name) { return QString(STC_TEST_DATA_DIR) + "/ir/" + name; }
} // namespace

class TestLatency : public QObject {
    Q_OBJECT
private slots:
    void initTestCase()
    {
        QApplication::setOrganizationName("STC-tests");
        QApplication::setApplicationName("views-latency");
        QSettings().clear();
    }

    void firstOpenNeverBlocks_data()
    {
        QTest::addColumn<QString>("model");
        QTest::addColumn<QString>("visibleDock"); // the bottom panel in front while loading
        QTest::newRow("spikformer_cifar, floorplan in front") << golden("spikformer_cifar.sir") << "dock.floorplan";
        QTest::newRow("spikformer_imagenet, charts in front") << golden("spikformer_imagenet.sir") << "dock.energy";
        QTest::newRow("conv_snn, simulator in front") << golden("conv_snn.sir") << "dock.simulator";
    }

    void firstOpenNeverBlocks()
    {
        QFETCH(QString, model);
        QFETCH(QString, visibleDock);
        MainWindow w({false, false});
        w.resize(1600, 1000);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        if (auto* dock = w.findChild<QDockWidget*>(visibleDock))
            dock->raise();
        QTest::qWait(100);

        w.jobs()->resetCallbackStats();
        LatencyProbe probe(5);
        probe.start();
        // Where the stalls happen: ticks later than 30 ms, next to job events.
        QElapsedTimer clock;
        clock.start();
        qint64 last = 0;
        QTimer tracer;
        tracer.setTimerType(Qt::PreciseTimer);
        QObject::connect(&tracer, &QTimer::timeout, [&] {
            const qint64 now = clock.nsecsElapsed();
            if (last && (now - last) / 1e6 > 35)
                qInfo("    stall %.1f ms ending at t=%.0f ms", (now - last) / 1e6 - 5, now / 1e6);
            last = now;
        });
        tracer.start(5);
        QObject::connect(w.jobs(), &JobRunner::jobFinished, &tracer, [&](quint64, const QString& lane, bool) {
            qInfo("    job '%s' finished at t=%.0f ms", qPrintable(lane), clock.nsecsElapsed() / 1e6);
        });
        QSignalSpy opened(&w, &MainWindow::fileOpened);
        QSignalSpy mapped(w.floorplanPanel(), &FloorplanPanel::mapped);
        w.openFile(model);
        QVERIFY(opened.wait(60000));
        QVERIFY(opened.first().at(1).toBool());
        QTRY_VERIFY_WITH_TIMEOUT(mapped.count() > 0 && !w.jobs()->isBusy() && !w.graphView()->layoutPending(), 120000);
        QTest::qWait(300); // the first paints of the new content
        probe.stop();
        const LatencyStats s = probe.stats();
        qInfo("%s: first open (import + layout + compile + map + first paints): max stall %.1f ms, p99 %.1f ms, "
              "%d ticks; mapped %s",
              qPrintable(QFileInfo(model).fileName()), s.maxMs, s.p99Ms, s.samples,
              mapped.first().first().toBool() ? "ok" : qPrintable(w.floorplanPanel()->statusText()));
        QVERIFY(mapped.first().first().toBool());
        qInfo("slowest job-result callback: %.1f ms (lane %s)", w.jobs()->maxCallbackMs(),
              qPrintable(w.jobs()->slowestCallbackLane()));
        reportTarget("first open", s.maxMs);
        const double bound = stallBound();
        QVERIFY2(w.jobs()->maxCallbackMs() < bound, qPrintable(QString::number(w.jobs()->maxCallbackMs())));
        QVERIFY2(s.maxMs < bound, qPrintable(QString("GUI thread blocked for %1 ms").arg(s.maxMs)));
    }

    // What the GUI thread does with each job result, timed one by one (printed;
    // the stall test above is the assertion).
    void guiWorkBreakdown()
    {
        MainWindow w({false, false});
        w.resize(1600, 1000);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        QFile f(golden("spikformer_cifar.sir"));
        QVERIFY(f.open(QIODevice::ReadOnly));
        const std::string text = f.readAll().toStdString();
        const ParseOutcome parsed = parseIrText(text, "spikformer_cifar.sir");
        QVERIFY(parsed.module);
        const MapOutcome mapped = mapModule(*parsed.module, parsed.module.get(), MapRequest{}, nullptr, {});
        QVERIFY(mapped.ok());
        QElapsedTimer t;
        auto lap = [&](const char* what) {
            qInfo("  %-40s %7.1f ms", what, double(t.nsecsElapsed()) / 1e6);
            t.restart();
        };
        w.jobs()->cancelAll();
        t.start();
        w.document()->load("spikformer_cifar.sir", parsed.module, {}, "test");
        lap("Document::load (all moduleChanged slots)");
        w.irEditor()->setLoadedText(QString::fromStdString(text));
        lap("IrEditorPanel::setLoadedText");
        QApplication::processEvents();
        lap("processEvents (paints)");
        w.jobs()->waitForIdle(60000);
        t.restart();
        w.chartsPanel()->setEstimate(mapped.energy);
        lap("ChartsPanel::setEstimate");
        QApplication::processEvents();
        lap("processEvents (paints)");
        w.findChild<QDockWidget*>("dock.energy")->raise();
        QApplication::processEvents();
        lap("raise charts + paint");
        w.findChild<QDockWidget*>("dock.floorplan")->raise();
        QApplication::processEvents();
        lap("raise floorplan + paint");
    }

    void remapSixteenChipsNeverBlocks()
    {
        MainWindow w({false, false});
        w.resize(1600, 1000);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        w.findChild<QDockWidget*>("dock.floorplan")->raise();
        QSignalSpy mapped(w.floorplanPanel(), &FloorplanPanel::mapped);
        w.openFile(golden("spikformer_cifar.sir"));
        QTRY_VERIFY_WITH_TIMEOUT(mapped.count() > 0 && !w.jobs()->isBusy(), 120000);
        QTest::qWait(200);
        LatencyProbe probe(5);
        probe.start();
        mapped.clear();
        w.floorplanPanel()->setRequest({"loihi2", 16, "latency", 1, {}});
        QTRY_VERIFY_WITH_TIMEOUT(mapped.count() > 0 && !w.jobs()->isBusy(), 120000);
        QTest::qWait(200);
        probe.stop();
        QVERIFY2(mapped.first().first().toBool(), qPrintable(w.floorplanPanel()->statusText()));
        const auto f = w.floorplanPanel()->mapping();
        qInfo("remap onto loihi2 x 16 (latency objective): %zu cores on %d chips; max stall %.1f ms, p99 %.1f ms",
              f->cores.size(), f->chips, probe.stats().maxMs, probe.stats().p99Ms);
        QCOMPARE(f->chips, 16);
        reportTarget("remap", probe.stats().maxMs);
        QVERIFY2(probe.stats().maxMs < stallBound(), qPrintable(QString::number(probe.stats().maxMs)));
    }
};

QTEST_MAIN(TestLatency)
#include "test_latency.moc"

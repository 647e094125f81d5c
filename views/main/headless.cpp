#include "main/headless.h"

#include "charts/charts_panel.h"
#include "diagnostics/diagnostics_model.h"
#include "diagnostics/diagnostics_widget.h"
#include "document/document.h"
#include "editor/ir_editor_panel.h"
#include "explorer/explorer_panel.h"
#include "floorplan/floorplan_layer_model.h"
#include "floorplan/floorplan_panel.h"
#include "graph/graph_view.h"
#include "jobs/job_runner.h"
#include "jobs/latency_probe.h"
#include "main/main_window.h"
#include "passes/pass_panel.h"
#include "passes/pipeline_model.h"
#include "sim/simulator_panel.h"
#include "sim/spike_raster.h"

#include <QApplication>
#include <QComboBox>
#include <QDir>
#include <QDockWidget>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QFile>
#include <QFileInfo>
#include <QTabWidget>
#include <QTableView>
#include <QTextStream>
#include <QTimer>

#include "ir/module.h"
#include "util/resource_paths.h"

namespace stc::views {

namespace {

// Spins the event loop until `done()` or the timeout; returns done().
template <typename F> bool waitUntil(F done, int timeoutMs)
{
    QElapsedTimer t;
    t.start();
    while (!done() && t.elapsed() < timeoutMs) {
        // Sleep in a real event loop (not processEvents spinning): the waiting
        // GUI thread must not steal a core from the jobs it waits for.
        QEventLoop loop;
        QTimer::singleShot(5, &loop, &QEventLoop::quit);
        loop.exec();
    }
    return done();
}

QString ms(double seconds) { return QString::number(seconds * 1000.0, 'f', 1) + " ms"; }

// --tour --project FILE: opens the project in the Explorer and shoots the
// window with the Explorer in front (studio-explorer.png).
void tourProject(MainWindow& w, const HeadlessOptions& o, QStringList& report, HeadlessResult& result)
{
    bool done = false, ok = false;
    auto c = QObject::connect(w.explorerPanel(), &ExplorerPanel::projectLoaded, &w,
                              [&](const QString&, bool success, const QString&) { done = true, ok = success; });
    QElapsedTimer t;
    t.start();
    w.openFile(o.project);
    waitUntil([&] { return done; }, o.timeoutMs);
    QObject::disconnect(c);
    const ProjectSnapshot* s = w.explorerPanel()->snapshot();
    report << (ok && s ? QString("project     %1: %2 configurations, %3 on the energy front, opened in %4 (read %5 "
                                 "off the GUI thread, panel callback %6)")
                             .arg(o.project)
                             .arg(s->rows.size())
                             .arg(s->energyFront.size())
                             .arg(ms(t.nsecsElapsed() / 1e9), ms(s->seconds),
                                  QString::number(w.explorerPanel()->lastShowMs(), 'f', 1) + " ms")
                       : "project     " + o.project + ": " + w.explorerPanel()->errorText());
    if (!ok)
        return;
    // The front's cheapest point shows its pipeline in the pass panel, as a click would.
    if (!s->energyFront.empty())
        w.explorerPanel()->activateRun(s->energyFront.front());
    if (QDockWidget* d = w.findChild<QDockWidget*>("dock.explorer")) {
        d->raise();
        w.resizeDocks({d}, {440}, Qt::Vertical); // room for the table and the plot
    }
    waitUntil([&] { return !w.jobs()->isBusy(); }, 5000);
    QApplication::processEvents();
    const QString shot = QDir(o.outDir).filePath("studio-explorer.png");
    if (w.grab().save(shot))
        result.files << shot;
    // The Explorer's own exports, as File › Export would write them.
    const QString base = QDir(o.outDir).filePath("explorer-tradeoff");
    if (w.explorerPanel()->exportPng(base + ".png"))
        result.files << base + ".png";
    if (w.explorerPanel()->exportSvg(base + ".svg"))
        result.files << base + ".svg";
    if (w.explorerPanel()->exportCsv(base + ".csv"))
        result.files << base + ".csv";
}

} // namespace

QString defaultModelPath()
{
    return QString::fromStdString(util::findResource("models/spikformer_fmnist.traced.pt"));
}

HeadlessResult runHeadless(MainWindow& w, const HeadlessOptions& o, QTextStream& log)
{
    HeadlessResult result;
    QDir().mkpath(o.outDir);
    const QString model = o.model.isEmpty() ? defaultModelPath() : o.model;
    QStringList report;
    report << "STC Studio headless report" << QString("model: %1").arg(QFileInfo(model).absoluteFilePath());

    w.resize(1600, 1000);
    w.show();
    QApplication::processEvents();

    // 1. Import (the GUI-thread latency probe runs throughout).
    LatencyProbe probe(5);
    probe.start();
    QElapsedTimer timer;
    timer.start();
    bool opened = false, finished = false;
    auto conn = QObject::connect(&w, &MainWindow::fileOpened, [&](const QString&, bool ok) {
        opened = ok;
        finished = true;
    });
    log << "opening " << model << "\n";
    log.flush();
    w.openFile(model);
    waitUntil([&] { return finished; }, o.timeoutMs);
    QObject::disconnect(conn);
    const double importSeconds = double(timer.nsecsElapsed()) / 1e9;
    const LatencyStats importLatency = probe.stats();
    report << QString("import: %1 in %2 (engine: %3)")
                  .arg(opened ? "ok" : "FAILED", ms(importSeconds), w.document()->engine());
    if (!opened) {
        for (const auto& d : w.document()->diagnostics())
            report << "  " + QString::fromStdString(d.diag.format());
    }

    // 2. Layout + compile (both start on the module change).
    timer.restart();
    waitUntil([&] { return !w.jobs()->isBusy() && !w.graphView()->layoutPending(); }, o.timeoutMs);
    const double layoutSeconds = w.graphView()->lastLayoutSeconds();

    const Document* doc = w.document();
    if (doc->hasModule()) {
        const ir::Module& m = *doc->module();
        report << QString("ops: %1, parameters: %2, neurons per step: %3, T: %4")
                      .arg(m.ops().size())
                      .arg(ir::parameterCount(m))
                      .arg(ir::neuronCount(m))
                      .arg(m.timesteps);
        report << QString("graph layout: %1 (%2)").arg(ms(layoutSeconds), w.graphView()->layoutEngine());
        PassPanel* passes = w.passPanel();
        report << QString("pipeline: %1 -> %2 (%3 compile(s))")
                      .arg(passes->pipelineString(),
                           passes->lastStatus() == passes::RunStatus::Ok ? "ok" : "FAILED")
                      .arg(passes->compileCount());
        for (const auto& r : passes->model()->records())
            report << QString("  %1: %2, %3%4")
                          .arg(QString::fromStdString(r.entryText), passes::toString(r.status), ms(r.seconds),
                               r.changed ? ", changed" : "");
    }

    // 3. Simulate one test image.
    bool simOk = false;
    if (doc->hasModule() && w.simulator()->available()) {
        SimulatorPanel* sim = w.simulator();
        sim->setPlaybackIntervalMs(1);
        bool simDone = false;
        auto c2 = QObject::connect(sim, &SimulatorPanel::runFinished, [&](bool ok) {
            simOk = ok;
            simDone = true;
        });
        timer.restart();
        sim->setImageIndex(o.image);
        sim->run();
        waitUntil([&] { return simDone; }, o.timeoutMs);
        QObject::disconnect(c2);
        waitUntil([&] { return !w.jobs()->isBusy(); }, 5000);
        if (sim->trace())
            sim->setCurrentStep(int(sim->trace()->timesteps) - 1);
        sim->pause();
        const double simSeconds = double(timer.nsecsElapsed()) / 1e9;
        if (simOk && sim->trace()) {
            const auto& t = *sim->trace();
            const int label = sim->imageLabel();
            report << QString("simulation (%1): %2, label %3, predicted %4 (p = %5), %6 spikes, %7")
                          .arg(QString::fromStdString(t.engine), sim->inputText(),
                               label >= 0 ? sim->className(label) : QString("?"), sim->className(t.predicted))
                          .arg(t.predicted >= 0 ? t.probabilities[size_t(t.predicted)] : 0.0f, 0, 'f', 3)
                          .arg(t.totalSpikes())
                          .arg(ms(simSeconds));
            report << "per-layer spikes (total, firing rate):";
            for (const auto& l : t.layers)
                report << QString("  %1 %%2: %3 spikes over %4 neurons x %5 steps, rate %6 %")
                              .arg(QString::fromStdString(l.origin), QString::fromStdString(l.name))
                              .arg(l.total)
                              .arg(l.neurons)
                              .arg(l.steps())
                              .arg(l.firingRate() * 100, 0, 'f', 2);
            sim->raster()->grab(); // paints the raster now: the window may not have painted since the run ended
            report << QString("raster paint: %1 for %2 spikes").arg(ms(sim->raster()->lastRenderMs() / 1000.0)).arg(sim->raster()->lastPaintedSpikes());
        } else {
            report << "simulation: FAILED " + sim->datasetError();
        }
    } else {
        report << "simulation: not run (no module)";
    }
    probe.stop();
    const LatencyStats total = probe.stats();
    report << QString("GUI event-loop latency during import: max %1 ms, p99 %2 ms; whole run: max %3 ms, p99 %4 ms "
                      "(%5 samples)")
                  .arg(importLatency.maxMs, 0, 'f', 1)
                  .arg(importLatency.p99Ms, 0, 'f', 1)
                  .arg(total.maxMs, 0, 'f', 1)
                  .arg(total.p99Ms, 0, 'f', 1)
                  .arg(total.samples);
    report << "diagnostics:";
    int shown = 0;
    for (const auto& d : doc->diagnostics())
        if (d.diag.severity != Severity::Note && shown++ < 40)
            report << "  " + sourceName(d.source) + ": " + QString::fromStdString(d.diag.format());
    if (shown == 0)
        report << "  (none)";
    FloorplanPanel* floor = w.floorplanPanel();
    waitUntil([&] { return !w.jobs()->isBusy(); }, o.timeoutMs);
    if (const auto f = floor->mapping()) {
        report << QString("mapping: %1 cores on %2 x %3 in %4 (%5)")
                      .arg(f->cores.size())
                      .arg(f->chips)
                      .arg(f->chipId, ms(floor->lastMapSeconds()),
                           f->projectedChip ? "PROJECTED chip: every number is a projection" : "estimate");
        for (const QString& line : f->summary.split('\n', Qt::SkipEmptyParts))
            report << "  " + line;
    } else {
        report << "mapping: none (" + floor->statusText() + ")";
    }
    if (const EnergyChartData* e = w.chartsPanel()->chartData(); e && e->measured) {
        report << QString("energy on screen: MEASURED (%1): %2 µJ per inference (dynamic %3 + static %4), latency %5 µs%6")
                      .arg(e->origin)
                      .arg((e->dynamicPj + e->staticPj) * 1e-6, 0, 'f', 3)
                      .arg(e->dynamicPj * 1e-6, 0, 'f', 3)
                      .arg(e->staticPj * 1e-6, 0, 'f', 3)
                      .arg(e->latencyNs * 1e-3, 0, 'f', 2)
                      .arg(e->projectedChip ? " [PROJECTED chip]" : "");
        for (const QString& line : w.simulator()->ledgerText().split('\n', Qt::SkipEmptyParts))
            report << "  " + line;
    } else if (e) {
        report << "energy on screen: ESTIMATE (" + e->origin + "); no chip-simulator ledger (" +
                      (w.simulator()->chipSimulatorAvailable() ? "the reference engine ran" : "no package") + ")";
    }

    // 4. Screenshots: with a neuron layer selected so the inspector has content,
    // and the pipeline's first changing pass open so its diff shows.
    if (doc->hasModule()) {
        for (size_t i = 0; i < doc->module()->ops().size(); ++i)
            if (doc->module()->ops()[i].kind == ir::OpKind::Lif) {
                w.document()->selectOp(int(i));
                break;
            }
        const auto& records = w.passPanel()->model()->records();
        for (const auto& r : records)
            if (r.changed) {
                w.passPanel()->selectPass(r.entryIndex);
                break;
            }
    }
    waitUntil([&] { return !w.jobs()->isBusy(); }, 5000);
    QApplication::processEvents();
    const QString shot = QDir(o.outDir).filePath("studio.png");
    if (w.grab().save(shot))
        result.files << shot;
    if (o.tour && !o.project.isEmpty())
        tourProject(w, o, report, result);
    if (o.tour) {
        for (QDockWidget* dock : w.docks()) {
            if (dock->objectName() == "dock.floorplan" || dock->objectName() == "dock.energy")
                continue; // shot below, floated at a readable size
            dock->show();
            dock->raise();
            QApplication::processEvents();
            const QString name = dock->objectName().mid(dock->objectName().indexOf('.') + 1);
            const QString path = QDir(o.outDir).filePath("panel-" + name + ".png");
            if (dock->grab().save(path))
                result.files << path;
        }
        // The floorplan and the charts need room: float them at a readable size.
        auto floated = [&](const char* dockName, auto shoot) {
            QDockWidget* dock = w.findChild<QDockWidget*>(dockName);
            if (!dock)
                return;
            dock->setFloating(true);
            dock->resize(1400, 780);
            dock->show();
            QApplication::processEvents();
            shoot(dock);
            dock->setFloating(false);
        };
        floated("dock.floorplan", [&](QDockWidget* dock) {
            if (auto f = floor->mapping()) {
                int best = -1;
                for (size_t i = 0; i < f->layers.size(); ++i)
                    if (f->layers[i].kind == "lif" && (best < 0 || f->layers[i].cores.size() > f->layers[size_t(best)].cores.size()))
                        best = int(i);
                floor->selectLayer(best);
            }
            floor->floorplan()->fit();
            QApplication::processEvents();
            const QString path = QDir(o.outDir).filePath("panel-floorplan.png");
            if (dock->grab().save(path))
                result.files << path;
            floor->findChild<QComboBox*>("floorplan.color")->setCurrentIndex(1);
            QApplication::processEvents();
            const QString util = QDir(o.outDir).filePath("panel-floorplan-utilization.png");
            if (dock->grab().save(util))
                result.files << util;
            floor->findChild<QComboBox*>("floorplan.color")->setCurrentIndex(0);
        });
        floated("dock.energy", [&](QDockWidget* dock) {
            ChartsPanel* charts = w.chartsPanel();
            const char* names[] = {"panel-energy-layers.png", "panel-energy-steps.png", "panel-energy-utilization.png"};
            for (int t = 0; t < charts->tabs()->count() && t < 3; ++t) {
                charts->tabs()->setCurrentIndex(t);
                QApplication::processEvents();
                const QString path = QDir(o.outDir).filePath(names[t]);
                if (dock->grab().save(path))
                    result.files << path;
            }
            charts->tabs()->setCurrentIndex(0);
            // The same layers from the cost model, for comparison with the measured ledger.
            if (charts->source() == ChartsPanel::Source::Measured) {
                charts->setSource(ChartsPanel::Source::Estimate);
                QApplication::processEvents();
                const QString path = QDir(o.outDir).filePath("panel-energy-layers-estimate.png");
                if (dock->grab().save(path))
                    result.files << path;
                charts->setSource(ChartsPanel::Source::Measured);
            }
        });
        const QString graphPath = QDir(o.outDir).filePath("panel-graph.png");
        if (w.graphView()->grab().save(graphPath))
            result.files << graphPath;
        if (QDockWidget* sim = w.findChild<QDockWidget*>("dock.simulator"))
            sim->raise();
    }
    result.report = report.join('\n') + '\n';
    const QString reportPath = QDir(o.outDir).filePath("report.txt");
    QFile f(reportPath);
    if (f.open(QIODevice::WriteOnly | QIODevice::Text)) {
        f.write(result.report.toUtf8());
        result.files << reportPath;
    }
    result.ok = opened && simOk;
    return result;
}

} // namespace stc::views

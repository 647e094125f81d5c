// The main window end to end (offscreen): open a .sir, drop a file onto the
// window, command palette, IR editor re-parse + undo, pass pipeline toggle and
// reorder, GUI latency while loading, recent files, simulator with both
// engines (if the dataset is installed): the chip simulator's ledger reaches
// the charts and its firing rates and the mapped cores the inspector; and the
// headless report.
#include "charts/charts_panel.h"
#include "common/settings_writer.h"
#include "diagnostics/diagnostics_model.h"
#include "diagnostics/diagnostics_widget.h"
#include "document/document.h"
#include "editor/ir_editor_panel.h"
#include "floorplan/floorplan_panel.h"
#include "floorplan/floorplan_widget.h"
#include "graph/graph_view.h"
#include "inspector/inspector_model.h"
#include "inspector/inspector_widget.h"
#include "jobs/job_runner.h"
#include "jobs/latency_probe.h"
#include "main/command_palette.h"
#include "main/headless.h"
#include "main/main_window.h"
#include "sim/bottleneck_panel.h"

#include <QTableView>
#include "passes/pass_panel.h"
#include "passes/pipeline_model.h"
#include "sim/simulator_panel.h"
#include "sim/spike_raster.h"
#include "tiny_models.h"

#include <Qsci/qsciscintilla.h>

#include <QAction>
#include <QApplication>
#include <QComboBox>
#include <QDir>
#include <QDockWidget>
#include <QFileInfo>
#include <QLineEdit>
#include <QMimeData>
#include <QSettings>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QTextStream>

using namespace stc;
using namespace stc::views;

using stc::test::openAndWait;

class TestMainWindow : public QObject {
    Q_OBJECT
private slots:
    void initTestCase()
    {
        QApplication::setOrganizationName("STC-tests");
        QApplication::setApplicationName("views-tests");
        QSettings().clear();
        sir_ = test::writeSir(test::makeTinySpikformer(), "window.sir");
    }

    void opensSirFile()
    {
        MainWindow w({false, false});
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        // The first open also pays the first paint of every panel (charts,
        // editor, scene fonts); measure a second open, which is all import +
        // layout + compile + print jobs.
        QVERIFY(openAndWait(w, sir_));
        QTest::qWait(200);
        LatencyProbe probe(5);
        probe.start();
        QVERIFY(openAndWait(w, sir_));
        QTest::qWait(300); // keep sampling the idle loop after the jobs
        probe.stop();
        qInfo("GUI latency while opening + layout + compile: max %.1f ms, p95 %.1f ms, p99 %.1f ms (%d ticks)",
              probe.stats().maxMs, probe.stats().p95Ms, probe.stats().p99Ms, probe.stats().samples);
        QVERIFY(w.document()->hasModule());
        QVERIFY(w.windowTitle().contains("window.sir"));
        QVERIFY(!w.graphView()->scene()->items().isEmpty());
        QVERIFY(w.irEditor()->text().contains("module"));
        QVERIFY(w.recentFiles().contains(QFileInfo(sir_).absoluteFilePath()));
        settings::waitForWrites(); // the list reaches QSettings from the writer thread
        QCOMPARE(QSettings().value("file/recent").toStringList().value(0), QFileInfo(sir_).absoluteFilePath());
        // Typical dispatch stays < 50 ms; the max includes the first paint of every
        // panel and OS scheduling on a loaded machine, so it only has a loose bound.
        QVERIFY2(probe.stats().p95Ms < 50, qPrintable(QString::number(probe.stats().p95Ms)));
        QVERIFY2(probe.stats().maxMs < 1000, qPrintable(QString::number(probe.stats().maxMs)));
    }

    void unsupportedFileShowsADiagnostic_data()
    {
        QTest::addColumn<QString>("name");
        QTest::newRow("broken package (a file)") << "model.stcpkg";
        QTest::newRow("missing") << "does-not-exist.sir";
    }
    void unsupportedFileShowsADiagnostic()
    {
        QFETCH(QString, name);
        QTemporaryDir dir;
        const QString path = dir.filePath(name);
        if (!name.startsWith("does-not")) {
            QFile f(path);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write("x");
        }
        MainWindow w({false, false});
        QVERIFY(!openAndWait(w, path));
        QVERIFY(!w.document()->hasModule());
        QVERIFY(w.diagnostics()->model()->errorCount() >= 1);
    }

    void dropFileOntoWindow()
    {
        MainWindow w({false, false});
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        QSignalSpy opened(&w, &MainWindow::fileOpened);
        QMimeData mime;
        mime.setUrls({QUrl::fromLocalFile(sir_)});
        const QPoint pos = w.rect().center();
        QDragEnterEvent enter(pos, Qt::CopyAction | Qt::MoveAction, &mime, Qt::LeftButton, Qt::NoModifier);
        QApplication::sendEvent(&w, &enter);
        QVERIFY(enter.isAccepted());
        QDropEvent drop(pos, Qt::CopyAction | Qt::MoveAction, &mime, Qt::LeftButton, Qt::NoModifier);
        QApplication::sendEvent(&w, &drop);
        QVERIFY(opened.wait(30000));
        QVERIFY(opened.first().at(1).toBool());
        QVERIFY(w.document()->hasModule());
    }

    void commandPaletteListsAndTriggersActions()
    {
        MainWindow w({false, false});
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        QTest::keyClick(&w, Qt::Key_P, Qt::ControlModifier | Qt::ShiftModifier);
        CommandPalette* palette = w.commandPalette();
        QTRY_VERIFY(palette->isVisible());
        QVERIFY(palette->model()->rowCount() >= 20); // every action
        QTest::keyClicks(palette->filter(), "expand all");
        QVERIFY(palette->model()->rowCount() >= 1);
        QCOMPARE(palette->model()->actionAt(0)->objectName(), QString("view.expandAll"));
        QTest::keyClick(palette->filter(), Qt::Key_Escape);
        QVERIFY(!palette->isVisible());
    }

    void editorEditReparsesAndUndoRestores()
    {
        MainWindow w({false, false});
        w.show();
        QVERIFY(openAndWait(w, sir_));
        IrEditorPanel* ed = w.irEditor();
        ed->setReparseDelayMs(10);
        const std::string before = printIr(*w.document()->module(), false);
        // Change the first threshold in the text.
        QString text = ed->text();
        const int at = text.indexOf("v_threshold = 1.0");
        QVERIFY(at > 0);
        text.replace(at, int(strlen("v_threshold = 1.0")), "v_threshold = 0.5");
        QSignalSpy applied(ed, &IrEditorPanel::textApplied);
        ed->editor()->setText(text);
        QVERIFY(applied.wait(10000));
        QVERIFY(printIr(*w.document()->module(), false) != before);
        w.action("edit.undo")->trigger();
        QCOMPARE(printIr(*w.document()->module(), false), before);
        w.jobs()->waitForIdle(10000);
        // A syntax error becomes an editor diagnostic, not a crash.
        ed->editor()->setText(text + "\n%oops = \n");
        QTRY_VERIFY_WITH_TIMEOUT(w.diagnostics()->model()->errorCount() >= 1, 10000);
    }

    void graphEditUndoRestoresIrText()
    {
        MainWindow w({false, false});
        w.show();
        QVERIFY(openAndWait(w, sir_));
        const QString before = w.irEditor()->text();
        int lif = -1;
        for (size_t i = 0; i < w.document()->module()->ops().size() && lif < 0; ++i)
            if (w.document()->module()->ops()[i].kind == ir::OpKind::Lif)
                lif = int(i);
        w.document()->selectOp(lif);
        w.action("edit.bypass")->trigger();
        w.jobs()->waitForIdle(10000);
        QVERIFY(w.irEditor()->text() != before);
        w.action("edit.undo")->trigger();
        w.jobs()->waitForIdle(10000);
        QCOMPARE(w.irEditor()->text(), before);
        w.action("edit.redo")->trigger();
        w.jobs()->waitForIdle(10000);
        QVERIFY(w.irEditor()->text() != before);
    }

    void pipelineToggleAndReorderRecompile()
    {
        MainWindow w({false, false});
        w.show();
        QVERIFY(openAndWait(w, sir_));
        PassPanel* passes = w.passPanel();
        QVERIFY(passes->model()->rowCount() >= 2);
        const int compiles = passes->compileCount();
        const QString text = passes->pipelineString();
        // Toggle the first entry off: text gets a leading '-', and a compile runs.
        passes->model()->setData(passes->model()->index(0), Qt::Unchecked, Qt::CheckStateRole);
        QVERIFY(passes->pipelineString().startsWith("-"));
        QCOMPARE(passes->pipelineText()->text(), passes->pipelineString());
        QTRY_VERIFY_WITH_TIMEOUT(passes->compileCount() > compiles, 10000);
        QCOMPARE(passes->model()->records().front().status, passes::PassStatus::Skipped);
        // Reorder: last entry to the top.
        const int last = passes->model()->rowCount() - 1;
        const std::string lastPass = passes->model()->pipeline().entries.back().pass;
        passes->model()->requestMove(last, 0);
        QCOMPARE(passes->model()->pipeline().entries.front().pass, lastPass);
        // Text field -> list.
        passes->setPipelineText(text);
        QCOMPARE(passes->pipelineString(), text);
        // Undo walks back through the pipeline edits.
        w.action("edit.undo")->trigger();
        QCOMPARE(passes->model()->pipeline().entries.front().pass, lastPass);
        w.jobs()->waitForIdle(10000);
        // A bad pipeline text is reported and leaves the list alone.
        passes->setPipelineText("no-such-pass");
        QCOMPARE(passes->model()->pipeline().entries.front().pass, lastPass);
    }

    void simulatorRunsTheInterpreter()
    {
        if (!QFileInfo::exists("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"))
            QSKIP("Fashion-MNIST is not installed");
        MainWindow w({false, false});
        w.show();
        QVERIFY(openAndWait(w, sir_));
        SimulatorPanel* sim = w.simulator();
        QVERIFY(sim->available());
        sim->setEngine(SimulatorPanel::Engine::Reference);
        sim->setPlaybackIntervalMs(1);
        QSignalSpy done(sim, &SimulatorPanel::runFinished);
        sim->setImageIndex(3);
        w.action("sim.run")->trigger();
        QVERIFY(done.wait(30000));
        QVERIFY(done.first().at(0).toBool());
        QVERIFY(sim->trace());
        QVERIFY(QString::fromStdString(sim->trace()->engine).contains("interpreter"));
        QCOMPARE(sim->trace()->timesteps, int64_t(4));
        QCOMPARE(sim->trace()->probabilities.size(), size_t(10));
        QVERIFY(!sim->trace()->layers.empty());
        QTRY_COMPARE_WITH_TIMEOUT(sim->currentStep(), 3, 5000); // playback reached the last step
        sim->reset();
        QVERIFY(!sim->trace());
    }

    void simulatorRunsTheChipSimulator()
    {
        if (!QFileInfo::exists("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"))
            QSKIP("Fashion-MNIST is not installed");
        MainWindow w({false, false});
        w.show();
        QVERIFY(openAndWait(w, sir_)); // import, compile, map + package
        SimulatorPanel* sim = w.simulator();
        QVERIFY2(sim->chipSimulatorAvailable(), qPrintable(w.floorplanPanel()->statusText()));
        QCOMPARE(sim->engine(), SimulatorPanel::Engine::ChipSimulator); // the default once a package exists
        QVERIFY(sim->engineText().contains("loihi3, projected"));
        ChartsPanel* charts = w.chartsPanel();
        QVERIFY(charts->chartData() && !charts->chartData()->measured);
        sim->setPlaybackIntervalMs(1);
        QSignalSpy done(sim, &SimulatorPanel::runFinished);
        QSignalSpy measured(sim, &SimulatorPanel::measuredEnergyChanged);
        sim->setImageIndex(5);
        w.action("sim.run")->trigger();
        QVERIFY(done.wait(60000));
        QVERIFY(done.first().at(0).toBool());
        QVERIFY(QString::fromStdString(sim->trace()->engine).contains("chip simulator"));
        QCOMPARE(sim->trace()->timesteps, int64_t(4));
        QCOMPARE(sim->trace()->probabilities.size(), size_t(10));
        QVERIFY(sim->trace()->totalSpikes() > 0);
        QVERIFY(!sim->ledgerText().isEmpty());
        QCOMPARE(measured.count(), 1);
        // The charts now show the measured ledger of this image, and say so.
        QVERIFY(charts->chartData() && charts->chartData()->measured);
        QVERIFY(charts->chartData()->origin.contains("image #5"));
        QCOMPARE(charts->source(), ChartsPanel::Source::Measured);
        // The floorplan's energy/activity colours use the run's per-core counters.
        FloorplanWidget* fw = w.floorplanPanel()->floorplan();
        QVERIFY(fw->measurement());
        QCOMPARE(fw->measurement()->energyPj.size(), w.floorplanPanel()->mapping()->cores.size());
        auto* colour = w.floorplanPanel()->findChild<QComboBox*>("floorplan.color");
        colour->setCurrentIndex(colour->findData(int(FloorplanWidget::ColorMode::Energy)));
        QCOMPARE(fw->colorMode(), FloorplanWidget::ColorMode::Energy);
        QCOMPARE(fw->valueSource(), QString("measured"));
        QVERIFY(fw->legendTitle().contains("image #5"));
        {
            w.findChild<QDockWidget*>("dock.floorplan")->raise();
            QTest::qWait(50);
            const QString dir = QDir(STC_BINARY_DIR).filePath("screenshots");
            QDir().mkpath(dir);
            w.floorplanPanel()->grab().save(QDir(dir).filePath("ide-floorplan-measured-energy.png"));
        }
        // The Bottlenecks dock lists the run's ranked cores and layers; a layer row
        // highlights that layer's cores on the floorplan.
        BottleneckPanel* bottlenecks = w.bottleneckPanel();
        QVERIFY(bottlenecks->model()->rowCount() >= 2);
        QVERIFY(bottlenecks->sourceText().contains("image #5"));
        int layerRow = -1;
        for (int r = 0; r < bottlenecks->model()->rowCount() && layerRow < 0; ++r)
            if (bottlenecks->model()->at(r)->kind == ::stc::sim::Bottleneck::Kind::Layer)
                layerRow = r;
        QVERIFY(layerRow >= 0);
        bottlenecks->view()->selectRow(layerRow);
        const auto& floorLayers = w.floorplanPanel()->mapping()->layers;
        QVERIFY(fw->selectedLayer() >= 0);
        QCOMPARE(floorLayers[size_t(fw->selectedLayer())].name,
                 QString::fromStdString(bottlenecks->model()->at(layerRow)->layer));
        {
            w.findChild<QDockWidget*>("dock.bottlenecks")->raise();
            QTest::qWait(50);
            const QString dir = QDir(STC_BINARY_DIR).filePath("screenshots");
            w.grab().save(QDir(dir).filePath("ide-bottlenecks.png"));
        }
        // Inspector: a traced LIF layer shows its cores and the chip-measured rate.
        const views::sim::LayerTrace* layer = nullptr;
        for (const auto& l : sim->trace()->layers)
            if (l.opIndex >= 0 && (!layer || l.total > layer->total))
                layer = &l;
        QVERIFY(layer);
        w.document()->selectOp(layer->opIndex);
        InspectorModel* inspector = w.inspector()->model();
        QStringList names, values;
        for (int r = 0; r < inspector->rowCount(); ++r) {
            names << inspector->index(r, 0).data().toString();
            values << inspector->index(r, 1).data().toString();
        }
        QVERIFY2(names.contains("cores"), qPrintable(names.join(",")));
        QVERIFY(values[names.indexOf("cores")].contains("tile ("));
        QVERIFY(names.contains("firing rate"));
        QCOMPARE(values[names.indexOf("firing rate")], QString::number(layer->firingRate() * 100, 'f', 2) + " %");
        QVERIFY(values[names.indexOf("measured by")].contains("chip simulator"));

        // A run cancelled by Reset never lands, and Reset drops the ledger.
        sim->setImageIndex(6);
        sim->run();
        QVERIFY(w.jobs()->isRunning("simulate"));
        sim->reset();
        w.jobs()->waitForIdle(30000);
        QVERIFY(!sim->trace());
        QCOMPARE(charts->source(), ChartsPanel::Source::Estimate);
        QVERIFY(!charts->chartData()->measured);
        QVERIFY(!fw->measurement());
        QCOMPARE(fw->valueSource(), QString("estimate"));
        // The reference engine is still one click away.
        sim->setEngine(SimulatorPanel::Engine::Reference);
        QVERIFY(sim->engineText().contains("interpreter"));
    }

    void headlessReportOnSir()
    {
        QTemporaryDir dir;
        MainWindow w({false, false});
        QString log;
        QTextStream out(&log);
        HeadlessOptions o;
        o.outDir = dir.path();
        o.model = sir_;
        o.tour = true;
        const HeadlessResult r = runHeadless(w, o, out);
        QVERIFY(QFileInfo::exists(dir.filePath("studio.png")));
        QVERIFY(QFileInfo::exists(dir.filePath("report.txt")));
        QVERIFY(QFileInfo::exists(dir.filePath("panel-simulator.png")));
        QVERIFY(r.report.contains("ops:"));
        QVERIFY(r.report.contains("pipeline:"));
        if (QFileInfo::exists("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz")) {
            QVERIFY2(r.report.contains("simulation (bit-accurate chip simulator"), qPrintable(r.report));
            QVERIFY(r.report.contains("energy on screen: MEASURED"));
            QVERIFY(QFileInfo::exists(dir.filePath("panel-energy-layers-estimate.png")));
        }
    }

private:
    QString sir_;
};

QTEST_MAIN(TestMainWindow)
#include "test_main_window.moc"

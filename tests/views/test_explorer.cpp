// The project Explorer (.stcproj) offscreen: a project written by the store's
// own sweep (conv SNN in code, Fashion-MNIST) and one written through the
// Project API with a known front; the table model under
// QAbstractItemModelTester, the plotted Pareto front against the store's
// (store::energyAccuracyFront, Project::paretoFront), sorting, hover text, a
// click on a point and a row double-click loading the pipeline into the pass
// panel, CSV/PNG/SVG export, and files that are not projects.
#include "../core/interp_models.h"
#include "tiny_models.h"

#include "diagnostics/diagnostics_model.h"
#include "document/document.h"
#include "explorer/explorer_model.h"
#include "explorer/explorer_panel.h"
#include "explorer/tradeoff_plot.h"
#include "jobs/job_runner.h"
#include "jobs/latency_probe.h"
#include "main/command_palette.h"
#include "main/main_window.h"
#include "passes/calibration.h"
#include "passes/pass_panel.h"
#include "store/schema.h"
#include "store/sqlite_db.h"
#include "store/sweep.h"

#include <QAbstractItemModelTester>
#include <QApplication>
#include <QChartView>
#include <QComboBox>
#include <QDockWidget>
#include <QDropEvent>
#include <QMimeData>
#include <QElapsedTimer>
#include <QFile>
#include <QImage>
#include <QLabel>
#include <QLineEdit>
#include <QScatterSeries>
#include <QSignalSpy>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>

#include <cstdlib>

#include <fstream>
#include <random>

using namespace stc;
using namespace stc::views;

namespace {

bool openAndWait(ExplorerPanel& panel, const QString& path)
{
    QSignalSpy loaded(&panel, &ExplorerPanel::projectLoaded);
    panel.openProject(path);
    if (!loaded.wait(30000))
        return false;
    for (int i = 0; i < 500 && panel.plotPending(); ++i) // the chart follows in a zero-timer
        QTest::qWait(10);
    return loaded.first().at(1).toBool();
}

std::vector<int64_t> ids(const std::vector<store::ConfigPoint>& points)
{
    std::vector<int64_t> out;
    for (const auto& p : points)
        out.push_back(p.meta.id);
    return out;
}

store::ProjectInfo projectInfo(const std::string& name, const std::string& chip = "loihi3", const std::string& notes = {})
{
    store::ProjectInfo info;
    info.name = name;
    info.chip = chip;
    info.notes = notes;
    return info;
}

double stallBound()
{
    double load[1] = {0};
    const int cores = std::max(1, QThread::idealThreadCount());
    if (getloadavg(load, 1) == 1 && load[0] > cores + 1) {
        qWarning("machine overloaded (load %.1f on %d cores): asserting GUI stalls < 400 ms instead of 150 ms", load[0], cores);
        return 400.0;
    }
    return 150.0;
}

QStringList csvRecords(const QString& text)
{
    QStringList lines = text.split('\n');
    if (!lines.isEmpty() && lines.back().isEmpty())
        lines.removeLast();
    return lines;
}

} // namespace

class TestExplorer : public QObject {
    Q_OBJECT

private:
    QTemporaryDir tmp_;
    QString synthetic_, swept_;
    std::vector<int64_t> syntheticIds_;
    std::vector<int64_t> sweptFrontIds_; // store::energyAccuracyFront of the sweep's points, as compile run ids
    std::string file(const char* name) const { return QDir(tmp_.path()).filePath(name).toStdString(); }

private slots:
    void initTestCase()
    {
        QVERIFY(tmp_.isValid());
        // A project with a known trade-off: rows 0, 1, 5 are the energy front.
        synthetic_ = QString::fromStdString(file("synthetic.stcproj"));
        store::Project p = store::Project::create(synthetic_.toStdString(), projectInfo("synthetic", "loihi3", "notes"));
        const QString sir = test::writeSir(test::makeTinySpikformer(), QDir(tmp_.path()).filePath("tiny.sir"));
        p.setModel(store::describeModelFile(sir.toStdString(), {1, 1, 28, 28}, 4));
        const int64_t sweep = p.addSweep("stc sweep tiny.sir --bits 8,4,2 --sparsity 0,0.5");
        struct Row {
            bool mapped;
            double energy, latency;
            int bits;
            double sparsity;
            std::optional<double> accuracy;
        };
        const std::vector<Row> rows = {
            {true, 100e3, 900e3, 2, 0.5, 0.80}, // 0 energy front, latency dominated by 3
            {true, 200e3, 500e3, 4, 0.5, 0.85}, // 1 energy front, latency dominated by 5
            {true, 300e3, 700e3, 4, 0.0, 0.84}, // 2 dominated by 1 in both
            {true, 450e3, 100e3, 8, 0.5, 0.81}, // 3 latency front
            {false, 0, 0, 2, 0.0, 0.99},        // 4 not mapped: not plotted
            {true, 400e3, 400e3, 8, 0.0, 0.90}, // 5 energy front, latency front
            {true, 50e3, 50e3, 16, 0.0, std::nullopt}, // 6 no accuracy: not plotted
        };
        for (const Row& r : rows) {
            store::RunMeta meta;
            meta.chip = "loihi3";
            meta.sweepId = sweep;
            // As `stc sweep` records it: the IR passes, then the mapping passes.
            meta.pipeline = std::string("fold-bn,") + (r.sparsity > 0 ? "prune{sparsity=0.5 mode=magnitude}," : "") +
                            "fuse,quantize{bits=" + std::to_string(r.bits) + "},partition{chip=loihi3},place,route";
            meta.label = "bits=" + std::to_string(r.bits);
            meta.params = {{"bits", std::to_string(r.bits)}, {"sparsity", r.sparsity > 0 ? "0.5" : "0"}};
            store::CompileResult c;
            c.mapped = r.mapped;
            c.notMappedReason = r.mapped ? "" : "does not fit";
            c.coresUsed = r.mapped ? 3 : 0;
            c.energyPj = r.energy;
            c.latencyNs = r.latency;
            c.projectedChip = true;
            const int64_t id = p.addCompileRun(meta, c);
            syntheticIds_.push_back(id);
            if (r.accuracy) {
                store::RunMeta am = meta;
                am.compileRunId = id;
                p.addAccuracyRun(am, {"fashion-mnist", "test", 0, 100, int64_t(std::lround(*r.accuracy * 100)),
                                      store::EvalPath::FixedPoint, 0.1});
            }
        }
        p.tagRun(syntheticIds_[5], "deployed", "lab board");
        {
            store::RunMeta sm;
            sm.compileRunId = syntheticIds_[5];
            store::SimulationLedger ledger;
            ledger.samples = 10;
            ledger.steps = 40;
            ledger.energyPj = 380e3;
            ledger.latencyNs = 390e3;
            ledger.entries = {{"conv", "synaptic-op", 1000, 3.8e6}};
            p.addSimulationRun(sm, ledger);
        }

        // A project written by the store's own sweep (as `stc sweep --project` does).
        auto test = data::loadFashionMnist(data::Split::Test, data::defaultFashionMnistDir(), 16);
        auto train = data::loadFashionMnist(data::Split::Train, data::defaultFashionMnistDir(), 8);
        if (!test.ok() || !train.ok())
            return; // the sweep tests QSKIP below
        std::string error;
        const ir::Module model = test::buildConvSnn(2, 11, &error);
        QVERIFY2(error.empty(), error.c_str());
        swept_ = QString::fromStdString(file("swept.stcproj"));
        store::Project sp = store::Project::create(swept_.toStdString(), projectInfo("swept"));
        store::SweepSpec spec;
        spec.bits = {8, 4, 2};
        spec.sparsity = {0.0, 0.5};
        spec.limit = 16;
        spec.description = "test_explorer sweep";
        auto trainSet = std::make_shared<data::ImageSet>(std::move(train.value));
        QElapsedTimer t;
        t.start();
        const store::SweepResult r = store::runSweep(model, test.value, passes::imageSetCalibration(trainSet), spec, &sp);
        QVERIFY2(r.ok(), r.error.c_str());
        qInfo("sweep of %zu configurations on 16 images: %lld ms", r.points.size(), t.elapsed());
        for (size_t i : store::energyAccuracyFront(r.points))
            sweptFrontIds_.push_back(r.points[i].compileRunId);
        QVERIFY(!sweptFrontIds_.empty());
    }

    void modelUnderTester()
    {
        JobRunner jobs;
        ExplorerPanel panel(&jobs);
        auto tester = std::make_unique<QAbstractItemModelTester>(panel.model(), QAbstractItemModelTester::FailureReportingMode::QtTest);
        auto proxyTester = std::make_unique<QAbstractItemModelTester>(panel.proxy(), QAbstractItemModelTester::FailureReportingMode::QtTest);
        QCOMPARE(panel.model()->rowCount(), 0);
        QVERIFY(openAndWait(panel, synthetic_));
        QCOMPARE(panel.model()->rowCount(), int(syntheticIds_.size()));
        QCOMPARE(panel.model()->columnCount(), int(ExplorerModel::ColumnCount));
        for (int c = 0; c < ExplorerModel::ColumnCount; ++c)
            QVERIFY(!panel.model()->headerData(c, Qt::Horizontal).toString().isEmpty());
        // Every column sorts both ways without upsetting the tester.
        for (int c = 0; c < ExplorerModel::ColumnCount; ++c)
            for (Qt::SortOrder o : {Qt::AscendingOrder, Qt::DescendingOrder})
                panel.table()->sortByColumn(c, o);
        QVERIFY(openAndWait(panel, synthetic_)); // reset while testers watch
        panel.clear();
        QCOMPARE(panel.model()->rowCount(), 0);
    }

    void tableShowsStoreValues()
    {
        JobRunner jobs;
        ExplorerPanel panel(&jobs);
        QVERIFY(openAndWait(panel, synthetic_));
        ExplorerModel* m = panel.model();
        const int r5 = m->rowOf(syntheticIds_[5]);
        QCOMPARE(m->index(r5, ExplorerModel::Bits).data().toString(), QString("8"));
        QCOMPARE(m->index(r5, ExplorerModel::Accuracy).data().toString(), QString("90.00 %"));
        QCOMPARE(m->index(r5, ExplorerModel::Energy).data().toString(), QString("400.0 nJ"));
        QCOMPARE(m->index(r5, ExplorerModel::Latency).data().toString(), QString("400.0 µs"));
        QCOMPARE(m->index(r5, ExplorerModel::SimEnergy).data().toString(), QString("380.0 nJ"));
        QCOMPARE(m->index(r5, ExplorerModel::SimLatency).data().toString(), QString("390.0 µs"));
        QCOMPARE(m->index(m->rowOf(syntheticIds_[0]), ExplorerModel::SimEnergy).data().toString(), QString("—"));
        QCOMPARE(m->index(r5, ExplorerModel::Cores).data().toLongLong(), 3LL);
        QVERIFY(!panel.table()->isColumnHidden(ExplorerModel::SimEnergy)); // run 6 has a simulation run
        QCOMPARE(m->index(r5, ExplorerModel::Tags).data().toString(), QString("deployed"));
        QCOMPARE(m->index(r5, ExplorerModel::Pareto).data().toString(), QString("energy, latency"));
        QCOMPARE(m->index(r5, ExplorerModel::Pipeline).data().toString(), QString("fold-bn,fuse,quantize{bits=8}"));
        QCOMPARE(m->index(m->rowOf(syntheticIds_[4]), ExplorerModel::Status).data().toString(), QString("not mapped"));
        QCOMPARE(m->index(m->rowOf(syntheticIds_[6]), ExplorerModel::Accuracy).data().toString(), QString("—"));
        // Sorted by energy (descending) the most expensive mapped configuration comes first.
        panel.table()->sortByColumn(ExplorerModel::Energy, Qt::DescendingOrder);
        QCOMPARE(panel.proxy()->index(0, ExplorerModel::Run).data(ExplorerModel::RunIdRole).toLongLong(), syntheticIds_[3]);
        panel.table()->sortByColumn(ExplorerModel::Accuracy, Qt::DescendingOrder);
        QCOMPARE(panel.proxy()->index(0, ExplorerModel::Run).data(ExplorerModel::RunIdRole).toLongLong(), syntheticIds_[4]);
        // Model versions, tags and the sweep are listed.
        QCOMPARE(panel.modelsTable()->rowCount(), 1);
        QVERIFY(panel.modelsTable()->item(0, 1)->text().endsWith("tiny.sir"));
        QCOMPARE(panel.tagsTable()->rowCount(), 2); // the tag and the sweep
        QCOMPARE(panel.tagsTable()->item(0, 1)->text(), QString("deployed"));
        QVERIFY(panel.snapshot()->seconds > 0);
    }

    void frontIsTheStores()
    {
        JobRunner jobs;
        ExplorerPanel panel(&jobs);
        QVERIFY(openAndWait(panel, synthetic_));
        store::Project p = store::Project::open(synthetic_.toStdString(), store::OpenMode::ReadOnly);
        const auto energyFront = ids(p.paretoFront(store::Metric::EnergyPj, store::Metric::Accuracy));
        const auto latencyFront = ids(p.paretoFront(store::Metric::LatencyNs, store::Metric::Accuracy));
        QCOMPARE(energyFront, (std::vector<int64_t>{syntheticIds_[0], syntheticIds_[1], syntheticIds_[5]}));
        QCOMPARE(latencyFront, (std::vector<int64_t>{syntheticIds_[3], syntheticIds_[5]}));
        QCOMPARE(panel.plot()->frontRuns(), energyFront);
        QCOMPARE(panel.plot()->frontSeries()->count(), 3);
        QCOMPARE(panel.plot()->pointSeries()->count(), 2); // rows 2, 3; 4 (not mapped) and 6 (no accuracy) are left out
        // Plotted in nJ (the largest energy is 450 nJ) and %: the front's first point is 100 nJ, 80 %.
        QCOMPARE(panel.plot()->frontSeries()->at(0), QPointF(100.0, 80.0));
        panel.axisBox()->setCurrentIndex(1);
        QCOMPARE(panel.plot()->axis(), TradeoffPlot::Axis::Latency);
        QCOMPARE(panel.plot()->frontRuns(), latencyFront);
        // Hover text names the run and its configuration.
        QScatterSeries* front = panel.plot()->frontSeries();
        emit front->hovered(front->at(1), true);
        QVERIFY2(panel.plot()->lastHoverText().contains(QString("run %1").arg(syntheticIds_[5])), qPrintable(panel.plot()->lastHoverText()));
        QVERIFY(panel.plot()->lastHoverText().contains("bits=8 sparsity=0"));
        emit front->hovered(front->at(1), false);
        QVERIFY(panel.plot()->lastHoverText().isEmpty());
    }

    void sweptProjectFrontMatchesSweep()
    {
        if (swept_.isEmpty())
            QSKIP("Fashion-MNIST is not installed (Debian package fashion-mnist)");
        JobRunner jobs;
        ExplorerPanel panel(&jobs);
        QAbstractItemModelTester tester(panel.model(), QAbstractItemModelTester::FailureReportingMode::QtTest);
        QVERIFY(openAndWait(panel, swept_));
        QCOMPARE(panel.model()->rowCount(), 6);
        QCOMPARE(panel.snapshot()->energyFront, sweptFrontIds_);
        QCOMPARE(panel.plot()->frontRuns(), sweptFrontIds_);
        QCOMPARE(panel.plot()->frontRuns().size() + panel.plot()->pointRuns().size(), size_t(6));
        for (const ExplorerRow& r : panel.snapshot()->rows) {
            QVERIFY(r.point.accuracy);
            QVERIFY(r.irPipeline.starts_with("fold-bn,"));
            QVERIFY(r.irPipeline.find("partition") == std::string::npos);
        }
        qInfo("swept project: %zu configurations, %zu on the energy front, read in %.1f ms", panel.snapshot()->rows.size(),
              sweptFrontIds_.size(), panel.snapshot()->seconds * 1e3);
    }

    void clickAndDoubleClickLoadPipeline()
    {
        MainWindow w({false, false});
        w.resize(1440, 900);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        QSignalSpy opened(&w, &MainWindow::fileOpened);
        QElapsedTimer t;
        t.start();
        w.jobs()->resetCallbackStats();
        LatencyProbe probe(5);
        probe.start();
        w.openFile(synthetic_);
        QVERIFY(opened.wait(30000));
        QTRY_VERIFY(!w.explorerPanel()->plotPending());
        QTest::qWait(20); // a few probe ticks after the chart
        probe.stop();
        QVERIFY(opened.first().at(1).toBool());
        qInfo("GUI event-loop stall while opening (5 ms probe): max %.1f ms over %d ticks", probe.stats().maxMs,
              probe.stats().samples);
        qInfo("open .stcproj in the window: %lld ms (read %.1f ms off the GUI thread); slowest GUI-thread result callback "
              "%.1f ms (lane %s; explorer %.1f ms of which plot %.1f ms)",
              t.elapsed(), w.explorerPanel()->snapshot()->seconds * 1e3, w.jobs()->maxCallbackMs(),
              qPrintable(w.jobs()->slowestCallbackLane()), w.explorerPanel()->lastShowMs(), w.explorerPanel()->lastPlotMs());
        // 50 ms is the target; asserted is the regression bound the latency test uses (150 ms, relaxed to
        // 400 ms on an overloaded machine, where the GUI thread also waits for a CPU).
        QVERIFY2(w.jobs()->maxCallbackMs() < stallBound(), "result callback regression (target 50 ms)");
        ExplorerPanel* panel = w.explorerPanel();
        QVERIFY(panel->isVisible());
        QVERIFY(w.recentFiles().contains(QFileInfo(synthetic_).absoluteFilePath()));
        QApplication::processEvents();

        // A click on a front point loads that configuration's IR pipeline.
        QLineEdit* text = w.passPanel()->pipelineText();
        const QString before = text->text();
        const int64_t run = syntheticIds_[0]; // 2 bits, sparsity 0.5
        const QPoint pos = panel->plot()->positionOf(run);
        QVERIFY(!pos.isNull());
        QSignalSpy requested(panel, &ExplorerPanel::pipelineRequested);
        QTest::mouseClick(panel->plot()->view()->viewport(), Qt::LeftButton, {}, pos);
        QCOMPARE(requested.count(), 1);
        const QString expected = "fold-bn,prune{sparsity=0.5 mode=magnitude},fuse,quantize{bits=2}";
        QCOMPARE(text->text(), expected);
        QVERIFY(text->text() != before);
        QCOMPARE(w.passPanel()->pipelineString(), expected);

        // A double-click on a table row does the same.
        const int row = panel->proxy()->mapFromSource(panel->model()->index(panel->model()->rowOf(syntheticIds_[5]), 0)).row();
        const QRect cell = panel->table()->visualRect(panel->proxy()->index(row, ExplorerModel::Bits));
        panel->tabs()->setCurrentIndex(0);
        QVERIFY2(panel->table()->viewport()->rect().contains(cell.center()),
                 qPrintable(QString("cell %1,%2 viewport %3x%4").arg(cell.center().x()).arg(cell.center().y())
                                .arg(panel->table()->viewport()->width()).arg(panel->table()->viewport()->height())));
        QTest::mouseClick(panel->table()->viewport(), Qt::LeftButton, {}, cell.center()); // sets the pressed index
        QTest::mouseDClick(panel->table()->viewport(), Qt::LeftButton, {}, cell.center());
        QCOMPARE(requested.count(), 2);
        QCOMPARE(text->text(), QString("fold-bn,fuse,quantize{bits=8}"));
        QVERIFY(w.document()->undoStack()->canUndo()); // an ordinary, undoable pipeline edit
    }

    void exportCsvPngSvg()
    {
        JobRunner jobs;
        ExplorerPanel panel(&jobs);
        panel.resize(1200, 500);
        panel.show();
        QVERIFY(openAndWait(panel, synthetic_));
        const QString dir = tmp_.path();
        QString error;
        QVERIFY2(panel.exportCsv(dir + "/t.csv", &error), qPrintable(error));
        QFile f(dir + "/t.csv");
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QStringList lines = csvRecords(QString::fromUtf8(f.readAll()));
        QCOMPARE(lines.size(), int(syntheticIds_.size()) + 1);
        QVERIFY(lines[0].startsWith("run,sweep,bits,sparsity,"));
        const QStringList header = lines[0].split(',');
        // Row of run 6 (index 5): raw values, pipelines quoted (they contain commas).
        const QString row5 = lines[6];
        QVERIFY2(row5.startsWith(QString("%1,1,8,0,,\"fold-bn,fuse,quantize{bits=8}\",\"fold-bn,fuse,quantize{bits=8},partition{chip=loihi3},place,route\",loihi3,ok,1,0.9,90,100,400000,400000,380000,390000,3,0,1,1,deployed")
                                     .arg(syntheticIds_[5])),
                 qPrintable(row5));
        QCOMPARE(header.size(), 22);
        // Unmeasured values are empty fields, not zeros.
        QVERIFY2(lines[7].contains(",ok,1,,,,50000,50000,,,3,"), qPrintable(lines[7]));

        QVERIFY2(panel.exportPng(dir + "/t.png", &error), qPrintable(error));
        QImage png(dir + "/t.png");
        QCOMPARE(png.size(), QSize(1000, 640));
        QVERIFY(QFileInfo(dir + "/t.png").size() > 5000);
        QVERIFY2(panel.exportSvg(dir + "/t.svg", &error), qPrintable(error));
        QFile svg(dir + "/t.svg");
        QVERIFY(svg.open(QIODevice::ReadOnly));
        const QByteArray s = svg.readAll();
        QVERIFY(s.size() > 5000);
        QVERIFY(s.contains("<svg"));
        QVERIFY(s.contains("Pareto front"));
        QVERIFY(!panel.exportCsv(dir + "/no/such/dir/t.csv", &error));
        QVERIFY(error.contains("could not write"));
    }

    void notAProject_data()
    {
        QTest::addColumn<QString>("kind");
        QTest::addColumn<QString>("message");
        QTest::newRow("random bytes") << "random" << "not an STC project";
        QTest::newRow("empty file") << "empty" << "empty file";
        QTest::newRow("missing") << "missing" << "no such file";
        QTest::newRow("newer schema") << "newer" << "newer STC Studio";
        QTest::newRow("truncated") << "truncated" << "damaged";
    }
    void notAProject()
    {
        QFETCH(QString, kind);
        QFETCH(QString, message);
        const std::string path = file(("bad-" + kind + ".stcproj").toUtf8().constData());
        if (kind == "random") {
            std::mt19937 rng(3);
            std::string bytes(8192, '\0');
            for (char& c : bytes)
                c = char(rng());
            std::ofstream(path, std::ios::binary) << bytes;
        } else if (kind == "empty") {
            std::ofstream(path, std::ios::binary);
        } else if (kind == "newer") {
            store::Project::create(path, projectInfo("n"));
            store::sql::Db db(path, SQLITE_OPEN_READWRITE);
            db.exec("PRAGMA user_version = 99");
        } else if (kind == "truncated") {
            QFile::copy(synthetic_, QString::fromStdString(path));
            QFile f(QString::fromStdString(path));
            QVERIFY(f.open(QIODevice::ReadWrite));
            f.resize(f.size() / 2);
        }
        MainWindow w({false, false});
        QSignalSpy opened(&w, &MainWindow::fileOpened);
        w.openFile(QString::fromStdString(path));
        QVERIFY(opened.wait(30000));
        QCOMPARE(opened.first().at(1).toBool(), false);
        const QString error = w.explorerPanel()->errorText();
        QVERIFY(!error.isEmpty());
        QVERIFY2(error.contains(QString::fromStdString(path)), qPrintable(error)); // names the file
        if (!message.isEmpty())
            QVERIFY2(error.contains(message, Qt::CaseInsensitive), qPrintable(error));
        QVERIFY(w.explorerPanel()->errorLabel()->isVisibleTo(w.explorerPanel()));
        bool inDiagnostics = false;
        for (const auto& d : w.document()->diagnostics())
            inDiagnostics |= d.source == DiagSource::Project && d.diag.severity == Severity::Error &&
                             QString::fromStdString(d.diag.message) == error;
        QVERIFY(inDiagnostics);
        QVERIFY(!w.recentFiles().contains(QFileInfo(QString::fromStdString(path)).absoluteFilePath()));
    }

    // An older project is upgraded (as `stc project` read commands do) and the
    // panel says so with a warning in Diagnostics.
    void olderSchemaIsUpgradedWithAWarning()
    {
        const std::string path = file("schema1.stcproj");
        {
            store::sql::Db db(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
            db.exec("PRAGMA journal_mode = DELETE");
            db.exec("PRAGMA application_id = " + std::to_string(store::kApplicationId));
            store::applyMigrations(db, {store::builtinMigrations().at(0)});
            db.exec("INSERT INTO models (id, path, sha256, format, input_shape, timesteps, added_at) "
                    "VALUES (1, '/m.pt', 'abc', 'pt', '1,784', 8, 't0');"
                    "INSERT INTO project (id, name, chip, notes, current_model_id, created_at, created_by) "
                    "VALUES (1, 'old', 'loihi2', '', 1, 't0', '0.0.9');"
                    "INSERT INTO runs (id, kind, created_at, tool_version, model_id, chip, pipeline) "
                    "VALUES (1, 'compile', 't1', '0.0.9', 1, 'loihi2', 'fold-bn');"
                    "INSERT INTO compile_results (run_id, status, seconds, mapped, cores_used, chips_used, "
                    "utilization, latency_ns, energy_pj) VALUES (1, 'ok', 1.0, 1, 6, 1, 0.4, 900.0, 3e5);");
        }
        MainWindow w({false, false});
        QSignalSpy opened(&w, &MainWindow::fileOpened);
        w.openFile(QString::fromStdString(path));
        QVERIFY(opened.wait(30000));
        QVERIFY(opened.first().at(1).toBool());
        const ProjectSnapshot* s = w.explorerPanel()->snapshot();
        QCOMPARE(s->info.schemaVersion, store::kSchemaVersion);
        QCOMPARE(s->rows.size(), size_t(1));
        QCOMPARE(w.explorerPanel()->model()->index(0, ExplorerModel::Pipeline).data().toString(), QString("fold-bn"));
        QVERIFY(QString::fromStdString(s->note).contains("upgraded"));
        bool warned = false;
        for (const auto& d : w.document()->diagnostics())
            warned |= d.source == DiagSource::Project && d.diag.severity == Severity::Warning &&
                      QString::fromStdString(d.diag.message).contains("upgraded");
        QVERIFY(warned);
    }

    void projectDropAndCommandPalette()
    {
        MainWindow w({false, false});
        QDockWidget* dock = w.findChild<QDockWidget*>("dock.explorer");
        QVERIFY(dock);
        QVERIFY(w.docks().contains(dock));
        QVERIFY(dock->toggleViewAction()->text().contains("Explorer"));
        // The command palette finds the panel like the other docks.
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        w.showCommandPalette();
        CommandPalette* palette = w.commandPalette();
        QTRY_VERIFY(palette->isVisible());
        QTest::keyClicks(palette->filter(), "explorer");
        QVERIFY(palette->model()->rowCount() >= 1);
        QVERIFY(palette->model()->actionAt(0)->text().contains("Explorer"));
        QTest::keyClick(palette->filter(), Qt::Key_Escape);
        // The open-file filter offers projects.
        QVERIFY(w.action("file.open"));
        QSignalSpy opened(&w, &MainWindow::fileOpened);
        QMimeData mime;
        mime.setUrls({QUrl::fromLocalFile(synthetic_)});
        const QPoint pos = w.rect().center();
        QDragEnterEvent enter(pos, Qt::CopyAction | Qt::MoveAction, &mime, Qt::LeftButton, Qt::NoModifier);
        QApplication::sendEvent(&w, &enter);
        QVERIFY(enter.isAccepted());
        QDropEvent drop(pos, Qt::CopyAction | Qt::MoveAction, &mime, Qt::LeftButton, Qt::NoModifier);
        QApplication::sendEvent(&w, &drop);
        QVERIFY(opened.wait(30000));
        QVERIFY(opened.first().at(1).toBool());
        QCOMPARE(w.explorerPanel()->projectPath(), synthetic_);
    }
};

QTEST_MAIN(TestExplorer)
#include "test_explorer.moc"

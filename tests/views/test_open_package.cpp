// Deployment packages and NIR graphs without stc_timesteps in the IDE
// (offscreen): a package written the way `stc compile` writes it opens from
// its directory or its manifest.json, shows the placement it records, sets
// the Simulator to the chip simulator with it, runs it (F5) and colours the
// floorplan by the measured per-core energy and activity; a package with
// provenance.json loads its source model; malformed packages give a located
// error; a .nir without T asks for one through the injectable prompt.
// Screenshots go to <build>/screenshots/.
#include "charts/charts_panel.h"
#include "diagnostics/diagnostics_model.h"
#include "diagnostics/diagnostics_widget.h"
#include "document/document.h"
#include "editor/ir_editor_panel.h"
#include "floorplan/floorplan_layer_model.h"
#include "floorplan/floorplan_panel.h"
#include "jobs/job_runner.h"
#include "main/main_window.h"
#include "tiny_models.h"
#include "passes/pass_panel.h"
#include "sim/simulator_panel.h"

#include "ir/ir_io.h"
#include "target/compile.h"
#include "target/package.h"

#include <QAction>
#include <QApplication>
#include <QComboBox>
#include <QCryptographicHash>
#include <QDir>
#include <QDockWidget>
#include <QFile>
#include <QJsonDocument>
#include <QLabel>
#include <QJsonObject>
#include <QMimeData>
#include <QSettings>
#include <QSignalSpy>
#include <QStatusBar>
#include <QTemporaryDir>
#include <QUrl>
#include <QTest>

#include <algorithm>

using namespace stc;
using namespace stc::views;
using stc::test::openAndWait;

namespace {

const QString kSir = STC_TEST_DATA_DIR "/ir/conv_snn.sir";

bool haveDataset() { return QFileInfo::exists("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"); }

// `stc compile conv_snn.sir --chip loihi2 --objective latency -o dir`
// through the same core call (the latency objective spreads the model over
// many cores, so the floorplan has routes to draw).
target::Package writeConvPackage(const QString& dir)
{
    auto mod = ir::loadModule(kSir.toStdString());
    if (!mod.module)
        qFatal("%s", mod.diagnostics.format().c_str());
    target::CompileRequest req;
    req.chip = "loihi2";
    req.objective = "latency";
    target::CompileOutput out = target::compileModule(*mod.module, req);
    if (!out.ok())
        qFatal("%s", out.error.c_str());
    std::string err;
    if (!target::writePackage(out.package, dir.toStdString(), "listing\n", &err, 1))
        qFatal("%s", err.c_str());
    return out.package;
}

void writeProvenance(const QString& dir, const QString& model, const QByteArray& sha)
{
    QJsonObject m{{"path", model}, {"sha256", QString::fromLatin1(sha)}, {"format", "sir"}, {"timesteps", 4}};
    QFile f(QDir(dir).filePath("provenance.json"));
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(QJsonDocument(QJsonObject{{"format", "stc.provenance/1"}, {"model", m}}).toJson());
}

QByteArray sha256Of(const QString& path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    return QCryptographicHash::hash(f.readAll(), QCryptographicHash::Sha256).toHex();
}

QString screenshot(QWidget* w, const QString& name)
{
    const QString dir = QDir(STC_BINARY_DIR).filePath("screenshots");
    QDir().mkpath(dir);
    const QString path = QDir(dir).filePath(name);
    w->grab().save(path);
    qInfo("screenshot %s", qPrintable(path));
    return path;
}

void setColour(MainWindow& w, FloorplanWidget::ColorMode mode)
{
    auto* box = w.floorplanPanel()->findChild<QComboBox*>("floorplan.color");
    box->setCurrentIndex(box->findData(int(mode)));
}

const LocatedDiagnostic* loadError(MainWindow& w)
{
    const DiagnosticsModel* model = w.diagnostics()->model();
    for (int row = 0; row < model->rowCount(); ++row)
        if (const LocatedDiagnostic* d = model->at(row); d && d->diag.severity == Severity::Error)
            return d;
    return nullptr;
}

} // namespace

class TestOpenPackage : public QObject {
    Q_OBJECT
private slots:
    void initTestCase()
    {
        QApplication::setOrganizationName("STC-tests");
        QApplication::setApplicationName("views-tests-packages");
        QSettings().clear();
        QVERIFY(tmp_.isValid());
        dir_ = tmp_.filePath("conv.stcpkg");
        pkg_ = writeConvPackage(dir_);
        QVERIFY(!pkg_.cores.empty());
    }

    void opensPackage_data()
    {
        QTest::addColumn<QString>("what");
        QTest::newRow("directory") << "";
        QTest::newRow("manifest.json") << "manifest.json";
    }
    void opensPackage()
    {
        QFETCH(QString, what);
        MainWindow w({false, false});
        QVERIFY(openAndWait(w, what.isEmpty() ? dir_ : QDir(dir_).filePath(what)));
        FloorplanPanel* fp = w.floorplanPanel();
        QVERIFY(fp->showingPackage());
        QVERIFY(fp->mapping());
        QCOMPARE(fp->mapping()->cores.size(), pkg_.cores.size());
        QCOMPARE(fp->mapping()->layers.size(), pkg_.populations.size());
        QVERIFY(!fp->mapping()->perCoreEstimate);
        QCOMPARE(fp->mapping()->chipId, QString("loihi2"));
        // The pass panel and the compile action name the package's chip.
        QCOMPARE(w.passPanel()->target(), QString("loihi2"));
        QVERIFY(w.passPanel()->findChild<QLabel*>("pipeline.target")->text().contains("loihi2"));
        QCOMPARE(w.action("pipeline.compile")->text(), QString("&Compile for loihi2"));
        qInfo("package: %zu cores, %zu routes", pkg_.cores.size(), fp->mapping()->routes.size());
        QVERIFY(!fp->mapping()->routes.empty());
        for (size_t k = 0; k < pkg_.cores.size(); ++k) {
            QCOMPARE(fp->mapping()->cores[k].tileX, pkg_.cores[k].coord.tileX);
            QVERIFY(fp->mapping()->cores[k].neurons > 0);
        }
        // No source model recorded: the status says so; the document has none.
        QVERIFY(!w.document()->hasModule());
        QVERIFY2(w.statusBar()->currentMessage().contains("does not record its source model"),
                 qPrintable(w.statusBar()->currentMessage()));
        QVERIFY(w.windowTitle().contains("conv.stcpkg"));
        SimulatorPanel* sim = w.simulator();
        QVERIFY(sim->chipSimulatorAvailable());
        QCOMPARE(sim->engine(), SimulatorPanel::Engine::ChipSimulator);
        QVERIFY(sim->available());
        QVERIFY(w.action("sim.run")->isEnabled());
        QVERIFY(w.recentFiles().contains(QFileInfo(dir_).absoluteFilePath()));
    }

    // Dropping the package directory onto the window opens it too.
    void dropPackageDirectory()
    {
        MainWindow w({false, false});
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        QSignalSpy opened(&w, &MainWindow::fileOpened);
        QMimeData mime;
        mime.setUrls({QUrl::fromLocalFile(dir_)});
        const QPoint pos = w.rect().center();
        QDragEnterEvent enter(pos, Qt::CopyAction | Qt::MoveAction, &mime, Qt::LeftButton, Qt::NoModifier);
        QApplication::sendEvent(&w, &enter);
        QVERIFY(enter.isAccepted());
        QDropEvent drop(pos, Qt::CopyAction | Qt::MoveAction, &mime, Qt::LeftButton, Qt::NoModifier);
        QApplication::sendEvent(&w, &drop);
        QVERIFY(opened.wait(60000));
        QVERIFY(opened.first().at(1).toBool());
        QVERIFY(w.floorplanPanel()->showingPackage());
        QCOMPARE(w.simulator()->engine(), SimulatorPanel::Engine::ChipSimulator);
    }

    // F5 on the opened package: the chip simulator runs it; the charts show
    // the measured ledger; the floorplan's energy/activity colours switch
    // from "not in the package" to the measured per-core values.
    void runsOpenedPackageAndColoursByMeasurement()
    {
        if (!haveDataset())
            QSKIP("Fashion-MNIST is not installed");
        MainWindow w({false, false});
        w.resize(1500, 950);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        QVERIFY(openAndWait(w, dir_));
        w.findChild<QDockWidget*>("dock.floorplan")->raise();
        FloorplanWidget* fw = w.floorplanPanel()->floorplan();
        setColour(w, FloorplanWidget::ColorMode::Energy);
        QCOMPARE(fw->valueSource(), QString());
        QVERIFY(fw->legendTitle().contains("not in the package"));
        QTest::qWait(50);
        screenshot(&w, "package-opened-window.png");

        SimulatorPanel* sim = w.simulator();
        sim->setPlaybackIntervalMs(1);
        QSignalSpy done(sim, &SimulatorPanel::runFinished);
        sim->setImageIndex(2);
        w.action("sim.run")->trigger();
        QVERIFY(done.wait(60000));
        QVERIFY(done.first().at(0).toBool());
        QVERIFY(QString::fromStdString(sim->trace()->engine).contains("chip simulator"));
        QVERIFY(sim->trace()->totalSpikes() > 0);
        ChartsPanel* charts = w.chartsPanel();
        QVERIFY(charts->chartData() && charts->chartData()->measured);
        QVERIFY(charts->chartData()->origin.contains("image #2"));

        const FloorMeasurement* m = fw->measurement();
        QVERIFY(m);
        QCOMPARE(m->energyPj.size(), pkg_.cores.size());
        double sum = 0;
        for (double e : m->energyPj)
            sum += e;
        QVERIFY(sum > 0);
        QVERIFY(m->label.contains("image #2"));
        QCOMPARE(fw->valueSource(), QString("measured"));
        QVERIFY(fw->legendTitle().startsWith("MEASURED"));
        QVERIFY(fw->coreToolTip(0).contains("measured"));
        // The layer table's Energy column switches to the measured per-layer
        // energy; over all layers it adds up to the per-core total.
        FloorplanLayerModel* layers = w.floorplanPanel()->layerModel();
        QVERIFY(layers->showsMeasurement());
        QVERIFY(layers->headerData(FloorplanLayerModel::Energy, Qt::Horizontal).toString().contains("measured"));
        double layerSum = 0;
        for (int r = 0; r < layers->rowCount(); ++r)
            layerSum += layers->index(r, FloorplanLayerModel::Energy).data(FloorplanLayerModel::SortRole).toDouble();
        QVERIFY2(std::abs(layerSum - sum) <= 1e-6 * sum,
                 qPrintable(QString("layers %1 pJ, cores %2 pJ").arg(layerSum).arg(sum)));
        // The hottest core is painted with the ramp's top colour.
        int hottest = 0;
        for (int k = 1; k < int(m->energyPj.size()); ++k)
            if (m->energyPj[size_t(k)] > m->energyPj[size_t(hottest)])
                hottest = k;
        QVERIFY(fw->coreColor(hottest) != fw->coreColor(int(std::min_element(m->energyPj.begin(), m->energyPj.end()) -
                                                            m->energyPj.begin())));
        QTest::qWait(50);
        screenshot(w.floorplanPanel(), "package-floorplan-measured-energy.png");
        setColour(w, FloorplanWidget::ColorMode::Activity);
        QVERIFY(fw->legendTitle().startsWith("MEASURED spikes"));
        QTest::qWait(50);
        screenshot(w.floorplanPanel(), "package-floorplan-measured-activity.png");
        w.findChild<QDockWidget*>("dock.simulator")->raise();
        QTest::qWait(50);
        screenshot(w.simulator(), "package-simulator-chip.png");
        w.findChild<QDockWidget*>("dock.energy")->raise();
        QTest::qWait(50);
        screenshot(&w, "package-run-energy-window.png");
        // Reset drops the measurement.
        sim->reset();
        QVERIFY(!fw->measurement());
        QVERIFY(!layers->showsMeasurement());
    }

    void provenanceLoadsTheSourceModel()
    {
        QTemporaryDir t;
        const QString dir = t.filePath("with-source.stcpkg");
        writeConvPackage(dir);
        writeProvenance(dir, kSir, sha256Of(kSir));
        MainWindow w({false, false});
        QVERIFY(openAndWait(w, dir));
        QVERIFY(w.document()->hasModule());
        QCOMPARE(w.document()->filePath(), kSir);
        QVERIFY(w.irEditor()->text().contains("conv_snn_fmnist"));
        QVERIFY2(w.statusBar()->currentMessage().contains("SHA-256 checked"), qPrintable(w.statusBar()->currentMessage()));
        // The layers link to graph nodes, and the compile the load triggered
        // did not replace the package's placement.
        FloorplanPanel* fp = w.floorplanPanel();
        int linked = 0;
        for (const auto& l : fp->mapping()->layers)
            linked += l.opIndex >= 0;
        QVERIFY(linked > 0);
        QVERIFY(fp->showingPackage());
        QCOMPARE(fp->mapping()->cores.size(), pkg_.cores.size());
        QVERIFY(!fp->mapping()->perCoreEstimate);
        QCOMPARE(w.simulator()->engine(), SimulatorPanel::Engine::ChipSimulator);
    }

    void provenanceWithChangedModelIsNotLoaded()
    {
        QTemporaryDir t;
        const QString dir = t.filePath("stale.stcpkg");
        writeConvPackage(dir);
        writeProvenance(dir, kSir, QByteArray(64, '0'));
        MainWindow w({false, false});
        QVERIFY(openAndWait(w, dir));
        QVERIFY(!w.document()->hasModule());
        QVERIFY(w.statusBar()->currentMessage().contains("changed since the package was built"));
        QVERIFY(w.floorplanPanel()->showingPackage());
    }

    void malformedPackageGivesLocatedError_data()
    {
        QTest::addColumn<QString>("damage");
        QTest::addColumn<QString>("file"); // where the error must point
        QTest::addColumn<int>("line");     // > 0: a line is required
        QTest::newRow("truncated manifest") << "truncate-manifest" << "manifest.json" << 1;
        QTest::newRow("missing core blob") << "remove-blob" << "cores.bin" << 0;
        QTest::newRow("truncated core blob") << "truncate-blob" << "cores.bin" << 0;
        QTest::newRow("unknown format") << "format" << "manifest.json" << 0;
        QTest::newRow("missing key") << "drop-populations" << "manifest.json" << 0;
        QTest::newRow("bad chip descriptor") << "descriptor" << "manifest.json" << 0;
        QTest::newRow("empty .stcpkg") << "empty" << "manifest.json" << 0;
    }
    void malformedPackageGivesLocatedError()
    {
        QFETCH(QString, damage);
        QFETCH(QString, file);
        QFETCH(int, line);
        QTemporaryDir t;
        const QString dir = t.filePath("bad.stcpkg");
        const QString manifest = QDir(dir).filePath("manifest.json");
        if (damage == "empty") {
            QVERIFY(QDir().mkpath(dir));
        } else {
            writeConvPackage(dir);
            QFile mf(manifest);
            QVERIFY(mf.open(QIODevice::ReadOnly));
            QByteArray text = mf.readAll();
            mf.close();
            QJsonObject j = QJsonDocument::fromJson(text).object();
            if (damage == "truncate-manifest")
                text = text.left(text.size() / 2);
            else if (damage == "format")
                j["format"] = "stc.package/9";
            else if (damage == "drop-populations")
                j.remove("populations");
            else if (damage == "descriptor") {
                QJsonObject chip = j["chip"].toObject();
                chip["descriptor"] = "{\"id\": 3}";
                j["chip"] = chip;
            } else if (damage == "remove-blob")
                QVERIFY(QFile::remove(QDir(dir).filePath("cores.bin")));
            else if (damage == "truncate-blob")
                QVERIFY(QFile::resize(QDir(dir).filePath("cores.bin"), 40));
            if (damage == "format" || damage == "drop-populations" || damage == "descriptor")
                text = QJsonDocument(j).toJson();
            QVERIFY(mf.open(QIODevice::WriteOnly | QIODevice::Truncate));
            mf.write(text);
        }
        MainWindow w({false, false});
        QVERIFY(!openAndWait(w, dir));
        QVERIFY(!w.document()->hasModule());
        QVERIFY(!w.floorplanPanel()->showingPackage());
        const LocatedDiagnostic* d = loadError(w);
        QVERIFY(d);
        qInfo("%s", d->diag.format().c_str());
        QVERIFY2(QString::fromStdString(d->diag.loc.file).endsWith(file), d->diag.loc.file.c_str());
        if (line > 0)
            QVERIFY2(d->diag.loc.line > 0, d->diag.message.c_str());
        // The same window still opens a good package.
        QVERIFY(openAndWait(w, dir_));
        QVERIFY(w.floorplanPanel()->showingPackage());
    }

    // A NIR graph without stc_timesteps: the prompt is asked (suggesting 4
    // at first, then the remembered answer), the graph opens with that T; a
    // declined prompt gives an error, not a model.
    void nirWithoutTimestepsAsksForT()
    {
        const QString nir = STC_TEST_FIXTURE_DIR "/nir/spec_affine_lif.nir";
        MainWindow w({false, false});
        QList<int64_t> suggested;
        QStringList asked;
        std::optional<int64_t> answer = 3;
        w.setTimestepsPrompt([&](const QString& path, int64_t s) {
            suggested << s;
            asked << path;
            return answer;
        });
        QVERIFY(openAndWait(w, nir));
        QCOMPARE(suggested, QList<int64_t>{4});
        QCOMPARE(asked, QStringList{nir});
        QVERIFY(w.document()->hasModule());
        QCOMPARE(w.document()->module()->timesteps, int64_t(3));
        QCOMPARE(QSettings().value("nir/timesteps").toLongLong(), 3LL);
        answer = 7;
        QVERIFY(openAndWait(w, nir));
        QCOMPARE(suggested, (QList<int64_t>{4, 3}));
        QCOMPARE(w.document()->module()->timesteps, int64_t(7));
        answer.reset();
        QVERIFY(!openAndWait(w, nir));
        QCOMPARE(suggested.size(), 3);
        const LocatedDiagnostic* d = loadError(w);
        QVERIFY(d && d->diag.message.find("time steps") != std::string::npos);
    }

private:
    QTemporaryDir tmp_;
    QString dir_;
    target::Package pkg_;
};

QTEST_MAIN(TestOpenPackage)
#include "test_open_package.moc"

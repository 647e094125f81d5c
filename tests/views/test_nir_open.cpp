// Opening NIR graphs that lack stc_timesteps / stc_dt in the IDE (offscreen):
// the T/dt answers (through the MainWindow hooks, or typed into the real modal
// dialog) reach the importer, so a Lava-DL file opened at dt = 1/4096 s gives the same IR
// as `stc import-nir --dt 0.000244140625` and CubaLIF decays dt/tau; a bad dt
// is refused with the reason, in the dialog and through the hook; the recent
// files menu reopens with the session's answers. The dialog's screenshot
// goes to <build>/screenshots/nir-open-dialog.png (docs/images/ has a copy).
#include "diagnostics/diagnostics_model.h"
#include "diagnostics/diagnostics_widget.h"
#include "document/document.h"
#include "document/stages.h"
#include "main/main_window.h"
#include "main/nir_open_dialog.h"
#include "tiny_models.h"

#include "interop/nir_hdf5.h"
#include "interop/nir_import.h"

#include <QAction>
#include <QApplication>
#include <QDialogButtonBox>
#include <QDir>
#include <QLabel>
#include <QLineEdit>
#include <QProcess>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QSpinBox>
#include <QStatusBar>
#include <QTemporaryDir>
#include <QTimer>
#include <QTest>

using namespace stc;
using namespace stc::views;
using stc::test::openAndWait;

namespace {

const QString kOxford = STC_TEST_FIXTURE_DIR "/nir/lava_dl_oxford.nir";
constexpr double kLavaDt = 1.0 / 4096.0;

// What `stc import-nir FILE --timesteps T --dt dt` writes (the same core calls).
std::string cliText(const QString& path, int64_t T, double dt)
{
    interop::NirReadResult file = interop::readNirFile(path.toStdString());
    if (!file.graph)
        qFatal("%s", file.diagnostics.format().c_str());
    interop::NirImportOptions o;
    o.timesteps = T;
    o.dt = dt;
    interop::NirImportResult r = interop::importFromNir(*file.graph, o, path.toStdString());
    if (!r.module)
        qFatal("%s", r.diagnostics.format().c_str());
    return printIr(*r.module, false);
}

const interop::NirNode* firstCubaLif(const interop::NirGraph& g)
{
    for (const auto& n : g.nodes)
        if (n.type == "CubaLIF")
            return &n;
    return nullptr;
}

const Diagnostic* findDiag(MainWindow& w, Severity s)
{
    const DiagnosticsModel* model = w.diagnostics()->model();
    for (int row = 0; row < model->rowCount(); ++row)
        if (const LocatedDiagnostic* d = model->at(row); d && d->diag.severity == s)
            return &d->diag;
    return nullptr;
}

} // namespace

class TestNirOpen : public QObject {
    Q_OBJECT
private slots:
    void initTestCase()
    {
        QApplication::setOrganizationName("STC-tests");
        QApplication::setApplicationName("views-tests-nir-open");
        QSettings().clear();
    }

    void dtText()
    {
        QString why;
        QCOMPARE(parseNirDt("0.000244140625", &why), std::optional<double>(kLavaDt));
        QCOMPARE(parseNirDt(" 1/4096 ", &why), std::optional<double>(kLavaDt));
        QCOMPARE(parseNirDt("1e-4", &why), std::optional<double>(1e-4));
        QCOMPARE(parseNirDt("1", &why), std::optional<double>(1.0));
        QVERIFY(why.isEmpty());
        const QList<std::pair<QString, QString>> bad{{"", "empty"},          {"abc", "not a number"},
                                                     {"0", "> 0"},           {"-1e-4", "> 0"},
                                                     {"1/0", "divides by zero"}, {"inf", "not finite"},
                                                     {"nan", "not finite"},         {"1/2/3", "not a number"},
                                                     {"1e400", "not"}};
        for (const auto& [text, reason] : bad) {
            QVERIFY2(!parseNirDt(text, &why), qPrintable(text));
            QVERIFY2(why.contains(reason), qPrintable(text + ": " + why));
        }
        QCOMPARE(formatNirDt(kLavaDt), QString("0.000244140625"));
        QCOMPARE(formatNirDt(1e-4), QString("0.0001"));
    }

    // The dialog refuses a bad dt with the reason (Open disabled, accept()
    // keeps it open) and accepts 1/4096.
    void dialogRefusesBadDt()
    {
        NirOpenDialog d(kOxford, true, 4, true, "0.0001");
        d.show();
        QVERIFY(QTest::qWaitForWindowExposed(&d));
        auto* error = d.findChild<QLabel*>("nir.error");
        auto* open = d.findChild<QDialogButtonBox*>()->button(QDialogButtonBox::Ok);
        QVERIFY(error && open && d.dtField() && d.timestepsField());
        QVERIFY(open->isEnabled());
        QVERIFY(d.findChild<QLabel*>("nir.help")->text().contains("dt/tau"));
        d.dtField()->setText("-1/4096");
        QVERIFY(!open->isEnabled());
        QVERIFY2(error->isVisible() && error->text().contains("must be > 0"), qPrintable(error->text()));
        const QString dir = QDir(STC_BINARY_DIR).filePath("screenshots");
        QDir().mkpath(dir);
        QVERIFY(d.grab().save(QDir(dir).filePath("nir-open-dialog-refused.png")));
        d.accept();
        QVERIFY(d.isVisible());
        QCOMPARE(d.result(), int(QDialog::Rejected));
        d.dtField()->setText("1/4096");
        d.timestepsField()->setValue(8);
        QVERIFY(open->isEnabled() && !error->isVisible());
        QVERIFY(d.grab().save(QDir(dir).filePath("nir-open-dialog.png")));
        QTest::mouseClick(open, Qt::LeftButton);
        QCOMPARE(d.result(), int(QDialog::Accepted));
        QCOMPARE(d.dt(), std::optional<double>(kLavaDt));
        QCOMPARE(d.timesteps(), int64_t(8));
    }

    // lava_dl_oxford.nir has neither stc_timesteps nor stc_dt: one question
    // each, and dt = 1/4096 gives the CLI's IR, CubaLIF decays dt/tau.
    void lavaDlFileOpensAtTheGivenDt()
    {
        auto file = interop::readNirFile(kOxford.toStdString());
        QVERIFY(file.graph);
        QVERIFY(!interop::nirHasTimesteps(*file.graph) && !file.graph->metadata.array("stc_dt"));
        const interop::NirNode* cuba = firstCubaLif(*file.graph);
        QVERIFY(cuba);

        MainWindow w({false, false});
        QStringList dtSuggested;
        QString dtAnswer = "1/4096";
        int tAsked = 0;
        w.setTimestepsPrompt([&](const QString&, int64_t) -> std::optional<int64_t> { return ++tAsked, 8; });
        QStringList dtAskedFor;
        w.setNirDtPrompt([&](const QString& path, const QString& s) -> std::optional<QString> {
            dtSuggested << s;
            dtAskedFor << path;
            return dtAnswer;
        });
        QVERIFY(openAndWait(w, kOxford));
        QCOMPARE(tAsked, 1);
        QCOMPARE(dtSuggested, QStringList{"0.0001"});
        QCOMPARE(dtAskedFor, QStringList{kOxford});
        const ir::Module& m = *w.document()->module();
        QCOMPARE(m.timesteps, int64_t(8));
        const std::string atLava = printIr(m, false);
        QCOMPARE(atLava, cliText(kOxford, 8, kLavaDt));
        // And the stc binary itself, when this build has it.
        const QString stcExe = QDir(STC_BINARY_DIR).filePath("bin/stc");
        if (QFileInfo::exists(stcExe)) {
            QTemporaryDir tmp;
            const QString out = tmp.filePath("oxford.sir");
            QProcess stc;
            stc.start(stcExe, {"import-nir", kOxford, "--timesteps", "8", "--dt", "0.000244140625", "-o", out});
            QVERIFY(stc.waitForFinished(60000));
            QCOMPARE(stc.exitCode(), 0);
            QFile f(out);
            QVERIFY(f.open(QIODevice::ReadOnly));
            QCOMPARE(f.readAll().toStdString(), atLava);
        }
        // The CubaLIF's two stages: tau in steps = tau/dt, i.e. decay dt/tau.
        std::vector<const ir::Op*> stages;
        for (const ir::Op& op : m.ops())
            if (op.kind == ir::OpKind::Lif && op.origin == cuba->name)
                stages.push_back(&op);
        QCOMPARE(stages.size(), size_t(2));
        const double tauSyn = cuba->fields.array("tau_syn")->values[0];
        const double tauMem = cuba->fields.array("tau_mem")->values[0];
        QCOMPARE(1.0 / stages[0]->attrs.getFloat("tau"), kLavaDt / tauSyn);
        QCOMPARE(1.0 / stages[1]->attrs.getFloat("tau"), kLavaDt / tauMem);
        // Not silent: the status bar and a Diagnostics note say which dt.
        const QString said = "dt = 0.000244140625 s (given when opening)";
        QVERIFY2(w.statusBar()->currentMessage().contains(said), qPrintable(w.statusBar()->currentMessage()));
        const Diagnostic* note = findDiag(w, Severity::Note);
        QVERIFY(note && QString::fromStdString(note->message).contains(said));
        QCOMPARE(QSettings().value("nir/dt").toString(), QString("0.000244140625"));

        // Reopened from the recent files: the session's answers, no question.
        QAction* recent = w.findChild<QAction*>("file.recent.0");
        QVERIFY(recent && recent->toolTip() == QFileInfo(kOxford).absoluteFilePath());
        QSignalSpy opened(&w, &MainWindow::fileOpened);
        recent->trigger();
        QVERIFY(opened.wait(60000));
        QVERIFY(opened.first().at(1).toBool());
        QCOMPARE(tAsked, 1);
        QCOMPARE(dtSuggested.size(), 1);
        QCOMPARE(printIr(*w.document()->module(), false), atLava);

        // Opened again (File > Open): asked again, suggesting the last answer;
        // the default dt gives other decays and other IR.
        dtAnswer = "1e-4";
        QVERIFY(openAndWait(w, kOxford));
        QCOMPARE(dtSuggested, (QStringList{"0.0001", "0.000244140625"}));
        const std::string atDefault = printIr(*w.document()->module(), false);
        QCOMPARE(atDefault, cliText(kOxford, 8, 1e-4));
        QVERIFY(atDefault != atLava);
        for (const ir::Op& op : w.document()->module()->ops())
            if (op.kind == ir::OpKind::Lif && op.origin == cuba->name) {
                QCOMPARE(op.attrs.getFloat("tau"), tauSyn / 1e-4);
                break;
            }
    }

    // Without hooks (askInputShape on, as in the app) the modal dialog asks;
    // typed into like a user, its answers reach the importer.
    void dialogAnswersReachTheImporter()
    {
        MainWindow w({true, false});
        int shown = 0;
        bool refused = false;
        std::function<void()> answer = [&] {
            auto* d = qobject_cast<NirOpenDialog*>(QApplication::activeModalWidget());
            if (!d) {
                QTimer::singleShot(20, answer);
                return;
            }
            ++shown;
            d->timestepsField()->setValue(6);
            d->dtField()->setText("abc");
            auto* open = d->findChild<QDialogButtonBox*>()->button(QDialogButtonBox::Ok);
            refused = !open->isEnabled() && d->dtError().contains("not a number");
            d->dtField()->setText("1/4096");
            QTest::mouseClick(open, Qt::LeftButton);
        };
        QTimer::singleShot(0, answer);
        QVERIFY(openAndWait(w, kOxford));
        QCOMPARE(shown, 1);
        QVERIFY(refused);
        QCOMPARE(w.document()->module()->timesteps, int64_t(6));
        QCOMPARE(printIr(*w.document()->module(), false), cliText(kOxford, 6, kLavaDt));
    }

    // A bad dt answer fails the open with the reason; an empty one declines.
    void badDtIsRefused()
    {
        MainWindow w({false, false});
        QString answer;
        w.setTimestepsPrompt([](const QString&, int64_t) -> std::optional<int64_t> { return 4; });
        w.setNirDtPrompt([&](const QString&, const QString&) -> std::optional<QString> { return answer; });
        for (const auto& [text, reason] : QList<std::pair<QString, QString>>{
                 {"abc", "not a number"}, {"-0.001", "must be > 0"}, {"1/0", "divides by zero"}, {"", "no time step"}}) {
            answer = text;
            QVERIFY(!openAndWait(w, kOxford));
            QVERIFY(!w.document()->hasModule());
            const Diagnostic* d = findDiag(w, Severity::Error);
            QVERIFY(d);
            QVERIFY2(QString::fromStdString(d->message).contains(reason), d->message.c_str());
        }
    }
};

QTEST_MAIN(TestNirOpen)
#include "test_nir_open.moc"

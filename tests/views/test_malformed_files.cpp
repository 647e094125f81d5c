// The IDE survives opening every malformed fixture (offscreen): each bad
// Spike IR file of tests/data/ir, each bad NIR file, and TorchScript files
// broken in the ways users break them (empty, truncated, random bytes, a zip
// that is not TorchScript, a plain pickle). Every open ends with at least one
// error in the diagnostics list, nothing crashes, and the same window then
// still opens a good model.
#include "diagnostics/diagnostics_model.h"
#include "diagnostics/diagnostics_widget.h"
#include "document/document.h"
#include "jobs/job_runner.h"
#include "main/main_window.h"
#include "tiny_models.h"

#include <QApplication>
#include <QDir>
#include <QFile>
#include <QSettings>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <random>

using namespace stc;
using namespace stc::views;

namespace {

// Opens `path`, waits for the open and every job it started; false when the
// window never reported the open.
bool openAndSettle(MainWindow& w, const QString& path)
{
    QSignalSpy opened(&w, &MainWindow::fileOpened);
    w.openFile(path);
    if (!opened.wait(60000))
        return false;
    w.jobs()->waitForIdle(60000);
    return true;
}

QByteArray readAll(const QString& path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

bool writeAll(const QString& path, const QByteArray& bytes)
{
    QFile f(path);
    return f.open(QIODevice::WriteOnly) && f.write(bytes) == bytes.size();
}

QStringList filesIn(const QString& dir, const QString& pattern)
{
    QStringList out;
    for (const QString& name : QDir(dir).entryList({pattern}, QDir::Files, QDir::Name))
        out << QDir(dir).filePath(name);
    return out;
}

} // namespace

class TestMalformedFiles : public QObject {
    Q_OBJECT
private slots:
    void initTestCase()
    {
        QApplication::setOrganizationName("STC-tests");
        QApplication::setApplicationName("views-tests-malformed");
        QSettings().clear();
        QVERIFY(tmp_.isValid());
        // TorchScript files broken the ways users break them, from a real fixture.
        const QByteArray good = readAll(STC_TEST_FIXTURE_DIR "/torchscript/leaky_mlp.traced.pt");
        QVERIFY(good.size() > 1000);
        std::mt19937 rng(7);
        QByteArray noise(4096, '\0');
        for (char& c : noise)
            c = char(rng() & 0xff);
        QByteArray flipped = good; // zip directory intact, payload bytes damaged
        for (int i = 0; i < 64; ++i)
            flipped[int(rng() % uint32_t(flipped.size() / 2)) + 64] = char(rng() & 0xff);
        const struct {
            const char* name;
            QByteArray bytes;
        } pts[] = {
            {"empty.pt", QByteArray()},
            {"truncated-half.pt", good.left(good.size() / 2)},
            {"truncated-header.pt", good.left(30)},
            {"random-bytes.pt", noise},
            {"plain-pickle.pt", QByteArray::fromHex("80049510000000000000007d94288c0161944b01752e")},
            {"text.pt", "this is not a model\n"},
        };
        damagedPt_ = tmp_.filePath("damaged-payload.pt");
        QVERIFY(writeAll(damagedPt_, flipped));
        for (const auto& p : pts) {
            const QString path = tmp_.filePath(p.name);
            QVERIFY(writeAll(path, p.bytes));
            brokenPt_ << path;
        }
    }

    void everyMalformedFileGivesAnErrorAndNoCrash_data()
    {
        QTest::addColumn<QString>("path");
        const QStringList sir = filesIn(STC_TEST_DATA_DIR "/ir", "bad_*.sir");
        const QStringList nir = filesIn(STC_TEST_FIXTURE_DIR "/nir", "bad_*.nir");
        QVERIFY(sir.size() >= 40);
        QVERIFY(nir.size() >= 10);
        for (const QString& p : sir + nir + brokenPt_)
            QTest::newRow(qPrintable(QFileInfo(p).fileName())) << p;
    }
    void everyMalformedFileGivesAnErrorAndNoCrash()
    {
        QFETCH(QString, path);
        MainWindow& w = window();
        QVERIFY2(openAndSettle(w, path), "the window never reported the open");
        // An error of the load or verify stage about this file (not a stale
        // one of the previous model's pipeline).
        const DiagnosticsModel* model = w.diagnostics()->model();
        const std::string name = QFileInfo(path).fileName().toStdString();
        const LocatedDiagnostic* found = nullptr;
        for (int row = 0; row < model->rowCount() && !found; ++row) {
            const LocatedDiagnostic* d = model->at(row);
            if (d && d->diag.severity == Severity::Error &&
                (d->source == DiagSource::Load || d->source == DiagSource::Verify) &&
                d->diag.loc.file.size() >= name.size() &&
                d->diag.loc.file.compare(d->diag.loc.file.size() - name.size(), name.size(), name) == 0)
                found = d;
        }
        QVERIFY2(found, qPrintable("no load/verify error about " + QFileInfo(path).fileName()));
        qInfo("%s: %s", name.c_str(), found->diag.message.substr(0, 160).c_str());
    }

    // Payload bytes damaged inside an intact archive: LibTorch may load it
    // (weights are not checksummed) or refuse it; either way no crash, and a
    // refusal is shown.
    void damagedPayloadLoadsOrIsRefused()
    {
        MainWindow& w = window();
        QVERIFY(openAndSettle(w, damagedPt_));
        const bool loaded = w.document()->hasModule() && w.document()->filePath() == damagedPt_;
        QVERIFY(loaded || w.diagnostics()->model()->errorCount() >= 1);
        qInfo("damaged payload: %s", loaded ? "loaded (LibTorch does not checksum weights)" : "refused with an error");
    }

    // After all of that, the same window opens a good model.
    void windowStillOpensAGoodModel()
    {
        QVERIFY(window_);
        const QString good = test::writeSir(test::makeTinySpikformer(), "after-malformed.sir");
        QSignalSpy opened(window_.get(), &MainWindow::fileOpened);
        window_->openFile(good);
        QVERIFY(opened.wait(60000));
        window_->jobs()->waitForIdle(60000);
        QVERIFY(opened.first().at(1).toBool());
        QVERIFY(window_->document()->hasModule());
        QCOMPARE(window_->diagnostics()->model()->errorCount(), 0);
    }

    void cleanupTestCase() { window_.reset(); }

private:
    QTemporaryDir tmp_;
    MainWindow& window()
    {
        if (!window_) {
            window_ = std::make_unique<MainWindow>(MainWindow::Options{false, false});
            window_->show();
        }
        return *window_;
    }

    QStringList brokenPt_;
    QString damagedPt_;
    std::unique_ptr<MainWindow> window_;
};

QTEST_MAIN(TestMalformedFiles)
#include "test_malformed_files.moc"

// The command line on a recurrent model: `stc import-nir` of the snnTorch Braille
// RSynaptic file gives a module with a `delay`, `stc ir run` runs it (f32 and,
// after quantize, fixed point), and `stc compile` refuses it at the delay op
// without writing a package.
#include "process_run.h"

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

namespace {

using stc::apptest::Result;

Result runStc(const QStringList& args) { return stc::apptest::runProcess(STC_EXE, args); }

} // namespace

class TestCliRecurrent : public QObject {
    Q_OBJECT
    QTemporaryDir tmp_;

private slots:
    void recurrentModelRunsAndCompileRefusesAtTheDelay()
    {
        const QString sir = tmp_.filePath("braille.sir");
        Result r = runStc({"import-nir", QString(STC_TEST_FIXTURE_DIR) + "/nir/snntorch_braille_rsynaptic.nir",
                        "--timesteps", "12", "-o", sir});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        QFile f(sir);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QString text = QString::fromUtf8(f.readAll());
        QVERIFY2(text.contains("%lif1.lif.prev = delay %lif1.lif {steps = 1} : spike[T,38]"), qPrintable(text.left(600)));
        const int delayLine = int(text.left(text.indexOf("%lif1.lif.prev = delay")).count('\n')) + 1;

        const QString input = tmp_.filePath("x.txt");
        QFile in(input);
        QVERIFY(in.open(QIODevice::WriteOnly));
        in.write("0.5 -1 0.25 2 0 1.5 -0.5 0.75 1 -2 0.3 1.2\n");
        in.close();
        r = runStc({"ir", "run", sir, "--input", input});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        QVERIFY2(r.out.contains("lif1.lif"), qPrintable(r.out));

        const QString q = tmp_.filePath("q.sir");
        r = runStc({"opt", sir, "-p", "fold-bn,canonicalize,dce,quantize{bits=8}", "-o", q});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        r = runStc({"ir", "run", q, "--input", input});
        QVERIFY2(r.exitCode == 0 && r.out.contains("fixed-point"), qPrintable(r.out + r.err));

        const QString pkg = tmp_.filePath("braille.stcpkg");
        r = runStc({"compile", sir, "--chip", "loihi2", "-o", pkg});
        QVERIFY(r.exitCode != 0);
        const QString where = sir + ":" + QString::number(delayLine) + ":3: error: [%lif1.lif.prev = delay] ";
        QVERIFY2(r.err.contains(where) && r.err.contains("not yet: this pass does not handle delay ops"),
                 qPrintable(r.err));
        QVERIFY(!QFileInfo::exists(pkg));
    }
};

QTEST_GUILESS_MAIN(TestCliRecurrent)
#include "test_cli_recurrent.moc"

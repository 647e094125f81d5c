// The command line on recurrent models: `stc import-nir` of the snnTorch Braille
// RSynaptic file gives a module with a `delay`, `stc ir run` runs it (f32 and,
// after quantize, fixed point); `stc compile` packages it (its CubaLIF fused
// into one CUBA compartment) and so does it a single-layer loop (RLeaky), for
// loihi3 and loihi2, and `stc simulate` of each package prints exactly the
// fixed-point reference's outputs in both schedules.
#include "process_run.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

namespace {

using stc::apptest::Result;

Result runStc(const QStringList& args) { return stc::apptest::runProcess(STC_EXE, args); }

// Compiles `sir` for `chip` and simulates the package on `input` (`samples`
// lines): the outputs must equal `stc ir run` of the quantized module.
void compileAndSimulateLikeTheReference(const QTemporaryDir& tmp, const QString& sir, const QString& input,
                                        int samples, const QString& chip)
{
    const QString pkg = tmp.filePath(QFileInfo(sir).baseName() + "-" + chip + ".stcpkg");
    Result r = runStc({"compile", sir, "--chip", chip, "-o", pkg});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    QVERIFY(QFileInfo::exists(pkg + "/manifest.json"));
    const QString q = tmp.filePath(QFileInfo(sir).baseName() + "-q.sir");
    r = runStc({"opt", sir, "-p", "fold-bn,canonicalize,dce,quantize{bits=8}", "-o", q});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    r = runStc({"ir", "run", q, "--input", input, "--json"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    const QJsonArray want = QJsonDocument::fromJson(r.out.toUtf8()).object()["outputs"].toArray();
    QVERIFY(!want.isEmpty() && want.size() % samples == 0);
    const int per = int(want.size()) / samples;
    for (const QString schedule : {"latency", "throughput"}) {
        r = runStc({"simulate", pkg, "--input", input, "--json", "--schedule", schedule});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        const QJsonObject sim = QJsonDocument::fromJson(r.out.toUtf8()).object();
        const QJsonArray rows = sim["outputs"].toArray();
        QCOMPARE(int(rows.size()), samples);
        for (int s = 0; s < samples; ++s) {
            QCOMPARE(int(rows[s].toArray().size()), per);
            for (int k = 0; k < per; ++k)
                QCOMPARE(rows[s].toArray()[k].toDouble(), want[s * per + k].toDouble());
        }
        QVERIFY(sim["per_inference"].toObject()["synaptic_ops"].toDouble() > 0);
    }
}

} // namespace

class TestCliRecurrent : public QObject {
    Q_OBJECT
    QTemporaryDir tmp_;

private slots:
    void brailleRunsCompilesAndSimulatesLikeTheReference()
    {
        const QString sir = tmp_.filePath("braille.sir");
        Result r = runStc({"import-nir", QString(STC_TEST_FIXTURE_DIR) + "/nir/snntorch_braille_rsynaptic.nir",
                        "--timesteps", "12", "-o", sir});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        QFile f(sir);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QString text = QString::fromUtf8(f.readAll());
        QVERIFY2(text.contains("%lif1.lif.prev = delay %lif1.lif {steps = 1} : spike[T,38]"), qPrintable(text.left(600)));

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

        QVERIFY(in.open(QIODevice::Append)); // a second sample
        in.write("3 -2 1 0.5 -3 2 2 -1 0 1 -0.5 2.5\n");
        in.close();
        for (const QString chip : {"loihi3", "loihi2"})
            compileAndSimulateLikeTheReference(tmp_, sir, input, 2, chip);
    }

    void singleLayerLoopCompilesAndSimulatesLikeTheReference()
    {
        const QString input = tmp_.filePath("rleaky.txt");
        QFile in(input);
        QVERIFY(in.open(QIODevice::WriteOnly));
        in.write("0.238 0.544 0.370 0.604 0.626 0.066 0.013 0.837 0.259 0.234\n"
                 "0.996 0.470 0.836 0.476 0.639 0.151 0.635 0.868 0.523 0.741\n"
                 "0.671 0.064 0.758 0.591 0.301 0.031 0.866 0.473 0.719 0.879\n");
        in.close();
        for (const QString chip : {"loihi3", "loihi2"})
            compileAndSimulateLikeTheReference(tmp_, QString(STC_TEST_DATA_DIR) + "/target/rleaky_loop.sir", input, 3,
                                               chip);
    }
};

QTEST_GUILESS_MAIN(TestCliRecurrent)
#include "test_cli_recurrent.moc"

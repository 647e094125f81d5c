// stc's crash isolation for imports (app/stc/crash_guard.h): a command that
// imports a model runs the rest of its work in a child process, so LibTorch
// crashing on a damaged archive becomes a located error with exit code 1 and
// no output file, while a healthy model's output, files and exit codes are
// what they are without the guard (an MPI launcher's environment turns the
// guard off and the importer's own probe takes over).
#include "process_run.h"

#include "zip_members.h"

#include <QFile>
#include <QProcess>
#include <QProcessEnvironment>
#include <QTemporaryDir>
#include <QtTest>

namespace {

using stc::apptest::Result;

Result run(const QStringList& args, bool mpiEnvironment = false)
{
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    if (mpiEnvironment)
        env.insert("OMPI_COMM_WORLD_SIZE", "1"); // what mpirun sets: no fork under MPI
    return stc::apptest::runProcess(STC_EXE, args, env);
}

std::string readBytes(const QString& path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    return f.readAll().toStdString();
}

const QString kModel = QString(STC_TEST_FIXTURE_DIR) + "/torchscript/lif_soft_reset.traced.pt";

} // namespace

class TestCliCrashGuard : public QObject {
    Q_OBJECT
    QTemporaryDir tmp_;
    QString crashing_;

private Q_SLOTS:
    void initTestCase()
    {
        // An empty constants/0 record: LibTorch 1.13 dereferences past it
        // inside torch::jit::load (found by frontend_torchscript_fuzz).
        stc::fuzztest::ZipMembers members = stc::fuzztest::readZipMembers(readBytes(kModel));
        QVERIFY(!members.empty());
        bool emptied = false;
        for (auto& [name, content] : members)
            if (name.ends_with("/constants/0")) {
                content.clear();
                emptied = true;
            }
        QVERIFY(emptied);
        crashing_ = tmp_.filePath("empty_constant.pt");
        QFile f(crashing_);
        QVERIFY(f.open(QIODevice::WriteOnly));
        const std::string bytes = stc::fuzztest::writeStoredZip(members);
        QCOMPARE(f.write(bytes.data(), qint64(bytes.size())), qint64(bytes.size()));
    }

    void crashWhileLoadingIsALocatedError()
    {
        const QString sir = tmp_.filePath("crash.sir"), pkg = tmp_.filePath("crash.stcpkg");
        for (const QStringList& args : {QStringList{"import", crashing_, "-o", sir},
                                        QStringList{"compile", crashing_, "--chip", "loihi3", "-o", pkg}}) {
            const Result r = run(args);
            QVERIFY2(!r.crashed, qPrintable(r.err));
            QCOMPARE(r.exitCode, 1);
            QVERIFY2(r.err.contains(crashing_ + ": error: the archive is damaged: LibTorch crashed reading it (signal "),
                     qPrintable(r.err));
            QVERIFY2(r.err.contains("nothing was written"), qPrintable(r.err));
        }
        QVERIFY(!QFile::exists(sir));
        QVERIFY(!QFile::exists(pkg));
    }

    void withoutTheGuardTheImporterProbes()
    {
        const Result r = run({"import", crashing_, "-o", tmp_.filePath("probe.sir")}, true);
        QVERIFY2(!r.crashed, qPrintable(r.err));
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("LibTorch crashed reading it (signal ") && r.err.contains("nothing was loaded"),
                 qPrintable(r.err));
    }

    void healthyModelsBehaveAsWithoutTheGuard()
    {
        const QString a = tmp_.filePath("guarded.stcpkg"), b = tmp_.filePath("plain.stcpkg");
        const Result guarded = run({"compile", kModel, "--chip", "loihi3", "-o", a});
        const Result plain = run({"compile", kModel, "--chip", "loihi3", "-o", b}, true);
        QCOMPARE(guarded.exitCode, 0);
        QCOMPARE(plain.exitCode, 0);
        QCOMPARE(guarded.out.count("\ntime "), 1); // output flushed before the fork is not written twice
        QCOMPARE(readBytes(a + "/cores.bin"), readBytes(b + "/cores.bin"));
        QVERIFY(!readBytes(a + "/cores.bin").empty());
        // A failing command's exit code and message pass through the parent.
        const Result badChip = run({"compile", kModel, "--chip", "no-such-chip", "-o", tmp_.filePath("x.stcpkg")});
        const Result badChipPlain =
            run({"compile", kModel, "--chip", "no-such-chip", "-o", tmp_.filePath("y.stcpkg")}, true);
        QVERIFY(badChip.exitCode != 0);
        QCOMPARE(badChip.exitCode, badChipPlain.exitCode);
        QCOMPARE(badChip.err, badChipPlain.err);
    }
};

QTEST_GUILESS_MAIN(TestCliCrashGuard)
#include "test_cli_crash_guard.moc"

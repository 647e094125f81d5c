// `stc project` end to end through the real executable: create a project,
// record a model version, compile into it, tag the run as deployed, compare,
// export the package with its provenance (rebuilt byte for byte), and the
// refusals: an existing project or output, a changed model file, bad ids.
#include "process_run.h"

#include "store/sha256.h"

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QProcess>

#include <cmath>
#include <QTemporaryDir>
#include <QtTest>

#include <nlohmann/json.hpp>

namespace {

using stc::apptest::Result;

Result runStc(const QStringList& args) { return stc::apptest::runProcess(QStringLiteral(STC_EXE), args); }

QByteArray readAll(const QString& path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

// Relative path -> bytes of every file under `dir`.
QMap<QString, QByteArray> filesUnder(const QString& dir)
{
    QMap<QString, QByteArray> out;
    QDirIterator it(dir, QDir::Files, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        const QString path = it.next();
        out[QDir(dir).relativeFilePath(path)] = readAll(path);
    }
    return out;
}

#define CHECK_RUN(r, code)                                                                                              \
    QVERIFY2((r).exitCode == (code), qPrintable(QString("exit %1\nstdout:\n%2\nstderr:\n%3")                           \
                                                   .arg((r).exitCode)                                                  \
                                                   .arg((r).out, (r).err)))

} // namespace

class TestCliProject : public QObject {
    Q_OBJECT

private:
    QTemporaryDir tmp_;
    QString path(const QString& name) const { return QDir(tmp_.path()).filePath(name); }

private slots:
    void projectLifecycle()
    {
        const QString model = path("conv.sir");
        QVERIFY(QFile::copy(QStringLiteral(STC_RESOURCE_DIR "/models/convsnn_fmnist.sir"), model));
        const QString proj = path("demo.stcproj");

        Result r = runStc({"project", "new", proj, "--name", "demo", "--chip", "loihi3", "--model", model});
        CHECK_RUN(r, 0);
        QVERIFY2(r.out.contains("created") && r.out.contains("added"), qPrintable(r.out));
        r = runStc({"project", "new", proj});
        CHECK_RUN(r, 1);
        QVERIFY2(r.err.contains("already exists"), qPrintable(r.err));

        r = runStc({"compile", model, "--chip", "loihi3", "-o", path("first.stcpkg"), "--project", proj});
        CHECK_RUN(r, 0);
        QVERIFY2(r.out.contains("(compile run 1)"), qPrintable(r.out));
        r = runStc({"project", "runs", proj, "--kind", "compile"});
        CHECK_RUN(r, 0);
        QVERIFY2(r.out.contains("| 1 | compile |"), qPrintable(r.out));

        r = runStc({"project", "deploy", proj, "--run", "1", "--note", "bench board"});
        CHECK_RUN(r, 0);
        QVERIFY2(r.out.contains("tagged 'deployed'"), qPrintable(r.out));
        r = runStc({"project", "tags", proj});
        CHECK_RUN(r, 0);
        QVERIFY2(r.out.contains("| 1 | deployed |") && r.out.contains("bench board"), qPrintable(r.out));
        r = runStc({"project", "deploy", proj, "--run", "99"});
        CHECK_RUN(r, 1);
        QVERIFY2(r.err.contains("not a compile run"), qPrintable(r.err));

        r = runStc({"project", "compare", proj, "--json"});
        CHECK_RUN(r, 0);
        const auto j = nlohmann::json::parse(r.out.toStdString());
        QCOMPARE(j["models"].size(), size_t(1));
        const auto& run = j["models"][0]["runs"][0];
        QCOMPARE(run["run"].get<int64_t>(), int64_t(1));
        QCOMPARE(run["status"].get<std::string>(), std::string("ok"));
        QVERIFY(run["cores"].get<double>() >= 1);
        QVERIFY(run["energy_pj"].get<double>() > 0);
        QCOMPARE(run["tags"], nlohmann::json::array({"deployed"}));
        const std::string modelHash = stc::store::sha256Hex(readAll(model).toStdString());
        QCOMPARE(j["models"][0]["sha256"].get<std::string>(), modelHash);

        // Export rebuilds the package from the recorded model, pipeline and chip.
        const QString exported = path("exported.stcpkg");
        r = runStc({"project", "export", proj, "--run", "1", "-o", exported});
        CHECK_RUN(r, 0);
        const auto prov = nlohmann::json::parse(readAll(exported + "/provenance.json").toStdString());
        QCOMPARE(prov["format"].get<std::string>(), std::string("stc.provenance/1"));
        QCOMPARE(prov["compile_run_id"].get<int64_t>(), int64_t(1));
        QCOMPARE(prov["model"]["sha256"].get<std::string>(), modelHash);
        QCOMPARE(prov["chip"]["id"].get<std::string>(), std::string("loihi3"));
        QCOMPARE(prov["chip"]["descriptor_sha256"].get<std::string>().size(), size_t(64));
        QVERIFY(prov["pipeline"].get<std::string>().find("partition{") != std::string::npos);
        QCOMPARE(prov["tags"], nlohmann::json::array({"deployed"}));
        auto rebuilt = filesUnder(exported);
        QVERIFY(rebuilt.remove("provenance.json") == 1);
        const auto original = filesUnder(path("first.stcpkg"));
        QVERIFY(original.contains("manifest.json"));
        QCOMPARE(rebuilt.keys(), original.keys());
        for (const QString& name : original.keys())
            QVERIFY2(rebuilt[name] == original[name], qPrintable(name + " differs from the compiled package"));

        r = runStc({"project", "export", proj, "--run", "1", "-o", exported});
        CHECK_RUN(r, 1);
        QVERIFY2(r.err.contains("already exists"), qPrintable(r.err));
        r = runStc({"project", "export", proj, "--run", "one", "-o", path("x.stcpkg")});
        CHECK_RUN(r, 2);

        // A changed model file is refused; nothing is written.
        {
            QFile f(model);
            QVERIFY(f.open(QIODevice::Append));
            f.write("\n");
        }
        r = runStc({"project", "export", proj, "--run", "1", "-o", path("stale.stcpkg")});
        CHECK_RUN(r, 1);
        QVERIFY2(r.err.contains("changed since compile run 1"), qPrintable(r.err));
        QVERIFY(!QFileInfo::exists(path("stale.stcpkg")));

        // The changed file is a second version; compare shows both.
        r = runStc({"project", "add", proj, model});
        CHECK_RUN(r, 0);
        QVERIFY2(r.out.contains("added") && r.out.contains(" 2: "), qPrintable(r.out));
        r = runStc({"project", "compare", proj, "--models", "1,2"});
        CHECK_RUN(r, 0);
        QVERIFY2(r.out.contains("| 1 | 1 | ") && r.out.contains("deployed"), qPrintable(r.out));
        r = runStc({"project", "compare", proj, "--models", "7"});
        CHECK_RUN(r, 1);
        QVERIFY2(r.err.contains("no model version 7"), qPrintable(r.err));
    }

    // stc simulate --project: the chip simulator's ledger and top-1 land in
    // the project, linked to the compile run that wrote the package.
    void simulateRecordsIntoTheProject()
    {
        if (!QFileInfo::exists("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"))
            QSKIP("Fashion-MNIST is not installed");
        const QString proj = path("sim.stcproj"), pkg = path("sim.stcpkg");
        const QString model = QString(STC_RESOURCE_DIR) + "/models/convsnn_fmnist.sir";
        Result r = runStc({"compile", model, "--chip", "loihi3", "-o", pkg, "--project", proj});
        CHECK_RUN(r, 0);
        r = runStc({"simulate", pkg, "--dataset", "fashion-mnist", "--limit", "20", "--project", proj, "--json"});
        CHECK_RUN(r, 0);
        const auto sim = nlohmann::json::parse(r.out.toStdString());
        QCOMPARE(sim["project"]["simulation_run"].get<int64_t>(), int64_t(2));
        QCOMPARE(sim["project"]["accuracy_run"].get<int64_t>(), int64_t(3));
        r = runStc({"project", "compare", proj, "--json"});
        CHECK_RUN(r, 0);
        const auto run = nlohmann::json::parse(r.out.toStdString())["models"][0]["runs"][0];
        QCOMPARE(run["run"].get<int64_t>(), int64_t(1));
        QCOMPARE(run["accuracy"]["path"].get<std::string>(), std::string("chip-sim"));
        QCOMPARE(run["accuracy"]["samples"].get<int64_t>(), int64_t(20));
        QCOMPARE(run["accuracy"]["top1"].get<double>(), sim["accuracy"].get<double>());
        QVERIFY(std::abs(run["sim_energy_pj"].get<double>() - sim["per_inference"]["energy_pj"].get<double>()) <
                1e-6 * sim["per_inference"]["energy_pj"].get<double>());
        r = runStc({"simulate", pkg, "--dataset", "fashion-mnist", "--limit", "2", "--project", proj, "--run", "9"});
        CHECK_RUN(r, 1);
        QVERIFY2(r.err.contains("no compile run 9"), qPrintable(r.err));
        r = runStc({"simulate", pkg, "--dataset", "fashion-mnist", "--limit", "2", "--run", "1"});
        CHECK_RUN(r, 2);
    }
};

QTEST_GUILESS_MAIN(TestCliProject)
#include "test_cli_project.moc"

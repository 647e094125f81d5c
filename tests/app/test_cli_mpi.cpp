// `mpirun --oversubscribe -np N stc sweep|simulate` on localhost: the ranks
// split the grid (the images), rank 0 gathers every run into the project (the
// counters), and the results equal a single process's (sweep rows: pipelines,
// top-1, energy, latency, cores, parameters; simulation: predictions, top-1,
// per-inference events, energy, latency). Skipped when stc was built without
// MPI or mpirun is not installed.
#include "process_run.h"

#include <QDir>
#include <QFileInfo>
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

#include <nlohmann/json.hpp>

namespace {

using stc::apptest::Result;

Result run(const QString& program, const QStringList& args)
{
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert("OMPI_ALLOW_RUN_AS_ROOT", "1"); // CI runs as root; mpirun refuses without both
    env.insert("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1");
    env.insert("OMPI_MCA_rmaps_base_oversubscribe", "1");
    return stc::apptest::runProcess(program, args, env, 600000);
}

// label -> the row's comparable fields
std::map<std::string, nlohmann::json> rows(const QString& project)
{
    const Result r = run(STC_EXE, {"project", "compare", project, "--json"});
    std::map<std::string, nlohmann::json> out;
    if (r.exitCode != 0) {
        qWarning("stc project compare %s: %s", qPrintable(project), qPrintable(r.err));
        return out;
    }
    const nlohmann::json compare = nlohmann::json::parse(r.out.toStdString()); // kept: the loop reads into it
    for (const auto& run : compare["models"][0]["runs"])
        out[run["label"].get<std::string>()] = {run["pipeline"], run["accuracy"]["correct"], run["accuracy"]["samples"],
                                                run["energy_pj"], run["latency_ns"], run["cores"], run["params"]};
    return out;
}

} // namespace

class TestCliMpi : public QObject {
    Q_OBJECT
    QTemporaryDir tmp_;

private slots:
    void mpiSweepEqualsSingleProcess()
    {
        const QString mpirun = QStandardPaths::findExecutable("mpirun");
        if (mpirun.isEmpty())
            QSKIP("mpirun is not installed (apt install openmpi-bin)");
        const Result help = run(STC_EXE, {"--version"});
        if (!help.out.contains("MPI"))
            QSKIP("stc was built without MPI");
        if (!QFileInfo::exists("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"))
            QSKIP("Fashion-MNIST is not installed");
        const QString model = QString(STC_RESOURCE_DIR) + "/models/convsnn_fmnist.sir";
        const QStringList sweep = {"sweep", model, "--bits", "8,4", "--sparsity", "0,0.5", "--timesteps", "2,4",
                                   "--limit", "30", "--threads", "1"};
        const QString single = tmp_.filePath("single.stcproj"), ranks = tmp_.filePath("mpi.stcproj");
        Result r = run(STC_EXE, sweep + QStringList{"--project", single});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        r = run(mpirun, QStringList{"--oversubscribe", "-np", "2", STC_EXE} + sweep + QStringList{"--project", ranks});
        QVERIFY2(r.exitCode == 0, qPrintable(r.out + r.err));
        QVERIFY2(r.err.contains("2 MPI ranks"), qPrintable(r.err));
        QVERIFY2(r.out.contains("8 of 8 grid configurations"), qPrintable(r.out));
        const auto a = rows(single), b = rows(ranks);
        QCOMPARE(a.size(), size_t(8));
        QCOMPARE(b.size(), a.size());
        for (const auto& [label, row] : a) {
            QVERIFY2(b.count(label), label.c_str());
            QVERIFY2(b.at(label) == row, (label + ":\n" + row.dump() + "\n" + b.at(label).dump()).c_str());
        }
        // Again under MPI: everything is in the project already, nothing runs.
        r = run(mpirun, QStringList{"--oversubscribe", "-np", "2", STC_EXE} + sweep + QStringList{"--project", ranks});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        QVERIFY2(r.out.contains("8 resumed from the project; 0 fixed-point image evaluations"), qPrintable(r.out));
        // Without a project there is nowhere to gather: a clear error from rank 0.
        r = run(mpirun, QStringList{"--oversubscribe", "-np", "2", STC_EXE} + sweep);
        QVERIFY(r.exitCode != 0);
        QVERIFY2(r.err.contains("give --project"), qPrintable(r.err));
    }

    // Each rank simulates a slice of the images; the merged counters give the
    // single process's ledger exactly.
    void mpiSimulateEqualsSingleProcess()
    {
        const QString mpirun = QStandardPaths::findExecutable("mpirun");
        if (mpirun.isEmpty() || !run(STC_EXE, {"--version"}).out.contains("with MPI"))
            QSKIP("no mpirun, or stc built without MPI");
        if (!QFileInfo::exists("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"))
            QSKIP("Fashion-MNIST is not installed");
        const QString pkg = tmp_.filePath("conv.stcpkg");
        Result r = run(STC_EXE, {"compile", QString(STC_RESOURCE_DIR) + "/models/convsnn_fmnist.sir", "--chip",
                                 "loihi3", "-o", pkg});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        const QStringList simulate = {"simulate", pkg, "--dataset", "fashion-mnist", "--limit", "41", "--threads",
                                      "1", "--json"};
        r = run(STC_EXE, simulate);
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        const auto single = nlohmann::json::parse(r.out.toStdString());
        r = run(mpirun, QStringList{"--oversubscribe", "-np", "3", STC_EXE} + simulate);
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        const auto ranks = nlohmann::json::parse(r.out.toStdString());
        QCOMPARE(ranks["mpi_ranks"].get<int>(), 3);
        QCOMPARE(ranks["samples"], single["samples"]);
        QCOMPARE(ranks["accuracy"], single["accuracy"]);
        QCOMPARE(ranks["predicted"], single["predicted"]);
        for (const char* key : {"synaptic_ops", "spikes", "messages", "energy_pj", "latency_ns", "throughput_interval_ns"})
            QVERIFY2(ranks["per_inference"][key] == single["per_inference"][key], key);
        r = run(mpirun, QStringList{"--oversubscribe", "-np", "2", STC_EXE, "simulate", pkg, "--input", pkg + "/x"});
        QVERIFY(r.exitCode != 0);
        QVERIFY2(r.err.contains("under MPI give --dataset"), qPrintable(r.err));
    }
};

QTEST_GUILESS_MAIN(TestCliMpi)
#include "test_cli_mpi.moc"

// stc-run, the headless runner: it depends on no Qt, LibTorch or plugin
// (ldd), gives the same predictions and outputs as `stc simulate` for the same
// package and inputs, and a bundle (runner + package + run.sh) runs from its
// own directory.
#include "process_run.h"

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <nlohmann/json.hpp>

#include <random>

namespace {

using stc::apptest::Result;

Result run(const QString& program, const QStringList& args) { return stc::apptest::runProcess(program, args); }

// `count` random 28x28 images in [0, 1] as a JSON number list (an --input file).
bool writeRandomImages(const QString& path, int count, unsigned seed)
{
    nlohmann::json samples = nlohmann::json::array();
    std::mt19937 rng(seed);
    for (int i = 0; i < count * 28 * 28; ++i)
        samples.push_back(double(rng() % 256) / 255.0);
    QFile f(path);
    return f.open(QIODevice::WriteOnly) && f.write(QByteArray::fromStdString(samples.dump())) > 0;
}

} // namespace

class TestStcRun : public QObject {
    Q_OBJECT
    QTemporaryDir tmp_;

private slots:
    void runnerNeedsNoQtAndMatchesSimulate()
    {
        const Result deps = run("ldd", {STC_RUN_EXE});
        QVERIFY2(deps.exitCode == 0, qPrintable(deps.err));
        QVERIFY2(!deps.out.contains("Qt") && !deps.out.contains("torch") && !deps.out.contains("hdf5"),
                 qPrintable(deps.out));

        const QString pkg = tmp_.filePath("conv.stcpkg");
        Result r = run(STC_EXE, {"compile", QString(STC_RESOURCE_DIR) + "/models/convsnn_fmnist.sir", "--chip",
                                 "loihi3", "-o", pkg});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        const QString input = tmp_.filePath("samples.json");
        QVERIFY(writeRandomImages(input, 3, 7));

        r = run(STC_RUN_EXE, {pkg, "--input", input, "--json"});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        const auto mine = nlohmann::json::parse(r.out.toStdString());
        r = run(STC_EXE, {"simulate", pkg, "--input", input, "--json"});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        const auto reference = nlohmann::json::parse(r.out.toStdString());
        QCOMPARE(mine["samples"].get<int>(), 3);
        QCOMPARE(mine["predicted"], reference["predicted"]);
        QCOMPARE(mine["outputs"], reference["outputs"]);
        QCOMPARE(mine["per_inference"]["energy_pj"], reference["per_inference"]["energy_pj"]);

        // A bundle runs from its own directory.
        const QString bundle = tmp_.filePath("edge");
        r = run(STC_RUN_EXE, {"--bundle", pkg, bundle});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        for (const char* name : {"stc-run", "run.sh", "README.txt", "package/manifest.json"})
            QVERIFY2(QFile::exists(bundle + "/" + name), name);
        r = run("sh", {bundle + "/run.sh", "--input", input, "--json"});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        QCOMPARE(nlohmann::json::parse(r.out.toStdString())["predicted"], reference["predicted"]);
        r = run(STC_RUN_EXE, {"--bundle", pkg, bundle}); // never overwrites
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("exists"), qPrintable(r.err));

        // Bad input: located errors, no crash.
        r = run(STC_RUN_EXE, {tmp_.path(), "--input", input});
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains(tmp_.path()), qPrintable(r.err));
        QFile bad(tmp_.filePath("bad.txt"));
        QVERIFY(bad.open(QIODevice::WriteOnly));
        bad.write("1 2 3");
        bad.close();
        r = run(STC_RUN_EXE, {pkg, "--input", bad.fileName()});
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("multiple of 784"), qPrintable(r.err));
    }

    // `stc ir run --fixed-point` on the quantized module of the compile
    // pipeline gives exactly the package's outputs in `stc simulate`: the
    // check a user runs for "compiled accuracy = fixed-point accuracy".
    void irRunFixedPointEqualsSimulate()
    {
        const QString model = QString(STC_RESOURCE_DIR) + "/models/convsnn_fmnist.sir";
        const QString pkg = tmp_.filePath("conv-fx.stcpkg"), quantized = tmp_.filePath("conv-q.sir");
        Result r = run(STC_EXE, {"compile", model, "--chip", "loihi3", "-o", pkg});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        r = run(STC_EXE, {"opt", model, "-p", "fold-bn,canonicalize,dce,quantize{bits=8},schedule-time", "-o", quantized});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        const QString input = tmp_.filePath("fx-samples.json");
        QVERIFY(writeRandomImages(input, 4, 11));

        r = run(STC_EXE, {"ir", "run", quantized, "--input", input, "--fixed-point", "--json"});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        const auto fx = nlohmann::json::parse(r.out.toStdString());
        QCOMPARE(fx["engine"].get<std::string>(), std::string("fixed-point"));
        r = run(STC_EXE, {"simulate", pkg, "--input", input, "--json"});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        const auto simulated = nlohmann::json::parse(r.out.toStdString());
        nlohmann::json flat = nlohmann::json::array();
        for (const auto& sample : simulated["outputs"])
            for (const auto& v : sample)
                flat.push_back(v);
        QCOMPARE(flat.size(), fx["outputs"].size());
        QCOMPARE(flat, fx["outputs"]);
        // A quantized file runs on the fixed-point executor without the flag too
        // (the f32 interpreter cannot run integer weights), with the same outputs.
        r = run(STC_EXE, {"ir", "run", quantized, "--input", input, "--json"});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        QVERIFY2(r.err.contains("is quantized"), qPrintable(r.err));
        const auto implicit = nlohmann::json::parse(r.out.toStdString());
        QCOMPARE(implicit["engine"].get<std::string>(), std::string("fixed-point"));
        QCOMPARE(implicit["outputs"], fx["outputs"]);
        // The float model runs on the f32 interpreter.
        r = run(STC_EXE, {"ir", "run", model, "--input", input, "--json"});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        QCOMPARE(nlohmann::json::parse(r.out.toStdString())["engine"].get<std::string>(), std::string("f32"));
        // An unquantized module is refused with what to do.
        r = run(STC_EXE, {"ir", "run", model, "--input", input, "--fixed-point"});
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("not quantized") && r.err.contains("quantize{bits=8}"), qPrintable(r.err));
    }
};

QTEST_GUILESS_MAIN(TestStcRun)
#include "test_stc_run.moc"

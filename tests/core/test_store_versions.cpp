// core/store: model versions, deployment tags, provenance of a compile run,
// and the migration from schema 1 (files written before tags and provenance).
#include "store/project.h"
#include "store/provenance.h"
#include "store/schema.h"
#include "store/sha256.h"
#include "store/sqlite_db.h"
#include "store_test_util.h"

#include <QTemporaryDir>
#include <QtTest>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

using namespace stc;
using namespace stc::store;

namespace {

CompileResult mappedCompile(int64_t cores, double energyPj)
{
    CompileResult r;
    r.seconds = 0.5;
    r.mapped = true;
    r.coresUsed = cores;
    r.chipsUsed = 1;
    r.utilization = 0.5;
    r.latencyNs = 4000;
    r.energyPj = energyPj;
    r.chipSha256 = sha256Hex("{\"chip\": \"test\"}");
    r.packagePath = "/tmp/out.stcpkg";
    return r;
}

template <typename F> ErrorKind errorOf(F&& f)
{
    try {
        f();
    } catch (const Error& e) {
        return e.kind();
    }
    return ErrorKind(255);
}

} // namespace

class TestStoreVersions : public QObject {
    Q_OBJECT

private:
    QTemporaryDir tmp_;
    std::string file(const char* name) const { return QDir(tmp_.path()).filePath(name).toStdString(); }

private slots:
    void modelVersionsKeepDiagnostics()
    {
        Project p = Project::create(file("versions.stcproj"), {"v", "loihi3"});
        const std::string model = file("m.sir");
        writeBytes(model, "first");
        ModelSource m1 = describeModelFile(model, {1, 784}, 8);
        m1.diagnostics = "warning: input shape taken from the module\n";
        bool added = false;
        const int64_t v1 = p.setModel(m1, &added);
        QVERIFY(added);
        QCOMPARE(p.setModel(m1, &added), v1);
        QVERIFY(!added);
        writeBytes(model, "second"); // same path, new content: a new version
        const int64_t v2 = p.setModel(describeModelFile(model, {1, 784}, 8), &added);
        QVERIFY(added);
        QVERIFY(v2 != v1);
        QCOMPARE(p.model(v1)->diagnostics, m1.diagnostics);
        QCOMPARE(p.model(v1)->sha256, sha256Hex("first"));
        QCOMPARE(p.model(v2)->sha256, sha256Hex("second"));
        QVERIFY(p.model(v2)->diagnostics.empty());
        QVERIFY(!p.model(999));
        QCOMPARE(p.info().model->id, v2); // the latest is current
        QCOMPARE(p.models().size(), size_t(2));
    }

    void compileProvenanceRoundTrips()
    {
        Project p = Project::create(file("prov-rt.stcproj"), {"p", "loihi3"});
        const int64_t id = p.addCompileRun({}, mappedCompile(7, 1e6));
        const auto c = p.compileRun(id);
        QCOMPARE(c->result.chipSha256, sha256Hex("{\"chip\": \"test\"}"));
        QCOMPARE(c->result.packagePath, std::string("/tmp/out.stcpkg"));
    }

    void tagsMarkSuccessfulCompileRuns()
    {
        const std::string path = file("tags.stcproj");
        Project p = Project::create(path, {"t", "loihi3"});
        const int64_t ok = p.addCompileRun({}, mappedCompile(4, 2e6));
        const int64_t other = p.addCompileRun({}, mappedCompile(5, 1e6));
        CompileResult failedResult;
        failedResult.status = CompileStatus::Failed;
        const int64_t failed = p.addCompileRun({}, failedResult);
        RunMeta am;
        am.compileRunId = ok;
        const int64_t acc = p.addAccuracyRun(am, {"fashion-mnist", "test", 0, 10, 9, EvalPath::FixedPoint, 0.1});

        QVERIFY(p.tagRun(ok, "deployed", "board 3"));
        QVERIFY(!p.tagRun(ok, "deployed")); // already tagged: unchanged
        QVERIFY(p.tagRun(ok, "v1.0"));
        QVERIFY(p.tagRun(other, "deployed"));
        QCOMPARE(errorOf([&] { p.tagRun(failed, "deployed"); }), ErrorKind::Invalid);
        QCOMPARE(errorOf([&] { p.tagRun(acc, "deployed"); }), ErrorKind::Invalid);
        QCOMPARE(errorOf([&] { p.tagRun(12345, "deployed"); }), ErrorKind::Invalid);
        QCOMPARE(errorOf([&] { p.tagRun(ok, ""); }), ErrorKind::Invalid);

        const auto all = p.tags();
        QCOMPARE(all.size(), size_t(3));
        const auto ofOk = p.tags(ok);
        QCOMPARE(ofOk.size(), size_t(2));
        QCOMPARE(ofOk[0].tag, std::string("deployed"));
        QCOMPARE(ofOk[0].note, std::string("board 3"));
        QCOMPARE(ofOk[0].toolVersion, std::string(STC_VERSION));
        QVERIFY(!ofOk[0].createdAt.empty());

        QVERIFY(p.untagRun(ok, "v1.0"));
        QVERIFY(!p.untagRun(ok, "v1.0"));
        QVERIFY(p.deleteRun(other)); // its tags go with it
        QCOMPARE(p.tags().size(), size_t(1));

        Project ro = Project::open(path, OpenMode::ReadOnly);
        QCOMPARE(ro.tags(ok).size(), size_t(1));
        QCOMPARE(errorOf([&] { ro.tagRun(ok, "x"); }), ErrorKind::ReadOnly);
    }

    void configurationsOfChosenRuns()
    {
        Project p = Project::create(file("ids.stcproj"), {"i", "loihi3"});
        std::vector<int64_t> ids;
        for (int i = 0; i < 5; ++i)
            ids.push_back(p.addCompileRun({}, mappedCompile(i + 1, 1e6 * (i + 1))));
        RunFilter f;
        f.runIds = {ids[3], ids[1], 999};
        const auto configs = p.configurations(f);
        QCOMPARE(configs.size(), size_t(2));
        QCOMPARE(configs[0].meta.id, ids[1]); // in run order
        QCOMPARE(configs[1].meta.id, ids[3]);
        QCOMPARE(configs[1].compile.coresUsed, int64_t(4));
    }

    void provenanceOfACompileRun()
    {
        const std::string path = file("prov.stcproj");
        const std::string model = file("prov-model.sir");
        writeBytes(model, "module @m {timesteps = 4} {}\n");
        Project p = Project::create(path, {"prov", "loihi3"});
        p.setModel(describeModelFile(model, {1, 784}, 4));
        RunMeta meta;
        meta.chip = "loihi3";
        meta.pipeline = "fold-bn,quantize{bits=8},partition{chip=loihi3 chips=1},place,route";
        meta.params = {{"calibration", "fashion-mnist:16"}};
        const int64_t id = p.addCompileRun(meta, mappedCompile(3, 5e5));
        p.tagRun(id, "deployed");

        const Provenance prov = provenanceOf(p, id);
        QCOMPARE(prov.compileRunId, id);
        QCOMPARE(prov.model.sha256, sha256Hex("module @m {timesteps = 4} {}\n"));
        QCOMPARE(prov.pipeline, meta.pipeline);
        QCOMPARE(prov.chipSha256, sha256Hex("{\"chip\": \"test\"}"));
        QCOMPARE(prov.params.at("calibration"), std::string("fashion-mnist:16"));
        QCOMPARE(prov.tags, std::vector<std::string>{"deployed"});
        QCOMPARE(prov.toolVersion, std::string(STC_VERSION));
        verifyModelFile(prov); // unchanged: no throw

        const auto j = nlohmann::json::parse(provenanceJson(prov));
        QCOMPARE(j["format"].get<std::string>(), std::string("stc.provenance/1"));
        QCOMPARE(j["compile_run_id"].get<int64_t>(), id);
        QCOMPARE(j["model"]["sha256"].get<std::string>(), prov.model.sha256);
        QCOMPARE(j["model"]["input_shape"].get<std::vector<int64_t>>(), (std::vector<int64_t>{1, 784}));
        QCOMPARE(j["chip"]["descriptor_sha256"].get<std::string>(), prov.chipSha256);
        QCOMPARE(j["pipeline"].get<std::string>(), meta.pipeline);
        QCOMPARE(j["estimate"]["cores"].get<int64_t>(), int64_t(3));
        QCOMPARE(j["exported"]["tool_version"].get<std::string>(), std::string(STC_VERSION));

        // The descriptor and the reproduction checks.
        QVERIFY(chipDescriptorMismatch(prov, "{\"chip\": \"test\"}").empty());
        QVERIFY(QString::fromStdString(chipDescriptorMismatch(prov, "{\"chip\": \"edited\"}")).contains("changed"));
        QVERIFY(reproductionMismatch(prov, mappedCompile(3, 5e5)).empty());
        QVERIFY(QString::fromStdString(reproductionMismatch(prov, mappedCompile(4, 5e5))).contains("cores 3 recorded"));
        QVERIFY(QString::fromStdString(reproductionMismatch(prov, mappedCompile(3, 5.1e5))).contains("energy"));
        QVERIFY(!reproductionMismatch(prov, CompileResult{}).empty()); // not mapped

        // A changed model file is refused, so is a missing one.
        writeBytes(model, "module @m {timesteps = 5} {}\n");
        try {
            verifyModelFile(prov);
            QFAIL("expected an error");
        } catch (const Error& e) {
            QCOMPARE(e.kind(), ErrorKind::Invalid);
            QVERIFY2(QString(e.what()).contains("changed since compile run"), e.what());
        }
        std::filesystem::remove(model);
        QCOMPARE(errorOf([&] { verifyModelFile(prov); }), ErrorKind::NotFound);

        // Only a successful compile run with a model version has a provenance.
        CompileResult failedResult;
        failedResult.status = CompileStatus::Failed;
        const int64_t failed = p.addCompileRun(meta, failedResult);
        QCOMPARE(errorOf([&] { provenanceOf(p, failed); }), ErrorKind::Invalid);
        QCOMPARE(errorOf([&] { provenanceOf(p, 4242); }), ErrorKind::Invalid);
        const int64_t acc = p.addAccuracyRun({}, {"fashion-mnist", "test", 0, 10, 9, EvalPath::Float, 0});
        QCOMPARE(errorOf([&] { provenanceOf(p, acc); }), ErrorKind::Invalid);
        Project bare = Project::create(file("bare.stcproj"), {"bare"});
        const int64_t noModel = bare.addCompileRun({}, mappedCompile(1, 1));
        QCOMPARE(errorOf([&] { provenanceOf(bare, noModel); }), ErrorKind::Invalid);
    }

    // A file written by a schema-1 build: refused read-only with a message
    // (unchanged on disk), upgraded read-write with every row kept.
    void upgradeFromSchema1()
    {
        const std::string path = file("schema1.stcproj");
        {
            sql::Db db(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
            db.exec("PRAGMA journal_mode = DELETE");
            db.exec("PRAGMA application_id = " + std::to_string(kApplicationId));
            applyMigrations(db, {builtinMigrations().at(0)});
            QCOMPARE(db.queryInt("PRAGMA user_version"), int64_t(1));
            db.exec("INSERT INTO models (id, path, sha256, format, input_shape, timesteps, added_at) "
                    "VALUES (1, '/m.pt', 'abc', 'pt', '1,784', 8, 't0');"
                    "INSERT INTO project (id, name, chip, notes, current_model_id, created_at, created_by) "
                    "VALUES (1, 'old', 'loihi2', '', 1, 't0', '0.0.9');"
                    "INSERT INTO runs (id, kind, created_at, tool_version, model_id, chip, pipeline) "
                    "VALUES (1, 'compile', 't1', '0.0.9', 1, 'loihi2', 'fold-bn');"
                    "INSERT INTO compile_results (run_id, status, seconds, mapped, cores_used, chips_used, "
                    "utilization, latency_ns, energy_pj) VALUES (1, 'ok', 1.0, 1, 6, 1, 0.4, 900.0, 3e5);");
        }
        const std::string before = readBytes(path);
        try {
            Project::open(path, OpenMode::ReadOnly);
            QFAIL("expected an error");
        } catch (const Error& e) {
            QCOMPARE(e.kind(), ErrorKind::OlderSchema);
            QVERIFY2(QString(e.what()).contains("open it read-write once"), e.what());
        }
        QVERIFY(readBytes(path) == before);

        {
            Project p = Project::open(path);
            QCOMPARE(p.info().schemaVersion, 2);
            QCOMPARE(p.info().name, std::string("old"));
            QCOMPARE(p.info().model->sha256, std::string("abc"));
            QVERIFY(p.info().model->diagnostics.empty());
            const auto c = p.compileRun(1);
            QVERIFY(c);
            QCOMPARE(c->result.coresUsed, int64_t(6));
            QVERIFY(c->result.chipSha256.empty()); // not recorded before schema 2
            QVERIFY(p.tags().empty());
            QVERIFY(p.tagRun(1, "deployed"));
            const Provenance prov = provenanceOf(p, 1);
            QVERIFY(prov.chipSha256.empty());
            QVERIFY(chipDescriptorMismatch(prov, "anything").empty()); // nothing recorded to compare with
        }
        Project ro = Project::open(path, OpenMode::ReadOnly);
        QCOMPARE(ro.tags(1).size(), size_t(1));
        sql::Db check(path, SQLITE_OPEN_READONLY);
        QCOMPARE(check.queryText("PRAGMA integrity_check"), std::string("ok"));
        QCOMPARE(check.queryInt("PRAGMA user_version"), int64_t(kSchemaVersion));
    }
};

QTEST_GUILESS_MAIN(TestStoreVersions)
#include "test_store_versions.moc"

// core/store: project files. Round trips of every record kind, refusal of
// files that are not (usable) projects without touching them, transactions
// that roll back, schema migrations, concurrent readers, SHA-256.
#include "store/project.h"
#include "store/schema.h"
#include "store/sha256.h"
#include "store/sqlite_db.h"
#include "store_test_util.h"

#include <QTemporaryDir>
#include <QtTest>

#include <filesystem>
#include <fstream>
#include <random>

using namespace stc;
using namespace stc::store;

namespace {

CompileResult sampleCompile(int passes = 2)
{
    CompileResult r;
    r.status = CompileStatus::Ok;
    r.seconds = 1.25;
    for (int i = 0; i < passes; ++i) {
        PassRow p;
        p.position = i;
        p.pass = i == 0 ? "fold-bn" : "quantize";
        p.entry = i == 0 ? "fold-bn" : "quantize{bits=8}";
        p.status = "ok";
        p.seconds = 0.01 * (i + 1);
        p.changed = i == 1;
        p.diagnostics = i == 1 ? "warning: something" : "";
        p.stats = {{"layers", int64_t(3)},
                   {"weight-error.fc", 0.0125},
                   {"exact-double", 3.0},                        // must stay a double
                   {"big", int64_t(9007199254740993)}};          // > 2^53: must stay exact
        r.passes.push_back(p);
    }
    r.mapped = true;
    r.coresUsed = 12;
    r.chipsUsed = 1;
    r.utilization = 0.83;
    r.utilizationWithTime = 0.99;
    r.stepTimeNs = 1234.5;
    r.latencyNs = 7407.0;
    r.energyPj = 5.5e6;
    r.synapticPj = 4e6;
    r.neuronPj = 1e6;
    r.networkPj = 4e5;
    r.staticPj = 1e5;
    r.baselinePj = 9e6;
    r.ratesMeasured = true;
    r.projectedChip = true;
    return r;
}

int64_t count(const Project& p, RunKind k)
{
    RunFilter f;
    f.kind = k;
    return int64_t(p.listRuns(f).size());
}

// A project with enough rows to span many pages.
void fillProject(const std::string& path, int runs)
{
    Project p = Project::create(path, {"big", "loihi3"});
    p.transaction([&] {
        for (int i = 0; i < runs; ++i)
            p.addCompileRun({}, sampleCompile(4));
    });
}

} // namespace

class TestStore : public QObject {
    Q_OBJECT

private:
    QTemporaryDir tmp_;
    std::string file(const char* name) const { return (QDir(tmp_.path()).filePath(name)).toStdString(); }

private slots:
    void sha256Vectors()
    {
        QCOMPARE(sha256Hex(""), std::string("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
        QCOMPARE(sha256Hex("abc"), std::string("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
        QCOMPARE(sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
                 std::string("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"));
        Sha256 h;
        const std::string chunk(1000, 'a');
        for (int i = 0; i < 1000; ++i)
            h.update(chunk);
        QCOMPARE(h.hex(), std::string("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"));
    }

    void describeModel()
    {
        const std::string path = file("model.sir");
        writeBytes(path, "module @m {timesteps = 4} {}\n");
        ModelSource m = describeModelFile(path, {1, 1, 28, 28}, 4);
        QCOMPARE(m.sha256, sha256Hex("module @m {timesteps = 4} {}\n"));
        QCOMPARE(m.format, std::string("sir"));
        QVERIFY(std::filesystem::path(m.path).is_absolute());
        try {
            describeModelFile(file("missing.pt"), {}, 1);
            QFAIL("expected an error");
        } catch (const Error& e) {
            QCOMPARE(e.kind(), ErrorKind::NotFound);
        }
    }

    void createOpenRoundTrip()
    {
        const std::string path = file("roundtrip.stcproj");
        int64_t compileId = 0, accId = 0, simId = 0, sweepId = 0, modelId = 0;
        const std::string modelPath = file("m.sir");
        writeBytes(modelPath, "x");
        {
            Project p = Project::create(path, {"Fashion Spikformer", "loihi3", "first try"});
            modelId = p.setModel(describeModelFile(modelPath, {1, 1, 28, 28}, 4));
            QCOMPARE(p.setModel(describeModelFile(modelPath, {1, 1, 28, 28}, 4)), modelId); // same model: reused
            p.savePipeline("int8", "fold-bn,fuse,quantize{bits=8}");
            p.savePipeline("int8", "fold-bn,fuse,quantize{bits=8 per-channel=false}"); // replaces
            p.savePipeline("float", "fold-bn");
            sweepId = p.addSweep("stc sweep m.sir --bits 8");
            RunMeta meta;
            meta.chip = "loihi3";
            meta.pipeline = "fold-bn,quantize{bits=8},partition,place,route";
            meta.label = "int8";
            meta.sweepId = sweepId;
            meta.params = {{"bits", "8"}, {"sparsity", "0.25"}};
            compileId = p.addCompileRun(meta, sampleCompile());
            RunMeta am;
            am.compileRunId = compileId;
            am.label = "int8 accuracy";
            accId = p.addAccuracyRun(am, {"fashion-mnist", "test", 10, 500, 431, EvalPath::FixedPoint, 2.5});
            SimulationLedger led;
            led.samples = 4;
            led.steps = 9;
            led.stepTimeNs = 800;
            led.latencyNs = 7200;
            led.energyPj = 1.5e6;
            led.seconds = 0.3;
            led.entries = {{"lif1", "synaptic-op", 1000, 23600.0}, {"lif1", "spike", 40, 68.0}, {"fc", "hop-ew", 7, 21.0}};
            RunMeta sm;
            sm.compileRunId = compileId;
            simId = p.addSimulationRun(sm, led);
        }
        for (OpenMode mode : {OpenMode::ReadWrite, OpenMode::ReadOnly}) {
            Project p = Project::open(path, mode);
            QCOMPARE(p.readOnly(), mode == OpenMode::ReadOnly);
            const ProjectInfo info = p.info();
            QCOMPARE(info.name, std::string("Fashion Spikformer"));
            QCOMPARE(info.chip, std::string("loihi3"));
            QCOMPARE(info.notes, std::string("first try"));
            QCOMPARE(info.schemaVersion, kSchemaVersion);
            QCOMPARE(info.createdBy, std::string(STC_VERSION));
            QVERIFY(info.createdAt.size() == 24 && info.createdAt.back() == 'Z');
            QVERIFY(info.model);
            QCOMPARE(info.model->id, modelId);
            QCOMPARE(info.model->inputShape, (std::vector<int64_t>{1, 1, 28, 28}));
            QCOMPARE(info.model->timesteps, int64_t(4));
            QCOMPARE(info.model->sha256, sha256Hex("x"));
            QCOMPARE(p.models().size(), size_t(1));

            const auto pipes = p.pipelines();
            QCOMPARE(pipes.size(), size_t(2));
            QCOMPARE(pipes[0].name, std::string("float"));
            QCOMPARE(p.pipeline("int8")->text, std::string("fold-bn,fuse,quantize{bits=8 per-channel=false}"));
            QVERIFY(!p.pipeline("none"));
            QCOMPARE(p.sweeps().size(), size_t(1));

            auto c = p.compileRun(compileId);
            QVERIFY(c);
            QCOMPARE(c->meta.kind, RunKind::Compile);
            QCOMPARE(c->meta.modelId, modelId); // defaulted to the current model
            QCOMPARE(c->meta.toolVersion, std::string(STC_VERSION));
            QCOMPARE(c->meta.sweepId, sweepId);
            QCOMPARE(c->meta.params.at("sparsity"), std::string("0.25"));
            const CompileResult want = sampleCompile();
            QCOMPARE(c->result.passes.size(), want.passes.size());
            for (size_t i = 0; i < want.passes.size(); ++i)
                QVERIFY(c->result.passes[i] == want.passes[i]);
            QVERIFY(std::holds_alternative<double>(c->result.passes[1].stats[2].value));
            QCOMPARE(c->result.energyPj, want.energyPj);
            QCOMPARE(c->result.coresUsed, want.coresUsed);
            QCOMPARE(c->result.utilization, want.utilization);
            QVERIFY(c->result.projectedChip && c->result.ratesMeasured && c->result.mapped);

            auto a = p.accuracyRun(accId);
            QVERIFY(a);
            QCOMPARE(a->meta.compileRunId, compileId);
            QCOMPARE(a->result.correct, int64_t(431));
            QCOMPARE(a->result.firstSample, int64_t(10));
            QCOMPARE(a->result.path, EvalPath::FixedPoint);
            QCOMPARE(a->result.accuracy(), 431.0 / 500.0);

            auto s = p.simulationRun(simId);
            QVERIFY(s);
            QCOMPARE(s->result.entries.size(), size_t(3));
            QVERIFY((s->result.entries[0] == EnergyEntry{"fc", "hop-ew", 7, 21.0})); // ordered by layer, event
            QCOMPARE(s->result.latencyNs, 7200.0);

            QVERIFY(!p.compileRun(accId)); // wrong kind: no compile result
            QCOMPARE(p.listRuns().size(), size_t(3));
            RunFilter byCompile;
            byCompile.compileRunId = compileId;
            QCOMPARE(p.listRuns(byCompile).size(), size_t(2));
            RunFilter newest;
            newest.newestFirst = true;
            newest.limit = 1;
            QCOMPARE(p.listRuns(newest).at(0).id, simId);

            const auto configs = p.configurations();
            QCOMPARE(configs.size(), size_t(1));
            QCOMPARE(configs[0].accuracyRunId, accId);
            QCOMPARE(*configs[0].value(Metric::Accuracy), 431.0 / 500.0);
            QCOMPARE(*configs[0].value(Metric::SimEnergyPj), 1.5e6);
            QCOMPARE(*configs[0].value(Metric::EnergyPj), 5.5e6);
        }
        // Deleting the compile run keeps its measurements, unlinked.
        Project p = Project::open(path);
        QVERIFY(p.deleteRun(compileId));
        QVERIFY(!p.deleteRun(compileId));
        QCOMPARE(p.accuracyRun(accId)->meta.compileRunId, int64_t(0));
        QCOMPARE(p.simulationRun(simId)->result.entries.size(), size_t(3));
        QVERIFY(p.removePipeline("float"));
        QVERIFY(!p.removePipeline("float"));
    }

    void unmappedRunStoresNulls()
    {
        Project p = Project::create(file("unmapped.stcproj"), {"u", "loihi3"});
        CompileResult r = sampleCompile();
        r.mapped = false;
        r.notMappedReason = "does not fit 1 chip";
        const int64_t id = p.addCompileRun({}, r);
        auto c = p.compileRun(id);
        QVERIFY(!c->result.mapped);
        QCOMPARE(c->result.notMappedReason, r.notMappedReason);
        QCOMPARE(c->result.energyPj, 0.0);
        QVERIFY(!p.configurations()[0].value(Metric::EnergyPj));
        QVERIFY(p.configurations()[0].value(Metric::CompileSeconds));
    }

    void createRefusesExistingFile()
    {
        const std::string path = file("existing.txt");
        writeBytes(path, "precious");
        try {
            Project::create(path, {"x"});
            QFAIL("expected an error");
        } catch (const Error& e) {
            QCOMPARE(e.kind(), ErrorKind::Exists);
        }
        QCOMPARE(readBytes(path), std::string("precious"));
    }

    void openRefuses_data()
    {
        QTest::addColumn<QString>("name");
        QTest::addColumn<int>("kind");
        QTest::addColumn<QString>("message");
        QTest::newRow("missing") << "missing" << int(ErrorKind::NotFound) << "no such file";
        QTest::newRow("directory") << "directory" << int(ErrorKind::NotAProject) << "is a directory";
        QTest::newRow("empty file") << "empty" << int(ErrorKind::NotAProject) << "empty file";
        QTest::newRow("text file") << "text" << int(ErrorKind::NotAProject) << "not an STC project";
        QTest::newRow("random bytes") << "random" << int(ErrorKind::NotAProject) << "not an STC project";
        QTest::newRow("sqlite header then garbage") << "fakeheader" << int(ErrorKind::NotAProject) << "not an STC project";
        QTest::newRow("other application's database") << "foreign" << int(ErrorKind::NotAProject) << "another application";
        QTest::newRow("empty sqlite database") << "emptydb" << int(ErrorKind::NotAProject) << "empty SQLite database";
        QTest::newRow("newer schema") << "newer" << int(ErrorKind::NewerSchema) << "newer STC Studio";
        QTest::newRow("truncated to half") << "truncated" << int(ErrorKind::Corrupt) << "damaged";
        QTest::newRow("truncated to 1.5 pages") << "truncated-early" << int(ErrorKind::Corrupt) << "damaged";
        QTest::newRow("overwritten page") << "scribbled" << int(ErrorKind::Corrupt) << "damaged";
    }

    void openRefuses()
    {
        QFETCH(QString, name);
        QFETCH(int, kind);
        QFETCH(QString, message);
        const std::string path = file(("refuse-" + name + ".stcproj").toUtf8().constData());
        std::mt19937 rng(7);
        auto randomBytes = [&](size_t n) {
            std::string s(n, '\0');
            for (auto& c : s)
                c = char(rng());
            return s;
        };
        if (name == "directory") {
            std::filesystem::create_directory(path);
        } else if (name == "empty") {
            writeBytes(path, "");
        } else if (name == "text") {
            writeBytes(path, "module @m {timesteps = 4} {\n}\n");
        } else if (name == "random") {
            writeBytes(path, randomBytes(8192));
        } else if (name == "fakeheader") {
            writeBytes(path, std::string("SQLite format 3\0", 16) + randomBytes(8176));
        } else if (name == "foreign" || name == "emptydb") {
            sql::Db db(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
            if (name == "foreign")
                db.exec("PRAGMA application_id = 42; CREATE TABLE notes (t TEXT); INSERT INTO notes VALUES ('mine')");
            else
                db.exec("PRAGMA user_version = 0"); // writes the header: a valid, empty database
        } else if (name == "newer") {
            Project::create(path, {"n"});
            sql::Db db(path, SQLITE_OPEN_READWRITE);
            db.exec("PRAGMA user_version = 99");
        } else if (name == "truncated" || name == "truncated-early" || name == "scribbled") {
            fillProject(path, 300);
            std::string bytes = readBytes(path);
            QVERIFY(bytes.size() > 40000);
            if (name == "truncated")
                bytes.resize(bytes.size() / 2);
            else if (name == "truncated-early")
                bytes.resize(4096 + 2048);
            else
                bytes.replace(bytes.size() / 2, 4096, randomBytes(4096)); // one whole page of garbage
            writeBytes(path, bytes);
        }
        const bool isFile = std::filesystem::is_regular_file(path);
        const std::string before = isFile ? readBytes(path) : std::string{};
        for (OpenMode mode : {OpenMode::ReadWrite, OpenMode::ReadOnly}) {
            try {
                Project::open(path, mode);
                QFAIL("expected an error");
            } catch (const Error& e) {
                const QString what = QString::fromUtf8(e.what());
                QVERIFY2(int(e.kind()) == kind, qPrintable(QString("%1: %2").arg(toString(e.kind()), what)));
                QVERIFY2(what.contains(message), qPrintable(what));
                QVERIFY2(what.startsWith(QString::fromStdString(path)), qPrintable(what)); // names the file
            }
        }
        if (isFile)
            QVERIFY2(readBytes(path) == before, "a refused file must not be modified");
        QVERIFY(!std::filesystem::exists(path + "-journal"));
    }

    void readOnlyRefusesWrites()
    {
        const std::string path = file("ro.stcproj");
        Project::create(path, {"ro"});
        Project p = Project::open(path, OpenMode::ReadOnly);
        try {
            p.addAccuracyRun({}, {"fashion-mnist", "test", 0, 10, 5, EvalPath::Float, 0});
            QFAIL("expected an error");
        } catch (const Error& e) {
            QCOMPARE(e.kind(), ErrorKind::ReadOnly);
        }
    }

    void concurrentReaderSeesCommittedStateOnly()
    {
        const std::string path = file("concurrent.stcproj");
        Project writer = Project::create(path, {"c"});
        writer.addAccuracyRun({}, {"fashion-mnist", "test", 0, 10, 5, EvalPath::Float, 0});
        Project reader = Project::open(path, OpenMode::ReadOnly);
        Project reader2 = Project::open(path, OpenMode::ReadOnly);
        writer.transaction([&] {
            writer.addAccuracyRun({}, {"fashion-mnist", "test", 0, 10, 6, EvalPath::Float, 0});
            QCOMPARE(count(writer, RunKind::Accuracy), int64_t(2));
            QCOMPARE(count(reader, RunKind::Accuracy), int64_t(1)); // readers run during the write transaction
            QCOMPARE(count(reader2, RunKind::Accuracy), int64_t(1));
        });
        QCOMPARE(count(reader, RunKind::Accuracy), int64_t(2));
    }

    void failedInsertRollsBack()
    {
        Project p = Project::create(file("rollback.stcproj"), {"r"});
        const int64_t keep = p.addCompileRun({}, sampleCompile());
        // Two pass rows with the same position: the second insert fails after
        // the run, its result and the first pass row were written.
        CompileResult dup = sampleCompile();
        dup.passes[1].position = 0;
        try {
            p.addCompileRun({}, dup);
            QFAIL("expected an error");
        } catch (const Error& e) {
            QCOMPARE(e.kind(), ErrorKind::Constraint);
        }
        QCOMPARE(p.listRuns().size(), size_t(1));
        QCOMPARE(p.compileRun(keep)->result.passes.size(), size_t(2));

        // correct > samples violates a CHECK; a link to a missing compile run the trigger.
        auto expectConstraint = [&](RunMeta meta, AccuracyResult a) {
            try {
                p.addAccuracyRun(meta, a);
                QFAIL("expected an error");
            } catch (const Error& e) {
                QCOMPARE(e.kind(), ErrorKind::Constraint);
            }
        };
        expectConstraint({}, {"fashion-mnist", "test", 0, 10, 11, EvalPath::Float, 0});
        RunMeta dangling;
        dangling.compileRunId = 999;
        expectConstraint(dangling, {"fashion-mnist", "test", 0, 10, 1, EvalPath::Float, 0});
        RunMeta toAccuracy;
        toAccuracy.compileRunId = p.addAccuracyRun({}, {"fashion-mnist", "test", 0, 10, 1, EvalPath::Float, 0});
        expectConstraint(toAccuracy, {"fashion-mnist", "test", 0, 10, 1, EvalPath::Float, 0});
        SimulationLedger led;
        led.entries = {{"l", "spike", 1, 1.0}, {"l", "spike", 2, 2.0}};
        try {
            p.addSimulationRun({}, led);
            QFAIL("expected an error");
        } catch (const Error& e) {
            QCOMPARE(e.kind(), ErrorKind::Constraint);
        }
        QCOMPARE(p.listRuns().size(), size_t(2));

        // A caller's transaction: everything or nothing.
        try {
            p.transaction([&] {
                p.addCompileRun({}, sampleCompile());
                p.addSweep("half");
                throw std::runtime_error("interrupted");
            });
            QFAIL("expected the exception to propagate");
        } catch (const std::runtime_error& e) {
            QCOMPARE(std::string(e.what()), std::string("interrupted"));
        }
        QCOMPARE(p.listRuns().size(), size_t(2));
        QVERIFY(p.sweeps().empty());

        // A failure caught inside a transaction undoes only that call (savepoint).
        p.transaction([&] {
            p.addSweep("kept");
            try {
                p.addCompileRun({}, dup);
            } catch (const Error&) {
            }
        });
        QCOMPARE(p.sweeps().size(), size_t(1));
        QCOMPARE(p.listRuns().size(), size_t(2));

        // The file still opens and checks clean.
        Project again = Project::open(p.path());
        QCOMPARE(again.listRuns().size(), size_t(2));
    }

    void migrations()
    {
        const std::string path = file("migrate.db");
        sql::Db db(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
        std::vector<Migration> steps = builtinMigrations();
        applyMigrations(db, steps);
        QCOMPARE(db.queryInt("PRAGMA user_version"), int64_t(kSchemaVersion));
        db.exec("INSERT INTO sweeps (created_at, tool_version, description) VALUES ('t', 'v', 'kept')");
        applyMigrations(db, steps); // nothing pending: no-op
        QCOMPARE(db.queryInt("PRAGMA user_version"), int64_t(kSchemaVersion));

        // A failing step leaves the file at its version, with its data.
        auto bad = steps;
        bad.push_back({kSchemaVersion + 1, "ALTER TABLE sweeps ADD COLUMN host TEXT; SELECT no_such_function();"});
        QVERIFY_THROWS_EXCEPTION(Error, applyMigrations(db, bad));
        QCOMPARE(db.queryInt("PRAGMA user_version"), int64_t(kSchemaVersion));
        QCOMPARE(db.queryInt("SELECT count(*) FROM pragma_table_info('sweeps') WHERE name = 'host'"), int64_t(0));
        QCOMPARE(db.queryInt("PRAGMA foreign_keys"), int64_t(1));

        // A step that leaves a dangling reference is refused by the foreign key check.
        auto dangling = steps;
        dangling.push_back({kSchemaVersion + 1, "INSERT INTO runs (kind, created_at, tool_version, sweep_id) "
                                                "VALUES ('compile', 't', 'v', 12345);"});
        QVERIFY_THROWS_EXCEPTION(Error, applyMigrations(db, dangling));
        QCOMPARE(db.queryInt("SELECT count(*) FROM runs"), int64_t(0));

        // Two steps (a table rebuild, as a real migration would) in one go.
        auto good = steps;
        good.push_back({kSchemaVersion + 1, "ALTER TABLE sweeps ADD COLUMN host TEXT NOT NULL DEFAULT '';"});
        good.push_back({kSchemaVersion + 2, "CREATE TABLE sweeps_new (id INTEGER PRIMARY KEY, created_at TEXT NOT NULL, "
                                            "tool_version TEXT NOT NULL, description TEXT NOT NULL, host TEXT NOT NULL);"
                                            "INSERT INTO sweeps_new SELECT id, created_at, tool_version, description, "
                                            "host FROM sweeps; DROP TABLE sweeps; ALTER TABLE sweeps_new RENAME TO sweeps;"});
        applyMigrations(db, good);
        QCOMPARE(db.queryInt("PRAGMA user_version"), int64_t(kSchemaVersion + 2));
        QCOMPARE(db.queryText("SELECT description FROM sweeps"), std::string("kept"));
    }

    void copyToMakesAnIndependentProject()
    {
        const std::string path = file("orig.stcproj"), copy = file("copy.stcproj");
        Project p = Project::create(path, {"orig", "loihi2"});
        p.addCompileRun({}, sampleCompile());
        p.copyTo(copy);
        QVERIFY_THROWS_EXCEPTION(Error, p.copyTo(copy));
        Project c = Project::open(copy);
        QCOMPARE(c.info().chip, std::string("loihi2"));
        QCOMPARE(c.listRuns().size(), size_t(1));
        c.addSweep("only in the copy");
        QVERIFY(p.sweeps().empty());
    }
};

QTEST_GUILESS_MAIN(TestStore)
#include "test_store.moc"

// Project: opening, creating and the project-level records (info, models,
// pipelines, sweeps). Runs are in runs.cpp.
#include "store/project.h"

#include "store/schema.h"
#include "store/sha256.h"
#include "store/sqlite_db.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <sstream>

#ifndef STC_VERSION
#define STC_VERSION "0.0.0"
#endif

namespace stc::store {

namespace fs = std::filesystem;

std::string utcNow()
{
    using namespace std::chrono;
    const auto now = system_clock::now();
    const std::time_t secs = system_clock::to_time_t(now);
    const auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[40];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                  tm.tm_hour, tm.tm_min, tm.tm_sec, int(ms));
    return buf;
}

namespace {

std::string joinShape(const std::vector<int64_t>& shape)
{
    std::string s;
    for (size_t i = 0; i < shape.size(); ++i)
        s += (i ? "," : "") + std::to_string(shape[i]);
    return s;
}

std::vector<int64_t> splitShape(const std::string& s)
{
    std::vector<int64_t> out;
    std::stringstream in(s);
    std::string item;
    while (std::getline(in, item, ','))
        if (!item.empty())
            out.push_back(std::stoll(item));
    return out;
}

ModelSource readModel(const sql::Statement& st, int c)
{
    ModelSource m;
    m.id = st.int64(c);
    m.path = st.text(c + 1);
    m.sha256 = st.text(c + 2);
    m.format = st.text(c + 3);
    m.inputShape = splitShape(st.text(c + 4));
    m.timesteps = st.int64(c + 5);
    m.addedAt = st.text(c + 6);
    m.diagnostics = st.text(c + 7);
    return m;
}

constexpr const char* kModelColumns =
    "m.id, m.path, m.sha256, m.format, m.input_shape, m.timesteps, m.added_at, m.diagnostics";

// Checks that an open database is a project this build can use.
void validate(sql::Db& db, OpenMode mode)
{
    const std::string& path = db.path();
    // The first read of the header: a non-SQLite file fails here.
    const int64_t appId = db.queryInt("PRAGMA application_id");
    const int64_t version = db.queryInt("PRAGMA user_version");
    if (appId != kApplicationId) {
        const bool empty = db.queryInt("SELECT count(*) FROM sqlite_schema") == 0;
        char id[16];
        std::snprintf(id, sizeof id, "0x%08x", unsigned(appId));
        throw Error(ErrorKind::NotAProject,
                    path + ": not an STC project (" +
                        (empty ? std::string("an empty SQLite database")
                               : "an SQLite database of another application, application_id " + std::string(id)) +
                        ")");
    }
    if (version > kSchemaVersion)
        throw Error(ErrorKind::NewerSchema,
                    path + ": written by a newer STC Studio (project schema " + std::to_string(version) +
                        "; this build reads schema " + std::to_string(kSchemaVersion) +
                        " and older); not opened so that it cannot be damaged");
    {
        sql::Statement check = db.prepare("PRAGMA quick_check(5)");
        std::string problems;
        while (check.step()) {
            const std::string line = check.text(0);
            if (line != "ok")
                problems += (problems.empty() ? "" : "; ") + line;
        }
        if (!problems.empty())
            throw Error(ErrorKind::Corrupt, path + ": the project file is damaged: " + problems);
    }
    if (version < kSchemaVersion) {
        if (mode == OpenMode::ReadOnly)
            throw Error(ErrorKind::OlderSchema, path + ": project schema " + std::to_string(version) +
                                                    " needs an upgrade to " + std::to_string(kSchemaVersion) +
                                                    "; open it read-write once");
        applyMigrations(db, builtinMigrations());
    }
    if (db.queryInt("SELECT count(*) FROM project") != 1)
        throw Error(ErrorKind::Corrupt, path + ": the project record is missing");
}

} // namespace

ModelSource describeModelFile(const std::string& path, std::vector<int64_t> inputShape, int64_t timesteps)
{
    std::error_code ec;
    if (!fs::is_regular_file(path, ec))
        throw Error(ErrorKind::NotFound, path + ": no such model file");
    ModelSource m;
    std::string error;
    if (!sha256File(path, m.sha256, error))
        throw Error(ErrorKind::Io, error);
    m.path = fs::absolute(path, ec).lexically_normal().string();
    if (ec)
        m.path = path;
    std::string ext = fs::path(path).extension().string();
    m.format = ext.empty() ? std::string{} : ext.substr(1);
    m.inputShape = std::move(inputShape);
    m.timesteps = timesteps;
    return m;
}

Project::Project(std::unique_ptr<sql::Db> db, std::string path, bool readOnly)
    : db_(std::move(db)), path_(std::move(path)), readOnly_(readOnly)
{
}

Project::Project(Project&&) noexcept = default;
Project& Project::operator=(Project&&) noexcept = default;
Project::~Project() = default;

Project Project::open(const std::string& path, OpenMode mode)
{
    std::error_code ec;
    const fs::file_status st = fs::status(path, ec);
    if (!fs::exists(st))
        throw Error(ErrorKind::NotFound, path + ": no such file");
    if (fs::is_directory(st))
        throw Error(ErrorKind::NotAProject, path + ": is a directory, not a project file");
    if (!fs::is_regular_file(st))
        throw Error(ErrorKind::NotAProject, path + ": not a regular file");
    // SQLite would treat an empty file as an empty database (and a later write
    // would turn it into one); a project is never empty.
    if (fs::file_size(path, ec) == 0)
        throw Error(ErrorKind::NotAProject, path + ": empty file, not an STC project");
    auto db = std::make_unique<sql::Db>(path, mode == OpenMode::ReadOnly ? SQLITE_OPEN_READONLY
                                                                          : SQLITE_OPEN_READWRITE);
    try {
        db->exec("PRAGMA foreign_keys = ON");
        validate(*db, mode);
    } catch (const Error& e) {
        // SQLite's own wording ("file is not a database") in the project's terms.
        const bool fromSqlite = std::string_view(e.what()).find("not an STC project") == std::string_view::npos;
        if (e.kind() == ErrorKind::NotAProject && fromSqlite)
            throw Error(ErrorKind::NotAProject, path + ": not an STC project (not an SQLite database)");
        throw;
    }
    const bool ro = mode == OpenMode::ReadOnly || sqlite3_db_readonly(db->handle(), "main") == 1;
    return Project(std::move(db), path, ro);
}

Project Project::create(const std::string& path, const ProjectInfo& info)
{
    std::error_code ec;
    if (fs::exists(fs::symlink_status(path, ec)))
        throw Error(ErrorKind::Exists, path + ": already exists; not overwritten");
    std::unique_ptr<sql::Db> db;
    try {
        db = std::make_unique<sql::Db>(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
        // Rollback journal, not WAL: a project is a document that users copy
        // and keep on shared drives; WAL needs shared memory (no network file
        // systems) and keeps committed data in a side file. docs/projects.md.
        db->exec("PRAGMA journal_mode = DELETE");
        db->exec("PRAGMA synchronous = FULL");
        sql::Transaction tx(*db);
        db->exec("PRAGMA application_id = " + std::to_string(kApplicationId));
        applyMigrations(*db, builtinMigrations());
        db->prepare("INSERT INTO project (id, name, chip, notes, created_at, created_by) VALUES (1, ?1, ?2, ?3, ?4, ?5)")
            .bindAll(info.name, info.chip, info.notes, utcNow(), std::string(STC_VERSION))
            .run();
        tx.commit();
        db->exec("PRAGMA foreign_keys = ON");
    } catch (...) {
        db.reset();
        fs::remove(path, ec);
        fs::remove(path + "-journal", ec);
        throw;
    }
    return Project(std::move(db), path, false);
}

void Project::requireWritable() const
{
    if (readOnly_)
        throw Error(ErrorKind::ReadOnly, path_ + ": the project is open read-only");
}

ProjectInfo Project::info() const
{
    ProjectInfo info;
    sql::Statement st = db_->prepare(std::string("SELECT p.name, p.chip, p.notes, p.created_at, p.created_by, ") +
                                     kModelColumns +
                                     " FROM project p LEFT JOIN models m ON m.id = p.current_model_id WHERE p.id = 1");
    if (!st.step())
        throw Error(ErrorKind::Corrupt, path_ + ": the project record is missing");
    info.name = st.text(0);
    info.chip = st.text(1);
    info.notes = st.text(2);
    info.createdAt = st.text(3);
    info.createdBy = st.text(4);
    if (!st.isNull(5))
        info.model = readModel(st, 5);
    info.schemaVersion = int(db_->queryInt("PRAGMA user_version"));
    return info;
}

void Project::setInfo(const ProjectInfo& info)
{
    requireWritable();
    db_->prepare("UPDATE project SET name = ?1, chip = ?2, notes = ?3 WHERE id = 1")
        .bindAll(info.name, info.chip, info.notes)
        .run();
}

int64_t Project::setModel(const ModelSource& model, bool* added)
{
    requireWritable();
    sql::Transaction tx(*db_);
    const std::string shape = joinShape(model.inputShape);
    int64_t id = 0;
    {
        sql::Statement find = db_->prepare(
            "SELECT id FROM models WHERE path = ?1 AND sha256 = ?2 AND input_shape = ?3 AND timesteps = ?4");
        find.bindAll(model.path, model.sha256, shape, model.timesteps);
        if (find.step())
            id = find.int64(0);
    }
    if (added)
        *added = id == 0;
    if (id == 0) {
        db_->prepare("INSERT INTO models (path, sha256, format, input_shape, timesteps, added_at, diagnostics) "
                     "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")
            .bindAll(model.path, model.sha256, model.format, shape, model.timesteps, utcNow(), model.diagnostics)
            .run();
        id = db_->lastInsertId();
    }
    db_->prepare("UPDATE project SET current_model_id = ?1 WHERE id = 1").bind(1, id).run();
    tx.commit();
    return id;
}

std::vector<ModelSource> Project::models() const
{
    std::vector<ModelSource> out;
    sql::Statement st = db_->prepare(std::string("SELECT ") + kModelColumns + " FROM models m ORDER BY m.id");
    while (st.step())
        out.push_back(readModel(st, 0));
    return out;
}

std::optional<ModelSource> Project::model(int64_t id) const
{
    sql::Statement st = db_->prepare(std::string("SELECT ") + kModelColumns + " FROM models m WHERE m.id = ?1");
    st.bind(1, id);
    if (!st.step())
        return std::nullopt;
    return readModel(st, 0);
}

void Project::savePipeline(const std::string& name, const std::string& text)
{
    requireWritable();
    if (name.empty())
        throw Error(ErrorKind::Invalid, path_ + ": a pipeline needs a name");
    db_->prepare("INSERT INTO pipelines (name, text, updated_at) VALUES (?1, ?2, ?3) "
                 "ON CONFLICT (name) DO UPDATE SET text = excluded.text, updated_at = excluded.updated_at")
        .bindAll(name, text, utcNow())
        .run();
}

bool Project::removePipeline(const std::string& name)
{
    requireWritable();
    db_->prepare("DELETE FROM pipelines WHERE name = ?1").bind(1, name).run();
    return db_->changes() > 0;
}

std::vector<NamedPipeline> Project::pipelines() const
{
    std::vector<NamedPipeline> out;
    sql::Statement st = db_->prepare("SELECT name, text, updated_at FROM pipelines ORDER BY name");
    while (st.step())
        out.push_back({st.text(0), st.text(1), st.text(2)});
    return out;
}

std::optional<NamedPipeline> Project::pipeline(const std::string& name) const
{
    sql::Statement st = db_->prepare("SELECT name, text, updated_at FROM pipelines WHERE name = ?1");
    st.bind(1, name);
    if (!st.step())
        return std::nullopt;
    return NamedPipeline{st.text(0), st.text(1), st.text(2)};
}

int64_t Project::addSweep(const std::string& description)
{
    requireWritable();
    db_->prepare("INSERT INTO sweeps (created_at, tool_version, description) VALUES (?1, ?2, ?3)")
        .bindAll(utcNow(), std::string(STC_VERSION), description)
        .run();
    return db_->lastInsertId();
}

std::vector<SweepInfo> Project::sweeps() const
{
    std::vector<SweepInfo> out;
    sql::Statement st = db_->prepare("SELECT id, created_at, tool_version, description FROM sweeps ORDER BY id");
    while (st.step())
        out.push_back({st.int64(0), st.text(1), st.text(2), st.text(3)});
    return out;
}

void Project::transaction(const std::function<void()>& fn)
{
    requireWritable();
    sql::Transaction tx(*db_);
    fn();
    tx.commit();
}

void Project::copyTo(const std::string& path) const
{
    std::error_code ec;
    if (fs::exists(fs::symlink_status(path, ec)))
        throw Error(ErrorKind::Exists, path + ": already exists; not overwritten");
    try {
        db_->prepare("VACUUM INTO ?1").bind(1, path).run();
    } catch (...) {
        fs::remove(path, ec);
        throw;
    }
}

} // namespace stc::store

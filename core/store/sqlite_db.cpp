#include "store/sqlite_db.h"

namespace stc::store {

const char* toString(ErrorKind k)
{
    switch (k) {
    case ErrorKind::NotFound: return "not-found";
    case ErrorKind::Exists: return "exists";
    case ErrorKind::NotAProject: return "not-a-project";
    case ErrorKind::NewerSchema: return "newer-schema";
    case ErrorKind::OlderSchema: return "older-schema";
    case ErrorKind::Corrupt: return "corrupt";
    case ErrorKind::ReadOnly: return "read-only";
    case ErrorKind::Busy: return "busy";
    case ErrorKind::Constraint: return "constraint";
    case ErrorKind::Io: return "io";
    case ErrorKind::Invalid: return "invalid";
    }
    return "?";
}

namespace sql {

namespace {

ErrorKind kindOf(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_NOTADB: return ErrorKind::NotAProject;
    case SQLITE_CORRUPT: return ErrorKind::Corrupt;
    case SQLITE_CONSTRAINT: return ErrorKind::Constraint;
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return ErrorKind::Busy;
    case SQLITE_READONLY: return ErrorKind::ReadOnly;
    case SQLITE_CANTOPEN: return ErrorKind::NotFound;
    case SQLITE_RANGE:
    case SQLITE_MISUSE:
    case SQLITE_ERROR: return ErrorKind::Invalid;
    default: return ErrorKind::Io;
    }
}

} // namespace

Db::Db(const std::string& path, int flags) : path_(path)
{
    const int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
    if (rc != SQLITE_OK) {
        const std::string msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
        sqlite3_close_v2(db_);
        db_ = nullptr;
        throw Error(kindOf(rc), path + ": cannot open: " + msg);
    }
    sqlite3_extended_result_codes(db_, 1);
    // A writer waits up to 5 s for readers (and readers for a committing writer).
    sqlite3_busy_timeout(db_, 5000);
}

Db::~Db()
{
    sqlite3_close_v2(db_);
}

void Db::fail(int rc, std::string_view what) const
{
    std::string msg = path_ + ": ";
    if (!what.empty())
        msg += std::string(what) + ": ";
    msg += (db_ && sqlite3_errcode(db_) == rc) ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    const ErrorKind k = kindOf(rc);
    if (k == ErrorKind::NotAProject)
        msg += " (not an SQLite database)";
    else if (k == ErrorKind::Corrupt)
        msg += " (the project file is damaged or truncated)";
    throw Error(k, msg);
}

void Db::exec(std::string_view sqlText, const char* what)
{
    char* err = nullptr;
    const std::string s(sqlText);
    const int rc = sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
        sqlite3_free(err);
        fail(rc, what ? what : s);
    }
}

Statement Db::prepare(std::string_view sqlText) const
{
    sqlite3_stmt* st = nullptr;
    const int rc = sqlite3_prepare_v2(db_, sqlText.data(), int(sqlText.size()), &st, nullptr);
    if (rc != SQLITE_OK)
        fail(rc, "prepare '" + std::string(sqlText.substr(0, 60)) + "'");
    return Statement(*this, st);
}

int64_t Db::queryInt(std::string_view sqlText) const
{
    Statement st = prepare(sqlText);
    return st.step() ? st.int64(0) : 0;
}

std::string Db::queryText(std::string_view sqlText) const
{
    Statement st = prepare(sqlText);
    return st.step() ? st.text(0) : std::string{};
}

Statement::~Statement()
{
    sqlite3_finalize(stmt_);
}

#define STC_SQL_CHECK(call, what)                                                                                      \
    do {                                                                                                               \
        const int rc_ = (call);                                                                                        \
        if (rc_ != SQLITE_OK)                                                                                          \
            db_->fail(rc_, what);                                                                                      \
    } while (0)

Statement& Statement::bind(int index, int64_t v)
{
    STC_SQL_CHECK(sqlite3_bind_int64(stmt_, index, v), "bind");
    return *this;
}

Statement& Statement::bind(int index, double v)
{
    STC_SQL_CHECK(sqlite3_bind_double(stmt_, index, v), "bind");
    return *this;
}

Statement& Statement::bind(int index, std::string_view v)
{
    STC_SQL_CHECK(sqlite3_bind_text64(stmt_, index, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8), "bind");
    return *this;
}

Statement& Statement::bind(int index, std::optional<double> v)
{
    return v ? bind(index, *v) : bindNull(index);
}

Statement& Statement::bindNull(int index)
{
    STC_SQL_CHECK(sqlite3_bind_null(stmt_, index), "bind");
    return *this;
}

Statement& Statement::bindId(int index, int64_t id)
{
    return id > 0 ? bind(index, id) : bindNull(index);
}

#undef STC_SQL_CHECK

bool Statement::step()
{
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW)
        return true;
    if (rc == SQLITE_DONE)
        return false;
    db_->fail(rc, "");
}

void Statement::run()
{
    while (step()) {
    }
    reset();
}

void Statement::reset()
{
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
}

std::string Statement::text(int col) const
{
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
    return p ? std::string(p, size_t(sqlite3_column_bytes(stmt_, col))) : std::string{};
}

std::optional<double> Statement::optReal(int col) const
{
    if (isNull(col))
        return std::nullopt;
    return real(col);
}

Transaction::Transaction(Db& db) : db_(db), level_(db.depth_)
{
    if (level_ == 0)
        db_.exec("BEGIN IMMEDIATE", "begin transaction");
    else
        db_.exec("SAVEPOINT sp" + std::to_string(level_), "savepoint");
    ++db_.depth_;
}

Transaction::~Transaction()
{
    if (done_)
        return;
    --db_.depth_;
    // Never throws: a failed rollback (e.g. SQLite already rolled back after an
    // I/O error) leaves nothing to undo.
    const std::string s = level_ == 0 ? std::string("ROLLBACK")
                                      : "ROLLBACK TO sp" + std::to_string(level_) + "; RELEASE sp" +
                                            std::to_string(level_);
    sqlite3_exec(db_.handle(), s.c_str(), nullptr, nullptr, nullptr);
}

void Transaction::commit()
{
    if (level_ == 0)
        db_.exec("COMMIT", "commit");
    else
        db_.exec("RELEASE sp" + std::to_string(level_), "release savepoint");
    done_ = true;
    --db_.depth_;
}

} // namespace sql
} // namespace stc::store

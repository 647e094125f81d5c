// Thin RAII wrappers over the sqlite3 C API, used only inside core/store:
// a connection (Db), a prepared statement (Statement) and a transaction
// (Transaction, nestable through savepoints). Every failure throws
// store::Error with the file name, what was being done and SQLite's message.
#pragma once

#include "store/error.h"

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace stc::store::sql {

class Statement;

class Db {
public:
    // flags: SQLITE_OPEN_READONLY / READWRITE [| CREATE]. Throws on failure.
    Db(const std::string& path, int flags);
    ~Db();
    Db(const Db&) = delete;
    Db& operator=(const Db&) = delete;

    sqlite3* handle() const { return db_; }
    const std::string& path() const { return path_; }

    // Runs one or more statements without results.
    void exec(std::string_view sql, const char* what = nullptr);
    Statement prepare(std::string_view sql) const;
    // First column of the first row of a one-row query (e.g. a PRAGMA).
    int64_t queryInt(std::string_view sql) const;
    std::string queryText(std::string_view sql) const;

    int64_t lastInsertId() const { return sqlite3_last_insert_rowid(db_); }
    int changes() const { return sqlite3_changes(db_); }

    // Throws the Error that matches an SQLite result code.
    [[noreturn]] void fail(int rc, std::string_view what) const;

private:
    friend class Transaction;
    sqlite3* db_ = nullptr;
    std::string path_;
    int depth_ = 0; // open transactions (outermost BEGIN IMMEDIATE, inner savepoints)
};

class Statement {
public:
    Statement(const Db& db, sqlite3_stmt* stmt) : db_(&db), stmt_(stmt) {}
    ~Statement();
    Statement(Statement&& o) noexcept : db_(o.db_), stmt_(o.stmt_) { o.stmt_ = nullptr; }
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;
    Statement& operator=(Statement&&) = delete;

    // Parameters are 1-based, as in SQL ("?1").
    Statement& bind(int index, int64_t v);
    Statement& bind(int index, int v) { return bind(index, int64_t(v)); }
    Statement& bind(int index, bool v) { return bind(index, int64_t(v ? 1 : 0)); }
    Statement& bind(int index, double v);
    Statement& bind(int index, std::string_view v);
    Statement& bind(int index, const char* v) { return bind(index, std::string_view(v)); }
    Statement& bind(int index, const std::string& v) { return bind(index, std::string_view(v)); }
    Statement& bind(int index, std::optional<double> v);
    Statement& bindNull(int index);
    // 0 binds NULL: "no reference" for optional foreign keys.
    Statement& bindId(int index, int64_t id);

    // Binds all arguments in order from ?1.
    template <typename... A> Statement& bindAll(const A&... args)
    {
        int i = 0;
        (bind(++i, args), ...);
        return *this;
    }

    // true: a row is available; false: done. Throws on error.
    bool step();
    // step() that must finish without a row (INSERT/UPDATE/DELETE).
    void run();
    void reset();

    bool isNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
    bool isInteger(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_INTEGER; }
    int64_t int64(int col) const { return sqlite3_column_int64(stmt_, col); }
    double real(int col) const { return sqlite3_column_double(stmt_, col); }
    std::string text(int col) const;
    std::optional<double> optReal(int col) const;

private:
    const Db* db_;
    sqlite3_stmt* stmt_;
};

// BEGIN IMMEDIATE (takes the write lock up front, so a busy database waits in
// the busy handler instead of failing half-way) or, nested, a SAVEPOINT.
// Rolls back in the destructor unless commit() was called.
class Transaction {
public:
    explicit Transaction(Db& db);
    ~Transaction();
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    void commit();

private:
    Db& db_;
    int level_;
    bool done_ = false;
};

} // namespace stc::store::sql

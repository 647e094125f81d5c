// The project file's schema and its forward migrations (docs/projects.md).
//
// A project is identified by PRAGMA application_id = kApplicationId and
// versioned by PRAGMA user_version. Migration i takes a file from version
// i-1 to i; all pending steps run in one transaction, so an interrupted or
// failing upgrade leaves the file at its old version.
#pragma once

#include "store/sqlite_db.h"

#include <string_view>
#include <vector>

namespace stc::store {

inline constexpr int32_t kApplicationId = 0x53544350; // "STCP"
inline constexpr int kSchemaVersion = 2;

struct Migration {
    int toVersion;
    std::string_view sql;
};

// The built-in steps, toVersion 1..kSchemaVersion in order.
const std::vector<Migration>& builtinMigrations();

// Brings `db` from its user_version to the last step's version. Foreign keys
// are switched off around the transaction (table rebuilds need that) and
// checked with PRAGMA foreign_key_check before the commit. Throws on failure
// (nothing changed). Exposed for tests of the mechanism.
void applyMigrations(sql::Db& db, const std::vector<Migration>& steps);

} // namespace stc::store

// hub/migrations.h — the gateway's schema, one numbered .sql file per change
// and per engine (hub/migrations/sqlite/, hub/migrations/postgresql/),
// compiled in by CMake. Append only: a shipped migration is never edited; a
// new one gets the next number in both folders (docs/hub-storage.md).
#pragma once

#include <vector>

#include "core/db.h"

namespace relais::hub {

// The SQLite store's migrations, applied with core::Migrate (PRAGMA user_version).
const std::vector<core::Migration>& SqliteMigrations();
// The PostgreSQL store's migrations, applied by the store under an advisory
// lock (table hub_schema holds the version).
const std::vector<core::Migration>& PostgresMigrations();

}  // namespace relais::hub

// The schema of a crashgrid database and its migrations. Internal to src/store/.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>

namespace cg::schema {

// "CRGD": marks a SQLite file as crashgrid's, so that a foreign database is recognised before anything
// touches it.
constexpr uint32_t kApplicationId = 0x43524744;

// Creates the schema in a fresh (empty) file in one transaction, then switches it to WAL.
bool CreateSchema(sqlite3* db, std::string* why);

// Brings a crashgrid file of an older schema to kStoreSchemaVersion in one transaction, so that a killed
// process or a full disk part-way leaves it whole at its old version.
bool Migrate(sqlite3* db, std::string* why);

// The ids a file older than v5 gives its runs and trials, as SQL expressions over `runs` and `trials`: the v5
// migration stores exactly these, and a read-only reader of an older file computes them.
constexpr const char kLegacyRunOrigin[] = "printf('v4-%.6f-%d', created_at, id)";
constexpr const char kLegacyTrialUid[] =
    "printf('v4-%.6f-%d', (SELECT created_at FROM runs WHERE runs.id = trials.run_id), trials.id)";

}  // namespace cg::schema

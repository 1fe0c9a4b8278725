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

}  // namespace cg::schema

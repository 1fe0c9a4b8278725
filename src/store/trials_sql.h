// Reading trial rows, shared by the store's files that select from `trials`. Internal to src/store/.
#pragma once

#include <cstdint>
#include <string>

#include "store/sql.h"
#include "store/store.h"

namespace cg {

// What ReadTrial reads after "id" from a file of schema `version`. Without `full` the tails and the report,
// most of the bytes, are replaced by '' and NULL: tables and statistics need neither.
std::string TrialSelectColumns(bool full, int64_t version);

// Reads "SELECT id, <TrialSelectColumns>".
bool ReadTrial(const sql::Stmt& s, StoredTrial* t, std::string* why);

// The INSERT of one trial row, and its bindings; `uid` "" makes a fresh one.
std::string InsertTrialSql();
void BindTrial(sql::Stmt* s, int64_t run_id, const Cell& cell, const std::string& key, int repetition,
               const TrialResult& r, const std::string& uid);

}  // namespace cg

// The store's SQL toolkit, shared by its files and by no one else: prepared statements, one-shot
// statements, PRAGMA reads and JSON columns. Internal to src/store/.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "trial/trial.h"

namespace cg::sql {

using nlohmann::json;

// Workload output and thread names are arbitrary bytes; JSON text must be UTF-8, so invalid sequences are
// replaced rather than letting one odd byte make a trial unstorable.
inline std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using DbPtr = std::unique_ptr<sqlite3, DbCloser>;

// A prepared statement, finalized when it goes out of scope. Columns and parameters are 0- and 1-based as in
// the C API.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) : db_(db) {
    rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr);
  }
  ~Stmt() { sqlite3_finalize(stmt_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  bool ok() const { return rc_ == SQLITE_OK || rc_ == SQLITE_ROW || rc_ == SQLITE_DONE; }
  int rc() const { return rc_; }

  void Bind(int i, int64_t v) { Check(sqlite3_bind_int64(stmt_, i, v)); }
  void Bind(int i, int v) { Check(sqlite3_bind_int64(stmt_, i, v)); }
  void Bind(int i, bool v) { Check(sqlite3_bind_int64(stmt_, i, v ? 1 : 0)); }
  void Bind(int i, double v) { Check(sqlite3_bind_double(stmt_, i, v)); }
  // Explicit length: output tails may hold NUL bytes.
  void Bind(int i, const std::string& v) {
    Check(sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
  }
  void BindNull(int i) { Check(sqlite3_bind_null(stmt_, i)); }

  // SQLITE_ROW, SQLITE_DONE or an error code (kept in rc()).
  int Step() {
    if (!ok()) return rc_;
    rc_ = sqlite3_step(stmt_);
    return rc_;
  }

  int64_t Int(int c) const { return sqlite3_column_int64(stmt_, c); }
  double Double(int c) const { return sqlite3_column_double(stmt_, c); }
  bool IsNull(int c) const { return sqlite3_column_type(stmt_, c) == SQLITE_NULL; }
  std::string Text(int c) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, c));
    return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, c))) : std::string();
  }

  // The text without a copy: valid until the next Step, Reset or a conversion of the same column.
  std::string_view TextView(int c) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, c));
    return p ? std::string_view(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, c))) : std::string_view();
  }

  // Ready to run again with new bindings.
  void Reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    if (rc_ == SQLITE_ROW || rc_ == SQLITE_DONE) rc_ = SQLITE_OK;
  }

  int extended_rc() const { return sqlite3_extended_errcode(db_); }

 private:
  void Check(int rc) {
    if (rc != SQLITE_OK && ok()) rc_ = rc;
  }
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  int rc_ = SQLITE_OK;
};


// 128 random bits as 32 hex digits: the stable id of a fresh run (runs.origin) or trial (trials.uid).
std::string NewStoreUid();

// Runs one or more statements without results; on failure *why is SQLite's message.
bool Exec(sqlite3* db, const char* sql, std::string* why);

// Reads one integer-valued PRAGMA.
bool PragmaInt(sqlite3* db, const char* sql, int64_t* out, std::string* why);

// Parses a JSON column; nlohmann throws on malformed text, which here means a damaged file.
bool ParseJson(const std::string& text, const char* column, int64_t row, json* out, std::string* why);

template <typename T>
bool JsonColumn(const Stmt& s, int c, const char* column, int64_t row, T* out, std::string* why) {
  json j;
  if (!ParseJson(s.Text(c), column, row, &j, why)) return false;
  try {
    j.get_to(*out);
    return true;
  } catch (const json::exception& e) {
    *why = fmt::format("column '{}' of row {} has an unexpected shape ({})", column, row, e.what());
    return false;
  }
}


// The cell as a JSON object in axis order (nlohmann's ordered_json keeps insertion order), so SQL users can
// write json_extract(cell, '$.threads').
std::string CellJson(const Cell& cell);
bool ParseCellJson(const std::string& text, int64_t row, Cell* cell, std::string* why);

}  // namespace cg::sql

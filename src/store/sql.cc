#include "store/sql.h"

#include <mutex>
#include <random>

namespace cg::sql {

std::string NewStoreUid() {
  // Seeded once from the kernel's entropy: cheap per trial, and two processes (or machines) never share a stream.
  static std::mutex mu;
  static std::mt19937_64 rng([] {
    std::random_device rd;
    return (uint64_t{rd()} << 32) ^ rd();
  }());
  std::lock_guard<std::mutex> lock(mu);
  return fmt::format("{:016x}{:016x}", rng(), rng());
}

bool Exec(sqlite3* db, const char* sql, std::string* why) {
  char* msg = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &msg) == SQLITE_OK) return true;
  *why = msg ? msg : sqlite3_errmsg(db);
  sqlite3_free(msg);
  return false;
}

// Reads one integer-valued PRAGMA.
bool PragmaInt(sqlite3* db, const char* sql, int64_t* out, std::string* why) {
  Stmt s(db, sql);
  if (s.Step() != SQLITE_ROW) {
    *why = sqlite3_errmsg(db);
    return false;
  }
  *out = s.Int(0);
  return true;
}

bool ParseJson(const std::string& text, const char* column, int64_t row, json* out, std::string* why) {
  try {
    *out = json::parse(text);
    return true;
  } catch (const json::exception& e) {
    *why = fmt::format("column '{}' of row {} is not valid JSON ({})", column, row, e.what());
    return false;
  }
}

std::string CellJson(const Cell& cell) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  for (const auto& [name, value] : cell) j[name] = value;
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

bool ParseCellJson(const std::string& text, int64_t row, Cell* cell, std::string* why) {
  cell->clear();
  try {
    auto j = nlohmann::ordered_json::parse(text);
    for (const auto& [name, value] : j.items()) cell->emplace_back(name, value.get<std::string>());
    return true;
  } catch (const nlohmann::ordered_json::exception& e) {
    *why = fmt::format("column 'cell' of row {} is not a JSON object of strings ({})", row, e.what());
    return false;
  }
}


}  // namespace cg::sql

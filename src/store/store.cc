#include "store/store.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iterator>
#include <utility>

#include <fmt/format.h>

#include "trial/trial_json.h"
#include "util/error.h"
#include "util/fd.h"

namespace cg {
namespace {

using nlohmann::json;

// "CRGD": marks a SQLite file as crashgrid's, so that a foreign database is recognised before anything
// touches it.
constexpr uint32_t kApplicationId = 0x43524744;
// How long a writer or reader waits for the other side's lock before giving up. A sweep commits a trial every
// few seconds at most and readers (`table`) are short, so waits are brief; 10 s rides out a slow disk.
constexpr int kBusyTimeoutMs = 10000;

// The first 100 bytes of every SQLite file (https://www.sqlite.org/fileformat.html#the_database_header).
constexpr size_t kHeaderSize = 100;
constexpr char kSqliteMagic[] = "SQLite format 3";  // 16 bytes with its NUL
constexpr size_t kUserVersionOffset = 60;
constexpr size_t kApplicationIdOffset = 68;

const char* const kSchema[] = {
    R"(CREATE TABLE runs (
  id INTEGER PRIMARY KEY,
  created_at REAL NOT NULL,
  argv TEXT NOT NULL,
  command_line TEXT NOT NULL,
  workload TEXT NOT NULL,
  exec_argv TEXT NOT NULL,
  reference_target INTEGER NOT NULL,
  grid TEXT NOT NULL,
  params TEXT NOT NULL,
  runs INTEGER NOT NULL,
  duration_s REAL NOT NULL,
  grace_s REAL NOT NULL,
  capture TEXT NOT NULL,
  crashgrid_version TEXT NOT NULL,
  crashgrid_commit TEXT NOT NULL,
  environment TEXT NOT NULL,
  workload_detail TEXT NOT NULL,
  sweep_key TEXT NOT NULL,
  settings TEXT NOT NULL,
  finished INTEGER NOT NULL
))",
    R"(CREATE TABLE trials (
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES runs(id),
  cell_key TEXT NOT NULL,
  cell TEXT NOT NULL,
  repetition INTEGER NOT NULL,
  outcome TEXT NOT NULL,
  exit_code INTEGER NOT NULL,
  signal INTEGER NOT NULL,
  via_shell INTEGER NOT NULL,
  detail TEXT NOT NULL,
  started_at REAL NOT NULL,
  duration_s REAL NOT NULL,
  time_to_outcome_s REAL NOT NULL,
  iterations INTEGER NOT NULL,
  successes INTEGER NOT NULL,
  errors INTEGER NOT NULL,
  units INTEGER NOT NULL,
  units_name TEXT NOT NULL,
  workload_seconds REAL NOT NULL,
  error_buckets TEXT NOT NULL,
  phases TEXT NOT NULL,
  threads TEXT NOT NULL,
  stdout_tail TEXT NOT NULL,
  stderr_tail TEXT NOT NULL,
  capture_method TEXT NOT NULL,
  signature TEXT NOT NULL,
  report TEXT,
  setup_s REAL NOT NULL DEFAULT 0,
  teardown_s REAL NOT NULL DEFAULT 0,
  UNIQUE (run_id, cell_key, repetition)
))",
    "CREATE INDEX trials_run_id ON trials(run_id)",
    "CREATE INDEX trials_signature ON trials(signature)",
    "CREATE INDEX runs_sweep_key ON runs(sweep_key)",
};

// What turns a database of version N into N + 1, at index N - 1. Columns are added at the end of their table,
// where a fresh schema has them too, so migrated and new files read the same.
const char* const kMigrations[] = {
    // v1 -> v2: set-up and tear-down times of built-in workloads' trials; 0 (unknown) for older trials.
    "ALTER TABLE trials ADD COLUMN setup_s REAL NOT NULL DEFAULT 0;"
    "ALTER TABLE trials ADD COLUMN teardown_s REAL NOT NULL DEFAULT 0;",
};
static_assert(std::size(kMigrations) == kStoreSchemaVersion - 1, "one migration per schema version step");

// Workload output and thread names are arbitrary bytes; JSON text must be UTF-8, so invalid sequences are
// replaced rather than letting one odd byte make a trial unstorable.
std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

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

  int extended_rc() const { return sqlite3_extended_errcode(db_); }

 private:
  void Check(int rc) {
    if (rc != SQLITE_OK && ok()) rc_ = rc;
  }
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  int rc_ = SQLITE_OK;
};

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

uint32_t BigEndian32(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

std::string NewerMessage(const std::string& path, int64_t version) {
  return fmt::format(
      "database '{}' was written by a newer crashgrid (schema v{}, this build reads v{}): upgrade crashgrid",
      path, version, kStoreSchemaVersion);
}

std::string ForeignMessage(const std::string& path, const std::string& what) {
  return fmt::format("'{}' is {}, not a crashgrid database (it was left untouched; give the file a sweep wrote, "
                     "or a new path for --db)",
                     path, what);
}

enum class HeaderKind { kEmpty, kCrashgrid, kForeign };

// Classifies an existing file from its first bytes with plain read(2): nothing about this opens the file
// through SQLite, so a foreign database cannot be touched (no -wal/-shm/-journal, no recovery of someone
// else's hot journal). `version` is the header's user_version when it is a crashgrid file.
bool ReadHeader(const std::string& path, HeaderKind* kind, int64_t* version, std::string* err, int* exit_code) {
  ScopedFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.is_open()) {
    *err = fmt::format("cannot open database '{}': {} (check the path and its permissions)", path,
                       std::strerror(errno));
    *exit_code = kExitDatabase;
    return false;
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    *err = fmt::format("database '{}' is not a regular file (pass --db the path of a file)", path);
    *exit_code = kExitDatabase;
    return false;
  }
  unsigned char header[kHeaderSize];
  size_t got = 0;
  while (got < kHeaderSize) {
    ssize_t r = ::read(fd.get(), header + got, kHeaderSize - got);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      *err = fmt::format("cannot read database '{}': {}", path, std::strerror(errno));
      *exit_code = kExitDatabase;
      return false;
    }
    if (r == 0) break;
    got += static_cast<size_t>(r);
  }
  if (got == 0) {
    *kind = HeaderKind::kEmpty;
    return true;
  }
  if (got < kHeaderSize || std::memcmp(header, kSqliteMagic, sizeof(kSqliteMagic)) != 0) {
    *kind = HeaderKind::kForeign;
    *err = ForeignMessage(path, "not an SQLite file");
    *exit_code = kExitDatabase;
    return true;
  }
  if (BigEndian32(header + kApplicationIdOffset) != kApplicationId) {
    *kind = HeaderKind::kForeign;
    *err = ForeignMessage(path, "an SQLite database of another program");
    *exit_code = kExitDatabase;
    return true;
  }
  *kind = HeaderKind::kCrashgrid;
  *version = BigEndian32(header + kUserVersionOffset);
  return true;
}

// Creates the schema in a fresh (empty) file in one transaction, then switches it to WAL. Done in the default
// rollback-journal mode so that the application_id reaches the main file's header at commit, where
// ReadHeader looks for it.
bool CreateSchema(sqlite3* db, std::string* why) {
  if (!Exec(db, "BEGIN IMMEDIATE", why)) return false;
  // Another process may have created it between our check and our lock.
  int64_t app_id = 0;
  if (!PragmaInt(db, "PRAGMA application_id", &app_id, why)) {
    std::string ignored;
    Exec(db, "ROLLBACK", &ignored);
    return false;
  }
  if (app_id == kApplicationId) return Exec(db, "COMMIT", why);
  bool ok = Exec(db, fmt::format("PRAGMA application_id = {}", kApplicationId).c_str(), why) &&
            Exec(db, fmt::format("PRAGMA user_version = {}", kStoreSchemaVersion).c_str(), why);
  for (const char* sql : kSchema) ok = ok && Exec(db, sql, why);
  ok = ok && Exec(db, "COMMIT", why);
  if (!ok) {
    std::string ignored;
    Exec(db, "ROLLBACK", &ignored);
    return false;
  }
  // WAL: readers (`table`, `report`) never block the sweep's commits and vice versa. The mode is persistent.
  return Exec(db, "PRAGMA journal_mode = WAL", why);
}

const char kRunColumns[] =
    "created_at, argv, command_line, workload, exec_argv, reference_target, grid, params, runs, duration_s, "
    "grace_s, capture, crashgrid_version, crashgrid_commit, environment, workload_detail, sweep_key, settings, "
    "finished";

// Binds every RunRecord field except id to parameters 1..19 (kRunColumns order).
void BindRun(Stmt* s, const RunRecord& r) {
  s->Bind(1, r.created_at);
  s->Bind(2, Dump(json(r.argv)));
  s->Bind(3, r.command_line);
  s->Bind(4, r.workload);
  s->Bind(5, Dump(json(r.exec_argv)));
  s->Bind(6, r.reference_target);
  s->Bind(7, Dump(json(r.grid)));
  s->Bind(8, Dump(json(r.params)));
  s->Bind(9, r.runs);
  s->Bind(10, r.duration_s);
  s->Bind(11, r.grace_s);
  s->Bind(12, r.capture);
  s->Bind(13, r.crashgrid_version);
  s->Bind(14, r.crashgrid_commit);
  s->Bind(15, Dump(r.environment));
  s->Bind(16, r.workload_detail);
  s->Bind(17, r.sweep_key);
  s->Bind(18, Dump(r.settings));
  s->Bind(19, r.finished);
}

// Parses a JSON column; nlohmann throws on malformed text, which here means a damaged file.
bool ParseJson(const std::string& text, const char* column, int64_t row, json* out, std::string* why) {
  try {
    *out = json::parse(text);
    return true;
  } catch (const json::exception& e) {
    *why = fmt::format("column '{}' of row {} is not valid JSON ({})", column, row, e.what());
    return false;
  }
}

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

// Reads "SELECT id, <kRunColumns>".
bool ReadRun(const Stmt& s, RunRecord* r, std::string* why) {
  *r = RunRecord();
  r->id = s.Int(0);
  r->created_at = s.Double(1);
  r->command_line = s.Text(3);
  r->workload = s.Text(4);
  r->reference_target = s.Int(6) != 0;
  r->runs = static_cast<int>(s.Int(9));
  r->duration_s = s.Double(10);
  r->grace_s = s.Double(11);
  r->capture = s.Text(12);
  r->crashgrid_version = s.Text(13);
  r->crashgrid_commit = s.Text(14);
  r->workload_detail = s.Text(16);
  r->sweep_key = s.Text(17);
  r->finished = s.Int(19) != 0;
  return JsonColumn(s, 2, "argv", r->id, &r->argv, why) && JsonColumn(s, 5, "exec_argv", r->id, &r->exec_argv, why) &&
         JsonColumn(s, 7, "grid", r->id, &r->grid, why) && JsonColumn(s, 8, "params", r->id, &r->params, why) &&
         ParseJson(s.Text(15), "environment", r->id, &r->environment, why) &&
         ParseJson(s.Text(18), "settings", r->id, &r->settings, why);
}

const char kTrialColumns[] =
    "run_id, cell_key, cell, repetition, outcome, exit_code, signal, via_shell, detail, started_at, duration_s, "
    "time_to_outcome_s, iterations, successes, errors, units, units_name, workload_seconds, error_buckets, "
    "phases, threads, stdout_tail, stderr_tail, capture_method, signature, report, setup_s, teardown_s";

// What ReadTrial reads after "id" from a file of schema `version`. Without `full` the tails and the report,
// most of the bytes, are replaced by '' and NULL: tables and statistics need neither.
std::string TrialSelectColumns(bool full, int64_t version) {
  return fmt::format(
      "run_id, cell_key, cell, repetition, outcome, exit_code, signal, via_shell, detail, started_at, duration_s, "
      "time_to_outcome_s, iterations, successes, errors, units, units_name, workload_seconds, error_buckets, "
      "phases, threads, {}, capture_method, signature, {}, {}",
      full ? "stdout_tail, stderr_tail" : "'', ''", full ? "report" : "NULL",
      version >= 2 ? "setup_s, teardown_s" : "0.0, 0.0" /* v1 had neither: unknown */);
}

// Brings a crashgrid file of an older schema to kStoreSchemaVersion in one transaction, so that a killed
// process or a full disk part-way leaves it whole at its old version.
bool Migrate(sqlite3* db, std::string* why) {
  if (!Exec(db, "BEGIN IMMEDIATE", why)) return false;
  auto rollback = [&] {
    std::string ignored;
    Exec(db, "ROLLBACK", &ignored);
    return false;
  };
  // Read again under the lock: another writer may have migrated it since Open looked.
  int64_t version = 0;
  if (!PragmaInt(db, "PRAGMA user_version", &version, why)) return rollback();
  if (version >= kStoreSchemaVersion) return Exec(db, "COMMIT", why) || rollback();
  for (int64_t v = std::max<int64_t>(version, 1); v < kStoreSchemaVersion; ++v)
    if (!Exec(db, kMigrations[v - 1], why)) return rollback();
  if (!Exec(db, fmt::format("PRAGMA user_version = {}", kStoreSchemaVersion).c_str(), why)) return rollback();
  return Exec(db, "COMMIT", why) || rollback();
}

// The cell as a JSON object in axis order (nlohmann's ordered_json keeps insertion order), so SQL users can
// write json_extract(cell, '$.threads').
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

// Reads "SELECT id, <TrialSelectColumns>".
bool ReadTrial(const Stmt& s, StoredTrial* t, std::string* why) {
  *t = StoredTrial();
  t->id = s.Int(0);
  t->run_id = s.Int(1);
  t->cell_key = s.Text(2);
  t->repetition = static_cast<int>(s.Int(4));
  TrialResult& r = t->result;
  if (!ParseOutcome(s.Text(5), &r.outcome)) {
    *why = fmt::format("trial {} has an unknown outcome '{}'", t->id, s.Text(5));
    return false;
  }
  r.exit_code = static_cast<int>(s.Int(6));
  r.signal = static_cast<int>(s.Int(7));
  r.via_shell = s.Int(8) != 0;
  r.detail = s.Text(9);
  r.started_at = s.Double(10);
  r.duration_s = s.Double(11);
  r.time_to_outcome_s = s.Double(12);
  r.iterations = s.Int(13);
  r.successes = s.Int(14);
  r.errors = s.Int(15);
  r.units = s.Int(16);
  r.units_name = s.Text(17);
  r.workload_seconds = s.Double(18);
  r.stdout_tail = s.Text(22);
  r.stderr_tail = s.Text(23);
  r.capture_method = s.Text(24);
  r.signature = s.Text(25);
  r.setup_s = s.Double(27);
  r.teardown_s = s.Double(28);
  if (!ParseCellJson(s.Text(3), t->id, &t->cell, why) ||
      !JsonColumn(s, 19, "error_buckets", t->id, &r.error_buckets, why) ||
      !JsonColumn(s, 20, "phases", t->id, &r.phases, why) || !JsonColumn(s, 21, "threads", t->id, &r.threads, why))
    return false;
  if (!s.IsNull(26)) {
    CrashReport report;
    if (!JsonColumn(s, 26, "report", t->id, &report, why)) return false;
    r.report = std::move(report);
  }
  return true;
}

}  // namespace

Store::~Store() {
  if (db_) sqlite3_close_v2(db_);
}

std::unique_ptr<Store> Store::Open(const std::string& path, Mode mode, std::string* err, int* exit_code) {
  *exit_code = kExitDatabase;
  struct stat st;
  bool exists = ::stat(path.c_str(), &st) == 0;
  if (!exists && errno != ENOENT) {
    *err = fmt::format("cannot open database '{}': {} (check the path and its permissions)", path,
                       std::strerror(errno));
    return nullptr;
  }
  if (!exists && mode != Mode::kCreate) {
    *err = fmt::format("database '{}' does not exist (run a sweep with --db {} first)", path, path);
    return nullptr;
  }

  HeaderKind kind = HeaderKind::kEmpty;
  int64_t header_version = 0;
  if (exists) {
    if (!ReadHeader(path, &kind, &header_version, err, exit_code)) return nullptr;
    if (kind == HeaderKind::kForeign) return nullptr;
    if (kind == HeaderKind::kCrashgrid && header_version > kStoreSchemaVersion) {
      *err = NewerMessage(path, header_version);
      return nullptr;
    }
    if (kind == HeaderKind::kEmpty && mode != Mode::kCreate) {
      *err = fmt::format("database '{}' is empty, not a crashgrid database (run a sweep with --db {} first)", path,
                         path);
      return nullptr;
    }
  }

  int flags = SQLITE_OPEN_NOMUTEX;  // each Store is used by one thread at a time
  if (mode == Mode::kReadOnly) {
    flags |= SQLITE_OPEN_READONLY;
  } else {
    flags |= SQLITE_OPEN_READWRITE;
    if (mode == Mode::kCreate) flags |= SQLITE_OPEN_CREATE;
  }
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  DbPtr db(raw);
  auto fail = [&](const std::string& what) -> std::unique_ptr<Store> {
    *err = fmt::format("cannot open database '{}': {}", path, what);
    *exit_code = kExitDatabase;
    return nullptr;
  };
  if (rc != SQLITE_OK) return fail(db ? sqlite3_errmsg(db.get()) : sqlite3_errstr(rc));
  sqlite3_extended_result_codes(db.get(), 1);
  sqlite3_busy_timeout(db.get(), kBusyTimeoutMs);

  std::string why;
  if (kind == HeaderKind::kEmpty && !CreateSchema(db.get(), &why)) return fail(why);

  // Re-check through SQLite: the header may be stale for a file whose last writes are still in its WAL.
  int64_t app_id = 0, version = 0;
  if (!PragmaInt(db.get(), "PRAGMA application_id", &app_id, &why) ||
      !PragmaInt(db.get(), "PRAGMA user_version", &version, &why))
    return fail(why);
  if (app_id != kApplicationId) {
    *err = ForeignMessage(path, "an SQLite database of another program");
    return nullptr;
  }
  if (version > kStoreSchemaVersion) {
    *err = NewerMessage(path, version);
    return nullptr;
  }
  if (version < 1) return fail("its schema version is missing (the file is damaged; run the sweep into a new --db)");
  if (mode != Mode::kReadOnly && version < kStoreSchemaVersion) {
    if (!Migrate(db.get(), &why)) {
      return fail(fmt::format("cannot upgrade it from schema v{} to v{}: {} (it was left at v{}; open it read-only "
                              "with `crashgrid table`, or sweep into a new --db)",
                              version, kStoreSchemaVersion, why, version));
    }
    if (!PragmaInt(db.get(), "PRAGMA user_version", &version, &why)) return fail(why);
    if (version > kStoreSchemaVersion) {
      *err = NewerMessage(path, version);
      return nullptr;
    }
  }

  if (mode != Mode::kReadOnly) {
    // FULL rather than NORMAL: in WAL mode NORMAL already survives a killed process (commits sit in the OS
    // page cache), but not a power loss or a kernel panic, and a GPU driver that fails hard can take the
    // machine down with it (Xid errors, panics). One fsync per trial costs milliseconds against trials of
    // seconds, so every committed trial also survives the machine.
    if (!Exec(db.get(), "PRAGMA synchronous = FULL", &why) || !Exec(db.get(), "PRAGMA foreign_keys = ON", &why))
      return fail(why);
  }

  std::unique_ptr<Store> store(new Store());
  store->db_ = db.release();
  store->path_ = path;
  store->version_ = version;
  return store;
}

bool Store::InsertRun(RunRecord* run, std::string* err) {
  Stmt s(db_, fmt::format("INSERT INTO runs ({}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", kRunColumns).c_str());
  BindRun(&s, *run);
  if (s.Step() != SQLITE_DONE) {
    *err = fmt::format("cannot record the run in '{}': {}", path_, sqlite3_errmsg(db_));
    return false;
  }
  run->id = sqlite3_last_insert_rowid(db_);
  return true;
}

bool Store::UpdateRun(const RunRecord& run, std::string* err) {
  Stmt s(db_,
         "UPDATE runs SET created_at=?1, argv=?2, command_line=?3, workload=?4, exec_argv=?5, reference_target=?6, "
         "grid=?7, params=?8, runs=?9, duration_s=?10, grace_s=?11, capture=?12, crashgrid_version=?13, "
         "crashgrid_commit=?14, environment=?15, workload_detail=?16, sweep_key=?17, settings=?18, finished=?19 "
         "WHERE id=?20");
  BindRun(&s, run);
  s.Bind(20, run.id);
  if (s.Step() != SQLITE_DONE) {
    *err = fmt::format("cannot update run {} in '{}': {}", run.id, path_, sqlite3_errmsg(db_));
    return false;
  }
  if (sqlite3_changes(db_) != 1) {
    *err = fmt::format("cannot update run {} in '{}': no such run", run.id, path_);
    return false;
  }
  return true;
}

bool Store::LoadRuns(std::vector<RunRecord>* runs, std::string* err) {
  runs->clear();
  Stmt s(db_, fmt::format("SELECT id, {} FROM runs ORDER BY id", kRunColumns).c_str());
  int rc;
  std::string why;
  while ((rc = s.Step()) == SQLITE_ROW) {
    RunRecord r;
    if (!ReadRun(s, &r, &why)) {
      *err = fmt::format("cannot read runs from '{}': {}", path_, why);
      return false;
    }
    runs->push_back(std::move(r));
  }
  if (rc != SQLITE_DONE) {
    *err = fmt::format("cannot read runs from '{}': {}", path_, sqlite3_errmsg(db_));
    return false;
  }
  return true;
}

bool Store::LoadRun(int64_t id, RunRecord* run, std::string* err) {
  Stmt s(db_, fmt::format("SELECT id, {} FROM runs WHERE id = ?1", kRunColumns).c_str());
  s.Bind(1, id);
  int rc = s.Step();
  std::string why;
  if (rc == SQLITE_ROW) {
    if (ReadRun(s, run, &why)) return true;
    *err = fmt::format("cannot read run {} from '{}': {}", id, path_, why);
    return false;
  }
  if (rc == SQLITE_DONE)
    *err = fmt::format("no run {} in '{}'", id, path_);
  else
    *err = fmt::format("cannot read run {} from '{}': {}", id, path_, sqlite3_errmsg(db_));
  return false;
}

bool Store::FindRunBySweepKey(const std::string& key, RunRecord* run, bool* found, std::string* err) {
  *found = false;
  Stmt s(db_, fmt::format("SELECT id, {} FROM runs WHERE sweep_key = ?1 ORDER BY id DESC LIMIT 1", kRunColumns)
                  .c_str());
  s.Bind(1, key);
  int rc = s.Step();
  std::string why;
  if (rc == SQLITE_DONE) return true;
  if (rc == SQLITE_ROW) {
    if (!ReadRun(s, run, &why)) {
      *err = fmt::format("cannot read runs from '{}': {}", path_, why);
      return false;
    }
    *found = true;
    return true;
  }
  *err = fmt::format("cannot read runs from '{}': {}", path_, sqlite3_errmsg(db_));
  return false;
}

bool Store::InsertTrial(int64_t run_id, const Cell& cell, int repetition, const TrialResult& r, int64_t* id,
                        std::string* err) {
  // Outside an explicit transaction each statement is its own transaction: committed when Step returns.
  Stmt s(db_,
         fmt::format("INSERT INTO trials ({}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                     kTrialColumns)
             .c_str());
  std::string key = CellKey(cell);
  s.Bind(1, run_id);
  s.Bind(2, key);
  s.Bind(3, CellJson(cell));
  s.Bind(4, repetition);
  s.Bind(5, std::string(OutcomeName(r.outcome)));
  s.Bind(6, r.exit_code);
  s.Bind(7, r.signal);
  s.Bind(8, r.via_shell);
  s.Bind(9, r.detail);
  s.Bind(10, r.started_at);
  s.Bind(11, r.duration_s);
  s.Bind(12, r.time_to_outcome_s);
  s.Bind(13, r.iterations);
  s.Bind(14, r.successes);
  s.Bind(15, r.errors);
  s.Bind(16, r.units);
  s.Bind(17, r.units_name);
  s.Bind(18, r.workload_seconds);
  s.Bind(19, Dump(json(r.error_buckets)));
  s.Bind(20, Dump(json(r.phases)));
  s.Bind(21, Dump(json(r.threads)));
  s.Bind(22, r.stdout_tail);
  s.Bind(23, r.stderr_tail);
  s.Bind(24, r.capture_method);
  s.Bind(25, r.signature);
  if (r.report)
    s.Bind(26, Dump(json(*r.report)));
  else
    s.BindNull(26);
  s.Bind(27, r.setup_s);
  s.Bind(28, r.teardown_s);
  if (s.Step() != SQLITE_DONE) {
    if (s.extended_rc() == SQLITE_CONSTRAINT_UNIQUE) {
      *err = fmt::format("'{}' already holds a trial for run {}, cell '{}', repetition {} (not recorded twice)",
                         path_, run_id, key, repetition);
    } else if (s.extended_rc() == SQLITE_CONSTRAINT_FOREIGNKEY) {
      *err = fmt::format("cannot record a trial in '{}': there is no run {}", path_, run_id);
    } else {
      *err = fmt::format("cannot record a trial in '{}': {}", path_, sqlite3_errmsg(db_));
    }
    return false;
  }
  if (id) *id = sqlite3_last_insert_rowid(db_);
  return true;
}

bool Store::LoadTrials(int64_t run_id, bool full, std::vector<StoredTrial>* trials, std::string* err) {
  trials->clear();
  Stmt s(db_, fmt::format("SELECT id, {} FROM trials WHERE run_id = ?1 ORDER BY id", TrialSelectColumns(full, version_))
                  .c_str());
  s.Bind(1, run_id);
  int rc;
  std::string why;
  while ((rc = s.Step()) == SQLITE_ROW) {
    StoredTrial t;
    if (!ReadTrial(s, &t, &why)) {
      *err = fmt::format("cannot read trials from '{}': {}", path_, why);
      return false;
    }
    trials->push_back(std::move(t));
  }
  if (rc != SQLITE_DONE) {
    *err = fmt::format("cannot read trials from '{}': {}", path_, sqlite3_errmsg(db_));
    return false;
  }
  return true;
}

bool Store::LoadTrial(int64_t trial_id, StoredTrial* trial, std::string* err) {
  Stmt s(db_, fmt::format("SELECT id, {} FROM trials WHERE id = ?1", TrialSelectColumns(true, version_)).c_str());
  s.Bind(1, trial_id);
  int rc = s.Step();
  std::string why;
  if (rc == SQLITE_ROW) {
    if (ReadTrial(s, trial, &why)) return true;
    *err = fmt::format("cannot read trial {} from '{}': {}", trial_id, path_, why);
    return false;
  }
  if (rc == SQLITE_DONE)
    *err = fmt::format("no trial {} in '{}'", trial_id, path_);
  else
    *err = fmt::format("cannot read trial {} from '{}': {}", trial_id, path_, sqlite3_errmsg(db_));
  return false;
}

}  // namespace cg

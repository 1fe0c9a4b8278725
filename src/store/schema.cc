#include "store/schema.h"

#include <iterator>

#include <fmt/format.h>

#include "store/sql.h"
#include "store/store.h"

namespace cg::schema {
namespace {

using sql::Exec;
using sql::PragmaInt;

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
  finished INTEGER NOT NULL,
  labels TEXT NOT NULL DEFAULT '{}',
  cwd TEXT NOT NULL DEFAULT '',
  env TEXT NOT NULL DEFAULT '{}',
  identity TEXT NOT NULL DEFAULT '',
  shard TEXT NOT NULL DEFAULT '',
  origin TEXT NOT NULL DEFAULT ''
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
  uid TEXT NOT NULL DEFAULT '',
  gpu_index INTEGER NOT NULL DEFAULT -1,
  gpu_uuid TEXT NOT NULL DEFAULT '',
  UNIQUE (run_id, cell_key, repetition)
))",
    R"(CREATE TABLE cell_verdicts (
  run_id INTEGER NOT NULL REFERENCES runs(id),
  cell_key TEXT NOT NULL,
  rule TEXT NOT NULL,
  verdict TEXT NOT NULL,
  crashes INTEGER NOT NULL,
  evidence INTEGER NOT NULL,
  last_trial_id INTEGER NOT NULL,
  PRIMARY KEY (run_id, cell_key, rule)
))",
    R"(CREATE TABLE run_sources (
  run_id INTEGER NOT NULL REFERENCES runs(id),
  origin TEXT NOT NULL,
  shard TEXT NOT NULL,
  host TEXT NOT NULL,
  PRIMARY KEY (run_id, origin)
))",
    "CREATE INDEX trials_signature ON trials(signature)",
    "CREATE INDEX runs_sweep_key ON runs(sweep_key)",
};

// What turns a database of version N into N + 1, at index N - 1. Indexes are dropped or created where a fresh
// schema has them or not, so migrated and new files have the same indexes. Columns are added at the end of their table,
// where a fresh schema has them too, so migrated and new files read the same.
const char* const kMigrations[] = {
    // v1 -> v2: set-up and tear-down times of built-in workloads' trials; 0 (unknown) for older trials.
    "ALTER TABLE trials ADD COLUMN setup_s REAL NOT NULL DEFAULT 0;"
    "ALTER TABLE trials ADD COLUMN teardown_s REAL NOT NULL DEFAULT 0;",
    // v2 -> v3: trials_run_id(run_id) only repeated the prefix of the UNIQUE (run_id, cell_key, repetition)
    // index, which serves every run_id lookup as well; it cost a B-tree insert per trial.
    "DROP INDEX IF EXISTS trials_run_id;",
    // v3 -> v4: what a run is (labels, the working directory and --env variables of --exec, the identity that
    // decides resuming) and the verdict each stopping rule reached, stored where the rule stopped.
    "ALTER TABLE runs ADD COLUMN labels TEXT NOT NULL DEFAULT '{}';"
    "ALTER TABLE runs ADD COLUMN cwd TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE runs ADD COLUMN env TEXT NOT NULL DEFAULT '{}';"
    "ALTER TABLE runs ADD COLUMN identity TEXT NOT NULL DEFAULT '';"
    "CREATE TABLE cell_verdicts (run_id INTEGER NOT NULL REFERENCES runs(id), cell_key TEXT NOT NULL, "
    "rule TEXT NOT NULL, verdict TEXT NOT NULL, crashes INTEGER NOT NULL, evidence INTEGER NOT NULL, "
    "last_trial_id INTEGER NOT NULL, PRIMARY KEY (run_id, cell_key, rule));",
    // v4 -> v5: fleets. A run's shard ("K/N") and stable origin id, each trial's stable id and GPU, and the runs
    // `crashgrid merge` combined into one (run_sources). Existing runs and trials get the ids a read-only reader
    // of a v4 file computes for them (kLegacyRunOrigin, kLegacyTrialUid), so a file merged before and after its
    // migration is recognised as the same.
    "ALTER TABLE runs ADD COLUMN shard TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE runs ADD COLUMN origin TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE trials ADD COLUMN uid TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE trials ADD COLUMN gpu_index INTEGER NOT NULL DEFAULT -1;"
    "ALTER TABLE trials ADD COLUMN gpu_uuid TEXT NOT NULL DEFAULT '';"
    "UPDATE runs SET origin = printf('v4-%.6f-%d', created_at, id);"
    "UPDATE trials SET uid = printf('v4-%.6f-%d', (SELECT created_at FROM runs WHERE runs.id = trials.run_id), id);"
    "CREATE TABLE run_sources (run_id INTEGER NOT NULL REFERENCES runs(id), origin TEXT NOT NULL, "
    "shard TEXT NOT NULL, host TEXT NOT NULL, PRIMARY KEY (run_id, origin));",
};
static_assert(std::size(kMigrations) == kStoreSchemaVersion - 1, "one migration per schema version step");

}  // namespace

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

}  // namespace cg::schema

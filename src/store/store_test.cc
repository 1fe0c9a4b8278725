#include "store/store.h"

#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <random>
#include <set>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "store/wal_sync.h"
#include "trial/trial_json.h"
#include "util/error.h"
#include "util/test_util.h"

namespace cg {
namespace {

using test_util::Slurp;

namespace fs = std::filesystem;

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("cg_store_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

  std::unique_ptr<Store> MustOpen(const std::string& path, Store::Mode mode) {
    std::string err;
    int code = 0;
    auto store = Store::Open(path, mode, &err, &code);
    EXPECT_TRUE(store) << err;
    return store;
  }

  fs::path dir_;
};


// Every file in a directory with its size and a hash of its bytes (readable when a test fails): a foreign
// file must not change and must gain no -wal/-shm/-journal siblings either.
std::map<std::string, std::string> Snapshot(const fs::path& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    std::string bytes = Slurp(e.path().string());
    out[e.path().filename().string()] =
        std::to_string(bytes.size()) + " bytes, hash " + std::to_string(std::hash<std::string>{}(bytes));
  }
  return out;
}

RunRecord SampleRun() {
  RunRecord r;
  r.created_at = 1763776000.25;
  r.argv = {"crashgrid", "sweep", "--grid", "threads=1..4", "--db", "x.db"};
  r.command_line = "crashgrid sweep --grid threads=1..4 --db x.db";
  r.workload = "reference-race";
  r.exec_argv = {"/bin/sh", "-c", "echo 'hi'"};
  r.reference_target = true;
  r.grid = {{"threads", {"1", "2", "4"}}, {"sessions", {"1", "8"}}};
  r.params = {{"duration", "5s"}, {"mode", "fast"}};
  r.runs = 69;
  r.duration_s = 5;
  r.grace_s = 2.5;
  r.capture = "ptrace";
  r.crashgrid_version = "0.1.0";
  r.crashgrid_commit = "abcdef123456";
  r.environment = {{"host", "box"}, {"nvidia", {{"driver", "550.120"}}}};
  r.workload_detail = "branch A";
  r.sweep_key = "key-1";
  r.settings = {{"until", "sprt"}, {"p0", 0.01}};
  r.finished = false;
  return r;
}

TrialResult SampleCrash() {
  TrialResult r;
  r.outcome = Outcome::kCrashed;
  r.exit_code = 0;
  r.signal = 11;
  r.via_shell = true;
  r.detail = "SIGSEGV";
  r.started_at = 1763776001.5;
  r.duration_s = 3.25;
  r.time_to_outcome_s = 3.125;
  r.iterations = 1234;
  r.successes = 1200;
  r.errors = 34;
  r.units = 99999;
  r.units_name = "frames";
  r.workload_seconds = 3.0;
  r.setup_s = 0.375;
  r.teardown_s = 1.625;
  r.error_buckets = {{"start", "session # failed", 34, "session 9 failed"}};
  r.phases = {{"start", 1234, 1.5, 9.25, 20.0}, {"stop", 1200, 0.5, 2.0, 3.0}};
  r.threads = {{0, 4242, "start", 600, 590, 10}, {1, 4243, "", 634, 610, 24}};
  r.stdout_tail = std::string("out\0with nul\n", 13);
  r.stderr_tail = "err \xff\xfe not utf-8\n";
  r.capture_method = "ptrace";
  CrashReport rep;
  rep.method = "ptrace";
  rep.signal = 11;
  rep.si_code = 1;
  rep.fault_address = 0xffffffffffff0010ull;  // above INT64_MAX: must survive as unsigned
  rep.has_fault_address = true;
  rep.faulting_tid = 4242;
  rep.faulting_thread_name = "videotestsrc2:s";
  ThreadStack ts;
  ts.tid = 4242;
  ts.name = "videotestsrc2:s";
  ts.phase = "start";
  ts.faulting = true;
  ts.frames = {{0x732e71417941, "/usr/lib/libnvcuvid.so.1", "deadbeef", 0x17941, "", 0},
               {0x732e9d316a04, "/usr/lib/libc.so.6", "cafe", 0x116a04, "clone", 0x44}};
  ts.error = "stopped at clone";
  rep.threads = {ts};
  rep.capture_ms = 12.5;
  rep.error = "";
  r.report = rep;
  r.signature = "SIGSEGV/SEGV_MAPERR|wild|libnvcuvid.so.1@0x17941";
  return r;
}

// The schema crashgrid wrote as version 1 (store.cc before v2), verbatim: migration tests start from it.
const char kV1Schema[] = R"(
PRAGMA application_id = 1129465668;
PRAGMA user_version = 1;
CREATE TABLE runs (
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
);
CREATE TABLE trials (
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
  UNIQUE (run_id, cell_key, repetition)
);
CREATE INDEX trials_run_id ON trials(run_id);
CREATE INDEX trials_signature ON trials(signature);
CREATE INDEX runs_sweep_key ON runs(sweep_key);
)";

// A version-1 file as the v1 code left it (schema committed in rollback mode, then WAL), holding one run and
// two trials: a crash with a report, and a clean run. `extra` runs after the rows are in.
void WriteV1Database(const std::string& path, const char* extra = "") {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  auto exec = [&](const std::string& sql) {
    char* msg = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &msg), SQLITE_OK) << (msg ? msg : "") << "\n" << sql;
    sqlite3_free(msg);
  };
  exec(std::string("BEGIN;") + kV1Schema + "COMMIT;");
  exec("PRAGMA journal_mode = WAL");
  exec(R"(INSERT INTO runs VALUES (1, 1763776000.25, '["crashgrid","sweep"]', 'crashgrid sweep', 'reference-race',
          '[]', 1, '[{"name":"threads","values":["1","4"]}]', '{}', 31, 5, 2.5, 'ptrace', '0.1.0', 'abc', '{}',
          '', 'key-1', '{"until":"runs"}', 1))");
  std::string report = nlohmann::json(*SampleCrash().report).dump();
  exec("INSERT INTO trials VALUES (1, 1, 'threads=4', '{\"threads\":\"4\"}', 0, 'crashed', 0, 11, 0, 'SIGSEGV', "
       "1763776001.5, 3.25, 3.125, 1234, 1200, 34, 0, '', 3.0, '[]', '[]', '[]', 'out', 'err', 'ptrace', 'SIG|A', '" +
       report + "')");
  exec("INSERT INTO trials VALUES (2, 1, 'threads=1', '{\"threads\":\"1\"}', 0, 'clean', 0, 0, 0, '', "
       "1763776002.5, 5.5, 5.25, 99, 99, 0, 0, '', 5.0, '[]', '[]', '[]', '', '', 'ptrace', '', NULL)");
  if (*extra) exec(extra);
  sqlite3_close(db);
}

// A version-2 file as the v2 code left it: the v1 file with v2's columns and still the trials_run_id index.
void WriteV2Database(const std::string& path) {
  WriteV1Database(path,
                  "ALTER TABLE trials ADD COLUMN setup_s REAL NOT NULL DEFAULT 0;"
                  "ALTER TABLE trials ADD COLUMN teardown_s REAL NOT NULL DEFAULT 0;"
                  "UPDATE trials SET setup_s = 0.5, teardown_s = 0.75 WHERE id = 2;"
                  "PRAGMA user_version = 2;");
}

// A version-3 file as the v3 code left it: the v2 file without the trials_run_id index.
void WriteV3Database(const std::string& path) {
  WriteV1Database(path,
                  "ALTER TABLE trials ADD COLUMN setup_s REAL NOT NULL DEFAULT 0;"
                  "ALTER TABLE trials ADD COLUMN teardown_s REAL NOT NULL DEFAULT 0;"
                  "DROP INDEX trials_run_id;"
                  "PRAGMA user_version = 3;");
}

// The first column of every row of `sql`, joined by ','.
std::string Query(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) return "(cannot open)";
  sqlite3_stmt* s = nullptr;
  std::string out;
  if (sqlite3_prepare_v2(db, sql, -1, &s, nullptr) == SQLITE_OK) {
    while (sqlite3_step(s) == SQLITE_ROW) {
      if (!out.empty()) out += ",";
      const unsigned char* t = sqlite3_column_text(s, 0);
      out += t ? reinterpret_cast<const char*>(t) : "NULL";
    }
  } else {
    out = std::string("(error: ") + sqlite3_errmsg(db) + ")";
  }
  sqlite3_finalize(s);
  sqlite3_close(db);
  return out;
}

const char kTrialColumnNames[] = "SELECT name FROM pragma_table_info('trials')";
const char kIndexNames[] = "SELECT name FROM sqlite_schema WHERE type = 'index' ORDER BY name";

void ExpectV1TrialsRead(Store* store) {
  std::string err;
  std::vector<StoredTrial> trials;
  ASSERT_TRUE(store->LoadTrials(1, /*full=*/true, &trials, &err)) << err;
  ASSERT_EQ(trials.size(), 2u);
  EXPECT_EQ(trials[0].cell_key, "threads=4");
  EXPECT_EQ(trials[0].result.outcome, Outcome::kCrashed);
  EXPECT_EQ(trials[0].result.signature, "SIG|A");
  EXPECT_EQ(trials[0].result.workload_seconds, 3.0);
  ASSERT_TRUE(trials[0].result.report.has_value());
  EXPECT_EQ(trials[0].result.report->fault_address, 0xffffffffffff0010ull);
  EXPECT_EQ(trials[1].result.outcome, Outcome::kClean);
  for (const auto& t : trials) {
    EXPECT_EQ(t.result.setup_s, 0);  // unknown in v1
    EXPECT_EQ(t.result.teardown_s, 0);
  }
  ASSERT_TRUE(store->LoadTrials(1, /*full=*/false, &trials, &err)) << err;
  ASSERT_EQ(trials.size(), 2u);
  StoredTrial one;
  ASSERT_TRUE(store->LoadTrial(1, &one, &err)) << err;
  EXPECT_EQ(one.result.stdout_tail, "out");
  RunRecord run;
  ASSERT_TRUE(store->LoadRun(1, &run, &err)) << err;
  EXPECT_EQ(run.workload, "reference-race");
}

TEST_F(StoreTest, RoundTripsRunAndTrialWithEveryField) {
  auto store = MustOpen(Path("x.db"), Store::Mode::kCreate);
  ASSERT_TRUE(store);
  RunRecord run = SampleRun();
  std::string err;
  ASSERT_TRUE(store->InsertRun(&run, &err)) << err;
  EXPECT_GT(run.id, 0);

  Cell cell = {{"threads", "4"}, {"sessions", "8"}};
  TrialResult crash = SampleCrash();
  int64_t tid = 0;
  ASSERT_TRUE(store->InsertTrial(run.id, cell, 3, crash, &tid, &err)) << err;
  TrialResult clean;
  clean.outcome = Outcome::kClean;
  int64_t tid2 = 0;
  ASSERT_TRUE(store->InsertTrial(run.id, cell, 4, clean, &tid2, &err)) << err;
  store.reset();

  auto ro = MustOpen(Path("x.db"), Store::Mode::kReadOnly);
  ASSERT_TRUE(ro);
  RunRecord back;
  ASSERT_TRUE(ro->LoadRun(run.id, &back, &err)) << err;
  // Compare through JSON-free field checks so a missed column shows up by name.
  EXPECT_EQ(back.id, run.id);
  EXPECT_EQ(back.created_at, run.created_at);
  EXPECT_EQ(back.argv, run.argv);
  EXPECT_EQ(back.command_line, run.command_line);
  EXPECT_EQ(back.workload, run.workload);
  EXPECT_EQ(back.exec_argv, run.exec_argv);
  EXPECT_EQ(back.reference_target, run.reference_target);
  ASSERT_EQ(back.grid.size(), 2u);
  EXPECT_EQ(back.grid[0].name, "threads");
  EXPECT_EQ(back.grid[0].values, run.grid[0].values);
  EXPECT_EQ(back.grid[1].name, "sessions");
  EXPECT_EQ(back.params, run.params);
  EXPECT_EQ(back.runs, run.runs);
  EXPECT_EQ(back.duration_s, run.duration_s);
  EXPECT_EQ(back.grace_s, run.grace_s);
  EXPECT_EQ(back.capture, run.capture);
  EXPECT_EQ(back.crashgrid_version, run.crashgrid_version);
  EXPECT_EQ(back.crashgrid_commit, run.crashgrid_commit);
  EXPECT_EQ(back.environment, run.environment);
  EXPECT_EQ(back.workload_detail, run.workload_detail);
  EXPECT_EQ(back.sweep_key, run.sweep_key);
  EXPECT_EQ(back.settings, run.settings);
  EXPECT_EQ(back.finished, run.finished);

  std::vector<StoredTrial> trials;
  ASSERT_TRUE(ro->LoadTrials(run.id, /*full=*/true, &trials, &err)) << err;
  ASSERT_EQ(trials.size(), 2u);
  const StoredTrial& t = trials[0];
  EXPECT_EQ(t.id, tid);
  EXPECT_EQ(t.run_id, run.id);
  EXPECT_EQ(t.cell, cell);  // axis order kept, not alphabetical
  EXPECT_EQ(t.cell_key, "threads=4,sessions=8");
  EXPECT_EQ(t.repetition, 3);
  // Every TrialResult field but the non-UTF-8 stderr byte sequence compares equal through its JSON form;
  // stderr is a raw TEXT column and must come back byte for byte.
  EXPECT_EQ(t.result.stdout_tail, crash.stdout_tail);
  EXPECT_EQ(t.result.stderr_tail, crash.stderr_tail);
  TrialResult a = t.result, b = crash;
  a.stderr_tail = b.stderr_tail = "";
  EXPECT_EQ(nlohmann::json(a).dump(), nlohmann::json(b).dump());
  ASSERT_TRUE(t.result.report.has_value());
  EXPECT_EQ(t.result.report->fault_address, 0xffffffffffff0010ull);
  EXPECT_EQ(t.result.report->threads.at(0).frames.at(1).symbol, "clone");
  EXPECT_EQ(t.result.setup_s, 0.375);
  EXPECT_EQ(t.result.teardown_s, 1.625);
  EXPECT_EQ(trials[1].id, tid2);
  EXPECT_EQ(trials[1].result.outcome, Outcome::kClean);
  EXPECT_FALSE(trials[1].result.report.has_value());

  StoredTrial one;
  ASSERT_TRUE(ro->LoadTrial(tid, &one, &err)) << err;
  EXPECT_EQ(one.result.stderr_tail, crash.stderr_tail);
  one.result.stderr_tail = "";
  EXPECT_EQ(nlohmann::json(one.result).dump(), nlohmann::json(a).dump());
}

TEST_F(StoreTest, LoadsTrialsWithoutTailsAndReportsUnlessFull) {
  auto store = MustOpen(Path("x.db"), Store::Mode::kCreate);
  RunRecord run = SampleRun();
  std::string err;
  ASSERT_TRUE(store->InsertRun(&run, &err)) << err;
  ASSERT_TRUE(store->InsertTrial(run.id, {{"threads", "1"}}, 0, SampleCrash(), nullptr, &err)) << err;
  std::vector<StoredTrial> trials;
  ASSERT_TRUE(store->LoadTrials(run.id, /*full=*/false, &trials, &err)) << err;
  ASSERT_EQ(trials.size(), 1u);
  EXPECT_EQ(trials[0].result.stdout_tail, "");
  EXPECT_FALSE(trials[0].result.report.has_value());
  EXPECT_EQ(trials[0].result.signature, SampleCrash().signature);
  EXPECT_EQ(trials[0].result.signal, 11);
  EXPECT_EQ(trials[0].result.setup_s, 0.375);
  EXPECT_EQ(trials[0].result.teardown_s, 1.625);
}

TEST_F(StoreTest, StoresEveryOutcomeByName) {
  auto store = MustOpen(Path("x.db"), Store::Mode::kCreate);
  RunRecord run = SampleRun();
  std::string err;
  ASSERT_TRUE(store->InsertRun(&run, &err)) << err;
  const Outcome all[] = {Outcome::kClean,  Outcome::kCrashed,       Outcome::kHung,
                         Outcome::kFailed, Outcome::kCouldNotStart, Outcome::kOverran};
  for (int i = 0; i < 6; ++i) {
    TrialResult r;
    r.outcome = all[i];
    ASSERT_TRUE(store->InsertTrial(run.id, {{"threads", "1"}}, i, r, nullptr, &err)) << err;
  }
  std::vector<StoredTrial> trials;
  ASSERT_TRUE(store->LoadTrials(run.id, false, &trials, &err)) << err;
  ASSERT_EQ(trials.size(), 6u);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(trials[i].result.outcome, all[i]) << OutcomeName(all[i]);
}

// A sweep draws a trial's uid before the trial runs (its --amplify seed derives from it): the stored uid is that
// one, and a trial given none still gets a fresh one of the same form.
TEST_F(StoreTest, KeepsTheUidChosenBeforeTheTrialRan) {
  auto store = MustOpen(Path("uid.db"), Store::Mode::kCreate);
  RunRecord run = SampleRun();
  std::string err;
  ASSERT_TRUE(store->InsertRun(&run, &err)) << err;
  std::string uid = Store::NewTrialUid();
  EXPECT_EQ(uid.size(), 32u);
  EXPECT_NE(uid, Store::NewTrialUid());
  int64_t id = 0;
  ASSERT_TRUE(store->InsertTrial(run.id, {{"threads", "1"}}, 0, SampleCrash(), &id, &err, uid)) << err;
  ASSERT_TRUE(store->InsertTrial(run.id, {{"threads", "1"}}, 1, SampleCrash(), nullptr, &err)) << err;
  std::vector<StoredTrial> trials;
  ASSERT_TRUE(store->LoadTrials(run.id, false, &trials, &err)) << err;
  ASSERT_EQ(trials.size(), 2u);
  EXPECT_EQ(trials[0].uid, uid);
  EXPECT_EQ(trials[1].uid.size(), 32u);
  EXPECT_NE(trials[1].uid, uid);
}

TEST_F(StoreTest, RefusesASecondTrialForTheSameCellAndRepetition) {
  auto store = MustOpen(Path("x.db"), Store::Mode::kCreate);
  RunRecord run = SampleRun();
  std::string err;
  ASSERT_TRUE(store->InsertRun(&run, &err)) << err;
  Cell cell = {{"threads", "2"}};
  ASSERT_TRUE(store->InsertTrial(run.id, cell, 0, SampleCrash(), nullptr, &err)) << err;
  EXPECT_FALSE(store->InsertTrial(run.id, cell, 0, TrialResult(), nullptr, &err));
  EXPECT_NE(err.find("already holds a trial"), std::string::npos) << err;
  // Another repetition, another cell or another run is fine.
  EXPECT_TRUE(store->InsertTrial(run.id, cell, 1, TrialResult(), nullptr, &err)) << err;
  EXPECT_TRUE(store->InsertTrial(run.id, {{"threads", "3"}}, 0, TrialResult(), nullptr, &err)) << err;
  RunRecord run2 = SampleRun();
  ASSERT_TRUE(store->InsertRun(&run2, &err)) << err;
  EXPECT_TRUE(store->InsertTrial(run2.id, cell, 0, TrialResult(), nullptr, &err)) << err;
  std::vector<StoredTrial> trials;
  ASSERT_TRUE(store->LoadTrials(run.id, false, &trials, &err)) << err;
  ASSERT_EQ(trials.size(), 3u);
  EXPECT_EQ(trials[0].result.outcome, Outcome::kCrashed);  // the refused insert changed nothing
}

TEST_F(StoreTest, RefusesATrialOfAMissingRun) {
  auto store = MustOpen(Path("x.db"), Store::Mode::kCreate);
  std::string err;
  EXPECT_FALSE(store->InsertTrial(77, {}, 0, TrialResult(), nullptr, &err));
  EXPECT_NE(err.find("no run 77"), std::string::npos) << err;
}

TEST_F(StoreTest, LeavesARandomBytesFileUntouched) {
  std::string path = Path("random.db");
  std::string bytes(8192, '\0');
  std::mt19937 rng(42);
  for (auto& c : bytes) c = static_cast<char>(rng());
  std::ofstream(path, std::ios::binary) << bytes;
  auto before = Snapshot(dir_);
  for (auto mode : {Store::Mode::kCreate, Store::Mode::kReadWrite, Store::Mode::kReadOnly}) {
    std::string err;
    int code = 0;
    EXPECT_FALSE(Store::Open(path, mode, &err, &code));
    EXPECT_EQ(code, kExitDatabase);
    EXPECT_NE(err.find("not an SQLite file"), std::string::npos) << err;
    EXPECT_NE(err.find(path), std::string::npos) << err;
  }
  EXPECT_EQ(Snapshot(dir_), before);
}

TEST_F(StoreTest, LeavesAForeignSqliteDatabaseUntouched) {
  std::string path = Path("foreign.db");
  // The riskiest case: a WAL database that its owner still holds open, with commits only in its -wal file.
  // Any SQLite open of it could checkpoint, recover or rewrite the -shm index.
  sqlite3* owner = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &owner), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(owner,
                         "PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0; CREATE TABLE t(x);"
                         "INSERT INTO t VALUES (1); PRAGMA user_version=7;",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  auto before = Snapshot(dir_);
  ASSERT_EQ(before.size(), 3u);  // db, -wal, -shm
  for (auto mode : {Store::Mode::kCreate, Store::Mode::kReadWrite, Store::Mode::kReadOnly}) {
    std::string err;
    int code = 0;
    EXPECT_FALSE(Store::Open(path, mode, &err, &code));
    EXPECT_EQ(code, kExitDatabase);
    EXPECT_NE(err.find("another program"), std::string::npos) << err;
  }
  EXPECT_EQ(Snapshot(dir_), before);
  sqlite3_close(owner);
}

TEST_F(StoreTest, RefusesADatabaseOfANewerSchemaWithoutTouchingIt) {
  std::string path = Path("new.db");
  {
    auto store = MustOpen(path, Store::Mode::kCreate);
    ASSERT_TRUE(store);
  }
  {
    // A future crashgrid bumps user_version; write it in rollback mode so the header carries it.
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    std::string bump = fmt::format("PRAGMA journal_mode=DELETE; PRAGMA user_version={};", kStoreSchemaVersion + 1);
    ASSERT_EQ(sqlite3_exec(db, bump.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }
  auto before = Snapshot(dir_);
  for (auto mode : {Store::Mode::kCreate, Store::Mode::kReadWrite, Store::Mode::kReadOnly}) {
    std::string err;
    int code = 0;
    EXPECT_FALSE(Store::Open(path, mode, &err, &code));
    EXPECT_EQ(code, kExitDatabase);
    EXPECT_NE(err.find(fmt::format("written by a newer crashgrid (schema v{}, this build reads v{}): upgrade crashgrid",
                                   kStoreSchemaVersion + 1, kStoreSchemaVersion)),
              std::string::npos)
        << err;
  }
  EXPECT_EQ(Snapshot(dir_), before);
}

TEST_F(StoreTest, ReadsAVersion1DatabaseReadOnlyAndLeavesItAtVersion1) {
  std::string path = Path("v1.db");
  WriteV1Database(path);
  ASSERT_EQ(Query(path, "PRAGMA user_version"), "1");
  {
    auto ro = MustOpen(path, Store::Mode::kReadOnly);
    ASSERT_TRUE(ro);
    EXPECT_EQ(ro->schema_version(), 1);
    ExpectV1TrialsRead(ro.get());
  }
  EXPECT_EQ(Query(path, "PRAGMA user_version"), "1");
  EXPECT_EQ(Query(path, kTrialColumnNames).find("setup_s"), std::string::npos);
}

TEST_F(StoreTest, MigratesAVersion1DatabaseInPlaceWhenOpenedForWriting) {
  std::string path = Path("v1.db");
  WriteV1Database(path);
  {
    auto fresh = MustOpen(Path("fresh.db"), Store::Mode::kCreate);
    ASSERT_TRUE(fresh);
  }
  for (auto mode : {Store::Mode::kReadWrite, Store::Mode::kCreate}) {
    auto store = MustOpen(path, mode);  // the second open finds it migrated already
    ASSERT_TRUE(store);
    EXPECT_EQ(store->schema_version(), kStoreSchemaVersion);
  }
  EXPECT_EQ(Query(path, "PRAGMA user_version"), std::to_string(kStoreSchemaVersion));
  // The same columns in the same order as a file created at the current version: every reader sees one shape.
  EXPECT_EQ(Query(path, kTrialColumnNames), Query(Path("fresh.db"), kTrialColumnNames));
  EXPECT_NE(Query(path, kTrialColumnNames).find("setup_s,teardown_s"), std::string::npos);
  EXPECT_EQ(Query(path, "SELECT setup_s || '/' || teardown_s FROM trials ORDER BY id"), "0.0/0.0,0.0/0.0");

  auto store = MustOpen(path, Store::Mode::kReadWrite);
  ExpectV1TrialsRead(store.get());
  TrialResult overran;
  overran.outcome = Outcome::kOverran;
  overran.setup_s = 0.25;
  overran.teardown_s = 4.5;
  std::string err;
  int64_t id = 0;
  ASSERT_TRUE(store->InsertTrial(1, {{"threads", "1"}}, 1, overran, &id, &err)) << err;
  store.reset();
  EXPECT_EQ(Query(path, "SELECT outcome FROM trials ORDER BY id"), "crashed,clean,overran");
  auto ro = MustOpen(path, Store::Mode::kReadOnly);
  StoredTrial back;
  ASSERT_TRUE(ro->LoadTrial(id, &back, &err)) << err;
  EXPECT_EQ(back.result.outcome, Outcome::kOverran);
  EXPECT_EQ(back.result.setup_s, 0.25);
  EXPECT_EQ(back.result.teardown_s, 4.5);
}

TEST_F(StoreTest, ReadsAVersion2DatabaseReadOnlyAndLeavesItAtVersion2) {
  std::string path = Path("v2.db");
  WriteV2Database(path);
  {
    auto ro = MustOpen(path, Store::Mode::kReadOnly);
    ASSERT_TRUE(ro);
    EXPECT_EQ(ro->schema_version(), 2);
    std::vector<StoredTrial> trials;
    std::string err;
    ASSERT_TRUE(ro->LoadTrials(1, /*full=*/true, &trials, &err)) << err;
    ASSERT_EQ(trials.size(), 2u);
    EXPECT_EQ(trials[0].result.outcome, Outcome::kCrashed);
    EXPECT_EQ(trials[1].result.setup_s, 0.5);
    EXPECT_EQ(trials[1].result.teardown_s, 0.75);
  }
  EXPECT_EQ(Query(path, "PRAGMA user_version"), "2");
  EXPECT_NE(Query(path, kIndexNames).find("trials_run_id"), std::string::npos);
}

TEST_F(StoreTest, MigratesAVersion2DatabaseByDroppingTheRedundantRunIdIndex) {
  std::string path = Path("v2.db");
  WriteV2Database(path);
  { auto fresh = MustOpen(Path("fresh.db"), Store::Mode::kCreate); }
  ASSERT_NE(Query(path, kIndexNames).find("trials_run_id"), std::string::npos);
  {
    auto store = MustOpen(path, Store::Mode::kReadWrite);
    ASSERT_TRUE(store);
    EXPECT_EQ(store->schema_version(), kStoreSchemaVersion);
    std::vector<StoredTrial> trials;
    std::string err;
    ASSERT_TRUE(store->LoadTrials(1, /*full=*/false, &trials, &err)) << err;
    ASSERT_EQ(trials.size(), 2u);
    EXPECT_EQ(trials[1].result.setup_s, 0.5);  // v2's values kept
    int64_t id = 0;
    ASSERT_TRUE(store->InsertTrial(1, {{"threads", "1"}}, 1, TrialResult{}, &id, &err)) << err;
    EXPECT_FALSE(store->InsertTrial(1, {{"threads", "1"}}, 1, TrialResult{}, &id, &err));  // still unique
  }
  EXPECT_EQ(Query(path, "PRAGMA user_version"), std::to_string(kStoreSchemaVersion));
  EXPECT_EQ(Query(path, kIndexNames).find("trials_run_id"), std::string::npos);
  // The same indexes and columns as a file created at v3.
  EXPECT_EQ(Query(path, kIndexNames), Query(Path("fresh.db"), kIndexNames));
  EXPECT_EQ(Query(path, kTrialColumnNames), Query(Path("fresh.db"), kTrialColumnNames));
  // Trials of a run are still found through an index, not a scan of the table.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* plan = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "EXPLAIN QUERY PLAN SELECT id FROM trials WHERE run_id = 1", -1, &plan, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(plan), SQLITE_ROW);
  std::string detail = reinterpret_cast<const char*>(sqlite3_column_text(plan, 3));
  sqlite3_finalize(plan);
  sqlite3_close(db);
  EXPECT_NE(detail.find("USING COVERING INDEX sqlite_autoindex_trials_1"), std::string::npos) << detail;
}

TEST_F(StoreTest, AMigrationThatFailsPartWayLeavesTheFileWholeAtVersion1) {
  std::string path = Path("v1.db");
  // A damaged v1 file that already has the second column: the first ALTER succeeds, the second fails.
  WriteV1Database(path, "ALTER TABLE trials ADD COLUMN teardown_s REAL");
  std::string err;
  int code = 0;
  EXPECT_FALSE(Store::Open(path, Store::Mode::kReadWrite, &err, &code));
  EXPECT_EQ(code, kExitDatabase);
  EXPECT_NE(err.find(fmt::format("cannot upgrade it from schema v1 to v{}", kStoreSchemaVersion)), std::string::npos)
      << err;
  EXPECT_NE(err.find("duplicate column name: teardown_s"), std::string::npos) << err;
  EXPECT_EQ(Query(path, "PRAGMA user_version"), "1");
  EXPECT_EQ(Query(path, kTrialColumnNames).find("setup_s"), std::string::npos);  // rolled back
  auto ro = MustOpen(path, Store::Mode::kReadOnly);
  ASSERT_TRUE(ro);
  ExpectV1TrialsRead(ro.get());
}

TEST_F(StoreTest, RefusesToOpenAMissingFileUnlessCreating) {
  std::string path = Path("missing.db");
  for (auto mode : {Store::Mode::kReadOnly, Store::Mode::kReadWrite}) {
    std::string err;
    int code = 0;
    EXPECT_FALSE(Store::Open(path, mode, &err, &code));
    EXPECT_EQ(err, "database '" + path + "' does not exist (run a sweep with --db " + path + " first)");
    EXPECT_EQ(code, kExitDatabase);
    EXPECT_FALSE(fs::exists(path));
  }
  auto store = MustOpen(path, Store::Mode::kCreate);
  EXPECT_TRUE(store);
  EXPECT_TRUE(fs::exists(path));
}

TEST_F(StoreTest, ReopensAnExistingDatabaseForWriting) {
  std::string path = Path("x.db");
  RunRecord run = SampleRun();
  std::string err;
  {
    auto store = MustOpen(path, Store::Mode::kCreate);
    ASSERT_TRUE(store->InsertRun(&run, &err)) << err;
  }
  {
    auto store = MustOpen(path, Store::Mode::kCreate);  // kCreate on an existing file keeps it
    run.finished = true;
    run.runs = 31;
    ASSERT_TRUE(store->UpdateRun(run, &err)) << err;
  }
  auto store = MustOpen(path, Store::Mode::kReadWrite);
  std::vector<RunRecord> runs;
  ASSERT_TRUE(store->LoadRuns(&runs, &err)) << err;
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_TRUE(runs[0].finished);
  EXPECT_EQ(runs[0].runs, 31);
  RunRecord missing;
  missing.id = 99;
  EXPECT_FALSE(store->UpdateRun(missing, &err));
  EXPECT_FALSE(store->LoadRun(99, &missing, &err));
  EXPECT_NE(err.find("no run 99"), std::string::npos) << err;
}

TEST_F(StoreTest, ReadOnlyStoreCannotWrite) {
  std::string path = Path("x.db");
  { MustOpen(path, Store::Mode::kCreate); }
  auto ro = MustOpen(path, Store::Mode::kReadOnly);
  RunRecord run = SampleRun();
  std::string err;
  EXPECT_FALSE(ro->InsertRun(&run, &err));
  EXPECT_NE(err.find("readonly"), std::string::npos) << err;
}

TEST_F(StoreTest, FindsTheLatestRunBySweepKey) {
  auto store = MustOpen(Path("x.db"), Store::Mode::kCreate);
  std::string err;
  RunRecord a = SampleRun(), b = SampleRun(), c = SampleRun();
  a.sweep_key = "k1";
  b.sweep_key = "k2";
  c.sweep_key = "k1";
  c.workload = "gst";
  ASSERT_TRUE(store->InsertRun(&a, &err) && store->InsertRun(&b, &err) && store->InsertRun(&c, &err)) << err;
  RunRecord found;
  bool ok = false;
  ASSERT_TRUE(store->FindRunBySweepKey("k1", &found, &ok, &err)) << err;
  ASSERT_TRUE(ok);
  EXPECT_EQ(found.id, c.id);
  EXPECT_EQ(found.workload, "gst");
  ASSERT_TRUE(store->FindRunBySweepKey("k2", &found, &ok, &err)) << err;
  ASSERT_TRUE(ok);
  EXPECT_EQ(found.id, b.id);
  ASSERT_TRUE(store->FindRunBySweepKey("nope", &found, &ok, &err)) << err;
  EXPECT_FALSE(ok);
}

// A `crashgrid table` while a sweep writes: readers never fail with "database is locked" and always see a
// prefix of the committed trials.
TEST_F(StoreTest, ReadersSeeCommittedTrialsWhileAWriterInserts) {
  std::string path = Path("x.db");
  auto writer = MustOpen(path, Store::Mode::kCreate);
  RunRecord run = SampleRun();
  std::string err;
  ASSERT_TRUE(writer->InsertRun(&run, &err)) << err;
  constexpr int kTrials = 150;
  std::atomic<int> committed{0};
  std::atomic<bool> done{false};
  std::atomic<int> reader_failures{0};
  std::atomic<int> reads{0};
  std::vector<std::thread> readers;
  for (int i = 0; i < 3; ++i) {
    readers.emplace_back([&] {
      std::string rerr;
      int code = 0;
      auto ro = Store::Open(path, Store::Mode::kReadOnly, &rerr, &code);
      if (!ro) {
        ++reader_failures;
        return;
      }
      size_t last = 0;
      while (!done.load()) {
        int before = committed.load();
        std::vector<StoredTrial> trials;
        if (!ro->LoadTrials(run.id, true, &trials, &rerr)) {
          ++reader_failures;
          ADD_FAILURE() << rerr;
          return;
        }
        // Never fewer than what was committed before the read began, never going backwards.
        if (trials.size() < static_cast<size_t>(before) || trials.size() < last) ++reader_failures;
        for (size_t k = 0; k < trials.size(); ++k)
          if (trials[k].repetition != static_cast<int>(k)) ++reader_failures;
        last = trials.size();
        ++reads;
      }
    });
  }
  for (int i = 0; i < kTrials; ++i) {
    ASSERT_TRUE(writer->InsertTrial(run.id, {{"threads", "1"}}, i, SampleCrash(), nullptr, &err)) << err;
    committed.store(i + 1);
  }
  // Let every reader finish at least one read after the last commit.
  int target = reads.load() + 3;
  while (reads.load() < target && reader_failures.load() == 0) std::this_thread::yield();
  done.store(true);
  for (auto& t : readers) t.join();
  EXPECT_EQ(reader_failures.load(), 0);
  EXPECT_GT(reads.load(), 3);
}

TEST_F(StoreTest, MarksTheFileAsCrashgridsWithVersionAndWal) {
  std::string path = Path("x.db");
  { MustOpen(path, Store::Mode::kCreate); }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  auto pragma = [&](const char* sql) {
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(db, sql, -1, &s, nullptr);
    std::string v;
    if (sqlite3_step(s) == SQLITE_ROW) v = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    return v;
  };
  EXPECT_EQ(pragma("PRAGMA application_id"), std::to_string(0x43524744));
  EXPECT_EQ(pragma("PRAGMA user_version"), std::to_string(kStoreSchemaVersion));
  EXPECT_EQ(pragma("PRAGMA journal_mode"), "wal");
  sqlite3_close(db);
}

// --- durability: commits survive a killed crashgrid at once and reach the disk soon after (wal_sync.h) ---

// Polls until `done` holds, for at most 60 s (a loaded 2-core machine can be slow; the promise is ~1 s, which
// bench/ rather than a test measures).
bool Eventually(const std::function<bool()>& done) {
  for (int i = 0; i < 6000; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return done();
}

TEST_F(StoreTest, CommitsReachTheDiskWithoutBeingAskedTo) {
  auto store = MustOpen(Path("x.db"), Store::Mode::kCreate);
  ASSERT_TRUE(store);
  RunRecord run;
  std::string err;
  ASSERT_TRUE(store->InsertRun(&run, &err)) << err;
  int64_t id = 0;
  ASSERT_TRUE(store->InsertTrial(run.id, {{"threads", "1"}}, 0, SampleCrash(), &id, &err)) << err;
  EXPECT_GE(store->sync_stats().commits, 2);  // the run and the trial, each its own transaction
  ASSERT_TRUE(Eventually([&] {
    SyncStats s = store->sync_stats();
    return s.synced_commits == s.commits;
  })) << store->sync_stats().synced_commits << " of " << store->sync_stats().commits << " synced";
  SyncStats s = store->sync_stats();
  EXPECT_GE(s.syncs, 1);
  EXPECT_EQ(s.error, "");
  // Many commits in a burst share flushes: far fewer fdatasyncs than trials.
  for (int i = 1; i <= 50; ++i) ASSERT_TRUE(store->InsertTrial(run.id, {{"threads", "1"}}, i, {}, &id, &err)) << err;
  ASSERT_TRUE(store->SyncNow(&err)) << err;
  SyncStats after = store->sync_stats();
  EXPECT_EQ(after.synced_commits, after.commits);
  EXPECT_EQ(after.commits, s.commits + 50);
  EXPECT_LT(after.syncs - s.syncs, 50);
}

TEST_F(StoreTest, ARetiredSyncerFlushesWhatWasCommittedSinceItsLastFlush) {
  sqlite3* db = nullptr;
  std::string path = Path("raw.db");
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; CREATE TABLE t(x)", nullptr, nullptr,
                         nullptr),
            SQLITE_OK);
  {
    WalSyncer syncer(db, path + "-wal");
    for (int i = 0; i < 20; ++i) ASSERT_EQ(sqlite3_exec(db, "INSERT INTO t VALUES (1)", nullptr, nullptr, nullptr), SQLITE_OK);
    // Right after a burst the last commits wait out kSyncDelay; Stop (what closing the store does) must not
    // leave them behind.
    syncer.Stop();
    SyncStats s = syncer.Stats();
    EXPECT_EQ(s.commits, 20);
    EXPECT_EQ(s.synced_commits, 20);
    EXPECT_GE(s.syncs, 1);
  }
  // SQLite's automatic checkpoint, which the hook replaces, still runs: 1000 pages into the WAL, it is reset.
  {
    WalSyncer syncer(db, path + "-wal");
    std::string blob = "INSERT INTO t VALUES (randomblob(4000))";
    for (int i = 0; i < 1500; ++i) ASSERT_EQ(sqlite3_exec(db, blob.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  }
  EXPECT_LT(fs::file_size(path + "-wal"), 1100u * 4096u);
  sqlite3_close(db);
}

TEST_F(StoreTest, EveryTrialWhoseInsertReturnedSurvivesASigkill) {
  std::string path = Path("killed.db");
  int ids[2];
  ASSERT_EQ(pipe(ids), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // The child: a sweep that records trials until it is killed; each id goes out once InsertTrial returned.
    close(ids[0]);
    std::string err;
    int code = 0;
    auto store = Store::Open(path, Store::Mode::kCreate, &err, &code);
    RunRecord run;
    if (!store || !store->InsertRun(&run, &err)) _exit(1);
    for (int i = 0;; ++i) {
      int64_t id = 0;
      if (!store->InsertTrial(run.id, {{"threads", std::to_string(i % 7)}}, i, SampleCrash(), &id, &err)) _exit(2);
      if (write(ids[1], &id, sizeof id) != sizeof id) _exit(3);
    }
  }
  close(ids[1]);
  std::vector<int64_t> returned;
  int64_t id = 0;
  while (returned.size() < 300 && read(ids[0], &id, sizeof id) == sizeof id) returned.push_back(id);
  kill(pid, SIGKILL);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "child status " << status;
  while (read(ids[0], &id, sizeof id) == sizeof id) returned.push_back(id);  // written before the kill landed
  close(ids[0]);
  ASSERT_GE(returned.size(), 300u);

  auto store = MustOpen(path, Store::Mode::kReadOnly);
  ASSERT_TRUE(store);
  std::vector<StoredTrial> trials;
  std::string err;
  ASSERT_TRUE(store->LoadTrials(1, /*full=*/false, &trials, &err)) << err;
  std::set<int64_t> stored;
  for (const auto& t : trials) stored.insert(t.id);
  for (int64_t r : returned) EXPECT_TRUE(stored.count(r)) << "trial " << r << " was committed but is gone";
  EXPECT_LE(trials.size(), returned.size() + 1);  // at most the one in flight besides
}

const char kRunColumnNames[] = "SELECT name FROM pragma_table_info('runs') ORDER BY cid";
const char kTableNames[] = "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name";

TEST_F(StoreTest, ReadsAVersion3DatabaseReadOnlyWithEmptyRunIdentity) {
  std::string path = Path("v3.db");
  WriteV3Database(path);
  {
    auto ro = MustOpen(path, Store::Mode::kReadOnly);
    ASSERT_TRUE(ro);
    EXPECT_EQ(ro->schema_version(), 3);
    RunRecord run;
    std::string err;
    ASSERT_TRUE(ro->LoadRun(1, &run, &err)) << err;
    EXPECT_EQ(run.sweep_key, "key-1");
    EXPECT_TRUE(run.labels.empty());
    EXPECT_TRUE(run.env.empty());
    EXPECT_EQ(run.cwd, "");
    EXPECT_EQ(run.identity, "");
    std::vector<CellVerdict> verdicts;
    ASSERT_TRUE(ro->LoadCellVerdicts(1, &verdicts, &err)) << err;
    EXPECT_TRUE(verdicts.empty());
  }
  EXPECT_EQ(Query(path, "PRAGMA user_version"), "3");
  EXPECT_EQ(Query(path, kTableNames), "runs,trials");
}

TEST_F(StoreTest, MigratesAVersion3DatabaseToRunIdentityAndCellVerdicts) {
  std::string path = Path("v3.db");
  WriteV3Database(path);
  { auto fresh = MustOpen(Path("fresh.db"), Store::Mode::kCreate); }
  std::string err;
  {
    auto store = MustOpen(path, Store::Mode::kReadWrite);
    ASSERT_TRUE(store);
    RunRecord run;
    ASSERT_TRUE(store->LoadRun(1, &run, &err)) << err;
    EXPECT_TRUE(run.labels.empty());
    run.labels = {{"driver", "570"}, {"rack", "b 7"}};
    run.cwd = "/home/u/my app";
    run.env = {{"GST_DEBUG", "3"}, {"EMPTY", ""}};
    run.identity = "id-1";
    ASSERT_TRUE(store->UpdateRun(run, &err)) << err;
    ASSERT_TRUE(store->SaveCellVerdict(1, {"threads=4", "sprt", "CRASHES", 2, 12, 2}, &err)) << err;
    // The first verdict of a (cell, rule) stands; another rule has its own.
    ASSERT_TRUE(store->SaveCellVerdict(1, {"threads=4", "sprt", "UNDECIDED", 2, 30, 9}, &err)) << err;
    ASSERT_TRUE(store->SaveCellVerdict(1, {"threads=4", "refine", "UNDECIDED", 2, 30, 9}, &err)) << err;
  }
  EXPECT_EQ(Query(path, "PRAGMA user_version"), std::to_string(kStoreSchemaVersion));
  EXPECT_EQ(Query(path, kRunColumnNames), Query(Path("fresh.db"), kRunColumnNames));
  EXPECT_EQ(Query(path, kTableNames), Query(Path("fresh.db"), kTableNames));
  EXPECT_EQ(Query(path, kIndexNames), Query(Path("fresh.db"), kIndexNames));
  auto ro = MustOpen(path, Store::Mode::kReadOnly);
  RunRecord back;
  ASSERT_TRUE(ro->LoadRun(1, &back, &err)) << err;
  EXPECT_EQ(back.labels, (std::map<std::string, std::string>{{"driver", "570"}, {"rack", "b 7"}}));
  EXPECT_EQ(back.cwd, "/home/u/my app");
  EXPECT_EQ(back.env, (std::map<std::string, std::string>{{"EMPTY", ""}, {"GST_DEBUG", "3"}}));
  EXPECT_EQ(back.identity, "id-1");
  std::vector<CellVerdict> verdicts;
  ASSERT_TRUE(ro->LoadCellVerdicts(1, &verdicts, &err)) << err;
  ASSERT_EQ(verdicts.size(), 2u);
  EXPECT_EQ(verdicts[0].rule, "refine");
  EXPECT_EQ(verdicts[1].rule, "sprt");
  EXPECT_EQ(verdicts[1].verdict, "CRASHES");
  EXPECT_EQ(verdicts[1].crashes, 2);
  EXPECT_EQ(verdicts[1].evidence, 12);
  EXPECT_EQ(verdicts[1].last_trial_id, 2);
}

}  // namespace
}  // namespace cg

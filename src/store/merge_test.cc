// crashgrid merge's store side: shards into one run, idempotence, different sweeps apart, inputs untouched, and
// a v4 file merged before and after its migration to v5 recognised as the same.
#include "store/merge.h"
#include "util/test_util.h"

#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace cg {
namespace {

using test_util::Slurp;

namespace fs = std::filesystem;

// The schema crashgrid wrote as version 4 (src/store/schema.cc before v5), verbatim.
const char kV4Schema[] = R"SQL(
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
  finished INTEGER NOT NULL,
  labels TEXT NOT NULL DEFAULT '{}',
  cwd TEXT NOT NULL DEFAULT '',
  env TEXT NOT NULL DEFAULT '{}',
  identity TEXT NOT NULL DEFAULT ''
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
  setup_s REAL NOT NULL DEFAULT 0,
  teardown_s REAL NOT NULL DEFAULT 0,
  UNIQUE (run_id, cell_key, repetition)
);
CREATE TABLE cell_verdicts (
  run_id INTEGER NOT NULL REFERENCES runs(id),
  cell_key TEXT NOT NULL,
  rule TEXT NOT NULL,
  verdict TEXT NOT NULL,
  crashes INTEGER NOT NULL,
  evidence INTEGER NOT NULL,
  last_trial_id INTEGER NOT NULL,
  PRIMARY KEY (run_id, cell_key, rule)
);
CREATE INDEX trials_signature ON trials(signature);
CREATE INDEX runs_sweep_key ON runs(sweep_key);
)SQL";

class MergeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("cg_merge_test_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    policy_.base_key = [](const RunRecord& r) { return r.sweep_key.substr(0, r.sweep_key.find("@shard=")); };
    policy_.fleet_identity = [](const RunRecord& r) { return r.labels.count("driver") ? r.labels.at("driver") : ""; };
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

  std::unique_ptr<Store> Open(const std::string& path, Store::Mode mode) {
    std::string err;
    int code = 0;
    auto store = Store::Open(path, mode, &err, &code);
    EXPECT_TRUE(store) << err;
    return store;
  }

  // A file holding one run of `key` (shard `shard`) with `reps` trials in each of `cells`, every trial clean
  // except cell 0's first, which crashed; a verdict for cell 0.
  void WriteRun(const std::string& path, const std::string& key, const std::string& shard,
                const std::vector<std::string>& cells, int reps, const std::string& host = "node1") {
    auto s = Open(path, Store::Mode::kCreate);
    ASSERT_TRUE(s);
    RunRecord run;
    run.created_at = 1763776000.5;
    run.workload = "reference-race";
    run.argv = {"crashgrid", "sweep", "reference-race", "--shard", shard, "--db", path};
    run.grid = {{"X", {"0", "1", "2", "3"}}};
    run.runs = reps;
    run.duration_s = 1;
    run.sweep_key = shard.empty() ? key : key + "@shard=" + shard;
    run.shard = shard;
    run.labels = {{"driver", "550"}};
    run.environment = {{"host", host}};
    std::string err;
    ASSERT_TRUE(s->InsertRun(&run, &err)) << err;
    int64_t last = 0;
    for (const std::string& x : cells) {
      for (int rep = 0; rep < reps; ++rep) {
        TrialResult r;
        r.outcome = x == cells[0] && rep == 0 ? Outcome::kCrashed : Outcome::kClean;
        r.duration_s = 1;
        r.gpu_index = rep % 2;
        r.gpu_uuid = fmt::format("GPU-{}", rep % 2);
        int64_t id = 0;
        ASSERT_TRUE(s->InsertTrial(run.id, Cell{{"X", x}}, rep, r, &id, &err)) << err;
        if (x == cells[0]) last = id;
      }
    }
    CellVerdict v;
    v.cell_key = "X=" + cells[0];
    v.rule = "sprt";
    v.verdict = "CRASHES";
    v.crashes = 1;
    v.evidence = reps;
    v.last_trial_id = last;
    ASSERT_TRUE(s->SaveCellVerdict(run.id, v, &err)) << err;
  }

  MergeStats Merge(const std::string& out, const std::vector<std::string>& ins) {
    auto o = Open(out, Store::Mode::kCreate);
    MergeStats stats;
    for (const std::string& in : ins) {
      auto i = Open(in, Store::Mode::kReadOnly);
      std::string err;
      EXPECT_TRUE(MergeStore(o.get(), i.get(), policy_, &stats, &err)) << err;
    }
    return stats;
  }

  std::vector<RunRecord> Runs(const std::string& path) {
    auto s = Open(path, Store::Mode::kReadOnly);
    std::vector<RunRecord> runs;
    std::string err;
    EXPECT_TRUE(s->LoadRuns(&runs, &err)) << err;
    return runs;
  }
  std::vector<StoredTrial> Trials(const std::string& path, int64_t run) {
    auto s = Open(path, Store::Mode::kReadOnly);
    std::vector<StoredTrial> trials;
    std::string err;
    EXPECT_TRUE(s->LoadTrials(run, true, &trials, &err)) << err;
    return trials;
  }

  fs::path dir_;
  MergePolicy policy_;
};


TEST_F(MergeTest, ShardsOfOneSweepBecomeOneRunWithEveryCell) {
  WriteRun(Path("s0.db"), "k", "0/2", {"0", "2"}, 3, "node1");
  WriteRun(Path("s1.db"), "k", "1/2", {"1", "3"}, 3, "node2");
  MergeStats stats = Merge(Path("out.db"), {Path("s0.db"), Path("s1.db")});
  EXPECT_EQ(stats.trials_added, 12);
  EXPECT_EQ(stats.runs_created, 1);
  std::vector<RunRecord> runs = Runs(Path("out.db"));
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].sweep_key, "k");  // the whole sweep's key
  EXPECT_EQ(runs[0].shard, "");
  EXPECT_EQ(runs[0].argv, (std::vector<std::string>{"crashgrid", "sweep", "reference-race", "--db", Path("s0.db")}));
  std::vector<StoredTrial> trials = Trials(Path("out.db"), runs[0].id);
  std::map<std::string, int> per_cell;
  for (const auto& t : trials) per_cell[t.cell_key]++;
  EXPECT_EQ(per_cell, (std::map<std::string, int>{{"X=0", 3}, {"X=1", 3}, {"X=2", 3}, {"X=3", 3}}));
  // The GPU of each trial and its uid come along.
  auto s1 = Trials(Path("s1.db"), 1);
  std::set<std::string> uids;
  for (const auto& t : trials) uids.insert(t.uid);
  for (const auto& t : s1) EXPECT_TRUE(uids.count(t.uid)) << t.uid;
  EXPECT_EQ(trials[1].result.gpu_index, 1);
  EXPECT_EQ(trials[1].result.gpu_uuid, "GPU-1");
  // Both shards' verdicts, their last trial renumbered to the merged run's trial.
  auto out = Open(Path("out.db"), Store::Mode::kReadOnly);
  std::vector<CellVerdict> verdicts;
  std::string err;
  ASSERT_TRUE(out->LoadCellVerdicts(runs[0].id, &verdicts, &err)) << err;
  ASSERT_EQ(verdicts.size(), 2u);
  for (const CellVerdict& v : verdicts) {
    StoredTrial last;
    ASSERT_TRUE(out->LoadTrial(v.last_trial_id, &last, &err)) << err;
    EXPECT_EQ(last.cell_key, v.cell_key);
    EXPECT_EQ(last.repetition, 2);
  }
}

TEST_F(MergeTest, MergingTheSameInputAgainAddsNothingAndANewTrialOnce) {
  WriteRun(Path("s0.db"), "k", "0/2", {"0", "2"}, 2);
  WriteRun(Path("whole.db"), "w", "", {"0", "1"}, 2);
  Merge(Path("out.db"), {Path("s0.db"), Path("whole.db")});
  MergeStats again = Merge(Path("out.db"), {Path("s0.db"), Path("whole.db"), Path("s0.db")});
  EXPECT_EQ(again.trials_added, 0);
  EXPECT_EQ(again.trials_present, 12);
  EXPECT_EQ(again.runs_created, 0);
  EXPECT_EQ(Runs(Path("out.db")).size(), 2u);
  // The input resumed (one more trial): the next merge adds that one only.
  {
    auto s = Open(Path("whole.db"), Store::Mode::kReadWrite);
    TrialResult r;
    r.outcome = Outcome::kClean;
    std::string err;
    ASSERT_TRUE(s->InsertTrial(1, Cell{{"X", "0"}}, 2, r, nullptr, &err)) << err;
  }
  MergeStats more = Merge(Path("out.db"), {Path("whole.db")});
  EXPECT_EQ(more.trials_added, 1);
  EXPECT_EQ(more.runs_extended, 1);
  EXPECT_EQ(Trials(Path("out.db"), 2).size(), 5u);
}

TEST_F(MergeTest, DifferentSweepsAndMachinesStayDifferentRuns) {
  WriteRun(Path("a.db"), "a", "", {"0"}, 2, "node1");
  WriteRun(Path("b.db"), "b", "", {"0"}, 2, "node1");
  WriteRun(Path("a2.db"), "a", "", {"0"}, 2, "node2");  // the same sweep, whole, on another machine
  Merge(Path("out.db"), {Path("a.db"), Path("b.db"), Path("a2.db")});
  std::vector<RunRecord> runs = Runs(Path("out.db"));
  ASSERT_EQ(runs.size(), 3u);
  EXPECT_EQ(runs[0].sweep_key, "a");
  EXPECT_EQ(runs[1].sweep_key, "b");
  EXPECT_EQ(runs[2].sweep_key, "a");
  EXPECT_EQ(runs[2].environment["host"], "node2");
  for (const auto& r : runs) EXPECT_EQ(Trials(Path("out.db"), r.id).size(), 2u);
}

TEST_F(MergeTest, ShardsOfAnotherDriverOrASecondShardKStartAnotherRun) {
  WriteRun(Path("s0.db"), "k", "0/2", {"0", "2"}, 1);
  WriteRun(Path("s0again.db"), "k", "0/2", {"0", "2"}, 1);  // the array run a second time
  WriteRun(Path("s1.db"), "k", "1/2", {"1", "3"}, 1);
  {
    auto s = Open(Path("s1.db"), Store::Mode::kReadWrite);
    RunRecord r;
    std::string err;
    ASSERT_TRUE(s->LoadRun(1, &r, &err));
    r.labels["driver"] = "570";
    ASSERT_TRUE(s->UpdateRun(r, &err)) << err;
  }
  Merge(Path("out.db"), {Path("s0.db"), Path("s0again.db"), Path("s1.db")});
  EXPECT_EQ(Runs(Path("out.db")).size(), 3u);
}

TEST_F(MergeTest, InputsAreNeverModified) {
  WriteRun(Path("s0.db"), "k", "0/2", {"0", "2"}, 2);
  {
    auto s = Open(Path("s0.db"), Store::Mode::kReadWrite);
    std::string err;
    ASSERT_TRUE(s->SyncNow(&err));
  }
  std::string before = Slurp(Path("s0.db"));
  Merge(Path("out.db"), {Path("s0.db")});
  Merge(Path("out.db"), {Path("s0.db")});
  EXPECT_EQ(Slurp(Path("s0.db")), before);
}

// A v4 file as the v4 code left it: one run, two trials, a verdict.
void WriteV4Database(const std::string& path) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  auto exec = [&](const std::string& sql) {
    char* msg = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &msg), SQLITE_OK) << (msg ? msg : "") << "\n" << sql;
    sqlite3_free(msg);
  };
  exec(std::string("BEGIN; PRAGMA application_id = 1129465668; PRAGMA user_version = 4;") + kV4Schema + "COMMIT;");
  exec("PRAGMA journal_mode = WAL");
  exec(R"(INSERT INTO runs VALUES (1, 1763776000.25, '["crashgrid","sweep"]', 'crashgrid sweep', 'reference-race',
          '[]', 1, '[{"name":"X","values":["0","1"]}]', '{}', 2, 1, 2.5, 'attach', '0.1.0', 'abc', '{"host":"old"}',
          '', 'v4key', '{"until":"runs"}', 1, '{}', '', '{}', 'ident'))");
  for (int i = 1; i <= 2; ++i)
    exec(fmt::format("INSERT INTO trials (id, run_id, cell_key, cell, repetition, outcome, exit_code, signal, via_shell, "
                     "detail, started_at, duration_s, time_to_outcome_s, iterations, successes, errors, units, "
                     "units_name, workload_seconds, error_buckets, phases, threads, stdout_tail, stderr_tail, "
                     "capture_method, signature, report) VALUES ({0}, 1, 'X={1}', '{{\"X\":\"{1}\"}}', 0, 'clean', 0, 0, "
                     "0, '', 1763776001.5, 1, 1, 0, 0, 0, 0, '', 0, '[]', '[]', '[]', '', '', 'attach', '', NULL)",
                     i, i - 1));
  exec("INSERT INTO cell_verdicts VALUES (1, 'X=0', 'sprt', 'SAFE', 0, 1, 1)");
  sqlite3_close(db);
}

TEST_F(MergeTest, AV4FileMergesTheSameBeforeAndAfterItsMigrationToV5) {
  WriteV4Database(Path("v4.db"));
  std::string before = Slurp(Path("v4.db"));
  MergeStats first = Merge(Path("out.db"), {Path("v4.db")});
  EXPECT_EQ(first.trials_added, 2);
  EXPECT_EQ(first.verdicts_added, 1);
  EXPECT_EQ(Slurp(Path("v4.db")), before);  // read-only: not migrated by the merge
  std::vector<StoredTrial> merged = Trials(Path("out.db"), 1);
  ASSERT_EQ(merged.size(), 2u);
  EXPECT_EQ(merged[0].uid, "v4-1763776000.250000-1");
  EXPECT_EQ(merged[0].result.gpu_index, -1);
  EXPECT_EQ(Runs(Path("out.db"))[0].origin, "v4-1763776000.250000-1");

  // Opened for writing, the v4 file is migrated to v5 and stores the same ids the merge computed.
  { auto migrated = Open(Path("v4.db"), Store::Mode::kReadWrite); ASSERT_EQ(migrated->schema_version(), 5); }
  std::vector<StoredTrial> stored = Trials(Path("v4.db"), 1);
  ASSERT_EQ(stored.size(), 2u);
  EXPECT_EQ(stored[0].uid, merged[0].uid);
  EXPECT_EQ(stored[1].uid, merged[1].uid);
  EXPECT_EQ(stored[0].result.gpu_index, -1);
  EXPECT_EQ(Runs(Path("v4.db"))[0].origin, "v4-1763776000.250000-1");
  EXPECT_EQ(Runs(Path("v4.db"))[0].shard, "");
  MergeStats again = Merge(Path("out.db"), {Path("v4.db")});
  EXPECT_EQ(again.trials_added, 0);
  EXPECT_EQ(again.trials_present, 2);
  EXPECT_EQ(Runs(Path("out.db")).size(), 1u);
}

TEST_F(MergeTest, FreshTrialsAndRunsGetDistinctStableIds) {
  WriteRun(Path("a.db"), "a", "", {"0", "1"}, 3);
  std::vector<StoredTrial> trials = Trials(Path("a.db"), 1);
  std::set<std::string> uids;
  for (const auto& t : trials) {
    EXPECT_EQ(t.uid.size(), 32u);
    uids.insert(t.uid);
  }
  EXPECT_EQ(uids.size(), trials.size());
  EXPECT_EQ(Trials(Path("a.db"), 1)[0].uid, trials[0].uid);  // stored, not made up at each read
  EXPECT_EQ(Runs(Path("a.db"))[0].origin.size(), 32u);
}

}  // namespace
}  // namespace cg

// End-to-end behaviour of the core: sweeps of the built-in workloads, resuming, no orphans, bad input.
#include <signal.h>
#include <sys/wait.h>

#include <map>
#include <set>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "harness.h"
#include "store/store.h"
#include "util/error.h"

namespace cg::test {
namespace {

std::vector<StoredTrial> LoadAll(const std::string& db, RunRecord* run = nullptr, bool full = false) {
  std::string err;
  int code = 0;
  auto store = Store::Open(db, Store::Mode::kReadOnly, &err, &code);
  EXPECT_TRUE(store) << err;
  if (!store) return {};
  std::vector<RunRecord> runs;
  EXPECT_TRUE(store->LoadRuns(&runs, &err)) << err;
  if (runs.empty()) return {};
  if (run) *run = runs.back();
  std::vector<StoredTrial> trials;
  EXPECT_TRUE(store->LoadTrials(runs.back().id, full, &trials, &err)) << err;
  return trials;
}

size_t CountTrials(const std::string& db) {
  std::string err;
  int code = 0;
  auto store = Store::Open(db, Store::Mode::kReadOnly, &err, &code);
  if (!store) return 0;
  std::vector<RunRecord> runs;
  if (!store->LoadRuns(&runs, &err) || runs.empty()) return 0;
  std::vector<StoredTrial> trials;
  if (!store->LoadTrials(runs.back().id, false, &trials, &err)) return 0;
  return trials.size();
}

TEST(Sweep, ReferenceRaceCrashesInTheHighCellAndNeverWithOneThread) {
  std::string db = TestDir() + "/ref.db";
  CmdResult r = RunCrashgrid({"sweep", "reference-race", "--grid", "threads=1,4", "--grid", "sessions=1,4",
                              "--runs", "6", "--duration", "2s", "--db", db, "--no-live"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  RunRecord run;
  auto trials = LoadAll(db, &run);
  ASSERT_EQ(trials.size(), 24u);
  EXPECT_TRUE(run.reference_target);
  std::map<std::string, int> crashes, n;
  for (const auto& t : trials) {
    n[t.cell_key]++;
    if (IsCrash(t.result.outcome)) crashes[t.cell_key]++;
  }
  EXPECT_EQ(crashes["threads=1,sessions=1"], 0);
  EXPECT_EQ(crashes["threads=1,sessions=4"], 0);
  EXPECT_GE(crashes["threads=4,sessions=4"], 2) << "the high cell should crash in most trials";
  for (const auto& [cell, count] : n) EXPECT_EQ(count, 6) << cell;
  // Every table that shows a reference target says so.
  EXPECT_NE(r.out.find("reference target"), std::string::npos) << r.out;

  // Crashes are captured inside the reference library, and the tables per signature add up to the whole.
  auto full = LoadAll(db, nullptr, /*full=*/true);
  std::map<std::string, int> by_signature;
  int total = 0;
  for (const auto& t : full) {
    if (t.result.outcome != Outcome::kCrashed) continue;
    total++;
    by_signature[t.result.signature]++;
    EXPECT_NE(t.result.signature.find("refrace_"), std::string::npos) << t.result.signature;
    ASSERT_TRUE(t.result.report.has_value());
    // The faulting thread's first frame outside libc (a crash may land in memcpy called by the library).
    std::string module;
    for (const auto& f : t.result.report->threads.at(0).frames) {
      if (f.module.find("/libc.so") != std::string::npos) continue;
      module = f.module;
      break;
    }
    EXPECT_NE(module.find("libcrashgrid_refrace.so"), std::string::npos) << module;
  }
  int summed = 0;
  for (const auto& [sig, count] : by_signature) {
    CmdResult t = RunCrashgrid({"table", db, "--signature", sig, "--format", "json"});
    ASSERT_EQ(t.exit_code, 0) << t.err;
    auto j = nlohmann::json::parse(t.out);
    int crashes = 0;
    for (const auto& cell : j["cells"]) crashes += cell["crashes"].get<int>();
    EXPECT_EQ(crashes, count) << sig;
    summed += crashes;
  }
  EXPECT_EQ(summed, total);
}

TEST(Sweep, CpuGstWorkloadRecordsCleanTrialsWithIterations) {
  std::string db = TestDir() + "/gst.db";
  CmdResult r = RunCrashgrid({"sweep", "gst", "--grid", "threads=1,2", "--runs", "2", "--duration", "1s", "--db",
                              db, "--no-live"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  RunRecord run;
  auto trials = LoadAll(db, &run);
  ASSERT_EQ(trials.size(), 4u);
  for (const auto& t : trials) {
    EXPECT_EQ(t.result.outcome, Outcome::kClean) << t.cell_key << " " << t.result.detail << t.result.stderr_tail;
    EXPECT_GT(t.result.iterations, 0) << t.cell_key;
  }
  EXPECT_FALSE(run.workload_detail.empty()) << "the chosen branch is stored with the results";
  EXPECT_TRUE(run.environment.contains("host")) << run.environment.dump();
}

TEST(Sweep, KilledMidwayThenResumedRunsEveryTrialExactlyOnce) {
  std::string dir = TestDir();
  std::string db = dir + "/resume.db";
  std::vector<std::string> args = {"sweep", "reference-race", "--grid", "threads=1,2", "--grid", "sessions=1,2",
                                   "--runs", "4", "--duration", "1234ms", "--db", db, "--no-live"};
  pid_t pid = StartCrashgrid(args, dir + "/first.log");
  ASSERT_TRUE(WaitUntil(120, [&] { return CountTrials(db) >= 3; })) << ReadFile(dir + "/first.log");
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  // The trial in flight dies with crashgrid: nothing with this trial's marker survives.
  EXPECT_TRUE(WaitUntil(15, [] { return ProcessesWithMarker("1234ms").empty(); }));
  size_t before = CountTrials(db);
  ASSERT_LT(before, 16u);

  CmdResult r = RunCrashgrid(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto trials = LoadAll(db);
  ASSERT_EQ(trials.size(), 16u);
  std::set<std::pair<std::string, int>> seen;
  for (const auto& t : trials) {
    EXPECT_TRUE(seen.insert({t.cell_key, t.repetition}).second) << "ran twice: " << t.cell_key << " #" << t.repetition;
    EXPECT_LT(t.repetition, 4);
  }
}

TEST(Sweep, ResumeAloneContinuesTheLastSweep) {
  std::string dir = TestDir();
  std::string db = dir + "/r.db";
  CmdResult first = RunCrashgrid({"sweep", "reference-race", "--grid", "threads=1", "--runs", "2", "--duration",
                                  "200ms", "--db", db, "--no-live"});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  ASSERT_EQ(CountTrials(db), 2u);
  // Nothing left: resuming runs nothing and keeps the two trials.
  CmdResult again = RunCrashgrid({"sweep", "--resume", "--db", db, "--no-live"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(CountTrials(db), 2u);
}

TEST(Sweep, NoTrialProcessSurvivesAKilledCrashgrid) {
  std::string dir = TestDir();
  std::string db = dir + "/orphans.db";
  // A program whose children and grandchildren outlive it unless somebody kills their group. The marker
  // reaches the trial's processes only through {MARK}, so crashgrid's own command line does not carry it.
  pid_t pid = StartCrashgrid({"sweep", "--grid", "MARK=373919", "--runs", "1", "--duration", "60s", "--db", db,
                              "--no-live", "--capture", "none", "--exec", "--", FixturePath("exec_sleepers"),
                              "wait", "orphan-{MARK}"},
                             dir + "/log");
  ASSERT_TRUE(WaitUntil(90, [] { return ProcessesWithMarker("orphan-373919").size() >= 3; }))
      << ReadFile(dir + "/log");
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  EXPECT_TRUE(WaitUntil(15, [] { return ProcessesWithMarker("orphan-373919").empty(); }))
      << ProcessesWithMarker("orphan-373919").size() << " processes survived";
}

// Each --exec program's ending is classified as a shell loop would want it, through the whole tool.
TEST(Sweep, ExecProgramsAreClassified) {
  std::string dir = TestDir();
  struct Case {
    std::vector<std::string> program;
    Outcome outcome;
    int signal;
    int seed_code;
    bool via_shell;
  };
  std::vector<Case> cases = {
      {{FixturePath("exec_segv_thread")}, Outcome::kCrashed, SIGSEGV, 139, false},
      {{FixturePath("exec_abort")}, Outcome::kCrashed, SIGABRT, 134, false},
      {{FixturePath("exec_exit3")}, Outcome::kFailed, 0, 3, false},
      {{FixturePath("exec_sleepers"), "wait"}, Outcome::kHung, 0, 124, false},
      {{"sh", "-c", FixturePath("exec_segv_thread") + "; exit $?"}, Outcome::kCrashed, SIGSEGV, 139, true},
      // 139 with no SIGSEGV in any process (the agent watched them all): a failure that still reads 139.
      {{"sh", "-c", "exit 139"}, Outcome::kFailed, 0, 139, false},
  };
  int i = 0;
  for (const auto& c : cases) {
    std::string db = dir + "/exec" + std::to_string(i++) + ".db";
    std::vector<std::string> args = {"sweep", "--runs", "1", "--duration", "300ms", "--grace", "700ms",
                                     "--db", db, "--no-live", "--format", "seed", "--exec", "--"};
    args.insert(args.end(), c.program.begin(), c.program.end());
    CmdResult r = RunCrashgrid(args);
    ASSERT_EQ(r.exit_code, 0) << c.program[0] << r.err;
    auto trials = LoadAll(db, nullptr, /*full=*/true);
    ASSERT_EQ(trials.size(), 1u) << c.program[0];
    const TrialResult& t = trials[0].result;
    EXPECT_EQ(t.outcome, c.outcome) << c.program.back() << " " << OutcomeName(t.outcome) << " " << t.detail;
    EXPECT_EQ(t.signal, c.signal) << c.program.back();
    EXPECT_EQ(t.via_shell, c.via_shell) << c.program.back();
    EXPECT_EQ(SeedExitCode(t), c.seed_code) << c.program.back();
    EXPECT_NE(r.out.find("{0: 0, " + std::to_string(c.seed_code) + ": 1}"), std::string::npos) << r.out;
    if (c.outcome == Outcome::kCrashed && !c.via_shell) {
      ASSERT_TRUE(t.report.has_value()) << c.program.back();
      EXPECT_FALSE(t.signature.empty());
    }
  }
}

struct BadInput {
  std::vector<std::string> args;
  int exit_code;
  std::string expect;  // a piece of the error line
};

TEST(BadInput, OneClearLineAndADocumentedExitCode) {
  std::string dir = TestDir();
  std::vector<BadInput> cases = {
      {{"sweep", "referense-race", "--db", dir + "/x.db"}, kExitUsage, "did you mean 'reference-race'"},
      {{"sweep", "reference-race", "--grid", "threads=4..1", "--db", dir + "/x.db"}, kExitUsage, "empty"},
      {{"sweep", "reference-race", "--grid", "sesions=1,2", "--db", dir + "/x.db"}, kExitUsage,
       "did you mean 'sessions'"},
      {{"sweep", "reference-race", "--param", "colour=red", "--db", dir + "/x.db"}, kExitUsage, "colour"},
      {{"sweep", "reference-race", "--db", dir + "/x.db", "--duration", "5 parsecs"}, kExitUsage, "unit"},
      {{"sweep", "--db", dir + "/x.db", "--exec", "--", "./no-such-program"}, kExitUsage, "no-such-program"},
      {{"sweep", "reference-race"}, kExitUsage, "--db"},
      {{"swep"}, kExitUsage, "did you mean 'sweep'"},
      {{"table", dir + "/missing.db"}, kExitDatabase, "missing.db"},
  };
  for (const auto& c : cases) {
    CmdResult r = RunCrashgrid(c.args, 60);
    std::string cmd;
    for (const auto& a : c.args) cmd += a + " ";
    EXPECT_EQ(r.exit_code, c.exit_code) << cmd << "\n" << r.err;
    EXPECT_EQ(r.err.rfind("crashgrid: error: ", 0), 0u) << cmd << "\n" << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << cmd << "\n" << r.err;
    EXPECT_NE(r.err.find(c.expect), std::string::npos) << cmd << "\n" << r.err;
  }
  // None of these created the database.
  EXPECT_NE(access((dir + "/x.db").c_str(), F_OK), 0);
}

TEST(BadInput, AForeignDatabaseIsNeverTouched) {
  std::string dir = TestDir();
  std::string db = dir + "/foreign.db";
  ASSERT_EQ(std::system(("sqlite3 '" + db + "' 'create table notes(x); insert into notes values (42);'").c_str()), 0);
  std::string before = ReadFile(db);
  CmdResult r = RunCrashgrid({"sweep", "reference-race", "--runs", "1", "--duration", "100ms", "--db", db});
  EXPECT_EQ(r.exit_code, kExitDatabase) << r.err;
  EXPECT_NE(r.err.find("foreign.db"), std::string::npos) << r.err;
  CmdResult t = RunCrashgrid({"table", db});
  EXPECT_EQ(t.exit_code, kExitDatabase) << t.err;
  EXPECT_EQ(ReadFile(db), before);
  EXPECT_NE(access((db + "-wal").c_str(), F_OK), 0);
}

}  // namespace
}  // namespace cg::test

// End-to-end: SIGTERM and SIGHUP stop a sweep at once (the trials in flight killed and not recorded, the rest
// kept, the resume command printed), and the trial bounds refuse what no one can wait for.
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include <gtest/gtest.h>

#include "harness.h"
#include "store/store.h"
#include "util/error.h"

namespace cg::test {
namespace {

// The trials recorded in `db`'s first run, by cell key; empty when there is none (yet).
std::map<std::string, int> Recorded(const std::string& db) {
  std::map<std::string, int> by_cell;
  std::string err;
  int code = 0;
  auto store = Store::Open(db, Store::Mode::kReadOnly, &err, &code);
  std::vector<RunRecord> runs;
  std::vector<StoredTrial> trials;
  if (!store || !store->LoadRuns(&runs, &err) || runs.empty() || !store->LoadTrials(runs[0].id, false, &trials, &err))
    return by_cell;
  for (const auto& t : trials) by_cell[t.cell_key]++;
  return by_cell;
}

class StopOnSignal : public ::testing::TestWithParam<int> {};

// Cell X=1 ends at once; cell X=2 sleeps 60 s (its bound: --duration 60s) until the file `fast` exists. With
// --jobs 2, the signal arrives while X=1's first trial is recorded and X=2's is in flight.
TEST_P(StopOnSignal, KillsTheTrialsInFlightRecordsNoneOfThemAndResumeRunsTheRest) {
  int sig = GetParam();
  std::string dir = TestDir();
  std::string db = dir + "/stop.db";
  std::string script = "if [ \"$X\" = 2 ] && [ ! -e " + dir + "/fast ]; then sleep 60; fi";
  pid_t pid = StartCrashgrid({"sweep", "--grid", "X=1,2", "--runs", "2", "--jobs", "2", "--duration", "60s",
                              "--seed", "1", "--db", db, "--no-live", "--exec", "--", "sh", "-c", script},
                             dir + "/log");
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(WaitUntil(60, [&] { return Recorded(db)["X=1"] >= 1; })) << ReadFile(dir + "/log");
  usleep(200 * 1000);
  kill(pid, sig);
  // The trial in flight had 60 s to go: an exit well before that is the signal's doing.
  int status = WaitFor(pid, 30);
  if (status == -1) {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
  }
  std::string log = ReadFile(dir + "/log");
  ASSERT_NE(status, -1) << "crashgrid still ran 30 s after the signal\n" << log;
  ASSERT_TRUE(WIFEXITED(status)) << status << "\n" << log;
  EXPECT_EQ(WEXITSTATUS(status), 128 + sig) << log;
  EXPECT_NE(log.find("crashgrid sweep --resume --db " + db), std::string::npos) << log;
  std::map<std::string, int> after_stop = Recorded(db);
  EXPECT_EQ(after_stop["X=1"], 1) << log;
  EXPECT_EQ(after_stop["X=2"], 0) << "the trial killed by the stop was recorded\n" << log;

  // What a table counts: the interrupted trial is in no n.
  CmdResult table = RunCrashgrid({"table", db, "--format", "markdown"});
  EXPECT_EQ(table.exit_code, 0) << table.err;

  std::ofstream(dir + "/fast").put('\n');
  CmdResult again = RunCrashgrid({"sweep", "--resume", "--db", db, "--no-live"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  std::map<std::string, int> done = Recorded(db);
  EXPECT_EQ(done["X=1"], 2) << again.err;
  EXPECT_EQ(done["X=2"], 2) << again.err;
}

INSTANTIATE_TEST_SUITE_P(Signals, StopOnSignal, ::testing::Values(SIGTERM, SIGHUP, SIGINT),
                         [](const auto& info) { return std::string(sigabbrev_np(info.param)); });

// The issue's `timeout 6` case: a bound no one can wait for is refused before anything is created.
TEST(TrialBounds, ADurationOrTimeoutPastADayIsRefusedNamingTheFlagAndTheLimit) {
  std::string dir = TestDir();
  for (const std::vector<std::string>& flags :
       {std::vector<std::string>{"--duration", "999999999999s"}, {"--duration", "25h"},
        {"--grace", "99999999999999999999999999999999999999"}, {"--setup-timeout", "1441m"},
        {"--teardown-timeout", "100000h"}, {"--stall-window", "86401"}}) {
    std::string db = dir + "/bound.db";
    std::vector<std::string> args = {"sweep", "--db", db, "--no-live"};
    args.insert(args.end(), flags.begin(), flags.end());
    args.insert(args.end(), {"--exec", "--", "/bin/true"});
    CmdResult r = RunCrashgrid(args, 60);
    EXPECT_EQ(r.exit_code, kExitUsage) << flags[0] << " " << flags[1] << ": " << r.err;
    EXPECT_NE(r.err.find("crashgrid: error: " + flags[0] + " '" + flags[1] + "' is longer than the limit of 24h"),
              std::string::npos)
        << r.err;
    struct stat st;
    EXPECT_NE(stat(db.c_str(), &st), 0) << flags[0] << ": a database was created";
  }
  // A day itself is accepted (the sweep then runs: --duration 24h with a program that ends at once).
  CmdResult ok = RunCrashgrid({"sweep", "--db", dir + "/day.db", "--runs", "1", "--duration", "24h", "--grace",
                               "24h", "--no-live", "--format", "none", "--exec", "--", "/bin/true"},
                              120);
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
}

}  // namespace
}  // namespace cg::test

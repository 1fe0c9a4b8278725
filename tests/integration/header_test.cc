// crashgrid.h end to end: a program that names its phases and counts its iterations gets them into the
// stored report, `show` and the trial's iterations, under both captures that load the agent; without
// crashgrid the same binary runs as if the header were not there.
#include <stdio.h>
#include <sys/wait.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "harness.h"
#include "store/store.h"
#include "trial/trial.h"

namespace cg::test {
namespace {

// One --exec trial of exec_phases with `args`; its stored trial, the database in *db.
StoredTrial SweepOnce(const std::string& dir, const std::string& name, const std::vector<std::string>& args,
                      std::string* db, const std::string& capture = "attach") {
  *db = dir + "/" + name + ".db";
  std::vector<std::string> cmd = {"sweep", "--runs", "1", "--duration", "5s", "--capture", capture, "--db", *db,
                                  "--no-live", "--format", "none", "--exec", "--", FixturePath("exec_phases")};
  cmd.insert(cmd.end(), args.begin(), args.end());
  CmdResult r = RunCrashgrid(cmd);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto trials = LoadNewestRunTrials(*db);
  if (trials.size() != 1u) {
    ADD_FAILURE() << "expected one trial in " << *db;
    return {};
  }
  return trials[0];
}

TEST(CrashgridHeader, ProgramRunsAsBeforeWithoutCrashgrid) {
  std::string cmd = FixturePath("exec_phases") + " 7";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  char buf[256] = {};
  size_t n = fread(buf, 1, sizeof buf - 1, p);
  int status = pclose(p);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_EQ(std::string(buf, n), "7 iterations (agent absent)\n");
}

// Crashed in phase "flush" after 7 iterations: the faulting thread's phase and the trial's iterations, with the
// agent's capture (attach) and the agent's own record (handler) alike.
TEST(CrashgridHeader, CrashReportNamesTheProgramsPhaseAndCountsItsIterations) {
  const std::string dir = TestDir();  // once: each call starts an empty directory
  for (const std::string capture : {"attach", "handler"}) {
    std::string db;
    StoredTrial t = SweepOnce(dir, "crash-" + capture, {"7", "crash"}, &db, capture);
    const TrialResult& r = t.result;
    ASSERT_EQ(r.outcome, Outcome::kCrashed) << capture << ": " << r.detail;
    EXPECT_EQ(r.iterations, 7) << capture;
    EXPECT_GT(r.workload_seconds, 0) << capture;
    ASSERT_TRUE(r.report.has_value()) << capture;
    ASSERT_FALSE(r.report->threads.empty());
    EXPECT_EQ(r.report->threads[0].name, "dec0") << capture;
    EXPECT_EQ(r.report->threads[0].phase, "flush") << capture;
    if (capture == "attach") {
      for (const ThreadStack& th : r.report->threads) {
        if (th.tid != r.report->faulting_tid && th.name == "exec_phases") {
          EXPECT_EQ(th.phase, "main");
        }
      }
    }
    CmdResult show = RunCrashgrid({"show", db, std::to_string(t.id)});
    ASSERT_EQ(show.exit_code, 0) << show.err;
    EXPECT_NE(show.out.find("phase flush"), std::string::npos) << show.out;
    CmdResult crashes = RunCrashgrid({"crashes", db});
    ASSERT_EQ(crashes.exit_code, 0) << crashes.err;
    EXPECT_NE(crashes.out.find("phase flush"), std::string::npos) << crashes.out;
  }
}

// A clean run: the iterations are the program's count, and the program sees the agent.
TEST(CrashgridHeader, CleanRunsIterationsAreTheProgramsCount) {
  std::string db;
  StoredTrial t = SweepOnce(TestDir(), "clean", {"11"}, &db);
  EXPECT_EQ(t.result.outcome, Outcome::kClean) << t.result.detail;
  EXPECT_EQ(t.result.iterations, 11);
  EXPECT_NE(t.result.stdout_tail.find("11 iterations (agent loaded)"), std::string::npos) << t.result.stdout_tail;
}

}  // namespace
}  // namespace cg::test

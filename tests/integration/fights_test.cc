// Programs that fight the supervisor (issue 12): one that debugs its own child, one that stops itself, one
// whose vfork child crashes; and --exec programs or arguments that cannot run, refused before anything is made.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>

#include <gtest/gtest.h>

#include "harness.h"
#include "store/store.h"
#include "util/error.h"
#include "util/strings.h"

namespace cg::test {
namespace {

// The trials of a one-cell sweep of `program`.
std::vector<StoredTrial> SweepRuns(const std::string& db, const std::vector<std::string>& program, CmdResult* sweep,
                                   int repetitions) {
  std::vector<std::string> args = {"sweep", "--runs", std::to_string(repetitions), "--duration", "1s", "--grace", "1s",
                                   "--db", db, "--no-live", "--exec", "--"};
  args.insert(args.end(), program.begin(), program.end());
  *sweep = RunCrashgrid(args, 120);
  EXPECT_EQ(sweep->exit_code, 0) << sweep->err;
  std::string err;
  int code = 0;
  auto store = Store::Open(db, Store::Mode::kReadOnly, &err, &code);
  EXPECT_TRUE(store) << err;
  std::vector<RunRecord> runs;
  std::vector<StoredTrial> trials;
  if (store && store->LoadRuns(&runs, &err) && !runs.empty()) {
    EXPECT_TRUE(store->LoadTrials(runs.back().id, true, &trials, &err)) << err;
  }
  EXPECT_EQ(trials.size(), static_cast<size_t>(repetitions)) << err;
  return trials;
}

// The one trial of a one-trial sweep of `program`.
StoredTrial SweepOne(const std::string& db, const std::vector<std::string>& program, CmdResult* sweep) {
  std::vector<StoredTrial> trials = SweepRuns(db, program, sweep, 1);
  return trials.empty() ? StoredTrial{} : trials[0];
}

TEST(Fights, AProgramThatStopsItselfIsHungAndSaysItWasStopped) {
  std::string db = TestDir() + "/stop.db";
  CmdResult sweep;
  StoredTrial t = SweepOne(db, {FixturePath("fight_sigstop")}, &sweep);
  EXPECT_EQ(t.result.outcome, Outcome::kHung) << OutcomeName(t.result.outcome) << " " << t.result.detail;
  EXPECT_NE(t.result.detail.find("stopped by SIGSTOP and never continued: process"), std::string::npos)
      << t.result.detail;
  CmdResult show = RunCrashgrid({"show", db, std::to_string(t.id)});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_NE(show.out.find("hung: killed by the watchdog (stopped by SIGSTOP"), std::string::npos) << show.out;
}

TEST(Fights, AVforkChildsCrashIsNotTheProgramSurvivingItsOwnCrash) {
  std::string db = TestDir() + "/vfork.db";
  CmdResult sweep;
  StoredTrial t = SweepOne(db, {FixturePath("fight_vfork")}, &sweep);
  EXPECT_EQ(t.result.outcome, Outcome::kClean) << OutcomeName(t.result.outcome) << " " << t.result.detail;
  EXPECT_NE(t.result.stdout_tail.find("vfork child killed by signal 11"), std::string::npos) << t.result.stdout_tail;
  EXPECT_EQ(t.result.detail.find("its own handler ran"), std::string::npos) << t.result.detail;
  EXPECT_NE(t.result.detail.find("SIGSEGV was captured in process"), std::string::npos) << t.result.detail;
  EXPECT_NE(t.result.detail.find("a child of the program"), std::string::npos) << t.result.detail;
}

TEST(Fights, AProgramThatTracesItsChildIsNotHeldUntilTheWatchdogNorTakenForAPtraceBan) {
  std::string db = TestDir() + "/ptrace.db";
  CmdResult sweep;
  std::vector<StoredTrial> trials = SweepRuns(db, {FixturePath("fight_ptrace_child")}, &sweep, 2);
  for (const StoredTrial& t : trials) {
    // The parent saw its child die of the crash and exited 0 itself, well before --duration + --grace.
    EXPECT_EQ(t.result.outcome, Outcome::kClean) << OutcomeName(t.result.outcome) << " " << t.result.detail;
    EXPECT_NE(t.result.stdout_tail.find("child killed by signal 11"), std::string::npos) << t.result.stdout_tail;
    EXPECT_LT(t.result.time_to_outcome_s, 1.0) << t.result.detail;
    // crashgrid cannot seize a process that has a tracer: it says so, and does not conclude that ptrace is
    // forbidden on this machine (which would make every later trial fall back to the handler capture).
    EXPECT_NE(t.result.detail.find("is traced by process"), std::string::npos) << t.result.detail;
    EXPECT_EQ(t.result.detail.find("ptrace not permitted"), std::string::npos) << t.result.detail;
    EXPECT_NE(t.result.detail.find("a child of the program"), std::string::npos) << t.result.detail;
    EXPECT_EQ(t.result.detail.find("its own handler ran"), std::string::npos) << t.result.detail;
  }
}

TEST(Fights, ExecProgramsThatCannotRunAreRefusedBeforeADatabaseIsMade) {
  std::string dir = TestDir();
  std::string script = dir + "/bad-interpreter.sh";
  {
    std::ofstream f(script);
    f << "#!/nonexistent/interpreter\necho hi\n";
  }
  ASSERT_EQ(chmod(script.c_str(), 0755), 0);
  std::string noexec = dir + "/not-executable";
  { std::ofstream f(noexec); f << "#!/bin/sh\n"; }
  struct Case {
    std::vector<std::string> args;
    std::string expect;
  };
  std::string db = dir + "/x.db";
  std::vector<Case> cases = {
      {{"sweep", "--db", db, "--exec", "--", dir}, "is a directory"},
      {{"sweep", "--db", db, "--exec", "--", script}, "'/nonexistent/interpreter'"},
      {{"sweep", "--db", db, "--exec", "--", noexec}, "is not executable"},
      {{"sweep", "--db", db, "--exec", "--", dir + "/missing"}, "does not exist"},
      {{"sweep", "reference-race", "--threads", "0", "--db", db}, "threads '0' must be an integer from 1 to 1024"},
      {{"sweep", "reference-race", "--threads", "-3", "--db", db}, "threads '-3'"},
      {{"sweep", "--grid", "MODE=1,2", "--param", "SIZE=4", "--db", db, "--exec", "--", "/bin/echo", "{MDOE}"},
       "{MDOE}, which is no grid axis or --param, did you mean 'MODE'? (known: MODE, SIZE)"},
      {{"sweep", "--db", db, "--exec", "--", "/bin/echo", "--size={SIZE}"}, "(known: none)"},
  };
  for (const auto& c : cases) {
    CmdResult r = RunCrashgrid(c.args, 60);
    std::string cmd = Join(c.args, " ");
    EXPECT_EQ(r.exit_code, kExitUsage) << cmd << "\n" << r.err;
    EXPECT_EQ(r.err.rfind("crashgrid: error: ", 0), 0u) << cmd << "\n" << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << cmd << "\n" << r.err;
    EXPECT_NE(r.err.find(c.expect), std::string::npos) << cmd << "\n" << r.err;
    EXPECT_NE(access(db.c_str(), F_OK), 0) << cmd << ": created the database";
  }
}

TEST(Fights, ShellBracesAndKnownPlaceholdersAreNotRefused) {
  std::string dir = TestDir();
  std::string db = dir + "/ok.db";
  // ${HOME} is the shell's; {N} is the grid's; {} and {not a name} are no placeholders.
  CmdResult r = RunCrashgrid({"sweep", "--grid", "N=1", "--runs", "1", "--duration", "300ms", "--db", db,
                              "--no-live", "--exec", "--", "/bin/sh", "-c", "echo ${HOME} {N} {} {not a name}"},
                             120);
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

}  // namespace
}  // namespace cg::test

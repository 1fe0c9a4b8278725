// --amplify end to end: the agent's delays make a race that plain runs rarely hit show up in most trials and
// early (tests/fixtures/amp_grace_race.c, amp_start_race.c), amplified and plain trials are separate cells, `show`
// names the seed, and a bad value is refused before anything is created.
#include <unistd.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "harness.h"
#include "store/store.h"
#include "trial/trial.h"

namespace cg::test {
namespace {

struct CellOutcomes {
  int trials = 0;
  int crashed = 0;
  std::vector<double> crash_times;  // time to outcome of the crashed trials
  int64_t some_trial_id = 0;        // one trial of the cell (for `show`)
};

// One sweep of the race with --grid amplify=off,on; outcomes by the cell's amplify value.
std::map<std::string, CellOutcomes> RaceSweep(const std::string& db, int runs) {
  CmdResult r = RunCrashgrid({"sweep", "--grid", "amplify=off,on", "--runs", std::to_string(runs), "--duration", "1s",
                              "--grace", "2s", "--seed", "7", "--db", db, "--no-live", "--format", "none", "--exec",
                              "--", FixturePath("amp_grace_race"), "1"},
                             240);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::map<std::string, CellOutcomes> by;
  for (const StoredTrial& t : LoadNewestRunTrials(db)) {
    for (const auto& [k, v] : t.cell) {
      if (k != "amplify") continue;
      CellOutcomes& c = by[v];
      c.trials++;
      c.some_trial_id = t.id;
      if (t.result.outcome == Outcome::kCrashed) {
        c.crashed++;
        c.crash_times.push_back(t.result.time_to_outcome_s);
      }
    }
  }
  return by;
}

// Plain, the reader loses the race only when it is preempted inside a one-microsecond window (measured on the
// 2-core VM: bench/results/amplify.md); amplified, a share of its calls waits up to 2 ms, longer than the
// reclaimer's grace period, and the trial crashes within milliseconds. The margins hold on a loaded machine:
// load makes plain runs crash more often, never amplified ones less.
TEST(Amplify, ShortensTimeToFirstCrashOnARaceThatPlainRunsRarelyHit) {
  std::string db = TestDir() + "/race.db";
  auto by = RaceSweep(db, 8);
  ASSERT_EQ(by["off"].trials, 8);
  ASSERT_EQ(by["on"].trials, 8);
  EXPECT_GE(by["on"].crashed, 7) << "amplified trials crash";
  EXPECT_LE(by["off"].crashed, 3) << "plain ones mostly do not";
  EXPECT_GE(by["on"].crashed - by["off"].crashed, 4);
  ASSERT_FALSE(by["on"].crash_times.empty());
  std::vector<double> t = by["on"].crash_times;
  std::sort(t.begin(), t.end());
  EXPECT_LT(t[t.size() / 2], 0.5) << "amplified trials crash early in their 1 s";

  // show names the amplification and the seed of an amplified trial, and nothing of it for a plain one.
  CmdResult on = RunCrashgrid({"show", db, std::to_string(by["on"].some_trial_id)});
  EXPECT_EQ(on.exit_code, 0) << on.err;
  EXPECT_NE(on.out.find("amplify: on (delays at 0.1 of API and phase entries"), std::string::npos) << on.out;
  EXPECT_NE(on.out.find(", seed "), std::string::npos) << on.out;
  CmdResult off = RunCrashgrid({"show", db, std::to_string(by["off"].some_trial_id)});
  EXPECT_EQ(off.exit_code, 0) << off.err;
  EXPECT_EQ(off.out.find("amplify:"), std::string::npos) << off.out;
}

// Thread starts: the creator of a thread sometimes waits after pthread_create, so a worker that needs what its
// creator sets up after the start runs first (tests/fixtures/amp_start_race.c: 2/100 plain, 100/100 amplified
// on the 2-core VM).
TEST(Amplify, ThreadStartDelaysShowAStartOrderRace) {
  std::string db = TestDir() + "/start.db";
  CmdResult r = RunCrashgrid({"sweep", "--grid", "amplify=off,on", "--runs", "10", "--duration", "1s", "--grace",
                              "2s", "--seed", "7", "--db", db, "--no-live", "--format", "none", "--exec", "--",
                              FixturePath("amp_start_race")},
                             240);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::map<std::string, int> crashed, trials;
  for (const StoredTrial& t : LoadNewestRunTrials(db)) {
    for (const auto& [k, v] : t.cell) {
      if (k != "amplify") continue;
      trials[v]++;
      crashed[v] += t.result.outcome == Outcome::kCrashed;
    }
  }
  ASSERT_EQ(trials["off"], 10);
  ASSERT_EQ(trials["on"], 10);
  EXPECT_GE(crashed["on"], 9);
  EXPECT_LE(crashed["off"], 4);
}

TEST(Amplify, BadValueIsRefusedBeforeTheSweep) {
  for (const std::vector<std::string>& how :
       {std::vector<std::string>{"--amplify", "2"}, std::vector<std::string>{"--grid", "amplify=off,yes"}}) {
    std::string db = TestDir() + "/refused.db";
    CmdResult r = RunRefusedSweep(db, how);
    EXPECT_EQ(r.exit_code, 2) << how[1] << ": " << r.err;
    EXPECT_EQ(r.err.rfind("crashgrid: error: ", 0), 0u) << r.err;
    EXPECT_NE(r.err.find("is not off, on or a probability in (0, 1]"), std::string::npos) << r.err;
    EXPECT_EQ(access(db.c_str(), F_OK), -1) << "nothing created: " << db;
  }
  // A built-in workload takes the axis too (its value reaches the agent, not the workload's parameters).
  std::string db = TestDir() + "/builtin.db";
  CmdResult r = RunCrashgrid({"sweep", "reference-race", "--grid", "amplify=off,0.5", "--runs", "1", "--duration",
                              "200ms", "--db", db, "--no-live", "--format", "none"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto trials = LoadNewestRunTrials(db);
  ASSERT_EQ(trials.size(), 2u);
  for (const StoredTrial& t : trials) {
    EXPECT_NE(t.result.outcome, Outcome::kFailed) << t.result.detail;
    EXPECT_NE(t.result.outcome, Outcome::kCouldNotStart) << t.result.detail;
  }
}

}  // namespace
}  // namespace cg::test

// The stopping settings from the command line to the verdict: `--alpha` and `--beta` each in its place, and
// the refinement threshold from `--p0`/`--p1`, as stored with the run.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "harness.h"
#include "stats/stopping_settings.h"
#include "store/store.h"

namespace cg::test {
namespace {

bool LoadOnlyRun(const std::string& db, RunRecord* run, std::vector<StoredTrial>* trials) {
  std::string err;
  int code = 0;
  auto store = Store::Open(db, Store::Mode::kReadOnly, &err, &code);
  EXPECT_TRUE(store) << err;
  if (!store) return false;
  std::vector<RunRecord> runs;
  EXPECT_TRUE(store->LoadRuns(&runs, &err)) << err;
  EXPECT_EQ(runs.size(), 1u);
  if (runs.size() != 1) return false;
  *run = runs[0];
  EXPECT_TRUE(store->LoadTrials(run->id, false, trials, &err)) << err;
  return true;
}

// alpha = 0.01, beta = 0.2, p0 = 0.01, p1 = 0.1: an always-clean cell is SAFE after 17 runs (46 if alpha and
// beta were swapped anywhere between the flags and the verdict).
TEST(SweepSettings, AlphaAndBetaFromTheCommandLineDecideInTheirPlaces) {
  std::string db = TestDir() + "/ab.db";
  CmdResult r = RunCrashgrid({"sweep", "--grid", "X=1", "--runs", "100", "--until", "decided", "--alpha", "0.01",
                              "--beta", "0.2", "--duration", "1s", "--capture", "none", "--db", db, "--no-live",
                              "--format", "verdict", "--exec", "--", "/bin/true"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("SAFE"), std::string::npos) << r.out;
  RunRecord run;
  std::vector<StoredTrial> trials;
  ASSERT_TRUE(LoadOnlyRun(db, &run, &trials));
  EXPECT_EQ(trials.size(), 17u);
  StoppingSettings s = RunStoppingSettings(run);
  EXPECT_DOUBLE_EQ(s.sprt.alpha, 0.01);
  EXPECT_DOUBLE_EQ(s.sprt.beta, 0.2);
}

TEST(SweepSettings, RefineTargetsTheMiddleOfP0AndP1) {
  std::string db = TestDir() + "/refine.db";
  CmdResult r = RunCrashgrid({"sweep", "--grid", "X=1", "--runs", "2", "--until", "decided", "--p0", "0.2", "--p1",
                              "0.6", "--refine", "--refine-budget", "3", "--duration", "1s", "--capture", "none",
                              "--db", db, "--no-live", "--format", "none", "--exec", "--", "/bin/true"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  RunRecord run;
  std::vector<StoredTrial> trials;
  ASSERT_TRUE(LoadOnlyRun(db, &run, &trials));
  StoppingSettings s = RunStoppingSettings(run);
  EXPECT_TRUE(s.refine);
  EXPECT_DOUBLE_EQ(s.apt.theta, 0.4);
  EXPECT_EQ(s.refine_budget, 3);
  EXPECT_EQ(trials.size(), 2u + 3u) << "the cap, then the refinement budget";
}

// 31 clean runs are the fewest that reach SAFE at the defaults: a cap below that is said before the sweep.
TEST(SweepSettings, DecidedWithRunsBelowTheSafeMinimumWarnsBeforeTheFirstTrial) {
  std::string db = TestDir() + "/cap.db";
  CmdResult r = RunCrashgrid({"sweep", "--grid", "X=1", "--runs", "3", "--until", "decided", "--duration", "1s",
                              "--capture", "none", "--db", db, "--no-live", "--format", "verdict", "--exec", "--",
                              "/bin/true"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("crashgrid: warning: --until decided with --runs 3 can never call a cell SAFE"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("at least 31 clean runs for SAFE (use --runs 31 or more)"), std::string::npos) << r.err;
  EXPECT_EQ(r.out.find("SAFE"), std::string::npos) << r.out;  // as warned

  std::string db2 = TestDir() + "/cap_ok.db";
  CmdResult ok = RunCrashgrid({"sweep", "--grid", "X=1", "--runs", "9", "--until", "decided", "--p1", "0.3",
                               "--duration", "1s", "--capture", "none", "--db", db2, "--no-live", "--format",
                               "verdict", "--exec", "--", "/bin/true"});
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(ok.err.find("can never call a cell SAFE"), std::string::npos) << ok.err;  // 9 suffice at p1 = 0.3
  EXPECT_NE(ok.out.find("SAFE"), std::string::npos) << ok.out;
}

// `mitigations` judges a run by the SPRT settings it was swept with: at p1 = 0.3, 9 clean runs are SAFE (at the
// defaults they would be 22 short of it).
TEST(SweepSettings, MitigationsUsesTheRunsOwnSprtSettings) {
  std::string db = TestDir() + "/mit_settings.db";
  CmdResult r = RunCrashgrid({"sweep", "--grid", "serialize=none,all", "--runs", "9", "--until", "decided", "--p1",
                              "0.3", "--duration", "1s", "--capture", "none", "--db", db, "--no-live", "--format",
                              "none", "--exec", "--", "/bin/true"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  CmdResult m = RunCrashgrid({"mitigations", db, "--json"});
  ASSERT_EQ(m.exit_code, 0) << m.err;
  nlohmann::json mj = nlohmann::json::parse(m.out);
  EXPECT_DOUBLE_EQ(mj["sprt"]["p1"].get<double>(), 0.3) << m.out;
  EXPECT_EQ(mj["recommended"], "none") << m.out;
  CmdResult text = RunCrashgrid({"mitigations", db});
  EXPECT_NE(text.out.find("SPRT p0=0.01 p1=0.3 alpha=0.05 beta=0.05"), std::string::npos) << text.out;
  // Given on the command line, the user's settings win.
  CmdResult strict = RunCrashgrid({"mitigations", db, "--json", "--p1", "0.1"});
  ASSERT_EQ(strict.exit_code, 0) << strict.err;
  nlohmann::json sj = nlohmann::json::parse(strict.out);
  EXPECT_TRUE(sj["recommended"].is_null()) << strict.out;
  EXPECT_DOUBLE_EQ(sj["sprt"]["p1"].get<double>(), 0.1);
}

}  // namespace
}  // namespace cg::test

// The stopping settings from the command line to the verdict: `--alpha` and `--beta` each in its place, and
// the refinement threshold from `--p0`/`--p1`, as stored with the run.
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace cg::test

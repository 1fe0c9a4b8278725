#include <gtest/gtest.h>

#include "sweep/stopping.h"

namespace cg {
namespace {

CellProgress P(int64_t k, int64_t n) {
  CellProgress c;
  c.crashes = k;
  c.n = n;
  return c;
}

// k crashes in n evidence trials, and `failed` trials that exited non-zero.
CellProgress PF(int64_t k, int64_t n, int64_t failed, int64_t overran = 0) {
  CellProgress c = P(k, n);
  c.failed = failed;
  c.overran = overran;
  return c;
}

TrialResult EndedAs(Outcome o) {
  TrialResult r;
  r.outcome = o;
  return r;
}

}  // namespace

TEST(CountTrial, CountsCrashesAndCleanRunsAsEvidenceAndFailedOrOverranApart) {
  CellProgress c;
  CountTrial(EndedAs(Outcome::kClean), 5, &c);
  CountTrial(EndedAs(Outcome::kCrashed), 1, &c);
  CountTrial(EndedAs(Outcome::kHung), 5, &c);
  CountTrial(EndedAs(Outcome::kFailed), 2, &c);
  CountTrial(EndedAs(Outcome::kFailed), 2, &c);
  CountTrial(EndedAs(Outcome::kOverran), 5, &c);
  CountTrial(EndedAs(Outcome::kCouldNotStart), 0, &c);
  EXPECT_EQ(c.n, 3);
  EXPECT_EQ(c.crashes, 2);
  EXPECT_EQ(c.failed, 2);
  EXPECT_EQ(c.overran, 1);
  EXPECT_EQ(c.ran(), 6);
  EXPECT_DOUBLE_EQ(c.exposure_s, 11);  // only the evidence trials' seconds
}

TEST(DecidedRule, FailedAndOverranTrialsNeverDecideACellButUseUpItsRuns) {
  auto rule = NewDecidedRule(69, SprtParams{});
  // 0: 31 trials that all exited 1 — not SAFE, keeps running. 1: 30 clean + 1 failed — 30 clean runs are not
  // yet SAFE (31 are). 2: 30 clean + 2 overran, likewise. 3: 31 clean + 5 failed: SAFE on its clean runs.
  // 4: 69 failed: at the cap, stops UNDECIDED.
  std::vector<CellProgress> cells = {PF(0, 0, 31), PF(0, 30, 1), PF(0, 30, 0, 2), PF(0, 31, 5), PF(0, 0, 69)};
  EXPECT_EQ(rule->NextRound(cells), (std::vector<size_t>{0, 1, 2}));
  // Cell 0: 31 clean runs would decide it, 38 runs are left under the cap; cells 1 and 2: 1 each.
  EXPECT_EQ(rule->RemainingEstimate(cells), 31 + 1 + 1);
  cells[0] = PF(0, 0, 60);  // only 9 runs left under the cap
  EXPECT_EQ(rule->RemainingEstimate(cells), 9 + 1 + 1);
}

TEST(FlatRule, CountsEveryTrialThatRanTowardsRuns) {
  auto rule = NewFlatRule(5);
  std::vector<CellProgress> cells = {PF(0, 2, 3), PF(0, 2, 1, 1), PF(0, 0, 0)};
  EXPECT_EQ(rule->NextRound(cells), (std::vector<size_t>{1, 2}));
  EXPECT_EQ(rule->RemainingEstimate(cells), 1 + 5);
}

TEST(RefineRule, SpendsNothingOnACellWhoseTrialsAllFailed) {
  RefineParams rp;
  rp.budget = 10;
  auto rule = NewRefineRule(5, SprtParams{}, rp);
  // Both at the cap; cell 0 has no estimate at all (APT would pick it first), cell 1 is unsettled.
  std::vector<CellProgress> cells = {PF(0, 0, 5), P(2, 5)};
  EXPECT_EQ(rule->NextRound(cells), (std::vector<size_t>{1}));
  EXPECT_EQ(rule->name(), "refine");
}

TEST(DecidedRule, RunsOnlyUndecidedCellsBelowTheCap) {
  auto rule = NewDecidedRule(69, SprtParams{});
  // 0: SAFE (31 clean), 1: CRASHES (2 of 3), 2: undecided, 3: undecided but at the cap, 4: not started.
  std::vector<CellProgress> cells = {P(0, 31), P(2, 3), P(0, 30), P(3, 69), P(0, 0)};
  EXPECT_EQ(rule->NextRound(cells), (std::vector<size_t>{2, 4}));
  EXPECT_EQ(rule->name(), "decided");
  // 1 more clean run for cell 2, 31 for cell 4.
  EXPECT_EQ(rule->RemainingEstimate(cells), 32);
}

TEST(DecidedRule, StopsWhenEveryCellIsDecidedOrCapped) {
  auto rule = NewDecidedRule(10, SprtParams{});
  std::vector<CellProgress> cells = {P(0, 10), P(5, 6)};
  EXPECT_TRUE(rule->NextRound(cells).empty());
  EXPECT_EQ(rule->RemainingEstimate(cells), 0);
}

TEST(RefineRule, DecidesFirstThenRefinesTheLeastCertainCell) {
  RefineParams rp;
  rp.budget = 3;
  auto rule = NewRefineRule(69, SprtParams{}, rp);
  std::vector<CellProgress> cells = {P(0, 31), P(2, 3), P(0, 30)};
  EXPECT_EQ(rule->NextRound(cells), (std::vector<size_t>{2}));
  EXPECT_EQ(rule->name(), "decided");
  cells[2].n = 31;  // now SAFE: every cell decided
  // Cell 0 and 2 (0/31, Wilson width 0.11) are settled; cell 1 (2/3) is not.
  EXPECT_EQ(rule->NextRound(cells), (std::vector<size_t>{1}));
  EXPECT_EQ(rule->name(), "refine");
  cells[1] = P(2, 4);
  EXPECT_EQ(rule->NextRound(cells), (std::vector<size_t>{1}));
  cells[1] = P(2, 6);  // 3 trials spent since refinement began: the budget is gone
  EXPECT_TRUE(rule->NextRound(cells).empty());
}

TEST(RefineRule, EndsWhenEveryIntervalIsNarrowEnough) {
  RefineParams rp;
  rp.apt.width = 0.5;
  auto rule = NewRefineRule(69, SprtParams{}, rp);
  std::vector<CellProgress> cells = {P(0, 31), P(10, 20)};  // 10/20: Wilson width 0.41 < 0.5
  EXPECT_TRUE(rule->NextRound(cells).empty());
}

TEST(RefineRule, BatchTakesTheSmallestIndices) {
  RefineParams rp;
  rp.batch = 2;
  auto rule = NewRefineRule(5, SprtParams{}, rp);
  // All at the cap and undecided or CRASHES; theta 0.055: 1/5 (0.2) is nearest, then 2/5, then 4/5.
  std::vector<CellProgress> cells = {P(4, 5), P(1, 5), P(2, 5)};
  EXPECT_EQ(rule->NextRound(cells), (std::vector<size_t>{1, 2}));
}

}  // namespace cg

namespace cg {

TEST(StoppingRuleFromSettings, BuildsTheRuleTheSettingsName) {
  std::unique_ptr<StoppingRule> rule;
  std::string err;
  ASSERT_TRUE(StoppingRuleFromSettings(nlohmann::json::object(), 69, 1, &rule, &err)) << err;
  EXPECT_EQ(rule->name(), "flat");
  ASSERT_TRUE(StoppingRuleFromSettings({{"until", "decided"}}, 69, 1, &rule, &err)) << err;
  EXPECT_EQ(rule->name(), "decided");
  // The settings' p1 reaches the rule: with p1 = 0.05, 31 clean runs are not yet SAFE.
  nlohmann::json strict = {{"until", "decided"}, {"sprt", {{"p0", 0.01}, {"p1", 0.05}}}};
  ASSERT_TRUE(StoppingRuleFromSettings(strict, 69, 1, &rule, &err)) << err;
  CellProgress c;
  c.n = 31;
  EXPECT_EQ(rule->NextRound({c}).size(), 1u);
  nlohmann::json refine = {{"until", "decided"}, {"refine", {{"width", 0.3}, {"budget", 5}}}};
  ASSERT_TRUE(StoppingRuleFromSettings(refine, 69, 2, &rule, &err)) << err;
  EXPECT_EQ(rule->name(), "decided");
}

TEST(StoppingRuleFromSettings, RejectsInvalidParametersNamingTheFlag) {
  std::unique_ptr<StoppingRule> rule;
  std::string err;
  EXPECT_FALSE(StoppingRuleFromSettings({{"until", "decided"}, {"sprt", {{"p0", 0.2}, {"p1", 0.1}}}}, 69, 1, &rule,
                                        &err));
  EXPECT_NE(err.find("--p0"), std::string::npos) << err;
  EXPECT_FALSE(StoppingRuleFromSettings({{"until", "forever"}}, 69, 1, &rule, &err));
  EXPECT_NE(err.find("--until 'forever'"), std::string::npos) << err;
  EXPECT_FALSE(StoppingRuleFromSettings({{"until", "decided"}, {"refine", {{"width", 0}}}}, 69, 1, &rule, &err));
  EXPECT_NE(err.find("--refine-width"), std::string::npos) << err;
}

}  // namespace cg

namespace cg {

TEST(RunsCapWarning, SaysBeforeTheSweepThatTheCapIsBelowTheSafeMinimum) {
  StoppingSettings s;
  s.until = StoppingSettings::Until::kDecided;
  // Defaults: SAFE needs 31 clean runs, the default --runs is 10.
  ASSERT_EQ(SprtCleanRunsToSafe(0, 0, s.sprt), 31);
  std::string w = RunsCapWarning(s, 10);
  EXPECT_NE(w.find("--runs 10 can never call a cell SAFE"), std::string::npos) << w;
  EXPECT_NE(w.find("at least 31 clean runs"), std::string::npos) << w;
  EXPECT_NE(w.find("use --runs 31 or more"), std::string::npos) << w;
  EXPECT_EQ(RunsCapWarning(s, 31), "");
  EXPECT_NE(RunsCapWarning(s, 30), "");
  // Computed from the settings, not a constant: a looser p1 needs fewer runs.
  s.sprt.p1 = 0.3;
  int64_t needed = SprtCleanRunsToSafe(0, 0, s.sprt);
  EXPECT_LT(needed, 31);
  EXPECT_EQ(RunsCapWarning(s, needed), "");
  EXPECT_NE(RunsCapWarning(s, needed - 1), "");
  // --until runs decides nothing: no warning.
  s.until = StoppingSettings::Until::kRuns;
  EXPECT_EQ(RunsCapWarning(s, 1), "");
}

}  // namespace cg

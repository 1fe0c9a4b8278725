// The scheduler on its own: rounds, their order, resume state, verdicts, refinement. No store, no processes.
#include <algorithm>
#include <functional>
#include <optional>
#include <set>

#include <gtest/gtest.h>

#include "sweep/scheduler.h"

namespace cg {
namespace {

std::vector<Cell> Cells(int n) {
  std::vector<Cell> cells;
  for (int i = 0; i < n; ++i) cells.push_back({{"X", std::to_string(i)}});
  return cells;
}

TrialResult Ended(Outcome o) {
  TrialResult r;
  r.outcome = o;
  r.duration_s = 1;
  return r;
}

SweepPlan Plan(int cells, int64_t runs, uint64_t seed = 7) {
  SweepPlan p;
  p.cells = Cells(cells);
  p.runs = runs;
  p.seed = seed;
  return p;
}

// Runs the scheduler to its end, every trial ending as `script(cell, repetition)` says; returns the rounds.
std::vector<std::vector<size_t>> RunToEnd(Scheduler* s, const std::function<Outcome(size_t, int)>& script) {
  std::vector<std::vector<size_t>> rounds;
  for (int guard = 0; guard < 10000; ++guard) {
    std::vector<size_t> round = s->NextRound();
    if (round.empty()) break;
    for (size_t c : round) s->Record(c, Ended(script(c, s->NextRepetition(c))), 1);
    rounds.push_back(round);
  }
  return rounds;
}

TEST(Scheduler, EachRoundRunsEveryUnfinishedCellOnce) {
  Scheduler s(Plan(6, 3));
  auto rounds = RunToEnd(&s, [](size_t, int) { return Outcome::kClean; });
  ASSERT_EQ(rounds.size(), 3u);
  for (const auto& round : rounds) {
    std::vector<size_t> sorted = round;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(sorted, (std::vector<size_t>{0, 1, 2, 3, 4, 5}));
  }
  for (size_t c = 0; c < 6; ++c) EXPECT_EQ(s.NextRepetition(c), 3);
  EXPECT_EQ(s.totals().recorded, 18);
}

TEST(Scheduler, TheOrderIsAFixedPermutationOfTheSeedAndDiffersBetweenRounds) {
  Scheduler a(Plan(8, 4, 42)), b(Plan(8, 4, 42)), c(Plan(8, 4, 43));
  auto clean = [](size_t, int) { return Outcome::kClean; };
  auto ra = RunToEnd(&a, clean), rb = RunToEnd(&b, clean), rc = RunToEnd(&c, clean);
  EXPECT_EQ(ra, rb) << "the same seed gives the same order";
  EXPECT_NE(ra, rc) << "another seed gives another order";
  ASSERT_EQ(ra.size(), 4u);
  std::set<std::vector<size_t>> distinct(ra.begin(), ra.end());
  EXPECT_EQ(distinct.size(), ra.size()) << "every round is shuffled afresh";
  std::vector<size_t> grid_order = {0, 1, 2, 3, 4, 5, 6, 7};
  EXPECT_EQ(distinct.count(grid_order), 0u) << "not the grid order";
}

TEST(Scheduler, ResumedCountsScheduleOnlyWhatRemainsAndRepetitionsContinue) {
  Scheduler s(Plan(3, 4));
  ASSERT_EQ(s.CellIndex("X=1"), 1);
  EXPECT_EQ(s.CellIndex("X=9"), -1);
  s.Restore(0, Outcome::kClean, 4, 4, 3);    // done
  s.Restore(1, Outcome::kClean, 1, 1, 0);
  s.Restore(1, Outcome::kCrashed, 1, 1, 1);  // two ran
  s.Restore(2, Outcome::kFailed, 1, 0, 5);   // one ran, but repetition 5 is taken (a gap)
  EXPECT_EQ(s.NextRepetition(0), 4);
  EXPECT_EQ(s.NextRepetition(1), 2);
  EXPECT_EQ(s.NextRepetition(2), 6) << "never reuses a recorded repetition";
  EXPECT_EQ(s.progress(1).crashes, 1);
  EXPECT_EQ(s.progress(1).n, 2);
  EXPECT_EQ(s.totals().ran, 7);
  EXPECT_EQ(s.totals().crashes, 1);
  EXPECT_EQ(s.totals().failed, 1);
  EXPECT_EQ(s.RemainingEstimate(), 0 + 2 + 3);
  std::vector<size_t> round = s.NextRound();
  std::sort(round.begin(), round.end());
  EXPECT_EQ(round, (std::vector<size_t>{1, 2}));
}

TEST(Scheduler, TheRemainingEstimateCountsDownWithEveryRecordedTrial) {
  Scheduler s(Plan(4, 2));
  EXPECT_EQ(s.RemainingEstimate(), 8);
  std::vector<size_t> round = s.NextRound();
  s.Record(round[0], Ended(Outcome::kClean), 1);
  EXPECT_EQ(s.RemainingEstimate(), 7);
  s.Record(round[1], Ended(Outcome::kCrashed), 1);
  EXPECT_EQ(s.RemainingEstimate(), 6);
}

TEST(Scheduler, ACellThatCouldNotStartIsLeftOutOfLaterRounds) {
  Scheduler s(Plan(3, 5));
  std::vector<size_t> round = s.NextRound();
  for (size_t c : round) {
    TrialResult r = Ended(c == 1 ? Outcome::kCouldNotStart : Outcome::kClean);
    r.detail = c == 1 ? "no GPU" : "";
    s.Record(c, r, 0);
  }
  EXPECT_TRUE(s.unrunnable(1));
  EXPECT_EQ(s.unrunnable_reason(1), "no GPU");
  round = s.NextRound();
  std::sort(round.begin(), round.end());
  EXPECT_EQ(round, (std::vector<size_t>{0, 2}));
}

// alpha = 0.01, beta = 0.2 with p0 = 0.01, p1 = 0.1: SAFE needs log-LR <= log(beta/(1-alpha)) = -1.60, i.e.
// 17 clean runs (each -0.0953); CRASHES needs >= log((1-beta)/alpha) = 4.38, i.e. 2 crashes (each +2.30).
// With alpha and beta swapped anywhere these are 46 and 1.
SweepPlan AsymmetricPlan() {
  SweepPlan p = Plan(2, 100);
  p.stopping.until = StoppingSettings::Until::kDecided;
  p.stopping.sprt = SprtParams{0.01, 0.10, 0.01, 0.20};
  return p;
}

TEST(Scheduler, SprtVerdictsUseAlphaAndBetaEachInItsPlace) {
  Scheduler s(AsymmetricPlan());
  // Cell 0 never crashes, cell 1 always does.
  std::vector<std::string> verdict0, verdict1;
  for (int guard = 0; guard < 1000; ++guard) {
    std::vector<size_t> round = s.NextRound();
    if (round.empty()) break;
    for (size_t c : round) {
      s.Record(c, Ended(c == 0 ? Outcome::kClean : Outcome::kCrashed), 1);
      (c == 0 ? verdict0 : verdict1).push_back(s.verdict(c));
    }
  }
  ASSERT_EQ(verdict0.size(), 17u) << "an always-clean cell is SAFE after 17 runs";
  ASSERT_EQ(verdict1.size(), 2u) << "an always-crashing cell is CRASHES after 2 runs";
  EXPECT_EQ(verdict0[15], "");
  EXPECT_EQ(verdict0[16], "SAFE");
  EXPECT_EQ(verdict1[0], "");
  EXPECT_EQ(verdict1[1], "CRASHES");
}

TEST(Scheduler, AnOpenCellIsUndecidedOnlyOnceItReachedItsRuns) {
  Scheduler s(Plan(1, 3));  // --until runs: the verdict still comes from the SPRT of the settings
  for (int i = 0; i < 3; ++i) {
    EXPECT_STREQ(s.verdict(0), "");
    ASSERT_EQ(s.NextRound(), (std::vector<size_t>{0}));
    s.Record(0, Ended(Outcome::kClean), 1);
  }
  EXPECT_STREQ(s.verdict(0), "UNDECIDED");
  EXPECT_TRUE(s.NextRound().empty());
}

// Refinement after the verdicts. With p0 = 0.2 and p1 = 0.6 its threshold is 0.4: cell 0 crashes 40% of the
// time (undecided at the cap of 20), cell 1 5% (SAFE after 7 runs). APT spends on the cell closest to the
// threshold, so every refinement trial goes to cell 0; a threshold of 0.055 (the default's middle) would send
// them to cell 1.
SweepPlan RefinePlan(int64_t budget) {
  SweepPlan p = Plan(2, 20);
  p.stopping.until = StoppingSettings::Until::kDecided;
  p.stopping.refine = true;
  p.stopping.sprt = SprtParams{0.2, 0.6, 0.05, 0.05};
  p.stopping.apt.theta = DefaultRefineTheta(p.stopping.sprt);
  p.stopping.refine_budget = budget;
  return p;
}

Outcome RefineScript(size_t cell, int rep) {
  if (cell == 0) return rep % 5 < 2 ? Outcome::kCrashed : Outcome::kClean;
  return rep % 20 == 0 ? Outcome::kCrashed : Outcome::kClean;
}

TEST(Scheduler, RefinementSpendsItsBudgetOnTheCellNearestTheMiddleOfP0AndP1) {
  SweepPlan plan = RefinePlan(10);
  ASSERT_DOUBLE_EQ(plan.stopping.apt.theta, 0.4);
  Scheduler s(plan);
  RunToEnd(&s, RefineScript);
  EXPECT_STREQ(s.verdict(1), "SAFE");
  EXPECT_EQ(s.progress(1).ran(), 7) << "no refinement trial went to the SAFE cell far from 0.4";
  EXPECT_EQ(s.progress(0).ran(), 20 + 10) << "the cap, then the whole budget";
  EXPECT_EQ(s.rule_name(), "refine");
}

TEST(Scheduler, RefinementBudgetDefaultsToTenTrialsPerCell) {
  Scheduler s(RefinePlan(0));
  RunToEnd(&s, RefineScript);
  EXPECT_EQ(s.totals().ran, 20 + 7 + 10 * 2);
}

}  // namespace
TEST(Scheduler, ReportsEachDecisionOnceWithTheCountsItWasReachedAtAndKeepsItThroughRefinement) {
  SweepPlan plan = Plan(1, 5);
  plan.stopping.until = StoppingSettings::Until::kDecided;
  plan.stopping.refine = true;
  plan.stopping.refine_budget = 40;
  Scheduler s(plan);
  // Two crashes at once: CRASHES at 2/2 (the defaults); then refinement's clean runs, past 2/19 (the last
  // n at which 2 crashes are CRASHES) until the Wilson interval is narrow enough.
  RunToEnd(&s, [](size_t, int rep) { return rep < 2 ? Outcome::kCrashed : Outcome::kClean; });
  EXPECT_GE(s.progress(0).n, 20);
  EXPECT_EQ(SprtDecide(s.progress(0).crashes, s.progress(0).n, plan.stopping.sprt), Verdict::kUndecided);
  EXPECT_STREQ(s.verdict(0), "CRASHES");  // the verdict where the SPRT stopped, not that of the final counts
}

TEST(Scheduler, TakeDecisionGivesTheVerdictOnceRightAfterTheTrialThatDecidedIt) {
  SweepPlan plan = Plan(2, 50);
  plan.stopping.until = StoppingSettings::Until::kDecided;
  Scheduler s(plan);
  s.NextRound();
  s.Record(0, Ended(Outcome::kCrashed), 1);
  EXPECT_FALSE(s.TakeDecision(0));
  s.Record(0, Ended(Outcome::kCrashed), 1);
  std::optional<CellVerdict> v = s.TakeDecision(0);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->cell_key, "X=0");
  EXPECT_EQ(v->rule, "sprt");
  EXPECT_EQ(v->verdict, "CRASHES");
  EXPECT_EQ(v->crashes, 2);
  EXPECT_EQ(v->evidence, 2);
  EXPECT_FALSE(s.TakeDecision(0));
  s.Record(0, Ended(Outcome::kClean), 1);  // a later trial (refinement) decides nothing again
  EXPECT_FALSE(s.TakeDecision(0));
  EXPECT_FALSE(s.TakeDecision(1));
}

TEST(Scheduler, RestoredCellsAreNotDecidedAgain) {
  SweepPlan plan = Plan(2, 50);
  plan.stopping.until = StoppingSettings::Until::kDecided;
  plan.stopping.refine = true;
  Scheduler s(plan);
  s.Restore(0, Outcome::kCrashed, 2, 2, 1);       // decided by counts stored before verdicts were
  s.Restore(1, Outcome::kCrashed, 2, 2, 1);
  s.Restore(1, Outcome::kClean, 30, 30, 31);      // now undecided, but stored as CRASHES where it stopped
  s.RestoreVerdict(1, Verdict::kCrashes);
  s.NextRound();
  s.Record(0, Ended(Outcome::kClean), 1);
  s.Record(1, Ended(Outcome::kClean), 1);
  EXPECT_FALSE(s.TakeDecision(0));
  EXPECT_FALSE(s.TakeDecision(1));
  EXPECT_STREQ(s.verdict(1), "CRASHES");
}

}  // namespace cg

namespace cg {
namespace {

TEST(Shard, EveryCellBelongsToExactlyOneShardAndShardsDifferByOneCellAtMost) {
  std::vector<Cell> all = Cells(10);
  std::multiset<std::string> seen;
  size_t smallest = all.size(), largest = 0;
  for (int k = 0; k < 4; ++k) {
    std::vector<Cell> part = ShardCells(all, Shard{k, 4});
    smallest = std::min(smallest, part.size());
    largest = std::max(largest, part.size());
    for (const Cell& c : part) seen.insert(CellKey(c));
  }
  std::multiset<std::string> expected;
  for (const Cell& c : all) expected.insert(CellKey(c));
  EXPECT_EQ(seen, expected);
  EXPECT_LE(largest - smallest, 1u);
}

TEST(Shard, TheAssignmentIsCellIndexModuloNInGridOrder) {
  std::vector<Cell> part = ShardCells(Cells(10), Shard{1, 4});
  ASSERT_EQ(part.size(), 3u);
  EXPECT_EQ(part[0], Cells(10)[1]);
  EXPECT_EQ(part[1], Cells(10)[5]);
  EXPECT_EQ(part[2], Cells(10)[9]);
  EXPECT_EQ(ShardCells(Cells(3), Shard{}), Cells(3));  // no shard: the whole grid
  EXPECT_TRUE(ShardCells(Cells(2), Shard{3, 4}).empty());  // more shards than cells: some run nothing
}

TEST(Shard, ParsesKOverNAndRefusesWhatIsNot) {
  Shard s;
  std::string err;
  ASSERT_TRUE(ParseShard("3/4", &s, &err)) << err;
  EXPECT_EQ(s.index, 3);
  EXPECT_EQ(s.count, 4);
  EXPECT_EQ(ShardName(s), "3/4");
  ASSERT_TRUE(ParseShard("0/1", &s, &err));
  EXPECT_FALSE(s.active());
  EXPECT_EQ(ShardName(s), "");
  for (const char* bad : {"4/4", "-1/4", "1", "1/0", "a/4", "1/4x", "", "/4"}) {
    err.clear();
    EXPECT_FALSE(ParseShard(bad, &s, &err)) << bad;
    EXPECT_NE(err.find("--shard"), std::string::npos) << bad;
  }
}

TEST(Shard, ASchedulerOfAShardRunsOnlyItsCells) {
  SweepPlan p;
  p.cells = ShardCells(Cells(7), Shard{2, 3});
  p.runs = 2;
  Scheduler s(std::move(p));
  auto rounds = RunToEnd(&s, [](size_t, int) { return Outcome::kClean; });
  ASSERT_EQ(rounds.size(), 2u);
  EXPECT_EQ(s.cell_count(), 2u);  // cells 2 and 5
  EXPECT_EQ(s.CellIndex(CellKey(Cells(7)[2])), 0);
  EXPECT_EQ(s.CellIndex(CellKey(Cells(7)[5])), 1);
  EXPECT_EQ(s.CellIndex(CellKey(Cells(7)[3])), -1);
  EXPECT_EQ(s.totals().recorded, 4);
}

}  // namespace
}  // namespace cg

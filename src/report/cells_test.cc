// Counting per cell from grouped trials: each group counts as its trials, and exposure is
// TrialExposureSeconds (the workload's own clock when it reported one).
#include "report/cells.h"

#include <map>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "report/table.h"
#include "stats/rate.h"
#include "stats/sequential.h"

namespace cg {
namespace {

StoredTrial T(int64_t id, const std::string& threads, Outcome outcome, double workload_s, double tto_s) {
  StoredTrial t;
  t.id = id;
  t.cell = {{"threads", threads}};
  t.cell_key = CellKey(t.cell);
  t.repetition = static_cast<int>(id);
  t.result.outcome = outcome;
  t.result.signal = outcome == Outcome::kCrashed ? 11 : 0;
  t.result.exit_code = outcome == Outcome::kFailed ? 3 : 0;
  t.result.workload_seconds = workload_s;
  t.result.time_to_outcome_s = tto_s;
  t.result.duration_s = tto_s;
  if (outcome == Outcome::kCrashed) t.result.signature = "SIGSEGV|a";
  return t;
}

TEST(Cells, GroupsCountAsTheirTrialsAndExposureIsTheWorkloadsClock) {
  RunRecord run;
  run.duration_s = 2;
  run.grid = {{"threads", {"1", "2"}}};
  std::vector<StoredTrial> trials = {
      T(1, "1", Outcome::kClean, 1.5, 2.2),    // workload clock: 1.5 (not min(2.2, 2) = 2)
      T(2, "1", Outcome::kClean, 1.5, 2.2),
      T(3, "1", Outcome::kCrashed, 0, 0.7),    // no workload clock: time to outcome
      T(4, "1", Outcome::kFailed, 1.0, 1.0),   // neither: no exposure
      T(5, "2", Outcome::kCrashed, 0, 9.0),    // capped at the run's duration
  };
  std::vector<TrialGroup> groups = GroupTrials(trials, run.duration_s);
  ASSERT_EQ(groups.size(), 4u);  // the two clean trials of threads=1 are one group
  auto cells = AggregateCells(run, groups);
  ASSERT_EQ(cells.size(), 2u);
  EXPECT_EQ(cells[0].trials, 4);
  EXPECT_EQ(cells[0].clean, 2);
  EXPECT_EQ(cells[0].n, 3);
  EXPECT_EQ(cells[0].crashes, 1);
  EXPECT_EQ(cells[0].failed, 1);
  EXPECT_EQ(cells[0].exit_codes.at(0), 2);
  EXPECT_EQ(cells[0].exit_codes.at(139), 1);
  EXPECT_EQ(cells[0].exit_codes.at(3), 1);
  EXPECT_DOUBLE_EQ(cells[0].exposure_s, 1.5 + 1.5 + 0.7);
  EXPECT_DOUBLE_EQ(cells[1].exposure_s, 2.0);
  double want = 0;
  for (const auto& t : trials) want += TrialExposureSeconds(t.result, run.duration_s);
  EXPECT_DOUBLE_EQ(cells[0].exposure_s + cells[1].exposure_s, want);
  EXPECT_EQ(cells[0].signatures.at("SIGSEGV|a"), 1);
}

TEST(Cells, SignatureResolvesFromGroupsByUniquePrefix) {
  std::vector<StoredTrial> trials = {T(1, "1", Outcome::kCrashed, 0, 1)};
  std::string full, err;
  ASSERT_TRUE(ResolveSignature("SIGSEGV", GroupTrials(trials, 0), &full, &err)) << err;
  EXPECT_EQ(full, "SIGSEGV|a");
  EXPECT_FALSE(ResolveSignature("SIGABRT", GroupTrials(trials, 0), &full, &err));
  EXPECT_NE(err.find("matches no crash"), std::string::npos) << err;
}

RunRecord RunUntil(const char* until, bool refine = false) {
  RunRecord run;
  run.duration_s = 2;
  run.grid = {{"threads", {"1"}}};
  run.settings = {{"until", until}};
  if (refine) run.settings["refine"] = nlohmann::json::object();
  return run;
}

TEST(ShowCell, PicksTheIntervalByHowTheCellStopped) {
  // --until runs: Wilson, and the one-sided bound with no crash.
  CellShown fixed = ShowCell(RunUntil("runs"), "threads=1", 0, 31);
  EXPECT_EQ(fixed.stop, StopKind::kFixed);
  EXPECT_DOUBLE_EQ(fixed.upper_bound, ZeroCrashUpperBound(31));
  EXPECT_FALSE(fixed.stopped_early);
  // --until decided: SAFE at 0/31 is a boundary stop; 1/10 undecided at the cap.
  CellShown safe = ShowCell(RunUntil("decided"), "threads=1", 0, 31);
  EXPECT_EQ(safe.stop, StopKind::kSprtBoundary);
  EXPECT_TRUE(safe.stopped_early);
  EXPECT_EQ(safe.verdict, "SAFE");
  Interval iv;
  ASSERT_TRUE(SprtExactInterval(0, 31, SprtParams{}, 0.05, &iv));
  EXPECT_DOUBLE_EQ(safe.ci.hi, iv.hi);
  CellShown capped = ShowCell(RunUntil("decided"), "threads=1", 1, 10);
  EXPECT_EQ(capped.stop, StopKind::kSprtCap);
  EXPECT_FALSE(capped.stopped_early);
  EXPECT_TRUE(capped.has_median_unbiased);
  // --refine, or a signature's share of the crashes: always-valid.
  EXPECT_EQ(ShowCell(RunUntil("decided", true), "threads=1", 1, 10).stop, StopKind::kAdaptive);
  EXPECT_EQ(ShowCell(RunUntil("decided"), "threads=1", 1, 10, /*subset=*/true).stop, StopKind::kAdaptive);
}

TEST(ShowCell, AStoredVerdictStandsAndLaterEvidenceIsAdaptive) {
  RunRecord run = RunUntil("decided");
  run.verdicts = {{"threads=1", "sprt", "CRASHES", 2, 12, 40}};
  CellShown s = ShowCell(run, "threads=1", 2, 30);
  EXPECT_EQ(s.verdict, "CRASHES");
  EXPECT_TRUE(s.verdict_stored);
  EXPECT_EQ(s.verdict_n, 12);
  EXPECT_TRUE(s.later_evidence());
  EXPECT_EQ(s.stop, StopKind::kAdaptive);
  // Another cell of the run has no stored verdict: recomputed.
  EXPECT_FALSE(ShowCell(run, "threads=2", 2, 30).verdict_stored);
  EXPECT_EQ(ShowCell(run, "threads=2", 2, 30).verdict, "UNDECIDED");
}

}  // namespace
// 31 trials that all exit 1 are no evidence of safety anywhere: no table, JSON or heatmap calls the cell SAFE.
// And one failed trial among 31 clean runs (SAFE by the SPRT alone) keeps the cell from SAFE everywhere.
TEST(Cells, FailedTrialsAreNeverEvidenceOfSafety) {
  RunRecord run;
  run.id = 1;
  run.duration_s = 2;
  run.grid = {{"threads", {"1", "2", "3"}}};
  std::vector<StoredTrial> trials;
  for (int i = 0; i < 31; ++i) trials.push_back(T(100 + i, "1", Outcome::kFailed, 1, 1));  // all exit 3
  for (int i = 0; i < 31; ++i) trials.push_back(T(200 + i, "2", Outcome::kClean, 1, 1));
  trials.push_back(T(300, "2", Outcome::kFailed, 1, 1));
  for (int i = 0; i < 31; ++i) trials.push_back(T(400 + i, "3", Outcome::kClean, 1, 1));  // the control
  std::vector<TrialGroup> groups = GroupTrials(trials, run.duration_s);
  std::vector<CellCounts> cells = AggregateCells(run, groups);
  ASSERT_EQ(cells.size(), 3u);
  EXPECT_EQ(cells[0].n, 0);
  EXPECT_EQ(cells[0].failed, 31);
  EXPECT_EQ(cells[0].exit_codes.at(3), 31);
  EXPECT_EQ(cells[1].n, 31);
  EXPECT_EQ(cells[1].failed, 1);
  SprtParams sprt;
  EXPECT_EQ(SprtDecide(cells[1].crashes, cells[1].n, sprt), Verdict::kSafe);
  EXPECT_EQ(CellSprtVerdict(cells[0].crashes, cells[0].n, cells[0].failed, sprt), Verdict::kUndecided);
  EXPECT_EQ(CellSprtVerdict(cells[1].crashes, cells[1].n, cells[1].failed, sprt), Verdict::kUndecided);
  EXPECT_EQ(CellSprtVerdict(cells[2].crashes, cells[2].n, cells[2].failed, sprt), Verdict::kSafe);

  TableOptions o;
  o.format = TableFormat::kVerdict;
  std::string out, err;
  ASSERT_TRUE(RenderTable(run, groups, o, &out, &err)) << err;
  EXPECT_NE(out.find("31 failed"), std::string::npos) << out;
  EXPECT_NE(out.find("UNDECIDED 0/31 +1 failed"), std::string::npos) << out;
  EXPECT_NE(out.find("SAFE 0/31"), std::string::npos) << out;  // threads=3 only
  EXPECT_EQ(out.find("SAFE 0/31 +1"), std::string::npos) << out;
  o.format = TableFormat::kJson;
  ASSERT_TRUE(RenderTable(run, groups, o, &out, &err)) << err;
  nlohmann::json j = nlohmann::json::parse(out);
  ASSERT_EQ(j["cells"].size(), 3u);
  EXPECT_TRUE(j["cells"][0]["verdict"].is_null()) << j["cells"][0].dump();
  EXPECT_EQ(j["cells"][0]["failed"], 31);
  EXPECT_EQ(j["cells"][1]["verdict"], "UNDECIDED");
  EXPECT_EQ(j["cells"][2]["verdict"], "SAFE");
  o.format = TableFormat::kCsv;
  ASSERT_TRUE(RenderTable(run, groups, o, &out, &err)) << err;
  EXPECT_NE(out.find("failed"), std::string::npos) << out;  // the column
}

}  // namespace cg

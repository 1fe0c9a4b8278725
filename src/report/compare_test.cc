#include "report/compare.h"

#include <gtest/gtest.h>

namespace cg {
namespace {

// Adds n trials to `trials` in `cell`, the first k of them crashed with `signature`.
void AddTrials(std::vector<StoredTrial>* trials, const Cell& cell, int k, int n, const std::string& signature = "") {
  for (int i = 0; i < n; ++i) {
    StoredTrial t;
    t.id = static_cast<int64_t>(trials->size()) + 1;
    t.cell = cell;
    t.cell_key = CellKey(cell);
    t.repetition = i;
    t.result.outcome = i < k ? Outcome::kCrashed : Outcome::kClean;
    t.result.signal = i < k ? 11 : 0;
    t.result.signature = i < k ? signature : "";
    t.result.time_to_outcome_s = i < k ? 1.0 : 5.0;
    trials->push_back(t);
  }
}

RunRecord MakeRun(int64_t id, std::vector<GridAxis> grid) {
  RunRecord r;
  r.id = id;
  r.workload = "reference-race";
  r.duration_s = 5;
  r.grid = std::move(grid);
  return r;
}

CompareArm Arm(const std::string& label, RunRecord run, std::vector<StoredTrial> trials) {
  CompareArm a;
  a.label = label;
  a.description = "run " + std::to_string(run.id);
  a.run = std::move(run);
  a.groups = GroupTrials(trials, a.run.duration_s);
  return a;
}

}  // namespace

TEST(Compare, FindsTheCellsWhereBCrashesMoreAndListsUnmatchedCellsAndSignatures) {
  std::vector<StoredTrial> ta, tb;
  AddTrials(&ta, {{"threads", "1"}}, 0, 31);
  AddTrials(&ta, {{"threads", "2"}}, 1, 30, "SIGSEGV|null|libnvcuvid.so.1@0x1234");
  AddTrials(&ta, {{"threads", "3"}}, 0, 20);
  AddTrials(&tb, {{"threads", "1"}}, 0, 31);
  AddTrials(&tb, {{"threads", "2"}}, 20, 30, "SIGSEGV|null|libcuda.so.1@0x99");
  AddTrials(&tb, {{"threads", "4"}}, 3, 10, "SIGSEGV|null|libcuda.so.1@0x99");
  CompareArm a = Arm("A", MakeRun(1, {{"threads", {"1", "2", "3"}}}), ta);
  CompareArm b = Arm("B", MakeRun(2, {{"threads", {"1", "2", "4"}}}), tb);
  CompareResult r = Compare(a, b, CompareOptions{});
  // Rates: A 1 crash in 60 x 5 s + 1 x 1 s = 5.02 min; B 20 crashes in 20 x 1 s + 41 x 5 s = 3.75 min.
  const char* kGolden = R"(A = A: run 1
B = B: run 2
cells matched on threads: 2

k/n: trials that crashed or hung / trials that crashed, hung or exited 0
cell           A k/n   A p      B k/n   B p     B-A         p   Holm p
threads=1       0/31  0.00       0/31  0.00   +0.00    1.0000   1.0000
threads=2       1/30  0.03      20/30  0.67   +0.63   <0.0001  <0.0001  B more

B crashes more in 1 of 2 cells, fewer in 0 (boschloo exact test, Holm-adjusted p < 0.05).
Over the matched cells: A 1/61 crashed, 0.199/min [0.00505, 1.11]; B 20/61 crashed, 5.33/min [3.26, 8.24].
Unmatched cells: 1 only in A, 1 only in B.
  only in A: threads=3
  only in B: threads=4
Signatures only in A:
     1x SIGSEGV|null|libnvcuvid.so.1@0x1234
Signatures only in B:
    20x SIGSEGV|null|libcuda.so.1@0x99
)";
  ASSERT_EQ(r.cells.size(), 2u);
  EXPECT_EQ(r.more, 1);
  EXPECT_EQ(r.fewer, 0);
  EXPECT_EQ(r.cells[1].direction, 1);
  EXPECT_EQ(r.cells[1].test, "boschloo");
  EXPECT_EQ(r.unmatched_a, std::vector<std::string>{"threads=3"});
  EXPECT_EQ(r.unmatched_b, std::vector<std::string>{"threads=4"});
  EXPECT_EQ(RenderCompareText(r), kGolden);
  nlohmann::json j = CompareToJson(r);
  EXPECT_EQ(j["schema_version"], kCompareJsonSchemaVersion);
  EXPECT_EQ(j["summary"]["b_more"], 1);
  EXPECT_EQ(j["cells"][1]["direction"], "more");
  EXPECT_EQ(j["signatures_only_b"][0]["signature"], "SIGSEGV|null|libcuda.so.1@0x99");
  EXPECT_EQ(j["signatures_only_b"][0]["crashes"], 20);  // matched cells only
}

TEST(Compare, LeavesFailedAndOverranTrialsOutOfEveryCountAndSaysHowMany) {
  std::vector<StoredTrial> ta, tb;
  AddTrials(&ta, {{"threads", "1"}}, 2, 10);
  AddTrials(&tb, {{"threads", "1"}}, 2, 10);
  AddTrials(&ta, {{"threads", "2"}}, 0, 3);
  for (auto& t : ta)
    if (t.cell_key == "threads=2") t.result.outcome = Outcome::kFailed;  // a cell that only failed
  for (int i = 0; i < 3; ++i) {
    AddTrials(&tb, {{"threads", "1"}}, 0, 1);
    tb.back().result.outcome = Outcome::kOverran;
  }
  CompareResult r = Compare(Arm("A", MakeRun(1, {{"threads", {"1", "2"}}}), ta),
                            Arm("B", MakeRun(2, {{"threads", {"1"}}}), tb), CompareOptions{});
  ASSERT_EQ(r.cells.size(), 1u);
  EXPECT_EQ(r.cells[0].na, 10);
  EXPECT_EQ(r.cells[0].nb, 10);  // not 13: the overran trials are neither crashes nor clean runs
  EXPECT_EQ(r.cells[0].kb, 2);
  EXPECT_TRUE(r.unmatched_a.empty());  // a cell of failures only is no evidence to match
  EXPECT_EQ(r.failed_a, 3);
  EXPECT_EQ(r.overran_b, 3);
  std::string text = RenderCompareText(r);
  EXPECT_NE(text.find("Not counted (neither crashes nor clean runs): A 3 failed, 0 overran; B 0 failed, 3 overran."),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("k/n: trials that crashed or hung / trials that crashed, hung or exited 0"), std::string::npos);
  nlohmann::json j = CompareToJson(r);
  EXPECT_EQ(j["a"]["failed"], 3);
  EXPECT_EQ(j["b"]["overran"], 3);
  EXPECT_EQ(j["b"]["n"], 10);
}

TEST(Compare, HolmCorrectionKeepsABorderlineCellFromCountingAmongMany) {
  // One cell alone: 5/20 vs 0/20 is significant. Among ten identical null cells Holm multiplies by ten.
  std::vector<StoredTrial> ta, tb;
  AddTrials(&ta, {{"t", "0"}}, 0, 20);
  AddTrials(&tb, {{"t", "0"}}, 5, 20);
  RunRecord ra = MakeRun(1, {{"t", {"0"}}}), rb = MakeRun(2, {{"t", {"0"}}});
  CompareResult one = Compare(Arm("A", ra, ta), Arm("B", rb, tb), CompareOptions{});
  ASSERT_EQ(one.cells.size(), 1u);
  EXPECT_LT(one.cells[0].p_value, 0.05);
  EXPECT_EQ(one.more, 1);
  std::vector<std::string> values = {"0"};
  for (int i = 1; i < 10; ++i) {
    Cell c = {{"t", std::to_string(i)}};
    AddTrials(&ta, c, 0, 20);
    AddTrials(&tb, c, 0, 20);
    values.push_back(std::to_string(i));
  }
  ra.grid = rb.grid = {{"t", values}};
  CompareResult many = Compare(Arm("A", ra, ta), Arm("B", rb, tb), CompareOptions{});
  ASSERT_EQ(many.cells.size(), 10u);
  EXPECT_DOUBLE_EQ(many.cells[0].p_value, one.cells[0].p_value);
  EXPECT_GT(many.cells[0].p_adjusted, 0.05);
  EXPECT_EQ(many.more, 0);
}

TEST(Compare, PoolsOverAxesOnlyOneSideHas) {
  std::vector<StoredTrial> ta, tb;
  AddTrials(&ta, {{"threads", "2"}, {"sessions", "1"}}, 1, 10);
  AddTrials(&ta, {{"threads", "2"}, {"sessions", "2"}}, 2, 10);
  AddTrials(&tb, {{"threads", "2"}}, 0, 10);
  CompareResult r = Compare(Arm("A", MakeRun(1, {{"threads", {"2"}}, {"sessions", {"1", "2"}}}), ta),
                            Arm("B", MakeRun(2, {{"threads", {"2"}}}), tb), CompareOptions{});
  ASSERT_EQ(r.cells.size(), 1u);
  EXPECT_EQ(r.cells[0].key, "threads=2");
  EXPECT_EQ(r.cells[0].ka, 3);
  EXPECT_EQ(r.cells[0].na, 20);
  EXPECT_EQ(r.only_axes_a, std::vector<std::string>{"sessions"});
}

TEST(Compare, SplitByAxisMakesOneArmPerValueAndPicksNoneAsBaseline) {
  std::vector<StoredTrial> t;
  for (const char* v : {"all", "none", "open"}) {
    AddTrials(&t, {{"threads", "4"}, {"serialize", v}}, std::string(v) == "none" ? 8 : 0, 10);
  }
  RunRecord run = MakeRun(7, {{"threads", {"4"}}, {"serialize", {"all", "none", "open"}}});
  std::vector<CompareArm> arms;
  std::string err;
  ASSERT_TRUE(SplitRunByAxis(run, GroupTrials(t, run.duration_s), "serialize", &arms, &err)) << err;
  ASSERT_EQ(arms.size(), 3u);
  EXPECT_EQ(arms[1].label, "serialize=none");
  EXPECT_EQ(BaselineArm(arms, "serialize"), 1u);
  EXPECT_EQ(arms[0].groups[0].cell_key, "threads=4");
  CompareResult r = Compare(arms[1], arms[2], CompareOptions{});
  ASSERT_EQ(r.cells.size(), 1u);
  EXPECT_EQ(r.fewer, 1);
  EXPECT_FALSE(SplitRunByAxis(run, GroupTrials(t, run.duration_s), "serialise", &arms, &err));
  EXPECT_NE(err.find("did you mean 'serialize'"), std::string::npos) << err;
}

}  // namespace cg

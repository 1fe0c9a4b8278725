#include "report/mitigations.h"

#include <gtest/gtest.h>

namespace cg {
namespace {

// n trials of `policy` at `threads`, the first k crashed; each clean trial ran 5 s of workload doing
// `iterations_per_s` iterations a second.
void AddTrials(std::vector<StoredTrial>* trials, const std::string& threads, const std::string& policy, int k,
               int n, double iterations_per_s) {
  for (int i = 0; i < n; ++i) {
    StoredTrial t;
    t.cell = {{"threads", threads}, {"serialize", policy}};
    t.cell_key = CellKey(t.cell);
    t.repetition = i;
    bool crash = i < k;
    t.result.outcome = crash ? Outcome::kCrashed : Outcome::kClean;
    t.result.signal = crash ? 11 : 0;
    t.result.time_to_outcome_s = crash ? 1 : 5;
    t.result.workload_seconds = crash ? 1 : 5;
    t.result.iterations = static_cast<int64_t>(iterations_per_s * t.result.workload_seconds);
    trials->push_back(t);
  }
}

// n trials of `policy` at `threads` that all ended `outcome` (failed: exit 1) after 5 s of workload.
void AddOutcomes(std::vector<StoredTrial>* trials, const std::string& threads, const std::string& policy,
                 Outcome outcome, int n, double iterations_per_s) {
  for (int i = 0; i < n; ++i) {
    StoredTrial t;
    t.cell = {{"threads", threads}, {"serialize", policy}};
    t.cell_key = CellKey(t.cell);
    t.repetition = 1000 + i;
    t.result.outcome = outcome;
    t.result.exit_code = outcome == Outcome::kFailed ? 1 : 0;
    t.result.time_to_outcome_s = 5;
    t.result.workload_seconds = 5;
    t.result.iterations = static_cast<int64_t>(iterations_per_s * 5);
    trials->push_back(t);
  }
}

RunRecord MakeRun(std::vector<std::string> policies) {
  RunRecord r;
  r.id = 4;
  r.workload = "reference-race";
  r.reference_target = true;
  r.duration_s = 5;
  r.grid = {{"threads", {"2", "4"}}, {"serialize", std::move(policies)}};
  return r;
}

}  // namespace

TEST(Mitigations, RecommendsTheCheapestPolicyThatIsSafeEverywhere) {
  // The reference target's race is in `open`: serializing open removes it at a small cost, `all` removes
  // it at a large one, `close` does not remove it.
  std::vector<StoredTrial> t;
  for (const char* threads : {"2", "4"}) {
    AddTrials(&t, threads, "none", 5, 8, 200);
    AddTrials(&t, threads, "all", 0, 31, 100);
    AddTrials(&t, threads, "open", 0, 31, 180);
    AddTrials(&t, threads, "close", 3, 6, 194);
  }
  MitigationStudy s;
  std::string err;
  ASSERT_TRUE(BuildMitigationStudy(MakeRun({"none", "all", "open", "close"}), GroupTrials(t, 0), "serialize", SprtParams{}, &s,
                                   &err))
      << err;
  ASSERT_EQ(s.recommended, 2);
  EXPECT_EQ(s.policies[2].policy, "open");
  EXPECT_EQ(s.policies[0].verdict, "some CRASHES");
  EXPECT_EQ(s.policies[3].verdict, "some CRASHES");
  EXPECT_NEAR(s.policies[2].relative, -0.10, 1e-9);
  const char* kGolden = R"(Mitigation study: run 4 (reference-race, reference target), policy axis 'serialize', SPRT p0=0.01 p1=0.1 alpha=0.05 beta=0.05

policy  verdict       SAFE CRASHES UNDECIDED   crashes/n  failed overran no start      95% upper  iterations/s  vs none
none    some CRASHES     0       2         0       10/16       0       0        0       p < 0.89           200  +0%
all     all SAFE         2       0         0        0/62       0       0        0      p < 0.093           100  -50%
open    all SAFE         2       0         0        0/62       0       0        0      p < 0.093           180  -10%
close   some CRASHES     0       2         0        6/12       0       0        0       p < 0.85           194  -3%

SAFE, CRASHES, UNDECIDED: cells by SPRT verdict (a cell with a failed trial is never SAFE). crashes/n: trials that crashed or hung / trials that crashed, hung or exited 0. failed (exited non-zero), overran (killed past the bound while still making progress) and no start (could not start): trials that are neither, in no verdict; a policy with any is never recommended. 95% upper: the Clopper-Pearson bound of the policy's weakest cell.

Recommendation: serialize=open: every cell SAFE, cost -10% iterations/s vs none, crash probability p < 0.093 at 95% in every cell (Clopper-Pearson, by its weakest cell, threads=2: 31 trials).
)";
  std::string text = RenderMitigationsText(s);
  EXPECT_EQ(text, kGolden);
  nlohmann::json j = MitigationsToJson(s);
  EXPECT_EQ(j["schema_version"], kMitigationsJsonSchemaVersion);
  EXPECT_EQ(j["recommended"], "open");
  EXPECT_EQ(j["policies"][1]["cells"][0]["verdict"], "SAFE");
}

TEST(Mitigations, AmongNearTiesPrefersTheFewestSerializedPhases) {
  std::vector<StoredTrial> t;
  for (const char* threads : {"2", "4"}) {
    AddTrials(&t, threads, "none", 5, 8, 200);
    AddTrials(&t, threads, "open+close", 0, 31, 182);  // 1% faster than open: noise
    AddTrials(&t, threads, "open", 0, 31, 180);
  }
  MitigationStudy s;
  std::string err;
  ASSERT_TRUE(BuildMitigationStudy(MakeRun({"none", "open+close", "open"}), GroupTrials(t, 0), "serialize", SprtParams{}, &s, &err));
  ASSERT_GE(s.recommended, 0);
  EXPECT_EQ(s.policies[static_cast<size_t>(s.recommended)].policy, "open");
}

TEST(Mitigations, WithoutASafePolicyNamesTheCandidateAndTheRunsStillNeeded) {
  std::vector<StoredTrial> t;
  for (const char* threads : {"2", "4"}) {
    AddTrials(&t, threads, "none", 5, 8, 200);
    AddTrials(&t, threads, "open", 0, 20, 180);  // 11 clean runs short of SAFE in each cell
  }
  MitigationStudy s;
  std::string err;
  ASSERT_TRUE(BuildMitigationStudy(MakeRun({"none", "open"}), GroupTrials(t, 0), "serialize", SprtParams{}, &s, &err));
  EXPECT_EQ(s.recommended, -1);
  ASSERT_EQ(s.candidate, 1);
  EXPECT_EQ(s.policies[1].runs_to_safe, 22);
  EXPECT_NE(s.recommendation.find("Best candidate: serialize=open"), std::string::npos) << s.recommendation;
  EXPECT_NE(s.recommendation.find("about 22 more clean runs"), std::string::npos) << s.recommendation;
}

TEST(Mitigations, NeverRecommendsAPolicyWhoseTrialsFailed) {
  // serialize=all makes the program exit 1 every time: 31 failed trials per cell, no crash, and the fastest
  // numbers. It is not SAFE and not a fix; open is.
  std::vector<StoredTrial> t;
  for (const char* threads : {"2", "4"}) {
    AddTrials(&t, threads, "none", 5, 8, 200);
    AddOutcomes(&t, threads, "all", Outcome::kFailed, 31, 400);
    AddTrials(&t, threads, "open", 0, 31, 180);
  }
  MitigationStudy s;
  std::string err;
  ASSERT_TRUE(BuildMitigationStudy(MakeRun({"none", "all", "open"}), GroupTrials(t, 0), "serialize", SprtParams{}, &s, &err)) << err;
  const PolicySummary& all = s.policies[1];
  EXPECT_EQ(all.verdict, "some FAILED");
  EXPECT_EQ(all.safe, 0);
  EXPECT_EQ(all.n, 0);
  EXPECT_EQ(all.failed, 62);
  for (const auto& c : all.cells) EXPECT_EQ(c.verdict, Verdict::kUndecided) << c.key;
  ASSERT_EQ(s.recommended, 2);
  EXPECT_EQ(s.policies[2].policy, "open");
  nlohmann::json j = MitigationsToJson(s);
  EXPECT_EQ(j["policies"][1]["failed"], 62);
  EXPECT_EQ(j["policies"][1]["cells"][0]["verdict"], "UNDECIDED");
  EXPECT_EQ(j["recommended"], "open");

  // Without open, nothing is recommended, and the failing policy is not offered as a candidate either.
  std::vector<StoredTrial> without_open;
  for (const auto& tr : t)
    if (tr.cell[1].second != "open") without_open.push_back(tr);
  ASSERT_TRUE(BuildMitigationStudy(MakeRun({"none", "all"}), GroupTrials(without_open, 0), "serialize", SprtParams{}, &s, &err));
  EXPECT_EQ(s.recommended, -1);
  EXPECT_EQ(s.candidate, -1);
  EXPECT_NE(s.recommendation.find("No policy can be recommended"), std::string::npos) << s.recommendation;
  EXPECT_NE(s.recommendation.find("serialize=all (62 failed)"), std::string::npos) << s.recommendation;
  std::string text = RenderMitigationsText(s);
  EXPECT_NE(text.find("all     some FAILED      0       0         2         0/0      62       0        0"),
            std::string::npos)
      << text;
}

TEST(Mitigations, NeverRecommendsAPolicyWhoseTrialsOverran) {
  // open+close is SAFE in every cell by its clean runs, and fastest, but some of its trials ran past their
  // bound: a fix that makes the program too slow to finish is not recommended.
  std::vector<StoredTrial> t;
  for (const char* threads : {"2", "4"}) {
    AddTrials(&t, threads, "none", 5, 8, 200);
    AddTrials(&t, threads, "open+close", 0, 31, 190);
    AddOutcomes(&t, threads, "open+close", Outcome::kOverran, 1, 190);
    AddTrials(&t, threads, "open", 0, 20, 180);  // not yet SAFE: the candidate
  }
  MitigationStudy s;
  std::string err;
  ASSERT_TRUE(BuildMitigationStudy(MakeRun({"none", "open+close", "open"}), GroupTrials(t, 0), "serialize", SprtParams{}, &s, &err));
  EXPECT_EQ(s.policies[1].verdict, "some OVERRAN");
  EXPECT_EQ(s.policies[1].safe, 2);  // its cells' verdicts stand on their clean runs...
  EXPECT_EQ(s.policies[1].n, 62);    // ...which the overran trials are not among
  EXPECT_EQ(s.policies[1].overran, 2);
  EXPECT_EQ(s.recommended, -1);
  ASSERT_EQ(s.candidate, 2);
  EXPECT_NE(s.recommendation.find("Best candidate: serialize=open"), std::string::npos) << s.recommendation;
  EXPECT_NE(s.recommendation.find("Not a fix: serialize=open+close (2 overran)"), std::string::npos)
      << s.recommendation;
}

TEST(Mitigations, StatesTheWorstCellsBoundNotOnePooledOverCells) {
  // Two cells of 31 clean runs each: each supports p < 0.093 (Clopper-Pearson, one-sided 95%); pooled, the 62
  // runs would claim p < 0.048, which no cell supports.
  std::vector<StoredTrial> t;
  AddTrials(&t, "2", "none", 5, 8, 200);
  AddTrials(&t, "4", "none", 5, 8, 200);
  AddTrials(&t, "2", "open", 0, 31, 180);
  AddTrials(&t, "4", "open", 0, 40, 180);
  MitigationStudy s;
  std::string err;
  ASSERT_TRUE(BuildMitigationStudy(MakeRun({"none", "open"}), GroupTrials(t, 0), "serialize", SprtParams{}, &s, &err));
  ASSERT_EQ(s.recommended, 1);
  const PolicySummary& open = s.policies[1];
  EXPECT_NEAR(open.worst_upper, ClopperPearsonUpper(0, 31), 1e-12);
  EXPECT_EQ(open.worst_cell, "threads=2");
  EXPECT_LT(open.pooled_upper, 0.05);
  EXPECT_NE(s.recommendation.find("p < 0.093 at 95% in every cell"), std::string::npos) << s.recommendation;
  EXPECT_EQ(s.recommendation.find("0.042"), std::string::npos) << s.recommendation;
  EXPECT_NE(RenderMitigationsText(s).find("p < 0.093"), std::string::npos);
  EXPECT_NEAR(MitigationsToJson(s)["policies"][1]["worst_cell_cp_upper95"].get<double>(), open.worst_upper, 1e-12);
}

TEST(Mitigations, ACellWithAFailedTrialIsNeverSafe) {
  // open: 31 clean runs per cell (SAFE by the SPRT) and one trial that exited 1 in threads=4.
  std::vector<StoredTrial> t;
  for (const char* threads : {"2", "4"}) {
    AddTrials(&t, threads, "none", 5, 8, 200);
    AddTrials(&t, threads, "open", 0, 31, 180);
  }
  AddOutcomes(&t, "4", "open", Outcome::kFailed, 1, 180);
  MitigationStudy s;
  std::string err;
  ASSERT_TRUE(BuildMitigationStudy(MakeRun({"none", "open"}), GroupTrials(t, 0), "serialize", SprtParams{}, &s, &err));
  const PolicySummary& open = s.policies[1];
  ASSERT_EQ(open.cells.size(), 2u);
  EXPECT_EQ(open.cells[0].verdict, Verdict::kSafe);
  EXPECT_EQ(open.cells[1].verdict, Verdict::kUndecided);  // SAFE by its 31 clean runs, but one failed
  EXPECT_EQ(open.safe, 1);
  EXPECT_EQ(open.verdict, "some FAILED");
  EXPECT_EQ(s.recommended, -1);
  EXPECT_EQ(s.candidate, -1);
  EXPECT_NE(s.recommendation.find("serialize=open (1 failed)"), std::string::npos) << s.recommendation;
}

TEST(Mitigations, CellsThatCouldNotStartAreUntestedAndNeverMakeACandidate) {
  // none could not start at threads=4 (where it would crash) and ran clean at threads=2: it has no crashing
  // cell and is the fastest, but it is untested, not "undecided, 31 runs to SAFE", and not the candidate.
  std::vector<StoredTrial> t;
  AddTrials(&t, "2", "none", 0, 20, 200);
  AddOutcomes(&t, "4", "none", Outcome::kCouldNotStart, 3, 0);
  for (const char* threads : {"2", "4"}) AddTrials(&t, threads, "open", 0, 20, 180);
  MitigationStudy s;
  std::string err;
  ASSERT_TRUE(BuildMitigationStudy(MakeRun({"none", "open"}), GroupTrials(t, 0), "serialize", SprtParams{}, &s, &err));
  const PolicySummary& none = s.policies[0];
  EXPECT_EQ(none.verdict, "not started");
  EXPECT_EQ(none.not_started, 1);
  EXPECT_EQ(none.undecided, 1);  // threads=2 only
  EXPECT_EQ(none.runs_to_safe, 11);  // threads=2's 11; nothing for the cell that never ran
  EXPECT_EQ(none.could_not_start, 3);
  ASSERT_EQ(s.candidate, 1);
  EXPECT_NE(s.recommendation.find("Best candidate: serialize=open"), std::string::npos) << s.recommendation;
  EXPECT_NE(s.recommendation.find("serialize=none (3 could not start)"), std::string::npos) << s.recommendation;
  nlohmann::json j = MitigationsToJson(s);
  EXPECT_EQ(j["candidate"], "open");
  EXPECT_EQ(j["policies"][0]["cells"][1]["not_started"], true);
  EXPECT_EQ(j["policies"][0]["could_not_start"], 3);
}

// A cell the SPRT stopped CRASHES at 2/12 and a --refine pass took on to 2/30 (where the SPRT alone would say
// UNDECIDED) keeps its verdict: the policy has a CRASHES cell, not an undecided one.
TEST(Mitigations, UsesTheVerdictStoredWhereTheSprtStopped) {
  std::vector<StoredTrial> t;
  AddTrials(&t, "2", "none", 2, 30, 200);
  AddTrials(&t, "4", "none", 2, 30, 200);
  AddTrials(&t, "2", "open", 0, 31, 180);
  AddTrials(&t, "4", "open", 0, 31, 180);
  RunRecord run = MakeRun({"none", "open"});
  run.settings = {{"until", "decided"}};
  ASSERT_EQ(SprtDecide(2, 30, SprtParams{}), Verdict::kUndecided);
  MitigationStudy s;
  std::string err;
  ASSERT_TRUE(BuildMitigationStudy(run, GroupTrials(t, 0), "serialize", SprtParams{}, &s, &err)) << err;
  EXPECT_EQ(s.policies[0].crashes, 0);  // nothing stored: recomputed from the counts, as before
  run.verdicts = {{"threads=2,serialize=none", "sprt", "CRASHES", 2, 12, 40},
                  {"threads=4,serialize=none", "sprt", "CRASHES", 2, 12, 80}};
  ASSERT_TRUE(BuildMitigationStudy(run, GroupTrials(t, 0), "serialize", SprtParams{}, &s, &err)) << err;
  EXPECT_EQ(s.policies[0].crashes, 2);
  EXPECT_EQ(s.policies[0].cells[0].verdict, Verdict::kCrashes);
  // Other SPRT settings asked for on the command line: their verdict on the counts, not the stored one.
  SprtParams other;
  other.p1 = 0.3;
  ASSERT_TRUE(BuildMitigationStudy(run, GroupTrials(t, 0), "serialize", other, &s, &err)) << err;
  EXPECT_NE(s.policies[0].cells[0].verdict, Verdict::kCrashes);
}

TEST(Mitigations, RefusesARunWithoutThePolicyAxis) {
  RunRecord r;
  r.id = 2;
  r.grid = {{"threads", {"1"}}};
  MitigationStudy s;
  std::string err;
  EXPECT_FALSE(BuildMitigationStudy(r, {}, "serialize", SprtParams{}, &s, &err));
  EXPECT_NE(err.find("--grid serialize=none,all"), std::string::npos) << err;
}

}  // namespace cg

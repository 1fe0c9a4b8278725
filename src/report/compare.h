// `crashgrid compare`: two sets of trials (two runs, or one run split by a parameter) compared cell by cell
// with an exact test and a correction for the number of cells, plus the crash signatures only one side shows.
// Building the comparison is pure; the renderers return strings.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "stats/rate.h"
#include "stats/stats.h"
#include "store/store.h"
#include "trial/run.h"

namespace cg {

// v2: n counts evidence only; failed, overran per side. v3: "basis" (per trial or per minute of workload),
// the "poisson" test, and p_holm corrected over every cell of every comparison of one command ("family").
constexpr int kCompareJsonSchemaVersion = 3;

// One side of a comparison.
struct CompareArm {
  std::string label;        // "A", "B", or "serialize=all"
  std::string description;  // "run 3 of a.db (reference-race)"
  RunRecord run;            // its grid names the axes
  std::vector<TrialGroup> groups;  // its trials, grouped (Store::LoadTrialGroups)
};

struct CompareOptions {
  double alpha = 0.05;  // family-wise, after Holm's correction over every cell of every comparison
};

// When two sides' trials ran for different lengths, crashes per trial are not comparable (a 2 s trial has
// four times the chances of a 0.5 s one); cells are then compared by crashes per minute of workload
// exposure (TrialExposureSeconds, summed per cell as CellCounts::exposure_s). "Different" means either the
// runs' --duration differ by more than 1%, or the clean trials' mean exposure (the workload's own length)
// differs by more than kExposureRatioLimit between the sides. Crashed trials are left out of the second
// check: they end early, so their exposure reflects the crash rate under test, not the trial length.
constexpr double kExposureRatioLimit = 1.2;

struct CellComparison {
  std::string key;  // CellKey over the shared axes
  // k: crashed or hung; n: crashed, hung or clean (OutcomeEvidence). Failed and overran trials are in neither.
  int64_t ka = 0, na = 0, kb = 0, nb = 0;
  double pa = 0, pb = 0;  // crash probabilities k/n (0 when n = 0)
  Interval ia, ib;        // Wilson 95%
  double exposure_a = 0, exposure_b = 0;  // workload seconds of the n trials
  double rate_a = 0, rate_b = 0;          // crashes per minute of workload (0 without exposure)
  // "boschloo" or "fisher" (per trial), "poisson" (per minute: the exact conditional test for two Poisson
  // rates), or "" when a side has no exposure to test.
  std::string test;
  double p_value = 1;
  double p_adjusted = 1;  // Holm over the family: every cell of every comparison made together
  int direction = 0;      // +1: B crashes more, -1: fewer, 0: no significant difference
};

struct CompareResult {
  std::string label_a, label_b, description_a, description_b;
  std::vector<std::string> shared_axes;
  std::vector<std::string> only_axes_a, only_axes_b;  // pooled over: not part of the cell key
  std::vector<CellComparison> cells;                  // matched cells, in A's grid order
  std::vector<std::string> unmatched_a, unmatched_b;  // cells (with trials) on one side only
  int64_t more = 0, fewer = 0;                        // cells where B crashes significantly more / fewer
  double alpha = 0.05;
  bool per_minute = false;   // compared by crashes per minute of workload (the trial lengths differ)
  std::string basis_reason;  // why, when per_minute: "the runs' --duration differ (A 0.5 s, B 2 s)"
  size_t family = 0;         // tests in the Holm family (cells of every comparison made together)
  size_t comparisons = 1;    // comparisons in the family
  CrashRate rate_a, rate_b;  // per minute of workload, over the matched cells
  int64_t ka = 0, na = 0, kb = 0, nb = 0;  // totals over the matched cells
  // Trials of each side (every cell) that failed or overran: neither crashes nor clean runs, so in no k/n.
  int64_t failed_a = 0, overran_a = 0, failed_b = 0, overran_b = 0;
  // Crash signatures seen on one side only, with their crash counts, most frequent first.
  std::vector<std::pair<std::string, int64_t>> signatures_only_a, signatures_only_b;
};

// One comparison on its own (a family of its own cells).
CompareResult Compare(const CompareArm& a, const CompareArm& b, const CompareOptions& options);
// Several comparisons made by one command (`compare --by AXIS`: each value against the baseline), with
// Holm's correction over every cell of every comparison, so that the family-wise error is alpha for the
// whole output, not for each pair.
std::vector<CompareResult> CompareFamily(const std::vector<std::pair<CompareArm, CompareArm>>& pairs,
                                         const CompareOptions& options);
// Whether a and b are compared per minute of workload (see kExposureRatioLimit), and why.
bool TrialLengthsDiffer(const CompareArm& a, const CompareArm& b, std::string* reason);

// Splits one run into one arm per value of `axis` (in grid order); the axis leaves the grid and the cells.
// On failure (no such axis, fewer than two values with trials) *err says what to pass instead.
bool SplitRunByAxis(const RunRecord& run, const std::vector<TrialGroup>& groups, const std::string& axis,
                    std::vector<CompareArm>* arms, std::string* err);
// Index of the arm the others are compared against: the one labelled AXIS=none, else the first.
size_t BaselineArm(const std::vector<CompareArm>& arms, const std::string& axis);

std::string RenderCompareText(const CompareResult& r);
// {"schema_version":1, "a":{...}, "b":{...}, "cells":[...], "summary":{...}, ...}
nlohmann::json CompareToJson(const CompareResult& r);

}  // namespace cg

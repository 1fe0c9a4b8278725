// `crashgrid mitigations`: which serialization policy removes the crash, and what it costs. One run swept with
// a policy axis (`--grid serialize=none,all,open,...`); per policy, the SPRT verdict of every cell of the other
// axes, the throughput relative to `none`, and a recommendation with its bound on the crash probability.
// Building the study is pure; the renderers return strings.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "stats/rate.h"
#include "stats/stats.h"
#include "store/store.h"
#include "trial/run.h"

namespace cg {

constexpr int kMitigationsJsonSchemaVersion = 3;  // v2: n counts evidence only; failed, overran. v3: could_not_start,
                                                  // worst_cell_cp_upper95 (the bound a recommendation states)

// Among all-SAFE policies, those within this fraction of the fastest one are measurement-noise ties; of those
// the one that serializes the fewest phases is recommended (it is the cheaper change to make, and the one that
// says where the race is).
constexpr double kThroughputTie = 0.03;

struct PolicyCell {
  std::string key;  // CellKey over the other axes
  int64_t k = 0, n = 0;        // crashed or hung / crashed, hung or clean (OutcomeEvidence)
  int64_t failed = 0, overran = 0;  // ran, but neither: not in n
  int64_t could_not_start = 0;      // never ran: not in n either
  Verdict verdict = Verdict::kUndecided;  // CellVerdict: never SAFE with a failed trial
  double cp_upper = 1;  // Clopper-Pearson one-sided 95% upper bound
  // Every trial of the cell could not start: it is untested, not undecided (no number of runs decides it).
  bool not_started() const { return n == 0 && failed == 0 && overran == 0 && could_not_start > 0; }
};

struct PolicySummary {
  std::string policy;  // the axis value: "none", "all", "open+close"
  int phases = 0;      // phases serialized: 0 for none, the '+'-list length, a large number for all
  std::vector<PolicyCell> cells;
  int safe = 0, crashes = 0, undecided = 0;  // cells by SPRT verdict (not-started cells in none of them)
  int not_started = 0;                       // cells whose every trial could not start
  // "all SAFE", "some CRASHES", "some FAILED" (no crash, but trials exited non-zero), "some OVERRAN" (no crash
  // nor failure, but trials ran past their bound), "not started" (trials that could not start: the policy is
  // untested there), "undecided". Only "all SAFE" is ever recommended, and only "undecided" is a candidate: a
  // policy under which the program fails, overruns or cannot start is not a fix.
  std::string verdict;
  int64_t k = 0, n = 0;     // trials over all its cells, as in PolicyCell
  int64_t failed = 0, overran = 0, could_not_start = 0;
  double pooled_upper = 1;  // Clopper-Pearson one-sided 95% upper bound over all its cells' trials (JSON only)
  // The bound a claim about the policy may make: the largest of its cells' Clopper-Pearson upper bounds (1 when
  // a cell has no evidence). Pooling cells would claim more than any one cell supports.
  double worst_upper = 1;
  std::string worst_cell;  // the key of that cell
  CrashRate rate;
  double work = 0;          // iterations (or units) summed
  double workload_s = 0;    // workload seconds summed
  double throughput = 0;    // work / workload_s
  bool has_relative = false;
  double relative = 0;      // throughput / throughput of `none` - 1
  int64_t runs_to_safe = 0; // clean runs still needed for every undecided cell to reach SAFE
};

struct MitigationStudy {
  int64_t run_id = 0;
  bool reference_target = false;
  std::string workload;
  std::string axis;         // "serialize"
  std::string throughput_unit;  // "iterations/s" or "frames/s"
  SprtParams sprt;
  std::vector<PolicySummary> policies;  // in grid order
  int recommended = -1;     // index into policies, -1 when none is all SAFE
  int candidate = -1;       // without a recommendation: the policy to run more of, -1 if none
  std::string recommendation;  // the sentence(s) printed last
};

// `sprt`: the run's own settings (RunStoppingSettings(run).sprt) unless the user overrode them.
// On failure (no such axis, no trials) *err is the user-facing message naming the fix.
bool BuildMitigationStudy(const RunRecord& run, const std::vector<TrialGroup>& groups, const std::string& axis,
                          const SprtParams& sprt, MitigationStudy* study, std::string* err);

std::string RenderMitigationsText(const MitigationStudy& s);
nlohmann::json MitigationsToJson(const MitigationStudy& s);

}  // namespace cg

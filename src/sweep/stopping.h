// Stopping rules: which cells run in the next round of a sweep, and when the sweep is done.
// A round runs each chosen cell once, in a fresh random order.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "stats/apt.h"
#include "stats/stats.h"
#include "stats/stopping_settings.h"
#include "trial/trial.h"

namespace cg {

struct CellProgress {
  Cell cell;
  // Trials that are evidence (OutcomeEvidence: clean, crashed, hung): what the SPRT and every interval count.
  int64_t n = 0;
  int64_t crashes = 0;     // crashed + hung
  // Trials that ran but are evidence neither way. They use up the cell's --runs (a cell whose program always
  // exits 1 must still end) but never move it towards a verdict.
  int64_t failed = 0;
  int64_t overran = 0;
  double exposure_s = 0;   // workload seconds of the n evidence trials (time to outcome, capped at duration)

  int64_t ran() const { return n + failed + overran; }  // what --runs caps
};

// Counts one recorded trial into its cell's progress: could-not-start trials count nowhere, failed and
// overran ones only towards ran(), clean, crashed and hung ones into n (and their `exposure_s` seconds).
void CountTrial(const TrialResult& r, double exposure_s, CellProgress* c);

class StoppingRule {
 public:
  virtual ~StoppingRule() = default;
  // Indices of the cells to run once each in the next round; empty when the sweep is done.
  virtual std::vector<size_t> NextRound(const std::vector<CellProgress>& cells) = 0;
  // A word for the progress line: "flat", "decided", "refine".
  virtual std::string name() const = 0;
  // Upper bound on the trials still to run, for the ETA (may over-estimate).
  virtual int64_t RemainingEstimate(const std::vector<CellProgress>& cells) const = 0;
};

// Every cell until `runs` of its trials ran.
std::unique_ptr<StoppingRule> NewFlatRule(int64_t runs);

// `--until decided`: each cell until Wald's SPRT (over its n evidence trials) calls it SAFE or CRASHES, or
// until `cap` of its trials ran (`--runs`; the cell stays UNDECIDED). Each round runs only the undecided
// cells below the cap.
std::unique_ptr<StoppingRule> NewDecidedRule(int64_t cap, const SprtParams& sprt);

// `--refine` options. After the verdicts, further trials go to the cells least certain about the threshold.
struct RefineParams {
  AptParams apt;       // theta (default: the middle of [p0, p1]), eps, width (`--refine-width`, 0.2)
  int64_t budget = 0;  // `--refine-budget`: trials the refinement may spend; 0 = 10 per cell of the grid
  size_t batch = 1;    // cells per round (pass --jobs so parallel slots stay busy); APT proper is 1
};

// `--until decided --refine`: the decided rule first; once no cell is left to decide, rounds of the `batch`
// unsettled cells with the smallest APT index, until every cell's Wilson 95% interval is narrower than
// `width` or `budget` trials have been spent on refinement. Refinement may take a cell past `cap`.
// The budget is counted from the trials recorded when refinement begins in this process (a resumed sweep
// starts a fresh budget).
std::unique_ptr<StoppingRule> NewRefineRule(int64_t cap, const SprtParams& sprt, const RefineParams& refine);

// Under `--until decided` (or --refine) with a cap of `runs`: a warning when no cell can ever be called SAFE
// because SAFE needs more clean runs than the cap allows (31 at the default SPRT settings, against the default
// --runs 10), naming the minimum and the --runs to use; "" when the cap allows SAFE or nothing is decided.
std::string RunsCapWarning(const StoppingSettings& s, int64_t runs);

// The rule the settings name: flat (--until runs), decided, or decided then refine. `runs` is --runs (the cap
// under "decided"), `jobs` the number of cells per refinement round.
std::unique_ptr<StoppingRule> NewStoppingRule(const StoppingSettings& s, int64_t runs, int jobs);

// The rule RunRecord.settings names (ParseStoppingSettings, stats/stopping_settings.h; "refine" present means
// --refine, which decides first). `runs` is --runs (the cap under "decided"),
// `jobs` the number of cells per refinement round. On invalid settings *err is a user-facing message
// naming the flag.
[[nodiscard]] bool StoppingRuleFromSettings(const nlohmann::json& settings, int64_t runs, int jobs,
                              std::unique_ptr<StoppingRule>* rule, std::string* err);

}  // namespace cg

// A run's trials counted per grid cell: the numbers every table, heatmap and statistic starts from.
// Pure functions, no I/O.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "stats/sequential.h"
#include "stats/stats.h"
#include "store/store.h"
#include "trial/run.h"
#include "trial/trial.h"

namespace cg {

struct CellCounts {
  Cell cell;
  std::string key;            // CellKey(cell)
  int64_t trials = 0;         // every stored trial of the cell, could-not-start included
  int64_t ran = 0;            // trials that ran: trials - could_not_start
  // Trials that are evidence about the crash probability (OutcomeEvidence: clean, crashed, hung): the
  // denominator of every rate, interval and verdict. Failed and overran trials ran but are neither.
  int64_t n = 0;
  int64_t crashes = 0;        // crashed + hung (Evidence::kCrash); with a signature filter, only those with it
  int64_t other_crashes = 0;  // with a signature filter: crashes of other signatures (counted as non-crashes)
  int64_t crashed = 0;        // by outcome, regardless of any signature filter
  int64_t hung = 0;
  int64_t overran = 0;        // killed while still making progress: neither a crash nor evidence of safety
  int64_t failed = 0;
  int64_t clean = 0;
  int64_t could_not_start = 0;
  // What table.py would have counted (SeedExitCode): 0, exit N, 128+signal, 124 hang, 127 could not start.
  // With a signature filter, crashes of other signatures are counted under 0, as the non-crashes they count as.
  std::map<int, int64_t> exit_codes;
  double exposure_s = 0;      // TrialExposureSeconds of the n evidence trials, summed (TrialGroup.exposure_s)
  int64_t neither() const { return failed + overran; }  // ran, but evidence neither way
  int64_t iterations = 0;     // workload loop iterations summed
  std::map<std::string, int64_t> signatures;  // crash signature -> crashed/hung trials with it ("" if none)
};

// The axes a run's trials are laid out on: the run's grid, with any value found in a trial but missing from
// the grid appended to its axis (and any axis missing from the grid appended), so that no trial is dropped.
std::vector<GridAxis> TrialAxes(const RunRecord& run, const std::vector<TrialGroup>& groups);

// `--by gpu` (table, compare): the GPU each group ran on (groups loaded with GroupBy::kCellAndGpu) as one more
// axis "gpu", appended to run->grid and to each group's cell: the GPU's index, "none" for trials run without
// --gpus, and "INDEX/UUID" where one index names two GPUs (a run merged from two machines). Values in index
// order, "none" first. The run's stored verdicts are dropped: they are per cell of the sweep, not per GPU, so
// the split cells' verdicts are those of their counts. False, with *err, when the run has a grid axis "gpu".
bool AddGpuAxis(RunRecord* run, std::vector<TrialGroup>* groups, std::string* err);

// Counts per cell, one entry per cell of ExpandGrid(TrialAxes(run, groups)), in that order; cells without
// trials have trials == 0. `signature` (a full signature, "" for all) restricts what counts as a crash.
// Each group counts as its `count` trials.
std::vector<CellCounts> AggregateCells(const RunRecord& run, const std::vector<TrialGroup>& groups,
                                       const std::string& signature = "");

// How a report shows one cell's crash probability: the one place that picks its interval (valid under the
// rule that stopped the cell: stats/sequential.h), marks a cell the SPRT stopped, and gives the verdict as
// stored where the SPRT stopped. Tables, heatmaps, the HTML page and JSON take their numbers from here.
//
// The point estimate stays k/n. After an early stop it is biased (a cell that reached CRASHES within a few
// runs reads high: 2/2 is "100%"); the interval is what holds, and for SPRT-stopped cells the median-unbiased
// estimate of the same ordering is given too (JSON).
struct CellShown {
  int64_t k = 0, n = 0;            // crashes and evidence trials shown
  double rate = 0;                 // k/n (0 when n = 0)
  // How the cell stopped, as far as the interval is concerned: kAdaptive also for SPRT counts the SPRT's rule
  // could not have stopped at.
  StopKind stop = StopKind::kFixed;
  Interval ci{0, 1};               // two-sided 95%: StoppedInterval(k, n, stop, the run's SPRT)
  // kFixed with k = 0: the one-sided 95% upper bound ZeroCrashUpperBound(n) that tables print ("<4.3%").
  double upper_bound = 1;
  bool has_median_unbiased = false;  // kSprtBoundary, kSprtCap: SprtMedianUnbiased
  double median_unbiased = 0;
  // The SPRT's verdict: stored where the SPRT decided (Store::SaveCellVerdict, rule "sprt"), else recomputed
  // from the counts (runs before schema v4, cells never decided). "" when n = 0.
  std::string verdict;
  bool verdict_stored = false;
  int64_t verdict_k = 0, verdict_n = 0;  // the counts the verdict was reached at
  bool stopped_early = false;  // the SPRT stopped this cell when it decided (`--until decided`): n was not fixed
  // Trials recorded after the verdict (a --refine pass): shown beside it, "CRASHES at 2/12; now 2/30".
  bool later_evidence() const { return verdict_stored && (verdict_n != n || verdict_k != k); }
};

// `k` of `n` evidence trials of the cell `key` of `run`, under the run's stopping settings and stored
// verdicts. `subset` says k counts only some crashes (a signature filter): the SPRT stopped on all of them,
// so the subset gets the always-valid interval and a recomputed verdict.
// `failed`: the cell's failed trials, which keep it from being SAFE (CellSprtVerdict).
CellShown ShowCell(const RunRecord& run, const std::string& key, int64_t k, int64_t n, bool subset = false,
                   int64_t failed = 0);
// For JSON: "wilson", "sprt-exact", "always-valid".
const char* IntervalMethodName(StopKind stop);
// The lines that say how the run's cells are shown, for renderers to print under their tables: empty for a
// run of fixed n (`--until runs`), whose cells read as always.
std::vector<std::string> ShownCellsLegend(const RunRecord& run);

// Resolves a signature given in full or as an unambiguous prefix against the crash signatures of `groups`.
// On failure *err names the problem and the candidates.
bool ResolveSignature(const std::string& wanted, const std::vector<TrialGroup>& groups, std::string* full,
                      std::string* err);

// The fields of a trial its group agrees on (outcome, exit code, signal, via_shell, signature), for the
// per-trial rules (SeedExitCode, EffectiveSignature) applied to a group.
TrialResult GroupResult(const TrialGroup& group);

}  // namespace cg

// A run's trials counted per grid cell: the numbers every table, heatmap and statistic starts from.
// Pure functions, no I/O.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

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

// Counts per cell, one entry per cell of ExpandGrid(TrialAxes(run, groups)), in that order; cells without
// trials have trials == 0. `signature` (a full signature, "" for all) restricts what counts as a crash.
// Each group counts as its `count` trials.
std::vector<CellCounts> AggregateCells(const RunRecord& run, const std::vector<TrialGroup>& groups,
                                       const std::string& signature = "");

// Resolves a signature given in full or as an unambiguous prefix against the crash signatures of `groups`.
// On failure *err names the problem and the candidates.
bool ResolveSignature(const std::string& wanted, const std::vector<TrialGroup>& groups, std::string* full,
                      std::string* err);

// The fields of a trial its group agrees on (outcome, exit code, signal, via_shell, signature), for the
// per-trial rules (SeedExitCode, EffectiveSignature) applied to a group.
TrialResult GroupResult(const TrialGroup& group);

}  // namespace cg

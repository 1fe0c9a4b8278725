// What a sweep tells whoever shows its progress (plain lines, or the live terminal grid).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "trial/run.h"
#include "trial/trial.h"

namespace cg {

struct SweepProgress {
  const RunRecord* run = nullptr;
  std::vector<Cell> cells;            // every cell of the grid, in grid order
  std::vector<int64_t> cell_n;        // evidence trials per cell (clean, crashed, hung): cell_crashes' denominator
  std::vector<int64_t> cell_crashes;  // crashed + hung per cell
  std::vector<int64_t> cell_neither;  // failed + overran per cell: ran, but evidence neither way
  std::vector<std::string> cell_verdict;  // "", "SAFE", "CRASHES", "UNDECIDED"
  int64_t done = 0;        // trials that ran so far (this invocation and before)
  int64_t total = 0;       // trials expected in all (an estimate under --until decided)
  int64_t crashes = 0;     // crashed + hung
  int64_t failed = 0;      // exited non-zero: neither a crash nor a clean run
  int64_t overran = 0;     // killed past the bound while still making progress: neither
  double elapsed_s = 0;    // this invocation
  double eta_s = -1;       // -1 unknown
  std::string current;     // the cell(s) running now, as CellKey
  std::string rule;        // stopping rule name
};

class ProgressObserver {
 public:
  virtual ~ProgressObserver() = default;
  virtual void OnStart(const SweepProgress& p) {}
  virtual void OnTrialStarted(const SweepProgress& p) {}
  // After each trial is committed. `trial` is the result just recorded; `cell` its cell index.
  virtual void OnTrialFinished(const SweepProgress& p, size_t cell, const TrialResult& trial) {}
  virtual void OnFinish(const SweepProgress& p, bool interrupted) {}
};

}  // namespace cg

// The sweep's scheduler: which cells run in the next round, in which order, and what each cell's verdict is.
// Pure: no I/O, no clock, no threads. It is told what was recorded (Restore on resume, Record as trials
// finish) and answers from that alone, so a sweep resumed from the store's per-cell counts schedules exactly
// what an uninterrupted one would have.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "stats/stats.h"
#include "stats/stopping_settings.h"
#include "sweep/stopping.h"
#include "trial/run.h"
#include "trial/trial.h"

namespace cg {

// `--shard K/N`: the part of the grid one machine (or one Slurm array task) runs. Cell i of the grid, in grid
// order (ExpandGrid: first axis slowest), belongs to shard i mod N: whole cells, so `--until decided` stays per
// cell; the same --grid flags give every task the same assignment, and shards differ in size by one cell at
// most. K counts from 0, as $SLURM_ARRAY_TASK_ID does. N = 1 is the whole grid.
struct Shard {
  int index = 0;  // K
  int count = 1;  // N
  bool active() const { return count > 1; }
};
// "K/N" ("" for the whole grid).
std::string ShardName(const Shard& shard);
// "K/N" with 0 <= K < N <= 100000; false with *err naming the text and the form expected.
bool ParseShard(const std::string& text, Shard* shard, std::string* err);
// The cells of `cells` (the whole grid, in grid order) that `shard` runs, in grid order.
std::vector<Cell> ShardCells(const std::vector<Cell>& cells, const Shard& shard);

// What the scheduler needs to know about a sweep.
struct SweepPlan {
  std::vector<Cell> cells;     // every cell of the grid, in grid order
  StoppingSettings stopping;   // the rule (runs, decided, refine) and the SPRT of every verdict
  int64_t runs = 10;           // trials per cell; the cap under --until decided
  int jobs = 1;                // cells per refinement round (keeps the parallel slots busy)
  uint64_t seed = 1;           // the order of the cells in each round
};

// Totals over every cell, kept as trials are recorded (O(1) to read).
struct SweepTotals {
  int64_t recorded = 0;  // every recorded trial, could-not-start included
  int64_t ran = 0;       // trials that ran (CellProgress::ran summed)
  int64_t crashes = 0;
  int64_t failed = 0;
  int64_t overran = 0;
};

class Scheduler {
 public:
  explicit Scheduler(SweepPlan plan);

  const SweepPlan& plan() const { return plan_; }
  size_t cell_count() const { return cells_.size(); }
  // The index of the cell with this CellKey, or -1 when the plan has no such cell.
  int64_t CellIndex(const std::string& cell_key) const;

  // Resume: `count` recorded trials of `cell` that ended with `outcome`, `exposure_s` seconds of exposure
  // in all, the highest of their repetitions `max_repetition`. Called once per stored group before the
  // first NextRound.
  void Restore(size_t cell, Outcome outcome, int64_t count, double exposure_s, int64_t max_repetition);

  // The cells to run once each in the next round, in a random order drawn from the seed (a fresh order
  // every round). Cells that could not start are left out. Empty when the sweep is done.
  std::vector<size_t> NextRound();

  // The repetition number the next recorded trial of `cell` gets: one past every recorded one.
  int NextRepetition(size_t cell) const { return static_cast<int>(cells_[cell].next_repetition); }

  // Resume: the verdict stored for `cell` where the SPRT decided it (Store::LoadCellVerdicts, rule "sprt").
  // A restored cell without one whose counts are decided (a run from before stored verdicts) takes the
  // verdict of its counts; neither is reported again by TakeDecision.
  void RestoreVerdict(size_t cell, Verdict v);

  // A finished trial of `cell`, as recorded. A could-not-start trial makes the cell unrunnable: running it
  // again would only repeat the reason.
  void Record(size_t cell, const TrialResult& r, double exposure_s);
  // Once per cell, right after the Record that made the SPRT decide it (under `--until decided`, and during
  // `--refine` for a cell that was still undecided): the verdict with the counts it was reached at, for the
  // store (rule "sprt"; the caller sets last_trial_id). Later trials never change it.
  std::optional<CellVerdict> TakeDecision(size_t cell);

  const CellProgress& progress(size_t cell) const { return cells_[cell].progress; }
  // "SAFE" or "CRASHES" once the SPRT of the settings decides (under a deciding rule: the first decision,
  // whatever a --refine pass adds after it); "UNDECIDED" once the cell has run --runs trials without a
  // decision; "" while it is still open.
  const char* verdict(size_t cell) const;
  bool unrunnable(size_t cell) const { return cells_[cell].unrunnable; }
  const std::string& unrunnable_reason(size_t cell) const { return cells_[cell].unrunnable_reason; }
  const SweepTotals& totals() const { return totals_; }
  // The rule's estimate of the trials still to run, as of the last NextRound, less the trials recorded since
  // (so reading it after every trial costs O(1), not a pass over the cells).
  int64_t RemainingEstimate();
  std::string rule_name() const { return rule_->name(); }

 private:
  struct CellState {
    int64_t recorded = 0;        // every recorded trial, could-not-start included
    int64_t max_repetition = -1;
    int64_t next_repetition = 0;
    CellProgress progress;
    bool unrunnable = false;
    std::string unrunnable_reason;
    Verdict decided = Verdict::kUndecided;  // the SPRT's first decision (deciding rules only)
    bool decision_pending = false;          // reached by the last Record, not yet taken
  };
  void SettleRestoredVerdicts();
  std::vector<CellProgress> Runnable(std::vector<size_t>* index) const;

  SweepPlan plan_;
  std::unique_ptr<StoppingRule> rule_;
  std::vector<CellState> cells_;
  std::vector<std::pair<std::string, size_t>> index_;  // (CellKey, cell) sorted by key
  std::mt19937_64 rng_;
  SweepTotals totals_;
  int64_t estimate_ = 0;
  int64_t recorded_at_estimate_ = 0;  // totals_.recorded when estimate_ was computed
  bool estimate_valid_ = false;
  bool restored_settled_ = false;  // restored cells' verdicts settled (SettleRestoredVerdicts)
};

}  // namespace cg

#include "sweep/scheduler.h"

#include <algorithm>
#include <cstdlib>
#include <cstdio>

#include <fmt/format.h>

#include "util/strings.h"

namespace cg {

std::string ShardName(const Shard& shard) {
  return shard.active() ? fmt::format("{}/{}", shard.index, shard.count) : "";
}

bool ParseShard(const std::string& text, Shard* shard, std::string* err) {
  size_t slash = text.find('/');
  long long k = -1, n = 0;
  if (slash == std::string::npos || !ParseInt(text.substr(0, slash), &k) || !ParseInt(text.substr(slash + 1), &n) ||
      n < 1 || n > 100000 || k < 0 || k >= n) {
    *err = fmt::format("--shard '{}' is not K/N with 0 <= K < N (e.g. --shard 0/4 ... --shard 3/4; in a Slurm array: "
                       "--shard $SLURM_ARRAY_TASK_ID/4)",
                       text);
    return false;
  }
  shard->index = static_cast<int>(k);
  shard->count = static_cast<int>(n);
  return true;
}

std::vector<Cell> ShardCells(const std::vector<Cell>& cells, const Shard& shard) {
  if (!shard.active()) return cells;
  std::vector<Cell> part;
  for (size_t i = static_cast<size_t>(shard.index); i < cells.size(); i += static_cast<size_t>(shard.count))
    part.push_back(cells[i]);
  return part;
}

Scheduler::Scheduler(SweepPlan plan)
    : plan_(std::move(plan)),
      rule_(NewStoppingRule(plan_.stopping, plan_.runs, plan_.jobs)),
      cells_(plan_.cells.size()),
      rng_(plan_.seed) {
  index_.reserve(cells_.size());
  for (size_t i = 0; i < cells_.size(); ++i) {
    cells_[i].progress.cell = plan_.cells[i];
    index_.emplace_back(CellKey(plan_.cells[i]), i);
  }
  std::sort(index_.begin(), index_.end());
}

int64_t Scheduler::CellIndex(const std::string& cell_key) const {
  auto it = std::lower_bound(index_.begin(), index_.end(), cell_key,
                             [](const auto& entry, const std::string& key) { return entry.first < key; });
  if (it == index_.end() || it->first != cell_key) return -1;
  return static_cast<int64_t>(it->second);
}

void Scheduler::Restore(size_t cell, Outcome outcome, int64_t count, double exposure_s, int64_t max_repetition) {
  CellState& c = cells_[cell];
  CellProgress& p = c.progress;
  switch (OutcomeEvidence(outcome)) {
    case Evidence::kCrash:
      p.crashes += count;
      totals_.crashes += count;
      [[fallthrough]];
    case Evidence::kSafe:
      p.n += count;
      p.exposure_s += exposure_s;
      totals_.ran += count;
      break;
    case Evidence::kNeither:
      if (outcome == Outcome::kFailed) {
        p.failed += count;
        totals_.failed += count;
        totals_.ran += count;
      }
      if (outcome == Outcome::kOverran) {
        p.overran += count;
        totals_.overran += count;
        totals_.ran += count;
      }
      break;  // could-not-start: recorded, but it never ran
  }
  c.recorded += count;
  c.max_repetition = std::max(c.max_repetition, max_repetition);
  // Repetitions continue after every recorded one, also where a gap was left (none is ever reused).
  c.next_repetition = std::max(c.recorded, c.max_repetition + 1);
  totals_.recorded += count;
  estimate_valid_ = false;
}

void Scheduler::RestoreVerdict(size_t cell, Verdict v) {
  if (v != Verdict::kUndecided) cells_[cell].decided = v;
}

void Scheduler::SettleRestoredVerdicts() {
  if (restored_settled_) return;
  restored_settled_ = true;
  if (!plan_.stopping.decides()) return;
  for (CellState& c : cells_) {
    if (c.decided != Verdict::kUndecided) continue;
    // Decided by counts recorded before this process: where it first decided is not known any more, and no
    // verdict is made up for it now.
    c.decided = SprtDecide(c.progress.crashes, c.progress.n, plan_.stopping.sprt);
  }
}

void Scheduler::Record(size_t cell, const TrialResult& r, double exposure_s) {
  SettleRestoredVerdicts();
  CellState& c = cells_[cell];
  const CellProgress before = c.progress;
  CountTrial(r, exposure_s, &c.progress);
  totals_.crashes += c.progress.crashes - before.crashes;
  totals_.failed += c.progress.failed - before.failed;
  totals_.overran += c.progress.overran - before.overran;
  totals_.ran += c.progress.ran() - before.ran();
  totals_.recorded++;
  c.recorded++;
  c.max_repetition = std::max<int64_t>(c.max_repetition, c.next_repetition);
  c.next_repetition++;
  if (r.outcome == Outcome::kCouldNotStart) {
    c.unrunnable = true;
    c.unrunnable_reason = r.detail;
  }
  if (plan_.stopping.decides() && c.decided == Verdict::kUndecided) {
    c.decided = SprtDecide(c.progress.crashes, c.progress.n, plan_.stopping.sprt);
    c.decision_pending = c.decided != Verdict::kUndecided;
  }
}

std::optional<CellVerdict> Scheduler::TakeDecision(size_t cell) {
  CellState& c = cells_[cell];
  if (!c.decision_pending) return std::nullopt;
  c.decision_pending = false;
  CellVerdict v;
  v.cell_key = CellKey(c.progress.cell);
  v.rule = "sprt";
  v.verdict = VerdictName(c.decided);
  v.crashes = c.progress.crashes;
  v.evidence = c.progress.n;
  return v;
}

std::vector<CellProgress> Scheduler::Runnable(std::vector<size_t>* index) const {
  std::vector<CellProgress> runnable;
  runnable.reserve(cells_.size());
  for (size_t i = 0; i < cells_.size(); ++i) {
    if (cells_[i].unrunnable) continue;
    if (index) index->push_back(i);
    runnable.push_back(cells_[i].progress);
  }
  return runnable;
}

std::vector<size_t> Scheduler::NextRound() {
  SettleRestoredVerdicts();
  std::vector<size_t> runnable_index;
  std::vector<CellProgress> runnable = Runnable(&runnable_index);
  std::vector<size_t> round;
  for (size_t r : rule_->NextRound(runnable)) round.push_back(runnable_index[r]);
  std::shuffle(round.begin(), round.end(), rng_);
  estimate_ = rule_->RemainingEstimate(runnable);
  recorded_at_estimate_ = totals_.recorded;
  estimate_valid_ = true;
  return round;
}

int64_t Scheduler::RemainingEstimate() {
  if (!estimate_valid_) {
    estimate_ = rule_->RemainingEstimate(Runnable(nullptr));
    recorded_at_estimate_ = totals_.recorded;
    estimate_valid_ = true;
  }
  return std::max<int64_t>(0, estimate_ - (totals_.recorded - recorded_at_estimate_));
}

const char* Scheduler::verdict(size_t cell) const {
  if (cells_[cell].decided != Verdict::kUndecided) return VerdictName(cells_[cell].decided);
  const CellProgress& p = cells_[cell].progress;
  Verdict v = CellSprtVerdict(p.crashes, p.n, p.failed, plan_.stopping.sprt);
  if (v != Verdict::kUndecided) return VerdictName(v);
  // SAFE by the SPRT but held back by a failed trial: the cell is done (its test stopped), and not SAFE.
  if (SprtDecide(p.crashes, p.n, plan_.stopping.sprt) != Verdict::kUndecided) return VerdictName(v);
  return p.ran() >= plan_.runs ? VerdictName(Verdict::kUndecided) : "";
}

}  // namespace cg

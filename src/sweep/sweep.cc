#include "sweep/sweep.h"

#include <algorithm>

#include "stats/rate.h"
#include "store/store.h"
#include "sweep/recorder.h"
#include "sweep/scheduler.h"
#include "util/clock.h"

namespace cg {
namespace {

// The progress a sweep reports, kept up to date cell by cell: after each trial only that cell's entries and
// the totals change, so reporting costs the same on a 1,000-cell grid as on a 4-cell one.
class ProgressState {
 public:
  ProgressState(const RunRecord* run, Scheduler* sched, int jobs) : sched_(sched), jobs_(std::max(1, jobs)) {
    p_.run = run;
    p_.rule = sched->rule_name();
    size_t n = sched->cell_count();
    p_.cells = sched->plan().cells;
    p_.cell_n.resize(n);
    p_.cell_crashes.resize(n);
    p_.cell_neither.resize(n);
    p_.cell_verdict.resize(n);
    keys_.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      keys_.push_back(CellKey(p_.cells[i]));
      UpdateCell(i);
    }
    started_ = MonotonicSeconds();
    UpdateTotals();
  }

  void UpdateCell(size_t i) {
    const CellProgress& c = sched_->progress(i);
    p_.cell_n[i] = c.n;
    p_.cell_crashes[i] = c.crashes;
    p_.cell_neither[i] = c.failed + c.overran;
    const char* v = sched_->verdict(i);
    if (p_.cell_verdict[i] != v) p_.cell_verdict[i] = v;
  }
  void UpdateTotals() {
    const SweepTotals& t = sched_->totals();
    p_.done = t.ran;
    p_.crashes = t.crashes;
    p_.failed = t.failed;
    p_.overran = t.overran;
    int64_t left = sched_->RemainingEstimate();
    p_.total = p_.done + left;
    p_.rule = sched_->rule_name();
    p_.elapsed_s = MonotonicSeconds() - started_;
    p_.eta_s = trials_timed_ ? static_cast<double>(left) * (trial_seconds_ / trials_timed_) / jobs_ : -1;
  }
  void Timed(double seconds) {
    trial_seconds_ += seconds;
    trials_timed_++;
  }
  void SetCurrent(size_t i) { p_.current = keys_[i]; }
  void ClearCurrent() { p_.current.clear(); }
  const SweepProgress& get() const { return p_; }

 private:
  Scheduler* sched_;
  int jobs_;
  SweepProgress p_;
  std::vector<std::string> keys_;
  double started_ = 0;
  double trial_seconds_ = 0;
  int64_t trials_timed_ = 0;
};

}  // namespace

bool RunSweep(const SweepOptions& opts, const SweepIo& io, const std::atomic<bool>* stop,
              const std::atomic<bool>* abort_now, SweepOutcome* outcome, std::string* err) {
  Recorder recorder(io.store);
  if (!recorder.OpenRun(opts, io.fingerprint, err)) {
    outcome->refused = recorder.refused();
    return false;
  }
  outcome->run_id = recorder.run().id;
  outcome->resumed = recorder.resumed();
  if (io.note && !recorder.note().empty()) io.note(recorder.note());

  SweepPlan plan;
  plan.cells = ShardCells(ExpandGrid(opts.grid), opts.shard);
  plan.stopping = opts.stopping;
  plan.runs = opts.runs;
  const int gpus = static_cast<int>(opts.gpus.size());
  plan.jobs = opts.jobs * std::max(1, gpus);
  plan.seed = opts.seed ? opts.seed : static_cast<uint64_t>(UnixSeconds() * 1e6);
  Scheduler sched(std::move(plan));

  // What is already recorded, as per-cell counts: nothing recorded is run again.
  {
    std::vector<TrialGroup> groups;
    if (!recorder.LoadCounts(&groups, err)) return false;
    for (const TrialGroup& g : groups) {
      int64_t cell = sched.CellIndex(g.cell_key);
      if (cell < 0) continue;  // not a cell of this grid (a foreign row): ignored as before
      sched.Restore(static_cast<size_t>(cell), g.outcome, g.count, g.exposure_s, g.max_repetition);
    }
    std::vector<CellVerdict> verdicts;
    if (!recorder.LoadVerdicts(&verdicts, err)) return false;
    for (const CellVerdict& v : verdicts) {
      int64_t cell = sched.CellIndex(v.cell_key);
      if (cell < 0 || v.rule != "sprt") continue;
      sched.RestoreVerdict(static_cast<size_t>(cell), v.verdict == VerdictName(Verdict::kSafe) ? Verdict::kSafe
                                                      : v.verdict == VerdictName(Verdict::kCrashes)
                                                          ? Verdict::kCrashes
                                                          : Verdict::kUndecided);
    }
  }

  ProgressState progress(&recorder.run(), &sched, opts.jobs * std::max(1, gpus));
  if (io.observer) io.observer->OnStart(progress.get());

  bool failed = false;
  std::string failure;
  while (!stop->load() && !failed && !abort_now->load()) {
    std::vector<size_t> round = sched.NextRound();
    if (round.empty()) break;
    progress.UpdateTotals();
    size_t next = 0;
    ExecutorHooks hooks;
    hooks.next = [&](Job* job) {
      if (next >= round.size()) return false;
      job->item = round[next++];
      job->uid = Store::NewTrialUid();
      job->spec = MakeTrialSpec(opts, sched.plan().cells[job->item], io.self_exe, job->uid);
      progress.SetCurrent(job->item);
      if (io.observer) io.observer->OnTrialStarted(progress.get());
      return true;
    };
    hooks.finished = [&](const Job& job, TrialResult&& r, double seconds) {
      size_t ci = job.item;
      if (job.slot >= 0) {
        r.gpu_index = opts.gpus[static_cast<size_t>(job.slot)].index;
        r.gpu_uuid = opts.gpus[static_cast<size_t>(job.slot)].uuid;
      }
      if (!recorder.Commit(sched.plan().cells[ci], sched.NextRepetition(ci), r, &failure, job.uid)) {
        failed = true;
        return false;
      }
      sched.Record(ci, r, TrialExposureSeconds(r, opts.duration_s));
      // The verdict where the SPRT decided, kept: a --refine pass adds evidence beside it, not a new verdict.
      if (std::optional<CellVerdict> v = sched.TakeDecision(ci); v && !recorder.SaveVerdict(*v, &failure)) {
        failed = true;
        return false;
      }
      outcome->trials_run++;
      progress.Timed(seconds);
      if (!opts.workload.empty() && r.outcome != Outcome::kCouldNotStart) {
        std::string ignored;  // the detail is a courtesy for reports: failing to keep it must not stop a sweep
        (void)recorder.NoteWorkloadDetail(r.detail, &ignored);
      }
      progress.UpdateCell(ci);
      progress.UpdateTotals();
      if (io.observer) io.observer->OnTrialFinished(progress.get(), ci, r);
      return true;
    };
    int jobs = std::max(1, std::min<int>(opts.jobs, static_cast<int>(round.size())));
    if (gpus == 0) {
      RunJobs(io.runner, jobs, hooks, stop, abort_now);
      continue;
    }
    // --gpus: the round once on every GPU, each GPU through the round's cells in the same order.
    std::vector<size_t> next_on(static_cast<size_t>(gpus), 0);
    auto next_for_slot = [&](int slot, Job* job) {
      size_t& at = next_on[static_cast<size_t>(slot)];
      if (at >= round.size()) return false;
      job->item = round[at++];
      job->uid = Store::NewTrialUid();
      job->spec = MakeTrialSpec(opts, sched.plan().cells[job->item], io.self_exe, job->uid);
      for (auto& kv : GpuEnvironment(opts.gpus[static_cast<size_t>(slot)])) job->spec.env.push_back(std::move(kv));
      progress.SetCurrent(job->item);
      if (io.observer) io.observer->OnTrialStarted(progress.get());
      return true;
    };
    RunSlotJobs(io.runner, gpus, jobs, next_for_slot, hooks, stop, abort_now);
  }

  outcome->interrupted = stop->load() || abort_now->load();
  outcome->cells_total = static_cast<int64_t>(sched.cell_count());
  for (size_t i = 0; i < sched.cell_count(); ++i) {
    if (!sched.unrunnable(i)) continue;
    outcome->cells_unrunnable++;
    if (outcome->unrunnable_reason.empty()) outcome->unrunnable_reason = sched.unrunnable_reason(i);
  }
  outcome->trials_total = sched.totals().recorded;
  progress.UpdateTotals();
  progress.ClearCurrent();
  if (io.observer) io.observer->OnFinish(progress.get(), outcome->interrupted);
  if (failed) {
    *err = failure;
    return false;
  }
  if (!outcome->interrupted) return recorder.Finish(err);
  return true;
}

}  // namespace cg

// The sweep's executor: runs trials `jobs` at a time through a TrialRunner. The real runner is the
// supervisor; tests give it a fake that returns scripted results without processes (as ninja tests its build
// loop with a fake CommandRunner).
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>

#include "supervisor/supervisor.h"
#include "trial/trial.h"

namespace cg {

class TrialRunner {
 public:
  virtual ~TrialRunner() = default;
  // Runs one trial to its end. `abort_now` set while it runs asks it to cancel the trial (its result is then
  // discarded). Called from up to `jobs` threads at once.
  virtual TrialResult Run(const TrialSpec& spec, const std::atomic<bool>* abort_now) = 0;
};

// The real thing: every trial a supervised process (RunTrial).
class SupervisorRunner final : public TrialRunner {
 public:
  TrialResult Run(const TrialSpec& spec, const std::atomic<bool>* abort_now) override {
    return RunTrial(spec, abort_now);
  }
};

// One trial to start: `item` means something to the caller (the sweep: a cell index).
struct Job {
  size_t item = 0;
  TrialSpec spec;
  std::string uid;  // the trial's uid, chosen before it runs (its --amplify seed derives from it)
  int slot = -1;  // RunSlotJobs: the slot (a GPU of --gpus) the job runs on
};

// The executor's calls back into the sweep. All of them are made under one lock, so they may touch the
// sweep's state without a lock of their own, and none runs while another does.
struct ExecutorHooks {
  // The next job to start; false when none is left (the executor then waits for those in flight).
  std::function<bool(Job* job)> next;
  // A finished trial, `seconds` its wall time. Returning false stops the executor starting new jobs (a
  // failure: those in flight still finish and are passed here).
  std::function<bool(const Job& job, TrialResult&& result, double seconds)> finished;
};

// Runs jobs from `hooks.next` until it has none, at most `jobs` at once, and returns when none is in flight.
// Once `stop` is set no job is started; once `abort_now` is set none is started and the results of those in
// flight are discarded (never passed to `finished`).
void RunJobs(TrialRunner* runner, int jobs, const ExecutorHooks& hooks, const std::atomic<bool>* stop,
             const std::atomic<bool>* abort_now);

// The --gpus pool: `slots` slots (GPUs) with `jobs_per_slot` workers each; a worker of slot s asks
// `next_for_slot(s, job)` and runs only that slot's jobs, so each slot works through its own queue and a slow
// GPU never takes another's share. `finished`, `stop` and `abort_now` as in RunJobs; job->slot is set.
void RunSlotJobs(TrialRunner* runner, int slots, int jobs_per_slot,
                 const std::function<bool(int slot, Job* job)>& next_for_slot, const ExecutorHooks& hooks,
                 const std::atomic<bool>* stop, const std::atomic<bool>* abort_now);

}  // namespace cg

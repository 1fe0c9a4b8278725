// A sweep: a grid of cells x repetitions, run round by round (each round runs every unfinished cell once,
// in a fresh random order, so drift touches all cells alike and a sweep stopped early is already a coarse
// map), every trial supervised and committed to the store as it finishes.
//
// RunSweep wires three parts: the Scheduler (sweep/scheduler.h: which cells next, verdicts; pure), the
// executor (sweep/executor.h: the --jobs pool over a TrialRunner) and the Recorder (sweep/recorder.h: the
// run row and the trials, through the Store).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "sweep/executor.h"
#include "sweep/fingerprint.h"
#include "sweep/options.h"
#include "sweep/progress.h"

namespace cg {

class Store;

// What a sweep talks to.
struct SweepIo {
  Store* store = nullptr;
  TrialRunner* runner = nullptr;          // SupervisorRunner, or a fake in tests
  ProgressObserver* observer = nullptr;   // may be null
  std::string self_exe;                   // argv[0] of built-in workload trials (SelfExe())
  std::function<nlohmann::json()> fingerprint;  // this invocation's environment (CollectFingerprint); may be empty
  // Told first, before any trial: which run this invocation continues or starts, and why (Recorder::note).
  std::function<void(const std::string&)> note;  // may be empty
};

struct SweepOutcome {
  int64_t run_id = 0;
  int64_t trials_run = 0;    // by this invocation
  int64_t trials_total = 0;  // recorded for the run
  bool resumed = false;
  bool interrupted = false;
  bool refused = false;  // --resume found no run to continue (RunSweep's *err says why): a usage error
  int64_t cells_total = 0;
  int64_t cells_unrunnable = 0;  // cells whose trials could not start
  std::string unrunnable_reason;
};

// Runs (or continues) the sweep. `stop` set from a signal handler stops scheduling new trials (those in
// flight are finished and recorded); `abort_now` also cancels the ones in flight (they are discarded).
[[nodiscard]] bool RunSweep(const SweepOptions& opts, const SweepIo& io, const std::atomic<bool>* stop,
                            const std::atomic<bool>* abort_now, SweepOutcome* outcome, std::string* err);

}  // namespace cg

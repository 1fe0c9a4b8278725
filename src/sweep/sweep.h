// A sweep: a grid of cells x repetitions, run round by round (each round runs every unfinished cell once,
// in a fresh random order, so drift touches all cells alike and a sweep stopped early is already a coarse
// map), every trial supervised and committed to the store as it finishes.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "supervisor/supervisor.h"
#include "sweep/progress.h"
#include "sweep/stopping.h"
#include "trial/run.h"

namespace cg {

class Store;

struct SweepOptions {
  std::vector<std::string> argv;  // the command line as typed (stored, re-parsed by --resume)
  std::string workload;           // built-in workload name; empty for --exec
  std::vector<std::string> exec_argv;
  std::vector<GridAxis> grid;
  std::map<std::string, std::string> params;  // fixed values: "threads", "serialize" and workload params
  int64_t runs = 10;
  double duration_s = 5;
  double grace_s = -1;  // < 0: DefaultGrace(duration)
  int jobs = 1;
  CaptureMethod capture = CaptureMethod::kAttach;
  // Watchdog bounds (see TrialSpec): set-up before the start barrier, tear-down after the deadline, and the
  // window in which a trial past a bound must show progress not to be called hung.
  double setup_timeout_s = 120;
  double teardown_timeout_s = 60;
  double stall_window_s = 2;
  nlohmann::json settings = nlohmann::json::object();  // stopping rule: {"until": "runs"|"decided", ...}
  uint64_t seed = 0;  // 0: from the clock
};

// What identifies a sweep for resuming: the workload or program, the grid, the fixed parameters, the
// duration. Not the number of runs (re-running with a larger --runs extends the same sweep) nor --jobs.
std::string SweepKey(const SweepOptions& opts);

// The argv of one trial of a built-in workload or --exec program at `cell`, and its environment.
TrialSpec MakeTrialSpec(const SweepOptions& opts, const Cell& cell, const std::string& self_exe);

struct SweepOutcome {
  int64_t run_id = 0;
  int64_t trials_run = 0;    // by this invocation
  int64_t trials_total = 0;  // recorded for the run
  bool resumed = false;
  bool interrupted = false;
  int64_t cells_total = 0;
  int64_t cells_unrunnable = 0;  // cells whose trials could not start
  std::string unrunnable_reason;
};

// Runs (or continues) the sweep. `stop` set from a signal handler stops scheduling new trials (those in
// flight are finished and recorded); `abort_now` also cancels the ones in flight (they are discarded).
bool RunSweep(const SweepOptions& opts, Store* store, StoppingRule* rule, ProgressObserver* observer,
              const std::atomic<bool>* stop, const std::atomic<bool>* abort_now, SweepOutcome* outcome,
              std::string* err);

// Environment fingerprint of this machine, from `crashgrid doctor --json --fingerprint` run as a child (so no
// GStreamer or CUDA state enters the sweep process), with basic host facts if that fails.
nlohmann::json CollectFingerprint(const std::string& self_exe);

// Path of the running crashgrid executable.
std::string SelfExe();

}  // namespace cg

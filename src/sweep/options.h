// What a sweep is: the options `crashgrid sweep` was given, checked (cli/cmd_sweep.cc builds them), and the
// two things derived from them alone: the sweep's identity for resuming and the trial spec of a cell.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "stats/stopping_settings.h"
#include "supervisor/supervisor.h"
#include "sweep/scheduler.h"
#include "trial/run.h"
#include "trial/trial.h"

namespace cg {

// One GPU of `--gpus`: its NVML index (the order of nvidia-smi, PCI bus order) and UUID.
struct GpuSlot {
  int index = 0;
  std::string uuid;
  std::string name;
};

struct SweepOptions {
  std::vector<std::string> argv;  // the command line as typed (stored, re-parsed by --resume)
  std::string workload;           // built-in workload name; empty for --exec
  bool reference_target = false;  // the built-in workload is a reference target (the caller looks it up)
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
  StoppingSettings stopping;  // stored as StoppingSettingsJson in RunRecord.settings
  uint64_t seed = 0;          // 0: from the clock
  // What a run is beside its sweep key (sweep/fingerprint.h, RunIdentity): `--label KEY=VALUE`, the
  // `--env NAME[=VALUE]` variables as passed to every trial (NAME alone resolved from crashgrid's environment),
  // and the working directory the trials run in.
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> env;
  std::string cwd;
  bool new_run = false;  // --new-run: never continue a recorded run
  bool resume = false;   // --resume: continue a recorded run or fail; never start a new one
  Shard shard;           // --shard K/N: the part of the grid this invocation runs (sweep/scheduler.h)
  // --gpus: every round runs each of its cells once on every GPU, `jobs` trials side by side per GPU, each trial
  // with GpuEnvironment of its GPU. Empty: no GPU is assigned (trials see what crashgrid sees).
  std::vector<GpuSlot> gpus;
};

// The longest --duration, --grace, --setup-timeout, --teardown-timeout and --stall-window accepted: a day. A
// trial bound beyond it is a typo (999999999999s), and a sweep that cannot be stopped by its own bounds is not
// one a user meant to start.
constexpr double kMaxTrialBoundS = 24 * 3600;

// Checks one of those flags' parsed value: finite, `positive` (> 0) or else >= 0, at most kMaxTrialBoundS. On
// failure *err names the flag, what it got and the limit.
bool CheckTrialBound(const char* flag, const std::string& text, double seconds, bool positive, std::string* err);

// What identifies a sweep for resuming: the workload or program, the grid, the fixed parameters, the
// duration and the grace. Not the number of runs (re-running with a larger --runs extends the same sweep),
// --jobs, the seed, the capture method or the stopping rule. A run is continued only when its identity
// (sweep/fingerprint.h: machine, driver, program, labels, --env) matches too.
// A shard's key is the whole sweep's key with "@shard=K/N" after it: a shard is a run of its own (it never
// continues another shard's run in the same file), and `crashgrid merge` recognises the shards of one sweep
// by their BaseSweepKey.
std::string SweepKey(const SweepOptions& opts);
// The key of the whole sweep a (shard's) key belongs to: `key` without its "@shard=K/N".
std::string BaseSweepKey(const std::string& key);

// The argv of one trial of a built-in workload or --exec program at `cell`, and its environment. `trial_uid` is
// the uid the trial will be recorded under: an amplified cell's delays are seeded from it (sweep/amplify.h).
TrialSpec MakeTrialSpec(const SweepOptions& opts, const Cell& cell, const std::string& self_exe,
                        const std::string& trial_uid = "");

// The `amplify` value of `cell` (a grid axis) or of the fixed parameters, "" when neither has one.
std::string AmplifyValue(const SweepOptions& opts, const Cell& cell);

// What a trial on `gpu` gets in its environment: CUDA_VISIBLE_DEVICES (the NVML index, with
// CUDA_DEVICE_ORDER=PCI_BUS_ID so that CUDA counts as NVML and nvidia-smi do), CRASHGRID_GPU_INDEX and
// CRASHGRID_GPU_UUID. CUDA then shows the process that GPU alone, as device 0: built-in workloads and
// GStreamer's CUDA elements (cuda-device-id 0, DeepStream's gpu-id 0) use it without being told.
std::vector<std::pair<std::string, std::string>> GpuEnvironment(const GpuSlot& gpu);

}  // namespace cg

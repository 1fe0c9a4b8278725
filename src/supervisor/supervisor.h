// The supervisor starts one trial process, watches it, captures what happened and cleans up.
// Nothing escapes it: the trial runs in its own process group, dies with crashgrid (parent-death signal
// plus the reaper guard for grandchildren), and its whole group is killed at the watchdog.
#pragma once

#include <atomic>
#include <string>
#include <utility>
#include <vector>

#include "trial/trial.h"

namespace cg {

// How crashes and hangs are captured (see src/agent/agent_block.h for the in-trial half):
//   attach   the default: the preloaded agent only notifies at a fatal signal and waits; the supervisor then
//            seizes every thread with ptrace, unwinds them all and lets the process die of its signal. At a
//            hang, the threads are seized when the watchdog decides. Nothing is traced before that, so thread
//            start-up runs as it does without crashgrid.
//   trace    ptrace from the trial's start (every thread creation stops in the tracer): sees crashes even in
//            programs the agent cannot be preloaded into (static, setuid), but staggers thread start-up.
//   handler  the agent records the faulting thread's stack itself (no ptrace needed); no hang stacks.
//   none     outcome only.
enum class CaptureMethod { kAttach, kTrace, kHandler, kNone };
const char* CaptureMethodName(CaptureMethod m);
// Also accepts "ptrace", the name `trace` had before attach existed (stored command lines still say it).
[[nodiscard]] bool ParseCaptureMethod(const std::string& s, CaptureMethod* out);

struct TrialSpec {
  // argv[0] is the program: an absolute path, or a name looked up in PATH.
  std::vector<std::string> argv;
  // Added to (or replacing in) crashgrid's own environment.
  std::vector<std::pair<std::string, std::string>> env;
  // A built-in workload (`crashgrid run ...`): the supervisor hands it a status block and a result fd
  // (appending `--status-fd N --result-fd M` to argv) and reads metrics and phases from them.
  bool builtin_workload = false;
  // An --exec program: an exit status 128+N (1 <= N <= 64) counts as a crash by signal N through a shell.
  bool shell_semantics = false;
  double duration_s = 5;  // how long the workload is expected to run
  double grace_s = 5;     // an iteration in flight at the deadline may take this long to end
  // Built-in workloads: the trial's clock starts at the start barrier (the status block says when). Set-up
  // (spawn to barrier) and tear-down (deadline + grace to exit) have bounds of their own.
  double setup_timeout_s = 120;
  double teardown_timeout_s = 60;
  // Past a bound, the watchdog watches this long for progress: some -> overran, none -> hung.
  double stall_window_s = 2;
  CaptureMethod capture = CaptureMethod::kNone;
  size_t output_tail_bytes = 64 * 1024;
};

// The default grace period for a duration: the larger of 5 s and half the duration.
double DefaultGrace(double duration_s);

// Runs one trial to its end and returns how it ended. Never throws; failures to start are an outcome
// (kCouldNotStart with the reason in detail). May be called from several threads at once (--jobs):
// each call waits only on its own children.
// `cancel`, when set to true from another thread, kills the trial's group and returns promptly with the
// outcome it had (the caller decides whether to record it).
TrialResult RunTrial(const TrialSpec& spec, const std::atomic<bool>* cancel = nullptr);

}  // namespace cg

// The supervisor's one running trial (class Trial), shared by the files that implement it, and by no one else:
// supervisor.cc sets a trial up and spawns it, trial_watch.cc watches it until its leader exits and reaps it
// (with the capture glue: the agent's fault notice, a stall's stacks), trial_outcome.cc turns what it left into
// the TrialResult. Internal to src/supervisor/.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "supervisor/supervisor.h"
#include "capture/attach.h"
#include "capture/signature.h"
#include "capture/unwind.h"
#include "supervisor/agent_channel.h"
#include "supervisor/child_wakeup.h"
#include "supervisor/descendants.h"  // orphans:
#include "supervisor/handler_report.h"
#include "supervisor/progress.h"
#include "supervisor/reaper_guard.h"
#include "supervisor/spawn.h"
#include "supervisor/tracer.h"
#include "supervisor/wait_status.h"
#include "supervisor/watchdog.h"
#include "trial/trial_json.h"
#include "util/clock.h"
#include "util/fd.h"
#include "util/strings.h"
#include "runtime/status_block.h"

namespace cg::trial_run {

// Once attaching at a crash was refused, later trials tell the agent to record the faulting thread itself at
// once rather than post the fault and wait for a capture that cannot come.
extern std::atomic<bool> g_attach_denied;
extern std::mutex g_attach_denied_mu;
extern std::string g_attach_denied_reason;

// How long to wait for killed processes to be reaped before giving up on them (and saying so).
constexpr double kReapTimeoutS = 10;
// The longest a wait sleeps before looking at the cancel flag again.
constexpr int kMaxPollMs = 50;

// Appends s to the trial's detail ("; "-separated).
void AddDetail(TrialResult* r, const std::string& s);
// A close-on-exec memfd above fd 2 (invalid, with *err, on failure).
ScopedFd MakeMemfd(const char* name, std::string* err);
// The file for the agent's self-written record: the one the last finished trial on this thread gave back
// (emptied), or a new memfd.
ScopedFd TakeHandlerFile(std::string* err);
// Keeps `fd` for the next trial on this thread; only once no process that inherited it is left.
void GiveBackHandlerFile(ScopedFd fd);
// The whole content of a file (a memfd the trial wrote), read from offset 0.
std::string ReadAll(int fd);

// Reads whatever is available from a non-blocking pipe into `tail`; false once it reached EOF.
bool Drain(ScopedFd* fd, TailBuffer* tail);
// "No such process (ESRCH)".
std::string ErrnoText(int e);

// The processes of a trial: the leader and everything below it, whatever their group or session.
std::vector<pid_t> TrialProcesses(pid_t leader);
// Why a hung trial cannot move, when it is because some of its processes are stopped (state T: a stop signal
// nobody continued): "stopped by SIGSTOP: process 123 (the program)", "" when none is. Call it before a capture
// puts the threads into ptrace stops.
std::string StoppedProcessesNote(pid_t leader, const std::vector<pid_t>& processes);
// The process that traces `pid` (TracerPid in /proc/PID/status), 0 when none or gone.
pid_t TracerOf(pid_t pid);

// The state of one running trial; RunTrial drives it from start to reaped.
class Trial {
 public:
  Trial(const TrialSpec& spec, CaptureMethod method, const std::atomic<bool>* cancel)
      : spec_(spec), method_(method), cancel_(cancel), out_tail_(spec.output_tail_bytes),
        err_tail_(spec.output_tail_bytes) {}

  // Returns false only when the trial should be redone with the handler (ptrace refused).
  [[nodiscard]] bool Run(TrialResult* r);
  const std::string& ptrace_error() const { return ptrace_error_; }

 private:
  [[nodiscard]] bool Prepare(const std::string& path, TrialResult* r, SpawnPlan* plan);
  [[nodiscard]] bool PrepareAgent(const std::string& path, TrialResult* r, SpawnPlan* plan);
  void Loop();
  void Finish();
  void PeekLeaderExit();
  void PumpOutput(int timeout_ms);
  void HandleAgentFault();
  void CaptureStall();
  Progress SampleProgress();
  double BarrierTime() const;
  void AttachPhases(pid_t pid, CrashReport* report) const;
  void ReadWorkloadResult(TrialResult* r);
  void ReadHandlerRecord(TrialResult* r);
  void Classify(TrialResult* r);
  // No process of the trial received `sig`, as far as crashgrid could see every process (see the definition).
  bool SawNoSignal(int sig) const;

  const TrialSpec& spec_;
  CaptureMethod method_;
  const std::atomic<bool>* cancel_;
  TailBuffer out_tail_, err_tail_;
  ChildWakeup wakeup_;
  SpawnedChild child_;
  std::unique_ptr<Tracer> tracer_;
  ScopedFd status_fd_, result_fd_, handler_fd_;
  StatusBlock status_;
  AgentChannel agent_;
  std::string ptrace_error_;
  LiveTrial live_;  // orphans: this trial's marker, live until the Trial (and so its reaped leader) is gone
  std::optional<CrashReport> attach_report_;  // stacks seized at the agent's fault notice
  std::optional<CrashReport> stall_report_;   // stacks seized when the watchdog decided
  std::vector<pid_t> still_traced_;           // threads a capture could not stop nor let go (see ReapTraced)
  bool fault_handled_ = false;
  std::string watchdog_note_;

  double t0_ = 0;
  double started_unix_ = 0;
  double outcome_time_ = 0;
  double crash_time_ = 0;
  bool leader_exited_ = false;
  bool hung_ = false;
  bool overran_ = false;
  bool cancelled_ = false;
  int32_t* guard_slot_ = nullptr;  // the reaper guard's slot for this trial's group (GuardReserveSlot)
  int exec_errno_ = 0;
  WaitStatus final_;
  bool reaped_ = false;
  bool all_gone_ = false;  // every process of the trial was killed and reaped (Finish)
  std::string problems_;
};

}  // namespace cg::trial_run

// The ptrace side of a trial: every thread and descendant process of the trial, traced from before exec,
// resumed exactly as the kernel would have run them untraced, and stopped for a capture at the first crash
// signal (before any handler the program installed can run) or at a hang.
//
// Why trace from the start rather than attach when something goes wrong: by the time the supervisor learns
// of a crash (the exit status) the process is gone, and a handler installed by the workload or one of its
// libraries (CUDA, GStreamer and language runtimes install them) may have swallowed or rewritten the signal.
// The signal-delivery-stop is the one moment every thread is still intact. The cost is a ptrace stop per
// thread creation, fork, exec and signal, which the capture-overhead benchmark measures.
//
// Threads being tracees of the tracing *thread*, every call here must come from the thread that seized.
#pragma once

#include <sys/types.h>

#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "supervisor/wait_status.h"
#include "trial/trial.h"

namespace cg {

class StatusBlock;

class Tracer {
 public:
  // `wake_fd`: readable after SIGCHLD (ChildWakeup), -1 to poll. `status`: the trial's status block, if
  // any, for the phases of captured threads.
  Tracer(pid_t leader, int wake_fd, const StatusBlock* status);
  Tracer(const Tracer&) = delete;
  Tracer& operator=(const Tracer&) = delete;

  // PTRACE_SEIZE with the options that follow threads, forks and execs. Returns 0 or the errno.
  [[nodiscard]] static int Seize(pid_t pid);

  enum class Next { kNone, kEvent, kLeaderExited };
  // The next state change of a tracee, consuming it; the leader's exit is only reported (it stays an
  // unreaped zombie, keeping its pid and process group id from being reused until the caller reaps it).
  Next Poll(pid_t* tid, WaitStatus* st);
  // Reacts to one state change: resumes the tracee unchanged, or captures at the first crash signal.
  void Dispatch(pid_t tid, WaitStatus st);
  // Processes every pending state change; true if the leader exited.
  bool DispatchPending();

  // Stops every traced thread, unwinds them all and sets report() with a hang signature. The tracees stay
  // stopped: the caller kills them.
  void CaptureHang();
  // SIGKILLs every tracee (also those outside the trial's process group).
  void KillAll();
  // After the leader was reaped: reaps the remaining tracees until none is left or `deadline` passes.
  [[nodiscard]] bool ReapRest(double deadline);
  void ForgetLeader() { leader_ = -1; }

  const std::optional<CrashReport>& report() const { return report_; }
  const std::string& signature() const { return signature_; }
  // ptrace requests that failed for another reason than the tracee being gone ("" if none; see ptrace_call.h).
  const std::string& problems() const { return problems_; }
  double crash_time() const { return crash_time_; }  // monotonic seconds of the captured crash, 0 if none
  size_t tracee_count() const { return tracees_.size(); }

 private:
  struct Stopped {
    pid_t tid;
    WaitStatus st;
  };
  void CaptureCrash(pid_t tid, int sig);
  // PTRACE_INTERRUPTs `tids` and waits (until `deadline`) for each to be in a ptrace-stop. Other state
  // changes seen meanwhile are queued for Dispatch. Returns the stops, to be given to Resume.
  std::vector<Stopped> StopThreads(const std::vector<pid_t>& tids, double deadline, std::string* err);
  void Resume(const std::vector<Stopped>& stops);
  void Continue(pid_t tid, WaitStatus st);
  void NoteNewTracee(pid_t tid, WaitStatus st);
  void AttachPhases(pid_t tgid, CrashReport* report);
  void WaitForWake(double deadline);

  pid_t leader_;
  int wake_fd_;
  const StatusBlock* status_;
  std::set<pid_t> tracees_;
  std::deque<std::pair<pid_t, WaitStatus>> deferred_;
  bool leader_exited_ = false;
  bool captured_ = false;
  std::optional<CrashReport> report_;
  std::string signature_;
  double crash_time_ = 0;
  std::string problems_;
};

// Thread ids of a process from /proc/PID/task, sorted.
std::vector<pid_t> ListThreads(pid_t pid);
// The thread-group id of a thread (from /proc/TID/status), 0 if it is gone.
pid_t ThreadGroupOf(pid_t tid);
// /proc/PID/task/TID/comm without the newline, "" if gone.
std::string ThreadName(pid_t pid, pid_t tid);

}  // namespace cg

// Capturing live processes that nobody traced: seize every thread with ptrace at the moment it matters (a
// fatal signal the in-trial agent reported, or the watchdog's decision), stop them, unwind them all with libdwfl
// and let them go again. This is Crashpad's model: nothing is traced before, so the program's threads start and
// race exactly as they do without crashgrid.
//
// Every call must come from one thread (ptrace makes the seizing thread the tracer of each thread seized).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "trial/trial.h"

namespace cg {

// The threads of processes seized and stopped by one capture. Detaches on destruction (the threads resume,
// with any signal that arrived while they were stopped delivered as it would have been).
class SeizedThreads {
 public:
  // `own_child`: a process of which the caller is the parent (the trial's leader): its exit, if it happens
  // while threads are being stopped, is left for the caller to reap.
  explicit SeizedThreads(pid_t own_child) : own_child_(own_child) {}
  ~SeizedThreads() { (void)DetachAll(); }
  SeizedThreads(const SeizedThreads&) = delete;
  SeizedThreads& operator=(const SeizedThreads&) = delete;

  // Seizes and stops every thread of `pid`, listing /proc/PID/task again until a pass finds no new thread (a
  // thread can be created while the others are being stopped). Threads that do not reach a stop by `deadline`
  // (inside an uninterruptible driver call) are left out and counted in *err. Returns 0, or the errno of
  // the first PTRACE_SEIZE that failed for a reason other than the thread being gone (EPERM: ptrace is not
  // permitted here) — then nothing of that process stays seized.
  [[nodiscard]] int SeizeProcess(pid_t pid, double deadline, std::string* err);

  // The stopped threads of `pid`, in tid order.
  std::vector<pid_t> Stopped(pid_t pid) const;
  // The scheduler state ('R', 'S', 'D', 't', ...) a thread had just before it was seized, 0 if unknown.
  char StateBefore(pid_t tid) const;
  // Lets every seized thread go. A thread that never reached its stop is waited for a little longer (it must
  // not stop later with nobody to resume it); those still running then stay seized and are returned: the
  // caller must ReapTraced them before it waits for their process (a traced thread that exits stays a zombie
  // until its tracer takes the notice, and keeps its process from being reaped).
  [[nodiscard]] std::vector<pid_t> DetachAll();
  // ptrace requests that failed for another reason than the thread being gone ("" if none; ptrace_call.h).
  const std::string& problems() const { return problems_; }

 private:
  struct Thread {
    pid_t pid = 0, tid = 0;
    char state = 0;
    int pending_signal = 0;  // a signal-delivery-stop seen instead of our interrupt: re-injected at detach
    bool stopped = false;
  };
  bool WaitForStops(double deadline);
  pid_t own_child_;
  std::vector<Thread> threads_;
  std::vector<pid_t> leftovers_;
  std::string problems_;
};

// A crash the agent reported: `tid` of process `pid` faulted with `signo`/`si_code` (and `address` when
// has_address). Seizes all threads of the process, unwinds them (the faulting thread first, its stack trimmed
// of the agent's signal handler so it starts at the faulting instruction), detaches. *report gets method
// "attach". Returns 0 or the errno of a refused PTRACE_SEIZE (the report then holds only what was given).
// `own_child`: the trial's leader, whose exit is left for the caller to reap.
[[nodiscard]] int CaptureCrashedProcess(pid_t pid, pid_t tid, int signo, int si_code, bool has_address, uint64_t address,
                          const std::string& thread_name, pid_t own_child, CrashReport* report,
                          std::vector<pid_t>* still_traced);

// A stall: seizes every thread of every process in `pids`, unwinds them all into one report (the processes
// other than `leader` first: behind a shell, the program that hangs is not the shell), detaches. Threads carry
// the state they had before the seizure. Returns 0 or the errno of the first refused PTRACE_SEIZE.
[[nodiscard]] int CaptureStalledProcesses(const std::vector<pid_t>& pids, pid_t leader, CrashReport* report,
                            std::vector<pid_t>* still_traced);

// Threads left seized by a capture (they never reached a stop): detaches the ones that stopped since, takes
// the exit notice of the ones that died, until none is left or `deadline` passes. True when none is left.
[[nodiscard]] bool ReapTraced(std::vector<pid_t>* tids, double deadline);

// Thread ids of a process from /proc/PID/task, sorted; empty if it is gone.
std::vector<pid_t> ListTasks(pid_t pid);

// Drops the frames of the agent's signal handler above the signal trampoline, so a thread captured while the
// agent holds it inside its handler reads like one stopped at the fault. No-op for other stacks.
void TrimSignalHandlerFrames(ThreadStack* thread);

}  // namespace cg

// The raw int that waitpid() fills, turned at once into a value that says what happened (after rr's
// WaitStatus). With PTRACE_SEIZE the kernel packs a ptrace event into bits 16..23 of a stop status.
#pragma once

#include <signal.h>
#include <sys/ptrace.h>
#include <sys/wait.h>

namespace cg {

inline bool IsStopSignal(int sig) {
  return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

// Signals whose default action ends the process with a core: the ones a crash report is about.
inline bool IsCrashSignal(int sig) {
  return sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE || sig == SIGABRT ||
         sig == SIGSYS || sig == SIGTRAP;
}

class WaitStatus {
 public:
  WaitStatus() = default;
  explicit WaitStatus(int raw) : raw_(raw) {}

  bool exited() const { return WIFEXITED(raw_); }
  bool killed() const { return WIFSIGNALED(raw_); }
  bool gone() const { return exited() || killed(); }
  bool stopped() const { return WIFSTOPPED(raw_); }
  int exit_code() const { return exited() ? WEXITSTATUS(raw_) : -1; }
  int fatal_sig() const { return killed() ? WTERMSIG(raw_) : 0; }
  int stop_sig() const { return stopped() ? WSTOPSIG(raw_) : 0; }
  // PTRACE_EVENT_* of a stop, 0 for a signal-delivery-stop.
  int ptrace_event() const { return stopped() ? (raw_ >> 16) & 0xff : 0; }
  // A signal is about to be delivered: the tracer decides whether it is (PTRACE_CONT with the signal).
  bool signal_delivery_stop() const { return stopped() && ptrace_event() == 0; }
  // Under PTRACE_SEIZE a group-stop is a PTRACE_EVENT_STOP carrying the stopping signal; the other
  // PTRACE_EVENT_STOPs (PTRACE_INTERRUPT, a new auto-attached tracee) carry SIGTRAP.
  bool group_stop() const { return ptrace_event() == PTRACE_EVENT_STOP && IsStopSignal(stop_sig()); }
  int raw() const { return raw_; }

 private:
  int raw_ = 0;
};

}  // namespace cg

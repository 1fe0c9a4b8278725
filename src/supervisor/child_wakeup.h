// Waking the threads that wait for their trial processes.
//
// A trial thread must multiplex output pipes, the watchdog, cancellation and state changes of its children
// and tracees. Exits alone could be polled through a pidfd, but ptrace stops cannot, and SIGCHLD is
// process-directed (any thread may take it), so one SIGCHLD handler wakes every waiting thread through its
// own eventfd; each thread then asks waitpid/waitid about its own processes only. Spurious wakeups are
// harmless; lost ones are impossible because the eventfd is level-triggered and drained before checking.
#pragma once

namespace cg {

class ChildWakeup {
 public:
  ChildWakeup();   // takes a slot (installs the SIGCHLD handler on first use)
  ~ChildWakeup();  // gives the slot back
  ChildWakeup(const ChildWakeup&) = delete;
  ChildWakeup& operator=(const ChildWakeup&) = delete;

  // Readable after a SIGCHLD since the last Drain(); -1 when every slot is taken (callers then poll with a
  // short timeout instead).
  int fd() const { return fd_; }
  void Drain();

 private:
  int slot_ = -1;
  int fd_ = -1;
};

}  // namespace cg

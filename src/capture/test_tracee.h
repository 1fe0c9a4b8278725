// A small ptrace harness for the capture tests and benchmark: it plays the supervisor's part (seize from the
// start, follow clones, stop every thread at a fatal signal or on demand) so UnwindStoppedThreads can be
// exercised on real stopped processes. Header-only so tests and bench/ share it without a library.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "util/clock.h"
#include "util/fd.h"

namespace cg {

class TestTracee {
 public:
  enum class Stop { kFatalSignal, kCondition, kExited, kTimeout };

  TestTracee() = default;
  ~TestTracee() { Kill(); }
  TestTracee(const TestTracee&) = delete;
  TestTracee& operator=(const TestTracee&) = delete;

  // Forks and execs argv with stdin and stdout on pipes and seizes it before it can run a thread. The
  // fixtures wait for one byte on stdin (Go()) before they start any.
  bool Start(const std::vector<std::string>& argv, std::string* err) {
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) {
      *err = "pipe failed";
      return false;
    }
    ScopedFd in_r(in[0]), out_w(out[1]);
    stdin_w_.reset(in[1]);
    stdout_r_.reset(out[0]);
    std::vector<char*> cargv;
    for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
    cargv.push_back(nullptr);
    pid_ = fork();
    if (pid_ < 0) {
      *err = "fork failed";
      return false;
    }
    if (pid_ == 0) {
      dup2(in_r.get(), 0);
      dup2(out_w.get(), 1);
      execv(cargv[0], cargv.data());
      _exit(127);
    }
    fcntl(stdout_r_.get(), F_SETFL, O_NONBLOCK);
    // EXITKILL: a test that dies mid-way takes its tracee with it.
    if (ptrace(PTRACE_SEIZE, pid_, nullptr, PTRACE_O_TRACECLONE | PTRACE_O_EXITKILL) != 0) {
      *err = std::string("PTRACE_SEIZE failed: ") + strerror(errno);
      return false;
    }
    threads_.insert(pid_);
    return true;
  }

  void Go() {
    char c = 'g';
    (void)!write(stdin_w_.get(), &c, 1);
  }

  // Keeps the tracee running (clone events followed, other signals passed on) until a thread stops at the
  // delivery of a fatal signal, `until` returns true, the process exits, or the timeout passes.
  Stop Pump(double timeout_s, const std::function<bool()>& until, pid_t* fault_tid = nullptr,
            siginfo_t* info = nullptr) {
    double deadline = MonotonicSeconds() + timeout_s;
    while (MonotonicSeconds() < deadline) {
      ReadOutput();
      if (until && until()) return Stop::kCondition;
      int status = 0;
      pid_t tid = waitpid(-1, &status, __WALL | WNOHANG);
      if (tid == 0) {
        usleep(500);
        continue;
      }
      if (tid < 0) return Stop::kExited;
      if (WIFEXITED(status) || WIFSIGNALED(status)) {
        threads_.erase(tid);
        if (tid == pid_) {
          reaped_ = true;
          return Stop::kExited;
        }
        continue;
      }
      int sig = WSTOPSIG(status);
      int event = status >> 16;
      if (event == PTRACE_EVENT_CLONE) {
        unsigned long child = 0;
        ptrace(PTRACE_GETEVENTMSG, tid, nullptr, &child);
        threads_.insert(static_cast<pid_t>(child));
        ptrace(PTRACE_CONT, tid, nullptr, nullptr);
      } else if (event == PTRACE_EVENT_STOP) {  // a new thread's first stop, or a group-stop
        threads_.insert(tid);
        ptrace(PTRACE_CONT, tid, nullptr, nullptr);
      } else if (sig == SIGSEGV || sig == SIGBUS || sig == SIGABRT || sig == SIGILL || sig == SIGFPE) {
        threads_.insert(tid);
        if (fault_tid) *fault_tid = tid;
        if (info) ptrace(PTRACE_GETSIGINFO, tid, nullptr, info);
        return Stop::kFatalSignal;
      } else {
        ptrace(PTRACE_CONT, tid, nullptr, reinterpret_cast<void*>(static_cast<long>(sig)));
      }
    }
    return Stop::kTimeout;
  }

  // Interrupts every thread but `already_stopped` and waits until each is in a ptrace-stop.
  bool StopAll(pid_t already_stopped, std::string* err) {
    std::set<pid_t> stopped;
    if (already_stopped) stopped.insert(already_stopped);
    for (pid_t t : threads_) {
      if (!stopped.count(t)) ptrace(PTRACE_INTERRUPT, t, nullptr, nullptr);
    }
    double deadline = MonotonicSeconds() + 10;
    while (MonotonicSeconds() < deadline) {
      bool all = true;
      for (pid_t t : threads_) all = all && stopped.count(t);
      if (all) return true;
      int status = 0;
      pid_t tid = waitpid(-1, &status, __WALL | WNOHANG);
      if (tid == 0) {
        usleep(200);
        continue;
      }
      if (tid < 0) break;
      if (WIFEXITED(status) || WIFSIGNALED(status)) {
        threads_.erase(tid);
        if (tid == pid_) reaped_ = true;
        continue;
      }
      threads_.insert(tid);
      stopped.insert(tid);
      // A clone in flight: its child starts in a ptrace-stop of its own, which is waited for like the rest.
      if ((status >> 16) == PTRACE_EVENT_CLONE) {
        unsigned long child = 0;
        ptrace(PTRACE_GETEVENTMSG, tid, nullptr, &child);
        threads_.insert(static_cast<pid_t>(child));
      }
    }
    *err = "threads did not stop";
    return false;
  }

  // The threads, `first` first.
  std::vector<pid_t> Threads(pid_t first = 0) const {
    std::vector<pid_t> out;
    if (first && threads_.count(first)) out.push_back(first);
    for (pid_t t : threads_) {
      if (t != first) out.push_back(t);
    }
    return out;
  }

  const std::string& output() {
    ReadOutput();
    return out_;
  }
  pid_t pid() const { return pid_; }

  // SIGKILL works on ptrace-stopped threads too; then every thread's exit is reaped, so neither a zombie nor
  // a stopped tracee is left behind.
  void Kill() {
    if (pid_ <= 0 || reaped_) return;
    kill(pid_, SIGKILL);
    int status = 0;
    while (true) {
      pid_t r = waitpid(-1, &status, __WALL);
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) break;
      if (r == pid_ && (WIFEXITED(status) || WIFSIGNALED(status))) {
        // The leader is reaped last (after all other threads); drain anything else pending.
        while (waitpid(-1, &status, __WALL | WNOHANG) > 0) {
        }
        break;
      }
    }
    reaped_ = true;
  }

 private:
  void ReadOutput() {
    char buf[4096];
    ssize_t n;
    while ((n = read(stdout_r_.get(), buf, sizeof buf)) > 0) out_.append(buf, static_cast<size_t>(n));
  }

  pid_t pid_ = -1;
  bool reaped_ = false;
  ScopedFd stdin_w_, stdout_r_;
  std::string out_;
  std::set<pid_t> threads_;
};

}  // namespace cg

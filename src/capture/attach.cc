#include "capture/attach.h"

#include <dirent.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>

#include <fmt/format.h>

#include "capture/ptrace_call.h"
#include "capture/unwind.h"
#include "util/clock.h"
#include "util/strings.h"

namespace cg {
namespace {

// How long a capture waits for the threads to reach a ptrace-stop. A thread inside an uninterruptible driver
// call stops only when the call returns; the capture goes on without it rather than wait forever.
constexpr double kStopTimeoutS = 1.0;
// At detach, the extra time given to a thread that has not stopped yet (it would otherwise stop later, in a
// trap stop, with no tracer left to resume it).
constexpr double kLateStopS = 2.0;
constexpr const char* kAgentModule = "libcrashgrid_agent.so";

char TaskState(pid_t pid, pid_t tid) {
  std::string path = fmt::format("/proc/{}/task/{}/stat", pid, tid);
  FILE* f = std::fopen(path.c_str(), "re");
  if (!f) return 0;
  char buf[512];
  size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  buf[n] = 0;
  // "tid (comm) S ...": comm may hold spaces and parentheses.
  const char* p = std::strrchr(buf, ')');
  return p && p[1] == ' ' ? p[2] : 0;
}

void SleepBriefly(int round) {
  timespec ts{0, round < 20 ? 100000L : 1000000L};  // 0.1 ms at first, then 1 ms
  nanosleep(&ts, nullptr);
}

}  // namespace

std::vector<pid_t> ListTasks(pid_t pid) {
  std::vector<pid_t> out;
  std::string dir = fmt::format("/proc/{}/task", pid);
  DIR* d = opendir(dir.c_str());
  if (!d) return out;
  while (dirent* e = readdir(d)) {
    int tid = std::atoi(e->d_name);
    if (tid > 0) out.push_back(tid);
  }
  closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

int SeizedThreads::SeizeProcess(pid_t pid, double deadline, std::string* err) {
  std::set<pid_t> seen;
  for (const Thread& t : threads_) seen.insert(t.tid);
  size_t first_of_pid = threads_.size();
  (void)first_of_pid;
  // A thread created while the others are being stopped shows up in the next listing; once every listed
  // thread is stopped, none can create another, so this ends.
  for (int pass = 0; pass < 64; ++pass) {
    bool added = false;
    for (pid_t tid : ListTasks(pid)) {
      if (!seen.insert(tid).second) continue;
      char state = TaskState(pid, tid);
      if (ptrace(PTRACE_SEIZE, tid, nullptr, nullptr) != 0) {
        int e = errno;
        // Gone between the listing and now, or exiting: the kernel refuses to attach to a task that has begun
        // to exit with EPERM, and such a task is a zombie, dead or already gone from /proc.
        char now = TaskState(pid, tid);
        if (e == ESRCH || (e == EPERM && (now == 0 || now == 'Z' || now == 'X'))) continue;
        // Anything else (EPERM: Yama, a container without CAP_SYS_PTRACE, or another tracer) means this
        // process cannot be captured. The threads of it seized so far stay in the list: DetachAll waits for
        // their stops and lets them go (dropping them here would leave them traced, and a traced thread that
        // exits stays a zombie that keeps its whole process from being reaped).
        *err = fmt::format("PTRACE_SEIZE of thread {}: {}", tid, std::strerror(e));
        WaitForStops(deadline);
        return e;
      }
      // Gone here only means it died meanwhile; its exit then shows up in WaitForStops.
      (void)PtraceIfAlive(PTRACE_INTERRUPT, tid, nullptr, nullptr, &problems_);
      threads_.push_back({pid, tid, state, 0, false});
      added = true;
    }
    if (!added) break;
    WaitForStops(deadline);
  }
  size_t late = 0;
  for (size_t i = first_of_pid; i < threads_.size(); ++i) late += threads_[i].stopped ? 0 : 1;
  if (late > 0) {
    *err = fmt::format("{} thread(s) of process {} did not stop within {:.0f} ms (in an uninterruptible call?)",
                       late, pid, kStopTimeoutS * 1000);
  }
  return 0;
}

bool SeizedThreads::WaitForStops(double deadline) {
  for (int round = 0;; ++round) {
    bool waiting = false;
    for (Thread& t : threads_) {
      if (t.stopped || t.tid <= 0) continue;
      // Peek first: the exit of our own child (the trial's leader) must stay for the supervisor to reap, or
      // its pid and process group id could be reused while the trial is being cleaned up.
      siginfo_t si;
      std::memset(&si, 0, sizeof si);
      if (waitid(P_PID, static_cast<id_t>(t.tid), &si, WEXITED | WSTOPPED | WNOHANG | WNOWAIT | __WALL) != 0) {
        if (errno == EINTR) {
          waiting = true;
        } else {
          t.tid = -t.tid;  // ECHILD: not ours any more (gone)
        }
        continue;
      }
      if (si.si_pid == 0) {
        waiting = true;
        continue;
      }
      bool exited = si.si_code == CLD_EXITED || si.si_code == CLD_KILLED || si.si_code == CLD_DUMPED;
      if (exited && t.tid == own_child_) {
        t.tid = -t.tid;
        continue;
      }
      int raw = 0;
      if (waitpid(t.tid, &raw, __WALL | WNOHANG) != t.tid) {
        waiting = true;
        continue;
      }
      if (WIFSTOPPED(raw)) {
        t.stopped = true;
        // Seized tracees report our interrupt and group-stops as PTRACE_EVENT_STOP; a plain stop is a signal
        // on its way to the thread, which must still get it when we let go.
        if ((raw >> 16) == 0) t.pending_signal = WSTOPSIG(raw);
      } else {
        // Gone. For a process that is not our child the wait only took the tracer's notice, and its parent
        // now sees the exit as it would have.
        t.tid = -t.tid;
      }
    }
    if (!waiting) return true;
    if (MonotonicSeconds() >= deadline) return false;
    SleepBriefly(round);
  }
}

std::vector<pid_t> SeizedThreads::Stopped(pid_t pid) const {
  std::vector<pid_t> out;
  for (const Thread& t : threads_) {
    if (t.pid == pid && t.stopped && t.tid > 0) out.push_back(t.tid);
  }
  std::sort(out.begin(), out.end());
  return out;
}

char SeizedThreads::StateBefore(pid_t tid) const {
  for (const Thread& t : threads_) {
    if (t.tid == tid) return t.state;
  }
  return 0;
}

std::vector<pid_t> SeizedThreads::DetachAll() {
  bool late = false;
  for (const Thread& t : threads_) late |= !t.stopped && t.tid > 0;
  if (late) WaitForStops(MonotonicSeconds() + kLateStopS);
  std::vector<pid_t> left;
  for (const Thread& t : threads_) {
    if (t.tid <= 0) continue;
    if (!t.stopped) {
      left.push_back(t.tid);
      continue;
    }
    void* sig = reinterpret_cast<void*>(static_cast<long>(t.pending_signal));
    if (PtraceIfAlive(PTRACE_DETACH, t.tid, nullptr, sig, &problems_) == PtraceResult::kFailed) left.push_back(t.tid);
  }
  threads_.clear();
  leftovers_.insert(leftovers_.end(), left.begin(), left.end());
  return left;
}

bool ReapTraced(std::vector<pid_t>* tids, double deadline) {
  for (int round = 0; !tids->empty(); ++round) {
    for (auto it = tids->begin(); it != tids->end();) {
      int raw = 0;
      pid_t got = waitpid(*it, &raw, __WALL | WNOHANG);
      if (got == *it && WIFSTOPPED(raw)) {
        std::string ignored;  // gone or not, it is no longer ours to wait for
        (void)PtraceIfAlive(PTRACE_DETACH, *it, nullptr, nullptr, &ignored);  // it stopped at last: let it go
        it = tids->erase(it);
      } else if (got == *it || (got < 0 && errno == ECHILD)) {
        it = tids->erase(it);  // gone (its exit notice taken), or not ours any more
      } else {
        ++it;
      }
    }
    if (tids->empty() || MonotonicSeconds() >= deadline) break;
    SleepBriefly(round);
  }
  return tids->empty();
}

void TrimSignalHandlerFrames(ThreadStack* thread) {
  auto& frames = thread->frames;
  bool in_agent = false;
  for (size_t i = 0; i < frames.size(); ++i) {
    if (Basename(frames[i].module) == kAgentModule) in_agent = true;
    if (in_agent && frames[i].symbol == "__restore_rt") {
      frames.erase(frames.begin(), frames.begin() + static_cast<std::ptrdiff_t>(i + 1));
      return;
    }
  }
}

int CaptureCrashedProcess(pid_t pid, pid_t tid, int signo, int si_code, bool has_address, uint64_t address,
                          const std::string& thread_name, pid_t own_child, CrashReport* report,
                          std::vector<pid_t>* still_traced) {
  double t0 = MonotonicSeconds();
  CrashReport& r = *report;
  r.method = "attach";
  r.signal = signo;
  r.si_code = si_code;
  r.has_fault_address = has_address;
  r.fault_address = has_address ? address : 0;
  r.faulting_tid = tid;
  r.faulting_thread_name = thread_name;
  SeizedThreads seized(own_child);
  std::string stop_err;
  int e = seized.SeizeProcess(pid, t0 + kStopTimeoutS, &stop_err);
  std::vector<std::string> errs;
  if (!stop_err.empty()) errs.push_back(stop_err);
  if (e == 0) {
    std::vector<pid_t> order;
    std::vector<pid_t> stopped = seized.Stopped(pid);
    if (std::find(stopped.begin(), stopped.end(), tid) != stopped.end()) order.push_back(tid);
    for (pid_t t : stopped) {
      if (t != tid) order.push_back(t);
    }
    std::string unwind_err;
    if (!order.empty() && UnwindStoppedThreads(pid, order, &r, &unwind_err)) {
      for (ThreadStack& t : r.threads) {
        TrimSignalHandlerFrames(&t);
        t.state = seized.StateBefore(t.tid);
      }
    }
    if (!unwind_err.empty()) errs.push_back(unwind_err);
  }
  if (std::vector<pid_t> left = seized.DetachAll(); !left.empty()) *still_traced = left;
  if (!seized.problems().empty()) errs.push_back(seized.problems());
  if (r.threads.empty()) {
    ThreadStack faulting;
    faulting.tid = tid;
    faulting.name = thread_name;
    faulting.faulting = true;
    faulting.error = errs.empty() ? "no stack captured" : errs.back();
    r.threads.push_back(std::move(faulting));
  }
  for (const std::string& s : errs) r.error += (r.error.empty() ? "" : "; ") + s;
  r.capture_ms = (MonotonicSeconds() - t0) * 1000;
  return e;
}

int CaptureStalledProcesses(const std::vector<pid_t>& pids, pid_t leader, CrashReport* report,
                            std::vector<pid_t>* still_traced) {
  double t0 = MonotonicSeconds();
  CrashReport& r = *report;
  r.method = "attach";
  std::vector<pid_t> order;
  for (pid_t p : pids) {
    if (p != leader) order.push_back(p);
  }
  if (std::find(pids.begin(), pids.end(), leader) != pids.end()) order.push_back(leader);
  SeizedThreads seized(leader);
  std::vector<std::string> errs;
  int first_error = 0;
  // Stop everything first, then unwind: the picture is of one moment, not of threads that moved on while
  // the ones before them were being read.
  for (pid_t p : order) {
    std::string err;
    int e = seized.SeizeProcess(p, MonotonicSeconds() + kStopTimeoutS, &err);
    if (e != 0 && first_error == 0) first_error = e;
    if (!err.empty()) errs.push_back(err);
  }
  for (pid_t p : order) {
    std::vector<pid_t> tids = seized.Stopped(p);
    if (tids.empty()) continue;
    size_t before = r.threads.size();
    std::string err;
    if (!UnwindStoppedThreads(p, tids, &r, &err) || !err.empty()) {
      errs.push_back(fmt::format("process {}: {}", p, err));
    }
    for (size_t i = before; i < r.threads.size(); ++i) {
      TrimSignalHandlerFrames(&r.threads[i]);
      r.threads[i].state = seized.StateBefore(r.threads[i].tid);
    }
  }
  if (std::vector<pid_t> left = seized.DetachAll(); !left.empty()) *still_traced = left;
  if (!seized.problems().empty()) errs.push_back(seized.problems());
  for (const std::string& s : errs) r.error += (r.error.empty() ? "" : "; ") + s;
  r.capture_ms = (MonotonicSeconds() - t0) * 1000;
  return first_error;
}

}  // namespace cg

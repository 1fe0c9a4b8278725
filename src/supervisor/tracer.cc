#include "supervisor/tracer.h"

#include <dirent.h>
#include <poll.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

#include "capture/attach.h"
#include "capture/ptrace_call.h"
#include "capture/signature.h"
#include "capture/unwind.h"
#include "util/clock.h"
#include "runtime/status_block.h"

namespace cg {
namespace {

// How long a capture waits for the other threads to reach a ptrace-stop. A thread inside an uninterruptible
// driver call only stops when the call returns; the capture goes on without it rather than wait forever.
constexpr double kStopTimeoutS = 1.0;

bool HasFaultAddress(int sig, int code) {
  return code > 0 && code != SI_KERNEL && (sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE ||
                                           sig == SIGTRAP);
}

}  // namespace

std::vector<pid_t> ListThreads(pid_t pid) { return ListTasks(pid); }

pid_t ThreadGroupOf(pid_t tid) {
  std::string path = fmt::format("/proc/{}/status", tid);
  FILE* f = std::fopen(path.c_str(), "re");
  if (!f) return 0;
  char line[256];
  pid_t tgid = 0;
  while (std::fgets(line, sizeof line, f)) {
    if (std::strncmp(line, "Tgid:", 5) == 0) {
      tgid = std::atoi(line + 5);
      break;
    }
  }
  std::fclose(f);
  return tgid;
}

std::string ThreadName(pid_t pid, pid_t tid) {
  std::string path = fmt::format("/proc/{}/task/{}/comm", pid, tid);
  FILE* f = std::fopen(path.c_str(), "re");
  if (!f) return "";
  char buf[64] = {0};
  size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  std::string s(buf, n);
  while (!s.empty() && (s.back() == '\n' || s.back() == '\0')) s.pop_back();
  return s;
}

Tracer::Tracer(pid_t leader, int wake_fd, const StatusBlock* status)
    : leader_(leader), wake_fd_(wake_fd), status_(status) {
  tracees_.insert(leader);
}

int Tracer::Seize(pid_t pid) {
  // EXITKILL: if crashgrid dies, the kernel kills every tracee (the reaper guard covers the rest).
  long opts = PTRACE_O_TRACECLONE | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACEEXEC |
              PTRACE_O_EXITKILL;
  if (ptrace(PTRACE_SEIZE, pid, nullptr, reinterpret_cast<void*>(opts)) != 0) return errno;
  return 0;
}

Tracer::Next Tracer::Poll(pid_t* tid, WaitStatus* st) {
  if (!deferred_.empty()) {
    *tid = deferred_.front().first;
    *st = deferred_.front().second;
    deferred_.pop_front();
    return Next::kEvent;
  }
  for (;;) {
    // Tracees are children of the tracing thread, not of the process: __WNOTHREAD keeps another trial
    // thread's tracees (and children) out of this wait. Peek first (WNOWAIT) so the leader's exit is not
    // consumed here: its zombie must keep the process group id reserved until the group was killed and
    // unregistered from the reaper guard.
    siginfo_t si;
    std::memset(&si, 0, sizeof si);
    int flags = WEXITED | WSTOPPED | WNOHANG | WNOWAIT | __WALL | __WNOTHREAD;
    if (waitid(P_ALL, 0, &si, flags) != 0) {
      if (errno == EINTR) continue;
      return Next::kNone;
    }
    if (si.si_pid == 0) return Next::kNone;
    pid_t p = si.si_pid;
    bool exit = si.si_code == CLD_EXITED || si.si_code == CLD_KILLED || si.si_code == CLD_DUMPED;
    if (p == leader_ && exit) {
      leader_exited_ = true;
      return Next::kLeaderExited;
    }
    int raw = 0;
    pid_t r = waitpid(p, &raw, __WALL | __WNOTHREAD | WNOHANG);
    if (r < 0 && errno == EINTR) continue;
    if (r != p) continue;  // raced with nothing we know of; ask again
    *tid = p;
    *st = WaitStatus(raw);
    return Next::kEvent;
  }
}

bool Tracer::DispatchPending() {
  pid_t tid;
  WaitStatus st;
  for (;;) {
    Next n = Poll(&tid, &st);
    if (n == Next::kNone) return false;
    if (n == Next::kLeaderExited) return true;
    Dispatch(tid, st);
  }
}

void Tracer::NoteNewTracee(pid_t tid, WaitStatus st) {
  int ev = st.ptrace_event();
  if (ev == PTRACE_EVENT_CLONE || ev == PTRACE_EVENT_FORK || ev == PTRACE_EVENT_VFORK) {
    unsigned long msg = 0;
    if (PtraceIfAlive(PTRACE_GETEVENTMSG, tid, nullptr, &msg, &problems_) == PtraceResult::kOk && msg > 0)
      tracees_.insert(static_cast<pid_t>(msg));
  } else if (ev == PTRACE_EVENT_EXEC) {
    // A non-leader thread that execs takes over the leader's tid; its old tid vanishes without an exit.
    unsigned long former = 0;
    if (PtraceIfAlive(PTRACE_GETEVENTMSG, tid, nullptr, &former, &problems_) == PtraceResult::kOk &&
        static_cast<pid_t>(former) != tid) {
      tracees_.erase(static_cast<pid_t>(former));
    }
  }
}

void Tracer::Continue(pid_t tid, WaitStatus st) {
  if (st.group_stop()) {
    // PTRACE_LISTEN keeps the tracee in its group-stop (as untraced) while letting us see the SIGCONT
    // or SIGKILL that ends it; PTRACE_CONT here would break SIGSTOP for the program.
    (void)PtraceIfAlive(PTRACE_LISTEN, tid, nullptr, nullptr, &problems_);
    return;
  }
  long sig = st.signal_delivery_stop() ? st.stop_sig() : 0;
  (void)PtraceIfAlive(PTRACE_CONT, tid, nullptr, reinterpret_cast<void*>(sig), &problems_);
}

void Tracer::Dispatch(pid_t tid, WaitStatus st) {
  if (st.gone()) {
    tracees_.erase(tid);
    return;
  }
  if (!st.stopped()) return;
  // A new tracee may report its first stop before its creator's clone event does.
  tracees_.insert(tid);
  NoteNewTracee(tid, st);
  if (st.signal_delivery_stop() && IsCrashSignal(st.stop_sig()) && !captured_) {
    captured_ = true;
    crash_time_ = MonotonicSeconds();
    CaptureCrash(tid, st.stop_sig());
  }
  // Every stop is resumed as if untraced: signals re-injected unchanged (the crash signal included, so the
  // process dies, or runs its handler, exactly as it would have).
  Continue(tid, st);
}

void Tracer::WaitForWake(double deadline) {
  double left = deadline - MonotonicSeconds();
  if (left <= 0) return;
  int ms = static_cast<int>(std::min(left, 0.01) * 1000) + 1;
  if (wake_fd_ < 0) {
    usleep(static_cast<useconds_t>(std::min(ms, 2) * 1000));
    return;
  }
  pollfd p{wake_fd_, POLLIN, 0};
  poll(&p, 1, ms);
  uint64_t v;
  while (read(wake_fd_, &v, sizeof v) == sizeof v) {
  }
}

std::vector<Tracer::Stopped> Tracer::StopThreads(const std::vector<pid_t>& tids, double deadline,
                                                 std::string* err) {
  std::vector<Stopped> stops;
  std::set<pid_t> waiting;
  for (pid_t t : tids) {
    if (PtraceIfAlive(PTRACE_INTERRUPT, t, nullptr, nullptr, &problems_) == PtraceResult::kOk) waiting.insert(t);
  }
  // A state change already queued for one of them counts as its stop (the interrupt then stays pending
  // and shows up later as a PTRACE_EVENT_STOP, which Dispatch simply resumes).
  for (auto it = deferred_.begin(); it != deferred_.end();) {
    if (waiting.count(it->first) && it->second.stopped()) {
      stops.push_back({it->first, it->second});
      waiting.erase(it->first);
      it = deferred_.erase(it);
    } else {
      ++it;
    }
  }
  while (!waiting.empty()) {
    siginfo_t si;
    std::memset(&si, 0, sizeof si);
    int flags = WEXITED | WSTOPPED | WNOHANG | WNOWAIT | __WALL | __WNOTHREAD;
    if (waitid(P_ALL, 0, &si, flags) != 0 && errno != EINTR) break;
    if (si.si_pid == 0) {
      if (MonotonicSeconds() >= deadline) break;
      WaitForWake(deadline);
      continue;
    }
    pid_t p = si.si_pid;
    if (p == leader_ && (si.si_code == CLD_EXITED || si.si_code == CLD_KILLED || si.si_code == CLD_DUMPED)) {
      // The leader's exit would hide every later state change from the peek: give up on the rest.
      leader_exited_ = true;
      break;
    }
    int raw = 0;
    if (waitpid(p, &raw, __WALL | __WNOTHREAD | WNOHANG) != p) continue;
    WaitStatus st(raw);
    if (!waiting.count(p)) {
      deferred_.emplace_back(p, st);
      continue;
    }
    waiting.erase(p);
    if (st.gone()) {
      tracees_.erase(p);
      continue;
    }
    NoteNewTracee(p, st);
    stops.push_back({p, st});
  }
  if (!waiting.empty()) {
    *err = fmt::format("{} thread(s) did not stop within {:.0f} ms (in an uninterruptible call?)",
                       waiting.size(), kStopTimeoutS * 1000);
  }
  return stops;
}

void Tracer::Resume(const std::vector<Stopped>& stops) {
  for (const Stopped& s : stops) Continue(s.tid, s.st);
}

void Tracer::AttachPhases(pid_t tgid, CrashReport* report) {
  if (!status_ || tgid != leader_) return;
  std::vector<ThreadStatus> snapshot = status_->Snapshot();
  for (ThreadStack& t : report->threads) {
    for (const ThreadStatus& s : snapshot) {
      if (s.tid == t.tid) t.phase = s.phase;
    }
  }
}

void Tracer::CaptureCrash(pid_t tid, int sig) {
  double t0 = MonotonicSeconds();
  CrashReport r;
  r.method = "trace";
  r.signal = sig;
  siginfo_t si;
  std::memset(&si, 0, sizeof si);
  if (PtraceIfAlive(PTRACE_GETSIGINFO, tid, nullptr, &si, &problems_) == PtraceResult::kOk) {
    r.si_code = si.si_code;
    if (HasFaultAddress(sig, si.si_code)) {
      r.has_fault_address = true;
      r.fault_address = reinterpret_cast<uint64_t>(si.si_addr);
    }
  }
  pid_t tgid = ThreadGroupOf(tid);
  if (tgid == 0) tgid = tid;
  r.faulting_tid = tid;
  r.faulting_thread_name = ThreadName(tgid, tid);

  std::vector<pid_t> others;
  for (pid_t t : ListThreads(tgid)) {
    if (t != tid) others.push_back(t);
  }
  std::string stop_err;
  std::vector<Stopped> stops = StopThreads(others, t0 + kStopTimeoutS, &stop_err);
  std::vector<pid_t> order{tid};
  for (const Stopped& s : stops) order.push_back(s.tid);
  std::sort(order.begin() + 1, order.end());
  std::string unwind_err;
  if (!UnwindStoppedThreads(tgid, order, &r, &unwind_err)) {
    // Still a report: signal, address and thread are known without stacks.
    ThreadStack faulting;
    faulting.tid = tid;
    faulting.name = r.faulting_thread_name;
    faulting.faulting = true;
    faulting.error = unwind_err;
    r.threads.push_back(std::move(faulting));
  }
  AttachPhases(tgid, &r);
  std::vector<std::string> errs;
  if (!stop_err.empty()) errs.push_back(stop_err);
  if (!unwind_err.empty()) errs.push_back(unwind_err);
  for (const std::string& e : errs) r.error += (r.error.empty() ? "" : "; ") + e;
  AnnotateReport(&r, /*hang=*/false);
  signature_ = CrashSignature(r);
  Resume(stops);
  r.capture_ms = (MonotonicSeconds() - t0) * 1000;
  report_ = std::move(r);
}

void Tracer::CaptureHang() {
  double t0 = MonotonicSeconds();
  CrashReport r;
  r.method = "trace";
  // Group the tracees by process; the trial's own process last, so a hung program behind a shell (the
  // shell only waits) comes first.
  std::map<pid_t, std::vector<pid_t>> by_process;
  std::vector<pid_t> all;
  for (pid_t t : tracees_) {
    pid_t tgid = ThreadGroupOf(t);
    if (tgid == 0) continue;
    by_process[tgid].push_back(t);
    all.push_back(t);
  }
  std::string stop_err;
  std::vector<Stopped> stops = StopThreads(all, t0 + kStopTimeoutS, &stop_err);
  std::set<pid_t> stopped;
  for (const Stopped& s : stops) stopped.insert(s.tid);
  std::vector<pid_t> order;
  for (const auto& [tgid, tids] : by_process) {
    if (tgid != leader_) order.push_back(tgid);
  }
  if (by_process.count(leader_)) order.push_back(leader_);
  std::vector<std::string> errs;
  if (!stop_err.empty()) errs.push_back(stop_err);
  for (pid_t tgid : order) {
    std::vector<pid_t> tids;
    for (pid_t t : by_process[tgid]) {
      if (stopped.count(t)) tids.push_back(t);
    }
    if (tids.empty()) continue;
    std::string err;
    if (!UnwindStoppedThreads(tgid, tids, &r, &err) || !err.empty()) {
      errs.push_back(fmt::format("process {}: {}", tgid, err));
    }
    AttachPhases(tgid, &r);
  }
  for (const std::string& e : errs) r.error += (r.error.empty() ? "" : "; ") + e;
  r.capture_ms = (MonotonicSeconds() - t0) * 1000;
  AnnotateReport(&r, /*hang=*/true);
  signature_ = HangSignature(r);
  report_ = std::move(r);
}

void Tracer::KillAll() {
  // Tracee tids cannot have been reused: a traced task stays ours until we reap it.
  for (pid_t t : tracees_) kill(t, SIGKILL);
}

bool Tracer::ReapRest(double deadline) {
  captured_ = true;  // whatever crashes while being killed is not the trial's crash
  while (!tracees_.empty()) {
    pid_t tid;
    WaitStatus st;
    Next n = Poll(&tid, &st);
    if (n == Next::kEvent) {
      Dispatch(tid, st);
      continue;
    }
    // A tracee whose task is gone from /proc without an event (its exit already reported elsewhere) is
    // dropped, so one missed notification cannot stall the trial.
    for (auto it = tracees_.begin(); it != tracees_.end();) {
      if (kill(*it, 0) != 0 && errno == ESRCH) it = tracees_.erase(it);
      else ++it;
    }
    if (tracees_.empty() || MonotonicSeconds() >= deadline) break;
    KillAll();
    WaitForWake(deadline);
  }
  return tracees_.empty();
}

}  // namespace cg

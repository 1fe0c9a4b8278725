// Watching a running trial until its leader exits, with the capture glue (the agent's fault notice, a stall's
// stacks), then killing and reaping it (see trial_run.h).
#include "supervisor/trial_run.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace cg::trial_run {

void Trial::PumpOutput(int timeout_ms) {
  pollfd fds[5];
  int n = 0;
  if (child_.out.is_open()) fds[n++] = {child_.out.get(), POLLIN, 0};
  if (child_.err.is_open()) fds[n++] = {child_.err.get(), POLLIN, 0};
  if (child_.exec_err.is_open()) fds[n++] = {child_.exec_err.get(), POLLIN, 0};
  if (agent_.is_open()) fds[n++] = {agent_.notify_fd(), POLLIN, 0};
  if (wakeup_.fd() >= 0) fds[n++] = {wakeup_.fd(), POLLIN, 0};
  else timeout_ms = std::min(timeout_ms, 2);
  if (timeout_ms > 0) poll(fds, static_cast<nfds_t>(n), timeout_ms);
  Drain(&child_.out, &out_tail_);
  Drain(&child_.err, &err_tail_);
  if (child_.exec_err.is_open()) {
    int e = 0;
    ssize_t got = read(child_.exec_err.get(), &e, sizeof e);
    if (got == sizeof e) {
      exec_errno_ = e;
      child_.exec_err.reset();
    } else if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) {
      child_.exec_err.reset();  // EOF: exec succeeded
    }
  }
}

void Trial::PeekLeaderExit() {
  if (tracer_) {
    leader_exited_ = tracer_->DispatchPending();
    return;
  }
  siginfo_t si;
  std::memset(&si, 0, sizeof si);
  // WNOWAIT: see the exit but leave the zombie, so the group id stays reserved until the group was killed and
  // unregistered (see Finish).
  if (waitid(P_PID, static_cast<id_t>(child_.pid), &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
      si.si_pid == child_.pid) {
    leader_exited_ = true;
  }
}

double Trial::BarrierTime() const {
  if (!spec_.builtin_workload) return 0;
  double started = status_.started_unix();
  return started > 0 ? t0_ + (started - started_unix_) : 0;
}

Progress Trial::SampleProgress() {
  return cg::SampleProgress(spec_.builtin_workload ? &status_ : nullptr, TrialProcesses(child_.pid));
}

void Trial::Loop() {
  WatchdogConfig wc;
  wc.duration_s = spec_.duration_s;
  wc.grace_s = spec_.grace_s;
  wc.setup_timeout_s = spec_.setup_timeout_s;
  wc.teardown_timeout_s = spec_.teardown_timeout_s;
  wc.stall_window_s = spec_.stall_window_s;
  wc.has_barrier = spec_.builtin_workload;
  Watchdog dog(wc, t0_);
  double next_check = dog.NextCheck(t0_);
  double barrier = 0;
  for (;;) {
    wakeup_.Drain();
    PeekLeaderExit();
    if (agent_.is_open() && !fault_handled_) HandleAgentFault();
    double now = MonotonicSeconds();
    if (leader_exited_) {
      outcome_time_ = now;
      if (tracer_ && tracer_->crash_time() > 0) outcome_time_ = tracer_->crash_time();
      if (crash_time_ > 0 && crash_time_ < now) outcome_time_ = crash_time_;
      return;
    }
    if (cancel_ && cancel_->load()) {
      cancelled_ = true;
      outcome_time_ = now;
      return;
    }
    // The barrier moves the bounds (set-up ends, the run's clock starts): look again as soon as it appears.
    double b = barrier > 0 ? barrier : BarrierTime();
    if (now >= next_check || (b > 0 && barrier == 0)) {
      barrier = b;
      Watchdog::Verdict v = dog.Tick(now, barrier, SampleProgress());
      if (v != Watchdog::Verdict::kRunning) {
        hung_ = v == Watchdog::Verdict::kHung;
        overran_ = v == Watchdog::Verdict::kOverran;
        watchdog_note_ = dog.Note();
        if (hung_) {
          std::string stopped = StoppedProcessesNote(child_.pid, TrialProcesses(child_.pid));
          if (!stopped.empty()) watchdog_note_ = stopped + (watchdog_note_.empty() ? "" : "; " + watchdog_note_);
        }
        outcome_time_ = now;
        CaptureStall();
        return;
      }
      next_check = dog.NextCheck(now);
    }
    int ms = static_cast<int>(std::clamp((next_check - now) * 1000, 0.0, static_cast<double>(kMaxPollMs))) + 1;
    PumpOutput(ms);
  }
}

void Trial::AttachPhases(pid_t pid, CrashReport* report) const {
  std::vector<ThreadStatus> snapshot;
  if (spec_.builtin_workload) {
    if (pid != child_.pid || !status_.valid()) return;
    snapshot = status_.Snapshot();
  } else if (agent_.is_open()) {
    // An --exec program's own phases (crashgrid.h), in any process of the trial: thread ids are unique.
    snapshot = agent_.ProgramThreads();
  }
  for (ThreadStack& t : report->threads) {
    for (const ThreadStatus& s : snapshot) {
      if (s.tid == t.tid) t.phase = s.phase;
    }
  }
}

void Trial::HandleAgentFault() {
  int state = agent_.State();
  if (state == AGENT_FAULT_NONE || state == AGENT_FAULT_CLAIMED) return;
  fault_handled_ = true;
  agent_.DrainNotifications();
  const agent_block& b = agent_.block();
  crash_time_ = static_cast<double>(b.fault_mono_ns) / 1e9;
  if (state != AGENT_FAULT_POSTED) return;  // the agent gave up waiting and wrote its own record
  if (method_ != CaptureMethod::kAttach) {
    (void)agent_.Release(false);
    return;
  }
  std::string name(b.fault_thread_name, strnlen(b.fault_thread_name, sizeof b.fault_thread_name));
  CrashReport report;
  int e = CaptureCrashedProcess(b.fault_pid, b.fault_tid, b.fault_signo, b.fault_code, b.fault_has_addr != 0,
                                b.fault_addr, name, child_.pid, &report, &still_traced_);
  if (e == 0) {
    AttachPhases(b.fault_pid, &report);
    AnnotateReport(&report, /*hang=*/false);
    attach_report_ = std::move(report);
    if (!agent_.Release(true)) {
      problems_ += (problems_.empty() ? "" : "; ") +
                   std::string("the agent stopped waiting before the capture ended (it recorded the faulting thread "
                               "itself too)");
    }
    return;
  }
  // A process the program itself traces (it is its child's debugger) cannot be seized: one tracer per
  // process. That says nothing about ptrace permission for the trials after this one.
  if (pid_t tracer = TracerOf(b.fault_pid); e == EPERM && tracer > 0 && tracer != getpid()) {
    problems_ += fmt::format("{}the faulting process {} is traced by process {} of the program (it debugs its child "
                             "itself), so crashgrid could not seize it: the agent recorded the faulting thread itself",
                             problems_.empty() ? "" : "; ", b.fault_pid, tracer);
    (void)agent_.Release(false);
    return;
  }
  // ptrace is not permitted here: the agent records the faulting thread itself, now and in later trials.
  std::string why = fmt::format("ptrace not permitted ({}): the agent recorded the faulting thread itself "
                                "(--capture handler)",
                                ErrnoText(e));
  {
    std::lock_guard<std::mutex> lock(g_attach_denied_mu);
    if (g_attach_denied_reason.empty()) g_attach_denied_reason = why;
  }
  g_attach_denied.store(true);
  problems_ += (problems_.empty() ? "" : "; ") + why;
  (void)agent_.Release(false);
}

void Trial::CaptureStall() {
  if (tracer_) {
    tracer_->CaptureHang();
    return;
  }
  if (method_ != CaptureMethod::kAttach) return;
  CrashReport report;
  int e = CaptureStalledProcesses(TrialProcesses(child_.pid), child_.pid, &report, &still_traced_);
  if (e != 0) report.error += fmt::format("{}ptrace not permitted: {}", report.error.empty() ? "" : "; ", ErrnoText(e));
  if (report.threads.empty()) {
    problems_ += (problems_.empty() ? "" : "; ") + std::string("no stacks captured at the stall: ") + report.error;
    return;
  }
  AttachPhases(child_.pid, &report);
  AnnotateReport(&report, /*hang=*/true);
  stall_report_ = std::move(report);
}

void Trial::Finish() {
  if (child_.pid <= 0) return;
  // Whatever ended the trial, nothing of it may keep running: grandchildren left behind by a clean exit,
  // the whole group of a hung trial. The leader is not reaped yet, so -pid is still this trial's group.
  // orphans: the group, the leader's subtree and the orphans crashgrid adopted from this trial.
  // Seen through waitid (not the tracer, whose exit events come before the threads are gone), an exited
  // leader is a zombie whose last thread is gone.
  bool killed_all = KillTrialProcesses(child_.pid, live_.marker(), MonotonicSeconds() + kReapTimeoutS,
                                       leader_exited_ && !tracer_);
  if (!killed_all) {
    problems_ += fmt::format("{}some processes of the trial were still alive {:.0f} s after SIGKILL",
                             problems_.empty() ? "" : "; ", kReapTimeoutS);
  }
  if (tracer_) tracer_->KillAll();
  const double deadline = MonotonicSeconds() + kReapTimeoutS;
  while (!leader_exited_) {
    wakeup_.Drain();
    PeekLeaderExit();
    if (leader_exited_ || MonotonicSeconds() >= deadline) break;
    PumpOutput(10);
  }
  if (!still_traced_.empty() && !ReapTraced(&still_traced_, MonotonicSeconds() + kReapTimeoutS)) {
    problems_ += fmt::format("{}{} thread(s) seized at the capture never stopped nor exited",
                             problems_.empty() ? "" : "; ", still_traced_.size());
  }
  GuardReleaseSlot(guard_slot_);
  guard_slot_ = nullptr;
  {
    int raw = 0;
    pid_t got;
    do got = waitpid(child_.pid, &raw, __WALL | (leader_exited_ ? 0 : WNOHANG));
    while (got < 0 && errno == EINTR);
    if (got == child_.pid) {
      final_ = WaitStatus(raw);
      reaped_ = true;
      child_.reaped = true;
    } else {
      problems_ += fmt::format("{}trial process {} could not be reaped", problems_.empty() ? "" : "; ", child_.pid);
    }
  }
  if (tracer_) {
    if (!tracer_->problems().empty()) problems_ += (problems_.empty() ? "" : "; ") + tracer_->problems();
    tracer_->ForgetLeader();
    if (!tracer_->ReapRest(MonotonicSeconds() + kReapTimeoutS)) {
      problems_ += fmt::format("{}{} traced process(es) could not be reaped", problems_.empty() ? "" : "; ",
                               tracer_->tracee_count());
    }
  }
  all_gone_ = killed_all && reaped_ && still_traced_.empty() && (!tracer_ || tracer_->tracee_count() == 0);
  // The group is dead; whatever it wrote is in the pipes (crashgrid holds their write ends: read to EAGAIN).
  Drain(&child_.out, &out_tail_);
  Drain(&child_.err, &err_tail_);
  child_.out_w.reset();
  child_.err_w.reset();
  if (child_.exec_err.is_open()) PumpOutput(0);
}

}  // namespace cg::trial_run

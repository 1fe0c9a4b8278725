#include "supervisor/supervisor.h"

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

#include "capture/signature.h"
#include "capture/unwind.h"
#include "supervisor/child_wakeup.h"
#include "supervisor/handler_report.h"
#include "supervisor/reaper_guard.h"
#include "supervisor/spawn.h"
#include "supervisor/tracer.h"
#include "supervisor/wait_status.h"
#include "trial/trial_json.h"
#include "util/clock.h"
#include "util/fd.h"
#include "util/strings.h"
#include "workload/status_block.h"

namespace cg {

const char* CaptureMethodName(CaptureMethod m) {
  switch (m) {
    case CaptureMethod::kAttach: return "attach";
    case CaptureMethod::kTrace: return "trace";
    case CaptureMethod::kHandler: return "handler";
    case CaptureMethod::kNone: return "none";
  }
  return "none";
}

bool ParseCaptureMethod(const std::string& s, CaptureMethod* out) {
  if (s == "ptrace") {
    *out = CaptureMethod::kTrace;
    return true;
  }
  for (CaptureMethod m : {CaptureMethod::kAttach, CaptureMethod::kTrace, CaptureMethod::kHandler, CaptureMethod::kNone}) {
    if (s == CaptureMethodName(m)) {
      *out = m;
      return true;
    }
  }
  return false;
}

double DefaultGrace(double duration_s) { return std::max(5.0, duration_s / 2); }

namespace {

// Once PTRACE_SEIZE was refused (containers without CAP_SYS_PTRACE under Yama scope 2-3, seccomp), every
// later trial goes straight to the handler instead of forking a child only to find out again.
std::atomic<bool> g_ptrace_denied{false};
std::string g_ptrace_denied_reason;  // written once before g_ptrace_denied is set

// How long to wait for killed processes to be reaped before giving up on them (and saying so).
constexpr double kReapTimeoutS = 10;
// The longest a wait sleeps before looking at the cancel flag again.
constexpr int kMaxPollMs = 50;

void AddDetail(TrialResult* r, const std::string& s) {
  if (s.empty()) return;
  r->detail += (r->detail.empty() ? "" : "; ") + s;
}

ScopedFd MakeMemfd(const char* name, std::string* err) {
  int fd = memfd_create(name, MFD_CLOEXEC);
  if (fd < 0) *err = fmt::format("memfd_create: {}", std::strerror(errno));
  return ScopedFd(FdAbove2(fd));
}

std::string ReadAll(int fd) {
  std::string out;
  char buf[65536];
  off_t off = 0;
  for (;;) {
    ssize_t n = pread(fd, buf, sizeof buf, off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
    off += n;
  }
  return out;
}

// Reads whatever is available from a non-blocking pipe into `tail`; false once it reached EOF.
bool Drain(ScopedFd* fd, TailBuffer* tail) {
  if (!fd->is_open()) return false;
  char buf[65536];
  for (;;) {
    ssize_t n = read(fd->get(), buf, sizeof buf);
    if (n > 0) {
      tail->Append(std::string_view(buf, static_cast<size_t>(n)));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return true;
    fd->reset();
    return false;
  }
}

std::string ErrnoText(int e) {
  const char* name = strerrorname_np(e);
  return fmt::format("{} ({})", std::strerror(e), name ? name : "?");
}

// True while a process other than `leader` in process group `pgid` has not finished dying. Killed
// grandchildren are not our children (they were reparented to init), so only /proc can say when they are
// gone; the caller checks this while the leader is still an unreaped zombie, so the group id is still ours.
//
// Members of the group were created after the leader, so unless pids wrapped around since (the last pid
// handed out is below the leader's) only higher pids need a look: on a busy machine that skips most of
// /proc.
bool GroupHasLiveMembers(pid_t pgid, pid_t leader) {
  pid_t floor = leader;
  if (FILE* f = std::fopen("/proc/sys/kernel/ns_last_pid", "re")) {
    int last = 0;
    if (std::fscanf(f, "%d", &last) != 1 || last < leader) floor = 0;
    std::fclose(f);
  } else {
    floor = 0;
  }
  DIR* d = opendir("/proc");
  if (!d) return false;
  bool live = false;
  char path[64], buf[512];
  while (dirent* e = readdir(d)) {
    pid_t pid = std::atoi(e->d_name);
    if (pid <= floor || pid == leader) continue;
    std::snprintf(path, sizeof path, "/proc/%d/stat", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) continue;
    buf[n] = 0;
    // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses, so parse from the last ')'.
    const char* p = std::strrchr(buf, ')');
    char state = 0;
    int ppid = 0, pgrp = 0;
    if (p && std::sscanf(p + 1, " %c %d %d", &state, &ppid, &pgrp) == 3 && pgrp == pgid && state != 'Z' &&
        state != 'X') {
      live = true;
      break;
    }
  }
  closedir(d);
  return live;
}

// The state of one running trial; RunTrial drives it from start to reaped.
class Trial {
 public:
  Trial(const TrialSpec& spec, CaptureMethod method, const std::atomic<bool>* cancel)
      : spec_(spec), method_(method), cancel_(cancel), out_tail_(spec.output_tail_bytes),
        err_tail_(spec.output_tail_bytes) {}

  // Returns false only when the trial should be redone with the handler (ptrace refused).
  bool Run(TrialResult* r);
  const std::string& ptrace_error() const { return ptrace_error_; }

 private:
  bool Prepare(TrialResult* r, SpawnPlan* plan);
  void Loop();
  void Finish();
  void PumpOutput(int timeout_ms);
  void ReadWorkloadResult(TrialResult* r);
  void ReadHandlerRecord(TrialResult* r);
  void Classify(TrialResult* r);

  const TrialSpec& spec_;
  CaptureMethod method_;
  const std::atomic<bool>* cancel_;
  TailBuffer out_tail_, err_tail_;
  ChildWakeup wakeup_;
  SpawnedChild child_;
  std::unique_ptr<Tracer> tracer_;
  ScopedFd status_fd_, result_fd_, handler_fd_;
  StatusBlock status_;
  std::string ptrace_error_;

  double t0_ = 0;
  double outcome_time_ = 0;
  bool leader_exited_ = false;
  bool hung_ = false;
  bool cancelled_ = false;
  bool registered_ = false;
  int exec_errno_ = 0;
  WaitStatus final_;
  bool reaped_ = false;
  std::string problems_;
};

bool Trial::Prepare(TrialResult* r, SpawnPlan* plan) {
  std::string err;
  plan->argv = spec_.argv;
  plan->env = spec_.env;
  if (spec_.builtin_workload) {
    int fd = StatusBlock::CreateFd(&err);
    status_fd_.reset(FdAbove2(fd));
    if (!status_fd_.is_open() || !status_.Map(status_fd_.get(), &err)) {
      r->detail = "cannot create the status block: " + err;
      return false;
    }
    result_fd_ = MakeMemfd("crashgrid-result", &err);
    if (!result_fd_.is_open()) {
      r->detail = "cannot create the result file: " + err;
      return false;
    }
    plan->argv.push_back("--status-fd");
    plan->argv.push_back(std::to_string(status_fd_.get()));
    plan->argv.push_back("--result-fd");
    plan->argv.push_back(std::to_string(result_fd_.get()));
    plan->inherit_fds = {status_fd_.get(), result_fd_.get()};
  }
  if (method_ == CaptureMethod::kHandler) {
    std::string lib = FindAgentLibrary();
    if (lib.empty()) {
      AddDetail(r, fmt::format("{} not found (set {}): outcome only, no stacks", AGENT_LIB_NAME, AGENT_LIB_ENV));
      method_ = CaptureMethod::kNone;
    } else {
      handler_fd_ = MakeMemfd("crashgrid-handler", &err);
      if (!handler_fd_.is_open()) {
        r->detail = "cannot create the handler file: " + err;
        return false;
      }
      std::string preload = lib;
      for (const auto& [k, v] : plan->env) {
        if (k == "LD_PRELOAD") preload += " " + v;
      }
      if (const char* e = std::getenv("LD_PRELOAD"); e && *e) preload += std::string(" ") + e;
      plan->env.emplace_back("LD_PRELOAD", preload);
      plan->env.emplace_back(kHandlerFdEnv, std::to_string(handler_fd_.get()));
      plan->inherit_fds.push_back(handler_fd_.get());
    }
  }
  return true;
}

bool Trial::Run(TrialResult* r) {
  SpawnPlan plan;
  r->started_at = UnixSeconds();
  t0_ = MonotonicSeconds();
  if (spec_.argv.empty()) {
    r->outcome = Outcome::kCouldNotStart;
    r->detail = "no program to run (empty command line)";
    return true;
  }
  std::string path, err;
  if (!ResolveProgram(spec_.argv[0], spec_.env, &path, &err)) {
    r->outcome = Outcome::kCouldNotStart;
    r->exit_code = 127;
    r->detail = err;
    return true;
  }
  if (!Prepare(r, &plan)) {
    r->outcome = Outcome::kCouldNotStart;
    return true;
  }
  r->capture_method = CaptureMethodName(method_);
  if (!Spawn(path, plan, &child_, &err)) {
    r->outcome = Outcome::kCouldNotStart;
    AddDetail(r, err);
    return true;
  }
  t0_ = MonotonicSeconds();
  bool go = true;
  if (!GuardRegisterGroup(child_.pid, &err)) {
    // Without the guard a grandchild could outlive crashgrid: refuse to run rather than break the promise.
    AddDetail(r, err);
    go = false;
  } else {
    registered_ = true;
  }
  if (go && method_ == CaptureMethod::kTrace) {
    int e = Tracer::Seize(child_.pid);
    if (e != 0) {
      ptrace_error_ = fmt::format("PTRACE_SEIZE: {}", ErrnoText(e));
      go = false;
    } else {
      tracer_ = std::make_unique<Tracer>(child_.pid, wakeup_.fd(), spec_.builtin_workload ? &status_ : nullptr);
    }
  }
  if (go && !child_.Go()) go = false;
  if (!go) {
    child_.Abort();  // the child exits 127 without exec
    Finish();
    if (!ptrace_error_.empty()) return false;
    r->outcome = Outcome::kCouldNotStart;
    return true;
  }
  Loop();
  Finish();
  r->duration_s = MonotonicSeconds() - t0_;
  r->time_to_outcome_s = outcome_time_ > 0 ? outcome_time_ - t0_ : r->duration_s;
  r->stdout_tail = out_tail_.str();
  r->stderr_tail = err_tail_.str();
  Classify(r);
  AddDetail(r, problems_);
  return true;
}

void Trial::PumpOutput(int timeout_ms) {
  pollfd fds[4];
  int n = 0;
  if (child_.out.is_open()) fds[n++] = {child_.out.get(), POLLIN, 0};
  if (child_.err.is_open()) fds[n++] = {child_.err.get(), POLLIN, 0};
  if (child_.exec_err.is_open()) fds[n++] = {child_.exec_err.get(), POLLIN, 0};
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

void Trial::Loop() {
  const double deadline = t0_ + spec_.duration_s + spec_.grace_s;
  for (;;) {
    wakeup_.Drain();
    if (tracer_) {
      leader_exited_ = tracer_->DispatchPending();
    } else {
      siginfo_t si;
      std::memset(&si, 0, sizeof si);
      // WNOWAIT: see the exit but leave the zombie, so the group id stays reserved until the group was
      // killed and unregistered (see Finish).
      if (waitid(P_PID, static_cast<id_t>(child_.pid), &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
          si.si_pid == child_.pid) {
        leader_exited_ = true;
      }
    }
    double now = MonotonicSeconds();
    if (leader_exited_) {
      outcome_time_ = now;
      if (tracer_ && tracer_->crash_time() > 0) outcome_time_ = tracer_->crash_time();
      return;
    }
    if (cancel_ && cancel_->load()) {
      cancelled_ = true;
      outcome_time_ = now;
      return;
    }
    if (now >= deadline) {
      hung_ = true;
      outcome_time_ = now;
      if (tracer_) tracer_->CaptureHang();
      return;
    }
    int ms = static_cast<int>(std::min((deadline - now) * 1000, static_cast<double>(kMaxPollMs))) + 1;
    PumpOutput(ms);
  }
}

void Trial::Finish() {
  if (child_.pid <= 0) return;
  // Whatever ended the trial, nothing of it may keep running: grandchildren left behind by a clean exit,
  // the whole group of a hung trial. The leader is not reaped yet, so -pid is still this trial's group.
  kill(-child_.pid, SIGKILL);
  if (tracer_) tracer_->KillAll();
  const double deadline = MonotonicSeconds() + kReapTimeoutS;
  while (!leader_exited_) {
    wakeup_.Drain();
    if (tracer_) {
      leader_exited_ = tracer_->DispatchPending();
    } else {
      siginfo_t si;
      std::memset(&si, 0, sizeof si);
      if (waitid(P_PID, static_cast<id_t>(child_.pid), &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
          si.si_pid == child_.pid) {
        leader_exited_ = true;
      }
    }
    if (leader_exited_ || MonotonicSeconds() >= deadline) break;
    PumpOutput(10);
  }
  if (!tracer_ && (hung_ || cancelled_)) {
    // Traced grandchildren are reaped by ReapRest below; untraced ones can only be waited out. Only done
    // when the group was killed while running (the scan costs ~2 ms on a busy machine; after a normal exit
    // leftover background processes got their SIGKILL above and are as good as gone).
    while (GroupHasLiveMembers(child_.pid, child_.pid) && MonotonicSeconds() < deadline) {
      kill(-child_.pid, SIGKILL);
      usleep(2000);
    }
  }
  if (registered_) GuardUnregisterGroup(child_.pid);
  int raw = 0;
  pid_t got;
  do got = waitpid(child_.pid, &raw, __WALL | (leader_exited_ ? 0 : WNOHANG));
  while (got < 0 && errno == EINTR);
  if (got == child_.pid) {
    final_ = WaitStatus(raw);
    reaped_ = true;
  } else {
    problems_ = fmt::format("trial process {} could not be reaped", child_.pid);
  }
  if (tracer_) {
    tracer_->ForgetLeader();
    if (!tracer_->ReapRest(MonotonicSeconds() + kReapTimeoutS)) {
      problems_ += fmt::format("{}{} traced process(es) could not be reaped", problems_.empty() ? "" : "; ",
                               tracer_->tracee_count());
    }
  }
  // The group is dead; whatever it wrote is in the pipes (unless an escaped process holds them open).
  Drain(&child_.out, &out_tail_);
  Drain(&child_.err, &err_tail_);
  if (child_.exec_err.is_open()) PumpOutput(0);
}

void Trial::ReadWorkloadResult(TrialResult* r) {
  if (spec_.builtin_workload) {
    std::string text = ReadAll(result_fd_.get());
    bool have_result = false;
    if (!text.empty()) {
      try {
        nlohmann::json j = nlohmann::json::parse(text);
        if (j.contains("could_not_start") && j["could_not_start"].is_string() &&
            !j["could_not_start"].get<std::string>().empty()) {
          r->outcome = Outcome::kCouldNotStart;
          AddDetail(r, j["could_not_start"].get<std::string>());
          return;
        }
        TrialResult w = j.get<TrialResult>();
        r->iterations = w.iterations;
        r->successes = w.successes;
        r->errors = w.errors;
        r->units = w.units;
        r->units_name = w.units_name;
        r->workload_seconds = w.workload_seconds;
        r->error_buckets = std::move(w.error_buckets);
        r->phases = std::move(w.phases);
        r->threads = std::move(w.threads);
        AddDetail(r, w.detail);
        have_result = true;
      } catch (const nlohmann::json::exception& e) {
        AddDetail(r, fmt::format("unreadable workload result: {}", e.what()));
      }
    }
    if (!have_result || r->threads.empty()) {
      // A crashed or killed workload wrote no result: its threads' last state is in the status block.
      r->threads = status_.Snapshot();
      if (!have_result) {
        r->iterations = r->successes = r->errors = 0;
        for (const ThreadStatus& t : r->threads) {
          r->iterations += t.iterations;
          r->successes += t.successes;
          r->errors += t.errors;
        }
        r->units = status_.units();
        // How long the threads ran before the end: from the start barrier to the outcome.
        if (double started = status_.started_unix(); started > 0) {
          r->workload_seconds = std::max(0.0, r->started_at + r->time_to_outcome_s - started);
        }
      }
    }
  }
}

void Trial::ReadHandlerRecord(TrialResult* r) {
  if (!handler_fd_.is_open()) return;
  std::string text = ReadAll(handler_fd_.get());
  if (text.empty()) return;
  CrashReport report;
  std::string err;
  if (!ParseHandlerRecord(text, &report, &err)) {
    AddDetail(r, "handler capture: " + err);
    return;
  }
  double t0 = MonotonicSeconds();
  for (ThreadStack& t : report.threads) SymbolizeOffline(&t.frames);
  if (spec_.builtin_workload) {
    for (const ThreadStatus& s : status_.Snapshot()) {
      if (s.tid == report.faulting_tid && !report.threads.empty()) report.threads[0].phase = s.phase;
    }
  }
  report.capture_ms = (MonotonicSeconds() - t0) * 1000;
  r->signature = CrashSignature(report);
  r->report = std::move(report);
}

void Trial::Classify(TrialResult* r) {
  if (!reaped_) {
    r->outcome = hung_ ? Outcome::kHung : Outcome::kFailed;
    return;
  }
  if (exec_errno_ != 0) {
    r->outcome = Outcome::kCouldNotStart;
    r->exit_code = 127;
    AddDetail(r, fmt::format("cannot execute '{}': {}", spec_.argv[0], ErrnoText(exec_errno_)));
    return;
  }
  if (final_.exited()) r->exit_code = final_.exit_code();
  if (final_.killed()) r->signal = final_.fatal_sig();
  if (hung_) {
    r->outcome = Outcome::kHung;
    r->signal = 0;
    AddDetail(r, fmt::format("still running after {}s + {}s grace: process group killed", spec_.duration_s,
                             spec_.grace_s));
  } else if (final_.killed()) {
    r->outcome = Outcome::kCrashed;
  } else if (final_.exit_code() == 0) {
    r->outcome = Outcome::kClean;
  } else if (spec_.shell_semantics && final_.exit_code() > 128 && final_.exit_code() - 128 <= 64) {
    r->outcome = Outcome::kCrashed;
    r->signal = final_.exit_code() - 128;
    r->via_shell = true;
  } else {
    r->outcome = Outcome::kFailed;
  }
  if (cancelled_) AddDetail(r, "cancelled");
  ReadWorkloadResult(r);
  if (tracer_ && tracer_->report()) {
    r->report = tracer_->report();
    r->signature = tracer_->signature();
    if (r->outcome == Outcome::kClean || r->outcome == Outcome::kFailed) {
      const char* name = sigabbrev_np(r->report->signal);
      AddDetail(r, fmt::format("SIG{} was captured, then the program survived it (its own handler ran)",
                               name ? name : "?"));
    }
  } else if (method_ == CaptureMethod::kHandler) {
    ReadHandlerRecord(r);
  }
}

}  // namespace

TrialResult RunTrial(const TrialSpec& spec, const std::atomic<bool>* cancel) {
  TrialResult r;
  CaptureMethod method = spec.capture;
  std::string note;
  if (method == CaptureMethod::kTrace && g_ptrace_denied.load()) {
    method = CaptureMethod::kHandler;
    note = g_ptrace_denied_reason;
  }
  {
    Trial trial(spec, method, cancel);
    if (trial.Run(&r)) {
      AddDetail(&r, note);
      return r;
    }
    note = fmt::format("ptrace not permitted ({}): captured with the in-process handler instead",
                       trial.ptrace_error());
  }
  static std::once_flag once;
  std::call_once(once, [&] { g_ptrace_denied_reason = note; });
  g_ptrace_denied.store(true);
  r = TrialResult();
  Trial retry(spec, CaptureMethod::kHandler, cancel);
  retry.Run(&r);
  AddDetail(&r, note);
  return r;
}

}  // namespace cg

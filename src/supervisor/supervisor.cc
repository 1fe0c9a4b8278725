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
// The same for attaching at a crash: once refused, later trials tell the agent to record the faulting thread
// itself at once rather than post the fault and wait for a capture that cannot come.
std::atomic<bool> g_attach_denied{false};
std::mutex g_attach_denied_mu;
std::string g_attach_denied_reason;

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

// The processes of a trial: the leader and everything below it, whatever their group or session.
std::vector<pid_t> TrialProcesses(pid_t leader) {
  std::vector<pid_t> out{leader};
  for (pid_t p : Descendants(leader)) out.push_back(p);
  return out;
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
  bool Prepare(const std::string& path, TrialResult* r, SpawnPlan* plan);
  bool PrepareAgent(const std::string& path, TrialResult* r, SpawnPlan* plan);
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
  bool registered_ = false;
  int exec_errno_ = 0;
  WaitStatus final_;
  bool reaped_ = false;
  std::string problems_;
};

bool Trial::PrepareAgent(const std::string& path, TrialResult* r, SpawnPlan* plan) {
  std::string err;
  if (method_ == CaptureMethod::kAttach) {
    if (std::string why = WhyAgentCannotLoad(path); !why.empty()) {
      // The program would run without the agent, and a crash could not be seen until it is over: trace it
      // from the start, and say so (the trial's record holds the method used).
      AddDetail(r, fmt::format("'{}' is {}: the agent cannot be preloaded, so it was traced from its start "
                               "(--capture trace) instead",
                               spec_.argv[0], why));
      method_ = CaptureMethod::kTrace;
      return true;
    }
    if (g_attach_denied.load()) {
      std::lock_guard<std::mutex> lock(g_attach_denied_mu);
      AddDetail(r, g_attach_denied_reason);
      method_ = CaptureMethod::kHandler;
    }
  }
  std::string lib = FindAgentLibrary();
  if (lib.empty()) {
    AddDetail(r, fmt::format("{} not found (set {}): outcome only, no stacks", AGENT_LIB_NAME, AGENT_LIB_ENV));
    method_ = CaptureMethod::kNone;
    return true;
  }
  if (!agent_.Create(&err)) {
    r->detail = err;
    return false;
  }
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
  agent_.AddToEnvironment(method_ == CaptureMethod::kAttach ? "attach" : "handler", handler_fd_.get(), &plan->env,
                          &plan->inherit_fds);
  return true;
}

bool Trial::Prepare(const std::string& path, TrialResult* r, SpawnPlan* plan) {
  std::string err;
  plan->argv = spec_.argv;
  plan->env = spec_.env;
  // orphans: every process of the trial inherits the marker that finds it once it left the group.
  std::erase_if(plan->env, [](const auto& kv) { return kv.first == kTrialMarkerEnv; });
  plan->env.emplace_back(kTrialMarkerEnv, live_.marker());
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
  if (method_ == CaptureMethod::kAttach || method_ == CaptureMethod::kHandler) return PrepareAgent(path, r, plan);
  return true;
}

bool Trial::Run(TrialResult* r) {
  SpawnPlan plan;
  r->started_at = started_unix_ = UnixSeconds();
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
  if (!Prepare(path, r, &plan)) {
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
  if (!spec_.builtin_workload || pid != child_.pid || !status_.valid()) return;
  std::vector<ThreadStatus> snapshot = status_.Snapshot();
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
  if (!KillTrialProcesses(child_.pid, live_.marker(), MonotonicSeconds() + kReapTimeoutS)) {
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
  if (registered_) GuardUnregisterGroup(child_.pid);
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
  // The group is dead; whatever it wrote is in the pipes (unless an escaped process holds them open).
  Drain(&child_.out, &out_tail_);
  Drain(&child_.err, &err_tail_);
  if (child_.exec_err.is_open()) PumpOutput(0);
}

void Trial::ReadWorkloadResult(TrialResult* r) {
  if (spec_.builtin_workload) {
    if (double started = status_.started_unix(); started > 0) {
      r->setup_s = std::max(0.0, started - r->started_at);
      r->teardown_s = std::max(0.0, r->started_at + r->duration_s - (started + spec_.duration_s));
    }
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
  AnnotateReport(&report, /*hang=*/false);
  r->signature = CrashSignature(report);
  r->report = std::move(report);
}

void Trial::Classify(TrialResult* r) {
  r->capture_method = CaptureMethodName(method_);
  if (!reaped_) {
    r->outcome = hung_ ? Outcome::kHung : overran_ ? Outcome::kOverran : Outcome::kFailed;
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
  if (hung_ || overran_) {
    r->outcome = hung_ ? Outcome::kHung : Outcome::kOverran;
    r->signal = 0;
    AddDetail(r, watchdog_note_);
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
  const CrashReport* crash = nullptr;
  if (tracer_ && tracer_->report()) {
    r->report = tracer_->report();
    r->signature = tracer_->signature();
    crash = r->report->signal != 0 ? &*r->report : nullptr;
  } else if (attach_report_) {
    r->report = std::move(attach_report_);
    r->signature = CrashSignature(*r->report);
    crash = &*r->report;
  } else if (stall_report_) {
    r->report = std::move(stall_report_);
    r->signature = HangSignature(*r->report);
  } else if (handler_fd_.is_open()) {
    ReadHandlerRecord(r);
    if (r->report && method_ == CaptureMethod::kAttach) r->capture_method = CaptureMethodName(CaptureMethod::kHandler);
    crash = r->report ? &*r->report : nullptr;
  }
  if (overran_ && StartsWith(r->signature, "hang")) r->signature = "overran" + r->signature.substr(4);
  if (crash && (r->outcome == Outcome::kClean || r->outcome == Outcome::kFailed)) {
    const char* name = sigabbrev_np(crash->signal);
    AddDetail(r, fmt::format("SIG{} was captured, then the program survived it (its own handler ran)",
                             name ? name : "?"));
  }
  if (r->outcome == Outcome::kCrashed && !r->report && agent_.is_open() && agent_.processes_loaded() == 0) {
    AddDetail(r, "no stacks: the agent was not loaded into the program (a static or set-ID executable, or "
                 "LD_PRELOAD removed from its environment); --capture trace sees such programs");
  }
}

}  // namespace

TrialResult RunTrial(const TrialSpec& spec, const std::atomic<bool>* cancel) {
  SupervisorInitOnce();  // orphans: before the first trial, so that its orphans are ours
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

#include "supervisor/supervisor.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
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

#include "supervisor/trial_run.h"

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

namespace trial_run {

std::atomic<bool> g_attach_denied{false};
std::mutex g_attach_denied_mu;
std::string g_attach_denied_reason;

void AddDetail(TrialResult* r, const std::string& s) {
  if (s.empty()) return;
  r->detail += (r->detail.empty() ? "" : "; ") + s;
}

ScopedFd MakeMemfd(const char* name, std::string* err) {
  int fd = memfd_create(name, MFD_CLOEXEC);
  if (fd < 0) *err = fmt::format("memfd_create: {}", std::strerror(errno));
  return ScopedFd(FdAbove2(fd));
}

namespace {
thread_local ScopedFd t_spare_handler_file;  // see TakeHandlerFile
}  // namespace

ScopedFd TakeHandlerFile(std::string* err) {
  if (t_spare_handler_file.is_open()) return std::move(t_spare_handler_file);
  return MakeMemfd("crashgrid-handler", err);
}

void GiveBackHandlerFile(ScopedFd fd) {
  // Empty, and at offset 0: the agent appends with write() through the same open file. Most trials wrote
  // nothing, and a file that is still empty needs neither.
  if (t_spare_handler_file.is_open() || !fd.is_open()) return;
  struct stat st;
  if (fstat(fd.get(), &st) != 0) return;
  if (st.st_size != 0 && (ftruncate(fd.get(), 0) != 0 || lseek(fd.get(), 0, SEEK_SET) != 0)) return;
  t_spare_handler_file = std::move(fd);
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
  handler_fd_ = TakeHandlerFile(&err);
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
  // Without the guard a grandchild could outlive crashgrid: refuse to run rather than break the promise.
  if (!GuardReserveSlot(&guard_slot_, &err)) {
    r->outcome = Outcome::kCouldNotStart;
    AddDetail(r, err);
    return true;
  }
  plan.guard_slot = guard_slot_;
  plan.hold = method_ == CaptureMethod::kTrace;  // seized before it execs
  t0_ = MonotonicSeconds();
  if (!Spawn(path, plan, &child_, &err)) {
    GuardReleaseSlot(guard_slot_);
    guard_slot_ = nullptr;
    r->outcome = Outcome::kCouldNotStart;
    AddDetail(r, err);
    return true;
  }
  exec_errno_ = child_.exec_errno;
  bool go = true;
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
  if (all_gone_) {
    // Nothing of the trial is left to write into them: the next trial on this thread reuses them.
    agent_.Recycle();
    GiveBackHandlerFile(std::move(handler_fd_));
  }
  return true;
}

}  // namespace trial_run

namespace {

// Once PTRACE_SEIZE was refused (containers without CAP_SYS_PTRACE under Yama scope 2-3, seccomp), every
// later trial goes straight to the handler instead of forking a child only to find out again.
std::atomic<bool> g_ptrace_denied{false};
std::string g_ptrace_denied_reason;  // written once before g_ptrace_denied is set

}  // namespace

using trial_run::AddDetail;
using trial_run::Trial;

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
  (void)retry.Run(&r);  // false only asks for a retry with the handler, which this is
  AddDetail(&r, note);
  return r;
}

}  // namespace cg

// What a reaped trial left (wait status, workload result, handler record, captures) classified into its
// TrialResult (see trial_run.h).
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

namespace {

// The scheduler state of a process ('R', 'S', 'T' ...) from /proc/PID/stat, 0 if it is gone.
char ProcessState(pid_t pid) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(pid));
  ScopedFd fd(open(path, O_RDONLY | O_CLOEXEC));
  if (!fd.is_open()) return 0;
  std::string stat = ReadAll(fd.get());
  size_t paren = stat.rfind(')');  // the name may hold anything, ')' included
  return paren != std::string::npos && paren + 2 < stat.size() ? stat[paren + 2] : 0;
}

}  // namespace

pid_t TracerOf(pid_t pid) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/status", static_cast<int>(pid));
  ScopedFd fd(open(path, O_RDONLY | O_CLOEXEC));
  if (!fd.is_open()) return 0;
  std::string status = ReadAll(fd.get());
  size_t at = status.find("\nTracerPid:");
  return at == std::string::npos ? 0 : static_cast<pid_t>(std::atoi(status.c_str() + at + 11));
}

std::string StoppedProcessesNote(pid_t leader, const std::vector<pid_t>& processes) {
  std::vector<std::string> stopped;
  int stop_signal = 0;
  for (pid_t pid : processes) {
    if (ProcessState(pid) != 'T') continue;  // 't' is a tracer's stop: not the program's doing
    stopped.push_back(pid == leader ? fmt::format("process {} (the program)", pid) : fmt::format("process {}", pid));
    if (pid == leader && stop_signal == 0) {
      // The leader is crashgrid's child: the stop is still waitable, and WNOWAIT leaves it so.
      siginfo_t info{};
      if (waitid(P_PID, static_cast<id_t>(pid), &info, WSTOPPED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid &&
          info.si_code == CLD_STOPPED)
        stop_signal = info.si_status;
    }
  }
  if (stopped.empty()) return "";
  const char* name = stop_signal ? sigabbrev_np(stop_signal) : nullptr;
  return fmt::format("stopped by {} and never continued: {}", name ? "SIG" + std::string(name) : "a stop signal",
                     Join(stopped, ", "));
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
  AttachPhases(child_.pid, &report);  // the faulting thread's phase (an --exec program's in any of its processes)
  report.capture_ms = (MonotonicSeconds() - t0) * 1000;
  AnnotateReport(&report, /*hang=*/false);
  r->signature = CrashSignature(report);
  r->report = std::move(report);
}

// A shell reports a child killed by signal N as exit status 128+N, but a program may also exit(128+N) itself.
// The two differ only in whether some process of the trial received the signal, which crashgrid sees when it
// watched every process for it: traced (every process of the trial is a tracee, and every crash signal a
// signal-delivery-stop, captured), or with the agent loaded (its handler posts every one of its signals, sent
// ones included, in every process it was preloaded into; a static or set-ID program started by the shell has
// no agent, and its crash would read as a failure). Signals nothing watches (SIGKILL from the OOM killer,
// SIGTERM) stay crashes reported by a shell.
bool Trial::SawNoSignal(int sig) const {
  if (method_ == CaptureMethod::kTrace && tracer_) {
    if (!IsCrashSignal(sig)) return false;
    return !(tracer_->report() && tracer_->report()->signal != 0);
  }
  if (!agent_.is_open() || agent_.processes_loaded() == 0) return false;
  // The agent's signals (kSignals in src/agent/crashgrid_agent.c).
  if (sig != SIGSEGV && sig != SIGBUS && sig != SIGILL && sig != SIGFPE && sig != SIGABRT && sig != SIGTRAP)
    return false;
  return agent_.State() == AGENT_FAULT_NONE && agent_.block().faults_after_first == 0 && !attach_report_;
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
    int sig = final_.exit_code() - 128;
    if (SawNoSignal(sig)) {
      // exit(139) is only a number: no process of the trial got the signal it would name.
      r->outcome = Outcome::kFailed;
      const char* name = sigabbrev_np(sig);
      AddDetail(r, fmt::format("exit status {} but no process of the trial received SIG{}: a failure, not a "
                               "crash reported by a shell",
                               final_.exit_code(), name ? name : "?"));
    } else {
      r->outcome = Outcome::kCrashed;
      r->signal = sig;
      r->via_shell = true;
    }
  } else {
    r->outcome = Outcome::kFailed;
  }
  if (cancelled_) AddDetail(r, "cancelled");
  ReadWorkloadResult(r);
  if (!spec_.builtin_workload && agent_.is_open()) {
    // An --exec program's iterations: what it counted with crashgrid.h, or with --progress-api NAME its calls of
    // NAME (the agent's count), which the command line chose over the program's own.
    if (int64_t n = 0; agent_.ProgramIterations(&n)) {
      r->iterations = n;
      r->workload_seconds = r->time_to_outcome_s;
    }
    for (const auto& [k, v] : spec_.env) {
      if (k != "CRASHGRID_PROGRESS_API" || v.empty()) continue;
      r->iterations = agent_.ApiCallCount(v);
      r->workload_seconds = r->time_to_outcome_s;
    }
  }
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
  if (r->report && agent_.is_open()) {
    // The calls each thread was in, from the agent's table (kept after the trial died); the signature then
    // names the call the agent saw.
    double stopped = crash_time_ > 0 ? crash_time_ : MonotonicSeconds();
    if (AnnotateApiCalls(agent_.ApiThreads(), static_cast<int64_t>(stopped * 1e9), &*r->report)) {
      r->signature = r->report->signal != 0 ? CrashSignature(*r->report) : HangSignature(*r->report);
    }
  }
  if (overran_ && StartsWith(r->signature, "hang")) r->signature = "overran" + r->signature.substr(4);
  if (crash && (r->outcome == Outcome::kClean || r->outcome == Outcome::kFailed)) {
    const char* name = sigabbrev_np(crash->signal);
    // The agent names the process that faulted. Another process than the program's (a fork or vfork child
    // that crashed before or instead of exec) is not the program surviving its own crash.
    pid_t fault_pid = agent_.is_open() ? agent_.block().fault_pid : 0;
    if (fault_pid > 0 && fault_pid != child_.pid) {
      AddDetail(r, fmt::format("SIG{} was captured in process {}, a child of the program (its fork or vfork child), "
                               "not in the program itself, which then exited with status {}",
                               name ? name : "?", fault_pid, r->exit_code));
    } else {
      AddDetail(r, fmt::format("SIG{} was captured, then the program survived it (its own handler ran)",
                               name ? name : "?"));
    }
  }
  if (r->outcome == Outcome::kCrashed && !r->report && agent_.is_open() && agent_.processes_loaded() == 0) {
    AddDetail(r, "no stacks: the agent was not loaded into the program (a static or set-ID executable, or "
                 "LD_PRELOAD removed from its environment); --capture trace sees such programs");
  }
}

}  // namespace cg::trial_run

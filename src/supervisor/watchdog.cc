#include "supervisor/watchdog.h"

#include <fmt/format.h>

#include <algorithm>
#include <vector>

#include "util/strings.h"

namespace cg {

double CpuProgressThreshold(double window_s) { return std::max(0.01 * window_s, 0.02); }

Watchdog::Watchdog(const WatchdogConfig& config, double spawn_time)
    : config_(config), spawn_(spawn_time), stage_(config.has_barrier ? Stage::kSetup : Stage::kRun) {
  if (!config_.has_barrier) run_bound_ = spawn_ + config_.duration_s + config_.grace_s;
}

std::string Watchdog::stage() const {
  switch (stage_) {
    case Stage::kSetup:
      return "setup";
    case Stage::kRun:
      return left_loop_ ? "teardown" : "run";
    case Stage::kTeardown:
      return "teardown";
  }
  return "run";
}

double Watchdog::StageBound() const {
  switch (stage_) {
    case Stage::kSetup:
      return spawn_ + config_.setup_timeout_s;
    case Stage::kRun:
      return run_bound_;
    case Stage::kTeardown:
      return teardown_bound_;
  }
  return run_bound_;
}

std::string Watchdog::BoundText() const {
  if (!config_.has_barrier)
    return fmt::format("still running {} + {} grace after spawn (--duration, --grace)",
                       FormatDuration(config_.duration_s), FormatDuration(config_.grace_s));
  switch (stage_) {
    case Stage::kSetup:
      return fmt::format("no start barrier {} after spawn (--setup-timeout)",
                         FormatDuration(config_.setup_timeout_s));
    case Stage::kRun:
      return fmt::format(
          "still in its iteration loop {} + {} grace after the start barrier (--duration, --grace)",
          FormatDuration(config_.duration_s), FormatDuration(config_.grace_s));
    case Stage::kTeardown:
      return fmt::format(
          "teardown still running {} after the deadline and grace (--teardown-timeout){}",
          FormatDuration(config_.teardown_timeout_s),
          run_progress_.empty() ? "" : fmt::format(" (past the run bound: {})", run_progress_));
  }
  return "";
}

void Watchdog::OpenWindow(double now, const Progress& sample) {
  window_open_ = true;
  window_start_ = now;
  baseline_ = sample;
}

std::string Watchdog::ProgressSince(const Progress& s, double now) const {
  std::vector<std::string> seen;
  if (!baseline_.has_status && s.has_status) {
    seen.push_back("the status block appeared");
  } else if (baseline_.has_status && s.has_status) {
    if (s.counters != baseline_.counters)
      seen.push_back(fmt::format("counters {} -> {}", baseline_.counters, s.counters));
    if (s.phases != baseline_.phases) seen.push_back("threads changed phase");
  }
  if (baseline_.cpu_s >= 0 && s.cpu_s >= 0) {
    double cpu = s.cpu_s - baseline_.cpu_s;
    if (cpu >= CpuProgressThreshold(config_.stall_window_s))
      seen.push_back(fmt::format("CPU +{:.2f}s in {}", cpu, FormatDuration(now - window_start_)));
  }
  return Join(seen, ", ");
}

Watchdog::Verdict Watchdog::Decide(Verdict v, std::string note) {
  verdict_ = v;
  note_ = std::move(note);
  return v;
}

Watchdog::Verdict Watchdog::PastBound(double now, const Progress& sample) {
  if (!window_open_) {
    OpenWindow(now, sample);
  } else if (std::string progress = ProgressSince(sample, now); !progress.empty()) {
    window_open_ = false;
    if (stage_ == Stage::kRun && config_.has_barrier) {
      stage_ = Stage::kTeardown;
      run_progress_ = progress;
      return Verdict::kRunning;
    }
    return Decide(Verdict::kOverran,
                  fmt::format("overran: {}, but making progress ({})", BoundText(), progress));
  }
  if (now < window_start_ + config_.stall_window_s) return Verdict::kRunning;
  std::vector<std::string> evidence;
  if (sample.has_status)
    evidence.push_back(fmt::format("counters {}, phases unchanged", sample.counters));
  else if (config_.has_barrier)
    evidence.push_back("no status block");
  if (baseline_.cpu_s >= 0 && sample.cpu_s >= 0)
    evidence.push_back(fmt::format("CPU +{:.2f}s", std::max(0.0, sample.cpu_s - baseline_.cpu_s)));
  else
    evidence.push_back("CPU time unknown");
  return Decide(
      Verdict::kHung,
      fmt::format("hung in {}: {} and no progress in the {} stall window (--stall-window): {}", stage(),
                  BoundText(), FormatDuration(config_.stall_window_s), Join(evidence, ", ")));
}

Watchdog::Verdict Watchdog::Tick(double now, double barrier_time, const Progress& sample) {
  if (verdict_ != Verdict::kRunning) return verdict_;
  if (!config_.has_barrier) return now < run_bound_ ? Verdict::kRunning : PastBound(now, sample);

  if (stage_ == Stage::kSetup) {
    double bound = StageBound();
    if (barrier_time <= 0) return now < bound ? Verdict::kRunning : PastBound(now, sample);
    if (barrier_time >= bound) {
      return Decide(
          Verdict::kOverran,
          fmt::format("overran: the start barrier came {} after spawn, past the {} setup bound "
                      "(--setup-timeout)",
                      FormatDuration(barrier_time - spawn_), FormatDuration(config_.setup_timeout_s)));
    }
    // Before the bound, even if this tick comes after it (or after a window opened on a racy sample).
    stage_ = Stage::kRun;
    window_open_ = false;
    run_bound_ = barrier_time + config_.duration_s + config_.grace_s;
    teardown_bound_ = run_bound_ + config_.teardown_timeout_s;
  }

  if (stage_ == Stage::kRun) {
    if (sample.all_left_loop) left_loop_ = true;
    if (now < run_bound_) return Verdict::kRunning;
    if (sample.all_left_loop) {
      stage_ = Stage::kTeardown;
      window_open_ = false;
    } else {
      Verdict v = PastBound(now, sample);
      if (stage_ == Stage::kRun || v != Verdict::kRunning) return v;
    }
  }

  return now < teardown_bound_ ? Verdict::kRunning : PastBound(now, sample);
}

double Watchdog::NextCheck(double now) const {
  if (verdict_ != Verdict::kRunning) return now;
  if (window_open_) return window_start_ + std::max(0.0, config_.stall_window_s);
  return StageBound();
}

std::string Watchdog::Note() const {
  if (!note_.empty() || run_progress_.empty()) return note_;
  return fmt::format(
      "went on past the run bound ({} + {} grace after the start barrier, --duration, --grace): {}",
      FormatDuration(config_.duration_s), FormatDuration(config_.grace_s), run_progress_);
}

}  // namespace cg

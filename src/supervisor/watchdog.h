// INTERIM (lead): replaced by the watchdog helper's version at merge. Same interface.
#pragma once

#include <cstdint>
#include <string>

namespace cg {

struct WatchdogConfig {
  double duration_s = 5, grace_s = 5, setup_timeout_s = 120, teardown_timeout_s = 60, stall_window_s = 2;
  bool has_barrier = false;
};

struct Progress {
  bool has_status = false;
  int64_t counters = 0;
  uint64_t phases = 0;
  bool all_left_loop = false;
  double cpu_s = -1;
};

class Watchdog {
 public:
  Watchdog(const WatchdogConfig& c, double spawn_time) : c_(c), t0_(spawn_time) {}
  enum class Verdict { kRunning, kOverran, kHung };
  Verdict Tick(double now, double barrier_time, const Progress& p) {
    if (now >= t0_ + c_.duration_s + c_.grace_s) return Verdict::kHung;
    return Verdict::kRunning;
  }
  double NextCheck(double now) const { return t0_ + c_.duration_s + c_.grace_s; }
  std::string Note() const { return "past its bound"; }
  std::string stage() const { return "run"; }

 private:
  WatchdogConfig c_;
  double t0_;
};

}  // namespace cg

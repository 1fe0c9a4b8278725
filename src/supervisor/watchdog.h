// The watchdog decides, tick by tick, whether a running trial is fine, overran its bound while still making
// progress, or hung. Slow is not stuck: past a bound it does not kill at once but opens a stall window and
// looks for progress in it. It has no clock and does no I/O: the caller samples the trial (SampleProgress in
// progress.h) and passes every time on one clock of its own (spawn, now and the barrier, all in seconds).
//
// Stages and bounds:
//   --exec programs (has_barrier false): one stage, "run", bounded by spawn + duration + grace.
//   Built-in workloads (has_barrier true):
//     setup     spawn until the start barrier, bounded by spawn + setup_timeout. A barrier crossed at or
//               after that bound counts as progress past it.
//     run       barrier to barrier + duration + grace (the run bound).
//     teardown  then until the process ends, bounded by the run bound + teardown_timeout. The stage also
//               reads "teardown" once every thread left its iteration loop before the run bound.
// At a bound the watchdog opens a stall window of stall_window_s: the sample taken at the first tick at or
// past the bound is the baseline, and any later sample that shows progress against it ends the window:
//   - status counters (iterations + successes + errors + units) or the phase hash changed, or the status
//     block appeared (the workload finished its process-wide Init);
//   - or the trial's CPU time grew by at least max(1% of one core over the window, 20 ms). A process blocked
//     on a lock uses none; 20 ms is two clock ticks of /proc's utime/stime (USER_HZ 100), so that one
//     stray tick of a driver's housekeeping thread in a deadlocked process is not mistaken for work.
// What the window decides:
//   - setup bound, teardown bound, the single bound of --exec: progress -> kOverran, none -> kHung.
//   - run bound: if every thread already left its loop, straight on into teardown; else no progress ->
//     kHung, progress -> on into teardown (a slow iteration in flight at the deadline may finish).
// Progress is acted on as soon as a sample shows it; a hang is declared when a tick at or past the window's
// end still shows none. A bound is passed at exactly its value (now >= bound). With stall_window_s <= 0
// there is no window: a bound passed is a hang. The verdict is final once given.
#pragma once

#include <cstdint>
#include <string>

namespace cg {

struct WatchdogConfig {
  double duration_s = 5;
  double grace_s = 5;
  double setup_timeout_s = 120;
  double teardown_timeout_s = 60;
  double stall_window_s = 2;
  bool has_barrier = false;  // a built-in workload (it has a status block and a start barrier)
};

// One sample of a trial, taken by the caller at the time it passes to Tick.
struct Progress {
  bool has_status = false;     // the status block is valid (the workload wrote its header)
  int64_t counters = 0;        // iterations + successes + errors of every thread, plus units
  uint64_t phases = 0;         // a hash of every thread's current phase
  bool all_left_loop = false;  // every workload thread is past its iteration loop (teardown or done)
  double cpu_s = -1;           // utime + stime of every process of the trial, -1 if unknown
};

// CPU time that counts as progress over a window of `window_s` (see the header comment).
double CpuProgressThreshold(double window_s);

class Watchdog {
 public:
  enum class Verdict { kRunning, kOverran, kHung };

  Watchdog(const WatchdogConfig& config, double spawn_time);

  // `barrier_time` is when the start barrier was crossed, 0 before it (ignored without a barrier).
  Verdict Tick(double now, double barrier_time, const Progress& sample);
  // When to tick again at the latest: the current stage's bound or the open window's end (`now` once a
  // verdict was given). Ticking earlier is harmless.
  double NextCheck(double now) const;
  // One line for the trial's detail: with a verdict, which bound, its value and flag and what progress was
  // seen (or not); without one, what let the trial past the run bound, or "" if nothing happened.
  std::string Note() const;
  // "setup", "run" or "teardown".
  std::string stage() const;
  Verdict verdict() const { return verdict_; }

 private:
  enum class Stage { kSetup, kRun, kTeardown };
  // Past the current stage's bound: opens the window or judges it. Progress is kOverran, except at the run
  // bound of a built-in workload, where it moves the trial on into teardown (and returns kRunning).
  Verdict PastBound(double now, const Progress& sample);
  void OpenWindow(double now, const Progress& sample);
  // What changed since the window's baseline, "" if nothing that counts.
  std::string ProgressSince(const Progress& sample, double now) const;
  double StageBound() const;
  std::string BoundText() const;
  Verdict Decide(Verdict v, std::string note);

  WatchdogConfig config_;
  double spawn_ = 0;
  Stage stage_;
  bool left_loop_ = false;     // all threads left their loops (for stage() before the run bound)
  double run_bound_ = 0;       // set at the barrier (or at construction without one)
  double teardown_bound_ = 0;  // set at the barrier
  bool window_open_ = false;
  double window_start_ = 0;
  Progress baseline_;
  std::string run_progress_;  // what let the trial past the run bound, for the note
  Verdict verdict_ = Verdict::kRunning;
  std::string note_;
};

}  // namespace cg

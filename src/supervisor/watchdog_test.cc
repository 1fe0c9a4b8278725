#include "supervisor/watchdog.h"

#include <gtest/gtest.h>

namespace cg {
namespace {

using V = Watchdog::Verdict;

// Spawn at t=1000 on the fake clock; duration 5 + grace 5; setup 120, teardown 60, window 2.
constexpr double kSpawn = 1000;

WatchdogConfig Config(bool barrier) {
  WatchdogConfig c;
  c.duration_s = 5;
  c.grace_s = 5;
  c.setup_timeout_s = 120;
  c.teardown_timeout_s = 60;
  c.stall_window_s = 2;
  c.has_barrier = barrier;
  return c;
}

// A status-block sample.
Progress Status(int64_t counters, uint64_t phases, double cpu_s = -1, bool left = false) {
  Progress p;
  p.has_status = true;
  p.counters = counters;
  p.phases = phases;
  p.cpu_s = cpu_s;
  p.all_left_loop = left;
  return p;
}

// An --exec sample: CPU time only.
Progress Cpu(double cpu_s) {
  Progress p;
  p.cpu_s = cpu_s;
  return p;
}

TEST(Watchdog, ExecDeadlockIsHungAfterTheStallWindow) {
  Watchdog w(Config(false), kSpawn);
  EXPECT_EQ(w.stage(), "run");
  EXPECT_EQ(w.NextCheck(kSpawn), kSpawn + 10);
  EXPECT_EQ(w.Tick(kSpawn + 9.9, 0, Cpu(0.5)), V::kRunning);
  EXPECT_EQ(w.Tick(kSpawn + 10, 0, Cpu(0.5)), V::kRunning);  // the window opens exactly at the bound
  EXPECT_EQ(w.NextCheck(kSpawn + 10), kSpawn + 12);
  EXPECT_EQ(w.Tick(kSpawn + 11.9, 0, Cpu(0.5)), V::kRunning);
  EXPECT_EQ(w.Tick(kSpawn + 12, 0, Cpu(0.5)), V::kHung);  // and closes exactly at its end
  EXPECT_NE(w.Note().find("hung in run"), std::string::npos) << w.Note();
  EXPECT_NE(w.Note().find("5s + 5s grace"), std::string::npos) << w.Note();
  EXPECT_NE(w.Note().find("--grace"), std::string::npos) << w.Note();
  EXPECT_NE(w.Note().find("CPU +0.00s"), std::string::npos) << w.Note();
}

TEST(Watchdog, ExecBusyPastItsBoundOverrunsOnCpuAlone) {
  Watchdog w(Config(false), kSpawn);
  EXPECT_EQ(w.Tick(kSpawn + 10.5, 0, Cpu(3.0)), V::kRunning);
  EXPECT_EQ(w.Tick(kSpawn + 11, 0, Cpu(3.5)), V::kOverran);  // decided as soon as it shows, not at the end
  EXPECT_NE(w.Note().find("overran"), std::string::npos) << w.Note();
  EXPECT_NE(w.Note().find("CPU +0.50s"), std::string::npos) << w.Note();
}

TEST(Watchdog, CpuBelowTheThresholdIsNotProgress) {
  // Threshold for a 2 s window: max(1% of 2 s, 20 ms) = 20 ms.
  EXPECT_DOUBLE_EQ(CpuProgressThreshold(2), 0.02);
  EXPECT_DOUBLE_EQ(CpuProgressThreshold(10), 0.1);
  Watchdog below(Config(false), kSpawn);
  below.Tick(kSpawn + 10, 0, Cpu(1.00));
  EXPECT_EQ(below.Tick(kSpawn + 12, 0, Cpu(1.01)), V::kHung);  // one stray clock tick
  Watchdog at(Config(false), kSpawn);
  at.Tick(kSpawn + 10, 0, Cpu(0));
  EXPECT_EQ(at.Tick(kSpawn + 12, 0, Cpu(0.02)), V::kOverran);  // exactly the threshold counts
}

TEST(Watchdog, UnknownCpuTimeIsNoEvidence) {
  Watchdog w(Config(false), kSpawn);
  w.Tick(kSpawn + 10, 0, Cpu(-1));
  EXPECT_EQ(w.Tick(kSpawn + 12, 0, Cpu(5.0)), V::kHung);
  EXPECT_NE(w.Note().find("CPU time unknown"), std::string::npos) << w.Note();
}

TEST(Watchdog, SlowSetupWithinItsBoundIsNotAHangAndTheRunCountsFromTheBarrier) {
  // The H200 case: workers queued in a serialized cuCtxCreate, 0 iterations long after duration + grace.
  Watchdog w(Config(true), kSpawn);
  EXPECT_EQ(w.stage(), "setup");
  EXPECT_EQ(w.NextCheck(kSpawn), kSpawn + 120);
  for (double t = 1; t < 100; t += 1) EXPECT_EQ(w.Tick(kSpawn + t, 0, Status(0, 7)), V::kRunning) << t;
  EXPECT_EQ(w.Tick(kSpawn + 100.5, kSpawn + 100, Status(0, 8)), V::kRunning);
  EXPECT_EQ(w.stage(), "run");
  EXPECT_EQ(w.NextCheck(kSpawn + 100.5), kSpawn + 110);  // barrier + duration + grace
  EXPECT_EQ(w.Tick(kSpawn + 109.9, kSpawn + 100, Status(50, 9)), V::kRunning);
  EXPECT_EQ(w.Tick(kSpawn + 110, kSpawn + 100, Status(60, 10, -1, true)), V::kRunning);
  EXPECT_EQ(w.stage(), "teardown");
  EXPECT_EQ(w.Note(), "");
}

TEST(Watchdog, SetupDeadlockIsHung) {
  Watchdog w(Config(true), kSpawn);
  EXPECT_EQ(w.Tick(kSpawn + 119, 0, Status(0, 7, 0.3)), V::kRunning);
  EXPECT_EQ(w.Tick(kSpawn + 120, 0, Status(0, 7, 0.3)), V::kRunning);
  EXPECT_EQ(w.NextCheck(kSpawn + 120), kSpawn + 122);
  EXPECT_EQ(w.Tick(kSpawn + 122, 0, Status(0, 7, 0.3)), V::kHung);
  EXPECT_EQ(w.stage(), "setup");
  EXPECT_NE(w.Note().find("hung in setup"), std::string::npos) << w.Note();
  EXPECT_NE(w.Note().find("2m after spawn (--setup-timeout)"), std::string::npos) << w.Note();
  EXPECT_NE(w.Note().find("2s stall window"), std::string::npos) << w.Note();
}

TEST(Watchdog, SetupDeadlockBeforeTheStatusBlockIsHung) {
  // Stuck in the workload's process-wide Init (cuInit, gst_init): no status block yet.
  Watchdog w(Config(true), kSpawn);
  w.Tick(kSpawn + 120, 0, Cpu(0.1));
  EXPECT_EQ(w.Tick(kSpawn + 122, 0, Cpu(0.1)), V::kHung);
  EXPECT_NE(w.Note().find("no status block"), std::string::npos) << w.Note();
}

TEST(Watchdog, SlowButBusySetupPastItsBoundOverruns) {
  Watchdog w(Config(true), kSpawn);
  EXPECT_EQ(w.Tick(kSpawn + 120, 0, Status(0, 7, 40.0)), V::kRunning);
  EXPECT_EQ(w.Tick(kSpawn + 121, 0, Status(0, 8, 40.0)), V::kOverran);  // a thread finished its ThreadInit
  EXPECT_NE(w.Note().find("threads changed phase"), std::string::npos) << w.Note();
  EXPECT_NE(w.Note().find("--setup-timeout"), std::string::npos) << w.Note();
}

TEST(Watchdog, StatusBlockAppearingPastTheSetupBoundIsProgress) {
  Watchdog w(Config(true), kSpawn);
  w.Tick(kSpawn + 120, 0, Cpu(1.0));
  EXPECT_EQ(w.Tick(kSpawn + 121, 0, Status(0, 7, 1.0)), V::kOverran);
  EXPECT_NE(w.Note().find("status block appeared"), std::string::npos) << w.Note();
}

TEST(Watchdog, BarrierAtOrAfterTheSetupBoundOverruns) {
  Watchdog exactly(Config(true), kSpawn);
  EXPECT_EQ(exactly.Tick(kSpawn + 120.5, kSpawn + 120, Status(0, 8)), V::kOverran);
  EXPECT_NE(exactly.Note().find("start barrier came 2m after spawn"), std::string::npos) << exactly.Note();
  Watchdog just_before(Config(true), kSpawn);
  EXPECT_EQ(just_before.Tick(kSpawn + 120.5, kSpawn + 119.9, Status(0, 8)), V::kRunning);
  EXPECT_EQ(just_before.stage(), "run");
}

TEST(Watchdog, BarrierBeforeTheBoundSeenLateClosesTheSetupWindow) {
  // The sample at the bound raced the barrier's store: the next one shows it was crossed in time.
  Watchdog w(Config(true), kSpawn);
  w.Tick(kSpawn + 120, 0, Status(0, 7));
  EXPECT_EQ(w.Tick(kSpawn + 120.1, kSpawn + 119.99, Status(0, 7)), V::kRunning);
  EXPECT_EQ(w.stage(), "run");
  EXPECT_EQ(w.Tick(kSpawn + 122, kSpawn + 119.99, Status(0, 7)), V::kRunning);  // no stale window fires
  EXPECT_DOUBLE_EQ(w.NextCheck(kSpawn + 122), kSpawn + 129.99);
}

TEST(Watchdog, DeadlockInTheRunIsHungAtTheRunBound) {
  Watchdog w(Config(true), kSpawn);
  w.Tick(kSpawn + 1, kSpawn + 1, Status(0, 8, 0.5));
  EXPECT_EQ(w.Tick(kSpawn + 10.9, kSpawn + 1, Status(40, 9, 1.0)), V::kRunning);
  EXPECT_EQ(w.Tick(kSpawn + 11, kSpawn + 1, Status(40, 9, 1.0)), V::kRunning);
  EXPECT_EQ(w.NextCheck(kSpawn + 11), kSpawn + 13);
  EXPECT_EQ(w.Tick(kSpawn + 13, kSpawn + 1, Status(40, 9, 1.0)), V::kHung);
  EXPECT_EQ(w.stage(), "run");
  EXPECT_NE(w.Note().find("hung in run"), std::string::npos) << w.Note();
  EXPECT_NE(w.Note().find("after the start barrier"), std::string::npos) << w.Note();
  EXPECT_NE(w.Note().find("counters 40, phases unchanged"), std::string::npos) << w.Note();
}

TEST(Watchdog, ProgressAtTheRunBoundGoesOnIntoTheTeardownBound) {
  Watchdog w(Config(true), kSpawn);
  w.Tick(kSpawn + 1, kSpawn + 1, Status(0, 8));
  w.Tick(kSpawn + 11, kSpawn + 1, Status(40, 9));  // a slow iteration in flight at the deadline
  EXPECT_EQ(w.Tick(kSpawn + 12, kSpawn + 1, Status(41, 9)), V::kRunning);
  EXPECT_EQ(w.stage(), "teardown");
  EXPECT_EQ(w.NextCheck(kSpawn + 12), kSpawn + 71);  // run bound + teardown timeout
  EXPECT_NE(w.Note().find("went on past the run bound"), std::string::npos) << w.Note();
  EXPECT_NE(w.Note().find("counters 40 -> 41"), std::string::npos) << w.Note();
  // Past the teardown bound it must still show progress, now against a new baseline.
  EXPECT_EQ(w.Tick(kSpawn + 71, kSpawn + 1, Status(41, 9, 2.0)), V::kRunning);
  EXPECT_EQ(w.Tick(kSpawn + 73, kSpawn + 1, Status(41, 9, 2.0)), V::kHung);
  EXPECT_NE(w.Note().find("hung in teardown"), std::string::npos) << w.Note();
  EXPECT_NE(w.Note().find("past the run bound: counters 40 -> 41"), std::string::npos) << w.Note();
}

TEST(Watchdog, ThreadsThatLeftTheirLoopGoStraightIntoTeardown) {
  Watchdog w(Config(true), kSpawn);
  w.Tick(kSpawn + 1, kSpawn + 1, Status(0, 8));
  EXPECT_EQ(w.Tick(kSpawn + 6, kSpawn + 1, Status(40, 3, -1, true)), V::kRunning);
  EXPECT_EQ(w.stage(), "teardown");  // before the run bound already
  EXPECT_EQ(w.Tick(kSpawn + 11, kSpawn + 1, Status(40, 3, -1, true)), V::kRunning);
  EXPECT_EQ(w.NextCheck(kSpawn + 11), kSpawn + 71);  // no window at the run bound
  EXPECT_EQ(w.Note(), "");
}

TEST(Watchdog, SlowTeardownWithinItsBoundIsFine) {
  // 16 NVDEC decoders destroyed one after another: seconds, no counters moving, no CPU.
  Watchdog w(Config(true), kSpawn);
  w.Tick(kSpawn + 1, kSpawn + 1, Status(0, 8));
  for (double t = 11; t < 71; t += 0.5)
    EXPECT_EQ(w.Tick(kSpawn + t, kSpawn + 1, Status(40, 3, 0.2, true)), V::kRunning) << t;
  EXPECT_EQ(w.verdict(), V::kRunning);
}

TEST(Watchdog, SlowTeardownPastItsBoundOverrunsWhenBusyAndHangsWhenNot) {
  Watchdog busy(Config(true), kSpawn);
  busy.Tick(kSpawn + 1, kSpawn + 1, Status(0, 8));
  EXPECT_EQ(busy.Tick(kSpawn + 71, kSpawn + 1, Status(40, 3, 5.0, true)), V::kRunning);
  EXPECT_EQ(busy.Tick(kSpawn + 73, kSpawn + 1, Status(40, 3, 6.5, true)), V::kOverran);
  EXPECT_NE(busy.Note().find("--teardown-timeout"), std::string::npos) << busy.Note();
  EXPECT_NE(busy.Note().find("1m after the deadline and grace"), std::string::npos) << busy.Note();

  Watchdog stuck(Config(true), kSpawn);
  stuck.Tick(kSpawn + 1, kSpawn + 1, Status(0, 8));
  stuck.Tick(kSpawn + 71, kSpawn + 1, Status(40, 3, 5.0, true));
  EXPECT_EQ(stuck.Tick(kSpawn + 72.9, kSpawn + 1, Status(40, 3, 5.0, true)), V::kRunning);
  EXPECT_EQ(stuck.Tick(kSpawn + 73, kSpawn + 1, Status(40, 3, 5.0, true)), V::kHung);
  EXPECT_NE(stuck.Note().find("hung in teardown"), std::string::npos) << stuck.Note();
}

TEST(Watchdog, ALateFirstTickPastSeveralBoundsStillOpensAWindow) {
  // The caller was slow: its first tick after the barrier is already past the teardown bound.
  Watchdog w(Config(true), kSpawn);
  w.Tick(kSpawn + 1, kSpawn + 1, Status(0, 8));
  EXPECT_EQ(w.Tick(kSpawn + 80, kSpawn + 1, Status(40, 9)), V::kRunning);  // run-bound window
  EXPECT_EQ(w.Tick(kSpawn + 81, kSpawn + 1, Status(41, 9)), V::kRunning);  // progress: teardown window opens
  EXPECT_EQ(w.stage(), "teardown");
  EXPECT_EQ(w.NextCheck(kSpawn + 81), kSpawn + 83);
  EXPECT_EQ(w.Tick(kSpawn + 83, kSpawn + 1, Status(41, 9)), V::kHung);
}

TEST(Watchdog, TheVerdictIsFinal) {
  Watchdog w(Config(false), kSpawn);
  w.Tick(kSpawn + 10, 0, Cpu(0));
  ASSERT_EQ(w.Tick(kSpawn + 12, 0, Cpu(0)), V::kHung);
  std::string note = w.Note();
  EXPECT_EQ(w.Tick(kSpawn + 13, 0, Cpu(50)), V::kHung);
  EXPECT_EQ(w.Note(), note);
  EXPECT_EQ(w.NextCheck(kSpawn + 13), kSpawn + 13);
}

TEST(Watchdog, WithoutAStallWindowABoundPassedIsAHang) {
  WatchdogConfig c = Config(false);
  c.stall_window_s = 0;
  Watchdog w(c, kSpawn);
  EXPECT_EQ(w.Tick(kSpawn + 9.99, 0, Cpu(0)), V::kRunning);
  EXPECT_EQ(w.Tick(kSpawn + 10, 0, Cpu(0)), V::kHung);
}

}  // namespace
}  // namespace cg

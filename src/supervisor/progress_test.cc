#include "supervisor/progress.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "util/clock.h"
#include "runtime/runner.h"

namespace cg {
namespace {

using namespace std::chrono_literals;

// A child process that either spins or sleeps until killed; killed and reaped on destruction.
class Child {
 public:
  explicit Child(bool busy) {
    pid_ = fork();
    if (pid_ == 0) {
      alarm(60);  // never outlives a broken test
      volatile unsigned long n = 0;
      if (busy)
        for (;;) n = n + 1;
      for (;;) pause();
    }
  }
  ~Child() { Kill(); }
  void Kill() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
};

TEST(SampleProgress, BusyChildGainsCpuTimeAndSleepingChildDoesNot) {
  Child busy(true), sleeping(false);
  ASSERT_GT(busy.pid(), 0);
  ASSERT_GT(sleeping.pid(), 0);
  double busy0 = SampleProgress(nullptr, {busy.pid()}).cpu_s;
  double sleeping0 = SampleProgress(nullptr, {sleeping.pid()}).cpu_s;
  ASSERT_GE(busy0, 0);
  ASSERT_GE(sleeping0, 0);
  // Wait until the spinner has had 0.2 s of CPU (at most 10 s on a loaded machine), then compare.
  double busy1 = busy0;
  for (double end = MonotonicSeconds() + 10; busy1 - busy0 < 0.2 && MonotonicSeconds() < end;) {
    std::this_thread::sleep_for(20ms);
    busy1 = SampleProgress(nullptr, {busy.pid()}).cpu_s;
  }
  double sleeping1 = SampleProgress(nullptr, {sleeping.pid()}).cpu_s;
  EXPECT_GE(busy1 - busy0, 0.2);
  EXPECT_LT(sleeping1 - sleeping0, CpuProgressThreshold(0));  // below what the watchdog counts as progress
  Progress both = SampleProgress(nullptr, {busy.pid(), sleeping.pid()});
  EXPECT_GE(both.cpu_s, busy1);  // the sum over the processes
  EXPECT_FALSE(both.has_status);
}

TEST(SampleProgress, SkipsProcessesThatAreGone) {
  Child live(false), gone(false);
  pid_t gone_pid = gone.pid();
  gone.Kill();
  double cpu = -2;
  EXPECT_FALSE(ProcessCpuSeconds(gone_pid, &cpu));
  EXPECT_EQ(SampleProgress(nullptr, {gone_pid}).cpu_s, -1);
  EXPECT_EQ(SampleProgress(nullptr, {}).cpu_s, -1);
  EXPECT_GE(SampleProgress(nullptr, {gone_pid, live.pid()}).cpu_s, 0);
}

TEST(SampleProgress, ReadsAProcessWhoseNameHasSpacesAndParentheses) {
  // comm is whatever the process says it is: the parser must count fields from the last ')'.
  int pipefd[2];
  ASSERT_EQ(pipe(pipefd), 0);
  pid_t pid = fork();
  if (pid == 0) {
    alarm(60);
    pthread_setname_np(pthread_self(), "a) b (c");
    volatile unsigned long n = 0;
    double end = MonotonicSeconds() + 0.3;
    while (MonotonicSeconds() < end) n = n + 1;
    char c = 1;
    (void)!write(pipefd[1], &c, 1);
    for (;;) pause();
  }
  char c = 0;
  ASSERT_EQ(read(pipefd[0], &c, 1), 1);
  double cpu = 0;
  bool ok = ProcessCpuSeconds(pid, &cpu);
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  close(pipefd[0]);
  close(pipefd[1]);
  ASSERT_TRUE(ok);
  EXPECT_GT(cpu, 0.05);  // it spun for 0.3 s of wall time; even a loaded core gives it some
  EXPECT_LT(cpu, 5);     // not a misparsed field (a start time or a page count)
}

TEST(ProcessGroupMembers, FindsTheLeaderAndWhatItForkedButNotOthers) {
  int pipefd[2];
  ASSERT_EQ(pipe(pipefd), 0);
  pid_t leader = fork();
  if (leader == 0) {
    alarm(60);
    setpgid(0, 0);
    pid_t grandchild = fork();
    if (grandchild == 0) {
      for (;;) pause();
    }
    (void)!write(pipefd[1], &grandchild, sizeof grandchild);
    for (;;) pause();
  }
  pid_t grandchild = 0;
  ASSERT_EQ(read(pipefd[0], &grandchild, sizeof grandchild), static_cast<ssize_t>(sizeof grandchild));
  close(pipefd[0]);
  close(pipefd[1]);
  std::vector<pid_t> members = ProcessGroupMembers(leader);
  kill(-leader, SIGKILL);
  waitpid(leader, nullptr, 0);
  std::sort(members.begin(), members.end());
  std::vector<pid_t> expected{leader, grandchild};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(members, expected);
}

TEST(SampleProgress, CountsCountersAndHashesPhasesFromTheStatusBlock) {
  StatusBlock block;
  std::string err;
  ASSERT_TRUE(block.MapAnonymous(&err)) << err;
  EXPECT_FALSE(SampleProgress(&block, {}).has_status);  // mapped but not written by the workload yet
  block.Init(WithSetupAndTeardown({"work"}), 2);
  Progress a = SampleProgress(&block, {});
  EXPECT_TRUE(a.has_status);
  EXPECT_EQ(a.counters, 0);
  EXPECT_FALSE(a.all_left_loop);

  block.thread(0)->iterations.store(3);
  block.thread(0)->successes.store(2);
  block.thread(1)->errors.store(1);
  block.header()->units.store(10);
  Progress b = SampleProgress(&block, {});
  EXPECT_EQ(b.counters, 16);
  EXPECT_EQ(b.phases, a.phases);  // nobody changed phase

  block.thread(1)->phase.store(block.PhaseIndex("work"));
  Progress c = SampleProgress(&block, {});
  EXPECT_NE(c.phases, b.phases);
  EXPECT_EQ(c.counters, b.counters);
  // Threads swapping phases are a change too: the hash is per thread, not a multiset.
  block.thread(0)->phase.store(block.PhaseIndex("work"));
  block.thread(1)->phase.store(kPhaseIdle);
  EXPECT_NE(SampleProgress(&block, {}).phases, c.phases);
}

TEST(SampleProgress, AllLeftLoopOnlyWhenEveryThreadIsInTeardownOrDone) {
  StatusBlock block;
  std::string err;
  ASSERT_TRUE(block.MapAnonymous(&err)) << err;
  block.Init(WithSetupAndTeardown({"work"}), 3);
  int teardown = block.PhaseIndex(kTeardownPhase);
  ASSERT_GE(teardown, 0);
  block.thread(0)->phase.store(kPhaseDone);
  block.thread(1)->phase.store(teardown);
  block.thread(2)->phase.store(block.PhaseIndex("work"));
  EXPECT_FALSE(SampleProgress(&block, {}).all_left_loop);
  block.thread(2)->phase.store(kPhaseIdle);  // between iterations: still in its loop
  EXPECT_FALSE(SampleProgress(&block, {}).all_left_loop);
  block.thread(2)->phase.store(teardown);
  EXPECT_TRUE(SampleProgress(&block, {}).all_left_loop);
}

// The runner and the sampler agree on what a real run publishes: setup, then in the loop, then teardown.
class GatedWorkload : public Workload {
 public:
  GatedWorkload() {
    info_.name = "gated";
    info_.phases = WithSetupAndTeardown({"work"});
  }
  const WorkloadInfo& info() const override { return info_; }
  bool Init(const Params&, int, std::string*) override { return true; }
  bool ThreadInit(IterationContext&, std::string*) override { return Wait(&init_open); }
  void ThreadDone(IterationContext&) override { Wait(&done_open); }
  void Iterate(IterationContext& ctx) override {
    ctx.Phase("work", [](std::string*) {
      std::this_thread::sleep_for(1ms);
      return true;
    });
  }
  void OpenGate(bool* gate) {
    {
      std::lock_guard<std::mutex> lock(mu);
      *gate = true;
    }
    cv.notify_all();
  }
  bool init_open = false, done_open = false;

 private:
  bool Wait(bool* gate) {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait_for(lock, 10s, [&] { return *gate; });
    return true;
  }
  WorkloadInfo info_;
  std::mutex mu;
  std::condition_variable cv;
};

TEST(SampleProgress, FollowsARealRunFromSetupThroughTeardown) {
  GatedWorkload w;
  StatusBlock block;
  std::string err;
  ASSERT_TRUE(block.MapAnonymous(&err)) << err;
  RunOptions o;
  o.threads = 2;
  o.duration_s = 0.2;
  TrialResult m;
  bool ok = false;
  std::thread runner([&] { ok = RunWorkload(w, o, &block, &m, &err); });
  auto wait_for = [&](auto pred) {
    for (int i = 0; i < 1000; ++i) {
      Progress p = SampleProgress(&block, {getpid()});
      if (pred(p)) return p;
      std::this_thread::sleep_for(10ms);
    }
    return SampleProgress(&block, {getpid()});
  };
  Progress setup = wait_for([&](const Progress& p) {
    return p.has_status && block.Snapshot().size() == 2 && block.Snapshot()[0].phase == "setup" &&
           block.Snapshot()[1].phase == "setup";
  });
  EXPECT_EQ(setup.counters, 0);
  EXPECT_FALSE(setup.all_left_loop);
  EXPECT_GE(setup.cpu_s, 0);
  w.OpenGate(&w.init_open);
  Progress teardown = wait_for([](const Progress& p) { return p.all_left_loop; });
  w.OpenGate(&w.done_open);
  runner.join();
  ASSERT_TRUE(ok) << err;
  EXPECT_TRUE(teardown.all_left_loop);
  EXPECT_GT(teardown.counters, 0);
  EXPECT_NE(teardown.phases, setup.phases);
}

}  // namespace
}  // namespace cg

#include "runtime/runner.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "util/clock.h"

namespace cg {
namespace {

using namespace std::chrono_literals;

// A workload assembled from lambdas, so each test states only what it needs.
class TestWorkload : public Workload {
 public:
  explicit TestWorkload(std::vector<std::string> phases) {
    info_.name = "test";
    info_.phases = WithSetupAndTeardown(std::move(phases));
    info_.params = {{"k", "1", "a test parameter"}};
  }
  const WorkloadInfo& info() const override { return info_; }
  bool Init(const Params&, int, std::string*) override { return true; }
  bool ThreadInit(IterationContext& ctx, std::string* err) override {
    return thread_init ? thread_init(ctx, err) : true;
  }
  void ThreadDone(IterationContext& ctx) override {
    if (thread_done) thread_done(ctx);
  }
  void Iterate(IterationContext& ctx) override { iterate(ctx); }

  std::function<bool(IterationContext&, std::string*)> thread_init;
  std::function<void(IterationContext&)> thread_done;
  std::function<void(IterationContext&)> iterate;

 private:
  WorkloadInfo info_;
};

RunOptions Options(int threads, double duration_s, std::string serialize = "none") {
  RunOptions o;
  o.threads = threads;
  o.duration_s = duration_s;
  o.serialize = std::move(serialize);
  return o;
}

TEST(ParseSerialize, NoneAndEmptySerializeNothing) {
  std::vector<std::string> out{"stale"}, err_out;
  std::string err;
  ASSERT_TRUE(ParseSerialize("none", {"open", "use", "close"}, &out, &err));
  EXPECT_TRUE(out.empty());
  ASSERT_TRUE(ParseSerialize("", {"open", "use", "close"}, &out, &err));
  EXPECT_TRUE(out.empty());
}

TEST(ParseSerialize, AllSerializesEveryPhase) {
  std::vector<std::string> out;
  std::string err;
  ASSERT_TRUE(ParseSerialize("all", {"open", "use", "close"}, &out, &err));
  EXPECT_EQ(out, (std::vector<std::string>{"open", "use", "close"}));
}

TEST(ParseSerialize, AcceptsCommaAndPlusAndKeepsPhaseOrder) {
  std::vector<std::string> out;
  std::string err;
  ASSERT_TRUE(ParseSerialize("close+open", {"open", "use", "close"}, &out, &err));
  EXPECT_EQ(out, (std::vector<std::string>{"open", "close"}));
  ASSERT_TRUE(ParseSerialize("use,close", {"open", "use", "close"}, &out, &err));
  EXPECT_EQ(out, (std::vector<std::string>{"use", "close"}));
}

TEST(ParseSerialize, UnknownPhaseSuggestsNearestAndListsPhases) {
  std::vector<std::string> out;
  std::string err;
  EXPECT_FALSE(ParseSerialize("opne+use", {"open", "use", "close"}, &out, &err));
  EXPECT_NE(err.find("unknown phase 'opne'"), std::string::npos) << err;
  EXPECT_NE(err.find("did you mean 'open'?"), std::string::npos) << err;
  EXPECT_NE(err.find("open, use, close"), std::string::npos) << err;
  EXPECT_FALSE(ParseSerialize("open,,use", {"open", "use", "close"}, &out, &err));
}

TEST(CheckParamNames, UnknownKeyNamesValidParameters) {
  WorkloadInfo info;
  info.name = "w";
  info.params = {{"sessions", "1", ""}, {"branch", "", ""}};
  std::string err;
  EXPECT_TRUE(CheckParamNames(info, Params(std::map<std::string, std::string>{{"sessions", "2"}}), &err));
  EXPECT_FALSE(CheckParamNames(info, Params(std::map<std::string, std::string>{{"sesions", "2"}}), &err));
  EXPECT_NE(err.find("unknown parameter 'sesions'"), std::string::npos) << err;
  EXPECT_NE(err.find("did you mean 'sessions'?"), std::string::npos) << err;
  EXPECT_NE(err.find("sessions, branch"), std::string::npos) << err;
}

TEST(Params, GetIntChecksRangeAndJunk) {
  Params p({{"n", "7"}, {"bad", "7x"}});
  long long v = 0;
  std::string err;
  ASSERT_TRUE(p.GetInt("n", 1, 1, 10, &v, &err));
  EXPECT_EQ(v, 7);
  ASSERT_TRUE(p.GetInt("missing", 3, 1, 10, &v, &err));
  EXPECT_EQ(v, 3);
  EXPECT_FALSE(p.GetInt("n", 1, 1, 5, &v, &err));
  EXPECT_NE(err.find("parameter 'n' must be an integer from 1 to 5"), std::string::npos) << err;
  EXPECT_FALSE(p.GetInt("bad", 1, 1, 10, &v, &err));
}

TEST(Params, GetDurationTakesUnits) {
  Params p({{"t", "250ms"}, {"bad", "fast"}});
  double v = 0;
  std::string err;
  ASSERT_TRUE(p.GetDuration("t", 5, &v, &err));
  EXPECT_DOUBLE_EQ(v, 0.25);
  EXPECT_FALSE(p.GetDuration("bad", 5, &v, &err));
  EXPECT_NE(err.find("'bad'"), std::string::npos) << err;
}

TEST(DefaultThreads, ReadsThreadCountEnvironment) {
  int n = 0;
  std::string err;
  ::setenv("THREAD_COUNT", "6", 1);
  ASSERT_TRUE(DefaultThreads(&n, &err));
  EXPECT_EQ(n, 6);
  ::setenv("THREAD_COUNT", "many", 1);
  EXPECT_FALSE(DefaultThreads(&n, &err));
  EXPECT_NE(err.find("THREAD_COUNT"), std::string::npos);
  ::unsetenv("THREAD_COUNT");
  ASSERT_TRUE(DefaultThreads(&n, &err));
  EXPECT_EQ(n, 1);
}

TEST(Runner, ThreadsStartTogetherAfterTheSlowestIsReady) {
  TestWorkload w({"work"});
  std::atomic<int64_t> last_ready_ns{0};
  std::mutex mu;
  std::vector<double> first_iteration(4, 0);
  std::vector<double> ready(4, 0);
  w.thread_init = [&](IterationContext& ctx, std::string*) {
    std::this_thread::sleep_for(std::chrono::milliseconds(60 * ctx.thread()));  // thread 3 is ready last
    std::lock_guard<std::mutex> lock(mu);
    ready[ctx.thread()] = MonotonicSeconds();
    return true;
  };
  w.iterate = [&](IterationContext& ctx) {
    if (ctx.iteration() == 0) {
      std::lock_guard<std::mutex> lock(mu);
      first_iteration[ctx.thread()] = MonotonicSeconds();
    }
    ctx.Phase("work", [](std::string*) {
      std::this_thread::sleep_for(1ms);
      return true;
    });
  };
  TrialResult m;
  std::string err;
  ASSERT_TRUE(RunWorkload(w, Options(4, 0.2), nullptr, &m, &err)) << err;
  double slowest_ready = *std::max_element(ready.begin(), ready.end());
  for (int i = 0; i < 4; ++i) EXPECT_GE(first_iteration[i], slowest_ready) << "thread " << i;
}

TEST(Runner, CountsIterationsPhasesAndSuccesses) {
  TestWorkload w({"a", "b"});
  w.iterate = [](IterationContext& ctx) {
    ctx.Phase("a", [](std::string*) { return true; });
    ctx.Phase("b", [](std::string*) {
      std::this_thread::sleep_for(200us);
      return true;
    });
    ctx.AddUnits(3);
  };
  w.info();
  TrialResult m;
  std::string err;
  ASSERT_TRUE(RunWorkload(w, Options(2, 0.3), nullptr, &m, &err)) << err;
  ASSERT_GT(m.iterations, 0);
  EXPECT_EQ(m.successes, m.iterations);
  EXPECT_EQ(m.errors, 0);
  ASSERT_EQ(m.phases.size(), 4u);  // setup, a, b, teardown
  EXPECT_EQ(m.phases[1].name, "a");
  EXPECT_EQ(m.phases[1].count, m.iterations);
  EXPECT_EQ(m.phases[2].count, m.iterations);
  EXPECT_GE(m.phases[2].p50_ms, 0.15);  // it sleeps 200 us
  EXPECT_GE(m.phases[2].p99_ms, m.phases[2].p50_ms);
  EXPECT_GE(m.phases[2].max_ms, m.phases[2].p99_ms);
  EXPECT_EQ(m.units, 3 * m.iterations);
  ASSERT_EQ(m.threads.size(), 2u);
  EXPECT_EQ(m.threads[0].iterations + m.threads[1].iterations, m.iterations);
  EXPECT_EQ(m.threads[0].phase, "done");
  EXPECT_GT(m.threads[0].tid, 0);
  EXPECT_NE(m.threads[0].tid, m.threads[1].tid);
}

TEST(Runner, BucketsErrorsByNormalizedMessage) {
  TestWorkload w({"open", "use"});
  w.iterate = [](IterationContext& ctx) {
    bool odd = ctx.iteration() % 2 == 1;
    if (!ctx.Phase("open", [&](std::string* err) {
          if (odd) *err = "session " + std::to_string(ctx.iteration()) + " failed at 0x7ffd1234";
          return !odd;
        }))
      return;
    ctx.Phase("use", [](std::string*) { return true; });
  };
  TrialResult m;
  std::string err;
  ASSERT_TRUE(RunWorkload(w, Options(1, 0.2), nullptr, &m, &err)) << err;
  ASSERT_GT(m.iterations, 2);
  EXPECT_EQ(m.successes + m.errors, m.iterations);
  EXPECT_EQ(m.errors, m.iterations / 2);
  ASSERT_EQ(m.error_buckets.size(), 1u);
  EXPECT_EQ(m.error_buckets[0].phase, "open");
  EXPECT_EQ(m.error_buckets[0].message, "session # failed at 0x#");
  EXPECT_EQ(m.error_buckets[0].count, m.errors);
  EXPECT_EQ(m.error_buckets[0].example, "session 1 failed at 0x7ffd1234");
  EXPECT_EQ(m.phases[2].count, m.iterations - m.errors);  // `use` skipped after a failed open
}

// Counts how many threads are inside each phase at once.
struct ConcurrencyProbe {
  std::atomic<int> inside[2] = {0, 0};
  std::atomic<int> max_inside[2] = {0, 0};
  void Run(IterationContext& ctx) {
    for (int p = 0; p < 2; ++p) {
      ctx.Phase(p == 0 ? "crit" : "free", [&](std::string*) {
        int now = ++inside[p];
        int seen = max_inside[p].load();
        while (now > seen && !max_inside[p].compare_exchange_weak(seen, now)) {}
        std::this_thread::sleep_for(300us);
        --inside[p];
        return true;
      });
    }
  }
};

TEST(Runner, SerializeKeepsNamedPhaseToOneThreadAtATime) {
  TestWorkload w({"crit", "free"});
  ConcurrencyProbe probe;
  w.iterate = [&](IterationContext& ctx) { probe.Run(ctx); };
  TrialResult m;
  std::string err;
  ASSERT_TRUE(RunWorkload(w, Options(4, 0.5, "crit"), nullptr, &m, &err)) << err;
  EXPECT_EQ(probe.max_inside[0].load(), 1);
  EXPECT_GT(probe.max_inside[1].load(), 1);  // the other phase still overlaps
}

TEST(Runner, WithoutSerializePhasesOverlap) {
  TestWorkload w({"crit", "free"});
  ConcurrencyProbe probe;
  w.iterate = [&](IterationContext& ctx) { probe.Run(ctx); };
  TrialResult m;
  std::string err;
  ASSERT_TRUE(RunWorkload(w, Options(4, 0.5, "none"), nullptr, &m, &err)) << err;
  EXPECT_GT(probe.max_inside[0].load(), 1);
}

TEST(Runner, SerializeAllKeepsEveryPhaseExclusive) {
  TestWorkload w({"crit", "free"});
  ConcurrencyProbe probe;
  w.iterate = [&](IterationContext& ctx) { probe.Run(ctx); };
  TrialResult m;
  std::string err;
  ASSERT_TRUE(RunWorkload(w, Options(4, 0.3, "all"), nullptr, &m, &err)) << err;
  EXPECT_EQ(probe.max_inside[0].load(), 1);
  EXPECT_EQ(probe.max_inside[1].load(), 1);
}

TEST(Runner, RejectsUnknownSerializePhase) {
  TestWorkload w({"crit", "free"});
  w.iterate = [](IterationContext&) {};
  TrialResult m;
  std::string err;
  EXPECT_FALSE(RunWorkload(w, Options(1, 0.1, "crit+nope"), nullptr, &m, &err));
  EXPECT_NE(err.find("'nope'"), std::string::npos) << err;
}

TEST(Runner, StatusBlockShowsEachThreadsPhaseWhileRunning) {
  TestWorkload w({"prepare", "blocked"});
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  w.iterate = [&](IterationContext& ctx) {
    ctx.Phase("prepare", [](std::string*) { return true; });
    ctx.Phase("blocked", [&](std::string*) {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return release; });
      return true;
    });
  };
  StatusBlock block;
  std::string err;
  int fd = StatusBlock::CreateFd(&err);
  ASSERT_GE(fd, 0) << err;
  ASSERT_TRUE(block.Map(fd, &err)) << err;
  // A second mapping of the same memfd, as the supervisor holds it.
  StatusBlock observer;
  ASSERT_TRUE(observer.Map(fd, &err)) << err;
  ::close(fd);

  TrialResult m;
  bool ok = false;
  std::thread runner([&] { ok = RunWorkload(w, Options(3, 0.1), &block, &m, &err); });
  std::vector<ThreadStatus> snap;
  for (int i = 0; i < 1000; ++i) {  // up to 10 s on a loaded machine
    snap = observer.Snapshot();
    if (snap.size() == 3 && std::all_of(snap.begin(), snap.end(), [](auto& s) { return s.phase == "blocked"; }))
      break;
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_EQ(snap.size(), 3u);
  for (const auto& s : snap) {
    EXPECT_EQ(s.phase, "blocked") << "thread " << s.index;
    EXPECT_GT(s.tid, 0);
    EXPECT_EQ(s.iterations, 0);
  }
  EXPECT_EQ(observer.header()->started.load(), 1);
  {
    std::lock_guard<std::mutex> lock(mu);
    release = true;
  }
  cv.notify_all();
  runner.join();
  ASSERT_TRUE(ok) << err;
  snap = observer.Snapshot();
  int64_t total = 0;
  for (const auto& s : snap) {
    EXPECT_EQ(s.phase, "done");
    EXPECT_GE(s.iterations, 1);
    total += s.iterations;
  }
  EXPECT_EQ(total, m.iterations);
}

TEST(Runner, StopsAtTheDeadline) {
  TestWorkload w({"tick"});
  w.iterate = [](IterationContext& ctx) {
    ctx.Phase("tick", [](std::string*) {
      std::this_thread::sleep_for(5ms);
      return true;
    });
  };
  TrialResult m;
  std::string err;
  double t0 = MonotonicSeconds();
  ASSERT_TRUE(RunWorkload(w, Options(2, 0.4), nullptr, &m, &err)) << err;
  double elapsed = MonotonicSeconds() - t0;
  EXPECT_GE(m.workload_seconds, 0.4);
  EXPECT_LT(elapsed, 2.5);  // generous for a loaded 2-core machine, far below "never stops"
  EXPECT_GT(m.iterations, 2);
}

TEST(Runner, ThreadInitFailureMeansCouldNotStart) {
  TestWorkload w({"tick"});
  w.thread_init = [](IterationContext& ctx, std::string* err) {
    if (ctx.thread() == 1) {
      *err = "no device";
      return false;
    }
    return true;
  };
  bool iterated = false;
  w.iterate = [&](IterationContext&) { iterated = true; };
  TrialResult m;
  std::string err;
  EXPECT_FALSE(RunWorkload(w, Options(3, 0.2), nullptr, &m, &err));
  EXPECT_NE(err.find("no device"), std::string::npos) << err;
  EXPECT_FALSE(iterated);
}

// A status block in a memfd with a second mapping of it, as the supervisor holds it.
struct SharedBlock {
  StatusBlock block, observer;
  bool Open(std::string* err) {
    int fd = StatusBlock::CreateFd(err);
    if (fd < 0) return false;
    bool ok = block.Map(fd, err) && observer.Map(fd, err);
    ::close(fd);
    return ok;
  }
  // Polls the observer until every one of `threads` threads shows `phase` (up to 10 s on a loaded machine).
  std::vector<ThreadStatus> WaitForAll(size_t threads, const std::string& phase) {
    std::vector<ThreadStatus> snap;
    for (int i = 0; i < 1000; ++i) {
      snap = observer.Snapshot();
      if (snap.size() == threads &&
          std::all_of(snap.begin(), snap.end(), [&](auto& s) { return s.phase == phase; }))
        break;
      std::this_thread::sleep_for(10ms);
    }
    return snap;
  }
};

// A gate threads wait at until the test opens it; gives up after 10 s so a failing test cannot hang.
class Gate {
 public:
  void Wait() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, 10s, [&] { return open_; });
  }
  void Open() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      open_ = true;
    }
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

TEST(Runner, StatusBlockShowsSetupDuringThreadInitAndTeardownDuringThreadDone) {
  TestWorkload w({"work"});
  Gate init_gate, done_gate;
  w.thread_init = [&](IterationContext&, std::string*) {
    init_gate.Wait();
    return true;
  };
  w.thread_done = [&](IterationContext&) { done_gate.Wait(); };
  w.iterate = [](IterationContext& ctx) {
    ctx.Phase("work", [](std::string*) {
      std::this_thread::sleep_for(1ms);
      return true;
    });
  };
  SharedBlock shared;
  std::string err;
  ASSERT_TRUE(shared.Open(&err)) << err;
  TrialResult m;
  bool ok = false;
  std::thread runner([&] { ok = RunWorkload(w, Options(3, 0.1), &shared.block, &m, &err); });

  std::vector<ThreadStatus> snap = shared.WaitForAll(3, "setup");
  bool started_during_setup = shared.observer.header()->started.load() != 0;
  init_gate.Open();
  std::vector<ThreadStatus> late = shared.WaitForAll(3, "teardown");
  done_gate.Open();
  runner.join();
  ASSERT_TRUE(ok) << err;

  ASSERT_EQ(snap.size(), 3u);
  for (const auto& s : snap) {
    EXPECT_EQ(s.phase, "setup") << "thread " << s.index;
    EXPECT_EQ(s.iterations, 0);
  }
  EXPECT_FALSE(started_during_setup);
  ASSERT_EQ(late.size(), 3u);
  for (const auto& s : late) {
    EXPECT_EQ(s.phase, "teardown") << "thread " << s.index;
    EXPECT_GE(s.iterations, 1);  // past its loop
  }
  for (const auto& s : shared.observer.Snapshot()) EXPECT_EQ(s.phase, "done");
}

TEST(Runner, SerializeSetupRunsOneThreadInitAtATime) {
  TestWorkload w({"work"});
  std::atomic<int> inside{0}, max_inside{0};
  w.thread_init = [&](IterationContext&, std::string*) {
    int now = ++inside;
    int seen = max_inside.load();
    while (now > seen && !max_inside.compare_exchange_weak(seen, now)) {}
    std::this_thread::sleep_for(40ms);
    --inside;
    return true;
  };
  w.iterate = [&](IterationContext& ctx) {
    ctx.Phase("work", [](std::string*) {
      std::this_thread::sleep_for(300us);
      return true;
    });
  };
  TrialResult m;
  std::string err;
  ASSERT_TRUE(RunWorkload(w, Options(4, 0.1, "setup"), nullptr, &m, &err)) << err;
  EXPECT_EQ(max_inside.load(), 1);
  ASSERT_EQ(m.phases.front().name, "setup");
  EXPECT_EQ(m.phases.front().count, 4);
}

TEST(Runner, WithoutSerializeThreadInitsOverlap) {
  TestWorkload w({"work"});
  std::atomic<int> inside{0}, max_inside{0};
  w.thread_init = [&](IterationContext&, std::string*) {
    int now = ++inside;
    int seen = max_inside.load();
    while (now > seen && !max_inside.compare_exchange_weak(seen, now)) {}
    // Stay until all four are in (bounded), which only threads running set-up concurrently can reach.
    for (int i = 0; i < 1000 && inside.load() < 4; ++i) std::this_thread::sleep_for(10ms);
    return true;
  };
  w.iterate = [](IterationContext&) {};
  TrialResult m;
  std::string err;
  ASSERT_TRUE(RunWorkload(w, Options(4, 0.05, "work"), nullptr, &m, &err)) << err;
  EXPECT_EQ(max_inside.load(), 4);
}

TEST(Runner, PhaseStatsIncludeSetupAndTeardown) {
  TestWorkload w({"work"});
  std::atomic<bool> stopping_in_setup{false};
  w.thread_init = [&](IterationContext& ctx, std::string*) {
    if (ctx.stopping()) stopping_in_setup = true;
    std::this_thread::sleep_for(20ms);
    return true;
  };
  w.thread_done = [](IterationContext&) { std::this_thread::sleep_for(30ms); };
  w.iterate = [](IterationContext& ctx) { ctx.Phase("work", [](std::string*) { return true; }); };
  TrialResult m;
  std::string err;
  ASSERT_TRUE(RunWorkload(w, Options(3, 0.1), nullptr, &m, &err)) << err;
  ASSERT_EQ(m.phases.size(), 3u);
  EXPECT_EQ(m.phases[0].name, "setup");
  EXPECT_EQ(m.phases[0].count, 3);
  EXPECT_GE(m.phases[0].p50_ms, 19);
  EXPECT_EQ(m.phases[1].name, "work");
  EXPECT_EQ(m.phases[1].count, m.iterations);
  EXPECT_EQ(m.phases[2].name, "teardown");
  EXPECT_EQ(m.phases[2].count, 3);
  EXPECT_GE(m.phases[2].max_ms, 29);
  EXPECT_FALSE(stopping_in_setup.load());  // the deadline is not set before the barrier
  EXPECT_EQ(m.errors, 0);
}

TEST(Runner, PhasesInsideThreadInitNestUnderTheHeldSerializeLock) {
  TestWorkload w({"open", "use"});
  SharedBlock shared;
  std::string err;
  ASSERT_TRUE(shared.Open(&err)) << err;
  std::mutex mu;
  std::vector<std::string> seen;  // thread 0: its phase inside the nested one, then after it
  w.thread_init = [&](IterationContext& ctx, std::string* e) {
    bool ok = ctx.Phase("open", [&](std::string*) {
      if (ctx.thread() == 0) {
        std::lock_guard<std::mutex> lock(mu);
        seen.push_back(shared.observer.Snapshot()[0].phase);
      }
      return true;
    });
    if (ctx.thread() == 0) {
      std::lock_guard<std::mutex> lock(mu);
      seen.push_back(shared.observer.Snapshot()[0].phase);
    }
    return ok;
  };
  w.iterate = [](IterationContext& ctx) { ctx.Phase("use", [](std::string*) { return true; }); };
  TrialResult m;
  // "all" covers setup and open: the nested open must not wait for the lock its own thread holds.
  ASSERT_TRUE(RunWorkload(w, Options(2, 0.1, "all"), &shared.block, &m, &err)) << err;
  EXPECT_EQ(seen, (std::vector<std::string>{"open", "setup"}));
  EXPECT_EQ(m.phases[1].name, "open");
  EXPECT_EQ(m.phases[1].count, 2);
}

TEST(ParseSerialize, AcceptsSetupAndTeardownOfEveryWorkload) {
  std::vector<std::string> out;
  std::string err;
  ASSERT_TRUE(ParseSerialize("setup", WithSetupAndTeardown({"open", "close"}), &out, &err)) << err;
  EXPECT_EQ(out, (std::vector<std::string>{"setup"}));
  ASSERT_TRUE(ParseSerialize("teardown+open", WithSetupAndTeardown({"open", "close"}), &out, &err)) << err;
  EXPECT_EQ(out, (std::vector<std::string>{"open", "teardown"}));
}

TEST(WorkloadResultJson, CarriesSchemaAndMetrics) {
  TrialResult m;
  m.iterations = 5;
  m.errors = 1;
  m.phases.push_back({"open", 5, 1, 2, 3});
  m.stdout_tail = "not part of the workload result";
  auto j = WorkloadResultJson("reference-race", "sessions=2", m);
  EXPECT_EQ(j["schema_version"], 1);
  EXPECT_EQ(j["workload"], "reference-race");
  EXPECT_EQ(j["detail"], "sessions=2");
  EXPECT_EQ(j["iterations"], 5);
  EXPECT_EQ(j["phases"][0]["name"], "open");
  EXPECT_FALSE(j.contains("stdout_tail"));
  EXPECT_FALSE(j.contains("could_not_start"));
  EXPECT_EQ(CouldNotStartJson("no GPU")["could_not_start"], "no GPU");
}

}  // namespace
}  // namespace cg

// RunSweep end to end with a fake trial runner (no processes) and a real store in a temp dir: resuming after a
// kill at every step, the --jobs pool, Ctrl-C, verdicts reaching the observer, the stored settings.
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "store/store.h"
#include "sweep/amplify.h"
#include "sweep/sweep.h"

namespace cg {
namespace {

namespace fs = std::filesystem;

TrialResult Clean() {
  TrialResult r;
  r.outcome = Outcome::kClean;
  return r;
}

// Answers each trial with `script(cell key, call number)`; the cell comes from the trial's environment (an
// --exec sweep passes each axis as a variable). Counts calls and the trials in flight.
class FakeRunner : public TrialRunner {
 public:
  using Script = std::function<TrialResult(const std::string& cell_key, int call)>;
  explicit FakeRunner(std::vector<std::string> axes, Script script = nullptr)
      : axes_(std::move(axes)), script_(std::move(script)) {}

  TrialResult Run(const TrialSpec& spec, const std::atomic<bool>*) override {
    Cell cell;
    for (const auto& axis : axes_)
      for (const auto& [k, v] : spec.env)
        if (k == axis) cell.emplace_back(k, v);
    std::string key = CellKey(cell);
    int call;
    {
      std::lock_guard<std::mutex> lock(mu_);
      call = calls_++;
      ran_[key]++;
      in_flight_++;
      max_in_flight_ = std::max(max_in_flight_, in_flight_);
    }
    cv_.notify_all();
    TrialResult r = script_ ? script_(key, call) : Clean();
    if (r.duration_s == 0) r.duration_s = 0.5;
    if (r.detail.empty()) r.detail = "call " + std::to_string(call);
    {
      std::lock_guard<std::mutex> lock(mu_);
      in_flight_--;
    }
    cv_.notify_all();
    return r;
  }

  // Waits (at most 20 s, so that a broken pool fails the test instead of hanging it) until `pred` holds.
  bool WaitFor(const std::function<bool(int in_flight, int calls)>& pred) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(20), [&] { return pred(in_flight_, calls_); });
  }
  int calls() const { return calls_; }
  int max_in_flight() const { return max_in_flight_; }
  std::map<std::string, int> ran() const { return ran_; }

 private:
  std::vector<std::string> axes_;
  Script script_;
  std::mutex mu_;
  std::condition_variable cv_;
  int calls_ = 0;
  int in_flight_ = 0;
  int max_in_flight_ = 0;
  std::map<std::string, int> ran_;
};

// What the observer saw: each finished trial's cell and that cell's verdict at that moment.
class RecordingObserver : public ProgressObserver {
 public:
  void OnTrialFinished(const SweepProgress& p, size_t cell, const TrialResult&) override {
    seen.emplace_back(CellKey(p.cells[cell]), p.cell_verdict[cell]);
    last_done = p.done;
    last_total = p.total;
  }
  void OnFinish(const SweepProgress& p, bool) override { final_verdicts = p.cell_verdict; }
  std::vector<std::pair<std::string, std::string>> seen;
  std::vector<std::string> final_verdicts;
  int64_t last_done = 0, last_total = 0;
};

class SweepTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           (std::string("cg_sweep_test_") + std::to_string(getpid()) + "_" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    Reopen();
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }
  // A fresh connection, as a new crashgrid process after a kill would open.
  void Reopen() {
    store_.reset();
    std::string err;
    int code = 0;
    store_ = Store::Open((dir_ / "s.db").string(), Store::Mode::kCreate, &err, &code);
    ASSERT_TRUE(store_) << err;
  }

  static SweepOptions Options(int cells, int64_t runs) {
    SweepOptions o;
    o.exec_argv = {"/bin/true"};
    GridAxis x{"X", {}};
    for (int i = 0; i < cells; ++i) x.values.push_back(std::to_string(i));
    o.grid = {x};
    o.runs = runs;
    o.duration_s = 1;
    o.seed = 99;
    return o;
  }

  bool Sweep(const SweepOptions& o, TrialRunner* runner, SweepOutcome* out, ProgressObserver* observer = nullptr,
             const std::atomic<bool>* stop = nullptr, const std::atomic<bool>* abort_now = nullptr) {
    static const std::atomic<bool> never{false};
    SweepIo io;
    io.store = store_.get();
    io.runner = runner;
    io.observer = observer;
    io.self_exe = "/nonexistent/crashgrid";
    io.fingerprint = [] { return nlohmann::json{{"host", "test"}}; };
    std::string err;
    bool ok = RunSweep(o, io, stop ? stop : &never, abort_now ? abort_now : &never, out, &err);
    EXPECT_TRUE(ok) << err;
    return ok;
  }

  std::vector<RunRecord> Runs() {
    std::vector<RunRecord> runs;
    std::string err;
    EXPECT_TRUE(store_->LoadRuns(&runs, &err)) << err;
    return runs;
  }
  std::vector<StoredTrial> Trials(int64_t run_id) {
    std::vector<StoredTrial> trials;
    std::string err;
    EXPECT_TRUE(store_->LoadTrials(run_id, /*full=*/false, &trials, &err)) << err;
    return trials;
  }

  fs::path dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(SweepTest, RecordsEveryTrialOfEveryCellOnceAndFinishesTheRun) {
  FakeRunner runner({"X"});
  SweepOutcome out;
  ASSERT_TRUE(Sweep(Options(4, 3), &runner, &out));
  EXPECT_EQ(runner.calls(), 12);
  EXPECT_EQ(out.trials_run, 12);
  EXPECT_EQ(out.trials_total, 12);
  EXPECT_FALSE(out.resumed);
  EXPECT_FALSE(out.interrupted);
  auto runs = Runs();
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_TRUE(runs[0].finished);
  EXPECT_EQ(runs[0].environment["host"], "test");
  std::set<std::pair<std::string, int>> seen;
  for (const auto& t : Trials(runs[0].id)) EXPECT_TRUE(seen.insert({t.cell_key, t.repetition}).second);
  EXPECT_EQ(seen.size(), 12u);
}

// Kill the sweep after k trials for every k (the trial in flight then is lost with the process: here it is
// discarded by abort_now), open the database again and resume: nothing recorded runs again, nothing is lost,
// repetitions continue, and the run row is the same one.
TEST_F(SweepTest, ResumeAfterAKillAtEveryStepRunsEachTrialExactlyOnce) {
  const int kCells = 3, kRuns = 3, kTotal = kCells * kRuns;
  for (int k = 0; k < kTotal; ++k) {
    SCOPED_TRACE("killed after " + std::to_string(k) + " trials");
    store_.reset();
    fs::remove(dir_ / "s.db");
    Reopen();
    std::atomic<bool> stop{false}, abort_now{false};
    FakeRunner first({"X"}, [&](const std::string&, int call) {
      if (call == k) {
        stop = true;
        abort_now = true;
      }
      return Clean();
    });
    SweepOutcome out1;
    ASSERT_TRUE(Sweep(Options(kCells, kRuns), &first, &out1, nullptr, &stop, &abort_now));
    EXPECT_TRUE(out1.interrupted);
    EXPECT_EQ(out1.trials_run, k);
    EXPECT_EQ(out1.trials_total, k);
    std::map<std::string, int> recorded;
    for (const auto& t : Trials(out1.run_id)) recorded[t.cell_key]++;

    Reopen();
    FakeRunner second({"X"});
    SweepOutcome out2;
    ASSERT_TRUE(Sweep(Options(kCells, kRuns), &second, &out2));
    EXPECT_TRUE(out2.resumed);
    EXPECT_EQ(out2.run_id, out1.run_id);
    EXPECT_EQ(Runs().size(), 1u) << "the run row is reused";
    EXPECT_EQ(out2.trials_run, kTotal - k);
    EXPECT_EQ(out2.trials_total, kTotal);
    for (const auto& [cell, n] : second.ran())
      EXPECT_EQ(n, kRuns - recorded[cell]) << cell << ": only what was not recorded runs";
    std::set<std::pair<std::string, int>> seen;
    for (const auto& t : Trials(out1.run_id)) {
      EXPECT_TRUE(seen.insert({t.cell_key, t.repetition}).second) << t.cell_key << " #" << t.repetition;
      EXPECT_LT(t.repetition, kRuns);
    }
    EXPECT_EQ(seen.size(), static_cast<size_t>(kTotal));
  }
}

TEST_F(SweepTest, MoreRunsExtendTheSameSweepWithTheNextRepetitions) {
  FakeRunner runner({"X"});
  SweepOutcome out;
  ASSERT_TRUE(Sweep(Options(2, 2), &runner, &out));
  SweepOutcome more;
  ASSERT_TRUE(Sweep(Options(2, 5), &runner, &more));
  EXPECT_TRUE(more.resumed);
  EXPECT_EQ(more.run_id, out.run_id);
  EXPECT_EQ(more.trials_run, 6);
  std::map<std::string, std::set<int>> reps;
  for (const auto& t : Trials(out.run_id)) reps[t.cell_key].insert(t.repetition);
  for (const auto& [cell, r] : reps) EXPECT_EQ(r, (std::set<int>{0, 1, 2, 3, 4})) << cell;
  EXPECT_EQ(Runs()[0].runs, 5);
}

TEST_F(SweepTest, AnotherDurationIsAnotherSweep) {
  FakeRunner runner({"X"});
  SweepOutcome a, b;
  ASSERT_TRUE(Sweep(Options(2, 1), &runner, &a));
  SweepOptions o = Options(2, 1);
  o.duration_s = 2;
  ASSERT_TRUE(Sweep(o, &runner, &b));
  EXPECT_FALSE(b.resumed);
  EXPECT_NE(a.run_id, b.run_id);
}

TEST_F(SweepTest, TheRoundOrderComesFromTheSeed) {
  // `sweep` tells the sweeps apart in the one database (by their grace, part of the key).
  auto order = [&](uint64_t seed, int sweep) {
    std::vector<std::string> cells;
    std::mutex mu;
    FakeRunner runner({"X"}, [&](const std::string& key, int) {
      std::lock_guard<std::mutex> lock(mu);
      cells.push_back(key);
      return Clean();
    });
    SweepOptions o = Options(6, 2);
    o.seed = seed;
    o.grace_s = sweep;
    SweepOutcome out;
    EXPECT_TRUE(Sweep(o, &runner, &out));
    return cells;
  };
  auto a = order(5, 1), b = order(5, 2), c = order(6, 3);
  ASSERT_EQ(a.size(), 12u);
  EXPECT_EQ(a, b) << "the same seed gives the same order";
  EXPECT_NE(a, c) << "another seed another";
  std::vector<std::string> first(a.begin(), a.begin() + 6), second(a.begin() + 6, a.end());
  EXPECT_NE(first, second) << "each round has its own order";
  std::set<std::string> first_set(first.begin(), first.end());
  EXPECT_EQ(first_set.size(), 6u) << "a round runs every cell once";
}

TEST_F(SweepTest, TheJobsPoolNeverRunsMoreThanJobsAndFillsThem) {
  std::unique_ptr<FakeRunner> runner;
  runner = std::make_unique<FakeRunner>(std::vector<std::string>{"X"}, [&](const std::string&, int call) {
    // The first three trials wait for each other: the pool must have started three at once.
    if (call < 3) runner->WaitFor([](int in_flight, int calls) { return in_flight >= 3 || calls > 3; });
    return Clean();
  });
  SweepOptions o = Options(8, 2);
  o.jobs = 3;
  SweepOutcome out;
  ASSERT_TRUE(Sweep(o, runner.get(), &out));
  EXPECT_EQ(runner->max_in_flight(), 3);
  EXPECT_EQ(out.trials_run, 16);
  EXPECT_EQ(Trials(out.run_id).size(), 16u);
}

// Ctrl-C once: no trial starts after it, and those in flight finish and are recorded.
TEST_F(SweepTest, StopStartsNoNewTrialAndRecordsThoseInFlight) {
  std::atomic<bool> stop{false};
  std::unique_ptr<FakeRunner> runner;
  runner = std::make_unique<FakeRunner>(std::vector<std::string>{"X"}, [&](const std::string&, int call) {
    if (call == 2) {  // with call 3 in flight (not call 1, which may not have finished yet), Ctrl-C
      runner->WaitFor([](int in_flight, int calls) { return calls >= 4 && in_flight >= 2; });
      stop = true;
    }
    if (call == 3) runner->WaitFor([&](int, int) { return stop.load(); });
    return Clean();
  });
  SweepOptions o = Options(8, 3);  // Ctrl-C in the middle of the first round
  o.jobs = 2;
  SweepOutcome out;
  ASSERT_TRUE(Sweep(o, runner.get(), &out, nullptr, &stop));
  EXPECT_TRUE(out.interrupted);
  EXPECT_EQ(runner->calls(), 4) << "the two in flight at Ctrl-C (calls 2 and 3), and none after";
  EXPECT_EQ(out.trials_run, 4) << "both trials in flight at Ctrl-C are recorded";
  EXPECT_EQ(Trials(out.run_id).size(), 4u);
  EXPECT_FALSE(Runs()[0].finished);
}

// Ctrl-C twice: the trials in flight are discarded, never recorded half-done.
TEST_F(SweepTest, AbortNowDiscardsTheTrialsInFlight) {
  std::atomic<bool> stop{false}, abort_now{false};
  std::unique_ptr<FakeRunner> runner;
  runner = std::make_unique<FakeRunner>(std::vector<std::string>{"X"}, [&](const std::string&, int call) {
    TrialResult r;
    r.outcome = Outcome::kCrashed;
    r.signal = 11;
    if (call == 2) {
      runner->WaitFor([](int in_flight, int) { return in_flight >= 2; });
      stop = true;
      abort_now = true;
    }
    if (call == 3) runner->WaitFor([&](int, int) { return abort_now.load(); });
    return r;
  });
  SweepOptions o = Options(8, 3);
  o.jobs = 2;
  SweepOutcome out;
  ASSERT_TRUE(Sweep(o, runner.get(), &out, nullptr, &stop, &abort_now));
  EXPECT_TRUE(out.interrupted);
  EXPECT_EQ(runner->calls(), 4);
  EXPECT_EQ(out.trials_run, 2);
  std::vector<StoredTrial> trials = Trials(out.run_id);
  ASSERT_EQ(trials.size(), 2u);
  std::set<std::string> details;
  for (const auto& t : trials) {
    EXPECT_EQ(t.result.outcome, Outcome::kCrashed);
    EXPECT_EQ(t.result.signal, 11);
    details.insert(t.result.detail);
  }
  EXPECT_EQ(details, (std::set<std::string>{"call 0", "call 1"})) << "only trials that ended before the abort";
}

// A signal (SIGTERM, SIGHUP, Ctrl-C: cmd_sweep sets stop and abort_now together): the trials in flight are
// cancelled and discarded, those finished stay, the run is not finished, and resuming runs exactly the rest:
// every cell ends with --runs trials, repetitions 0..runs-1 once each, the discarded ones run again.
TEST_F(SweepTest, ASignalDiscardsTheTrialsInFlightAndResumeRunsExactlyTheRest) {
  std::atomic<bool> stop{false}, abort_now{false};
  std::unique_ptr<FakeRunner> runner;
  std::atomic<int> cancelled{0};
  runner = std::make_unique<FakeRunner>(std::vector<std::string>{"X"}, [&](const std::string&, int call) {
    if (call == 5) {  // the signal, with calls 4 and 5 in flight
      runner->WaitFor([](int in_flight, int) { return in_flight >= 2; });
      stop = true;
      abort_now = true;
    }
    if (call == 4 || call == 5) {
      runner->WaitFor([&](int, int) { return abort_now.load(); });
      cancelled++;  // what the supervisor returns for a cancelled trial: it is never recorded
      TrialResult r;
      r.outcome = Outcome::kHung;
      return r;
    }
    return Clean();
  });
  SweepOptions o = Options(3, 4);
  o.jobs = 2;
  SweepOutcome out;
  ASSERT_TRUE(Sweep(o, runner.get(), &out, nullptr, &stop, &abort_now));
  EXPECT_TRUE(out.interrupted);
  EXPECT_EQ(cancelled.load(), 2);
  EXPECT_EQ(out.trials_run, 4);
  EXPECT_EQ(Trials(out.run_id).size(), 4u);
  for (const auto& t : Trials(out.run_id)) EXPECT_EQ(t.result.outcome, Outcome::kClean) << "a cancelled trial";
  EXPECT_FALSE(Runs()[0].finished);

  Reopen();
  FakeRunner rest({"X"});
  SweepOutcome resumed;
  ASSERT_TRUE(Sweep(o, &rest, &resumed));
  EXPECT_TRUE(resumed.resumed);
  EXPECT_EQ(resumed.run_id, out.run_id);
  EXPECT_EQ(rest.calls(), 8) << "12 trials in all, 4 recorded before the signal";
  std::map<std::string, std::set<int>> reps;
  for (const auto& t : Trials(out.run_id)) EXPECT_TRUE(reps[t.cell_key].insert(t.repetition).second) << t.cell_key;
  ASSERT_EQ(reps.size(), 3u);
  for (const auto& [cell, set] : reps) EXPECT_EQ(set, (std::set<int>{0, 1, 2, 3})) << cell;
  EXPECT_TRUE(Runs()[0].finished);
}

// --until decided with alpha = 0.01, beta = 0.2 (see scheduler_test.cc: 17 clean runs to SAFE, 2 crashes to
// CRASHES; swapped, 46 and 1). The verdicts reach the observer as they are reached, and the settings are stored
// with alpha and beta in their places.
TEST_F(SweepTest, DecidedSweepStopsEachCellAtItsVerdictAndTheObserverSeesIt) {
  FakeRunner runner({"X"}, [](const std::string& key, int) {
    TrialResult r;
    r.outcome = key == "X=1" ? Outcome::kCrashed : Outcome::kClean;
    return r;
  });
  SweepOptions o = Options(2, 100);
  o.stopping.until = StoppingSettings::Until::kDecided;
  o.stopping.sprt = SprtParams{0.01, 0.10, 0.01, 0.20};
  RecordingObserver observer;
  SweepOutcome out;
  ASSERT_TRUE(Sweep(o, &runner, &out, &observer));
  EXPECT_EQ(runner.ran()["X=0"], 17);
  EXPECT_EQ(runner.ran()["X=1"], 2);
  std::vector<std::string> v0, v1;
  for (const auto& [cell, verdict] : observer.seen) (cell == "X=0" ? v0 : v1).push_back(verdict);
  ASSERT_EQ(v0.size(), 17u);
  ASSERT_EQ(v1.size(), 2u);
  EXPECT_EQ(v0[15], "");
  EXPECT_EQ(v0[16], "SAFE");
  EXPECT_EQ(v1[0], "");
  EXPECT_EQ(v1[1], "CRASHES");
  EXPECT_EQ(observer.final_verdicts, (std::vector<std::string>{"SAFE", "CRASHES"}));
  EXPECT_EQ(observer.last_done, 19);
  EXPECT_EQ(observer.last_total, 19);

  StoppingSettings stored;
  std::string err;
  ASSERT_TRUE(ParseStoppingSettings(Runs()[0].settings, &stored, &err)) << err;
  EXPECT_EQ(stored.until, StoppingSettings::Until::kDecided);
  EXPECT_DOUBLE_EQ(stored.sprt.alpha, 0.01);
  EXPECT_DOUBLE_EQ(stored.sprt.beta, 0.20);
}

// A cell that reached CRASHES at 2/2 and was then refined keeps CRASHES at 2/2 in the store, with the trial
// that decided it; the final counts (2/12) are evidence beside it, not a new verdict.
TEST_F(SweepTest, TheVerdictIsStoredWhereTheSprtDecidedAndRefinementDoesNotChangeIt) {
  auto x1_calls = std::make_shared<int>(0);
  FakeRunner runner({"X"}, [x1_calls](const std::string& key, int) {
    TrialResult r;
    r.outcome = key == "X=1" && (*x1_calls)++ < 2 ? Outcome::kCrashed : Outcome::kClean;
    return r;
  });
  SweepOptions o = Options(2, 40);
  o.stopping.until = StoppingSettings::Until::kDecided;
  o.stopping.refine = true;
  o.stopping.refine_budget = 10;
  SweepOutcome out;
  ASSERT_TRUE(Sweep(o, &runner, &out));
  EXPECT_EQ(runner.ran()["X=0"], 31);  // SAFE at 0/31, settled
  EXPECT_EQ(runner.ran()["X=1"], 12);  // CRASHES at 2/2, then the whole refinement budget
  std::vector<CellVerdict> verdicts;
  std::string err;
  ASSERT_TRUE(store_->LoadCellVerdicts(out.run_id, &verdicts, &err)) << err;
  ASSERT_EQ(verdicts.size(), 2u);
  EXPECT_EQ(verdicts[0].cell_key, "X=0");
  EXPECT_EQ(verdicts[0].verdict, "SAFE");
  EXPECT_EQ(verdicts[0].evidence, 31);
  EXPECT_EQ(verdicts[1].cell_key, "X=1");
  EXPECT_EQ(verdicts[1].rule, "sprt");
  EXPECT_EQ(verdicts[1].verdict, "CRASHES");
  EXPECT_EQ(verdicts[1].crashes, 2);
  EXPECT_EQ(verdicts[1].evidence, 2);
  // The trial that decided it is X=1's second one.
  int64_t second = 0;
  for (const StoredTrial& t : Trials(out.run_id))
    if (t.cell_key == "X=1" && t.repetition == 1) second = t.id;
  EXPECT_EQ(verdicts[1].last_trial_id, second);

  // Resuming with a larger budget adds evidence again, and still no second verdict.
  o.stopping.refine_budget = 20;
  ASSERT_TRUE(Sweep(o, &runner, &out));
  ASSERT_TRUE(store_->LoadCellVerdicts(out.run_id, &verdicts, &err)) << err;
  ASSERT_EQ(verdicts.size(), 2u);
  EXPECT_EQ(verdicts[1].evidence, 2);
}

TEST_F(SweepTest, TheReferenceTargetFlagComesFromThePlan) {
  FakeRunner runner({});
  SweepOptions o = Options(1, 1);
  o.grid.clear();
  o.exec_argv.clear();
  o.workload = "reference-race";
  o.reference_target = true;
  SweepOutcome out;
  ASSERT_TRUE(Sweep(o, &runner, &out));
  EXPECT_TRUE(Runs()[0].reference_target);
  EXPECT_EQ(Runs()[0].workload_detail, "call 0") << "the first detail of a built-in workload is kept";
}

TEST_F(SweepTest, CellsThatCouldNotStartAreReportedAndNotRetried) {
  FakeRunner runner({"X"}, [](const std::string& key, int) {
    TrialResult r;
    r.outcome = key == "X=0" ? Outcome::kCouldNotStart : Outcome::kClean;
    r.detail = key == "X=0" ? "no such device" : "";
    return r;
  });
  SweepOutcome out;
  ASSERT_TRUE(Sweep(Options(2, 3), &runner, &out));
  EXPECT_EQ(runner.ran()["X=0"], 1);
  EXPECT_EQ(runner.ran()["X=1"], 3);
  EXPECT_EQ(out.cells_unrunnable, 1);
  EXPECT_EQ(out.cells_total, 2);
  EXPECT_EQ(out.unrunnable_reason, "no such device");
}

TEST_F(SweepTest, GpusRunEachRoundOnEveryGpuWithItsEnvironmentAndRecordTheGpu) {
  SweepOptions o = Options(3, 4);
  o.gpus = {GpuSlot{0, "GPU-a", "A"}, GpuSlot{2, "GPU-c", "C"}};
  std::mutex mu;
  std::vector<std::pair<std::string, std::string>> seen;  // (cell, CUDA_VISIBLE_DEVICES) in start order
  FakeRunner runner({"X"}, [](const std::string&, int) { return Clean(); });
  struct Spy : TrialRunner {
    TrialRunner* inner;
    std::mutex* mu;
    std::vector<std::pair<std::string, std::string>>* seen;
    TrialResult Run(const TrialSpec& spec, const std::atomic<bool>* a) override {
      std::string x, dev, uuid;
      for (const auto& [k, v] : spec.env) {
        if (k == "X") x = v;
        if (k == "CUDA_VISIBLE_DEVICES") dev = v;
        if (k == "CRASHGRID_GPU_UUID") uuid = v;
      }
      EXPECT_EQ(uuid, dev == "0" ? "GPU-a" : "GPU-c");
      {
        std::lock_guard<std::mutex> lock(*mu);
        seen->emplace_back(x, dev);
      }
      return inner->Run(spec, a);
    }
  } spy;
  spy.inner = &runner;
  spy.mu = &mu;
  spy.seen = &seen;
  SweepOutcome out;
  ASSERT_TRUE(Sweep(o, &spy, &out));
  ASSERT_EQ(seen.size(), 12u);  // 4 a cell: 2 rounds x 2 GPUs
  // Each round (6 trials in start order: a round starts when the last one ended) has every (cell, GPU) once.
  for (size_t round = 0; round < 2; ++round) {
    std::set<std::pair<std::string, std::string>> pairs(seen.begin() + round * 6, seen.begin() + round * 6 + 6);
    EXPECT_EQ(pairs.size(), 6u) << "round " << round;
  }
  std::vector<StoredTrial> trials;
  std::string err;
  ASSERT_TRUE(store_->LoadTrials(out.run_id, false, &trials, &err)) << err;
  std::map<std::pair<std::string, int>, int> per;
  for (const auto& t : trials) {
    EXPECT_EQ(t.result.gpu_uuid, t.result.gpu_index == 0 ? "GPU-a" : "GPU-c");
    per[{t.cell_key, t.result.gpu_index}]++;
  }
  EXPECT_EQ(per.size(), 6u);
  for (const auto& [k, n] : per) EXPECT_EQ(n, 2) << k.first << " on " << k.second;
}

TEST_F(SweepTest, AShardRunsOnlyItsCellsAndRecordsItsShard) {
  SweepOptions o = Options(5, 2);
  o.shard = Shard{1, 2};
  FakeRunner runner({"X"});
  SweepOutcome out;
  ASSERT_TRUE(Sweep(o, &runner, &out));
  EXPECT_EQ(runner.ran(), (std::map<std::string, int>{{"X=1", 2}, {"X=3", 2}}));
  RunRecord run;
  std::string err;
  ASSERT_TRUE(store_->LoadRun(out.run_id, &run, &err)) << err;
  EXPECT_EQ(run.shard, "1/2");
  EXPECT_EQ(run.sweep_key, SweepKey(o));
}

// --amplify: each trial's CRASHGRID_AMPLIFY_SEED is derived from the uid it is then recorded under (the rule
// `show` and docs/db.md state), amplified and plain trials are different cells of one run or different runs.
class AmplifyEchoRunner : public TrialRunner {
 public:
  TrialResult Run(const TrialSpec& spec, const std::atomic<bool>*) override {
    TrialResult r = Clean();
    r.duration_s = 0.5;
    std::string amplify = "-", seed = "-";
    for (const auto& [k, v] : spec.env) {
      if (k == "CRASHGRID_AMPLIFY") amplify = v;
      if (k == "CRASHGRID_AMPLIFY_SEED") seed = v;
    }
    r.detail = amplify + " " + seed;
    return r;
  }
};

TEST_F(SweepTest, AmplifyAxisMakesCellsAndEachSeedComesFromTheRecordedUid) {
  SweepOptions o = Options(1, 3);
  o.grid.push_back({"amplify", {"off", "on"}});
  AmplifyEchoRunner runner;
  SweepOutcome out;
  ASSERT_TRUE(Sweep(o, &runner, &out));
  auto runs = Runs();
  ASSERT_EQ(runs.size(), 1u);
  std::map<std::string, int> per_cell;
  for (const auto& t : Trials(runs[0].id)) {
    per_cell[t.cell_key]++;
    if (t.cell_key.find("amplify=on") != std::string::npos) {
      EXPECT_EQ(t.result.detail, "0.1 " + fmt::format("{:016x}", AmplifySeed(t.uid))) << t.cell_key;
    } else {
      EXPECT_EQ(t.result.detail, "- -") << t.cell_key;
    }
  }
  EXPECT_EQ(per_cell, (std::map<std::string, int>{{"X=0,amplify=off", 3}, {"X=0,amplify=on", 3}}));
}

TEST_F(SweepTest, AmplifiedSweepNeverContinuesAPlainRun) {
  AmplifyEchoRunner runner;
  SweepOutcome out;
  ASSERT_TRUE(Sweep(Options(2, 2), &runner, &out));
  SweepOptions amplified = Options(2, 2);
  amplified.params["amplify"] = "on";
  ASSERT_TRUE(Sweep(amplified, &runner, &out));
  EXPECT_FALSE(out.resumed);
  auto runs = Runs();
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_NE(runs[0].sweep_key, runs[1].sweep_key);
  for (const auto& t : Trials(runs[0].id)) EXPECT_EQ(t.result.detail, "- -");
  for (const auto& t : Trials(runs[1].id)) EXPECT_EQ(t.result.detail.substr(0, 4), "0.1 ");
  // --resume with the amplified options finds no run of that sweep to continue when only the plain one exists.
  store_.reset();
  fs::remove(dir_ / "s.db");
  Reopen();
  ASSERT_TRUE(Sweep(Options(2, 2), &runner, &out));
  amplified.resume = true;
  SweepIo io;
  io.store = store_.get();
  io.runner = &runner;
  io.self_exe = "/nonexistent/crashgrid";
  io.fingerprint = [] { return nlohmann::json{{"host", "test"}}; };
  static const std::atomic<bool> never{false};
  std::string err;
  EXPECT_FALSE(RunSweep(amplified, io, &never, &never, &out, &err));
  EXPECT_EQ(Runs().size(), 1u) << "a refused resume starts nothing";
}

}  // namespace
}  // namespace cg

// The sweep core alone: RunSweep (scheduler, executor, recorder, progress) with a fake trial runner that ends
// every trial at once, so what is measured is crashgrid's own cost per trial on top of the supervisor. The rate
// is of the trial loop (OnStart to OnFinish); the set-up before it (the run row, the recorded counts) is
// printed apart.
//
// usage:
//   sweep_core_bench core [DIR] [ROUNDS] [RESUMED_TRIALS] [REPEATS]
//       a 12x12 grid, ROUNDS rounds (default 70: 10,080 trials) on a fresh store, and the same number of trials
//       resumed on a store already holding RESUMED_TRIALS (default 100,000) of the sweep (written with
//       Store::InsertTrials); interleaved REPEATS (default 3) times; prints trials/s of each.
//       DIR (default /dev/shm or /tmp) holds the databases: on tmpfs fdatasync is free, so the store's per-trial
//       commit costs only its SQLite work.
//   sweep_core_bench fill DB PER_CELL
//       adds PER_CELL trials per cell (clean, repetitions after the recorded ones) to the last run in DB: makes a
//       big database for resuming a real `crashgrid sweep` without running its trials.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>

#include "store/store.h"
#include "sweep/sweep.h"

namespace cg {
namespace {

namespace fs = std::filesystem;

class InstantRunner : public TrialRunner {
 public:
  TrialResult Run(const TrialSpec&, const std::atomic<bool>*) override {
    TrialResult r;
    r.outcome = Outcome::kClean;
    r.duration_s = 0.001;
    r.time_to_outcome_s = 0.001;
    return r;
  }
};

// Counts what the live grid would be given, so the observer's calls are not optimised away.
// It also times the loop alone: from OnStart (the run row is open and the recorded counts are read) to OnFinish.
class CountingObserver : public ProgressObserver {
 public:
  void OnStart(const SweepProgress&) override { start = std::chrono::steady_clock::now(); }
  void OnTrialFinished(const SweepProgress& p, size_t cell, const TrialResult&) override {
    sum += p.done + p.cell_n[cell] + static_cast<int64_t>(p.cell_verdict[cell].size());
  }
  void OnFinish(const SweepProgress&, bool) override { finish = std::chrono::steady_clock::now(); }
  int64_t sum = 0;
  std::chrono::steady_clock::time_point start, finish;
};

SweepOptions Grid12x12(int64_t runs) {
  SweepOptions o;
  o.exec_argv = {"/bin/true"};
  GridAxis a{"A", {}}, b{"B", {}};
  for (int i = 1; i <= 12; ++i) {
    a.values.push_back(std::to_string(i));
    b.values.push_back(std::to_string(i));
  }
  o.grid = {a, b};
  o.runs = runs;
  o.duration_s = 1;
  o.seed = 1;
  return o;
}

std::unique_ptr<Store> OpenStore(const std::string& path) {
  std::string err;
  int code = 0;
  auto s = Store::Open(path, Store::Mode::kCreate, &err, &code);
  if (!s) {
    std::fprintf(stderr, "sweep_core_bench: %s\n", err.c_str());
    std::exit(1);
  }
  return s;
}

bool Fill(Store* store, const RunRecord& run, int64_t per_cell, std::string* err) {
  std::vector<TrialGroup> groups;
  if (!store->LoadTrialGroups(run.id, run.duration_s, &groups, err)) return false;
  std::map<std::string, int64_t> next;
  for (const auto& g : groups) next[g.cell_key] = std::max(next[g.cell_key], g.max_repetition + 1);
  std::vector<StoredTrial> batch;
  auto flush = [&]() {
    bool ok = store->InsertTrials(run.id, batch, err);
    batch.clear();
    return ok;
  };
  for (const Cell& cell : ExpandGrid(run.grid)) {
    int64_t& rep = next[CellKey(cell)];
    for (int64_t i = 0; i < per_cell; ++i) {
      StoredTrial t;
      t.cell = cell;
      t.repetition = static_cast<int>(rep++);
      t.result.outcome = Outcome::kClean;
      t.result.duration_s = 0.001;
      t.result.time_to_outcome_s = 0.001;
      batch.push_back(std::move(t));
      if (batch.size() >= 20000 && !flush()) return false;
    }
  }
  return flush();
}

// Trials per second of the trial loop of one RunSweep of `opts` on `store`; *setup_s the time before the loop
// (opening or creating the run row, reading the recorded per-cell counts).
double TimeSweep(Store* store, const SweepOptions& opts, int64_t* trials, double* setup_s = nullptr) {
  static const std::atomic<bool> never{false};
  InstantRunner runner;
  CountingObserver observer;
  SweepIo io;
  io.store = store;
  io.runner = &runner;
  io.observer = &observer;
  io.self_exe = "crashgrid";
  SweepOutcome out;
  std::string err;
  auto t0 = std::chrono::steady_clock::now();
  if (!RunSweep(opts, io, &never, &never, &out, &err)) {
    std::fprintf(stderr, "sweep_core_bench: %s\n", err.c_str());
    std::exit(1);
  }
  double s = std::chrono::duration<double>(observer.finish - observer.start).count();
  if (setup_s) *setup_s = std::chrono::duration<double>(observer.start - t0).count();
  *trials = out.trials_run;
  return static_cast<double>(out.trials_run) / s;
}

int Core(const std::string& dir, int64_t rounds, int64_t resumed_trials, int repeats) {
  const int64_t cells = 144;
  const int64_t base_per_cell = (resumed_trials + cells - 1) / cells;
  std::printf("sweep_core_bench: 12x12 grid, %lld trials per sweep, resumed store holds %lld trials, in %s\n",
              static_cast<long long>(rounds * cells), static_cast<long long>(base_per_cell * cells), dir.c_str());
  double fresh_sum = 0, resumed_sum = 0;
  for (int rep = 0; rep < repeats; ++rep) {
    // Fresh: a new file, `rounds` trials a cell.
    std::string fresh_path = dir + "/sweep_core_fresh.db";
    fs::remove(fresh_path);
    int64_t n_fresh = 0;
    double fresh, fresh_setup = 0;
    {
      auto store = OpenStore(fresh_path);
      fresh = TimeSweep(store.get(), Grid12x12(rounds), &n_fresh, &fresh_setup);
    }
    fs::remove(fresh_path);
    // Resumed: the same sweep with `base_per_cell` trials a cell already recorded, extended by `rounds`.
    std::string big_path = dir + "/sweep_core_big.db";
    fs::remove(big_path);
    int64_t n_resumed = 0;
    double resumed, resumed_setup = 0;
    {
      auto store = OpenStore(big_path);
      int64_t ignored = 0;
      TimeSweep(store.get(), Grid12x12(1), &ignored);  // creates the run row with the sweep's key
      std::vector<RunRecord> runs;
      std::string err;
      if (!store->LoadRuns(&runs, &err) || !Fill(store.get(), runs.back(), base_per_cell - 1, &err)) {
        std::fprintf(stderr, "sweep_core_bench: %s\n", err.c_str());
        return 1;
      }
    }
    {
      auto store = OpenStore(big_path);  // a new process would open it afresh
      resumed = TimeSweep(store.get(), Grid12x12(base_per_cell + rounds), &n_resumed, &resumed_setup);
    }
    fs::remove(big_path);
    std::printf("  repeat %d: fresh %lld trials %.0f/s (%.1f us each, set-up %.3f s); resumed %lld trials %.0f/s "
                "(%.1f us each, set-up %.3f s: reading the recorded counts); resumed/fresh %.2f\n",
                rep + 1, static_cast<long long>(n_fresh), fresh, 1e6 / fresh, fresh_setup,
                static_cast<long long>(n_resumed), resumed, 1e6 / resumed, resumed_setup, resumed / fresh);
    fresh_sum += fresh;
    resumed_sum += resumed;
  }
  std::printf("mean: fresh %.0f trials/s, resumed %.0f trials/s, resumed/fresh %.2f\n", fresh_sum / repeats,
              resumed_sum / repeats, resumed_sum / fresh_sum);
  return 0;
}

int FillCommand(const std::string& db, int64_t per_cell) {
  auto store = OpenStore(db);
  std::vector<RunRecord> runs;
  std::string err;
  if (!store->LoadRuns(&runs, &err) || runs.empty()) {
    std::fprintf(stderr, "sweep_core_bench: no run in '%s' to fill (%s)\n", db.c_str(), err.c_str());
    return 1;
  }
  if (!Fill(store.get(), runs.back(), per_cell, &err)) {
    std::fprintf(stderr, "sweep_core_bench: %s\n", err.c_str());
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace cg

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "core";
  if (mode == "fill" && argc == 4) return cg::FillCommand(argv[2], std::atoll(argv[3]));
  if (mode == "core") {
    std::string dir = argc > 2 ? argv[2] : (std::filesystem::is_directory("/dev/shm") ? "/dev/shm" : "/tmp");
    int64_t rounds = argc > 3 ? std::atoll(argv[3]) : 70;
    int64_t resumed = argc > 4 ? std::atoll(argv[4]) : 100000;
    int repeats = argc > 5 ? std::atoi(argv[5]) : 3;
    return cg::Core(dir, rounds, resumed, repeats);
  }
  std::fprintf(stderr, "usage: sweep_core_bench core [DIR] [ROUNDS] [RESUMED_TRIALS] [REPEATS]\n"
                       "       sweep_core_bench fill DB PER_CELL\n");
  return 2;
}

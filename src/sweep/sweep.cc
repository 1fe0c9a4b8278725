#include "sweep/sweep.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <mutex>
#include <random>
#include <thread>

#include <fmt/format.h>

#include "store/store.h"
#include "sweep/grid.h"
#include "trial/trial_json.h"
#include "util/clock.h"
#include "util/strings.h"
#include "version.h"
#include "runtime/workload.h"

namespace cg {

using nlohmann::json;

static uint64_t Fnv1a(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

std::string SweepKey(const SweepOptions& opts) {
  json j = {{"workload", opts.workload},
            {"exec", opts.exec_argv},
            {"grid", opts.grid},
            {"params", opts.params},
            {"duration_ms", std::llround(opts.duration_s * 1000)},
            {"grace_ms", std::llround(opts.grace_s * 1000)}};
  return fmt::format("{:016x}", Fnv1a(j.dump()));
}

static std::string DurationArg(double seconds) { return fmt::format("{}ms", std::llround(seconds * 1000)); }

TrialSpec MakeTrialSpec(const SweepOptions& opts, const Cell& cell, const std::string& self_exe) {
  TrialSpec spec;
  spec.duration_s = opts.duration_s;
  spec.grace_s = opts.grace_s < 0 ? DefaultGrace(opts.duration_s) : opts.grace_s;
  spec.capture = opts.capture;
  spec.setup_timeout_s = opts.setup_timeout_s;
  spec.teardown_timeout_s = opts.teardown_timeout_s;
  spec.stall_window_s = opts.stall_window_s;
  // Cell values override fixed ones (a name cannot be both: the CLI refuses that).
  std::map<std::string, std::string> values = opts.params;
  for (const auto& [k, v] : cell) values[k] = v;

  if (!opts.workload.empty()) {
    spec.builtin_workload = true;
    spec.argv = {self_exe, "run", opts.workload, "--duration", DurationArg(opts.duration_s)};
    for (const auto& [k, v] : values) {
      if (k == "threads" || k == "serialize") {
        spec.argv.push_back("--" + k);
        spec.argv.push_back(v);
      } else {
        spec.argv.push_back("--param");
        spec.argv.push_back(k + "=" + v);
      }
    }
    return spec;
  }
  // --exec: parameters are environment variables under their own names and replace {NAME} in arguments.
  // No shell is involved unless the user runs one.
  spec.shell_semantics = true;
  for (std::string arg : opts.exec_argv) {
    for (const auto& [k, v] : values) {
      std::string pattern = "{" + k + "}";
      for (size_t pos = arg.find(pattern); pos != std::string::npos; pos = arg.find(pattern, pos + v.size()))
        arg.replace(pos, pattern.size(), v);
    }
    spec.argv.push_back(std::move(arg));
  }
  for (const auto& [k, v] : values) spec.env.emplace_back(k, v);
  return spec;
}

std::string SelfExe() {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) return "crashgrid";
  return std::string(buf, static_cast<size_t>(n));
}

static json BasicHostFacts() {
  json j;
  char host[256] = {};
  gethostname(host, sizeof(host) - 1);
  j["host"] = host;
  struct utsname u;
  if (uname(&u) == 0) j["kernel"] = fmt::format("{} {} {}", u.sysname, u.release, u.machine);
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (StartsWith(line, "model name")) {
      size_t colon = line.find(':');
      if (colon != std::string::npos) j["cpu"] = std::string(Trim(line.substr(colon + 1)));
      break;
    }
  }
  j["cpus"] = std::thread::hardware_concurrency();
  return j;
}

json CollectFingerprint(const std::string& self_exe) {
  TrialSpec spec;
  spec.argv = {self_exe, "doctor", "--json", "--fingerprint"};
  spec.duration_s = 20;
  spec.grace_s = 5;
  spec.capture = CaptureMethod::kNone;
  TrialResult r = RunTrial(spec);
  json facts;
  if (r.outcome == Outcome::kClean) {
    facts = json::parse(r.stdout_tail, nullptr, /*allow_exceptions=*/false);
  }
  if (!facts.is_object()) {
    facts = BasicHostFacts();
    facts["fingerprint_error"] =
        fmt::format("`crashgrid doctor --json --fingerprint` {}: {}", OutcomeName(r.outcome),
                    std::string(Trim(r.stderr_tail.substr(0, 300))));
  }
  return facts;
}

namespace {

// Per-cell state across rounds.
struct CellState {
  Cell cell;
  int next_repetition = 0;  // all recorded trials, could-not-start included
  CellProgress progress;
  std::string verdict;
  bool unrunnable = false;
  std::string unrunnable_reason;
};

double Exposure(const TrialResult& r, double duration_s) {
  if (r.outcome == Outcome::kCouldNotStart) return 0;
  double t = r.workload_seconds > 0 ? r.workload_seconds : r.time_to_outcome_s;
  return std::min(t, duration_s);
}

void Account(CellState* c, const TrialResult& r, double duration_s) {
  c->next_repetition++;
  CountTrial(r, Exposure(r, duration_s), &c->progress);
}

}  // namespace

bool RunSweep(const SweepOptions& opts, Store* store, StoppingRule* rule, ProgressObserver* observer,
              const std::atomic<bool>* stop, const std::atomic<bool>* abort_now, SweepOutcome* outcome,
              std::string* err) {
  const std::string self = SelfExe();
  const std::string key = SweepKey(opts);

  RunRecord run;
  bool found = false;
  if (!store->FindRunBySweepKey(key, &run, &found, err)) return false;
  if (found) {
    outcome->resumed = true;
    run.argv = opts.argv;
    run.command_line = Join(opts.argv, " ");
    run.runs = static_cast<int>(opts.runs);
    run.settings = opts.settings;
    run.capture = CaptureMethodName(opts.capture);
    run.finished = false;
    if (!store->UpdateRun(run, err)) return false;
  } else {
    run.created_at = UnixSeconds();
    run.argv = opts.argv;
    run.command_line = Join(opts.argv, " ");
    run.workload = opts.workload.empty() ? "exec" : opts.workload;
    run.exec_argv = opts.exec_argv;
    if (!opts.workload.empty()) {
      auto w = CreateWorkload(opts.workload);
      run.reference_target = w && w->info().reference_target;
    }
    run.grid = opts.grid;
    run.params = opts.params;
    run.runs = static_cast<int>(opts.runs);
    run.duration_s = opts.duration_s;
    run.grace_s = opts.grace_s < 0 ? DefaultGrace(opts.duration_s) : opts.grace_s;
    run.capture = CaptureMethodName(opts.capture);
    run.crashgrid_version = CRASHGRID_VERSION;
    run.crashgrid_commit = CRASHGRID_COMMIT;
    run.environment = CollectFingerprint(self);
    run.sweep_key = key;
    run.settings = opts.settings;
    if (!store->InsertRun(&run, err)) return false;
  }
  outcome->run_id = run.id;

  // What is already recorded: nothing recorded is run again.
  std::vector<CellState> cells;
  for (auto& c : ExpandGrid(opts.grid)) {
    CellState s;
    s.progress.cell = c;
    s.cell = std::move(c);
    cells.push_back(std::move(s));
  }
  std::map<std::string, size_t> index_of;
  for (size_t i = 0; i < cells.size(); ++i) index_of[CellKey(cells[i].cell)] = i;
  {
    std::vector<StoredTrial> trials;
    if (!store->LoadTrials(run.id, /*full=*/false, &trials, err)) return false;
    for (const auto& t : trials) {
      auto it = index_of.find(t.cell_key);
      if (it == index_of.end()) continue;
      CellState& c = cells[it->second];
      Account(&c, t.result, opts.duration_s);
      c.next_repetition = std::max(c.next_repetition, t.repetition + 1);
    }
  }

  std::mt19937_64 rng(opts.seed ? opts.seed : static_cast<uint64_t>(UnixSeconds() * 1e6));
  std::mutex mu;  // guards cells, progress, store writes and observer calls
  SweepProgress progress;
  progress.run = &run;
  progress.rule = rule->name();
  for (const auto& c : cells) progress.cells.push_back(c.cell);
  const double started = MonotonicSeconds();
  double trial_seconds_sum = 0;
  int64_t trials_timed = 0;

  auto refresh = [&]() {
    progress.cell_n.clear();
    progress.cell_crashes.clear();
    progress.cell_neither.clear();
    progress.cell_verdict.clear();
    progress.done = 0;
    progress.crashes = 0;
    progress.failed = 0;
    progress.overran = 0;
    std::vector<CellProgress> runnable;
    for (const auto& c : cells) {
      progress.cell_n.push_back(c.progress.n);
      progress.cell_crashes.push_back(c.progress.crashes);
      progress.cell_neither.push_back(c.progress.failed + c.progress.overran);
      progress.cell_verdict.push_back(c.verdict);
      progress.done += c.progress.ran();
      progress.crashes += c.progress.crashes;
      progress.failed += c.progress.failed;
      progress.overran += c.progress.overran;
      if (!c.unrunnable) runnable.push_back(c.progress);
    }
    int64_t left = rule->RemainingEstimate(runnable);
    progress.total = progress.done + left;
    progress.elapsed_s = MonotonicSeconds() - started;
    progress.eta_s = trials_timed ? left * (trial_seconds_sum / trials_timed) / std::max(1, opts.jobs) : -1;
  };

  refresh();
  if (observer) observer->OnStart(progress);

  bool failed = false;
  std::string failure;
  while (!stop->load() && !failed) {
    std::vector<size_t> runnable_index;
    std::vector<CellProgress> runnable;
    for (size_t i = 0; i < cells.size(); ++i) {
      if (cells[i].unrunnable) continue;
      runnable_index.push_back(i);
      runnable.push_back(cells[i].progress);
    }
    std::vector<size_t> round;
    for (size_t r : rule->NextRound(runnable)) round.push_back(runnable_index[r]);
    if (round.empty()) break;
    std::shuffle(round.begin(), round.end(), rng);

    size_t next = 0;
    auto worker = [&]() {
      while (true) {
        size_t ci;
        TrialSpec spec;
        {
          std::lock_guard<std::mutex> lock(mu);
          if (next >= round.size() || stop->load() || failed) return;
          ci = round[next++];
          spec = MakeTrialSpec(opts, cells[ci].cell, self);
          progress.current = CellKey(cells[ci].cell);
          if (observer) observer->OnTrialStarted(progress);
        }
        double t0 = MonotonicSeconds();
        TrialResult r = RunTrial(spec, abort_now);
        double took = MonotonicSeconds() - t0;
        std::lock_guard<std::mutex> lock(mu);
        if (abort_now->load()) return;  // cancelled mid-trial: discarded, never recorded half-done
        CellState& c = cells[ci];
        int64_t id = 0;
        std::string ierr;
        if (!store->InsertTrial(run.id, c.cell, c.next_repetition, r, &id, &ierr)) {
          failed = true;
          failure = ierr;
          return;
        }
        Account(&c, r, opts.duration_s);
        outcome->trials_run++;
        trial_seconds_sum += took;
        trials_timed++;
        if (r.outcome == Outcome::kCouldNotStart) {
          // The machine cannot run this cell: running it again would only repeat the reason.
          c.unrunnable = true;
          c.unrunnable_reason = r.detail;
        }
        if (run.workload_detail.empty() && r.outcome != Outcome::kCouldNotStart && !r.detail.empty() &&
            !opts.workload.empty()) {
          run.workload_detail = r.detail;
          std::string uerr;
          store->UpdateRun(run, &uerr);
        }
        refresh();
        if (observer) observer->OnTrialFinished(progress, ci, r);
      }
    };
    int jobs = std::max(1, std::min<int>(opts.jobs, static_cast<int>(round.size())));
    if (jobs == 1) {
      worker();
    } else {
      std::vector<std::thread> pool;
      for (int j = 0; j < jobs; ++j) pool.emplace_back(worker);
      for (auto& t : pool) t.join();
    }
    if (abort_now->load()) break;
  }

  outcome->interrupted = stop->load() || abort_now->load();
  outcome->cells_total = static_cast<int64_t>(cells.size());
  for (const auto& c : cells) {
    if (c.unrunnable) {
      outcome->cells_unrunnable++;
      if (outcome->unrunnable_reason.empty()) outcome->unrunnable_reason = c.unrunnable_reason;
    }
    outcome->trials_total += c.next_repetition;
  }
  refresh();
  progress.current.clear();
  if (observer) observer->OnFinish(progress, outcome->interrupted);
  if (failed) {
    *err = failure;
    return false;
  }
  if (!outcome->interrupted) {
    run.finished = true;
    if (!store->UpdateRun(run, err)) return false;
  }
  return true;
}

}  // namespace cg

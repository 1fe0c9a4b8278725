#include "runtime/runner.h"

#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <system_error>
#include <thread>

#include <fmt/format.h>

#include "agent/amplify.h"
#include "trial/trial_json.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/strings.h"

// --amplify for built-in workloads: the agent preloaded into the trial (src/agent/amplify.c) exports these; this
// process reaches them through weak references, NULL when it runs without the agent (`crashgrid run`).
extern "C" {
void crashgrid_amplify_v1(int kind) __attribute__((weak));
int crashgrid_amplify_active_v1(void) __attribute__((weak));
}

namespace cg {

bool ParseSerialize(const std::string& spec, const std::vector<std::string>& phases,
                    std::vector<std::string>* serialized, std::string* err) {
  serialized->clear();
  std::string s(Trim(spec));
  if (s.empty() || s == "none") return true;
  if (s == "all") {
    *serialized = phases;
    return true;
  }
  std::string normalized = s;
  std::replace(normalized.begin(), normalized.end(), '+', ',');
  std::set<std::string> chosen;
  for (const auto& part : Split(normalized, ',')) {
    std::string name(Trim(part));
    if (std::find(phases.begin(), phases.end(), name) == phases.end()) {
      std::vector<std::string> candidates = phases;
      candidates.push_back("none");
      candidates.push_back("all");
      *err = fmt::format("unknown phase '{}' in --serialize '{}'{} (use none, all, or phases joined by ',' or "
                         "'+' from: {})",
                         name, spec, DidYouMean(name, candidates), Join(phases, ", "));
      return false;
    }
    chosen.insert(name);
  }
  // Keep iteration order, so that the same set always prints the same way.
  for (const auto& p : phases)
    if (chosen.count(p)) serialized->push_back(p);
  return true;
}

bool CheckParamNames(const WorkloadInfo& info, const Params& params, std::string* err) {
  std::vector<std::string> names;
  for (const auto& p : info.params) names.push_back(p.name);
  for (const auto& [key, value] : params.values()) {
    if (std::find(names.begin(), names.end(), key) != names.end()) continue;
    if (names.empty()) {
      *err = fmt::format("unknown parameter '{}': workload '{}' takes no parameters", key, info.name);
    } else {
      *err = fmt::format("unknown parameter '{}' for workload '{}'{} (valid parameters: {}; see crashgrid "
                         "workloads)",
                         key, info.name, DidYouMean(key, names), Join(names, ", "));
    }
    return false;
  }
  return true;
}

bool DefaultThreads(int* threads, std::string* err) {
  const char* env = std::getenv("THREAD_COUNT");
  if (!env || !*env) {
    *threads = 1;
    return true;
  }
  long long v = 0;
  if (!ParseInt(Trim(env), &v) || v < 1 || v > kMaxWorkloadThreads) {
    *err = fmt::format("THREAD_COUNT='{}' is not a thread count from 1 to {} (fix it or pass --threads)", env,
                       kMaxWorkloadThreads);
    return false;
  }
  *threads = static_cast<int>(v);
  return true;
}

namespace {

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Latencies go into log-spaced bins (2% wide) rather than a list: a fast workload runs millions of phases
// per trial, and p50/p99 within 2% is all the report needs.
class LatencyHistogram {
 public:
  static constexpr double kGrowth = 1.02;
  static constexpr int kBins = 1500;  // 1 ns .. ~8e12 ns

  void Add(int64_t ns) {
    if (bins_.empty()) bins_.assign(kBins, 0);
    int bin = ns <= 1 ? 0 : static_cast<int>(std::log(static_cast<double>(ns)) / std::log(kGrowth));
    bin = std::clamp(bin, 0, kBins - 1);
    ++bins_[bin];
    ++count_;
    max_ns_ = std::max(max_ns_, ns);
  }
  void Merge(const LatencyHistogram& o) {
    if (o.count_ == 0) return;
    if (bins_.empty()) bins_.assign(kBins, 0);
    for (int i = 0; i < kBins; ++i) bins_[i] += o.bins_[i];
    count_ += o.count_;
    max_ns_ = std::max(max_ns_, o.max_ns_);
  }
  int64_t count() const { return count_; }
  double max_ms() const { return static_cast<double>(max_ns_) / 1e6; }
  double QuantileMs(double q) const {
    if (count_ == 0) return 0;
    int64_t rank = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(q * static_cast<double>(count_))));
    int64_t seen = 0;
    for (int i = 0; i < kBins; ++i) {
      seen += bins_[i];
      if (seen >= rank) {
        double mid_ns = std::pow(kGrowth, i + 0.5);
        return std::min(mid_ns, static_cast<double>(max_ns_)) / 1e6;
      }
    }
    return max_ms();
  }

 private:
  std::vector<int64_t> bins_;
  int64_t count_ = 0;
  int64_t max_ns_ = 0;
};

constexpr size_t kMaxBucketsPerThread = 64;

struct ThreadTally {
  std::vector<LatencyHistogram> phases;  // by phase index
  std::map<std::pair<int, std::string>, ErrorBucket> buckets;
  int64_t iterations = 0, successes = 0, errors = 0;
};

struct Shared {
  Workload* workload = nullptr;
  const WorkloadInfo* info = nullptr;
  StatusBlock* status = nullptr;
  int threads = 0;
  int64_t duration_ns = 0;
  std::vector<bool> serialized;  // by phase index
  std::mutex serialize_mu;
  int setup_phase = -1;     // index of kSetupPhase in info->phases
  int teardown_phase = -1;  // index of kTeardownPhase
  std::atomic<int64_t> start_ns{0};
  // Not stopping before the barrier sets the real deadline: a ThreadInit may ask.
  std::atomic<int64_t> deadline_ns{std::numeric_limits<int64_t>::max()};
  std::atomic<bool> abort{false};
  std::mutex init_mu;
  std::string init_error;
  // The agent injects --amplify delays: each worker's start (after the start barrier, which would absorb a delay
  // before it) and each phase entry are amplification points, as thread starts and API entries are for --exec.
  bool amplify = false;
};

void AmplifyPoint(const Shared* shared, int kind) {
  if (shared->amplify) crashgrid_amplify_v1(kind);
}

class Context final : public IterationContext {
 public:
  Context(Shared* shared, int index, ThreadTally* tally)
      : shared_(shared), index_(index), tally_(tally), slot_(shared->status->thread(index)) {
    tally_->phases.resize(shared->info->phases.size());
  }

  int thread() const override { return index_; }
  int threads() const override { return shared_->threads; }
  int64_t iteration() const override { return iteration_; }
  bool stopping() const override { return NowNs() >= shared_->deadline_ns.load(std::memory_order_relaxed); }
  void AddUnits(int64_t n) override { shared_->status->header()->units.fetch_add(n, std::memory_order_relaxed); }

  bool Phase(std::string_view name, const std::function<bool(std::string* err)>& body) override {
    const auto& phases = shared_->info->phases;
    auto it = std::find(phases.begin(), phases.end(), name);
    CG_CHECK_MSG(it != phases.end(), fmt::format("workload '{}' ran undeclared phase '{}'", shared_->info->name, name));
    int idx = static_cast<int>(it - phases.begin());
    CG_CHECK_MSG(idx != shared_->setup_phase && idx != shared_->teardown_phase,
                 fmt::format("workload '{}' ran phase '{}' itself (the runtime runs it around "
                             "ThreadInit/ThreadDone)",
                             shared_->info->name, name));
    std::string err;
    bool ok = Timed(idx, body, &err);
    if (!ok) {
      failed_ = true;
      ++tally_->errors;
      slot_->errors.fetch_add(1, std::memory_order_relaxed);
      if (err.empty()) err = "failed (no message)";
      std::string msg = NormalizeErrorMessage(err);
      auto key = std::make_pair(idx, msg);
      auto b = tally_->buckets.find(key);
      if (b == tally_->buckets.end() && tally_->buckets.size() >= kMaxBucketsPerThread)
        b = tally_->buckets.find(key = std::make_pair(idx, std::string("(other errors)")));
      if (b == tally_->buckets.end()) {
        ErrorBucket nb;
        nb.phase = std::string(name);
        nb.message = key.second;
        nb.example = err;
        b = tally_->buckets.emplace(key, std::move(nb)).first;
      }
      ++b->second.count;
    }
    return ok;
  }

  // ThreadInit as phase `setup`. A failure is not a counted error: the trial could not start.
  bool Setup(std::string* err) {
    return Timed(
        shared_->setup_phase, [&](std::string* e) { return shared_->workload->ThreadInit(*this, e); }, err);
  }
  void Teardown() {
    std::string ignored;
    Timed(shared_->teardown_phase,
          [&](std::string*) {
            shared_->workload->ThreadDone(*this);
            return true;
          },
          &ignored);
  }

  void RunIteration() {
    failed_ = false;
    shared_->workload->Iterate(*this);
    ++iteration_;
    ++tally_->iterations;
    slot_->iterations.fetch_add(1, std::memory_order_relaxed);
    if (!failed_) {
      ++tally_->successes;
      slot_->successes.fetch_add(1, std::memory_order_relaxed);
    }
  }

 private:
  Shared* shared_;
  int index_;
  ThreadTally* tally_;
  StatusThread* slot_;
  // Runs `body` as phase `idx`: published, under the serialize lock if the policy covers it, timed. The
  // phase it interrupts (phases nest) is published again afterwards, and a nested phase does not take the
  // lock this thread already holds.
  bool Timed(int idx, const std::function<bool(std::string* err)>& body, std::string* err) {
    int32_t outer = current_;
    current_ = idx;
    slot_->phase.store(idx, std::memory_order_relaxed);
    AmplifyPoint(shared_, CG_AMP_PHASE_ENTRY);  // in the phase already (a report names it), before its lock
    bool ok;
    int64_t t0, t1;
    if (shared_->serialized[idx] && !holding_lock_) {
      std::lock_guard<std::mutex> lock(shared_->serialize_mu);
      holding_lock_ = true;
      t0 = NowNs();
      ok = body(err);
      t1 = NowNs();
      holding_lock_ = false;
    } else {
      t0 = NowNs();
      ok = body(err);
      t1 = NowNs();
    }
    current_ = outer;
    slot_->phase.store(outer, std::memory_order_relaxed);
    tally_->phases[idx].Add(t1 - t0);
    return ok;
  }

  int64_t iteration_ = 0;
  bool failed_ = false;
  int32_t current_ = kPhaseIdle;
  bool holding_lock_ = false;
};

// The barrier's completion step runs once, in the last thread to arrive: the clock starts only when every
// thread is ready, so thread creation cost is not counted against the first threads.
struct StartClock {
  Shared* shared;
  void operator()() noexcept {
    int64_t now = NowNs();
    shared->start_ns.store(now);
    shared->deadline_ns.store(now + shared->duration_ns);
    timespec wall;
    clock_gettime(CLOCK_REALTIME, &wall);
    shared->status->header()->started_unix_ns.store(int64_t{wall.tv_sec} * 1000000000 + wall.tv_nsec);
    shared->status->header()->started.store(1);
  }
};

void WorkerMain(Shared* shared, std::barrier<StartClock>* barrier, int index, ThreadTally* tally) {
  std::string name = fmt::format("cg-w{}", index);
  pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
  StatusThread* slot = shared->status->thread(index);
  slot->tid.store(static_cast<int32_t>(syscall(SYS_gettid)));
  Context ctx(shared, index, tally);
  std::string err;
  bool ready = ctx.Setup(&err);
  if (!ready) {
    std::lock_guard<std::mutex> lock(shared->init_mu);
    if (shared->init_error.empty())
      shared->init_error = fmt::format("thread {} could not start: {}", index, err.empty() ? "ThreadInit failed" : err);
    shared->abort.store(true);
  }
  barrier->arrive_and_wait();
  AmplifyPoint(shared, CG_AMP_THREAD_START);
  if (ready && !shared->abort.load()) {
    while (NowNs() < shared->deadline_ns.load(std::memory_order_relaxed)) ctx.RunIteration();
  }
  if (ready) ctx.Teardown();
  slot->phase.store(kPhaseDone);
}

}  // namespace

bool RunWorkload(Workload& workload, const RunOptions& options, StatusBlock* status, TrialResult* metrics,
                 std::string* err) {
  const WorkloadInfo& info = workload.info();
  if (options.threads < 1 || options.threads > kMaxWorkloadThreads) {
    *err = fmt::format("--threads {} is out of range (use 1 to {})", options.threads, kMaxWorkloadThreads);
    return false;
  }
  std::vector<std::string> serialized;
  if (!ParseSerialize(options.serialize, info.phases, &serialized, err)) return false;

  StatusBlock own;
  if (!status) {
    if (!own.MapAnonymous(err)) return false;
    status = &own;
  }
  status->Init(info.phases, options.threads);

  Shared shared;
  shared.workload = &workload;
  shared.info = &info;
  shared.status = status;
  shared.threads = options.threads;
  shared.duration_ns = static_cast<int64_t>(std::max(0.0, options.duration_s) * 1e9);
  shared.amplify = crashgrid_amplify_v1 && crashgrid_amplify_active_v1 && crashgrid_amplify_active_v1();
  auto index_of = [&](const char* phase) {
    auto it = std::find(info.phases.begin(), info.phases.end(), phase);
    CG_CHECK_MSG(it != info.phases.end(),
                 fmt::format("workload '{}' does not declare phase '{}' (build its phases with "
                             "WithSetupAndTeardown)",
                             info.name, phase));
    return static_cast<int>(it - info.phases.begin());
  };
  shared.setup_phase = index_of(kSetupPhase);
  shared.teardown_phase = index_of(kTeardownPhase);
  for (const auto& p : info.phases)
    shared.serialized.push_back(std::find(serialized.begin(), serialized.end(), p) != serialized.end());

  std::vector<ThreadTally> tallies(options.threads);
  std::barrier<StartClock> barrier(options.threads, StartClock{&shared});
  std::vector<std::thread> workers;
  workers.reserve(options.threads);
  for (int i = 0; i < options.threads; ++i) {
    try {
      workers.emplace_back(WorkerMain, &shared, &barrier, i, &tallies[i]);
    } catch (const std::system_error& e) {
      {
        std::lock_guard<std::mutex> lock(shared.init_mu);
        shared.init_error = fmt::format("could not create thread {} of {}: {}", i + 1, options.threads, e.what());
      }
      shared.abort.store(true);
      // Stand in for the threads that do not exist, so the ones that do get past the barrier.
      for (int j = i; j < options.threads; ++j) barrier.arrive_and_drop();
      break;
    }
  }
  for (auto& t : workers) t.join();
  int64_t end_ns = NowNs();
  if (shared.abort.load()) {
    *err = shared.init_error;
    return false;
  }

  metrics->iterations = metrics->successes = metrics->errors = 0;
  std::vector<LatencyHistogram> phases(info.phases.size());
  std::map<std::pair<int, std::string>, ErrorBucket> buckets;
  for (const auto& t : tallies) {
    metrics->iterations += t.iterations;
    metrics->successes += t.successes;
    metrics->errors += t.errors;
    for (size_t i = 0; i < phases.size(); ++i) phases[i].Merge(t.phases[i]);
    for (const auto& [key, b] : t.buckets) {
      auto it = buckets.find(key);
      if (it == buckets.end()) buckets.emplace(key, b);
      else it->second.count += b.count;
    }
  }
  metrics->phases.clear();
  for (size_t i = 0; i < phases.size(); ++i) {
    PhaseStats ps;
    ps.name = info.phases[i];
    ps.count = phases[i].count();
    ps.p50_ms = phases[i].QuantileMs(0.50);
    ps.p99_ms = phases[i].QuantileMs(0.99);
    ps.max_ms = phases[i].max_ms();
    metrics->phases.push_back(std::move(ps));
  }
  metrics->error_buckets.clear();
  for (auto& [key, b] : buckets) metrics->error_buckets.push_back(std::move(b));
  std::stable_sort(metrics->error_buckets.begin(), metrics->error_buckets.end(),
                   [](const ErrorBucket& a, const ErrorBucket& b) { return a.count > b.count; });
  metrics->units = status->units();
  metrics->units_name = info.units_name;
  metrics->workload_seconds = static_cast<double>(end_ns - shared.start_ns.load()) / 1e9;
  metrics->threads = status->Snapshot();
  return true;
}

nlohmann::json WorkloadResultJson(const std::string& workload, const std::string& detail,
                                  const TrialResult& metrics) {
  nlohmann::json full = metrics;
  nlohmann::json j;
  j["schema_version"] = kWorkloadResultSchemaVersion;
  j["workload"] = workload;
  j["detail"] = detail;
  for (const char* key : {"iterations", "successes", "errors", "units", "units_name", "workload_seconds",
                          "error_buckets", "phases", "threads"})
    j[key] = full[key];
  return j;
}

nlohmann::json CouldNotStartJson(const std::string& reason) {
  return nlohmann::json{{"schema_version", kWorkloadResultSchemaVersion}, {"could_not_start", reason}};
}

}  // namespace cg

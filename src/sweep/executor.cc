#include "sweep/executor.h"

#include <algorithm>
#include <mutex>
#include <thread>
#include <vector>

#include "util/clock.h"

namespace cg {

void RunJobs(TrialRunner* runner, int jobs, const ExecutorHooks& hooks, const std::atomic<bool>* stop,
             const std::atomic<bool>* abort_now) {
  std::mutex mu;
  bool failed = false;
  auto worker = [&]() {
    while (true) {
      Job job;
      {
        std::lock_guard<std::mutex> lock(mu);
        if (failed || stop->load() || abort_now->load() || !hooks.next(&job)) return;
      }
      double t0 = MonotonicSeconds();
      TrialResult r = runner->Run(job.spec, abort_now);
      double took = MonotonicSeconds() - t0;
      std::lock_guard<std::mutex> lock(mu);
      if (abort_now->load()) return;  // cancelled mid-trial: discarded, never recorded half-done
      if (!hooks.finished(job, std::move(r), took)) failed = true;
    }
  };
  if (jobs <= 1) {
    worker();
    return;
  }
  std::vector<std::thread> pool;
  pool.reserve(static_cast<size_t>(jobs));
  for (int j = 0; j < jobs; ++j) pool.emplace_back(worker);
  for (auto& t : pool) t.join();
}

void RunSlotJobs(TrialRunner* runner, int slots, int jobs_per_slot,
                 const std::function<bool(int slot, Job* job)>& next_for_slot, const ExecutorHooks& hooks,
                 const std::atomic<bool>* stop, const std::atomic<bool>* abort_now) {
  std::mutex mu;
  bool failed = false;
  auto worker = [&](int slot) {
    while (true) {
      Job job;
      {
        std::lock_guard<std::mutex> lock(mu);
        if (failed || stop->load() || abort_now->load() || !next_for_slot(slot, &job)) return;
      }
      job.slot = slot;
      double t0 = MonotonicSeconds();
      TrialResult r = runner->Run(job.spec, abort_now);
      double took = MonotonicSeconds() - t0;
      std::lock_guard<std::mutex> lock(mu);
      if (abort_now->load()) return;
      if (!hooks.finished(job, std::move(r), took)) failed = true;
    }
  };
  std::vector<std::thread> pool;
  for (int s = 0; s < slots; ++s)
    for (int j = 0; j < std::max(1, jobs_per_slot); ++j) pool.emplace_back(worker, s);
  for (auto& t : pool) t.join();
}

}  // namespace cg

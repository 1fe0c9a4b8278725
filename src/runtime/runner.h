// The workload runtime: starts N threads, runs each one's ThreadInit as phase `setup`, lets them through a
// barrier together, runs iterations until the deadline, then each one's ThreadDone as phase `teardown`;
// publishes each thread's phase and counters in the status block, holds the serialize lock around the chosen
// phases, and reduces what the threads measured into the metric fields of a TrialResult.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "trial/trial.h"
#include "runtime/status_block.h"
#include "runtime/workload.h"

namespace cg {

constexpr int kMaxWorkloadThreads = kStatusMaxThreads;

struct RunOptions {
  int threads = 1;
  double duration_s = 5;
  Params params;
  // "none", "all", or phase names separated by ',' or '+' ("open+close"; '+' because grid axis values are
  // comma-separated).
  std::string serialize = "none";
};

// Resolves a --serialize spec against a workload's phases into the list of serialized phase names (empty
// for "none"). On an unknown name *err says which, suggests the nearest phase and lists the valid ones.
bool ParseSerialize(const std::string& spec, const std::vector<std::string>& phases,
                    std::vector<std::string>* serialized, std::string* err);

// Checks that every given parameter is one the workload declares; *err names the bad key and the valid ones.
bool CheckParamNames(const WorkloadInfo& info, const Params& params, std::string* err);

// The --threads default: the THREAD_COUNT environment variable (as the seed program reads it), else 1.
// False with *err when THREAD_COUNT is set to something that is not a thread count.
bool DefaultThreads(int* threads, std::string* err);

// Runs an already Init()ed workload: the threads, the barrier, the deadline. `status` may be null (then a
// private anonymous block is used). Fills the workload metric fields of *metrics (iterations, successes,
// errors, units, units_name, workload_seconds, error_buckets, phases, threads). False with *err when the
// run could not start (bad serialize spec, a thread could not be created, a ThreadInit failed).
bool RunWorkload(Workload& workload, const RunOptions& options, StatusBlock* status, TrialResult* metrics,
                 std::string* err);

// The JSON a workload process writes to its result fd (and prints with --json).
nlohmann::json WorkloadResultJson(const std::string& workload, const std::string& detail,
                                  const TrialResult& metrics);
nlohmann::json CouldNotStartJson(const std::string& reason);

}  // namespace cg

// A workload: code that runs inside a trial process. N threads set up (ThreadInit) and start together, then
// each repeats iterations made of named phases (build, start, stop, unref, ...) until the deadline, counting
// successes and errors, and tears down (ThreadDone). The runtime (runner.h) owns the threads, the clock, the
// phase bookkeeping and the serialize lock; a workload only says what set-up, one iteration and tear-down do.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace cg {

struct ParamSpec {
  std::string name;
  std::string default_value;  // "" = no default (derived at Init, e.g. from the environment)
  std::string help;           // states valid values
};

// The runtime runs each thread's ThreadInit as the phase `setup` and its ThreadDone as the phase `teardown`:
// published in the status block (a stack caught in cuCtxCreate during ThreadInit says "phase setup"), timed
// in the phase stats, and serializable (`--serialize setup` is one mutex around set-up only).
inline constexpr char kSetupPhase[] = "setup";
inline constexpr char kTeardownPhase[] = "teardown";

// {setup, iteration_phases..., teardown}: what every WorkloadInfo::phases holds.
inline std::vector<std::string> WithSetupAndTeardown(std::vector<std::string> iteration_phases) {
  iteration_phases.insert(iteration_phases.begin(), kSetupPhase);
  iteration_phases.push_back(kTeardownPhase);
  return iteration_phases;
}

struct WorkloadInfo {
  std::string name;
  std::string summary;
  // setup, the iteration phases in order, teardown (build it with WithSetupAndTeardown); what --serialize
  // may name.
  std::vector<std::string> phases;
  std::vector<ParamSpec> params;
  std::string units_name;           // "frames" if the workload counts frames, else ""
  bool reference_target = false;   // a built-in target for checking crashgrid itself
  bool needs_gpu = false;
};

// Workload parameters as given with --param key=value (strings; the workload parses and validates them).
class Params {
 public:
  Params() = default;
  explicit Params(std::map<std::string, std::string> values) : values_(std::move(values)) {}
  bool Has(const std::string& key) const { return values_.count(key) != 0; }
  // The value, or `fallback` when not given.
  std::string Get(const std::string& key, const std::string& fallback = "") const;
  // Integer parameter within [min, max]; on junk sets *err to "parameter 'key' must be ...".
  bool GetInt(const std::string& key, long long fallback, long long min, long long max, long long* out,
              std::string* err) const;
  bool GetDuration(const std::string& key, double fallback, double* out, std::string* err) const;
  const std::map<std::string, std::string>& values() const { return values_; }
  void Set(const std::string& key, const std::string& value) { values_[key] = value; }

 private:
  std::map<std::string, std::string> values_;
};

// Given to Workload::Iterate: the thread's identity and the way to run a phase.
class IterationContext {
 public:
  virtual ~IterationContext() = default;
  virtual int thread() const = 0;      // 0..threads-1
  virtual int threads() const = 0;
  virtual int64_t iteration() const = 0;
  // Runs `body` as the named phase: publishes the phase in the status block (readable after a crash),
  // holds the process-wide serialize mutex when the policy covers this phase, and records its latency.
  // `body` returns false with *err set for a counted error; Phase() then returns false and the iteration
  // should clean up and return. The phase name must be one of info().phases other than setup and teardown
  // (the runtime runs those); phases may nest (a ThreadInit may run phases of its own).
  virtual bool Phase(std::string_view name, const std::function<bool(std::string* err)>& body) = 0;
  // Counts work units (frames) for throughput.
  virtual void AddUnits(int64_t n) = 0;
  // True once the deadline has passed: long phases may cut a wait short.
  virtual bool stopping() const = 0;
};

class Workload {
 public:
  virtual ~Workload() = default;
  virtual const WorkloadInfo& info() const = 0;
  // Checks parameters, before anything heavy; false with *err (one line naming the parameter and the fix)
  // on bad input. Called by the CLI before a sweep starts, and again in the trial process.
  virtual bool Validate(const Params& params, int threads, std::string* err) const { return true; }
  // Process-wide set-up in the trial process, before the threads start (gst_init, dlopen, choosing the
  // pipeline). False with *err means this machine cannot run the workload: the trial is "could not start".
  virtual bool Init(const Params& params, int threads, std::string* err) = 0;
  // What Init chose that belongs with the results (e.g. the gst branch). "" if nothing.
  virtual std::string Detail() const { return ""; }
  // Runs on each worker thread before the start barrier (as phase `setup`) / after its last iteration (as
  // phase `teardown`). Per-thread state that lives across iterations (a CUDA context, an open device) is
  // made here and destroyed in ThreadDone, not lazily in the first iteration, so that its cost and its
  // hangs are charged to set-up and tear-down rather than to the run. False with *err: could not start.
  virtual bool ThreadInit(IterationContext& ctx, std::string* err) { return true; }
  virtual void ThreadDone(IterationContext& ctx) {}
  // One iteration. Must not throw.
  virtual void Iterate(IterationContext& ctx) = 0;
  // Process-wide tear-down after all threads joined.
  virtual void Shutdown() {}
};

// The built-in workloads, by name (see workloads/registry.cc).
std::vector<std::string> WorkloadNames();
std::unique_ptr<Workload> CreateWorkload(const std::string& name);  // nullptr if unknown

}  // namespace cg

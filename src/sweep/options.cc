#include "sweep/options.h"

#include <cmath>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "agent/agent_block.h"
#include "sweep/amplify.h"
#include "sweep/fingerprint.h"
#include "trial/trial_command.h"
#include "trial/trial_json.h"

namespace cg {

using nlohmann::json;

std::string SweepKey(const SweepOptions& opts) {
  json j = {{"workload", opts.workload},
            {"exec", opts.exec_argv},
            {"grid", opts.grid},
            {"params", opts.params},
            {"duration_ms", std::llround(opts.duration_s * 1000)},
            {"grace_ms", std::llround(opts.grace_s * 1000)}};
  std::string key = fmt::format("{:016x}", Fnv1a64(j.dump()));
  if (opts.shard.active()) key += "@shard=" + ShardName(opts.shard);
  return key;
}

std::string BaseSweepKey(const std::string& key) { return key.substr(0, key.find("@shard=")); }

std::vector<std::pair<std::string, std::string>> GpuEnvironment(const GpuSlot& gpu) {
  return {{"CUDA_VISIBLE_DEVICES", std::to_string(gpu.index)},
          {"CUDA_DEVICE_ORDER", "PCI_BUS_ID"},
          {"CRASHGRID_GPU_INDEX", std::to_string(gpu.index)},
          {"CRASHGRID_GPU_UUID", gpu.uuid}};
}

bool CheckTrialBound(const char* flag, const std::string& text, double seconds, bool positive, std::string* err) {
  if (!std::isfinite(seconds) || seconds > kMaxTrialBoundS) {
    *err = fmt::format("{} '{}' is longer than the limit of 24h (give at most 24h)", flag, text);
    return false;
  }
  if (positive ? !(seconds > 0) : !(seconds >= 0)) {
    *err = fmt::format("{} must be {} (got '{}')", flag, positive ? "positive" : "zero or more", text);
    return false;
  }
  return true;
}

std::string AmplifyValue(const SweepOptions& opts, const Cell& cell) {
  for (const auto& [k, v] : cell) {
    if (k == "amplify") return v;
  }
  auto it = opts.params.find("amplify");
  return it == opts.params.end() ? "" : it->second;
}

TrialSpec MakeTrialSpec(const SweepOptions& opts, const Cell& cell, const std::string& self_exe,
                        const std::string& trial_uid) {
  TrialSpec spec;
  spec.duration_s = opts.duration_s;
  spec.grace_s = opts.grace_s < 0 ? DefaultGrace(opts.duration_s) : opts.grace_s;
  spec.capture = opts.capture;
  spec.setup_timeout_s = opts.setup_timeout_s;
  spec.teardown_timeout_s = opts.teardown_timeout_s;
  spec.stall_window_s = opts.stall_window_s;
  TrialCommand command =
      MakeTrialCommand(opts.workload, opts.exec_argv, opts.params, opts.env, opts.duration_s, cell, self_exe);
  spec.argv = std::move(command.argv);
  spec.env = std::move(command.env);
  spec.builtin_workload = !opts.workload.empty();
  if (!spec.builtin_workload) {
    // --serialize (or a `serialize` axis) for an --exec program: the agent's lock around API groups.
    std::string serialize;
    for (const auto& [k, v] : cell) {
      if (k == "serialize") serialize = v;
    }
    if (serialize.empty() && opts.params.count("serialize")) serialize = opts.params.at("serialize");
    if (!serialize.empty() && serialize != "none") spec.env.emplace_back(AGENT_ENV_SERIALIZE, serialize);
  }
  // --amplify (or an `amplify` axis), for built-in workloads and --exec programs alike: the agent in every process
  // of the trial injects the delays; the value was checked when the options were built.
  double p = 0;
  std::string ignored;
  if (std::string amplify = AmplifyValue(opts, cell); !amplify.empty() && ParseAmplify(amplify, "", &p, &ignored) &&
                                                      p > 0) {
    for (auto& kv : AmplifyEnvironment(p, AmplifySeed(trial_uid))) spec.env.push_back(std::move(kv));
  }
  spec.shell_semantics = opts.workload.empty();
  return spec;
}

}  // namespace cg

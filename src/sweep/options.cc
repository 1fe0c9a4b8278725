#include "sweep/options.h"

#include <cmath>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "trial/trial_json.h"

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

}  // namespace cg

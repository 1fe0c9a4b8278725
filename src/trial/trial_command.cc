#include "trial/trial_command.h"

#include <cmath>

#include <fmt/format.h>

namespace cg {

TrialCommand MakeTrialCommand(const std::string& workload, const std::vector<std::string>& exec_argv,
                              const std::map<std::string, std::string>& params,
                              const std::map<std::string, std::string>& env, double duration_s, const Cell& cell,
                              const std::string& self_exe) {
  TrialCommand c;
  for (const auto& [k, v] : env) c.env.emplace_back(k, v);
  // Cell values override fixed ones (a name cannot be both: the CLI refuses that).
  std::map<std::string, std::string> values = params;
  for (const auto& [k, v] : cell) values[k] = v;

  if (exec_argv.empty()) {
    c.argv = {self_exe, "run", workload, "--duration", fmt::format("{}ms", std::llround(duration_s * 1000))};
    for (const auto& [k, v] : values) {
      if (k == "amplify") continue;  // the agent's, through the environment (sweep/options.cc MakeTrialSpec)
      if (k == "threads" || k == "serialize") {
        c.argv.push_back("--" + k);
        c.argv.push_back(v);
      } else {
        c.argv.push_back("--param");
        c.argv.push_back(k + "=" + v);
      }
    }
    return c;
  }
  // --exec: parameters are environment variables under their own names and replace {NAME} in arguments.
  // No shell is involved unless the user runs one.
  for (std::string arg : exec_argv) {
    for (const auto& [k, v] : values) {
      std::string pattern = "{" + k + "}";
      for (size_t pos = arg.find(pattern); pos != std::string::npos; pos = arg.find(pattern, pos + v.size()))
        arg.replace(pos, pattern.size(), v);
    }
    c.argv.push_back(std::move(arg));
  }
  for (const auto& [k, v] : values) c.env.emplace_back(k, v);
  return c;
}

TrialCommand RunTrialCommand(const RunRecord& run, const Cell& cell, const std::string& self_exe) {
  return MakeTrialCommand(run.workload == "exec" ? "" : run.workload, run.exec_argv, run.params, run.env,
                          run.duration_s, cell, self_exe);
}

}  // namespace cg

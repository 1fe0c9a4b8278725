// What one trial of a sweep executes at a cell: its argv and the environment variables crashgrid sets for it
// (on top of crashgrid's own environment). The one home of that rule, for the sweep (sweep/options.cc,
// MakeTrialSpec) and for every reproduction a report prints (report/reproduce.h), so the two cannot drift.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "trial/run.h"
#include "trial/trial.h"

namespace cg {

struct TrialCommand {
  std::vector<std::string> argv;
  // Set for the trial, in this order: the `--env` variables, then (for --exec) every fixed parameter and grid
  // value under its own name. Names never repeat (the CLI refuses an --env name that is also a parameter).
  std::vector<std::pair<std::string, std::string>> env;
};

// A built-in workload (`exec_argv` empty): `SELF run WORKLOAD --duration Dms --threads N --param k=v ...`.
// An --exec program: `exec_argv` with every {NAME} replaced by the cell's (or fixed) value of NAME, and each
// value as the environment variable NAME. Cell values override fixed ones.
TrialCommand MakeTrialCommand(const std::string& workload, const std::vector<std::string>& exec_argv,
                              const std::map<std::string, std::string>& params,
                              const std::map<std::string, std::string>& env, double duration_s, const Cell& cell,
                              const std::string& self_exe);

// The same for a stored run.
TrialCommand RunTrialCommand(const RunRecord& run, const Cell& cell, const std::string& self_exe);

}  // namespace cg

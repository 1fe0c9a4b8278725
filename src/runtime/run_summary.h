// The human summary `crashgrid run` prints when not asked for --json.
#pragma once

#include <string>

#include "trial/trial.h"
#include "runtime/runner.h"

namespace cg {

std::string RenderRunSummary(const std::string& workload, const std::string& detail, const RunOptions& options,
                             const TrialResult& metrics);

}  // namespace cg

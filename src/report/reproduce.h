// The command lines reports print for a run, shell-quoted (ShellQuote), so that pasting one into /bin/sh runs
// exactly the argv that was recorded: the sweep's own command, and the command that reproduces one cell's
// trial outside crashgrid, with the working directory and the environment variables it ran with. The
// bugreport, the HTML report, the JUnit file, `show` and the table headers all print these.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "store/store.h"
#include "trial/run.h"
#include "trial/trial.h"

namespace cg {

// `cd '/my dir' && ` when the run recorded its working directory, else "".
std::string CdPrefix(const RunRecord& run);

// The sweep's command line as typed, each word shell-quoted (the stored text, for a run without argv).
std::string RunCommandLine(const RunRecord& run);

// What one trial of `cell` executed (trial/trial_command.h), as a line for /bin/sh:
//   cd '/my dir' && GST_DEBUG=3 THREADS=4 ./prog 'a b'
// the --env variables, then the grid and --param values, then the program's argv with {NAME} replaced. A
// built-in workload's trial is `crashgrid run WORKLOAD ...` (crashgrid from PATH).
std::string ReproductionCommand(const RunRecord& run, const Cell& cell);

// The cell a report shows a reproduction for: the one with the most crashes (the higher rate on a tie), else
// the first cell of the grid.
Cell ReproductionCell(const RunRecord& run, const std::vector<TrialGroup>& groups);

// "driver=570 rack='b 7'" (values shell-quoted, as --label would take them back); "" without labels.
std::string LabelsText(const std::map<std::string, std::string>& labels);

}  // namespace cg

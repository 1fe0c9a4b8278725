// `crashgrid table DB [--run ID] [--format F] [--rows AXIS] [--cols AXIS] [--signature SIG] [--by gpu]`: a
// run's crash table, from the database a sweep wrote.
#include <cstdio>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "report/cells.h"
#include "report/table.h"
#include "store/store.h"
#include "util/error.h"
#include "util/strings.h"

namespace cg {

constexpr const char* kTableExamples = R"(
counting (every format but seed): a crash is a trial that crashed or hung; n counts crashes and clean runs
(exit 0) only. Trials that failed (exited non-zero) or overran (killed past their bound while still making
progress) are neither: shown apart as "+N failed", "+N overran", in no rate and no verdict.

examples:
  crashgrid table seed.db                                the latest run, percent cells
  crashgrid table seed.db --format seed                  what table.py printed
  crashgrid table gst.db --rows serialize --cols threads one table per value of the other axes
  crashgrid table gst.db --signature 'SIGSEGV|wild|libnvcuvid'   only crashes with that signature (prefix)
)";

int CmdTable(const Args& args) {
  CLI::App app{"Prints a run's crash table: rows and columns are grid axes, one table per combination of the "
               "other axes.",
               "crashgrid table"};
  app.footer("\n" + TableFormatsHelp() + kTableExamples);
  std::string db;
  int64_t run_id = 0;
  std::string format = "percent";
  TableOptions options;
  app.add_option("DB", db, "the database a sweep wrote (--db)")->required();
  app.add_option("--run", run_id, "run id (default: the latest run in DB)");
  app.add_option("--format", format, TableFormatChoices() + " (default: percent)")->default_val("percent");
  app.add_option("--rows", options.rows, "grid axis for the rows (default: the first axis)");
  app.add_option("--cols", options.cols, "grid axis for the columns (default: the first other axis)");
  app.add_option("--signature", options.signature,
                 "count only crashes with this signature, or an unambiguous prefix of it");
  std::string by;
  app.add_option("--by", by, "gpu: the GPU each trial ran on (sweep --gpus) as one more axis, the rows unless "
                             "--rows says otherwise");
  if (int rc = ParseCli(app, args); rc >= 0) return rc;
  if (!by.empty() && by != "gpu") {
    PrintError(fmt::format("unknown --by '{}' (use gpu)", by));
    return kExitUsage;
  }

  std::string err;
  if (!ParseTableFormat(format, &options.format, &err)) {
    PrintError("--format: " + err);
    return kExitUsage;
  }
  int code = kExitFailure;
  std::vector<ReportRun> runs;
  // `--by gpu`: the store groups the trials per cell and GPU; the GPU becomes one more axis of the grid, the
  // rows unless --rows says otherwise, so that a faulty GPU shows as its own rows.
  auto store = OpenRuns(db, run_id ? std::vector<int64_t>{run_id} : std::vector<int64_t>{}, RunPick::kLatest, &runs,
                        &code, by == "gpu" ? GroupBy::kCellAndGpu : GroupBy::kCell);
  if (!store) return code;
  if (by == "gpu") {
    if (!AddGpuAxis(&runs[0].run, &runs[0].groups, &err)) {
      PrintError(err);
      return kExitUsage;
    }
    if (options.rows.empty()) options.rows = "gpu";
  }
  std::string out;
  if (!RenderTable(runs[0].run, runs[0].groups, options, &out, &err)) {
    PrintError(err);
    return kExitUsage;
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return std::fflush(stdout) == 0 ? kExitOk : kExitFailure;
}

}  // namespace cg

// crashgrid export: every trial, every column, as JSON lines or CSV.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "report/export.h"
#include "report/output.h"
#include "report/select.h"
#include "util/error.h"
#include "util/strings.h"

namespace cg {

int CmdExport(const Args& args) {
  CLI::App app(
      "Writes every trial with every recorded field: --format jsonl (one JSON object per line) or csv.\n\n"
      "  crashgrid export ref.db --format csv -o trials.csv\n"
      "  crashgrid export ref.db --format jsonl --run 2 | jq .signature",
      "crashgrid export");
  std::string db, output = "-", format = "jsonl";
  int64_t run = 0;
  app.add_option("db", db, "SQLite file written by crashgrid sweep")->required();
  app.add_option("--format", format, "jsonl|csv (default: jsonl)");
  app.add_option("--run", run, "run id (default: every run)");
  app.add_option("-o,--output", output, "file to write (default: '-', stdout)");
  if (int rc = ParseCli(app, args); rc >= 0) return rc;
  if (format != "jsonl" && format != "csv") {
    PrintError(fmt::format("unknown --format '{}'{} (use jsonl or csv)", format, DidYouMean(format, {"jsonl", "csv"})));
    return kExitUsage;
  }
  std::vector<ReportRun> loaded;
  std::string err;
  int code = kExitFailure;
  std::vector<int64_t> ids;
  if (run) ids.push_back(run);
  if (!LoadReportRuns(db, ids, false, true, &loaded, &err, &code)) {
    PrintError(err);
    return code;
  }
  std::vector<RunRecord> runs;
  std::vector<StoredTrial> trials;
  for (auto& rr : loaded) {
    runs.push_back(rr.run);
    trials.insert(trials.end(), rr.trials.begin(), rr.trials.end());
  }
  std::string data = format == "csv" ? RenderCsv(runs, trials) : RenderJsonl(trials);
  if (!WriteTextFile(output, data, &err)) {
    PrintError(err);
    return kExitFailure;
  }
  return kExitOk;
}

}  // namespace cg

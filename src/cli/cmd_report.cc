// crashgrid report: the self-contained HTML report of a database.
#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/common.h"
#include "report/html.h"
#include "report/output.h"
#include "util/error.h"

namespace cg {

int CmdReport(const Args& args) {
  CLI::App app(
      "Writes one self-contained HTML page (no network, no script). It opens with the answer: where it\n"
      "crashes (each cell's verdict, k/n, rate and interval), what crashed (top signatures with their API\n"
      "entry and phase), which fix (the `mitigations` recommendation and its cost, for a `serialize` or\n"
      "`policy` axis) and, with several runs, what differs between them (driver, GPUs, host, labels).\n"
      "Then the details: the crash heatmaps, throughput, crash signatures with their all-threads reports,\n"
      "environment and command line of each run; with two runs the comparison.\n\n"
      "  crashgrid report ref.db -o report.html\n"
      "  crashgrid report drivers.db --run 1 --run 2 -o compare.html",
      "crashgrid report");
  std::string db, output;
  std::vector<int64_t> runs;
  app.add_option("db", db, "SQLite file written by crashgrid sweep")->required();
  app.add_option("-o,--output", output, "HTML file to write ('-' for stdout)")->required();
  app.add_option("--run", runs, "run id to include (repeatable; default: every run)");
  if (int rc = ParseCli(app, args); rc >= 0) return rc;

  std::vector<ReportRun> loaded;
  std::string err;
  int code = kExitFailure;
  auto store = OpenRuns(db, runs, RunPick::kAll, &loaded, &code);
  if (!store) return code;
  for (auto& rr : loaded)
    if (!LoadShownTrials(*store, &rr, &code)) return code;
  HtmlReportOptions options;
  options.source = db;
  if (!WriteTextFile(output, RenderHtmlReport(loaded, options), &err)) {
    PrintError(err);
    return kExitFailure;
  }
  return kExitOk;
}

}  // namespace cg

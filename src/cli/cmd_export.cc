// crashgrid export: every trial, every column, as JSON lines or CSV.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "report/export.h"
#include "report/output.h"
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
  int code = kExitFailure;
  std::vector<int64_t> ids;
  if (run) ids.push_back(run);
  auto store = OpenRuns(db, ids, RunPick::kAll, &loaded, &code);
  if (!store) return code;
  // Streamed: one trial in memory at a time, each line written as it is read (a million trials in constant
  // memory). The CSV header needs every axis first: the grouped trials name them without reading a trial.
  std::string err;
  StreamWriter out;
  if (!out.Open(output, &err)) {
    PrintError(err);
    return kExitFailure;
  }
  std::vector<std::string> axes;
  if (format == "csv") {
    std::vector<RunRecord> runs;
    std::vector<std::vector<TrialGroup>> groups;
    for (const auto& rr : loaded) {
      runs.push_back(rr.run);
      groups.push_back(rr.groups);
    }
    axes = CsvAxes(runs, groups);
    out.Write(CsvHeader(axes));
  }
  for (const auto& rr : loaded) {
    bool ok = store->ForEachTrial(rr.run.id, /*full=*/true, [&](const StoredTrial& t) {
      return out.Write(format == "csv" ? CsvRow(axes, t) : JsonlLine(t));
    }, &err);
    if (!ok) {
      PrintError(err);
      return kExitDatabase;
    }
  }
  if (!out.Close(&err)) {
    PrintError(err);
    return kExitFailure;
  }
  return kExitOk;
}

}  // namespace cg

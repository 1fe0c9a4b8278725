// crashgrid heatmap: one run's crash map (or one signature's) as an SVG file for an issue tracker.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "report/bugreport.h"
#include "report/heatmap.h"
#include "report/output.h"
#include "report/svg.h"
#include "util/error.h"

namespace cg {

int CmdHeatmap(const Args& args) {
  CLI::App app(
      "Writes a run's crash probability heatmap (or one crash signature's) as a standalone SVG image.\n\n"
      "  crashgrid heatmap ref.db -o map.svg\n"
      "  crashgrid heatmap ref.db --run 2 --signature 'SIGSEGV/SEGV_MAPERR null' -o sig.svg",
      "crashgrid heatmap");
  std::string db, output, signature;
  int64_t run = 0;
  app.add_option("db", db, "SQLite file written by crashgrid sweep")->required();
  app.add_option("-o,--output", output, "SVG file to write ('-' for stdout)")->required();
  app.add_option("--run", run, "run id (default: the latest run)");
  app.add_option("--signature", signature, "map only crashes with this signature (exact or a unique prefix)");
  if (int rc = ParseCli(app, args); rc >= 0) return rc;

  std::vector<ReportRun> loaded;
  std::string err;
  int code = kExitFailure;
  std::vector<int64_t> ids;
  if (run) ids.push_back(run);
  if (!OpenRuns(db, ids, RunPick::kLatest, &loaded, &code)) return code;
  const ReportRun& rr = loaded.front();
  std::vector<Heatmap> maps;
  if (signature.empty()) {
    maps = BuildHeatmaps(rr.run, rr.groups, HeatMeasure::kCrashes);
  } else {
    std::string match;
    if (!MatchSignature(CountSignatures(rr.groups), signature, &match, &err)) {
      PrintError(fmt::format("run {}: {}", rr.run.id, err));
      return kExitUsage;
    }
    maps = BuildHeatmaps(rr.run, rr.groups, HeatMeasure::kSignature, match);
  }
  std::string caption = fmt::format("run {} ({}){}", rr.run.id, rr.run.workload,
                                    rr.run.reference_target ? ", reference target: crashes are deliberate" : "");
  if (!WriteTextFile(output, RenderSvgHeatmaps(maps, caption), &err)) {
    PrintError(err);
    return kExitFailure;
  }
  return kExitOk;
}

}  // namespace cg

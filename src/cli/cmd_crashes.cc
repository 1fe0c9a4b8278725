// `crashgrid crashes DB [--run ID] [--json]`: the crash and hang signatures of a run, most frequent first,
// with the cells each occurred in, first and last trial, a one-line summary and one representative stack;
// then the overran trials (slow, not stuck), which are not crashes.
#include <cstdio>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "report/crashes.h"
#include "store/store.h"
#include "util/error.h"

namespace cg {

constexpr const char* kCrashesExamples = R"(
examples:
  crashgrid crashes ref.db              signatures of the latest run
  crashgrid crashes ref.db --run 2      of run 2
  crashgrid crashes ref.db --json       for scripts (schema_version 1)
)";

int CmdCrashes(const Args& args) {
  CLI::App app{"Groups a run's crashed and hung trials by signature: counts, cells, first and last trial, and "
               "the faulting thread of one of them (a hang: its representative thread). Overran trials are "
               "listed apart: slow, not stuck, not crashes.",
               "crashgrid crashes"};
  app.footer(kCrashesExamples);
  std::string db;
  int64_t run_id = 0;
  bool json = false;
  app.add_option("DB", db, "the database a sweep wrote (--db)")->required();
  app.add_option("--run", run_id, "run id (default: the latest run in DB)");
  app.add_flag("--json", json, "print JSON instead of text");
  if (int rc = ParseCli(app, args); rc >= 0) return rc;

  int code = kExitFailure;
  std::vector<ReportRun> runs;
  auto store =
      OpenRuns(db, run_id ? std::vector<int64_t>{run_id} : std::vector<int64_t>{}, RunPick::kLatest, &runs, &code);
  if (!store) return code;
  std::string err;
  CrashesSummary summary = SummarizeCrashes(runs[0].run, runs[0].groups);
  // Only the first and last trial of each signature are read one by one: the first with its stack (the
  // representative), the last for its start time. Two loads per signature, not one per trial.
  auto load = [&](int64_t id, StoredTrial* t) {
    if (store->LoadTrial(id, t, &err)) return true;
    PrintError(err);
    return false;
  };
  auto fill = [&](SignatureGroup& g, bool keep_first) {
    StoredTrial first, last;
    if (!load(g.first.id, &first) || !load(g.last.id, &last)) return false;
    g.first.started_at = first.result.started_at;
    g.last.started_at = last.result.started_at;
    if (keep_first) g.representative = std::move(first);
    return true;
  };
  for (auto& g : summary.groups)
    if (!fill(g, /*keep_first=*/true)) return kExitDatabase;
  if (summary.overran.count > 0 && !fill(summary.overran, /*keep_first=*/false)) return kExitDatabase;
  // Invalid UTF-8 from a program (thread names, symbols) is replaced in JSON rather than thrown on.
  std::string out = json ? CrashesJson(summary).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n"
                         : RenderCrashes(summary, db);
  std::fwrite(out.data(), 1, out.size(), stdout);
  return kExitOk;
}

}  // namespace cg

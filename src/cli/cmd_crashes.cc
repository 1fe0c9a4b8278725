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
  RunRecord run_record;
  std::vector<StoredTrial> trials;
  auto store = OpenRun(db, run_id, /*full=*/false, &run_record, &trials, &code);
  if (!store) return code;
  const RunRecord* run = &run_record;
  std::string err;
  CrashesSummary summary;
  summary.run_id = run->id;
  summary.workload = run->workload;
  summary.reference_target = run->reference_target;
  summary.trials = static_cast<int64_t>(trials.size());
  for (const auto& t : trials) summary.crashes += IsCrash(t.result.outcome) ? 1 : 0;
  summary.groups = GroupCrashes(trials);
  summary.overran = GroupOverran(trials);
  // Only the representatives need their stacks: one full load per signature, not per trial.
  for (auto& g : summary.groups) {
    StoredTrial full;
    if (!store->LoadTrial(g.first.id, &full, &err)) {
      PrintError(err);
      return kExitDatabase;
    }
    g.representative = std::move(full);
  }
  std::string out = json ? CrashesJson(summary).dump(2) + "\n" : RenderCrashes(summary, db);
  std::fputs(out.c_str(), stdout);
  return kExitOk;
}

}  // namespace cg

// crashgrid mitigations: which serialization policy removes the crash in every cell, and what it costs.
#include <algorithm>
#include <cstdio>

#include <fmt/format.h>

#include "cli/common.h"
#include "report/mitigations.h"
#include "sweep/stopping.h"
#include "util/error.h"

namespace cg {
namespace {

const char kUsage[] =
    "The mitigation study of one run swept over a policy axis (--grid serialize=none,all,open,...): per\n"
    "policy, the SPRT verdict of every cell (all SAFE / some CRASHES / undecided), the pooled Clopper-Pearson\n"
    "upper bound on the crash probability, and the throughput relative to `none`; then the recommendation:\n"
    "the fastest policy that is SAFE in every cell (among policies within 3% of it, the one serializing the\n"
    "fewest phases), or the best candidate and how many more runs would decide it. A crash is a trial that\n"
    "crashed or hung; n counts crashes and clean runs. Trials that failed (exited non-zero) or overran (killed\n"
    "past their bound while still making progress) count in no verdict, and a policy with any is never\n"
    "recommended: a setting under which the program fails is not a fix.\n\n"
    "  crashgrid mitigations DB [--run ID] [--json]\n";

}  // namespace

int CmdMitigations(const Args& args) {
  CLI::App app{kUsage, "crashgrid mitigations"};
  std::string db, axis = "serialize";
  std::vector<int64_t> run;
  SprtParams sprt;
  bool json = false;
  app.add_option("db", db, "the database")->required();
  app.add_option("--run", run, "run id (default: the newest run with the policy axis)")
      ->check(CLI::PositiveNumber)
      ->expected(0, 1);
  app.add_option("--axis", axis, "the grid axis holding the policies (default serialize)");
  app.add_option("--p0", sprt.p0, "SPRT: crash probability called safe (default 0.01)");
  app.add_option("--p1", sprt.p1, "SPRT: crash probability called crashing (default 0.10)");
  app.add_option("--alpha", sprt.alpha, "SPRT: chance of calling a safe cell CRASHES (default 0.05)");
  app.add_option("--beta", sprt.beta, "SPRT: chance of calling a crashing cell SAFE (default 0.05)");
  app.add_flag("--json", json, "print JSON (schema_version 1) instead of text");
  if (int rc = ParseCli(app, args); rc >= 0) return rc;
  std::string err;
  if (!ValidateSprtParams(sprt, &err)) {
    PrintError(err);
    return kExitUsage;
  }
  int exit_code = kExitUsage;
  std::vector<ReportRun> loaded;
  if (!OpenRuns(db, run, RunPick::kAll, &loaded, &exit_code)) return exit_code;
  const ReportRun* chosen = &loaded.back();
  if (run.empty()) {
    // The newest run that has the policy axis: a database often holds the plain map first.
    auto has_axis = [&](const ReportRun& r) {
      return std::any_of(r.run.grid.begin(), r.run.grid.end(), [&](const GridAxis& a) { return a.name == axis; });
    };
    auto it = std::find_if(loaded.rbegin(), loaded.rend(), has_axis);
    if (it != loaded.rend()) chosen = &*it;
  }
  MitigationStudy study;
  if (!BuildMitigationStudy(chosen->run, chosen->groups, axis, sprt, &study, &err)) {
    PrintError(err);
    return kExitUsage;
  }
  std::string out = json ? MitigationsToJson(study).dump(2) + "\n" : RenderMitigationsText(study);
  std::fputs(out.c_str(), stdout);
  return kExitOk;
}

}  // namespace cg

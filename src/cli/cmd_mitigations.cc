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

const char kMitigationsUsage[] =
    "The mitigation study of one run swept over a policy axis (--grid serialize=none,all,open,...): per\n"
    "policy, the SPRT verdict of every cell (all SAFE / some CRASHES / undecided), the Clopper-Pearson upper\n"
    "bound on the crash probability of its weakest cell, and the throughput relative to `none`; then the\n"
    "recommendation:\n"
    "the fastest policy that is SAFE in every cell (among policies within 3% of it, the one serializing the\n"
    "fewest phases), or the best candidate and how many more runs would decide it. A crash is a trial that\n"
    "crashed or hung; n counts crashes and clean runs. Trials that failed (exited non-zero) or overran (killed\n"
    "past their bound while still making progress) count in no verdict, and a policy with any is never\n"
    "recommended: a setting under which the program fails is not a fix; nor is one whose trials could not start\n"
    "(untested), and a cell with any failed trial is never SAFE. The SPRT settings are the run's own (its\n"
    "sweep's --p0/--p1/--alpha/--beta) unless given here; the bound a recommendation states is its weakest\n"
    "cell's.\n\n"
    "  crashgrid mitigations DB [--run ID] [--json]\n";

}  // namespace

int CmdMitigations(const Args& args) {
  CLI::App app{kMitigationsUsage, "crashgrid mitigations"};
  std::string db, axis = "serialize";
  std::vector<int64_t> run;
  SprtParams sprt;  // where not given: the run's own (below)
  bool json = false;
  app.add_option("db", db, "the database")->required();
  app.add_option("--run", run, "run id (default: the newest run with the policy axis)")
      ->check(CLI::PositiveNumber)
      ->expected(0, 1);
  app.add_option("--axis", axis, "the grid axis holding the policies (default serialize)");
  CLI::Option* p0 = app.add_option("--p0", sprt.p0, "SPRT: crash probability called safe (default: the run's)");
  CLI::Option* p1 = app.add_option("--p1", sprt.p1, "SPRT: crash probability called crashing (default: the run's)");
  CLI::Option* alpha =
      app.add_option("--alpha", sprt.alpha, "SPRT: chance of calling a safe cell CRASHES (default: the run's)");
  CLI::Option* beta =
      app.add_option("--beta", sprt.beta, "SPRT: chance of calling a crashing cell SAFE (default: the run's)");
  app.add_flag("--json", json, "print JSON (schema_version 3) instead of text");
  if (int rc = ParseCli(app, args); rc >= 0) return rc;
  std::string err;
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
  // The run was swept, and its cells stopped, with its own SPRT settings: judge it by them unless told otherwise.
  SprtParams own = RunStoppingSettings(chosen->run).sprt;
  if (!p0->count()) sprt.p0 = own.p0;
  if (!p1->count()) sprt.p1 = own.p1;
  if (!alpha->count()) sprt.alpha = own.alpha;
  if (!beta->count()) sprt.beta = own.beta;
  if (!ValidateSprtParams(sprt, &err)) {
    PrintError(err);
    return kExitUsage;
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

// `crashgrid show DB TRIAL [--json]`: one trial's whole record: outcome, signal, cell, capture, every thread's
// stack as gdb's `thread apply all bt` prints it, and the output tails.
#include <cstdio>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "report/crashes.h"
#include "report/reproduce.h"
#include "store/store.h"
#include "sweep/amplify.h"
#include "util/error.h"
#include "util/strings.h"

namespace cg {
int CmdShow(const Args& args) {
  CLI::App app{"Prints one trial: outcome, signal, cell, capture method, all threads' stacks (faulting thread "
               "first) and the output tails.",
               "crashgrid show"};
  app.footer("\nexamples:\n  crashgrid show ref.db 17\n  crashgrid show ref.db 17 --json\n"
             "Trial ids of crashes: crashgrid crashes DB\n");
  std::string db;
  int64_t trial_id = 0;
  bool json = false;
  app.add_option("DB", db, "the database a sweep wrote (--db)")->required();
  app.add_option("TRIAL", trial_id, "trial id (crashgrid crashes DB lists them)")->required();
  app.add_flag("--json", json, "print the trial record as JSON");
  if (int rc = ParseCli(app, args); rc >= 0) return rc;

  std::string err;
  int code = kExitFailure;
  auto store = Store::Open(db, Store::Mode::kReadOnly, &err, &code);
  if (!store) {
    PrintError(err);
    return code;
  }
  StoredTrial trial;
  if (!store->LoadTrial(trial_id, &trial, &err)) {
    bool exists = true;
    std::string why;
    if (store->HasTrial(trial_id, &exists, &why) && !exists) {
      PrintError(fmt::format("no trial {} in '{}' (crashgrid crashes {} lists the trials that crashed)", trial_id,
                             db, db));
      return kExitUsage;
    }
    PrintError(err);
    return kExitDatabase;
  }
  // The run says how the trial was started: its labels, and the command that runs the same trial again.
  RunRecord run;
  if (!store->LoadRun(trial.run_id, &run, &err)) {
    PrintError(err);
    return kExitDatabase;
  }
  std::string repro = ReproductionCommand(run, trial.cell);
  // --amplify: the value of the trial's cell or run, and the seed its delays were drawn from (derived from the
  // trial's uid, docs/db.md: not a column of its own).
  std::string amplify;
  for (const auto& [k, v] : trial.cell)
    if (k == "amplify") amplify = v;
  if (amplify.empty() && run.params.count("amplify")) amplify = run.params.at("amplify");
  double amplify_p = 0;
  std::string ignored;
  if (!amplify.empty() && !ParseAmplify(amplify, "", &amplify_p, &ignored)) amplify_p = 0;
  uint64_t amplify_seed = AmplifySeed(trial.uid);
  std::string out;
  if (json) {
    nlohmann::json j = TrialReportJson(trial);
    j["labels"] = run.labels;
    j["reproduce"] = repro;
    j["amplify"] = amplify_p > 0 ? nlohmann::json{{"p", amplify_p}, {"seed", fmt::format("{:016x}", amplify_seed)}}
                                 : nlohmann::json(nullptr);
    out = j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  } else {
    out = RenderTrialReport(trial);
    if (amplify_p > 0) {
      out += fmt::format("\namplify: {} (delays at {} of API and phase entries and half the thread starts), seed {:016x} "
                         "(FNV-1a 64 of \"amplify/\" + trial uid {})\n",
                         amplify, amplify_p, amplify_seed, trial.uid);
    }
    if (!run.labels.empty()) out += "\nrun " + std::to_string(run.id) + " labels: " + LabelsText(run.labels) + "\n";
    out += "\nreproduce (one trial of this cell, without crashgrid):\n  " + repro + "\n";
    // Labels and the command hold what the user and the grid gave: controls made visible like the rest.
    out = TerminalText(out);
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return kExitOk;
}

}  // namespace cg

// Helpers shared by the subcommands: argument splitting and parsing, and the bridges from a subcommand to
// the renderers and rules it prints or uses.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "report/html.h"
#include "store/store.h"

namespace cg {

// Splits `... --exec -- PROGRAM ARGS...` (always last): returns (crashgrid's args, program argv).
std::pair<Args, Args> SplitExec(const Args& args);
// Parses args into app. Returns -1 to go on, or the exit code to return now (0 after --help, 2 on bad usage,
// with one `crashgrid: error:` line).
int ParseCli(CLI::App& app, const Args& args);
// True if `program` names an executable file (a path, or a name found in PATH).
bool ResolveProgram(const std::string& program, std::string* err);

// Loading the runs a user named: the one home for every command that reads a database (table, crashes,
// report, compare, export, mitigations, heatmap, bugreport).
enum class RunPick {
  kAll,     // no ids given: every run, oldest first
  kLatest,  // no ids given: the newest run only
};
// Opens `db` read-only and loads the runs with the given ids (in that order; when `ids` is empty, as `pick`
// says), each with its trials grouped (Store::LoadTrialGroups; ReportRun::shown stays empty). On failure
// prints the one `crashgrid: error:` line and returns nullptr with *exit_code set: kExitUsage for a database
// without runs or an unknown run id, kExitDatabase for a file that cannot be read (Store::Open's code for
// one that cannot be opened). `by` as in Store::LoadTrialGroups: kCellAndGpu for `--by gpu`, whose caller then
// adds the GPU as an axis (AddGpuAxis).
std::unique_ptr<Store> OpenRuns(const std::string& db, const std::vector<int64_t>& ids, RunPick pick,
                                std::vector<ReportRun>* runs, int* exit_code, GroupBy by = GroupBy::kCell);
// Loads rr->shown: the representative trial of each signature (RepresentativeTrialIds), with its tails and
// report. On failure prints the error and returns false with *exit_code = kExitDatabase.
bool LoadShownTrials(Store& store, ReportRun* rr, int* exit_code);
// The newest of `loaded` that has a signature starting with `signature` (bugreport, repro: without --run the
// newest run that has it), with the whole signature in *match; null with the first run's reason in *err.
ReportRun* NewestRunWithSignature(std::vector<ReportRun>& loaded, const std::string& signature, std::string* match,
                                  std::string* err);

}  // namespace cg

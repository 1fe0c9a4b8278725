// Helpers shared by the subcommands: argument splitting and parsing, and the bridges from a subcommand to
// the renderers and rules it prints or uses.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "store/store.h"

namespace cg {

// Splits `... --exec -- PROGRAM ARGS...` (always last): returns (crashgrid's args, program argv).
std::pair<Args, Args> SplitExec(const Args& args);
// Parses args into app. Returns -1 to go on, or the exit code to return now (0 after --help, 2 on bad usage,
// with one `crashgrid: error:` line).
int ParseCli(CLI::App& app, const Args& args);
// True if `program` names an executable file (a path, or a name found in PATH).
bool ResolveProgram(const std::string& program, std::string* err);

// Opens `db` read-only and picks run `run_id` (0: the latest) with its trials (`full`: tails and crash reports
// too). On failure prints the one `crashgrid: error:` line and returns nullptr with *exit_code set.
std::unique_ptr<Store> OpenRun(const std::string& db, int64_t run_id, bool full, RunRecord* run,
                               std::vector<StoredTrial>* trials, int* exit_code);

}  // namespace cg

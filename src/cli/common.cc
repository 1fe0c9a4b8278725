#include "cli/common.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include <fmt/format.h>

#include "util/error.h"
#include "util/strings.h"

namespace cg {

std::pair<Args, Args> SplitExec(const Args& args) {
  auto it = std::find(args.begin(), args.end(), "--exec");
  if (it == args.end()) return {args, {}};
  Args mine(args.begin(), it);
  Args program(it + 1, args.end());
  if (!program.empty() && program.front() == "--") program.erase(program.begin());
  if (program.empty()) mine.push_back("--exec");  // let the parser say it needs a program
  return {mine, program};
}

int ParseCli(CLI::App& app, const Args& args) {
  std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 consumes from the back
  try {
    app.parse(reversed);
  } catch (const CLI::CallForHelp&) {
    std::fputs(app.help().c_str(), stdout);
    return kExitOk;
  } catch (const CLI::CallForAllHelp&) {
    std::fputs(app.help("", CLI::AppFormatMode::All).c_str(), stdout);
    return kExitOk;
  } catch (const CLI::ParseError& e) {
    std::string what = e.what();
    if (what == "--exec") what = "--exec needs a program: --exec -- PROGRAM ARGS...";
    PrintError(fmt::format("{} (see {} --help)", what, app.get_name()));
    return kExitUsage;
  }
  return -1;
}

bool ResolveProgram(const std::string& program, std::string* err) {
  auto executable = [](const std::string& p) { return access(p.c_str(), X_OK) == 0; };
  if (program.find('/') != std::string::npos) {
    if (executable(program)) return true;
    *err = fmt::format("--exec program '{}' {} (give the path of an executable file)", program,
                       access(program.c_str(), F_OK) == 0 ? "is not executable" : "does not exist");
    return false;
  }
  const char* path = getenv("PATH");
  for (const auto& dir : Split(path ? path : "/usr/bin:/bin", ':')) {
    if (!dir.empty() && executable(dir + "/" + program)) return true;
  }
  *err = fmt::format("--exec program '{}' is not in PATH (give its path, e.g. ./{})", program, program);
  return false;
}

std::unique_ptr<Store> OpenRuns(const std::string& db, const std::vector<int64_t>& ids, RunPick pick,
                                std::vector<ReportRun>* out, int* exit_code) {
  out->clear();
  std::string err;
  auto store = Store::Open(db, Store::Mode::kReadOnly, &err, exit_code);
  if (!store) {
    PrintError(err);
    return nullptr;
  }
  std::vector<RunRecord> runs;
  if (!store->LoadRuns(&runs, &err)) {
    PrintError(err);
    *exit_code = kExitDatabase;
    return nullptr;
  }
  std::sort(runs.begin(), runs.end(), [](const RunRecord& a, const RunRecord& b) { return a.id < b.id; });
  if (runs.empty()) {
    PrintError(fmt::format("'{}' holds no runs yet (record one with crashgrid sweep ... --db {})", db, db));
    *exit_code = kExitUsage;
    return nullptr;
  }
  std::vector<RunRecord> chosen;
  if (ids.empty()) {
    if (pick == RunPick::kLatest) {
      chosen.push_back(runs.back());
    } else {
      chosen = runs;
    }
  }
  for (int64_t id : ids) {
    auto it = std::find_if(runs.begin(), runs.end(), [&](const RunRecord& r) { return r.id == id; });
    if (it == runs.end()) {
      std::vector<std::string> known;
      for (const auto& r : runs) known.push_back(std::to_string(r.id));
      PrintError(fmt::format("no run {} in '{}' (its runs: {})", id, db, Join(known, ", ")));
      *exit_code = kExitUsage;
      return nullptr;
    }
    chosen.push_back(*it);
  }
  for (auto& run : chosen) {
    ReportRun rr;
    rr.run = std::move(run);
    // The verdicts stored where each cell's stopping rule stopped (none before schema v4: recomputed).
    if (!store->LoadTrialGroups(rr.run.id, rr.run.duration_s, &rr.groups, &err) ||
        !store->LoadCellVerdicts(rr.run.id, &rr.run.verdicts, &err)) {
      PrintError(err);
      *exit_code = kExitDatabase;
      return nullptr;
    }
    out->push_back(std::move(rr));
  }
  return store;
}

bool LoadShownTrials(Store& store, ReportRun* rr, int* exit_code) {
  for (int64_t id : RepresentativeTrialIds(rr->groups)) {
    StoredTrial t;
    std::string err;
    if (!store.LoadTrial(id, &t, &err)) {
      PrintError(err);
      *exit_code = kExitDatabase;
      return false;
    }
    rr->shown.emplace(id, std::move(t));
  }
  return true;
}

}  // namespace cg

#include "cli/common.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include <fmt/format.h>

#include "report/bugreport.h"
#include "report/heatmap.h"
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

namespace {

// Why execve would refuse `path`, or "" when it would run it: a directory, a file without execute permission,
// or a script whose #! interpreter is missing (execve's ENOENT, which would otherwise surface as every trial
// failing to start, after the database was made).
std::string ExecProblem(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return "does not exist";
  if (S_ISDIR(st.st_mode)) return "is a directory";
  if (!S_ISREG(st.st_mode)) return "is not a regular file";
  if (access(path.c_str(), X_OK) != 0) return "is not executable";
  char head[256] = {};
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";  // execute-only: execve may still run it
  ssize_t n = read(fd, head, sizeof head - 1);
  close(fd);
  if (n < 2 || head[0] != '#' || head[1] != '!') return "";
  std::string_view line(head + 2, static_cast<size_t>(n) - 2);
  line = line.substr(0, line.find('\n'));
  line = Trim(line);
  std::string interpreter(line.substr(0, line.find_first_of(" \t")));
  if (interpreter.empty()) return "has an empty #! line";
  struct stat ist;
  if (stat(interpreter.c_str(), &ist) != 0 || !S_ISREG(ist.st_mode) || access(interpreter.c_str(), X_OK) != 0)
    return fmt::format("names the interpreter '{}' in its #! line, which is not an executable file", interpreter);
  return "";
}

}  // namespace

bool ResolveProgram(const std::string& program, std::string* err) {
  if (program.find('/') != std::string::npos) {
    std::string problem = ExecProblem(program);
    if (problem.empty()) return true;
    bool script = problem.find("#!") != std::string::npos;
    *err = fmt::format("--exec program '{}' {} ({})", program, problem,
                       script ? "fix its #! line" : "give the path of an executable file");
    return false;
  }
  const char* path = getenv("PATH");
  for (const auto& dir : Split(path ? path : "/usr/bin:/bin", ':')) {
    if (dir.empty()) continue;
    std::string candidate = dir + "/" + program;
    struct stat st;
    // As execvp does: the first executable regular file; a directory of that name is passed over.
    if (stat(candidate.c_str(), &st) != 0 || !S_ISREG(st.st_mode) || access(candidate.c_str(), X_OK) != 0) continue;
    std::string problem = ExecProblem(candidate);
    if (problem.empty()) return true;
    *err = fmt::format("--exec program '{}' ({}) {} (fix its #! line)", program, candidate, problem);
    return false;
  }
  *err = fmt::format("--exec program '{}' is not in PATH (give its path, e.g. ./{})", program, program);
  return false;
}

std::unique_ptr<Store> OpenRuns(const std::string& db, const std::vector<int64_t>& ids, RunPick pick,
                                std::vector<ReportRun>* out, int* exit_code, GroupBy by) {
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
    if (!store->LoadTrialGroups(rr.run.id, rr.run.duration_s, &rr.groups, &err, by) ||
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

ReportRun* NewestRunWithSignature(std::vector<ReportRun>& loaded, const std::string& signature, std::string* match,
                                  std::string* err) {
  err->clear();
  for (auto it = loaded.rbegin(); it != loaded.rend(); ++it) {
    std::string e;
    if (MatchSignature(CountSignatures(it->groups), signature, match, &e)) return &*it;
    if (err->empty()) *err = fmt::format("run {}: {}", it->run.id, e);
  }
  return nullptr;
}

}  // namespace cg

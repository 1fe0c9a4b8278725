// crashgrid repro: a directory a vendor engineer builds and runs without crashgrid to see one crash.
#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "report/bugreport.h"
#include "report/heatmap.h"
#include "report/output.h"
#include "report/repro.h"
#include "util/error.h"
#include "workloads/repro/repro_sources.h"

namespace cg {

namespace {

constexpr const char* kReproUsage =
    "Writes DIR: for a built-in workload, its own source as crashgrid compiled it, with the cell's settings,\n"
    "a CMakeLists.txt and a Makefile (the loop prints how many runs crashed); for an --exec program, run.sh\n"
    "(the program's command, environment and working directory in a loop that counts crashes) and the\n"
    "build-ids of every module in the crash stacks. Both with README.md: the environment, the signature's\n"
    "table, the representative all-threads report. The cell is the one with the most crashes of SIG.\n"
    "Built-in workloads exported: reference-race, nvdec, eglstream, cuda, nvenc and gst (all but the first C ports).\n"
    "Exit codes: 0 written, 2 unknown signature or DIR not "
    "empty, 3 unreadable database, 1 a file could not be written.\n\n"
    "  crashgrid repro ref.db --signature 'SIGSEGV/SEGV_MAPERR' -o repro/ && cd repro && make && ./repro";

// 1 if `dir` is missing or empty, 0 if it holds something, -1 (with *err) if it cannot be read.
int DirIsEmpty(const std::string& dir, std::string* err) {
  DIR* d = opendir(dir.c_str());
  if (!d) {
    if (errno == ENOENT) return 1;
    *err = fmt::format("cannot read output directory '{}': {}", dir, strerror(errno));
    return -1;
  }
  int empty = 1;
  while (dirent* e = readdir(d)) {
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
      empty = 0;
      break;
    }
  }
  closedir(d);
  return empty;
}

bool WriteRepro(const std::vector<ReproFile>& files, const std::string& dir, std::string* err) {
  if (mkdir(dir.c_str(), 0777) != 0 && errno != EEXIST) {
    *err = fmt::format("cannot create directory '{}': {} (check that its parent exists)", dir, strerror(errno));
    return false;
  }
  for (const ReproFile& f : files) {
    std::string path = dir + "/" + f.name;
    if (!WriteTextFile(path, f.text, err)) return false;
    if (f.executable && chmod(path.c_str(), 0755) != 0) {
      *err = fmt::format("cannot make '{}' executable: {}", path, strerror(errno));
      return false;
    }
  }
  return true;
}

}  // namespace

int CmdRepro(const Args& args) {
  CLI::App app(kReproUsage, "crashgrid repro");
  std::string db, output, signature;
  int64_t run = 0;
  int runs = 20;
  bool force = false;
  app.add_option("db", db, "SQLite file written by crashgrid sweep")->required();
  app.add_option("--signature", signature, "crash signature (exact or a unique prefix; `crashgrid crashes DB` lists them)")
      ->required();
  app.add_option("-o,--output", output, "directory to write (created if missing; must be empty unless --force)")
      ->required();
  app.add_option("--run", run, "run id (default: the newest run with that signature)");
  app.add_option("--runs", runs, "runs the exported loop makes by default (default 20)")
      ->check(CLI::Range(1, 1000000));
  app.add_flag("--force", force, "write into a non-empty DIR, replacing files of the same names");
  if (int rc = ParseCli(app, args); rc >= 0) return rc;

  std::string err;
  int empty = DirIsEmpty(output, &err);
  if (empty < 0) {
    PrintError(err);
    return kExitFailure;
  }
  if (!empty && !force) {
    PrintError(fmt::format("output directory '{}' is not empty (pick another -o, or add --force to write into it)",
                           output));
    return kExitUsage;
  }

  std::vector<ReportRun> loaded;
  int code = kExitFailure;
  std::vector<int64_t> ids;
  if (run) ids.push_back(run);
  auto store = OpenRuns(db, ids, RunPick::kAll, &loaded, &code);
  if (!store) return code;
  std::string match, first_err;
  ReportRun* chosen = NewestRunWithSignature(loaded, signature, &match, &first_err);
  if (!chosen) {
    PrintError(first_err);
    return kExitUsage;
  }
  if (!LoadShownTrials(*store, chosen, &code)) return code;

  ReproInput in;
  in.run = chosen;
  in.signature = match;
  in.runs = runs;
  for (EmbeddedFile& f : WorkloadReproSources(chosen->run.workload))
    in.sources.push_back({std::move(f.name), std::move(f.path), std::move(f.text)});
  // Every module of every stack of this signature, not only the representative's.
  bool read = store->ForEachTrial(chosen->run.id, /*full=*/true,
                                  [&](const StoredTrial& t) {
                                    if (t.result.report && EffectiveSignature(t.result) == match)
                                      AddStackModules(*t.result.report, &in.modules);
                                    return true;
                                  },
                                  &err);
  if (!read) {
    PrintError(fmt::format("cannot read the trials of run {} from '{}': {}", chosen->run.id, db, err));
    return kExitDatabase;
  }
  std::vector<ReproFile> files;
  if (!RenderRepro(in, &files, &err)) {
    PrintError(err);
    return kExitUsage;
  }
  if (!WriteRepro(files, output, &err)) {
    PrintError(err);
    return kExitFailure;
  }
  std::string names;
  for (const auto& f : files) names += (names.empty() ? "" : ", ") + f.name;
  std::printf("wrote %s/ for run %lld, signature %s: %s\n", output.c_str(), static_cast<long long>(chosen->run.id),
              match.c_str(), names.c_str());
  if (in.sources.empty())
    std::printf("run it: %s/run.sh [RUNS]\n", output.c_str());
  else
    std::printf("build and run it: cd %s && make && ./repro   (or cmake -S . -B build)\n", output.c_str());
  return kExitOk;
}

}  // namespace cg

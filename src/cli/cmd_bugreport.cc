// crashgrid bugreport: a directory to attach to a vendor ticket for one crash signature.
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "report/bugreport.h"
#include "report/output.h"
#include "util/error.h"
#include "util/strings.h"

namespace cg {

namespace {

// Writes README.md, heatmap.svg and (when captured) report.txt into `dir`, creating it if needed.
bool WriteBugReport(const BugReport& report, const std::string& dir, std::string* err) {
  if (mkdir(dir.c_str(), 0777) != 0 && errno != EEXIST) {
    *err = fmt::format("cannot create directory '{}': {} (check that its parent exists)", dir, strerror(errno));
    return false;
  }
  if (!WriteTextFile(dir + "/README.md", report.markdown, err)) return false;
  if (!WriteTextFile(dir + "/heatmap.svg", report.svg, err)) return false;
  if (!report.threads.empty() && !WriteTextFile(dir + "/report.txt", report.threads, err)) return false;
  return true;
}

}  // namespace

int CmdBugreport(const Args& args) {
  CLI::App app(
      "Writes DIR/README.md (environment, driver, the signature's crash table, the representative\n"
      "all-threads report, the command that reproduces it), DIR/heatmap.svg and DIR/report.txt.\n\n"
      "  crashgrid bugreport ref.db --signature 'SIGSEGV/SEGV_MAPERR' -o bug/",
      "crashgrid bugreport");
  std::string db, output, signature;
  int64_t run = 0;
  app.add_option("db", db, "SQLite file written by crashgrid sweep")->required();
  app.add_option("--signature", signature, "crash signature (exact or a unique prefix)")->required();
  app.add_option("-o,--output", output, "directory to write (created if missing)")->required();
  app.add_option("--run", run, "run id (default: the newest run with that signature)");
  if (int rc = ParseCli(app, args); rc >= 0) return rc;

  std::vector<ReportRun> loaded;
  std::string err;
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
  BugReport report = RenderBugReport(*chosen, match);
  if (!WriteBugReport(report, output, &err)) {
    PrintError(err);
    return kExitFailure;
  }
  std::printf("wrote %s/README.md and %s/heatmap.svg%s for run %lld, signature %s\n", output.c_str(), output.c_str(),
              report.threads.empty() ? "" : (" and " + output + "/report.txt").c_str(),
              static_cast<long long>(chosen->run.id), TerminalLine(match).c_str());
  return kExitOk;
}

}  // namespace cg

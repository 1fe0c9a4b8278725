// crashgrid: maps where multi-threaded GPU pipelines crash, what crashed, and which mitigation fixes it.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "util/error.h"
#include "util/strings.h"
#include "version.h"

namespace cg {
namespace {

struct Command {
  const char* name;
  int (*fn)(const Args&);
  const char* summary;
};

const Command kCommands[] = {
    {"run", CmdRun, "run one workload in this process (what a trial runs)"},
    {"sweep", CmdSweep, "run a workload over a grid of settings, each trial supervised"},
    {"table", CmdTable, "print a sweep's crash table (seed, percent, markdown, csv, json)"},
    {"compare", CmdCompare, "compare two runs (or one run split by a parameter) cell by cell, exact tests"},
    {"mitigations", CmdMitigations, "which serialization policy removes the crash, and at what throughput cost"},
    {"workloads", CmdWorkloads, "list the built-in workloads, their phases and parameters"},
    {"crashes", CmdCrashes, "list a run's crash and hang signatures: counts, cells, a representative stack"},
    {"show", CmdShow, "print one trial: outcome, signal, every thread's stack, output tails"},
    {"report", CmdReport, "write a self-contained HTML report (heatmaps, signatures, environment)"},
    {"heatmap", CmdHeatmap, "write a run's crash heatmap (or one signature's) as SVG"},
    {"bugreport", CmdBugreport, "write a bug-report bundle for one crash signature (Markdown + SVG)"},
    {"repro", CmdRepro, "write a reproduction a vendor builds and runs without crashgrid, for one signature"},
    {"export", CmdExport, "write every trial as JSON lines or CSV"},
    {"merge", CmdMerge, "combine shards (--shard K/N) and databases from several machines into one file"},
    {"doctor", CmdDoctor, "what this machine can run (GPU, driver, NVENC/NVDEC, EGL, GStreamer, capture) and why not"},
};

void PrintUsage(FILE* out) {
  std::fprintf(out,
               "usage: crashgrid COMMAND [options]\n\n"
               "Maps crash probability of multi-threaded workloads over a grid of settings.\n\ncommands:\n");
  for (const auto& c : kCommands) std::fprintf(out, "  %-12s %s\n", c.name, c.summary);
  std::fprintf(out, "\n`crashgrid COMMAND --help` for a command's options. Exit codes: 0 ok, 1 failure, 2 bad "
                    "usage, 3 bad database, 4 cannot run here, 130 interrupted.\n");
}

}  // namespace
}  // namespace cg

int main(int argc, char** argv) {
  using namespace cg;
  if (argc < 2) {
    PrintUsage(stderr);
    return kExitUsage;
  }
  std::string name = argv[1];
  if (name == "--help" || name == "-h" || name == "help") {
    PrintUsage(stdout);
    return kExitOk;
  }
  if (name == "--version") {
    std::printf("crashgrid %s (%s)\n", CRASHGRID_VERSION, CRASHGRID_COMMIT);
    return kExitOk;
  }
  Args args(argv + 2, argv + argc);
  std::vector<std::string> names;
  for (const auto& c : kCommands) {
    if (name == c.name) return c.fn(args);
    names.push_back(c.name);
  }
  PrintError("unknown command '" + name + "'" + DidYouMean(name, names) + " (see crashgrid --help)");
  return kExitUsage;
}

// `crashgrid repro`: what a vendor engineer builds and runs without crashgrid to see one crash signature.
// For a built-in workload, the workload's own sources as crashgrid compiled them (workloads/repro/
// repro_sources.h) with the cell's settings in repro_cell.h, a CMakeLists.txt and a Makefile; for an --exec
// program, a run.sh loop over the command, environment and working directory the trials ran with, and the
// build-ids of every module in the crash stacks. Both with a README.md: environment, the signature's table,
// the representative all-threads report (the bugreport's). Renderers only: the cli writes the files.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "report/html.h"
#include "trial/trial.h"

namespace cg {

struct ReproFile {
  std::string name;  // relative to the output directory
  std::string text;
  bool executable = false;
};

// module path -> build-id ("" when the module has none), over the frames of every thread of `report`.
void AddStackModules(const CrashReport& report, std::map<std::string, std::string>* modules);

struct ReproInput {
  const ReportRun* run = nullptr;  // with rr.shown loaded (LoadShownTrials)
  std::string signature;           // as MatchSignature returned it
  // A built-in workload's exported files (name, text, and where they live in crashgrid's tree).
  struct Source {
    std::string name, path, text;
  };
  std::vector<Source> sources;
  std::map<std::string, std::string> modules;  // from every trial with the signature (AddStackModules)
  int runs = 20;                               // runs the exported loop makes by default
};

// The cell with the most trials of `signature` (the higher rate on a tie), its k and n counted over
// crashes and clean runs; false when no trial of the run has the signature.
bool SignatureCell(const ReportRun& rr, const std::string& signature, Cell* cell, int64_t* k, int64_t* n);

// A C string literal body for `s`: quotes, backslashes and every byte outside printable ASCII escaped.
std::string CStringLiteral(std::string_view s);

// The files of the reproduction. False with *err for a built-in workload that has no exported sources (the
// message names the workloads that have) or a signature no trial of the run has.
bool RenderRepro(const ReproInput& in, std::vector<ReproFile>* files, std::string* err);

}  // namespace cg

// `crashgrid bugreport`: what a vendor ticket needs for one crash signature — environment and driver, the
// crash table of that signature, the representative all-threads report, the exact command that reproduces it,
// and the heatmap as SVG.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "report/heatmap.h"
#include "report/html.h"
#include "store/store.h"
#include "trial/run.h"

namespace cg {

// Finds the signature `query` names: an exact match, else the only signature it is a prefix of. On failure
// *err says why (unknown, or ambiguous) and lists the signatures with their counts.
// A fenced Markdown code block longer than any backtick run inside, so captured text cannot close it; the
// text escaped for a terminal (TerminalText).
std::string MdBlock(std::string_view raw, const std::string& lang = "");

bool MatchSignature(const std::vector<SignatureCount>& signatures, const std::string& query, std::string* match,
                    std::string* err);

// The sweep's argv restricted to one cell: the --grid options replaced by one `--grid NAME=VALUE` per axis
// of `cell`, --runs and --db replaced, resume/output-only options dropped, --exec kept last.
std::vector<std::string> ReproArgv(const RunRecord& run, const Cell& cell, int runs, const std::string& db);

struct BugReport {
  std::string markdown;  // README.md
  std::string svg;       // heatmap.svg
  std::string threads;   // report.txt: the representative all-threads report ("" if none was captured)
};

// Renders the bundle for `signature` (as MatchSignature returned it) of one run; its representative trial
// comes from rr.shown (RepresentativeTrialIds).
BugReport RenderBugReport(const ReportRun& rr, const std::string& signature);


}  // namespace cg

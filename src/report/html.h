// `crashgrid report`: one self-contained HTML page (inline CSS only, no script, no fonts, no network) with
// the heatmaps, crash signatures and their representative all-threads reports, the environment and command
// line of each run, the comparison of two runs and the mitigation table of a `serialize` axis.
//
// The page carries a Content-Security-Policy that forbids every script and every fetch, and every captured
// string is escaped, so output from a hostile workload can neither become markup nor run.
#pragma once

#include <string>
#include <vector>

#include "store/store.h"
#include "trial/run.h"

namespace cg {

struct ReportRun {
  RunRecord run;
  std::vector<StoredTrial> trials;  // loaded with `full` (output tails and crash reports)
};

struct HtmlReportOptions {
  std::string source;  // where the data came from, e.g. the database path (shown in the header)
};

// The whole page. With exactly two runs it adds the comparison view (cells the two runs share).
std::string RenderHtmlReport(const std::vector<ReportRun>& runs, const HtmlReportOptions& options);

// The trial whose captured report represents a signature: the first one with a crash report, else the first.
// nullptr when no trial has the signature.
const StoredTrial* RepresentativeTrial(const std::vector<StoredTrial>& trials, const std::string& signature);

}  // namespace cg

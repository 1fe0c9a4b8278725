// `crashgrid report`: one self-contained HTML page (inline CSS only, no script, no fonts, no network). It opens
// with the answer, in this order: where it crashes (every cell with its verdict, k/n, rate and interval,
// crashing cells first), what crashed (the top signatures with their API entry and phase), which fix (the
// mitigation study's recommendation and its cost, for runs with a `serialize` or `policy` axis) and, with
// several runs, what differs between them (driver, GPUs, host, labels, environment). The details follow: the
// comparison of two runs, then per run its command line, heatmaps (rate and interval printed in each cell),
// mitigation table, crash signatures with their representative all-threads reports and environment.
//
// The page carries a Content-Security-Policy that forbids every script and every fetch, and every captured
// string is escaped, so output from a hostile workload can neither become markup nor run.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "store/store.h"
#include "trial/run.h"

namespace cg {

// A run as the report renderers take it: its trials grouped, and the few trials they show in full.
struct ReportRun {
  RunRecord run;
  std::vector<TrialGroup> groups;  // Store::LoadTrialGroups
  // The representative trials (RepresentativeTrialIds), loaded with their tails and crash reports.
  std::map<int64_t, StoredTrial> shown;
};

// For trials already in memory (tests): the groups, and every representative among `trials` as `shown`.
ReportRun MakeReportRun(const RunRecord& run, const std::vector<StoredTrial>& trials);

struct HtmlReportOptions {
  std::string source;  // where the data came from, e.g. the database path (shown in the header)
};

// The whole page. With exactly two runs it adds the comparison view (cells the two runs share).
std::string RenderHtmlReport(const std::vector<ReportRun>& runs, const HtmlReportOptions& options);

// The trial whose captured report represents a signature (EffectiveSignature): the first one with a crash
// report, else the first. 0 when no trial has the signature.
int64_t RepresentativeTrialId(const std::vector<TrialGroup>& groups, const std::string& signature);
// The representatives of every signature of the run: the trials a caller loads into ReportRun::shown.
std::vector<int64_t> RepresentativeTrialIds(const std::vector<TrialGroup>& groups);
// The signature's representative from rr.shown; nullptr when there is none (or it was not loaded).
const StoredTrial* RepresentativeTrial(const ReportRun& rr, const std::string& signature);

}  // namespace cg

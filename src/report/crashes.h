// What `crashgrid crashes` and `crashgrid show` print: crashes grouped by signature, and one trial's whole
// capture in the shape of gdb's `thread apply all bt`. Plain records in, strings or JSON out; no I/O.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "store/store.h"

namespace cg {

constexpr int kCrashesJsonSchemaVersion = 1;

// One trial as a point in time.
struct TrialRef {
  int64_t id = 0;
  double started_at = 0;  // the grouping leaves it 0: the caller loads the trial (Store::LoadTrial) for it
};

// All crashed and hung trials that share one signature.
struct SignatureGroup {
  std::string signature;  // the stored signature, or EffectiveSignature(): "SIGSEGV (no stack)"
  bool captured = true;   // false when the trials had no stack (capture none, or capture failed)
  int64_t count = 0;
  std::vector<std::pair<std::string, int64_t>> cells;  // cell key and count, most crashes first
  TrialRef first, last;
  // The first trial of the group, with its report loaded (GroupCrashes leaves it empty; the caller loads
  // the trial with its report, since grouping needs no stacks).
  std::optional<StoredTrial> representative;
};

struct CrashesSummary {
  int64_t run_id = 0;
  std::string workload;
  std::map<std::string, std::string> labels;  // the run's --label values
  bool reference_target = false;
  int64_t trials = 0;
  int64_t crashes = 0;  // crashed + hung
  std::vector<SignatureGroup> groups;  // most trials first
  // The overran trials (killed while still making progress): not crashes, so never among `groups`; listed
  // after them in a section of their own. count 0 when there were none.
  SignatureGroup overran;
};

// Groups the crashed and hung trials by signature; groups ranked by count (ties: earlier first trial first).
// `trial_groups` are the run's trials grouped (Store::LoadTrialGroups).
std::vector<SignatureGroup> GroupCrashes(const std::vector<TrialGroup>& trial_groups);
// The overran trials as one group (signature kOverranSection, captured false), count 0 when there are none.
SignatureGroup GroupOverran(const std::vector<TrialGroup>& trial_groups);
// The whole summary but what needs a trial loaded: each group's representative and the start times of the
// first and last trials (TrialRef.started_at).
CrashesSummary SummarizeCrashes(const RunRecord& run, const std::vector<TrialGroup>& trial_groups);
constexpr const char* kOverranSection = "overran (slow, not stuck)";

// `crashgrid crashes`: one block per signature with its cells, first and last trial, the one-line summary
// of its representative trial (CrashSummary) and that trial's faulting thread (a hang's representative
// thread), top frames; then the overran trials, if any.
std::string RenderCrashes(const CrashesSummary& summary, const std::string& db_path);
nlohmann::json CrashesJson(const CrashesSummary& summary);

// `crashgrid show`: outcome, signal, cell, capture method, the one-line summary, every thread's stack
// (faulting thread first and marked, a hang's representative first and marked, each with the API call in
// flight and its workload phase), the modules with their build-ids, and the output tails.
std::string RenderTrialReport(const StoredTrial& trial);
nlohmann::json TrialReportJson(const StoredTrial& trial);

// "#3  0x00007f12345678ab in refrace_table_lookup+0x12 () from /usr/lib/libfoo.so.1", with " at FILE:LINE"
// before " from" when the frame has a line (code built with -g)
std::string FormatGdbFrame(size_t index, const Frame& frame);
// "Thread 32 \"cg-w3\" in cuvidDestroyDecoder (faulting thread, phase decode)": tid, name, the API entry the
// thread called (ThreadStack::api, else ThreadApi for records written before it existed) and notes.
std::string ThreadHeading(const ThreadStack& thread, const TrialResult& result);
// CrashSummary of the trial's report, each thread's phase filled from the workload status when the capture
// had none; "" without a report.
std::string TrialSummary(const TrialResult& result);
// Where a trial's report says it crashed or hung: the API entry and the workload phase of the thread
// `crashes` shows (the faulting thread of a crash, a hang's representative); "" for what is not known.
struct CrashSite {
  std::string api;
  std::string phase;
};
CrashSite TrialCrashSite(const TrialResult& result);
// "2026-11-22 03:10:02 UTC"
std::string FormatUtc(double unix_seconds);

}  // namespace cg

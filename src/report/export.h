// `crashgrid export`: every trial with every recorded field, for spreadsheets and scripts.
#pragma once

#include <string>
#include <vector>

#include "store/store.h"
#include "trial/run.h"

namespace cg {

// One JSON object per line: trial_id, run_id, trial_uid (StoredTrial::uid, kept across files by merge),
// cell_key, cell (axis -> value), repetition, seed_exit_code, evidence ("crash" for crashed and hung, "safe" for
// clean, "neither" for failed, overran and could-not-start: what tables and statistics count it as), every
// TrialResult field as trial_json.h writes it, and gpu_index and gpu_uuid (the GPU under sweep --gpus; -1 and ""
// without). Invalid UTF-8 in captured output becomes U+FFFD.
std::string RenderJsonl(const std::vector<StoredTrial>& trials);
// One trial's line of RenderJsonl, newline included: `export` writes them as the store streams them.
std::string JsonlLine(const StoredTrial& trial);

// RFC 4180 CSV with a header row: the identity columns, one column per grid axis of `runs` (union, in
// order of first appearance), the scalar result fields, the output tails, the structured fields
// (error_buckets, phases, threads, report) as JSON text, then trial_uid, gpu_index and gpu_uuid.
std::string RenderCsv(const std::vector<RunRecord>& runs, const std::vector<StoredTrial>& trials);
// The same in pieces, for streaming: the axis columns (the runs' grid axes, then any other axis a trial
// has, in order of its first trial: `groups` holds each run's grouped trials), the header row, and one row.
std::vector<std::string> CsvAxes(const std::vector<RunRecord>& runs, const std::vector<std::vector<TrialGroup>>& groups);
std::string CsvHeader(const std::vector<std::string>& axes);
std::string CsvRow(const std::vector<std::string>& axes, const StoredTrial& trial);

}  // namespace cg

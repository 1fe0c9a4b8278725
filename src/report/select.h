// Opening a database and picking the runs a report command shows (`--run ID`, default: all or the latest).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "report/html.h"
#include "store/store.h"

namespace cg {

// Opens `db` read-only and loads the runs with the given ids (all runs, oldest first, when `ids` is empty;
// only the newest when also `latest_only`), each with its trials (`full`: tails and crash reports too).
// On failure *err is the one-line message and *exit_code the code to exit with (kExitUsage for an unknown
// run id, kExitDatabase for an unusable file).
bool LoadReportRuns(const std::string& db, const std::vector<int64_t>& ids, bool latest_only, bool full,
                    std::vector<ReportRun>* out, std::string* err, int* exit_code);

}  // namespace cg

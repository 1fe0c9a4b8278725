#include "report/select.h"

#include <algorithm>

#include <fmt/format.h>

#include "util/error.h"

namespace cg {

bool LoadReportRuns(const std::string& db, const std::vector<int64_t>& ids, bool latest_only, bool full,
                    std::vector<ReportRun>* out, std::string* err, int* exit_code) {
  out->clear();
  auto store = Store::Open(db, Store::Mode::kReadOnly, err, exit_code);
  if (!store) return false;
  std::vector<RunRecord> runs;
  if (!store->LoadRuns(&runs, err)) {
    *exit_code = kExitDatabase;
    return false;
  }
  std::sort(runs.begin(), runs.end(), [](const RunRecord& a, const RunRecord& b) { return a.id < b.id; });
  if (runs.empty()) {
    *err = fmt::format("'{}' holds no runs yet (record one with crashgrid sweep ... --db {})", db, db);
    *exit_code = kExitUsage;
    return false;
  }
  std::vector<RunRecord> chosen;
  if (ids.empty()) {
    if (latest_only) {
      chosen.push_back(runs.back());
    } else {
      chosen = runs;
    }
  } else {
    for (int64_t id : ids) {
      auto it = std::find_if(runs.begin(), runs.end(), [&](const RunRecord& r) { return r.id == id; });
      if (it == runs.end()) {
        std::string known;
        for (const auto& r : runs) known += (known.empty() ? "" : ", ") + std::to_string(r.id);
        *err = fmt::format("no run {} in '{}' (its runs: {})", id, db, known);
        *exit_code = kExitUsage;
        return false;
      }
      chosen.push_back(*it);
    }
  }
  for (auto& run : chosen) {
    ReportRun rr;
    rr.run = std::move(run);
    if (!store->LoadTrials(rr.run.id, full, &rr.trials, err)) {
      *exit_code = kExitDatabase;
      return false;
    }
    out->push_back(std::move(rr));
  }
  return true;
}

}  // namespace cg

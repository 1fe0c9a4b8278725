// Reads that scale with the grid, not with the trials: trials folded into groups as they stream, and trials
// streamed one by one.
#include <sqlite3.h>

#include <fmt/format.h>

#include "store/sql.h"
#include "store/store.h"
#include "store/trials_sql.h"

#include <algorithm>
#include <map>
#include <tuple>
#include <unordered_map>

#include "stats/rate.h"

namespace cg {

using sql::Stmt;

namespace {

// Folds one trial into its group: the one definition of every sum a TrialGroup carries, for the store's rows
// and for trials in memory alike.
void Fold(const TrialResult& r, int64_t id, int64_t repetition, bool has_report, double duration_s, TrialGroup* g) {
  if (g->count == 0) {
    g->outcome = r.outcome;
    g->exit_code = r.exit_code;
    g->signal = r.signal;
    g->via_shell = r.via_shell;
    g->signature = r.signature;
    g->first_trial_id = id;
    g->last_trial_id = id;
  }
  ++g->count;
  g->exposure_s += TrialExposureSeconds(r, duration_s);
  g->iterations += r.iterations;
  g->workload_seconds += r.workload_seconds;
  g->max_repetition = std::max(g->max_repetition, repetition);
  g->first_trial_id = std::min(g->first_trial_id, id);
  g->last_trial_id = std::max(g->last_trial_id, id);
  if (has_report && (g->first_report_trial_id == 0 || id < g->first_report_trial_id)) g->first_report_trial_id = id;
  g->units += r.units;
  g->units_name = std::max(g->units_name, r.units_name);
  if (r.workload_seconds > 0) {
    g->timed_iterations += r.iterations;
    g->timed_units += r.units;
  }
}

// The grouping key, in the order groups are returned: cell key, GPU index and UUID (-1 and "" unless grouped
// by GPU), outcome (by its stored name), exit code, signal, via_shell, signature.
using GroupKey = std::tuple<std::string, int, std::string, std::string, int, int, bool, std::string>;

}  // namespace

bool Store::LoadTrialGroups(int64_t run_id, double duration_s, std::vector<TrialGroup>* groups, std::string* err,
                            GroupBy by) {
  groups->clear();
  // Folded here rather than by SQL's GROUP BY: on a million trials the GROUP BY's sort costs three times
  // the scan (3.2 s against 1.0 s on the 2-core bench machine), while a hash map of a few hundred groups
  // costs next to nothing. Exposure is TrialExposureSeconds itself, so it has one definition.
  // The GPU columns are read only when grouping by them (and exist from schema v5 on: older trials ran on no
  // GPU of --gpus).
  const bool by_gpu = by == GroupBy::kCellAndGpu && version_ >= 5;
  Stmt s(db_,
         fmt::format("SELECT cell_key, cell, outcome, exit_code, signal, via_shell, signature, iterations, "
                     "  workload_seconds, duration_s, time_to_outcome_s, repetition, id, report IS NOT NULL, units, "
                     "  units_name, {} "
                     "FROM trials WHERE run_id = ?1",
                     by_gpu ? "gpu_index, gpu_uuid" : "-1, ''")
             .c_str());
  s.Bind(1, run_id);
  struct Pending {
    TrialGroup group;
    std::string cell;  // the cell as stored with the group's first trial read
  };
  std::unordered_map<std::string, size_t> index;
  std::vector<Pending> pending;
  std::vector<GroupKey> keys;
  TrialResult r;
  std::string key;
  auto append_int = [&](int64_t v) { key.append(reinterpret_cast<const char*>(&v), sizeof v); };
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
    // The key: the grouping columns, the texts NUL-terminated, the integers as raw bytes.
    key.assign(s.TextView(0)).push_back('\0');
    key.append(s.TextView(2)).push_back('\0');
    append_int(s.Int(3));
    append_int(s.Int(4));
    append_int(s.Int(5));
    append_int(s.Int(16));
    key.append(s.TextView(17)).push_back('\0');
    key.append(s.TextView(6));
    auto [it, inserted] = index.try_emplace(key, pending.size());
    if (inserted) {
      std::string outcome(s.TextView(2));
      if (!ParseOutcome(outcome, &r.outcome)) {
        *err = fmt::format("cannot read trials from '{}': a trial of run {} has an unknown outcome '{}'", path_,
                           run_id, outcome);
        return false;
      }
      r.exit_code = static_cast<int>(s.Int(3));
      r.signal = static_cast<int>(s.Int(4));
      r.via_shell = s.Int(5) != 0;
      r.signature = s.Text(6);
      pending.push_back({});
      pending.back().group.cell_key = s.Text(0);
      pending.back().cell = s.Text(1);
      pending.back().group.gpu_index = static_cast<int>(s.Int(16));
      pending.back().group.gpu_uuid = s.Text(17);
      keys.emplace_back(pending.back().group.cell_key, pending.back().group.gpu_index, pending.back().group.gpu_uuid,
                        outcome, r.exit_code, r.signal, r.via_shell, r.signature);
    }
    TrialGroup& g = pending[it->second].group;
    r.outcome = g.count == 0 ? r.outcome : g.outcome;
    r.iterations = s.Int(7);
    r.workload_seconds = s.Double(8);
    r.duration_s = s.Double(9);
    r.time_to_outcome_s = s.Double(10);
    r.units = s.Int(14);
    std::string_view units_name = s.TextView(15);
    if (units_name > std::string_view(g.units_name)) r.units_name = units_name; else r.units_name.clear();
    Fold(r, s.Int(12), s.Int(11), s.Int(13) != 0, duration_s, &g);
  }
  if (rc != SQLITE_DONE) {
    *err = fmt::format("cannot read trials from '{}': {}", path_, sqlite3_errmsg(db_));
    return false;
  }
  std::vector<size_t> order(pending.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t x, size_t y) { return keys[x] < keys[y]; });
  std::string why;
  groups->reserve(pending.size());
  for (size_t i : order) {
    TrialGroup& g = pending[i].group;
    if (!sql::ParseCellJson(pending[i].cell, 0, &g.cell, &why)) {
      *err = fmt::format("cannot read trials from '{}': {}", path_, why);
      return false;
    }
    groups->push_back(std::move(g));
  }
  return true;
}

std::vector<TrialGroup> GroupTrials(const std::vector<StoredTrial>& trials, double duration_s, GroupBy by) {
  std::map<GroupKey, TrialGroup> groups;
  const bool by_gpu = by == GroupBy::kCellAndGpu;
  for (const StoredTrial& t : trials) {
    const TrialResult& r = t.result;
    GroupKey key{t.cell_key.empty() ? CellKey(t.cell) : t.cell_key,
                 by_gpu ? r.gpu_index : -1,
                 by_gpu ? r.gpu_uuid : std::string(),
                 OutcomeName(r.outcome),
                 r.exit_code,
                 r.signal,
                 r.via_shell,
                 r.signature};
    auto [it, inserted] = groups.try_emplace(key);
    if (inserted) {
      it->second.cell_key = std::get<0>(key);
      it->second.cell = t.cell;
      it->second.gpu_index = std::get<1>(key);
      it->second.gpu_uuid = std::get<2>(key);
    }
    Fold(r, t.id, t.repetition, r.report.has_value(), duration_s, &it->second);
  }
  std::vector<TrialGroup> out;
  out.reserve(groups.size());
  for (auto& [key, g] : groups) out.push_back(std::move(g));
  return out;
}

bool Store::HasTrial(int64_t trial_id, bool* found, std::string* err) {
  Stmt s(db_, "SELECT 1 FROM trials WHERE id = ?1");
  s.Bind(1, trial_id);
  int rc = s.Step();
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
    *err = fmt::format("cannot read trials from '{}': {}", path_, sqlite3_errmsg(db_));
    return false;
  }
  *found = rc == SQLITE_ROW;
  return true;
}

bool Store::ForEachTrial(int64_t run_id, bool full, const std::function<bool(const StoredTrial&)>& fn,
                         std::string* err) {
  Stmt s(db_, fmt::format("SELECT id, {} FROM trials WHERE run_id = ?1 ORDER BY id", TrialSelectColumns(full, version_))
                  .c_str());
  s.Bind(1, run_id);
  int rc;
  std::string why;
  StoredTrial t;
  while ((rc = s.Step()) == SQLITE_ROW) {
    if (!ReadTrial(s, &t, &why)) {
      *err = fmt::format("cannot read trials from '{}': {}", path_, why);
      return false;
    }
    if (!fn(t)) return true;
  }
  if (rc != SQLITE_DONE) {
    *err = fmt::format("cannot read trials from '{}': {}", path_, sqlite3_errmsg(db_));
    return false;
  }
  return true;
}

}  // namespace cg

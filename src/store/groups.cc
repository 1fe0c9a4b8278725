// Reads that scale with the grid, not with the trials: grouped counts in SQL, and trials streamed one by one.
#include <sqlite3.h>

#include <fmt/format.h>

#include "store/sql.h"
#include "store/store.h"
#include "store/trials_sql.h"

#include <map>
#include <tuple>

#include "stats/rate.h"

namespace cg {

using sql::Stmt;

bool Store::LoadTrialGroups(int64_t run_id, double duration_s, std::vector<TrialGroup>* groups, std::string* err) {
  groups->clear();
  // The exposure expression is TrialExposureSeconds (stats/rate.h) in SQL: the workload's own clock when it
  // reported one, else time to outcome (wall time when that is unknown) capped at the run's duration. Trials
  // that are evidence neither way contribute nothing: outcome is a grouping key, so that is applied per group
  // below, with OutcomeEvidence, rather than by naming outcomes in SQL. store_test checks the two agree.
  Stmt s(db_,
         "SELECT cell_key, MIN(cell), outcome, exit_code, signal, via_shell, signature, COUNT(*), "
         "  SUM(CASE WHEN workload_seconds > 0 THEN workload_seconds "
         "      ELSE MAX(0.0, CASE WHEN ?2 > 0 THEN MIN(?2, CASE WHEN time_to_outcome_s > 0 THEN time_to_outcome_s "
         "                                                         ELSE duration_s END) "
         "                         ELSE CASE WHEN time_to_outcome_s > 0 THEN time_to_outcome_s "
         "                              ELSE duration_s END END) END), "
         "  SUM(iterations), SUM(workload_seconds), SUM(duration_s), SUM(time_to_outcome_s), MAX(repetition), "
         "  MIN(id), COALESCE(MIN(CASE WHEN report IS NOT NULL THEN id END), 0), MAX(id), SUM(units), "
         "  MAX(units_name), SUM(CASE WHEN workload_seconds > 0 THEN iterations ELSE 0 END), "
         "  SUM(CASE WHEN workload_seconds > 0 THEN units ELSE 0 END) "
         "FROM trials WHERE run_id = ?1 "
         "GROUP BY cell_key, outcome, exit_code, signal, via_shell, signature "
         "ORDER BY cell_key, outcome, exit_code, signal, via_shell, signature");
  s.Bind(1, run_id);
  s.Bind(2, duration_s);
  int rc;
  std::string why;
  while ((rc = s.Step()) == SQLITE_ROW) {
    TrialGroup g;
    g.cell_key = s.Text(0);
    if (!sql::ParseCellJson(s.Text(1), 0, &g.cell, &why)) {
      *err = fmt::format("cannot read trials from '{}': {}", path_, why);
      return false;
    }
    if (!ParseOutcome(s.Text(2), &g.outcome)) {
      *err = fmt::format("cannot read trials from '{}': a trial of run {} has an unknown outcome '{}'", path_,
                         run_id, s.Text(2));
      return false;
    }
    g.exit_code = static_cast<int>(s.Int(3));
    g.signal = static_cast<int>(s.Int(4));
    g.via_shell = s.Int(5) != 0;
    g.signature = s.Text(6);
    g.count = s.Int(7);
    g.exposure_s = OutcomeEvidence(g.outcome) == Evidence::kNeither ? 0 : s.Double(8);
    g.iterations = s.Int(9);
    g.workload_seconds = s.Double(10);
    g.duration_s = s.Double(11);
    g.time_to_outcome_s = s.Double(12);
    g.max_repetition = s.Int(13);
    g.first_trial_id = s.Int(14);
    g.first_report_trial_id = s.Int(15);
    g.last_trial_id = s.Int(16);
    g.units = s.Int(17);
    g.units_name = s.Text(18);
    g.timed_iterations = s.Int(19);
    g.timed_units = s.Int(20);
    groups->push_back(std::move(g));
  }
  if (rc != SQLITE_DONE) {
    *err = fmt::format("cannot read trials from '{}': {}", path_, sqlite3_errmsg(db_));
    return false;
  }
  return true;
}

std::vector<TrialGroup> GroupTrials(const std::vector<StoredTrial>& trials, double duration_s) {
  // The SQL's GROUP BY and ORDER BY: outcomes compare by their stored names.
  using Key = std::tuple<std::string, std::string, int, int, bool, std::string>;
  std::map<Key, TrialGroup> groups;
  for (const StoredTrial& t : trials) {
    const TrialResult& r = t.result;
    Key key{t.cell_key.empty() ? CellKey(t.cell) : t.cell_key, OutcomeName(r.outcome), r.exit_code, r.signal,
            r.via_shell, r.signature};
    auto [it, inserted] = groups.try_emplace(key);
    TrialGroup& g = it->second;
    if (inserted) {
      g.cell_key = std::get<0>(key);
      g.cell = t.cell;
      g.outcome = r.outcome;
      g.exit_code = r.exit_code;
      g.signal = r.signal;
      g.via_shell = r.via_shell;
      g.signature = r.signature;
      g.first_trial_id = t.id;
      g.last_trial_id = t.id;
    }
    ++g.count;
    g.exposure_s += TrialExposureSeconds(r, duration_s);
    g.iterations += r.iterations;
    g.workload_seconds += r.workload_seconds;
    g.duration_s += r.duration_s;
    g.time_to_outcome_s += r.time_to_outcome_s;
    g.max_repetition = std::max<int64_t>(g.max_repetition, t.repetition);
    g.first_trial_id = std::min(g.first_trial_id, t.id);
    g.last_trial_id = std::max(g.last_trial_id, t.id);
    if (r.report && (g.first_report_trial_id == 0 || t.id < g.first_report_trial_id)) g.first_report_trial_id = t.id;
    g.units += r.units;
    g.units_name = std::max(g.units_name, r.units_name);
    if (r.workload_seconds > 0) {
      g.timed_iterations += r.iterations;
      g.timed_units += r.units;
    }
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

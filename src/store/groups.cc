// Reads that scale with the grid, not with the trials: grouped counts in SQL, and trials streamed one by one.
#include <sqlite3.h>

#include <fmt/format.h>

#include "store/sql.h"
#include "store/store.h"
#include "store/trials_sql.h"

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
         "  MIN(id), COALESCE(MIN(CASE WHEN report IS NOT NULL THEN id END), 0) "
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
    groups->push_back(std::move(g));
  }
  if (rc != SQLITE_DONE) {
    *err = fmt::format("cannot read trials from '{}': {}", path_, sqlite3_errmsg(db_));
    return false;
  }
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

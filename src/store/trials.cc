// Trial rows: insert, load one, load a run's.
#include "store/trials_sql.h"

#include <fmt/format.h>

#include "store/schema.h"
#include "trial/trial_json.h"

namespace cg {

using sql::CellJson;
using sql::Dump;
using sql::JsonColumn;
using sql::ParseCellJson;
using sql::Stmt;
using nlohmann::json;

namespace {

const char kTrialColumns[] =
    "run_id, cell_key, cell, repetition, outcome, exit_code, signal, via_shell, detail, started_at, duration_s, "
    "time_to_outcome_s, iterations, successes, errors, units, units_name, workload_seconds, error_buckets, "
    "phases, threads, stdout_tail, stderr_tail, capture_method, signature, report, setup_s, teardown_s, uid, gpu_index, "
    "gpu_uuid";


}  // namespace

// What ReadTrial reads after "id" from a file of schema `version`. Without `full` the tails and the report,
// most of the bytes, are replaced by '' and NULL: tables and statistics need neither.
std::string TrialSelectColumns(bool full, int64_t version) {
  return fmt::format(
      "run_id, cell_key, cell, repetition, outcome, exit_code, signal, via_shell, detail, started_at, duration_s, "
      "time_to_outcome_s, iterations, successes, errors, units, units_name, workload_seconds, error_buckets, "
      "phases, threads, {}, capture_method, signature, {}, {}, {}",
      full ? "stdout_tail, stderr_tail" : "'', ''", full ? "report" : "NULL",
      version >= 2 ? "setup_s, teardown_s" : "0.0, 0.0" /* v1 had neither: unknown */,
      version >= 5 ? std::string("uid, gpu_index, gpu_uuid")
                   : fmt::format("{}, -1, ''", schema::kLegacyTrialUid) /* the ids the v5 migration gives */);
}

// Reads "SELECT id, <TrialSelectColumns>".
bool ReadTrial(const Stmt& s, StoredTrial* t, std::string* why) {
  *t = StoredTrial();
  t->id = s.Int(0);
  t->run_id = s.Int(1);
  t->cell_key = s.Text(2);
  t->repetition = static_cast<int>(s.Int(4));
  TrialResult& r = t->result;
  if (!ParseOutcome(s.Text(5), &r.outcome)) {
    *why = fmt::format("trial {} has an unknown outcome '{}'", t->id, s.Text(5));
    return false;
  }
  r.exit_code = static_cast<int>(s.Int(6));
  r.signal = static_cast<int>(s.Int(7));
  r.via_shell = s.Int(8) != 0;
  r.detail = s.Text(9);
  r.started_at = s.Double(10);
  r.duration_s = s.Double(11);
  r.time_to_outcome_s = s.Double(12);
  r.iterations = s.Int(13);
  r.successes = s.Int(14);
  r.errors = s.Int(15);
  r.units = s.Int(16);
  r.units_name = s.Text(17);
  r.workload_seconds = s.Double(18);
  r.stdout_tail = s.Text(22);
  r.stderr_tail = s.Text(23);
  r.capture_method = s.Text(24);
  r.signature = s.Text(25);
  r.setup_s = s.Double(27);
  r.teardown_s = s.Double(28);
  t->uid = s.Text(29);
  r.gpu_index = static_cast<int>(s.Int(30));
  r.gpu_uuid = s.Text(31);
  if (!ParseCellJson(s.Text(3), t->id, &t->cell, why) ||
      !JsonColumn(s, 19, "error_buckets", t->id, &r.error_buckets, why) ||
      !JsonColumn(s, 20, "phases", t->id, &r.phases, why) || !JsonColumn(s, 21, "threads", t->id, &r.threads, why))
    return false;
  if (!s.IsNull(26)) {
    CrashReport report;
    if (!JsonColumn(s, 26, "report", t->id, &report, why)) return false;
    r.report = std::move(report);
  }
  return true;
}



// Binds one trial to parameters 1..31 (kTrialColumns order).
void BindTrial(Stmt* s, int64_t run_id, const Cell& cell, const std::string& key, int repetition,
               const TrialResult& r, const std::string& uid) {
  s->Bind(1, run_id);
  s->Bind(2, key);
  s->Bind(3, CellJson(cell));
  s->Bind(4, repetition);
  s->Bind(5, std::string(OutcomeName(r.outcome)));
  s->Bind(6, r.exit_code);
  s->Bind(7, r.signal);
  s->Bind(8, r.via_shell);
  s->Bind(9, r.detail);
  s->Bind(10, r.started_at);
  s->Bind(11, r.duration_s);
  s->Bind(12, r.time_to_outcome_s);
  s->Bind(13, r.iterations);
  s->Bind(14, r.successes);
  s->Bind(15, r.errors);
  s->Bind(16, r.units);
  s->Bind(17, r.units_name);
  s->Bind(18, r.workload_seconds);
  s->Bind(19, Dump(json(r.error_buckets)));
  s->Bind(20, Dump(json(r.phases)));
  s->Bind(21, Dump(json(r.threads)));
  s->Bind(22, r.stdout_tail);
  s->Bind(23, r.stderr_tail);
  s->Bind(24, r.capture_method);
  s->Bind(25, r.signature);
  if (r.report)
    s->Bind(26, Dump(json(*r.report)));
  else
    s->BindNull(26);
  s->Bind(27, r.setup_s);
  s->Bind(28, r.teardown_s);
  s->Bind(29, uid.empty() ? sql::NewStoreUid() : uid);
  s->Bind(30, r.gpu_index);
  s->Bind(31, r.gpu_uuid);
}

std::string InsertTrialSql() {
  return fmt::format("INSERT INTO trials ({}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                     kTrialColumns);
}

std::string Store::NewTrialUid() { return sql::NewStoreUid(); }

bool Store::InsertTrial(int64_t run_id, const Cell& cell, int repetition, const TrialResult& r, int64_t* id,
                        std::string* err, const std::string& uid) {
  // Outside an explicit transaction each statement is its own transaction: committed when Step returns.
  if (!insert_trial_) insert_trial_ = std::make_unique<Stmt>(db_, InsertTrialSql().c_str());
  Stmt& s = *insert_trial_;
  std::string key = CellKey(cell);
  BindTrial(&s, run_id, cell, key, repetition, r, uid);
  if (s.Step() != SQLITE_DONE) {
    if (s.extended_rc() == SQLITE_CONSTRAINT_UNIQUE) {
      *err = fmt::format("'{}' already holds a trial for run {}, cell '{}', repetition {} (not recorded twice)",
                         path_, run_id, key, repetition);
    } else if (s.extended_rc() == SQLITE_CONSTRAINT_FOREIGNKEY) {
      *err = fmt::format("cannot record a trial in '{}': there is no run {}", path_, run_id);
    } else {
      *err = fmt::format("cannot record a trial in '{}': {}", path_, sqlite3_errmsg(db_));
    }
    insert_trial_.reset();  // prepared again next time, in whatever state the error left the statement
    return false;
  }
  if (id) *id = sqlite3_last_insert_rowid(db_);
  s.Reset();
  return true;
}

bool Store::InsertTrials(int64_t run_id, const std::vector<StoredTrial>& trials, std::string* err) {
  std::string why;
  if (!sql::Exec(db_, "BEGIN IMMEDIATE", &why)) {
    *err = fmt::format("cannot record trials in '{}': {}", path_, why);
    return false;
  }
  Stmt s(db_, InsertTrialSql().c_str());
  for (const auto& t : trials) {
    s.Reset();
    BindTrial(&s, run_id, t.cell, CellKey(t.cell), t.repetition, t.result, t.uid);
    if (s.Step() != SQLITE_DONE) {
      *err = fmt::format("cannot record trials in '{}' (none was recorded): {}", path_, sqlite3_errmsg(db_));
      sql::Exec(db_, "ROLLBACK", &why);
      return false;
    }
  }
  if (!sql::Exec(db_, "COMMIT", &why)) {
    *err = fmt::format("cannot record trials in '{}' (none was recorded): {}", path_, why);
    sql::Exec(db_, "ROLLBACK", &why);
    return false;
  }
  return true;
}

bool Store::LoadTrials(int64_t run_id, bool full, std::vector<StoredTrial>* trials, std::string* err) {
  trials->clear();
  Stmt s(db_, fmt::format("SELECT id, {} FROM trials WHERE run_id = ?1 ORDER BY id", TrialSelectColumns(full, version_))
                  .c_str());
  s.Bind(1, run_id);
  int rc;
  std::string why;
  while ((rc = s.Step()) == SQLITE_ROW) {
    StoredTrial t;
    if (!ReadTrial(s, &t, &why)) {
      *err = fmt::format("cannot read trials from '{}': {}", path_, why);
      return false;
    }
    trials->push_back(std::move(t));
  }
  if (rc != SQLITE_DONE) {
    *err = fmt::format("cannot read trials from '{}': {}", path_, sqlite3_errmsg(db_));
    return false;
  }
  return true;
}

bool Store::LoadTrial(int64_t trial_id, StoredTrial* trial, std::string* err) {
  Stmt s(db_, fmt::format("SELECT id, {} FROM trials WHERE id = ?1", TrialSelectColumns(true, version_)).c_str());
  s.Bind(1, trial_id);
  int rc = s.Step();
  std::string why;
  if (rc == SQLITE_ROW) {
    if (ReadTrial(s, trial, &why)) return true;
    *err = fmt::format("cannot read trial {} from '{}': {}", trial_id, path_, why);
    return false;
  }
  if (rc == SQLITE_DONE)
    *err = fmt::format("no trial {} in '{}'", trial_id, path_);
  else
    *err = fmt::format("cannot read trial {} from '{}': {}", trial_id, path_, sqlite3_errmsg(db_));
  return false;
}


}  // namespace cg

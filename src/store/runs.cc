// Run rows: insert, update, load.
#include <fmt/format.h>

#include "store/schema.h"
#include "store/sql.h"
#include "store/store.h"
#include "trial/trial_json.h"

namespace cg {
namespace {

using sql::Dump;
using sql::JsonColumn;
using sql::ParseJson;
using sql::Stmt;
using nlohmann::json;

const char kRunColumns[] =
    "created_at, argv, command_line, workload, exec_argv, reference_target, grid, params, runs, duration_s, "
    "grace_s, capture, crashgrid_version, crashgrid_commit, environment, workload_detail, sweep_key, settings, "
    "finished, labels, cwd, env, identity, shard, origin";

// Runs stored before v4 have no labels, cwd, env or identity: read as empty; before v5 no shard, and the origin
// the v5 migration would give them.
std::string RunColumns(int64_t version) {
  if (version >= 5) return kRunColumns;
  return fmt::format(
      "created_at, argv, command_line, workload, exec_argv, reference_target, grid, params, runs, duration_s, "
      "grace_s, capture, crashgrid_version, crashgrid_commit, environment, workload_detail, sweep_key, settings, "
      "finished, {}, '', {}",
      version >= 4 ? "labels, cwd, env, identity" : "'{}', '', '{}', ''", schema::kLegacyRunOrigin);
}

// A fresh run's origin: 128 random bits, so runs of different machines never share one.
std::string NewOrigin() { return sql::NewStoreUid(); }

// Binds every RunRecord field except id to parameters 1..25 (kRunColumns order).
void BindRun(Stmt* s, const RunRecord& r) {
  s->Bind(1, r.created_at);
  s->Bind(2, Dump(json(r.argv)));
  s->Bind(3, r.command_line);
  s->Bind(4, r.workload);
  s->Bind(5, Dump(json(r.exec_argv)));
  s->Bind(6, r.reference_target);
  s->Bind(7, Dump(json(r.grid)));
  s->Bind(8, Dump(json(r.params)));
  s->Bind(9, r.runs);
  s->Bind(10, r.duration_s);
  s->Bind(11, r.grace_s);
  s->Bind(12, r.capture);
  s->Bind(13, r.crashgrid_version);
  s->Bind(14, r.crashgrid_commit);
  s->Bind(15, Dump(r.environment));
  s->Bind(16, r.workload_detail);
  s->Bind(17, r.sweep_key);
  s->Bind(18, Dump(r.settings));
  s->Bind(19, r.finished);
  s->Bind(20, Dump(json(r.labels)));
  s->Bind(21, r.cwd);
  s->Bind(22, Dump(json(r.env)));
  s->Bind(23, r.identity);
  s->Bind(24, r.shard);
  s->Bind(25, r.origin);
}


// Reads "SELECT id, <kRunColumns>".
bool ReadRun(const Stmt& s, RunRecord* r, std::string* why) {
  *r = RunRecord();
  r->id = s.Int(0);
  r->created_at = s.Double(1);
  r->command_line = s.Text(3);
  r->workload = s.Text(4);
  r->reference_target = s.Int(6) != 0;
  r->runs = static_cast<int>(s.Int(9));
  r->duration_s = s.Double(10);
  r->grace_s = s.Double(11);
  r->capture = s.Text(12);
  r->crashgrid_version = s.Text(13);
  r->crashgrid_commit = s.Text(14);
  r->workload_detail = s.Text(16);
  r->sweep_key = s.Text(17);
  r->finished = s.Int(19) != 0;
  r->cwd = s.Text(21);
  r->identity = s.Text(23);
  r->shard = s.Text(24);
  r->origin = s.Text(25);
  return JsonColumn(s, 2, "argv", r->id, &r->argv, why) && JsonColumn(s, 5, "exec_argv", r->id, &r->exec_argv, why) &&
         JsonColumn(s, 7, "grid", r->id, &r->grid, why) && JsonColumn(s, 8, "params", r->id, &r->params, why) &&
         ParseJson(s.Text(15), "environment", r->id, &r->environment, why) &&
         ParseJson(s.Text(18), "settings", r->id, &r->settings, why) &&
         JsonColumn(s, 20, "labels", r->id, &r->labels, why) && JsonColumn(s, 22, "env", r->id, &r->env, why);
}

}  // namespace

bool Store::InsertRun(RunRecord* run, std::string* err) {
  if (run->origin.empty()) run->origin = NewOrigin();
  Stmt s(db_, fmt::format("INSERT INTO runs ({}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", kRunColumns).c_str());
  BindRun(&s, *run);
  if (s.Step() != SQLITE_DONE) {
    *err = fmt::format("cannot record the run in '{}': {}", path_, sqlite3_errmsg(db_));
    return false;
  }
  run->id = sqlite3_last_insert_rowid(db_);
  return true;
}

bool Store::UpdateRun(const RunRecord& run, std::string* err) {
  Stmt s(db_,
         "UPDATE runs SET created_at=?1, argv=?2, command_line=?3, workload=?4, exec_argv=?5, reference_target=?6, "
         "grid=?7, params=?8, runs=?9, duration_s=?10, grace_s=?11, capture=?12, crashgrid_version=?13, "
         "crashgrid_commit=?14, environment=?15, workload_detail=?16, sweep_key=?17, settings=?18, finished=?19, "
         "labels=?20, cwd=?21, env=?22, identity=?23, shard=?24, origin=?25 WHERE id=?26");
  BindRun(&s, run);
  s.Bind(26, run.id);
  if (s.Step() != SQLITE_DONE) {
    *err = fmt::format("cannot update run {} in '{}': {}", run.id, path_, sqlite3_errmsg(db_));
    return false;
  }
  if (sqlite3_changes(db_) != 1) {
    *err = fmt::format("cannot update run {} in '{}': no such run", run.id, path_);
    return false;
  }
  return true;
}

bool Store::LoadRuns(std::vector<RunRecord>* runs, std::string* err) {
  runs->clear();
  Stmt s(db_, fmt::format("SELECT id, {} FROM runs ORDER BY id", RunColumns(version_)).c_str());
  int rc;
  std::string why;
  while ((rc = s.Step()) == SQLITE_ROW) {
    RunRecord r;
    if (!ReadRun(s, &r, &why)) {
      *err = fmt::format("cannot read runs from '{}': {}", path_, why);
      return false;
    }
    runs->push_back(std::move(r));
  }
  if (rc != SQLITE_DONE) {
    *err = fmt::format("cannot read runs from '{}': {}", path_, sqlite3_errmsg(db_));
    return false;
  }
  return true;
}

bool Store::LoadRun(int64_t id, RunRecord* run, std::string* err) {
  Stmt s(db_, fmt::format("SELECT id, {} FROM runs WHERE id = ?1", RunColumns(version_)).c_str());
  s.Bind(1, id);
  int rc = s.Step();
  std::string why;
  if (rc == SQLITE_ROW) {
    if (ReadRun(s, run, &why)) return true;
    *err = fmt::format("cannot read run {} from '{}': {}", id, path_, why);
    return false;
  }
  if (rc == SQLITE_DONE)
    *err = fmt::format("no run {} in '{}'", id, path_);
  else
    *err = fmt::format("cannot read run {} from '{}': {}", id, path_, sqlite3_errmsg(db_));
  return false;
}

bool Store::FindRunBySweepKey(const std::string& key, RunRecord* run, bool* found, std::string* err) {
  *found = false;
  Stmt s(db_, fmt::format("SELECT id, {} FROM runs WHERE sweep_key = ?1 ORDER BY id DESC LIMIT 1", RunColumns(version_))
                  .c_str());
  s.Bind(1, key);
  int rc = s.Step();
  std::string why;
  if (rc == SQLITE_DONE) return true;
  if (rc == SQLITE_ROW) {
    if (!ReadRun(s, run, &why)) {
      *err = fmt::format("cannot read runs from '{}': {}", path_, why);
      return false;
    }
    *found = true;
    return true;
  }
  *err = fmt::format("cannot read runs from '{}': {}", path_, sqlite3_errmsg(db_));
  return false;
}

bool Store::SaveCellVerdict(int64_t run_id, const CellVerdict& v, std::string* err) {
  Stmt s(db_,
         "INSERT INTO cell_verdicts (run_id, cell_key, rule, verdict, crashes, evidence, last_trial_id) "
         "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (run_id, cell_key, rule) DO NOTHING");
  s.Bind(1, run_id);
  s.Bind(2, v.cell_key);
  s.Bind(3, v.rule);
  s.Bind(4, v.verdict);
  s.Bind(5, v.crashes);
  s.Bind(6, v.evidence);
  s.Bind(7, v.last_trial_id);
  if (s.Step() != SQLITE_DONE) {
    *err = fmt::format("cannot record the verdict of cell '{}' in '{}': {}", v.cell_key, path_, sqlite3_errmsg(db_));
    return false;
  }
  return true;
}

bool Store::LoadCellVerdicts(int64_t run_id, std::vector<CellVerdict>* verdicts, std::string* err) {
  verdicts->clear();
  if (version_ < 4) return true;
  Stmt s(db_,
         "SELECT cell_key, rule, verdict, crashes, evidence, last_trial_id FROM cell_verdicts WHERE run_id = ?1 "
         "ORDER BY cell_key, rule");
  s.Bind(1, run_id);
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
    CellVerdict v;
    v.cell_key = s.Text(0);
    v.rule = s.Text(1);
    v.verdict = s.Text(2);
    v.crashes = s.Int(3);
    v.evidence = s.Int(4);
    v.last_trial_id = s.Int(5);
    verdicts->push_back(std::move(v));
  }
  if (rc != SQLITE_DONE) {
    *err = fmt::format("cannot read cell verdicts of run {} from '{}': {}", run_id, path_, sqlite3_errmsg(db_));
    return false;
  }
  return true;
}

}  // namespace cg

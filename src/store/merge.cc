#include "store/merge.h"

#include <map>
#include <set>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>

#include "store/sql.h"
#include "store/trials_sql.h"
#include "util/strings.h"

namespace cg {
namespace {

using sql::Exec;
using sql::Stmt;

// A shard's "K/N" -> N ("" for no shard).
std::string ShardCount(const std::string& shard) {
  size_t slash = shard.find('/');
  return slash == std::string::npos ? "" : shard.substr(slash + 1);
}

std::string Host(const RunRecord& run) {
  const nlohmann::json& e = run.environment;
  return e.is_object() && e.contains("host") && e["host"].is_string() ? e["host"].get<std::string>() : "";
}

// The command line of the whole sweep a shard ran: its own without --shard (what `--resume` of the merged run
// would run, on a machine of the same identity).
std::vector<std::string> WithoutShard(const std::vector<std::string>& argv) {
  std::vector<std::string> out;
  for (size_t i = 0; i < argv.size(); ++i) {
    if (argv[i] == "--exec") {
      out.insert(out.end(), argv.begin() + static_cast<long>(i), argv.end());
      break;
    }
    if (argv[i] == "--shard") {
      ++i;
      continue;
    }
    if (StartsWith(argv[i], "--shard=")) continue;
    out.push_back(argv[i]);
  }
  return out;
}

struct Source {
  int64_t run_id = 0;
  std::string shard;
};

// OUT's runs and the sources of its merged runs, as the merge goes (it adds to both).
struct OutState {
  std::vector<RunRecord> runs;
  std::map<std::string, int64_t> by_origin;        // runs.origin and run_sources.origin -> run id
  std::map<int64_t, std::vector<std::string>> shards;  // merged run id -> the shards it holds
};

}  // namespace

bool MergeStore(Store* out, Store* in, const MergePolicy& policy, MergeStats* stats, std::string* err) {
  sqlite3* db = out->db_;
  std::string why;
  auto fail = [&](const std::string& what) {
    *err = fmt::format("cannot merge '{}' into '{}' (nothing of it was added): {}", in->path(), out->path(), what);
    std::string ignored;
    Exec(db, "ROLLBACK", &ignored);
    return false;
  };
  std::vector<RunRecord> in_runs;
  if (!in->LoadRuns(&in_runs, err)) return false;
  if (!Exec(db, "BEGIN IMMEDIATE", &why)) {
    *err = fmt::format("cannot merge into '{}': {}", out->path(), why);
    return false;
  }
  OutState state;
  if (!out->LoadRuns(&state.runs, &why)) return fail(why);
  for (const RunRecord& r : state.runs) state.by_origin[r.origin] = r.id;
  {
    Stmt s(db, "SELECT run_id, origin, shard FROM run_sources ORDER BY run_id");
    int rc;
    while ((rc = s.Step()) == SQLITE_ROW) {
      state.by_origin[s.Text(1)] = s.Int(0);
      state.shards[s.Int(0)].push_back(s.Text(2));
    }
    if (rc != SQLITE_DONE) return fail(sqlite3_errmsg(db));
  }
  auto add_source = [&](int64_t run_id, const RunRecord& r) {
    Stmt s(db, "INSERT INTO run_sources (run_id, origin, shard, host) VALUES (?1, ?2, ?3, ?4)");
    s.Bind(1, run_id);
    s.Bind(2, r.origin);
    s.Bind(3, r.shard);
    s.Bind(4, Host(r));
    if (s.Step() != SQLITE_DONE) return false;
    state.by_origin[r.origin] = run_id;
    state.shards[run_id].push_back(r.shard);
    return true;
  };

  for (RunRecord& r : in_runs) {
    int64_t target = 0;
    bool created = false;
    if (auto it = state.by_origin.find(r.origin); it != state.by_origin.end()) {
      target = it->second;
    } else if (!r.shard.empty()) {
      // Another shard of a sweep OUT holds shards of: the same merged run, unless it already has this K.
      const std::string base = policy.base_key(r), fleet = policy.fleet_identity(r), n = ShardCount(r.shard);
      for (const RunRecord& t : state.runs) {
        auto held = state.shards.find(t.id);
        if (held == state.shards.end() || t.sweep_key != base || policy.fleet_identity(t) != fleet) continue;
        bool fits = true;
        for (const std::string& s : held->second) fits = fits && ShardCount(s) == n && s != r.shard;
        if (fits) target = t.id;
      }
      if (!target) {
        RunRecord merged = r;
        merged.sweep_key = base;
        merged.shard.clear();
        merged.origin.clear();  // a new run of OUT: InsertRun gives it its own origin
        merged.argv = WithoutShard(r.argv);
        merged.command_line = ShellJoin(merged.argv);
        if (!out->InsertRun(&merged, &why)) return fail(why);
        state.runs.push_back(merged);
        state.by_origin[merged.origin] = merged.id;
        target = merged.id;
        created = true;
      }
      if (!add_source(target, r)) return fail(sqlite3_errmsg(db));
      if (!created) stats->runs_extended++;
    } else {
      RunRecord copy = r;  // its origin kept: a later merge of the same input finds it
      if (!out->InsertRun(&copy, &why)) return fail(why);
      state.runs.push_back(copy);
      state.by_origin[copy.origin] = copy.id;
      target = copy.id;
      created = true;
    }
    if (created) stats->runs_created++;

    // Trials: the uids OUT's run already has are skipped; the rest are added with new ids.
    std::unordered_map<std::string, int64_t> present;
    {
      Stmt s(db, "SELECT uid, id FROM trials WHERE run_id = ?1");
      s.Bind(1, target);
      int rc;
      while ((rc = s.Step()) == SQLITE_ROW) present.emplace(s.Text(0), s.Int(1));
      if (rc != SQLITE_DONE) return fail(sqlite3_errmsg(db));
    }
    std::vector<CellVerdict> verdicts;
    if (!in->LoadCellVerdicts(r.id, &verdicts, &why)) return fail(why);
    std::unordered_map<int64_t, int64_t> new_id;  // input trial id -> OUT trial id, for verdicts' last trial
    for (const CellVerdict& v : verdicts) new_id.emplace(v.last_trial_id, 0);
    Stmt insert(db, InsertTrialSql().c_str());
    std::string insert_error;
    int64_t added_before = stats->trials_added;
    bool read = in->ForEachTrial(r.id, /*full=*/true, [&](const StoredTrial& t) {
      int64_t id = 0;
      if (auto it = present.find(t.uid); it != present.end()) {
        stats->trials_present++;
        id = it->second;
      } else {
        insert.Reset();
        BindTrial(&insert, target, t.cell, t.cell_key, t.repetition, t.result, t.uid);
        if (insert.Step() != SQLITE_DONE) {
          insert_error = insert.extended_rc() == SQLITE_CONSTRAINT_UNIQUE
                             ? fmt::format("run {} of '{}' holds a trial of cell '{}', repetition {} that run {} of "
                                           "'{}' has as another trial",
                                           r.id, in->path(), t.cell_key, t.repetition, target, out->path())
                             : std::string(sqlite3_errmsg(db));
          return false;
        }
        id = sqlite3_last_insert_rowid(db);
        stats->trials_added++;
      }
      if (auto it = new_id.find(t.id); it != new_id.end()) it->second = id;
      return true;
    }, &why);
    if (!insert_error.empty()) return fail(insert_error);
    if (!read) return fail(why);
    for (CellVerdict v : verdicts) {
      v.last_trial_id = new_id[v.last_trial_id];
      if (!out->SaveCellVerdict(target, v, &why)) return fail(why);
      if (sqlite3_changes(db) == 1) stats->verdicts_added++;
    }
    if (!created && stats->trials_added > added_before && r.shard.empty()) stats->runs_extended++;
    // The run as the input has it now (finished, a larger --runs after a resume), for a run copied before.
    if (!created && r.shard.empty()) {
      for (RunRecord& t : state.runs) {
        if (t.id != target || t.origin != r.origin) continue;
        RunRecord updated = r;
        updated.id = target;
        if (!out->UpdateRun(updated, &why)) return fail(why);
        t = updated;
      }
    }
  }
  if (!Exec(db, "COMMIT", &why)) return fail(why);
  return true;
}

}  // namespace cg

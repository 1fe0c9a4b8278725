// The store: one SQLite file holding runs and their trials, with a versioned schema
// (PRAGMA application_id identifies a crashgrid file, PRAGMA user_version its schema version).
// Every finished trial is committed on its own, so a killed sweep loses at most the trials in flight; commits
// reach the disk within about half a second (store/wal_sync.h), so a power cut loses at most the last second.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "trial/run.h"
#include "trial/trial.h"

struct sqlite3;

namespace cg {

// v1: the first schema. v2: trials.setup_s and trials.teardown_s. v3: no trials_run_id index (the unique
// index on (run_id, cell_key, repetition) serves run_id lookups). v4: runs.labels, runs.cwd, runs.env,
// runs.identity and the cell_verdicts table. v5: runs.shard, runs.origin, trials.uid, trials.gpu_index,
// trials.gpu_uuid and the run_sources table (fleets: --shard, --gpus, crashgrid merge). Older files are migrated in place when opened
// for writing and read as they are when opened read-only.
constexpr int kStoreSchemaVersion = 5;

// Where a writable store's commits stand against the disk (store/wal_sync.h): commits are durable against a
// killed crashgrid at once and against a power cut once synced, within about WalSyncer::kSyncDelay.
struct SyncStats {
  int64_t commits = 0;         // commits since the store opened
  int64_t synced_commits = 0;  // of those, how many are known to be on the disk
  int64_t syncs = 0;           // fdatasync calls that succeeded
  int64_t failed_syncs = 0;
  std::string error;           // the last failed sync ("" if none)
};

class WalSyncer;
struct MergePolicy;  // store/merge.h
struct MergeStats;
namespace sql {
class Stmt;
}

// CellVerdict (the verdict a stopping rule reached for a cell, where it stopped) is in trial/run.h, with the run.

struct StoredTrial {
  int64_t id = 0;
  int64_t run_id = 0;
  Cell cell;
  std::string cell_key;
  int repetition = 0;  // 0-based
  TrialResult result;
  std::string uid;  // stable across files (schema v5; computed for older files); InsertTrials makes one if empty
};

// Trials of one run that agree on every field a count, a table or a statistic depends on, folded while the rows
// stream out of SQLite, so that reading a run costs memory for its distinct groups, not its trials: a 12x12 grid
// of 7,000 runs a cell is a few hundred groups. The report side folds groups the way it would fold trials
// (each group stands for `count` trials).
struct TrialGroup {
  std::string cell_key;
  Cell cell;  // as stored with the group's first trial
  Outcome outcome = Outcome::kClean;
  int exit_code = 0;
  int signal = 0;
  bool via_shell = false;
  std::string signature;
  int64_t count = 0;
  // Sums over the group's trials:
  double exposure_s = 0;        // TrialExposureSeconds(result, run duration) (stats/rate.h)
  int64_t iterations = 0;
  double workload_seconds = 0;
  int64_t max_repetition = -1;  // highest repetition of the group's trials
  int64_t first_trial_id = 0;   // lowest trial id of the group
  int64_t first_report_trial_id = 0;  // lowest trial id of the group with a captured report; 0 if none
  int64_t last_trial_id = 0;          // highest trial id of the group
  int64_t units = 0;                  // work units summed
  std::string units_name;             // the units' name (the greatest, if trials differ); "" if none named
  // Sums over the group's trials that measured their workload (workload_seconds > 0): the numerator of a
  // throughput whose denominator is workload_seconds.
  int64_t timed_iterations = 0;
  int64_t timed_units = 0;
  // The GPU the group's trials ran on (sweep --gpus), when grouped by GPU (GroupBy::kCellAndGpu); -1 and ""
  // otherwise, and for trials recorded without --gpus or before schema v5.
  int gpu_index = -1;
  std::string gpu_uuid;
};

// What trials are grouped by besides outcome, exit code, signal and signature: their cell, or their cell and
// the GPU they ran on (index and UUID: a merged run can hold two GPUs of one index from two machines).
enum class GroupBy { kCell, kCellAndGpu };

// What Store::LoadTrialGroups computes, for trials already in memory (tests, and renderers' callers that have
// StoredTrials): the same groups, in the same order, with the same sums.
std::vector<TrialGroup> GroupTrials(const std::vector<StoredTrial>& trials, double duration_s,
                                    GroupBy by = GroupBy::kCell);

class Store {
 public:
  enum class Mode { kReadOnly, kReadWrite, kCreate /* create the file if missing */ };
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Opens (or creates) a database. On failure *err is a complete user-facing message (naming the file and
  // the fix) and *exit_code is kExitDatabase or kExitUsage. Never modifies a file that is not a crashgrid
  // database, is of a newer schema version, or is damaged (PRAGMA quick_check, bounded, in every mode). A new
  // file appears complete (built aside and moved into place: store/create.h). Read-only, it leaves no -wal or
  // -shm file that was not there before. A file of an older version is migrated to kStoreSchemaVersion
  // in one transaction when opened for writing, and read as it is (newer fields at their defaults) when opened
  // read-only.
  [[nodiscard]] static std::unique_ptr<Store> Open(const std::string& path, Mode mode, std::string* err, int* exit_code);

  [[nodiscard]] bool InsertRun(RunRecord* run, std::string* err);  // sets run->id
  [[nodiscard]] bool UpdateRun(const RunRecord& run, std::string* err);
  [[nodiscard]] bool LoadRuns(std::vector<RunRecord>* runs, std::string* err);
  [[nodiscard]] bool LoadRun(int64_t id, RunRecord* run, std::string* err);
  // The most recent run with this sweep key, if any (for resuming).
  [[nodiscard]] bool FindRunBySweepKey(const std::string& key, RunRecord* run, bool* found, std::string* err);

  // Commits one trial at once. Refuses (false) a second trial for the same (run, cell, repetition). `uid` is the
  // trial's uid when the caller chose it before the trial ran (a sweep does: --amplify's seed derives from it);
  // empty: a new one.
  [[nodiscard]] bool InsertTrial(int64_t run_id, const Cell& cell, int repetition, const TrialResult& result, int64_t* id,
                   std::string* err, const std::string& uid = "");
  // A fresh trial uid, unique across files and machines (what InsertTrial makes when given none).
  static std::string NewTrialUid();
  // Trials of a run in id order. Output tails and crash reports are loaded only when `full`.
  [[nodiscard]] bool LoadTrials(int64_t run_id, bool full, std::vector<StoredTrial>* trials, std::string* err);
  [[nodiscard]] bool LoadTrial(int64_t trial_id, StoredTrial* trial, std::string* err);

  // --- Reads that scale with the grid, not with the trials (store/groups.cc). ---
  // A run's trials grouped (see TrialGroup), ordered by cell_key, GPU (index, UUID: kCellAndGpu only), outcome,
  // exit code, signal, signature. `duration_s` is the run's duration, the cap of each trial's exposure.
  [[nodiscard]] bool LoadTrialGroups(int64_t run_id, double duration_s, std::vector<TrialGroup>* groups, std::string* err,
                                     GroupBy by = GroupBy::kCell);
  // Whether a trial with this id exists (to tell a mistyped id from a damaged database).
  // The first verdict per (cell, rule) is kept: saving again for a (cell, rule) that has one changes nothing.
  [[nodiscard]] bool SaveCellVerdict(int64_t run_id, const CellVerdict& v, std::string* err);
  // Ordered by cell_key, then rule. Empty for files older than v4.
  [[nodiscard]] bool LoadCellVerdicts(int64_t run_id, std::vector<CellVerdict>* verdicts, std::string* err);

  [[nodiscard]] bool HasTrial(int64_t trial_id, bool* found, std::string* err);
  // Calls `fn` with each trial of a run in id order, one at a time (constant memory: `export` of a million
  // trials). `fn` returns false to stop early (then ForEachTrial returns true). `full` as in LoadTrials.
  [[nodiscard]] bool ForEachTrial(int64_t run_id, bool full, const std::function<bool(const StoredTrial&)>& fn,
                    std::string* err);
  // Commits many trials in one transaction (all or none): for tools that generate databases (bench/) and for
  // merging. Each is (cell, repetition, result) as in InsertTrial.
  [[nodiscard]] bool InsertTrials(int64_t run_id, const std::vector<StoredTrial>& trials, std::string* err);

  // Makes this the only sweep recording into the file until the store is destroyed: false, with *err saying
  // so and *exit_code = kExitDatabase, when another process holds it (two sweeps on one --db would both run
  // every trial). Readers are not affected.
  [[nodiscard]] bool LockForSweep(std::string* err, int* exit_code);

  const std::string& path() const { return path_; }
  // The schema version of the open file: kStoreSchemaVersion once opened for writing (older files are
  // migrated then), possibly older when opened read-only.
  int64_t schema_version() const { return version_; }
  // All zero for a read-only store.
  SyncStats sync_stats() const;
  // Blocks until every commit so far is on the disk (a writable store does that on its own within about half a
  // second, and at close). False with the error when the flush failed; true at once when read-only.
  [[nodiscard]] bool SyncNow(std::string* err);

 private:
  friend bool MergeStore(Store* out, Store* in, const MergePolicy& policy, MergeStats* stats, std::string* err);  // store/merge.cc: one transaction of OUT's SQL
  Store() = default;
  sqlite3* db_ = nullptr;
  std::string path_;
  int64_t version_ = 0;
  std::unique_ptr<sql::Stmt> insert_trial_;  // InsertTrial's statement, prepared once (a sweep inserts per trial)
  int sweep_lock_fd_ = -1;  // LockForSweep's descriptor, closed after db_
  std::unique_ptr<WalSyncer> syncer_;  // writable stores only; stopped (after a last flush) before db_ closes
};

}  // namespace cg

// The store: one SQLite file holding runs and their trials, with a versioned schema
// (PRAGMA application_id identifies a crashgrid file, PRAGMA user_version its schema version).
// Every finished trial is committed on its own, so a killed sweep loses at most the trials in flight.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "trial/run.h"
#include "trial/trial.h"

struct sqlite3;

namespace cg {

// v1: the first schema. v2: trials.setup_s and trials.teardown_s. Older files are migrated in place when opened
// for writing and read as they are when opened read-only.
constexpr int kStoreSchemaVersion = 2;

struct StoredTrial {
  int64_t id = 0;
  int64_t run_id = 0;
  Cell cell;
  std::string cell_key;
  int repetition = 0;  // 0-based
  TrialResult result;
};

class Store {
 public:
  enum class Mode { kReadOnly, kReadWrite, kCreate /* create the file if missing */ };
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Opens (or creates) a database. On failure *err is a complete user-facing message (naming the file and
  // the fix) and *exit_code is kExitDatabase or kExitUsage. Never modifies a file that is not a crashgrid
  // database or is of a newer schema version. A file of an older version is migrated to kStoreSchemaVersion
  // in one transaction when opened for writing, and read as it is (newer fields at their defaults) when opened
  // read-only.
  static std::unique_ptr<Store> Open(const std::string& path, Mode mode, std::string* err, int* exit_code);

  bool InsertRun(RunRecord* run, std::string* err);  // sets run->id
  bool UpdateRun(const RunRecord& run, std::string* err);
  bool LoadRuns(std::vector<RunRecord>* runs, std::string* err);
  bool LoadRun(int64_t id, RunRecord* run, std::string* err);
  // The most recent run with this sweep key, if any (for resuming).
  bool FindRunBySweepKey(const std::string& key, RunRecord* run, bool* found, std::string* err);

  // Commits one trial at once. Refuses (false) a second trial for the same (run, cell, repetition).
  bool InsertTrial(int64_t run_id, const Cell& cell, int repetition, const TrialResult& result, int64_t* id,
                   std::string* err);
  // Trials of a run in id order. Output tails and crash reports are loaded only when `full`.
  bool LoadTrials(int64_t run_id, bool full, std::vector<StoredTrial>* trials, std::string* err);
  bool LoadTrial(int64_t trial_id, StoredTrial* trial, std::string* err);

  const std::string& path() const { return path_; }
  // The schema version of the open file: kStoreSchemaVersion once opened for writing (older files are
  // migrated then), possibly older when opened read-only.
  int64_t schema_version() const { return version_; }

 private:
  Store() = default;
  sqlite3* db_ = nullptr;
  std::string path_;
  int64_t version_ = 0;
};

}  // namespace cg

// Durability without an fsync per trial. The store commits in WAL mode with synchronous=NORMAL: a commit is in
// the OS page cache when it returns, so it survives a killed crashgrid (SIGKILL, a crash), but not a power cut
// or a kernel panic until the -wal file reaches the disk. The WalSyncer makes it reach the disk soon: a thread
// that fdatasync()s the -wal file within kSyncDelay of a commit (coalescing every commit since its last sync
// into one flush), and once more when the store closes. So a power cut loses at most the last ~second of
// commits, and the sweep pays one flush per half second instead of one per trial.
//
// Checkpoints (which copy the WAL into the main file and reset the WAL) stay SQLite's: under NORMAL it syncs
// the WAL before it copies and the main file after, so what was checkpointed is on disk by then.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "store/store.h"  // SyncStats

struct sqlite3;

namespace cg {

class WalSyncer {
 public:
  // The longest a commit waits before its flush starts (the flush itself then takes what the disk takes).
  static constexpr double kSyncDelay = 0.5;

  // Installs itself as `db`'s WAL hook (which also keeps SQLite's automatic checkpoint of 1000 pages, which the
  // hook replaces) and starts the thread. `wal_path` is the database's -wal file.
  WalSyncer(sqlite3* db, std::string wal_path);
  // Stop(); call it before closing the database.
  ~WalSyncer();
  WalSyncer(const WalSyncer&) = delete;
  WalSyncer& operator=(const WalSyncer&) = delete;

  // Flushes what was committed since the last flush at once, then stops the thread. Later commits are not
  // flushed; Stats() still answers.
  void Stop();
  SyncStats Stats() const;
  // Blocks until every commit made so far is on the disk (false with the error if a flush failed).
  bool SyncNow(std::string* err);

 private:
  static int OnCommit(void* self, sqlite3* db, const char* name, int frames);
  void Loop();
  // Flushes the -wal file; called with mu_ unlocked. Returns "" or the error.
  std::string Flush();

  std::string wal_path_;
  int wal_fd_ = -1;  // opened at the first flush (the -wal file appears at the first commit)
  mutable std::mutex mu_;
  std::condition_variable cv_;       // the thread waits on it for commits and stop
  bool idle_ = false;                // the thread waits for a first commit (only then does a commit notify)
  std::condition_variable synced_;   // SyncNow waits on it
  SyncStats stats_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace cg

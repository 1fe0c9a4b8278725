#include "store/wal_sync.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include <fmt/format.h>

namespace cg {
namespace {

// SQLite's default: checkpoint once the WAL holds this many pages (sqlite3_wal_autocheckpoint).
constexpr int kAutoCheckpointPages = 1000;

}  // namespace

WalSyncer::WalSyncer(sqlite3* db, std::string wal_path) : wal_path_(std::move(wal_path)) {
  sqlite3_wal_hook(db, &WalSyncer::OnCommit, this);
  thread_ = std::thread([this] { Loop(); });
}

WalSyncer::~WalSyncer() {
  Stop();
  if (wal_fd_ >= 0) ::close(wal_fd_);
}

void WalSyncer::Stop() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
  synced_.notify_all();
}

// Runs on the committing thread after the commit's frames were written to the WAL and its lock released.
int WalSyncer::OnCommit(void* self, sqlite3* db, const char* name, int frames) {
  auto* s = static_cast<WalSyncer*>(self);
  bool wake;
  {
    std::lock_guard<std::mutex> lock(s->mu_);
    ++s->stats_.commits;
    wake = s->idle_;  // else it is gathering commits until its next flush, and waking it costs a switch a trial
    s->idle_ = false;
  }
  if (wake) s->cv_.notify_all();
  // What SQLite's own hook (sqlite3WalDefaultHook) would have done; a busy checkpoint is simply retried at a
  // later commit.
  if (frames >= kAutoCheckpointPages) sqlite3_wal_checkpoint(db, name);
  return SQLITE_OK;
}

std::string WalSyncer::Flush() {
  if (wal_fd_ < 0) {
    wal_fd_ = ::open(wal_path_.c_str(), O_RDONLY | O_CLOEXEC);
    // No -wal file: the commits went straight to the main file (a checkpoint on close), nothing to flush.
    if (wal_fd_ < 0) return errno == ENOENT ? "" : fmt::format("open {}: {}", wal_path_, std::strerror(errno));
  }
  if (::fdatasync(wal_fd_) != 0) return fmt::format("fdatasync {}: {}", wal_path_, std::strerror(errno));
  return "";
}

void WalSyncer::Loop() {
  using Clock = std::chrono::steady_clock;
  std::unique_lock<std::mutex> lock(mu_);
  Clock::time_point last_sync{};
  for (;;) {
    idle_ = true;
    cv_.wait(lock, [&] { return stop_ || stats_.commits > stats_.synced_commits; });
    idle_ = false;
    if (stats_.commits == stats_.synced_commits) return;  // stopping, all synced
    // Let commits gather for up to kSyncDelay after the previous flush, then flush them all at once.
    auto due = last_sync + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(kSyncDelay));
    cv_.wait_until(lock, due, [&] { return stop_; });
    int64_t target = stats_.commits;
    lock.unlock();
    std::string err = Flush();
    lock.lock();
    last_sync = Clock::now();
    if (err.empty()) {
      stats_.synced_commits = target;
      ++stats_.syncs;
    } else {
      stats_.error = err;
      ++stats_.failed_syncs;
    }
    synced_.notify_all();
    if (stop_ && (stats_.commits == stats_.synced_commits || !err.empty())) return;
  }
}

SyncStats WalSyncer::Stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

bool WalSyncer::SyncNow(std::string* err) {
  std::unique_lock<std::mutex> lock(mu_);
  int64_t target = stats_.commits;
  int64_t failed = stats_.failed_syncs;
  synced_.wait(lock, [&] { return stats_.synced_commits >= target || stats_.failed_syncs > failed || stop_; });
  if (stats_.synced_commits >= target) return true;
  *err = stats_.error;
  return false;
}

}  // namespace cg

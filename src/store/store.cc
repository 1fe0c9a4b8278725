#include "store/store.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iterator>
#include <utility>

#include <fmt/format.h>

#include "store/create.h"
#include "store/schema.h"
#include "store/sql.h"
#include "store/wal_sync.h"
#include "trial/trial_json.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/fd.h"

namespace cg {
namespace {

using sql::DbPtr;
using sql::Exec;
using sql::PragmaInt;
using schema::kApplicationId;
using schema::Migrate;

// How long a writer or reader waits for the other side's lock before giving up. A sweep commits a trial every
// few seconds at most and readers (`table`) are short, so waits are brief; 10 s rides out a slow disk.
constexpr int kBusyTimeoutMs = 10000;

// The first 100 bytes of every SQLite file (https://www.sqlite.org/fileformat.html#the_database_header).
constexpr size_t kHeaderSize = 100;
constexpr char kSqliteMagic[] = "SQLite format 3";  // 16 bytes with its NUL
constexpr size_t kWriteVersionOffset = 18;  // 2: WAL mode
constexpr size_t kUserVersionOffset = 60;
constexpr size_t kApplicationIdOffset = 68;

// The most VM steps PRAGMA quick_check may take when a file is opened (counted every kCheckStepGrain), so that
// opening a very large file does not cost a full scan. The figure is a first guess, not yet measured against
// file sizes; a file larger than the budget covers is checked up to there, and a damaged page beyond it fails
// the read that meets it.
// Reads get a smaller budget (a small file is still checked whole): `table` on a million trials must stay
// within its 2 s (bench/reads.sh); a damaged page past the budget fails the read that meets it.
constexpr int kCheckStepGrain = 1000;
constexpr int64_t kCheckSteps = 100'000'000;
constexpr int64_t kReadCheckSteps = 5'000'000;

bool Exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

std::string DirOf(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string DamagedMessage(const std::string& path, const std::string& what) {
  return fmt::format("database '{}' is damaged ({}); it was left untouched: save what can be read with "
                     "`sqlite3 {} .recover | sqlite3 recovered.db`, or sweep into a new --db",
                     path, what, path);
}

std::string InterruptedCreationMessage(const std::string& path) {
  return fmt::format("'{}' is a crashgrid database whose creation was interrupted (an older crashgrid was killed "
                     "while it created the file in place; '{}-journal' beside it is the unfinished step) and holds "
                     "no trials: it was left untouched; delete both files and run again",
                     path, path);
}


uint32_t BigEndian32(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

std::string NewerMessage(const std::string& path, int64_t version) {
  return fmt::format(
      "database '{}' was written by a newer crashgrid (schema v{}, this build reads v{}): upgrade crashgrid",
      path, version, kStoreSchemaVersion);
}

std::string ForeignMessage(const std::string& path, const std::string& what) {
  return fmt::format("'{}' is {}, not a crashgrid database (it was left untouched; give the file a sweep wrote, "
                     "or a new path for --db)",
                     path, what);
}

enum class HeaderKind { kEmpty, kCrashgrid, kForeign };

struct Header {
  HeaderKind kind = HeaderKind::kEmpty;
  int64_t version = 0;
  uint32_t app_id = 0;
  bool wal = false;  // in WAL mode (the mode every crashgrid database is in once created)
};

// Classifies an existing file from its first bytes with plain read(2): nothing about this opens the file
// through SQLite, so a foreign database cannot be touched (no -wal/-shm/-journal, no recovery of someone
// else's hot journal). `version` is the header's user_version when it is a crashgrid file.
bool ReadHeader(const std::string& path, Header* h, std::string* err, int* exit_code) {
  HeaderKind* kind = &h->kind;
  int64_t* version = &h->version;
  ScopedFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.is_open()) {
    *err = fmt::format("cannot open database '{}': {} (check the path and its permissions)", path,
                       std::strerror(errno));
    *exit_code = kExitDatabase;
    return false;
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    *err = fmt::format("database '{}' is not a regular file (pass --db the path of a file)", path);
    *exit_code = kExitDatabase;
    return false;
  }
  unsigned char header[kHeaderSize];
  size_t got = 0;
  while (got < kHeaderSize) {
    ssize_t r = ::read(fd.get(), header + got, kHeaderSize - got);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      *err = fmt::format("cannot read database '{}': {}", path, std::strerror(errno));
      *exit_code = kExitDatabase;
      return false;
    }
    if (r == 0) break;
    got += static_cast<size_t>(r);
  }
  if (got == 0) {
    *kind = HeaderKind::kEmpty;
    return true;
  }
  if (got < kHeaderSize || std::memcmp(header, kSqliteMagic, sizeof(kSqliteMagic)) != 0) {
    *kind = HeaderKind::kForeign;
    *err = ForeignMessage(path, "not an SQLite file");
    *exit_code = kExitDatabase;
    return true;
  }
  h->app_id = BigEndian32(header + kApplicationIdOffset);
  h->wal = header[kWriteVersionOffset] == 2;
  if (h->app_id != kApplicationId) {
    *kind = HeaderKind::kForeign;
    *err = ForeignMessage(path, "an SQLite database of another program");
    *exit_code = kExitDatabase;
    return true;
  }
  *kind = HeaderKind::kCrashgrid;
  *version = BigEndian32(header + kUserVersionOffset);
  return true;
}

// PRAGMA quick_check, bounded by kCheckSteps. "" when it found nothing (or ran out of steps first), else what
// it found first.
std::string QuickCheck(sqlite3* db, int64_t budget) {
  struct Steps {
    int64_t done = 0, budget;
  } steps{0, budget};
  sqlite3_progress_handler(
      db, kCheckStepGrain,
      [](void* p) -> int {
        auto* n = static_cast<Steps*>(p);
        n->done += kCheckStepGrain;
        return n->done > n->budget;
      },
      &steps);
  std::string found;
  {
    sql::Stmt check(db, "PRAGMA quick_check(1)");
    int rc = check.Step();
    if (rc == SQLITE_ROW) {
      std::string row = check.Text(0);
      if (row != "ok") found = "integrity check: " + row;
    } else if (rc != SQLITE_DONE && rc != SQLITE_INTERRUPT) {
      found = sqlite3_errmsg(db);
    }
  }
  sqlite3_progress_handler(db, 0, nullptr, nullptr);
  return found;
}

bool IsDamageCode(int rc) { return (rc & 0xff) == SQLITE_CORRUPT || (rc & 0xff) == SQLITE_NOTADB; }

}  // namespace

Store::~Store() {
  insert_trial_.reset();
  syncer_.reset();
  if (db_) sqlite3_close_v2(db_);
  if (sweep_lock_fd_ >= 0) ::close(sweep_lock_fd_);  // after SQLite's own descriptors are closed
}

bool Store::LockForSweep(std::string* err, int* exit_code) {
  *exit_code = kExitDatabase;
  ScopedFd fd(::open(path_.c_str(), O_RDWR | O_CLOEXEC));
  if (!fd.is_open()) {
    *err = fmt::format("cannot open database '{}': {}", path_, std::strerror(errno));
    return false;
  }
  // An open-file-description lock on one byte far past anything SQLite locks (its lock bytes are at 1 GiB):
  // it is independent of SQLite's POSIX locks, and closing another descriptor of the file does not drop it.
  struct flock lock = {};
  lock.l_type = F_WRLCK;
  lock.l_whence = SEEK_SET;
  lock.l_start = off_t{1} << 62;
  lock.l_len = 1;
  int rc = ::fcntl(fd.get(), F_OFD_SETLK, &lock);
  if (rc != 0 && errno == EINVAL) rc = ::flock(fd.get(), LOCK_EX | LOCK_NB);  // a kernel before OFD locks
  if (rc != 0) {
    if (errno == EAGAIN || errno == EACCES || errno == EWOULDBLOCK) {
      *err = fmt::format("another crashgrid sweep is recording into '{}' now (two sweeps on one --db would both "
                         "run every trial): wait for it to end, then run this one, which continues what it "
                         "recorded; or give this sweep another --db",
                         path_);
    } else {
      *err = fmt::format("cannot lock database '{}': {}", path_, std::strerror(errno));
    }
    return false;
  }
  sweep_lock_fd_ = fd.release();
  return true;
}

SyncStats Store::sync_stats() const { return syncer_ ? syncer_->Stats() : SyncStats{}; }

bool Store::SyncNow(std::string* err) { return !syncer_ || syncer_->SyncNow(err); }

std::unique_ptr<Store> Store::Open(const std::string& path, Mode mode, std::string* err, int* exit_code) {
  *exit_code = kExitDatabase;
  struct stat st;
  bool exists = ::stat(path.c_str(), &st) == 0;
  if (!exists && errno != ENOENT) {
    *err = fmt::format("cannot open database '{}': {} (check the path and its permissions)", path,
                       std::strerror(errno));
    return nullptr;
  }
  if (!exists && mode != Mode::kCreate) {
    *err = fmt::format("database '{}' does not exist (run a sweep with --db {} first)", path, path);
    return nullptr;
  }

  Header header;
  if (exists) {
    if (!ReadHeader(path, &header, err, exit_code)) return nullptr;
    // Before anything opens it through SQLite (which would roll the journal back, rewriting the file): a
    // -journal beside an unmarked or crashgrid file is a creation an older crashgrid did not finish.
    if (header.kind != HeaderKind::kForeign || header.app_id == 0) {
      struct stat journal;
      if (::stat((path + "-journal").c_str(), &journal) == 0 && journal.st_size > 0) {
        *err = InterruptedCreationMessage(path);
        *exit_code = kExitDatabase;
        return nullptr;
      }
    }
    if (header.kind == HeaderKind::kForeign) return nullptr;
    if (header.kind == HeaderKind::kCrashgrid && header.version > kStoreSchemaVersion) {
      *err = NewerMessage(path, header.version);
      return nullptr;
    }
    if (header.kind == HeaderKind::kEmpty && mode != Mode::kCreate) {
      *err = fmt::format("database '{}' is empty, not a crashgrid database (run a sweep with --db {} first)", path,
                         path);
      return nullptr;
    }
  }
  if (mode == Mode::kCreate && (!exists || header.kind == HeaderKind::kEmpty)) {
    // Built aside and moved into place whole (store/create.h); then opened like any existing file.
    store_create::RemoveStaleTemporaries(path);
    std::string why;
    if (!store_create::CreateDatabase(path, /*replace_empty=*/exists, &why)) {
      *err = fmt::format("cannot create database '{}': {} (check that its directory exists and is writable)", path,
                         why);
      return nullptr;
    }
    if (!ReadHeader(path, &header, err, exit_code) || header.kind == HeaderKind::kForeign) return nullptr;
    if (header.kind == HeaderKind::kEmpty) {
      *err = fmt::format("database '{}' is empty, not a crashgrid database (another process emptied it while it "
                         "was created; run again)",
                         path);
      return nullptr;
    }
    if (header.version > kStoreSchemaVersion) {
      *err = NewerMessage(path, header.version);
      return nullptr;
    }
  }

  // A reader leaves the directory as it found it. Opened read-only, SQLite makes the -wal and -shm files of a
  // WAL database and leaves them behind: only a connection that may write removes them, at its close, when it
  // is the last one. So a reader that may write the file opens it for writing, with query_only: it writes
  // nothing, and its close removes what its open made; a writer open meanwhile keeps them (it is still
  // connected). -wal and -shm files a killed sweep or reader left are removed the same way, the killed sweep's
  // last commits checkpointed into the file first (what that sweep's next run would do). A reader without write
  // permission opens read-only (and can leave them, as before).
  bool clean_reader = mode == Mode::kReadOnly && header.wal && ::access(path.c_str(), W_OK) == 0 &&
                      ::access(DirOf(path).c_str(), W_OK) == 0;
  bool side_files_existed = Exists(path + "-wal") || Exists(path + "-shm");
  int flags = SQLITE_OPEN_NOMUTEX;  // each Store is used by one thread at a time
  flags |= (mode == Mode::kReadOnly && !clean_reader) ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  DbPtr db(raw);
  auto fail = [&](const std::string& what) -> std::unique_ptr<Store> {
    *err = fmt::format("cannot open database '{}': {}", path, what);
    *exit_code = kExitDatabase;
    return nullptr;
  };
  // A damaged file is refused as it is: the close must not checkpoint a WAL it found into it.
  auto damaged = [&](const std::string& what) -> std::unique_ptr<Store> {
    if (side_files_existed) sqlite3_db_config(db.get(), SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
    *err = DamagedMessage(path, what);
    *exit_code = kExitDatabase;
    return nullptr;
  };
  if (rc != SQLITE_OK) return fail(db ? sqlite3_errmsg(db.get()) : sqlite3_errstr(rc));
  sqlite3_extended_result_codes(db.get(), 1);
  sqlite3_busy_timeout(db.get(), kBusyTimeoutMs);
  std::string why;
  if (clean_reader && !Exec(db.get(), "PRAGMA query_only = 1", &why)) return fail(why);

  // Re-check through SQLite: the header may be stale for a file whose last writes are still in its WAL.
  int64_t app_id = 0, version = 0;
  if (!PragmaInt(db.get(), "PRAGMA application_id", &app_id, &why) ||
      !PragmaInt(db.get(), "PRAGMA user_version", &version, &why))
    return IsDamageCode(sqlite3_extended_errcode(db.get())) ? damaged(why) : fail(why);
  if (app_id != kApplicationId) {
    *err = ForeignMessage(path, "an SQLite database of another program");
    return nullptr;
  }
  if (version > kStoreSchemaVersion) {
    *err = NewerMessage(path, version);
    return nullptr;
  }
  if (version < 1) return fail("its schema version is missing (the file is damaged; run the sweep into a new --db)");
  // Before anything is written (a migration, a run row): a damaged file is never modified, and a reader is
  // told instead of shown part of the data.
  if (std::string found = QuickCheck(db.get(), mode == Mode::kReadOnly ? kReadCheckSteps : kCheckSteps); !found.empty())
    return damaged(found);
  if (mode != Mode::kReadOnly && version < kStoreSchemaVersion) {
    if (!Migrate(db.get(), &why)) {
      return fail(fmt::format("cannot upgrade it from schema v{} to v{}: {} (it was left at v{}; open it read-only "
                              "with `crashgrid table`, or sweep into a new --db)",
                              version, kStoreSchemaVersion, why, version));
    }
    if (!PragmaInt(db.get(), "PRAGMA user_version", &version, &why)) return fail(why);
    if (version > kStoreSchemaVersion) {
      *err = NewerMessage(path, version);
      return nullptr;
    }
  }

  if (mode != Mode::kReadOnly) {
    // NORMAL, not FULL: in WAL mode a NORMAL commit is in the OS page cache when it returns, so it survives a
    // killed crashgrid; FULL would add an fsync per trial (a third of the time of a short trial) only to
    // survive a power cut or a kernel panic as well, which a GPU driver that fails hard can cause (Xid errors,
    // panics). The WalSyncer gives that too, within about half a second: it flushes the WAL in the background,
    // one fdatasync for every commit since the last, and once more at close.
    if (!Exec(db.get(), "PRAGMA synchronous = NORMAL", &why) || !Exec(db.get(), "PRAGMA foreign_keys = ON", &why))
      return fail(why);
  }

  std::unique_ptr<Store> store(new Store());
  store->db_ = db.release();
  store->path_ = path;
  store->version_ = version;
  if (mode != Mode::kReadOnly) store->syncer_ = std::make_unique<WalSyncer>(store->db_, path + "-wal");
  return store;
}

}  // namespace cg

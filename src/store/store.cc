#include "store/store.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iterator>
#include <utility>

#include <fmt/format.h>

#include "store/schema.h"
#include "store/sql.h"
#include "store/wal_sync.h"
#include "trial/trial_json.h"
#include "util/error.h"
#include "util/fd.h"

namespace cg {
namespace {

using sql::DbPtr;
using sql::Exec;
using sql::PragmaInt;
using schema::CreateSchema;
using schema::kApplicationId;
using schema::Migrate;

// How long a writer or reader waits for the other side's lock before giving up. A sweep commits a trial every
// few seconds at most and readers (`table`) are short, so waits are brief; 10 s rides out a slow disk.
constexpr int kBusyTimeoutMs = 10000;

// The first 100 bytes of every SQLite file (https://www.sqlite.org/fileformat.html#the_database_header).
constexpr size_t kHeaderSize = 100;
constexpr char kSqliteMagic[] = "SQLite format 3";  // 16 bytes with its NUL
constexpr size_t kUserVersionOffset = 60;
constexpr size_t kApplicationIdOffset = 68;


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

// Classifies an existing file from its first bytes with plain read(2): nothing about this opens the file
// through SQLite, so a foreign database cannot be touched (no -wal/-shm/-journal, no recovery of someone
// else's hot journal). `version` is the header's user_version when it is a crashgrid file.
bool ReadHeader(const std::string& path, HeaderKind* kind, int64_t* version, std::string* err, int* exit_code) {
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
  if (BigEndian32(header + kApplicationIdOffset) != kApplicationId) {
    *kind = HeaderKind::kForeign;
    *err = ForeignMessage(path, "an SQLite database of another program");
    *exit_code = kExitDatabase;
    return true;
  }
  *kind = HeaderKind::kCrashgrid;
  *version = BigEndian32(header + kUserVersionOffset);
  return true;
}

}  // namespace

Store::~Store() {
  insert_trial_.reset();
  syncer_.reset();
  if (db_) sqlite3_close_v2(db_);
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

  HeaderKind kind = HeaderKind::kEmpty;
  int64_t header_version = 0;
  if (exists) {
    if (!ReadHeader(path, &kind, &header_version, err, exit_code)) return nullptr;
    if (kind == HeaderKind::kForeign) return nullptr;
    if (kind == HeaderKind::kCrashgrid && header_version > kStoreSchemaVersion) {
      *err = NewerMessage(path, header_version);
      return nullptr;
    }
    if (kind == HeaderKind::kEmpty && mode != Mode::kCreate) {
      *err = fmt::format("database '{}' is empty, not a crashgrid database (run a sweep with --db {} first)", path,
                         path);
      return nullptr;
    }
  }

  int flags = SQLITE_OPEN_NOMUTEX;  // each Store is used by one thread at a time
  if (mode == Mode::kReadOnly) {
    flags |= SQLITE_OPEN_READONLY;
  } else {
    flags |= SQLITE_OPEN_READWRITE;
    if (mode == Mode::kCreate) flags |= SQLITE_OPEN_CREATE;
  }
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  DbPtr db(raw);
  auto fail = [&](const std::string& what) -> std::unique_ptr<Store> {
    *err = fmt::format("cannot open database '{}': {}", path, what);
    *exit_code = kExitDatabase;
    return nullptr;
  };
  if (rc != SQLITE_OK) return fail(db ? sqlite3_errmsg(db.get()) : sqlite3_errstr(rc));
  sqlite3_extended_result_codes(db.get(), 1);
  sqlite3_busy_timeout(db.get(), kBusyTimeoutMs);

  std::string why;
  if (kind == HeaderKind::kEmpty && !CreateSchema(db.get(), &why)) return fail(why);

  // Re-check through SQLite: the header may be stale for a file whose last writes are still in its WAL.
  int64_t app_id = 0, version = 0;
  if (!PragmaInt(db.get(), "PRAGMA application_id", &app_id, &why) ||
      !PragmaInt(db.get(), "PRAGMA user_version", &version, &why))
    return fail(why);
  if (app_id != kApplicationId) {
    *err = ForeignMessage(path, "an SQLite database of another program");
    return nullptr;
  }
  if (version > kStoreSchemaVersion) {
    *err = NewerMessage(path, version);
    return nullptr;
  }
  if (version < 1) return fail("its schema version is missing (the file is damaged; run the sweep into a new --db)");
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

#include "store/create.h"

#include <dirent.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "store/schema.h"
#include "util/fd.h"

namespace cg::store_create {
namespace {

const char* const kSideSuffixes[] = {"-journal", "-wal", "-shm"};

std::string DirName(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

void SyncDir(const std::string& path) {
  ScopedFd dir(::open(DirName(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.is_open()) (void)::fsync(dir.get());
}

// Builds the schema in the empty file at `tmp` (locked by our caller) and closes it, so that its -wal and -shm
// are gone and everything is in the main file.
bool BuildSchema(const std::string& tmp, std::string* err) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(tmp.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    *err = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close_v2(db);
    return false;
  }
  std::string why;
  bool ok = schema::CreateSchema(db, &why);
  rc = sqlite3_close(db);  // nothing else is open on it: the last close checkpoints the WAL and removes it
  if (!ok) {
    *err = why;
    return false;
  }
  if (rc != SQLITE_OK) {
    *err = fmt::format("closing it: {}", sqlite3_errstr(rc));
    return false;
  }
  return true;
}

void RemoveWithSideFiles(const std::string& file) {
  ::unlink(file.c_str());
  for (const char* s : kSideSuffixes) ::unlink((file + s).c_str());
}

}  // namespace

void RemoveStaleTemporaries(const std::string& path) {
  std::string dir = DirName(path);
  std::string base = path.substr(path.rfind('/') == std::string::npos ? 0 : path.rfind('/') + 1);
  std::string prefix = base + kTempInfix;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return;
  std::vector<std::string> mains, sides;
  while (struct dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name.compare(0, prefix.size(), prefix) != 0) continue;
    (name.size() == prefix.size() + 6 ? mains : sides).push_back(dir + "/" + name);
  }
  ::closedir(d);
  for (const std::string& file : mains) {
    ScopedFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd.is_open()) continue;
    // Its creator holds the lock while it builds the file; a free lock means the creator is gone. The same
    // inode still at the name: not a file a live creator has just put there after ours was removed.
    struct stat by_fd, by_name;
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0 || ::fstat(fd.get(), &by_fd) != 0 ||
        ::stat(file.c_str(), &by_name) != 0 || by_fd.st_ino != by_name.st_ino)
      continue;
    RemoveWithSideFiles(file);
  }
  for (const std::string& side : sides) {  // a -journal, -wal or -shm whose main file is gone
    for (const char* s : kSideSuffixes) {
      size_t n = std::strlen(s);
      if (side.size() > n && side.compare(side.size() - n, n, s) == 0 &&
          ::access(side.substr(0, side.size() - n).c_str(), F_OK) != 0)
        ::unlink(side.c_str());
    }
  }
}

bool CreateDatabase(const std::string& path, bool replace_empty, std::string* err) {
  for (int attempt = 0;; ++attempt) {
    std::string tmp = path + kTempInfix + "XXXXXX";
    ScopedFd fd(::mkostemp(tmp.data(), O_CLOEXEC));
    if (!fd.is_open()) {
      *err = std::strerror(errno);
      return false;
    }
    // Held until the file is at `path` (RemoveStaleTemporaries leaves a locked file alone). flock, not fcntl:
    // SQLite's own POSIX locks on the file are not disturbed by it.
    (void)::flock(fd.get(), LOCK_EX);
    struct stat st;
    if (::stat(tmp.c_str(), &st) != 0) {  // removed by a cleaner between mkostemp and flock: take another name
      if (attempt < 3) continue;
      *err = std::strerror(errno);
      return false;
    }
    // mkostemp makes 0600; SQLite would have made 0666 less the umask, as for any file the user creates.
    mode_t mask = ::umask(0);
    ::umask(mask);
    (void)::fchmod(fd.get(), 0666 & ~mask);
    std::string why;
    if (!BuildSchema(tmp, &why) || ::fsync(fd.get()) != 0) {
      *err = why.empty() ? std::strerror(errno) : why;
      RemoveWithSideFiles(tmp);
      return false;
    }
    int rc = ::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, path.c_str(), RENAME_NOREPLACE);
    if (rc != 0 && (errno == EINVAL || errno == ENOSYS)) {  // a file system without RENAME_NOREPLACE
      rc = ::link(tmp.c_str(), path.c_str());
      if (rc == 0) ::unlink(tmp.c_str());
    }
    if (rc != 0 && errno == EEXIST) {
      struct stat existing;
      if (replace_empty && ::stat(path.c_str(), &existing) == 0 && S_ISREG(existing.st_mode) &&
          existing.st_size == 0) {
        rc = ::rename(tmp.c_str(), path.c_str());
      } else {
        ::unlink(tmp.c_str());  // another process created it first: that file is the database
        return true;
      }
    }
    if (rc != 0) {
      *err = std::strerror(errno);
      RemoveWithSideFiles(tmp);
      return false;
    }
    SyncDir(path);
    return true;
  }
}

}  // namespace cg::store_create

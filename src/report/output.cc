#include "report/output.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

#include <fmt/format.h>

#include "util/fd.h"

namespace cg {
namespace {

bool WriteAll(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t w = write(fd, data.data() + off, data.size() - off);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    off += static_cast<size_t>(w);
  }
  return true;
}

std::string DirOf(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

// A file being written for `path`, with no name until Publish: O_TMPFILE, so that a crashgrid killed midway
// (SIGKILL included) leaves nothing behind. Where the file system has no O_TMPFILE, a `PATH.tmpXXXXXX` file
// renamed into place (removed on failure, not after a SIGKILL).
class PendingFile {
 public:
  ~PendingFile() {
    if (!tmp_path_.empty()) unlink(tmp_path_.c_str());
  }
  // False with errno set.
  bool Create(const std::string& path) {
    path_ = path;
    mode_t mask = umask(0);
    umask(mask);
    fd_.reset(open(DirOf(path).c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0666 & ~mask));
    if (fd_.is_open()) return true;
    if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL) return false;
    tmp_path_ = path + ".tmpXXXXXX";
    fd_.reset(mkstemp(tmp_path_.data()));
    if (!fd_.is_open()) {
      tmp_path_.clear();
      return false;
    }
    fchmod(fd_.get(), 0666 & ~mask);  // mkstemp creates 0600; a report is meant to be shared like any file
    return true;
  }
  int fd() const { return fd_.get(); }
  // Syncs the data and gives the file its name, replacing what was there. False with errno set.
  bool Publish() {
    if (fsync(fd_.get()) != 0) return false;
    if (!tmp_path_.empty()) {
      fd_.reset();
      if (rename(tmp_path_.c_str(), path_.c_str()) != 0) return false;
      tmp_path_.clear();
      return true;
    }
    std::string self = "/proc/self/fd/" + std::to_string(fd_.get());
    if (LinkTo(self, path_)) return true;
    if (errno != EEXIST) return false;
    // An existing file is replaced by a rename, atomically; the name it has for that instant is the only trace
    // a kill can leave (a few microseconds).
    for (int attempt = 0; attempt < 100; ++attempt) {
      std::string tmp = fmt::format("{}.tmp{:06x}", path_, (static_cast<unsigned>(getpid()) * 2654435761u + attempt) & 0xffffff);
      if (!LinkTo(self, tmp)) {
        if (errno == EEXIST) continue;
        return false;
      }
      if (rename(tmp.c_str(), path_.c_str()) != 0) {
        int e = errno;
        unlink(tmp.c_str());
        errno = e;
        return false;
      }
      return true;
    }
    return false;
  }

 private:
  // linkat through /proc/self/fd (any user); without /proc, AT_EMPTY_PATH (needs CAP_DAC_READ_SEARCH: root).
  bool LinkTo(const std::string& self, const std::string& name) {
    if (linkat(AT_FDCWD, self.c_str(), AT_FDCWD, name.c_str(), AT_SYMLINK_FOLLOW) == 0) return true;
    if (errno != ENOENT || access("/proc/self/fd", F_OK) == 0) return false;
    return linkat(fd_.get(), "", AT_FDCWD, name.c_str(), AT_EMPTY_PATH) == 0;
  }

  std::string path_, tmp_path_;
  ScopedFd fd_;
};


bool WriteTextFile(const std::string& path, const std::string& data, std::string* err) {
  if (path == "-") {
    std::fflush(stdout);
    if (!WriteAll(STDOUT_FILENO, data)) {
      *err = fmt::format("cannot write to stdout: {}", strerror(errno));
      return false;
    }
    return true;
  }
  // A device or a pipe (-o /dev/null, -o /dev/stdout, a FIFO) is written in place: renaming a temporary file
  // over it would replace the device node with a regular file (for root, /dev/null itself).
  struct stat st;
  if (stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    ScopedFd out(open(path.c_str(), O_WRONLY | O_CLOEXEC));
    if (!out.is_open() || !WriteAll(out.get(), data)) {
      *err = fmt::format("cannot write '{}': {}", path, strerror(errno));
      return false;
    }
    return true;
  }
  PendingFile file;
  if (!file.Create(path)) {
    *err = fmt::format("cannot write '{}': {} (check that its directory exists and is writable)", path,
                       strerror(errno));
    return false;
  }
  if (!WriteAll(file.fd(), data) || !file.Publish()) {
    *err = fmt::format("cannot write '{}': {}", path, strerror(errno));
    return false;
  }
  return true;
}

StreamWriter::StreamWriter() = default;

StreamWriter::~StreamWriter() {
  if (owns_fd_ && fd_ >= 0) close(fd_);
}

bool StreamWriter::Open(const std::string& path, std::string* err) {
  path_ = path;
  if (path == "-") {
    std::fflush(stdout);
    fd_ = STDOUT_FILENO;
    return true;
  }
  struct stat st;
  if (stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {  // as in WriteTextFile: never rename over a device
    fd_ = open(path.c_str(), O_WRONLY | O_CLOEXEC);
    owns_fd_ = fd_ >= 0;
  } else {
    file_ = std::make_unique<PendingFile>();
    if (file_->Create(path)) {
      fd_ = file_->fd();
    } else {
      file_.reset();
    }
  }
  if (fd_ < 0) {
    *err = fmt::format("cannot write '{}': {} (check that its directory exists and is writable)", path,
                       strerror(errno));
    return false;
  }
  return true;
}

bool StreamWriter::Flush() {
  if (errno_ == 0 && !WriteAll(fd_, buffer_)) errno_ = errno;
  buffer_.clear();
  return errno_ == 0;
}

bool StreamWriter::Write(const std::string& data) {
  buffer_ += data;
  return buffer_.size() < (1 << 20) ? errno_ == 0 : Flush();
}

bool StreamWriter::Close(std::string* err) {
  bool ok = Flush();
  if (ok && file_ && !file_->Publish()) ok = false, errno_ = errno;
  file_.reset();
  if (owns_fd_) close(fd_);
  fd_ = -1;
  owns_fd_ = false;
  if (!ok) {
    *err = path_ == "-" ? fmt::format("cannot write to stdout: {}", strerror(errno_))
                        : fmt::format("cannot write '{}': {}", path_, strerror(errno_));
  }
  return ok;
}

}  // namespace cg

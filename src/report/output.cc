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

}  // namespace

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
  std::string tmp_path = path + ".tmpXXXXXX";
  ScopedFd fd(mkstemp(tmp_path.data()));
  if (!fd.is_open()) {
    *err = fmt::format("cannot write '{}': {} (check that its directory exists and is writable)", path,
                       strerror(errno));
    return false;
  }
  // mkstemp creates 0600; a report is meant to be shared like any other file the user writes.
  mode_t mask = umask(0);
  umask(mask);
  fchmod(fd.get(), 0666 & ~mask);
  if (!WriteAll(fd.get(), data) || fsync(fd.get()) != 0) {
    *err = fmt::format("cannot write '{}': {}", path, strerror(errno));
    unlink(tmp_path.c_str());
    return false;
  }
  fd.reset();
  if (rename(tmp_path.c_str(), path.c_str()) != 0) {
    *err = fmt::format("cannot write '{}': {}", path, strerror(errno));
    unlink(tmp_path.c_str());
    return false;
  }
  return true;
}

StreamWriter::~StreamWriter() {
  if (owns_fd_ && fd_ >= 0) close(fd_);
  if (!tmp_path_.empty()) unlink(tmp_path_.c_str());
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
  } else {
    tmp_path_ = path + ".tmpXXXXXX";
    fd_ = mkstemp(tmp_path_.data());
    if (fd_ < 0) tmp_path_.clear();
  }
  if (fd_ < 0) {
    *err = fmt::format("cannot write '{}': {} (check that its directory exists and is writable)", path,
                       strerror(errno));
    return false;
  }
  owns_fd_ = true;
  if (!tmp_path_.empty()) {
    mode_t mask = umask(0);
    umask(mask);
    fchmod(fd_, 0666 & ~mask);
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
  if (ok && !tmp_path_.empty() && fsync(fd_) != 0) ok = false, errno_ = errno;
  if (owns_fd_) close(fd_);
  fd_ = -1;
  owns_fd_ = false;
  if (ok && !tmp_path_.empty()) {
    if (rename(tmp_path_.c_str(), path_.c_str()) != 0) {
      ok = false;
      errno_ = errno;
    } else {
      tmp_path_.clear();
    }
  }
  if (!ok) {
    *err = path_ == "-" ? fmt::format("cannot write to stdout: {}", strerror(errno_))
                        : fmt::format("cannot write '{}': {}", path_, strerror(errno_));
  }
  return ok;
}

}  // namespace cg

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

}  // namespace cg

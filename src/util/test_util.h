#pragma once
// Helpers shared by the unit test binaries (header only; CRASHGRID_BINARY_DIR comes from the test target).

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <string>

#include "util/fd.h"

namespace cg::test_util {

#ifdef CRASHGRID_BINARY_DIR
// A fixture program built from tests/fixtures/NAME.c(c).
inline std::string Fixture(const std::string& name) { return std::string(CRASHGRID_BINARY_DIR) + "/fixtures/" + name; }
#endif

// The whole file, bytes as they are; empty when it cannot be opened, and what was read before an error
// otherwise. A /proc file of a process that exits mid-read fails with ESRCH: std::ifstream throws on that
// (libstdc++'s basic_filebuf::underflow), which made the tests that scan /proc fail on a busy machine.
inline std::string Slurp(const std::string& path) {
  std::string out;
  ScopedFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.is_open()) return out;
  char buf[8192];
  for (;;) {
    ssize_t n = read(fd.get(), buf, sizeof buf);
    if (n > 0) {
      out.append(buf, static_cast<size_t>(n));
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      return out;
    }
  }
}

// How many times needle occurs in s, overlapping ones included.
inline size_t Count(const std::string& s, const std::string& needle) {
  size_t n = 0;
  for (size_t pos = s.find(needle); pos != std::string::npos; pos = s.find(needle, pos + 1)) ++n;
  return n;
}

}  // namespace cg::test_util

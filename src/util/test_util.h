#pragma once
// Helpers shared by the unit test binaries (header only; CRASHGRID_BINARY_DIR comes from the test target).

#include <fstream>
#include <iterator>
#include <string>

namespace cg::test_util {

#ifdef CRASHGRID_BINARY_DIR
// A fixture program built from tests/fixtures/NAME.c(c).
inline std::string Fixture(const std::string& name) { return std::string(CRASHGRID_BINARY_DIR) + "/fixtures/" + name; }
#endif

// The whole file, bytes as they are; empty when it cannot be read.
inline std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// How many times needle occurs in s, overlapping ones included.
inline size_t Count(const std::string& s, const std::string& needle) {
  size_t n = 0;
  for (size_t pos = s.find(needle); pos != std::string::npos; pos = s.find(needle, pos + 1)) ++n;
  return n;
}

}  // namespace cg::test_util

// Golden-file comparison for the renderers' tests: CRASHGRID_UPDATE_GOLDEN=1 rewrites the files instead.
#pragma once

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

namespace cg::testing {

inline void ExpectGolden(const std::string& name, const std::string& actual) {
  std::string path = std::string(CRASHGRID_SOURCE_DIR) + "/tests/golden/" + name;
  const char* update = std::getenv("CRASHGRID_UPDATE_GOLDEN");
  if (update && std::string(update) == "1") {
    std::ofstream(path, std::ios::binary) << actual;
    return;
  }
  std::ifstream in(path, std::ios::binary);
  ASSERT_TRUE(in) << "missing golden file " << path << " (create it with CRASHGRID_UPDATE_GOLDEN=1)";
  std::stringstream ss;
  ss << in.rdbuf();
  std::string expected = ss.str();
  if (expected != actual) {
    std::string out = std::string(CRASHGRID_BINARY_DIR) + "/" + name + ".actual";
    std::ofstream(out, std::ios::binary) << actual;
    FAIL() << "output differs from " << path << "; the actual output is in " << out
           << " (diff them; if the change is intended, rerun with CRASHGRID_UPDATE_GOLDEN=1)";
  }
}

}  // namespace cg::testing

// The sources `crashgrid repro` exports for a built-in workload: the files this binary was built from,
// embedded byte for byte at build time (src/workloads/CMakeLists.txt, repro/embed.cmake), so the exported
// reproduction runs the code crashgrid ran, not a hand-kept copy.
#pragma once

#include <string>
#include <vector>

namespace cg {

struct EmbeddedFile {
  std::string name;  // the file's name in the exported directory (its base name)
  std::string path;  // where it lives in crashgrid's tree ("src/workloads/reference_race/lib/refrace.c")
  std::string text;
};

// Every file of `workload`'s reproduction (its loop, its workload source, CMakeLists.txt and Makefile);
// empty for a workload without one.
std::vector<EmbeddedFile> WorkloadReproSources(const std::string& workload);

}  // namespace cg

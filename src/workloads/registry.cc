// The built-in workloads. Adding one: write workloads/NAME/, declare its factory here, add it to kFactories.
#include <memory>
#include <string>
#include <vector>

#include "runtime/workload.h"

namespace cg {

std::unique_ptr<Workload> NewCudaWorkload();
std::unique_ptr<Workload> NewEglStreamWorkload();
std::unique_ptr<Workload> NewGstWorkload();
std::unique_ptr<Workload> NewNvDecWorkload();
std::unique_ptr<Workload> NewNvEncWorkload();
std::unique_ptr<Workload> NewReferenceRaceWorkload();

namespace {

struct Factory {
  const char* name;
  std::unique_ptr<Workload> (*make)();
};

const Factory kFactories[] = {
    {"cuda", NewCudaWorkload},
    {"eglstream", NewEglStreamWorkload},
    {"gst", NewGstWorkload},
    {"nvdec", NewNvDecWorkload},
    {"nvenc", NewNvEncWorkload},
    {"reference-race", NewReferenceRaceWorkload},
};

}  // namespace

std::vector<std::string> WorkloadNames() {
  std::vector<std::string> names;
  for (const auto& f : kFactories) names.emplace_back(f.name);
  return names;
}

std::unique_ptr<Workload> CreateWorkload(const std::string& name) {
  for (const auto& f : kFactories)
    if (name == f.name) return f.make();
  return nullptr;
}

}  // namespace cg

// What NVML (libnvidia-ml.so.1) says about the GPUs, read once. Free of SDK types, so the CLI may include it.
#pragma once

#include <string>
#include <vector>

namespace cg {

struct NvmlGpu {
  std::string name;
  std::string uuid;
  unsigned long long memory_bytes = 0;
};

struct NvmlInfo {
  std::string driver_version;   // "580.65.06"
  int cuda_driver_version = 0;  // nvmlSystemGetCudaDriverVersion: 13000
  std::vector<NvmlGpu> gpus;
};

// False with *err ("libnvidia-ml.so.1 not found: ...", "nvmlInit_v2: NVML_ERROR_DRIVER_NOT_LOADED (9)").
// Initialises and shuts NVML down again; safe to call from any thread, not concurrently with itself.
bool QueryNvml(NvmlInfo* info, std::string* err);

}  // namespace cg

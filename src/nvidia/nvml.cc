#include "nvidia/nvml.h"

#include "nvidia/dl.h"
#include "nvidia/errors.h"

namespace cg {
namespace {

struct nvmlDevice_st;
using NvmlDevice = nvmlDevice_st*;
using NvmlReturn = int;  // nvmlReturn_t is a C enum

bool NvmlOk(NvmlReturn r, const char* what, std::string* err) {
  if (r == 0) return true;
  *err = std::string(what) + ": " + NvmlReturnName(r);
  return false;
}

}  // namespace

bool QueryNvml(NvmlInfo* info, std::string* err) {
  // NVML keeps no state worth caching and dlclose of it is harmless, unlike libcuda.
  DlLibrary lib;
  std::string dlerr;
  if (!lib.Open({"libnvidia-ml.so.1", "libnvidia-ml.so"}, &dlerr)) {
    *err = "libnvidia-ml.so.1 not found: no NVIDIA driver on this machine (" + dlerr + ")";
    return false;
  }
  NvmlReturn (*init)() = nullptr;
  NvmlReturn (*shutdown)() = nullptr;
  NvmlReturn (*driver_version)(char*, unsigned) = nullptr;
  NvmlReturn (*cuda_version)(int*) = nullptr;
  NvmlReturn (*count)(unsigned*) = nullptr;
  NvmlReturn (*handle)(unsigned, NvmlDevice*) = nullptr;
  NvmlReturn (*name)(NvmlDevice, char*, unsigned) = nullptr;
  NvmlReturn (*uuid)(NvmlDevice, char*, unsigned) = nullptr;
  if (!lib.Get("nvmlInit_v2", &init) || !lib.Get("nvmlShutdown", &shutdown) ||
      !lib.Get("nvmlSystemGetDriverVersion", &driver_version) || !lib.Get("nvmlDeviceGetCount_v2", &count) ||
      !lib.Get("nvmlDeviceGetHandleByIndex_v2", &handle) || !lib.Get("nvmlDeviceGetName", &name)) {
    *err = lib.name() + " lacks the NVML entry points crashgrid uses: the NVIDIA driver is too old";
    return false;
  }
  lib.Get("nvmlSystemGetCudaDriverVersion_v2", &cuda_version);
  lib.Get("nvmlDeviceGetUUID", &uuid);
  struct {
    unsigned long long total, free, used;
  } mem{};
  NvmlReturn (*memory)(NvmlDevice, decltype(mem)*) = nullptr;
  lib.Get("nvmlDeviceGetMemoryInfo", &memory);

  if (!NvmlOk(init(), "nvmlInit_v2", err)) return false;
  bool ok = true;
  char buf[256] = {};
  if ((ok = NvmlOk(driver_version(buf, sizeof buf), "nvmlSystemGetDriverVersion", err))) info->driver_version = buf;
  if (ok && cuda_version) cuda_version(&info->cuda_driver_version);
  unsigned n = 0;
  if (ok) ok = NvmlOk(count(&n), "nvmlDeviceGetCount_v2", err);
  for (unsigned i = 0; ok && i < n; ++i) {
    NvmlDevice dev = nullptr;
    if (!(ok = NvmlOk(handle(i, &dev), "nvmlDeviceGetHandleByIndex_v2", err))) break;
    NvmlGpu gpu;
    buf[0] = 0;
    if (name(dev, buf, sizeof buf) == 0) gpu.name = buf;
    buf[0] = 0;
    if (uuid && uuid(dev, buf, sizeof buf) == 0) gpu.uuid = buf;
    if (memory && memory(dev, &mem) == 0) gpu.memory_bytes = mem.total;
    info->gpus.push_back(std::move(gpu));
  }
  shutdown();
  return ok;
}

}  // namespace cg

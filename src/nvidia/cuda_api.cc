#include "nvidia/cuda_api.h"

#include <mutex>

#include "nvidia/dl.h"
#include "nvidia/errors.h"

namespace cg {
namespace {

using GetProcAddressFn = CUresult (*)(const char* symbol, void** pfn, int cudaVersion, cuuint64_t flags,
                                      CUdriverProcAddressQueryResult* status);

struct Entry {
  void** slot;
  const char* exported;  // the versioned export, e.g. "cuMemAlloc_v2"
  const char* base;      // the name cuGetProcAddress knows, e.g. "cuMemAlloc"
  int version;           // the CUDA version whose ABI the slot's signature matches
};

template <typename Fn>
void** Slot(Fn** fn) {
  return reinterpret_cast<void**>(fn);
}

}  // namespace

bool CuOk(CUresult r, const char* what, std::string* err) {
  if (r == CUDA_SUCCESS) return true;
  if (err) *err = std::string(what) + ": " + CudaErrorName(static_cast<int>(r));
  return false;
}

bool LoadCuda(CudaApi* api, std::string* err) {
  // Kept open for the life of the process on purpose (see Cuda()).
  static DlLibrary* lib = nullptr;
  DlLibrary local;
  std::string dlerr;
  if (!local.Open({"libcuda.so.1", "libcuda.so"}, &dlerr)) {
    *err = "libcuda.so.1 not found: no NVIDIA driver on this machine (" + dlerr + ")";
    return false;
  }
  GetProcAddressFn gpa = nullptr;
  local.Get("cuGetProcAddress_v2", &gpa);

  const Entry entries[] = {
      {Slot(&api->Init), "cuInit", "cuInit", 2000},
      {Slot(&api->DriverGetVersion), "cuDriverGetVersion", "cuDriverGetVersion", 2020},
      {Slot(&api->GetErrorName), "cuGetErrorName", "cuGetErrorName", 6000},
      {Slot(&api->DeviceGetCount), "cuDeviceGetCount", "cuDeviceGetCount", 2000},
      {Slot(&api->DeviceGet), "cuDeviceGet", "cuDeviceGet", 2000},
      {Slot(&api->DeviceGetName), "cuDeviceGetName", "cuDeviceGetName", 2000},
      {Slot(&api->DeviceGetAttribute), "cuDeviceGetAttribute", "cuDeviceGetAttribute", 2000},
      {Slot(&api->DeviceTotalMem), "cuDeviceTotalMem_v2", "cuDeviceTotalMem", 3020},
      {Slot(&api->CtxCreate), "cuCtxCreate_v2", "cuCtxCreate", 3020},
      {Slot(&api->CtxDestroy), "cuCtxDestroy_v2", "cuCtxDestroy", 4000},
      {Slot(&api->CtxSetCurrent), "cuCtxSetCurrent", "cuCtxSetCurrent", 4000},
      {Slot(&api->CtxGetCurrent), "cuCtxGetCurrent", "cuCtxGetCurrent", 4000},
      {Slot(&api->CtxPushCurrent), "cuCtxPushCurrent_v2", "cuCtxPushCurrent", 4000},
      {Slot(&api->CtxPopCurrent), "cuCtxPopCurrent_v2", "cuCtxPopCurrent", 4000},
      {Slot(&api->CtxSynchronize), "cuCtxSynchronize", "cuCtxSynchronize", 2000},
      {Slot(&api->DevicePrimaryCtxRetain), "cuDevicePrimaryCtxRetain", "cuDevicePrimaryCtxRetain", 7000},
      {Slot(&api->DevicePrimaryCtxRelease), "cuDevicePrimaryCtxRelease_v2", "cuDevicePrimaryCtxRelease", 11000},
      {Slot(&api->MemAlloc), "cuMemAlloc_v2", "cuMemAlloc", 3020},
      {Slot(&api->MemFree), "cuMemFree_v2", "cuMemFree", 3020},
      {Slot(&api->MemsetD8Async), "cuMemsetD8Async", "cuMemsetD8Async", 3020},
      {Slot(&api->MemcpyDtoHAsync), "cuMemcpyDtoHAsync_v2", "cuMemcpyDtoHAsync", 3020},
      {Slot(&api->MemAllocHost), "cuMemAllocHost_v2", "cuMemAllocHost", 3020},
      {Slot(&api->MemFreeHost), "cuMemFreeHost", "cuMemFreeHost", 2000},
      {Slot(&api->StreamCreate), "cuStreamCreate", "cuStreamCreate", 2000},
      {Slot(&api->StreamDestroy), "cuStreamDestroy_v2", "cuStreamDestroy", 4000},
      {Slot(&api->StreamSynchronize), "cuStreamSynchronize", "cuStreamSynchronize", 2000},
      {Slot(&api->EventCreate), "cuEventCreate", "cuEventCreate", 2000},
      {Slot(&api->EventRecord), "cuEventRecord", "cuEventRecord", 2000},
      {Slot(&api->EventSynchronize), "cuEventSynchronize", "cuEventSynchronize", 2000},
      {Slot(&api->EventDestroy), "cuEventDestroy_v2", "cuEventDestroy", 4000},
      {Slot(&api->EGLStreamConsumerConnect), "cuEGLStreamConsumerConnect", "cuEGLStreamConsumerConnect", 7000},
      {Slot(&api->EGLStreamConsumerDisconnect), "cuEGLStreamConsumerDisconnect", "cuEGLStreamConsumerDisconnect",
       7000},
      {Slot(&api->EGLStreamConsumerAcquireFrame), "cuEGLStreamConsumerAcquireFrame",
       "cuEGLStreamConsumerAcquireFrame", 7000},
      {Slot(&api->EGLStreamConsumerReleaseFrame), "cuEGLStreamConsumerReleaseFrame",
       "cuEGLStreamConsumerReleaseFrame", 7000},
      {Slot(&api->EGLStreamProducerConnect), "cuEGLStreamProducerConnect", "cuEGLStreamProducerConnect", 7000},
      {Slot(&api->EGLStreamProducerDisconnect), "cuEGLStreamProducerDisconnect", "cuEGLStreamProducerDisconnect",
       7000},
      {Slot(&api->EGLStreamProducerPresentFrame), "cuEGLStreamProducerPresentFrame",
       "cuEGLStreamProducerPresentFrame", 7000},
      {Slot(&api->EGLStreamProducerReturnFrame), "cuEGLStreamProducerReturnFrame",
       "cuEGLStreamProducerReturnFrame", 7000},
      {Slot(&api->GraphicsResourceGetMappedEglFrame), "cuGraphicsResourceGetMappedEglFrame",
       "cuGraphicsResourceGetMappedEglFrame", 7000},
  };
  for (const Entry& e : entries) {
    *e.slot = local.Symbol(e.exported);
    if (!*e.slot && gpa) {
      // A driver may stop exporting an old versioned name yet still hand it out for the ABI version asked.
      CUdriverProcAddressQueryResult status{};
      void* fn = nullptr;
      if (gpa(e.base, &fn, e.version, CU_GET_PROC_ADDRESS_DEFAULT, &status) == CUDA_SUCCESS &&
          status == CU_GET_PROC_ADDRESS_SUCCESS)
        *e.slot = fn;
    }
    if (!*e.slot) {
      *err = std::string(local.name()) + " lacks " + e.exported + ": the NVIDIA driver is too old";
      return false;
    }
  }
  api->library = local.name();
  lib = new DlLibrary(std::move(local));  // deliberately leaked: never dlclose a driver
  (void)lib;
  return true;
}

const CudaApi* Cuda(std::string* err) {
  static std::once_flag once;
  static CudaApi api;
  static bool ok = false;
  static std::string load_err;
  std::call_once(once, [] { ok = LoadCuda(&api, &load_err); });
  if (!ok) {
    if (err) *err = load_err;
    return nullptr;
  }
  return &api;
}

bool CudaInitDevice(const CudaApi& cu, CUdevice* dev, std::string* err) {
  if (!CuOk(cu.Init(0), "cuInit", err)) return false;
  int count = 0;
  if (!CuOk(cu.DeviceGetCount(&count), "cuDeviceGetCount", err)) return false;
  if (count == 0) {
    *err = "cuDeviceGetCount: no CUDA device";
    return false;
  }
  return CuOk(cu.DeviceGet(dev, 0), "cuDeviceGet", err);
}

}  // namespace cg

// Helpers shared by the GPU workloads (cuda, eglstream, nvenc, nvdec): choice parameters, the process's CUDA
// device, and the per-thread/shared context policy.
#pragma once

#include <string>
#include <vector>

#include "nvidia/cuda_api.h"
#include "runtime/workload.h"

namespace cg {

// Reads a parameter that must be one of `choices`; *err names the value, suggests the nearest and lists all.
bool GetChoice(const Params& params, const std::string& key, const std::vector<std::string>& choices,
               std::string* out, std::string* err);

// A CUDA context owned by one thread (cuCtxCreate_v2 / cuCtxDestroy_v2). Move-only.
class OwnedContext {
 public:
  OwnedContext() = default;
  ~OwnedContext() { Reset(); }
  OwnedContext(OwnedContext&& o) noexcept : cu_(o.cu_), ctx_(o.ctx_) { o.ctx_ = nullptr; }
  OwnedContext& operator=(OwnedContext&& o) noexcept;
  OwnedContext(const OwnedContext&) = delete;
  OwnedContext& operator=(const OwnedContext&) = delete;

  // Creates a context on `dev` and makes it current on the calling thread.
  bool Create(const CudaApi& cu, CUdevice dev, std::string* err);
  // Destroys it (the caller's thread must not use it afterwards). Returns the cuCtxDestroy error, if any.
  bool Destroy(std::string* err);
  void Reset() {
    std::string ignored;
    Destroy(&ignored);
  }
  CUcontext get() const { return ctx_; }

 private:
  const CudaApi* cu_ = nullptr;
  CUcontext ctx_ = nullptr;
};

// What a GPU workload needs in every trial process: libcuda loaded, cuInit done, device 0.
// "libcuda.so.1 not found: no NVIDIA driver on this machine (...)" or "cuInit: CUDA_ERROR_NO_DEVICE (100)".
bool InitCudaDevice(const CudaApi** cu, CUdevice* dev, std::string* err);

// The `context` parameter of the GPU workloads.
enum class ContextPolicy { kShared, kPerThread };
bool GetContextPolicy(const Params& params, ContextPolicy* out, std::string* err);
extern const char kContextParamHelp[];

}  // namespace cg

#include "workloads/cuda/common.h"

#include <fmt/format.h>

#include <algorithm>

#include "util/strings.h"

namespace cg {

const char kContextParamHelp[] =
    "shared (one CUDA context for the process, made current in every thread) or per-thread (each thread "
    "creates and destroys its own)";

bool GetChoice(const Params& params, const std::string& key, const std::vector<std::string>& choices,
               std::string* out, std::string* err) {
  std::string v = params.Get(key, choices.front());
  if (std::find(choices.begin(), choices.end(), v) == choices.end()) {
    *err = fmt::format("parameter '{}' cannot be '{}'{} (use one of: {})", key, v, DidYouMean(v, choices),
                       Join(choices, ", "));
    return false;
  }
  *out = v;
  return true;
}

bool GetContextPolicy(const Params& params, ContextPolicy* out, std::string* err) {
  std::string v;
  if (!GetChoice(params, "context", {"shared", "per-thread"}, &v, err)) return false;
  *out = v == "shared" ? ContextPolicy::kShared : ContextPolicy::kPerThread;
  return true;
}

OwnedContext& OwnedContext::operator=(OwnedContext&& o) noexcept {
  if (this != &o) {
    Reset();
    cu_ = o.cu_;
    ctx_ = o.ctx_;
    o.ctx_ = nullptr;
  }
  return *this;
}

bool OwnedContext::Create(const CudaApi& cu, CUdevice dev, std::string* err) {
  Reset();
  cu_ = &cu;
  CUcontext ctx = nullptr;
  if (!CuOk(cu.CtxCreate(&ctx, CU_CTX_SCHED_AUTO, dev), "cuCtxCreate", err)) return false;
  ctx_ = ctx;
  return true;
}

bool OwnedContext::Destroy(std::string* err) {
  if (!ctx_) return true;
  CUcontext ctx = ctx_;
  ctx_ = nullptr;
  return CuOk(cu_->CtxDestroy(ctx), "cuCtxDestroy", err);
}

bool InitCudaDevice(const CudaApi** cu, CUdevice* dev, std::string* err) {
  *cu = Cuda(err);
  if (!*cu) return false;
  return CudaInitDevice(**cu, dev, err);
}

}  // namespace cg

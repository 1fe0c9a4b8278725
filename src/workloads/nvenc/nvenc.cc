// `nvenc`: encode-session churn, the shape of the DeepStream seed report's nvv4l2h264enc pipelines without
// GStreamer: each iteration opens an NVENC session on a CUDA context, initialises an H.264 encoder, encodes a
// few NV12 frames from host buffers, and destroys it. Session-limit errors (NV_ENC_ERR_OUT_OF_MEMORY, 10) are
// counted by name, as the seed program counts them. Init opens one probe session: a GPU without NVENC
// (Hopper, NV_ENC_ERR_UNSUPPORTED_DEVICE 2 / NV_ENC_ERR_NO_ENCODE_DEVICE 1) makes the trial "could not start".
#include <fmt/format.h>

#include <cstring>
#include <memory>

#include "nvidia/nvenc_api.h"
#include "workloads/cuda/common.h"

namespace cg {
namespace {

struct EncodeSettings {
  int width = 640;
  int height = 480;
  int frames = 4;
  ContextPolicy policy = ContextPolicy::kShared;
};

bool ParseEncodeSettings(const Params& p, EncodeSettings* s, std::string* err) {
  long long v = 0;
  if (!p.GetInt("width", 640, 64, 4096, &v, err)) return false;
  s->width = static_cast<int>(v & ~1LL);
  if (!p.GetInt("height", 480, 64, 4096, &v, err)) return false;
  s->height = static_cast<int>(v & ~1LL);
  if (!p.GetInt("frames", 4, 1, 10000, &v, err)) return false;
  s->frames = static_cast<int>(v);
  return GetContextPolicy(p, &s->policy, err);
}

// One encode session and its buffers; Destroy() releases them in reverse order.
struct Session {
  const NV_ENCODE_API_FUNCTION_LIST* fn = nullptr;
  void* encoder = nullptr;
  NV_ENC_INPUT_PTR input = nullptr;
  NV_ENC_OUTPUT_PTR output = nullptr;

  bool Open(CUcontext ctx, std::string* err) {
    NV_ENC_OPEN_ENCODE_SESSION_EX_PARAMS p{};
    p.version = NV_ENC_OPEN_ENCODE_SESSION_EX_PARAMS_VER;
    p.deviceType = NV_ENC_DEVICE_TYPE_CUDA;
    p.device = ctx;
    p.apiVersion = NVENCAPI_VERSION;
    void* enc = nullptr;
    NVENCSTATUS st = fn->nvEncOpenEncodeSessionEx(&p, &enc);
    if (st != NV_ENC_SUCCESS) {
      // The driver hands back a session object even on failure; it must still be destroyed.
      if (enc) fn->nvEncDestroyEncoder(enc);
      return NvEncOk(st, "nvEncOpenEncodeSessionEx", err);
    }
    encoder = enc;
    return true;
  }

  bool Initialize(const EncodeSettings& s, std::string* err) {
    NV_ENC_INITIALIZE_PARAMS init{};
    init.version = NV_ENC_INITIALIZE_PARAMS_VER;
    init.encodeGUID = NV_ENC_CODEC_H264_GUID;
    init.presetGUID = NV_ENC_PRESET_P4_GUID;
    init.tuningInfo = NV_ENC_TUNING_INFO_LOW_LATENCY;
    init.encodeWidth = init.darWidth = init.maxEncodeWidth = static_cast<uint32_t>(s.width);
    init.encodeHeight = init.darHeight = init.maxEncodeHeight = static_cast<uint32_t>(s.height);
    init.frameRateNum = 30;
    init.frameRateDen = 1;
    init.enablePTD = 1;
    if (!NvEncOk(fn->nvEncInitializeEncoder(encoder, &init), "nvEncInitializeEncoder", err)) return false;
    NV_ENC_CREATE_INPUT_BUFFER in{};
    in.version = NV_ENC_CREATE_INPUT_BUFFER_VER;
    in.width = static_cast<uint32_t>(s.width);
    in.height = static_cast<uint32_t>(s.height);
    in.bufferFmt = NV_ENC_BUFFER_FORMAT_NV12;
    if (!NvEncOk(fn->nvEncCreateInputBuffer(encoder, &in), "nvEncCreateInputBuffer", err)) return false;
    input = in.inputBuffer;
    NV_ENC_CREATE_BITSTREAM_BUFFER out{};
    out.version = NV_ENC_CREATE_BITSTREAM_BUFFER_VER;
    if (!NvEncOk(fn->nvEncCreateBitstreamBuffer(encoder, &out), "nvEncCreateBitstreamBuffer", err)) return false;
    output = out.bitstreamBuffer;
    return true;
  }

  bool EncodeFrame(const EncodeSettings& s, int n, bool eos, std::string* err) {
    NV_ENC_PIC_PARAMS pic{};
    pic.version = NV_ENC_PIC_PARAMS_VER;
    if (eos) {
      pic.encodePicFlags = NV_ENC_PIC_FLAG_EOS;
      return NvEncOk(fn->nvEncEncodePicture(encoder, &pic), "nvEncEncodePicture(EOS)", err);
    }
    NV_ENC_LOCK_INPUT_BUFFER lock{};
    lock.version = NV_ENC_LOCK_INPUT_BUFFER_VER;
    lock.inputBuffer = input;
    if (!NvEncOk(fn->nvEncLockInputBuffer(encoder, &lock), "nvEncLockInputBuffer", err)) return false;
    std::memset(lock.bufferDataPtr, (n * 16) & 0xff, static_cast<size_t>(lock.pitch) * s.height * 3 / 2);
    if (!NvEncOk(fn->nvEncUnlockInputBuffer(encoder, input), "nvEncUnlockInputBuffer", err)) return false;
    pic.inputBuffer = input;
    pic.bufferFmt = NV_ENC_BUFFER_FORMAT_NV12;
    pic.inputWidth = static_cast<uint32_t>(s.width);
    pic.inputHeight = static_cast<uint32_t>(s.height);
    pic.inputPitch = lock.pitch;
    pic.outputBitstream = output;
    pic.pictureStruct = NV_ENC_PIC_STRUCT_FRAME;
    pic.inputTimeStamp = static_cast<uint64_t>(n);
    if (!NvEncOk(fn->nvEncEncodePicture(encoder, &pic), "nvEncEncodePicture", err)) return false;
    NV_ENC_LOCK_BITSTREAM bs{};
    bs.version = NV_ENC_LOCK_BITSTREAM_VER;
    bs.outputBitstream = output;
    if (!NvEncOk(fn->nvEncLockBitstream(encoder, &bs), "nvEncLockBitstream", err)) return false;
    uint32_t bytes = bs.bitstreamSizeInBytes;
    if (!NvEncOk(fn->nvEncUnlockBitstream(encoder, output), "nvEncUnlockBitstream", err)) return false;
    if (bytes == 0) {
      *err = "nvEncLockBitstream: an encoded frame of 0 bytes";
      return false;
    }
    return true;
  }

  bool Destroy(std::string* err) {
    if (!encoder) return true;
    bool ok = true;
    std::string first;
    if (input) ok = NvEncOk(fn->nvEncDestroyInputBuffer(encoder, input), "nvEncDestroyInputBuffer", &first) && ok;
    if (output)
      ok = NvEncOk(fn->nvEncDestroyBitstreamBuffer(encoder, output), "nvEncDestroyBitstreamBuffer",
                   ok ? &first : err) && ok;
    NVENCSTATUS st = fn->nvEncDestroyEncoder(encoder);
    encoder = nullptr;
    input = nullptr;
    output = nullptr;
    if (st != NV_ENC_SUCCESS && ok) NvEncOk(st, "nvEncDestroyEncoder", &first);
    ok = ok && st == NV_ENC_SUCCESS;
    if (!ok) *err = first;
    return ok;
  }
};

class NvEncWorkload final : public Workload {
 public:
  NvEncWorkload() {
    info_.name = "nvenc";
    info_.summary = "NVENC encode-session churn: open, initialise, encode a few H.264 frames, destroy";
    info_.phases = WithSetupAndTeardown({"open", "init", "encode", "destroy"});
    info_.params = {
        {"width", "640", "frame width, 64..4096 (rounded down to even)"},
        {"height", "480", "frame height, 64..4096 (rounded down to even)"},
        {"frames", "4", "frames encoded per session, 1..10000"},
        {"context", "shared", kContextParamHelp},
    };
    info_.units_name = "frames";
    info_.needs_gpu = true;
  }
  const WorkloadInfo& info() const override { return info_; }

  bool Validate(const Params& p, int threads, std::string* err) const override {
    EncodeSettings s;
    return ParseEncodeSettings(p, &s, err);
  }

  bool Init(const Params& p, int threads, std::string* err) override {
    if (!ParseEncodeSettings(p, &s_, err)) return false;
    if (!InitCudaDevice(&cu_, &dev_, err)) return false;
    api_ = NvEnc(err);
    if (!api_) return false;
    if (!shared_.Create(*cu_, dev_, err)) return false;
    // The probe: can this GPU encode at all?
    Session probe{&api_->fn};
    std::string why;
    if (!probe.Open(shared_.get(), &why)) {
      NVENCSTATUS st = NV_ENC_SUCCESS;
      if (why.find("NV_ENC_ERR_UNSUPPORTED_DEVICE") != std::string::npos) st = NV_ENC_ERR_UNSUPPORTED_DEVICE;
      if (why.find("NV_ENC_ERR_NO_ENCODE_DEVICE") != std::string::npos) st = NV_ENC_ERR_NO_ENCODE_DEVICE;
      if (st != NV_ENC_SUCCESS) {
        char name[256] = {};
        cu_->DeviceGetName(name, sizeof name, dev_);
        *err = why + ": this GPU (" + name + ") has no NVENC encoder";
        return false;
      }
    }
    probe.Destroy(&why);
    CUcontext popped = nullptr;
    cu_->CtxPopCurrent(&popped);
    if (s_.policy == ContextPolicy::kPerThread) shared_.Reset();
    return true;
  }

  std::string Detail() const override {
    return fmt::format("{}x{} frames={} context={} nvenc_api_max={}.{}", s_.width, s_.height, s_.frames,
                       s_.policy == ContextPolicy::kShared ? "shared" : "per-thread",
                       api_ ? api_->driver_max_version >> 4 : 0, api_ ? api_->driver_max_version & 0xf : 0);
  }

  bool ThreadInit(IterationContext& ctx, std::string* err) override {
    if (s_.policy == ContextPolicy::kShared) return CuOk(cu_->CtxSetCurrent(shared_.get()), "cuCtxSetCurrent", err);
    return thread_ctx_.Create(*cu_, dev_, err);
  }
  void ThreadDone(IterationContext& ctx) override {
    if (s_.policy == ContextPolicy::kShared) cu_->CtxSetCurrent(nullptr);
    thread_ctx_.Reset();
  }

  void Iterate(IterationContext& ctx) override {
    Session s{&api_->fn};
    CUcontext c = s_.policy == ContextPolicy::kShared ? shared_.get() : thread_ctx_.get();
    bool ok = ctx.Phase("open", [&](std::string* err) { return s.Open(c, err); });
    if (ok) ok = ctx.Phase("init", [&](std::string* err) { return s.Initialize(s_, err); });
    for (int f = 0; ok && f < s_.frames; ++f) {
      ok = ctx.Phase("encode", [&](std::string* err) { return s.EncodeFrame(s_, f, false, err); });
      if (ok) ctx.AddUnits(1);
    }
    if (ok) ok = ctx.Phase("encode", [&](std::string* err) { return s.EncodeFrame(s_, 0, true, err); });
    if (s.encoder) ctx.Phase("destroy", [&](std::string* err) { return s.Destroy(err); });
  }

  void Shutdown() override { shared_.Reset(); }

 private:
  WorkloadInfo info_;
  EncodeSettings s_;
  const CudaApi* cu_ = nullptr;
  CUdevice dev_ = 0;
  const NvEncApi* api_ = nullptr;
  OwnedContext shared_;
  static thread_local OwnedContext thread_ctx_;
};

thread_local OwnedContext NvEncWorkload::thread_ctx_;

}  // namespace

std::unique_ptr<Workload> NewNvEncWorkload() { return std::make_unique<NvEncWorkload>(); }

}  // namespace cg

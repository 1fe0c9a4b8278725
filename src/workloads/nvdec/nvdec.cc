// `nvdec`: decoder churn on the tiny H.264 stream in tiny_h264.cc: each iteration creates a cuvid parser,
// feeds it the stream; the parser's callbacks (run synchronously inside cuvidParseVideoData, on this thread)
// create the decoder, decode each picture, map and unmap each displayed frame; then decoder and parser are
// destroyed. Concurrent decoder teardown is where public reports crash (cuvidDestroyDecoder).
// Init checks cuvidGetDecoderCaps for H.264 4:2:0 8-bit: a GPU without NVDEC makes the trial "could not start".
#include <fmt/format.h>

#include <memory>

#include "nvidia/errors.h"
#include "nvidia/nvcuvid_api.h"
#include "workloads/cuda/common.h"
#include "workloads/nvdec/tiny_h264.h"

namespace cg {
namespace {

struct DecodeSettings {
  int repeat = 1;  // times the stream is fed per iteration
  ContextPolicy policy = ContextPolicy::kShared;
};

bool ParseDecodeSettings(const Params& p, DecodeSettings* s, std::string* err) {
  long long v = 0;
  if (!p.GetInt("repeat", 1, 1, 1000, &v, err)) return false;
  s->repeat = static_cast<int>(v);
  return GetContextPolicy(p, &s->policy, err);
}

bool CuvidOk(CUresult r, const char* what, std::string* err) { return CuOk(r, what, err); }

// State of one iteration, reached from the parser callbacks through pUserData.
struct Decode {
  const CuvidApi* api = nullptr;
  IterationContext* ctx = nullptr;
  CUvideodecoder decoder = nullptr;
  bool failed = false;
  int64_t frames = 0;

  static int CUDAAPI OnSequence(void* user, CUVIDEOFORMAT* fmt) {
    auto* d = static_cast<Decode*>(user);
    if (d->decoder) return 1;  // same stream again: keep the decoder
    int surfaces = fmt->min_num_decode_surfaces > 0 ? fmt->min_num_decode_surfaces + 2 : 8;
    bool ok = d->ctx->Phase("decoder", [&](std::string* err) {
      CUVIDDECODECREATEINFO ci{};
      ci.CodecType = fmt->codec;
      ci.ChromaFormat = fmt->chroma_format;
      ci.OutputFormat = cudaVideoSurfaceFormat_NV12;
      ci.bitDepthMinus8 = fmt->bit_depth_luma_minus8;
      ci.DeinterlaceMode = cudaVideoDeinterlaceMode_Weave;
      ci.ulNumOutputSurfaces = 2;
      ci.ulCreationFlags = cudaVideoCreate_PreferCUVID;
      ci.ulNumDecodeSurfaces = static_cast<unsigned long>(surfaces);
      ci.ulWidth = fmt->coded_width;
      ci.ulHeight = fmt->coded_height;
      ci.ulMaxWidth = fmt->coded_width;
      ci.ulMaxHeight = fmt->coded_height;
      ci.ulTargetWidth = static_cast<unsigned long>(fmt->display_area.right - fmt->display_area.left);
      ci.ulTargetHeight = static_cast<unsigned long>(fmt->display_area.bottom - fmt->display_area.top);
      ci.display_area.left = static_cast<short>(fmt->display_area.left);
      ci.display_area.top = static_cast<short>(fmt->display_area.top);
      ci.display_area.right = static_cast<short>(fmt->display_area.right);
      ci.display_area.bottom = static_cast<short>(fmt->display_area.bottom);
      return CuvidOk(d->api->CreateDecoder(&d->decoder, &ci), "cuvidCreateDecoder", err);
    });
    if (!ok) d->failed = true;
    return ok ? surfaces : 0;
  }

  static int CUDAAPI OnDecode(void* user, CUVIDPICPARAMS* pic) {
    auto* d = static_cast<Decode*>(user);
    bool ok = d->ctx->Phase("decode", [&](std::string* err) {
      if (!d->decoder) {
        *err = "cuvid parser: a picture arrived before the sequence header";
        return false;
      }
      return CuvidOk(d->api->DecodePicture(d->decoder, pic), "cuvidDecodePicture", err);
    });
    if (!ok) d->failed = true;
    return ok ? 1 : 0;
  }

  static int CUDAAPI OnDisplay(void* user, CUVIDPARSERDISPINFO* info) {
    auto* d = static_cast<Decode*>(user);
    if (!info) return 1;  // end of stream
    CUVIDPROCPARAMS proc{};
    proc.progressive_frame = info->progressive_frame;
    proc.top_field_first = info->top_field_first;
    unsigned long long ptr = 0;
    unsigned int pitch = 0;
    bool ok = d->ctx->Phase("map", [&](std::string* err) {
      return CuvidOk(d->api->MapVideoFrame(d->decoder, info->picture_index, &ptr, &pitch, &proc),
                     "cuvidMapVideoFrame64", err);
    });
    if (ok)
      ok = d->ctx->Phase("unmap", [&](std::string* err) {
        return CuvidOk(d->api->UnmapVideoFrame(d->decoder, ptr), "cuvidUnmapVideoFrame64", err);
      });
    if (!ok) {
      d->failed = true;
      return 0;
    }
    ++d->frames;
    d->ctx->AddUnits(1);
    return 1;
  }
};

class NvDecWorkload final : public Workload {
 public:
  NvDecWorkload() {
    info_.name = "nvdec";
    info_.summary = "NVDEC decoder churn on a built-in 176x144 H.264 stream: parser, decoder, decode, map, "
                    "unmap, destroy";
    info_.phases = WithSetupAndTeardown({"parser", "decoder", "decode", "map", "unmap", "destroy"});
    info_.params = {
        {"repeat", "1", "times the 8-frame stream is decoded per iteration (same decoder), 1..1000"},
        {"context", "shared", kContextParamHelp},
    };
    info_.units_name = "frames";
    info_.needs_gpu = true;
  }
  const WorkloadInfo& info() const override { return info_; }

  bool Validate(const Params& p, int threads, std::string* err) const override {
    DecodeSettings s;
    return ParseDecodeSettings(p, &s, err);
  }

  bool Init(const Params& p, int threads, std::string* err) override {
    if (!ParseDecodeSettings(p, &s_, err)) return false;
    if (!InitCudaDevice(&cu_, &dev_, err)) return false;
    api_ = Cuvid(err);
    if (!api_) return false;
    if (!shared_.Create(*cu_, dev_, err)) return false;
    CUVIDDECODECAPS caps{};
    caps.eCodecType = cudaVideoCodec_H264;
    caps.eChromaFormat = cudaVideoChromaFormat_420;
    caps.nBitDepthMinus8 = 0;
    bool ok = CuvidOk(api_->GetDecoderCaps(&caps), "cuvidGetDecoderCaps", err);
    CUcontext popped = nullptr;
    cu_->CtxPopCurrent(&popped);
    if (!ok) return false;
    if (!caps.bIsSupported) {
      char name[256] = {};
      cu_->DeviceGetName(name, sizeof name, dev_);
      *err = fmt::format("cuvidGetDecoderCaps: H.264 4:2:0 8-bit decoding is not supported on this GPU ({}, "
                         "{} NVDEC engines reported)",
                         name, caps.nNumNVDECs);
      return false;
    }
    caps_detail_ = fmt::format("nvdecs={} max={}x{}", caps.nNumNVDECs, caps.nMaxWidth, caps.nMaxHeight);
    if (s_.policy == ContextPolicy::kPerThread) shared_.Reset();
    return true;
  }

  std::string Detail() const override {
    return fmt::format("h264 176x144x8 repeat={} context={} {}", s_.repeat,
                       s_.policy == ContextPolicy::kShared ? "shared" : "per-thread", caps_detail_);
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
    Decode d;
    d.api = api_;
    d.ctx = &ctx;
    CUvideoparser parser = nullptr;
    bool ok = ctx.Phase("parser", [&](std::string* err) {
      CUVIDPARSERPARAMS pp{};
      pp.CodecType = cudaVideoCodec_H264;
      pp.ulMaxNumDecodeSurfaces = 1;  // raised by the sequence callback's return value
      pp.ulMaxDisplayDelay = 0;
      pp.pUserData = &d;
      pp.pfnSequenceCallback = &Decode::OnSequence;
      pp.pfnDecodePicture = &Decode::OnDecode;
      pp.pfnDisplayPicture = &Decode::OnDisplay;
      return CuvidOk(api_->CreateVideoParser(&parser, &pp), "cuvidCreateVideoParser", err);
    });
    // Parsing itself is not a phase: the callbacks it runs are (decoder, decode, map, unmap).
    for (int r = 0; ok && r < s_.repeat && !d.failed; ++r) {
      CUVIDSOURCEDATAPACKET pkt{};
      pkt.payload = kTinyH264;
      pkt.payload_size = static_cast<unsigned long>(kTinyH264Size);
      pkt.flags = r + 1 == s_.repeat ? CUVID_PKT_ENDOFSTREAM : 0;
      CUresult res = api_->ParseVideoData(parser, &pkt);
      if (res != CUDA_SUCCESS && !d.failed) {
        ctx.Phase("decode", [&](std::string* e) { return CuvidOk(res, "cuvidParseVideoData", e); });
        d.failed = true;
      }
    }
    if (ok && !d.failed && d.frames == 0)
      ctx.Phase("decode", [](std::string* e) {
        *e = "cuvidParseVideoData: the stream produced no displayed frame";
        return false;
      });
    ctx.Phase("destroy", [&](std::string* err) {
      bool good = true;
      std::string e;
      if (d.decoder) good = CuvidOk(api_->DestroyDecoder(d.decoder), "cuvidDestroyDecoder", err);
      if (parser) good = CuvidOk(api_->DestroyVideoParser(parser), "cuvidDestroyVideoParser", good ? err : &e) && good;
      return good;
    });
  }

  void Shutdown() override { shared_.Reset(); }

 private:
  WorkloadInfo info_;
  DecodeSettings s_;
  const CudaApi* cu_ = nullptr;
  CUdevice dev_ = 0;
  const CuvidApi* api_ = nullptr;
  OwnedContext shared_;
  std::string caps_detail_;
  static thread_local OwnedContext thread_ctx_;
};

thread_local OwnedContext NvDecWorkload::thread_ctx_;

}  // namespace

std::unique_ptr<Workload> NewNvDecWorkload() { return std::make_unique<NvDecWorkload>(); }

}  // namespace cg

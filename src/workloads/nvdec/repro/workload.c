/* nvdec in the standalone reproduction: decoder churn on the tiny H.264 stream (tiny_h264.inc, exported as
 * crashgrid embeds it). Each iteration creates a cuvid parser and feeds it the stream `repeat` times; the
 * parser's callbacks (run inside cuvidParseVideoData, on this thread) create the decoder, decode each
 * picture, map and unmap each displayed frame; then decoder and parser are destroyed. Contexts: one shared
 * (context=shared, the default) or one per thread (context=per-thread).
 *
 * Unlike reference-race this is a C port of crashgrid's nvdec workload (src/workloads/nvdec/nvdec.cc, C++ on
 * crashgrid's runtime), kept to the same calls in the same order; it is not the compiled-in code itself.
 * libcuda.so.1 and libnvcuvid.so.1 are loaded with dlopen, as crashgrid loads them; the types come from the
 * CUDA toolkit's cuda.h and the nv-codec-headers (ffnvcodec) NVDEC headers. */
#define _GNU_SOURCE
#include <cuda.h>
#include <dlfcn.h>
#include <ffnvcodec/dynlink_nvcuvid.h>
#include <stdio.h>
#include <string.h>

#include "repro.h"

static const unsigned char tiny_h264[] = {
#include "tiny_h264.inc"
};

static struct {
  CUresult (*Init)(unsigned);
  CUresult (*DeviceGet)(CUdevice*, int);
  CUresult (*CtxCreate)(CUcontext*, unsigned, CUdevice);
  CUresult (*CtxDestroy)(CUcontext);
  CUresult (*CtxSetCurrent)(CUcontext);
  CUresult (*CtxPopCurrent)(CUcontext*);
  tcuvidGetDecoderCaps* GetDecoderCaps;
  tcuvidCreateDecoder* CreateDecoder;
  tcuvidDestroyDecoder* DestroyDecoder;
  tcuvidDecodePicture* DecodePicture;
  tcuvidMapVideoFrame64* MapVideoFrame;
  tcuvidUnmapVideoFrame64* UnmapVideoFrame;
  tcuvidCreateVideoParser* CreateVideoParser;
  tcuvidParseVideoData* ParseVideoData;
  tcuvidDestroyVideoParser* DestroyVideoParser;
} api;

static int g_repeat = 1;
static int g_per_thread;
static CUdevice g_dev;
static CUcontext g_shared;
static __thread CUcontext t_ctx;

#define CHECK(call, what)                                                        \
  do {                                                                           \
    CUresult r_ = (call);                                                        \
    if (r_ != CUDA_SUCCESS) {                                                    \
      snprintf(err, err_size, "%s failed: CUresult %d", (what), (int)r_);        \
      return -1;                                                                 \
    }                                                                            \
  } while (0)

int repro_workload_init(char* err, size_t err_size) {
  g_repeat = (int)repro_param_long("repeat", 1);
  const char* context = repro_param("context", "shared");
  g_per_thread = strcmp(context, "per-thread") == 0;
  if (g_repeat < 1 || g_repeat > 1000 || (!g_per_thread && strcmp(context, "shared") != 0)) {
    snprintf(err, err_size, "repeat must be 1..1000 and context shared or per-thread");
    return -1;
  }
  void* cu = dlopen("libcuda.so.1", RTLD_NOW | RTLD_GLOBAL);
  void* nv = dlopen("libnvcuvid.so.1", RTLD_NOW | RTLD_GLOBAL);
  const struct {
    void* lib;
    const char* lib_name;
    const char* name;
    void* slot;
  } syms[] = {
      {cu, "libcuda.so.1", "cuInit", &api.Init},
      {cu, "libcuda.so.1", "cuDeviceGet", &api.DeviceGet},
      {cu, "libcuda.so.1", "cuCtxCreate_v2", &api.CtxCreate},
      {cu, "libcuda.so.1", "cuCtxDestroy_v2", &api.CtxDestroy},
      {cu, "libcuda.so.1", "cuCtxSetCurrent", &api.CtxSetCurrent},
      {cu, "libcuda.so.1", "cuCtxPopCurrent_v2", &api.CtxPopCurrent},
      {nv, "libnvcuvid.so.1", "cuvidGetDecoderCaps", &api.GetDecoderCaps},
      {nv, "libnvcuvid.so.1", "cuvidCreateDecoder", &api.CreateDecoder},
      {nv, "libnvcuvid.so.1", "cuvidDestroyDecoder", &api.DestroyDecoder},
      {nv, "libnvcuvid.so.1", "cuvidDecodePicture", &api.DecodePicture},
      {nv, "libnvcuvid.so.1", "cuvidMapVideoFrame64", &api.MapVideoFrame},
      {nv, "libnvcuvid.so.1", "cuvidUnmapVideoFrame64", &api.UnmapVideoFrame},
      {nv, "libnvcuvid.so.1", "cuvidCreateVideoParser", &api.CreateVideoParser},
      {nv, "libnvcuvid.so.1", "cuvidParseVideoData", &api.ParseVideoData},
      {nv, "libnvcuvid.so.1", "cuvidDestroyVideoParser", &api.DestroyVideoParser},
  };
  for (size_t i = 0; i < sizeof syms / sizeof syms[0]; ++i)
    if (repro_load_symbol(syms[i].lib, syms[i].lib_name, "NVIDIA driver", syms[i].name, syms[i].slot, err,
                          err_size) != 0)
      return -1;
  CHECK(api.Init(0), "cuInit");
  CHECK(api.DeviceGet(&g_dev, 0), "cuDeviceGet");
  CHECK(api.CtxCreate(&g_shared, CU_CTX_SCHED_AUTO, g_dev), "cuCtxCreate");
  CUVIDDECODECAPS caps;
  memset(&caps, 0, sizeof caps);
  caps.eCodecType = cudaVideoCodec_H264;
  caps.eChromaFormat = cudaVideoChromaFormat_420;
  CUresult r = api.GetDecoderCaps(&caps);
  CUcontext popped = NULL;
  api.CtxPopCurrent(&popped);
  CHECK(r, "cuvidGetDecoderCaps");
  if (!caps.bIsSupported) {
    snprintf(err, err_size, "cuvidGetDecoderCaps: H.264 4:2:0 8-bit decoding is not supported on this GPU");
    return -1;
  }
  if (g_per_thread) {
    api.CtxDestroy(g_shared);
    g_shared = NULL;
  }
  return 0;
}

int repro_workload_thread_init(int thread, char* err, size_t err_size) {
  (void)thread;
  if (!g_per_thread) CHECK(api.CtxSetCurrent(g_shared), "cuCtxSetCurrent");
  else CHECK(api.CtxCreate(&t_ctx, CU_CTX_SCHED_AUTO, g_dev), "cuCtxCreate");
  return 0;
}

struct decode {
  CUvideodecoder decoder;
  int failed;
  long frames;
  char* err;
  size_t err_size;
};

static int CUDAAPI on_sequence(void* user, CUVIDEOFORMAT* fmt) {
  struct decode* d = user;
  if (d->decoder) return 1; /* same stream again: keep the decoder */
  int surfaces = fmt->min_num_decode_surfaces > 0 ? fmt->min_num_decode_surfaces + 2 : 8;
  CUVIDDECODECREATEINFO ci;
  memset(&ci, 0, sizeof ci);
  ci.CodecType = fmt->codec;
  ci.ChromaFormat = fmt->chroma_format;
  ci.OutputFormat = cudaVideoSurfaceFormat_NV12;
  ci.bitDepthMinus8 = fmt->bit_depth_luma_minus8;
  ci.DeinterlaceMode = cudaVideoDeinterlaceMode_Weave;
  ci.ulNumOutputSurfaces = 2;
  ci.ulCreationFlags = cudaVideoCreate_PreferCUVID;
  ci.ulNumDecodeSurfaces = (unsigned long)surfaces;
  ci.ulWidth = fmt->coded_width;
  ci.ulHeight = fmt->coded_height;
  ci.ulMaxWidth = fmt->coded_width;
  ci.ulMaxHeight = fmt->coded_height;
  ci.ulTargetWidth = (unsigned long)(fmt->display_area.right - fmt->display_area.left);
  ci.ulTargetHeight = (unsigned long)(fmt->display_area.bottom - fmt->display_area.top);
  ci.display_area.left = (short)fmt->display_area.left;
  ci.display_area.top = (short)fmt->display_area.top;
  ci.display_area.right = (short)fmt->display_area.right;
  ci.display_area.bottom = (short)fmt->display_area.bottom;
  repro_phase_begin("decoder");
  CUresult r = api.CreateDecoder(&d->decoder, &ci);
  repro_phase_end("decoder");
  if (r != CUDA_SUCCESS) {
    snprintf(d->err, d->err_size, "cuvidCreateDecoder failed: CUresult %d", (int)r);
    d->failed = 1;
    return 0;
  }
  return surfaces;
}

static int CUDAAPI on_decode(void* user, CUVIDPICPARAMS* pic) {
  struct decode* d = user;
  if (!d->decoder) {
    snprintf(d->err, d->err_size, "cuvid parser: a picture arrived before the sequence header");
    d->failed = 1;
    return 0;
  }
  repro_phase_begin("decode");
  CUresult r = api.DecodePicture(d->decoder, pic);
  repro_phase_end("decode");
  if (r != CUDA_SUCCESS) {
    snprintf(d->err, d->err_size, "cuvidDecodePicture failed: CUresult %d", (int)r);
    d->failed = 1;
    return 0;
  }
  return 1;
}

static int CUDAAPI on_display(void* user, CUVIDPARSERDISPINFO* info) {
  struct decode* d = user;
  if (!info) return 1; /* end of stream */
  CUVIDPROCPARAMS proc;
  memset(&proc, 0, sizeof proc);
  proc.progressive_frame = info->progressive_frame;
  proc.top_field_first = info->top_field_first;
  unsigned long long ptr = 0;
  unsigned int pitch = 0;
  repro_phase_begin("map");
  CUresult r = api.MapVideoFrame(d->decoder, info->picture_index, &ptr, &pitch, &proc);
  repro_phase_end("map");
  if (r == CUDA_SUCCESS) {
    repro_phase_begin("unmap");
    r = api.UnmapVideoFrame(d->decoder, ptr);
    repro_phase_end("unmap");
  }
  if (r != CUDA_SUCCESS) {
    snprintf(d->err, d->err_size, "cuvidMapVideoFrame64/cuvidUnmapVideoFrame64 failed: CUresult %d", (int)r);
    d->failed = 1;
    return 0;
  }
  ++d->frames;
  return 1;
}

int repro_workload_iterate(int thread, int64_t iteration, char* err, size_t err_size) {
  (void)thread, (void)iteration;
  struct decode d = {NULL, 0, 0, err, err_size};
  CUvideoparser parser = NULL;
  CUVIDPARSERPARAMS pp;
  memset(&pp, 0, sizeof pp);
  pp.CodecType = cudaVideoCodec_H264;
  pp.ulMaxNumDecodeSurfaces = 1; /* raised by the sequence callback's return value */
  pp.pUserData = &d;
  pp.pfnSequenceCallback = on_sequence;
  pp.pfnDecodePicture = on_decode;
  pp.pfnDisplayPicture = on_display;
  repro_phase_begin("parser");
  CUresult r = api.CreateVideoParser(&parser, &pp);
  repro_phase_end("parser");
  if (r != CUDA_SUCCESS) {
    snprintf(err, err_size, "cuvidCreateVideoParser failed: CUresult %d", (int)r);
    d.failed = 1;
  }
  for (int k = 0; !d.failed && k < g_repeat; ++k) {
    CUVIDSOURCEDATAPACKET pkt;
    memset(&pkt, 0, sizeof pkt);
    pkt.payload = tiny_h264;
    pkt.payload_size = (unsigned long)sizeof tiny_h264;
    pkt.flags = k + 1 == g_repeat ? CUVID_PKT_ENDOFSTREAM : 0;
    r = api.ParseVideoData(parser, &pkt);
    if (r != CUDA_SUCCESS && !d.failed) {
      snprintf(err, err_size, "cuvidParseVideoData failed: CUresult %d", (int)r);
      d.failed = 1;
    }
  }
  if (!d.failed && d.frames == 0) {
    snprintf(err, err_size, "cuvidParseVideoData: the stream produced no displayed frame");
    d.failed = 1;
  }
  repro_phase_begin("destroy");
  if (d.decoder) api.DestroyDecoder(d.decoder);
  if (parser) api.DestroyVideoParser(parser);
  repro_phase_end("destroy");
  return d.failed ? -1 : 0;
}

void repro_workload_thread_done(int thread) {
  (void)thread;
  if (!g_per_thread) api.CtxSetCurrent(NULL);
  if (t_ctx) api.CtxDestroy(t_ctx);
  t_ctx = NULL;
}

void repro_workload_shutdown(void) {
  if (g_shared) api.CtxDestroy(g_shared);
  g_shared = NULL;
}

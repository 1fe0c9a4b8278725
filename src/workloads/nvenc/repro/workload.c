/* nvenc in the standalone reproduction: encode-session churn. Each iteration opens an NVENC session on a CUDA
 * context (open), initialises an H.264 encoder (P4 preset, low-latency tuning) with one NV12 input buffer and
 * one bitstream buffer (init), encodes `frames` frames from the host-filled input buffer, then an
 * end-of-stream picture (encode), and destroys buffers and session (destroy). Session-limit errors
 * (NV_ENC_ERR_OUT_OF_MEMORY, 10) are counted by name like every other error. Init opens one probe session: a
 * GPU without NVENC (Hopper: NV_ENC_ERR_UNSUPPORTED_DEVICE 2, or NV_ENC_ERR_NO_ENCODE_DEVICE 1) makes the
 * run "could not start". Contexts: one shared (context=shared, the default) or one per thread
 * (context=per-thread).
 *
 * Unlike reference-race this is a C port of crashgrid's nvenc workload (src/workloads/nvenc/nvenc.cc, C++ on
 * crashgrid's runtime), kept to the same calls in the same order, the same phases and the same parameters;
 * it is not the compiled-in code itself. libcuda.so.1 and libnvidia-encode.so.1 are loaded with dlopen, as
 * crashgrid loads them (NvEncodeAPICreateInstance fills NVENC's function table); the types come from the CUDA
 * toolkit's cuda.h and the nv-codec-headers (ffnvcodec) NVENC header, ffnvcodec/nvEncodeAPI.h (Debian/Ubuntu:
 * libffmpeg-nvenc-dev). */
#define _GNU_SOURCE
#include <cuda.h>
#include <dlfcn.h>
#include <ffnvcodec/nvEncodeAPI.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "repro.h"
#include "repro_cuda.h"

static struct {
  CUresult (*Init)(unsigned);
  CUresult (*GetErrorName)(CUresult, const char**);
  CUresult (*DeviceGetCount)(int*);
  CUresult (*DeviceGet)(CUdevice*, int);
  CUresult (*DeviceGetName)(char*, int, CUdevice);
  CUresult (*CtxCreate)(CUcontext*, unsigned, CUdevice);
  CUresult (*CtxDestroy)(CUcontext);
  CUresult (*CtxSetCurrent)(CUcontext);
  CUresult (*CtxPopCurrent)(CUcontext*);
} cu;

static NV_ENCODE_API_FUNCTION_LIST nv;       /* filled by NvEncodeAPICreateInstance */
static uint32_t g_driver_max_version;        /* NvEncodeAPIGetMaxSupportedVersion: (major << 4) | minor */

/* The cell's settings (crashgrid's defaults and ranges). */
static int g_width = 640, g_height = 480, g_frames = 4, g_per_thread;
static CUdevice g_dev;
static CUcontext g_shared;
static _Thread_local CUcontext t_ctx;

/* --- errors, worded as crashgrid words them ("nvEncOpenEncodeSessionEx: NV_ENC_ERR_OUT_OF_MEMORY (10)") --- */

/* 0 on success, else -1 with "what: NAME (code)" in err (repro_cuda.h). */
static int cu_ok(CUresult r, const char* what, char* err, size_t n) {
  return repro_cu_ok(cu.GetErrorName, r, what, err, n);
}

#define NVENC_NAME(x) {x, #x}
static const struct {
  NVENCSTATUS code;
  const char* name;
} nvenc_names[] = {
    NVENC_NAME(NV_ENC_SUCCESS),
    NVENC_NAME(NV_ENC_ERR_NO_ENCODE_DEVICE),
    NVENC_NAME(NV_ENC_ERR_UNSUPPORTED_DEVICE),
    NVENC_NAME(NV_ENC_ERR_INVALID_ENCODERDEVICE),
    NVENC_NAME(NV_ENC_ERR_INVALID_DEVICE),
    NVENC_NAME(NV_ENC_ERR_DEVICE_NOT_EXIST),
    NVENC_NAME(NV_ENC_ERR_INVALID_PTR),
    NVENC_NAME(NV_ENC_ERR_INVALID_EVENT),
    NVENC_NAME(NV_ENC_ERR_INVALID_PARAM),
    NVENC_NAME(NV_ENC_ERR_INVALID_CALL),
    NVENC_NAME(NV_ENC_ERR_OUT_OF_MEMORY),
    NVENC_NAME(NV_ENC_ERR_ENCODER_NOT_INITIALIZED),
    NVENC_NAME(NV_ENC_ERR_UNSUPPORTED_PARAM),
    NVENC_NAME(NV_ENC_ERR_LOCK_BUSY),
    NVENC_NAME(NV_ENC_ERR_NOT_ENOUGH_BUFFER),
    NVENC_NAME(NV_ENC_ERR_INVALID_VERSION),
    NVENC_NAME(NV_ENC_ERR_MAP_FAILED),
    NVENC_NAME(NV_ENC_ERR_NEED_MORE_INPUT),
    NVENC_NAME(NV_ENC_ERR_ENCODER_BUSY),
    NVENC_NAME(NV_ENC_ERR_EVENT_NOT_REGISTERD),
    NVENC_NAME(NV_ENC_ERR_GENERIC),
    NVENC_NAME(NV_ENC_ERR_INCOMPATIBLE_CLIENT_KEY),
    NVENC_NAME(NV_ENC_ERR_UNIMPLEMENTED),
    NVENC_NAME(NV_ENC_ERR_RESOURCE_REGISTER_FAILED),
    NVENC_NAME(NV_ENC_ERR_RESOURCE_NOT_REGISTERED),
    NVENC_NAME(NV_ENC_ERR_RESOURCE_NOT_MAPPED),
};

/* 0 on success, else -1 with "what: NAME (code)" (or "what: unknown NVENC status (code)") in err. */
static int nv_ok(NVENCSTATUS s, const char* what, char* err, size_t n) {
  if (s == NV_ENC_SUCCESS) return 0;
  for (size_t i = 0; i < sizeof nvenc_names / sizeof nvenc_names[0]; ++i)
    if (nvenc_names[i].code == s) {
      repro_say(err, n, "%s: %s (%d)", what, nvenc_names[i].name, (int)s);
      return -1;
    }
  repro_say(err, n, "%s: unknown NVENC status (%d)", what, (int)s);
  return -1;
}

/* --- loading and set-up --- */

static int load_cuda(char* err, size_t n) {
  void* lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_GLOBAL);
  if (!lib) lib = dlopen("libcuda.so", RTLD_NOW | RTLD_GLOBAL);
  const struct {
    const char* name;
    void* slot;
  } syms[] = {
      {"cuInit", &cu.Init},
      {"cuGetErrorName", &cu.GetErrorName},
      {"cuDeviceGetCount", &cu.DeviceGetCount},
      {"cuDeviceGet", &cu.DeviceGet},
      {"cuDeviceGetName", &cu.DeviceGetName},
      {"cuCtxCreate_v2", &cu.CtxCreate},
      {"cuCtxDestroy_v2", &cu.CtxDestroy},
      {"cuCtxSetCurrent", &cu.CtxSetCurrent},
      {"cuCtxPopCurrent_v2", &cu.CtxPopCurrent},
  };
  for (size_t i = 0; i < sizeof syms / sizeof syms[0]; ++i)
    if (repro_load_symbol(lib, "libcuda.so.1", "NVIDIA driver", syms[i].name, syms[i].slot, err, n) != 0) return -1;
  return 0; /* never dlclosed: a driver stays mapped */
}

/* libnvidia-encode.so.1: the driver's highest NVENC API must reach this header's (NVENCAPI_VERSION), then
 * NvEncodeAPICreateInstance fills the function table, as crashgrid's LoadNvEnc does. */
static int load_nvenc(char* err, size_t n) {
  void* lib = dlopen("libnvidia-encode.so.1", RTLD_NOW | RTLD_GLOBAL);
  if (!lib) lib = dlopen("libnvidia-encode.so", RTLD_NOW | RTLD_GLOBAL);
  NVENCSTATUS (*get_max)(uint32_t*) = NULL;
  NVENCSTATUS (*create)(NV_ENCODE_API_FUNCTION_LIST*) = NULL;
  const char* enc = "libnvidia-encode.so.1";
  const char* provider = "NVIDIA video encode driver";
  if (repro_load_symbol(lib, enc, provider, "NvEncodeAPIGetMaxSupportedVersion", &get_max, err, n) != 0 ||
      repro_load_symbol(lib, enc, provider, "NvEncodeAPICreateInstance", &create, err, n) != 0)
    return -1;
  if (nv_ok(get_max(&g_driver_max_version), "NvEncodeAPIGetMaxSupportedVersion", err, n) != 0) return -1;
  const uint32_t wanted = (NVENCAPI_MAJOR_VERSION << 4) | NVENCAPI_MINOR_VERSION;
  if (g_driver_max_version < wanted) {
    repro_say(err, n, "the NVIDIA driver supports NVENC API %u.%u, this reproduction needs %u.%u: update the driver",
        (unsigned)(g_driver_max_version >> 4), (unsigned)(g_driver_max_version & 0xf),
        (unsigned)NVENCAPI_MAJOR_VERSION, (unsigned)NVENCAPI_MINOR_VERSION);
    return -1;
  }
  memset(&nv, 0, sizeof nv);
  nv.version = NV_ENCODE_API_FUNCTION_LIST_VER;
  return nv_ok(create(&nv), "NvEncodeAPICreateInstance", err, n); /* never dlclosed */
}

/* --- one encode session and its buffers; 0, or -1 with the call and the status by name in err --- */

struct session {
  void* encoder;
  NV_ENC_INPUT_PTR input;
  NV_ENC_OUTPUT_PTR output;
};

static int session_open(struct session* s, CUcontext ctx, char* err, size_t n) {
  NV_ENC_OPEN_ENCODE_SESSION_EX_PARAMS p;
  memset(&p, 0, sizeof p);
  p.version = NV_ENC_OPEN_ENCODE_SESSION_EX_PARAMS_VER;
  p.deviceType = NV_ENC_DEVICE_TYPE_CUDA;
  p.device = ctx;
  p.apiVersion = NVENCAPI_VERSION;
  void* enc = NULL;
  NVENCSTATUS st = nv.nvEncOpenEncodeSessionEx(&p, &enc);
  if (st != NV_ENC_SUCCESS) {
    /* The driver hands back a session object even on failure; it must still be destroyed. */
    if (enc) nv.nvEncDestroyEncoder(enc);
    return nv_ok(st, "nvEncOpenEncodeSessionEx", err, n);
  }
  s->encoder = enc;
  return 0;
}

static int session_initialize(struct session* s, char* err, size_t n) {
  NV_ENC_INITIALIZE_PARAMS init;
  memset(&init, 0, sizeof init);
  init.version = NV_ENC_INITIALIZE_PARAMS_VER;
  init.encodeGUID = NV_ENC_CODEC_H264_GUID;
  init.presetGUID = NV_ENC_PRESET_P4_GUID;
  init.tuningInfo = NV_ENC_TUNING_INFO_LOW_LATENCY;
  init.encodeWidth = init.darWidth = init.maxEncodeWidth = (uint32_t)g_width;
  init.encodeHeight = init.darHeight = init.maxEncodeHeight = (uint32_t)g_height;
  init.frameRateNum = 30;
  init.frameRateDen = 1;
  init.enablePTD = 1;
  if (nv_ok(nv.nvEncInitializeEncoder(s->encoder, &init), "nvEncInitializeEncoder", err, n) != 0) return -1;
  NV_ENC_CREATE_INPUT_BUFFER in;
  memset(&in, 0, sizeof in);
  in.version = NV_ENC_CREATE_INPUT_BUFFER_VER;
  in.width = (uint32_t)g_width;
  in.height = (uint32_t)g_height;
  in.bufferFmt = NV_ENC_BUFFER_FORMAT_NV12;
  if (nv_ok(nv.nvEncCreateInputBuffer(s->encoder, &in), "nvEncCreateInputBuffer", err, n) != 0) return -1;
  s->input = in.inputBuffer;
  NV_ENC_CREATE_BITSTREAM_BUFFER out;
  memset(&out, 0, sizeof out);
  out.version = NV_ENC_CREATE_BITSTREAM_BUFFER_VER;
  if (nv_ok(nv.nvEncCreateBitstreamBuffer(s->encoder, &out), "nvEncCreateBitstreamBuffer", err, n) != 0)
    return -1;
  s->output = out.bitstreamBuffer;
  return 0;
}

/* Frame `frame_no` (its NV12 bytes all (frame_no * 16) & 0xff), or with `eos` the end-of-stream picture. */
static int session_encode_frame(struct session* s, int frame_no, int eos, char* err, size_t n) {
  NV_ENC_PIC_PARAMS pic;
  memset(&pic, 0, sizeof pic);
  pic.version = NV_ENC_PIC_PARAMS_VER;
  if (eos) {
    pic.encodePicFlags = NV_ENC_PIC_FLAG_EOS;
    return nv_ok(nv.nvEncEncodePicture(s->encoder, &pic), "nvEncEncodePicture(EOS)", err, n);
  }
  NV_ENC_LOCK_INPUT_BUFFER lock;
  memset(&lock, 0, sizeof lock);
  lock.version = NV_ENC_LOCK_INPUT_BUFFER_VER;
  lock.inputBuffer = s->input;
  if (nv_ok(nv.nvEncLockInputBuffer(s->encoder, &lock), "nvEncLockInputBuffer", err, n) != 0) return -1;
  memset(lock.bufferDataPtr, (frame_no * 16) & 0xff, (size_t)lock.pitch * (size_t)g_height * 3 / 2);
  if (nv_ok(nv.nvEncUnlockInputBuffer(s->encoder, s->input), "nvEncUnlockInputBuffer", err, n) != 0) return -1;
  pic.inputBuffer = s->input;
  pic.bufferFmt = NV_ENC_BUFFER_FORMAT_NV12;
  pic.inputWidth = (uint32_t)g_width;
  pic.inputHeight = (uint32_t)g_height;
  pic.inputPitch = lock.pitch;
  pic.outputBitstream = s->output;
  pic.pictureStruct = NV_ENC_PIC_STRUCT_FRAME;
  pic.inputTimeStamp = (uint64_t)frame_no;
  if (nv_ok(nv.nvEncEncodePicture(s->encoder, &pic), "nvEncEncodePicture", err, n) != 0) return -1;
  NV_ENC_LOCK_BITSTREAM bs;
  memset(&bs, 0, sizeof bs);
  bs.version = NV_ENC_LOCK_BITSTREAM_VER;
  bs.outputBitstream = s->output;
  if (nv_ok(nv.nvEncLockBitstream(s->encoder, &bs), "nvEncLockBitstream", err, n) != 0) return -1;
  uint32_t bytes = bs.bitstreamSizeInBytes;
  if (nv_ok(nv.nvEncUnlockBitstream(s->encoder, s->output), "nvEncUnlockBitstream", err, n) != 0) return -1;
  if (bytes == 0) {
    repro_say(err, n, "nvEncLockBitstream: an encoded frame of 0 bytes");
    return -1;
  }
  return 0;
}

/* Releases the buffers and the session in reverse order, every call made whatever failed; the first error is
 * the one reported. */
static int session_destroy(struct session* s, char* err, size_t n) {
  if (!s->encoder) return 0;
  int ok = 1;
  char ignored[256];
  if (s->input)
    ok = nv_ok(nv.nvEncDestroyInputBuffer(s->encoder, s->input), "nvEncDestroyInputBuffer", err, n) == 0;
  if (s->output)
    ok = nv_ok(nv.nvEncDestroyBitstreamBuffer(s->encoder, s->output), "nvEncDestroyBitstreamBuffer",
               ok ? err : ignored, ok ? n : sizeof ignored) == 0 && ok;
  NVENCSTATUS st = nv.nvEncDestroyEncoder(s->encoder);
  s->encoder = NULL;
  s->input = NULL;
  s->output = NULL;
  if (st != NV_ENC_SUCCESS && ok) nv_ok(st, "nvEncDestroyEncoder", err, n);
  ok = ok && st == NV_ENC_SUCCESS;
  return ok ? 0 : -1;
}

/* --- the contract (repro.h) --- */

int repro_workload_init(char* err, size_t err_size) {
  if (repro_param_range("width", 640, 64, 4096, &g_width, err, err_size) != 0) return -1;
  g_width &= ~1;
  if (repro_param_range("height", 480, 64, 4096, &g_height, err, err_size) != 0) return -1;
  g_height &= ~1;
  if (repro_param_range("frames", 4, 1, 10000, &g_frames, err, err_size) != 0 ||
      repro_param_choice("context", "shared", "per-thread", "shared", &g_per_thread, err, err_size) != 0)
    return -1;
  if (load_cuda(err, err_size) != 0) return -1;
  if (cu_ok(cu.Init(0), "cuInit", err, err_size) != 0) return -1;
  int count = 0;
  if (cu_ok(cu.DeviceGetCount(&count), "cuDeviceGetCount", err, err_size) != 0) return -1;
  if (count == 0) {
    repro_say(err, err_size, "cuDeviceGetCount: no CUDA device");
    return -1;
  }
  if (cu_ok(cu.DeviceGet(&g_dev, 0), "cuDeviceGet", err, err_size) != 0) return -1;
  if (load_nvenc(err, err_size) != 0) return -1;
  if (cu_ok(cu.CtxCreate(&g_shared, CU_CTX_SCHED_AUTO, g_dev), "cuCtxCreate", err, err_size) != 0) return -1;
  /* The probe: can this GPU encode at all? Other failures of the probe are left to the iterations. */
  struct session probe = {NULL, NULL, NULL};
  char why[256] = "";
  if (session_open(&probe, g_shared, why, sizeof why) != 0 &&
      (strstr(why, "NV_ENC_ERR_UNSUPPORTED_DEVICE") || strstr(why, "NV_ENC_ERR_NO_ENCODE_DEVICE"))) {
    char name[256] = "";
    cu.DeviceGetName(name, sizeof name, g_dev);
    repro_say(err, err_size, "%s: this GPU (%s) has no NVENC encoder", why, name);
    return -1;
  }
  session_destroy(&probe, why, sizeof why);
  CUcontext popped = NULL;
  cu.CtxPopCurrent(&popped); /* threads make it current themselves */
  if (g_per_thread) {
    cu.CtxDestroy(g_shared);
    g_shared = NULL;
  }
  return 0;
}

int repro_workload_thread_init(int thread, char* err, size_t err_size) {
  (void)thread;
  int r;
  repro_phase_begin("setup");
  if (!g_per_thread)
    r = cu_ok(cu.CtxSetCurrent(g_shared), "cuCtxSetCurrent", err, err_size);
  else
    r = cu_ok(cu.CtxCreate(&t_ctx, CU_CTX_SCHED_AUTO, g_dev), "cuCtxCreate", err, err_size);
  repro_phase_end("setup");
  return r;
}

int repro_workload_iterate(int thread, int64_t iteration, char* err, size_t err_size) {
  (void)thread;
  (void)iteration;
  struct repro_errs e;
  repro_errs_start(&e, err, err_size);
  struct session s = {NULL, NULL, NULL};
  CUcontext c = g_per_thread ? t_ctx : g_shared;
  int ok = REPRO_PHASE(&e, "open", session_open(&s, c, REPRO_ERR_BUF(&e), REPRO_ERR_CAP(&e)));
  if (ok) ok = REPRO_PHASE(&e, "init", session_initialize(&s, REPRO_ERR_BUF(&e), REPRO_ERR_CAP(&e)));
  /* crashgrid counts each encoded frame as a unit of throughput; the loop counts iterations only. */
  for (int f = 0; ok && f < g_frames; ++f)
    ok = REPRO_PHASE(&e, "encode", session_encode_frame(&s, f, 0, REPRO_ERR_BUF(&e), REPRO_ERR_CAP(&e)));
  if (ok) ok = REPRO_PHASE(&e, "encode", session_encode_frame(&s, 0, 1, REPRO_ERR_BUF(&e), REPRO_ERR_CAP(&e)));
  if (s.encoder) REPRO_PHASE(&e, "destroy", session_destroy(&s, REPRO_ERR_BUF(&e), REPRO_ERR_CAP(&e)));
  return e.count ? -1 : 0;
}

void repro_workload_thread_done(int thread) {
  (void)thread;
  repro_phase_begin("teardown");
  if (!g_per_thread) {
    cu.CtxSetCurrent(NULL);
  } else if (t_ctx) {
    cu.CtxDestroy(t_ctx);
    t_ctx = NULL;
  }
  repro_phase_end("teardown");
}

void repro_workload_shutdown(void) {
  if (g_shared) cu.CtxDestroy(g_shared);
  g_shared = NULL;
}

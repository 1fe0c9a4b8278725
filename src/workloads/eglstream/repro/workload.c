/* eglstream in the standalone reproduction: independent EGLStreams, each with a CUDA producer and a CUDA
 * consumer in this process, driven in the call order of NVIDIA's EGLStream_CUDA_Interop sample: EGL device
 * platform display, a stream with EGL_SUPPORT_REUSE_NV = EGL_FALSE, the consumer connects first, then per
 * frame present -> acquire (+ cuGraphicsResourceGetMappedEglFrame) -> release -> return (702 = not back
 * yet), and teardown in the order producer disconnect, consumer disconnect, eglDestroyStreamKHR, free the
 * frames. Layouts: paired (the default: each thread produces and consumes its own `streams` streams, one
 * frame at a time) or fanout (thread 0 produces for every stream, each other thread consumes its own
 * `streams` streams, in rounds thread 0 opens; with THREADS=1 it is the paired shape). Contexts: one shared
 * (context=shared, the default) or one per thread (context=per-thread).
 *
 * Unlike reference-race this is a C port of crashgrid's eglstream workload
 * (src/workloads/eglstream/eglstream.cc, C++ on crashgrid's runtime), kept to the same calls in the same
 * order, the same phases and the same parameters; it is not the compiled-in code itself. libcuda.so.1 and
 * libEGL.so.1 are loaded with dlopen, as crashgrid loads them (EGL's extensions through eglGetProcAddress);
 * the types come from the CUDA toolkit's cuda.h and cudaEGL.h and the Khronos EGL headers (EGL/egl.h,
 * EGL/eglext.h; Debian/Ubuntu: libegl-dev). */
#define _GNU_SOURCE
#include <EGL/egl.h>
#include <EGL/eglext.h>
#include <cuda.h>
#include <cudaEGL.h>
#include <dlfcn.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "repro.h"
#include "repro_cuda.h"

#define FRAME_WAIT_MS 1000           /* acquire / return retries give up after this */
#define ACQUIRE_TIMEOUT_US 16000u    /* the sample's latency and timeout */

static struct {
  CUresult (*Init)(unsigned);
  CUresult (*GetErrorName)(CUresult, const char**);
  CUresult (*DeviceGetCount)(int*);
  CUresult (*DeviceGet)(CUdevice*, int);
  CUresult (*CtxCreate)(CUcontext*, unsigned, CUdevice);
  CUresult (*CtxDestroy)(CUcontext);
  CUresult (*CtxSetCurrent)(CUcontext);
  CUresult (*CtxPopCurrent)(CUcontext*);
  CUresult (*MemAlloc)(CUdeviceptr*, size_t);
  CUresult (*MemFree)(CUdeviceptr);
  CUresult (*MemsetD8Async)(CUdeviceptr, unsigned char, size_t, CUstream);
  CUresult (*EGLStreamConsumerConnect)(CUeglStreamConnection*, EGLStreamKHR);
  CUresult (*EGLStreamConsumerDisconnect)(CUeglStreamConnection*);
  CUresult (*EGLStreamConsumerAcquireFrame)(CUeglStreamConnection*, CUgraphicsResource*, CUstream*, unsigned);
  CUresult (*EGLStreamConsumerReleaseFrame)(CUeglStreamConnection*, CUgraphicsResource, CUstream*);
  CUresult (*EGLStreamProducerConnect)(CUeglStreamConnection*, EGLStreamKHR, EGLint, EGLint);
  CUresult (*EGLStreamProducerDisconnect)(CUeglStreamConnection*);
  CUresult (*EGLStreamProducerPresentFrame)(CUeglStreamConnection*, CUeglFrame, CUstream*);
  CUresult (*EGLStreamProducerReturnFrame)(CUeglStreamConnection*, CUeglFrame*, CUstream*);
  CUresult (*GraphicsResourceGetMappedEglFrame)(CUeglFrame*, CUgraphicsResource, unsigned, unsigned);
} cu;

static struct {
  PFNEGLGETPROCADDRESSPROC GetProcAddress;
  PFNEGLGETERRORPROC GetError;
  PFNEGLINITIALIZEPROC Initialize;
  PFNEGLTERMINATEPROC Terminate;
  PFNEGLQUERYSTRINGPROC QueryString;
  PFNEGLQUERYDEVICESEXTPROC QueryDevicesEXT;
  PFNEGLQUERYDEVICEATTRIBEXTPROC QueryDeviceAttribEXT;
  PFNEGLQUERYDEVICESTRINGEXTPROC QueryDeviceStringEXT;
  PFNEGLGETPLATFORMDISPLAYEXTPROC GetPlatformDisplayEXT;
  PFNEGLCREATESTREAMKHRPROC CreateStreamKHR;
  PFNEGLDESTROYSTREAMKHRPROC DestroyStreamKHR;
  PFNEGLSTREAMATTRIBKHRPROC StreamAttribKHR;
  PFNEGLQUERYSTREAMKHRPROC QueryStreamKHR;
} egl;

/* The cell's settings (crashgrid's defaults and ranges). */
static int g_streams = 1, g_width = 640, g_height = 480, g_frames = 8, g_fanout, g_per_thread;
static CUdevice g_dev;
static CUcontext g_shared;
static EGLDisplay g_display = EGL_NO_DISPLAY;
static _Thread_local CUcontext t_ctx;

/* --- errors, worded as crashgrid words them ("cuMemAlloc: CUDA_ERROR_OUT_OF_MEMORY (2)") --- */

/* 0 on success, else -1 with "what: NAME (code)" in err (repro_cuda.h). */
static int cu_ok(CUresult r, const char* what, char* err, size_t n) {
  return repro_cu_ok(cu.GetErrorName, r, what, err, n);
}

static int egl_fail(const char* what, char* err, size_t n) {
  static const struct {
    EGLint code;
    const char* name;
  } names[] = {
      {EGL_SUCCESS, "EGL_SUCCESS"}, {EGL_NOT_INITIALIZED, "EGL_NOT_INITIALIZED"},
      {EGL_BAD_ACCESS, "EGL_BAD_ACCESS"}, {EGL_BAD_ALLOC, "EGL_BAD_ALLOC"},
      {EGL_BAD_ATTRIBUTE, "EGL_BAD_ATTRIBUTE"}, {EGL_BAD_CONFIG, "EGL_BAD_CONFIG"},
      {EGL_BAD_CONTEXT, "EGL_BAD_CONTEXT"}, {EGL_BAD_CURRENT_SURFACE, "EGL_BAD_CURRENT_SURFACE"},
      {EGL_BAD_DISPLAY, "EGL_BAD_DISPLAY"}, {EGL_BAD_MATCH, "EGL_BAD_MATCH"},
      {EGL_BAD_NATIVE_PIXMAP, "EGL_BAD_NATIVE_PIXMAP"}, {EGL_BAD_NATIVE_WINDOW, "EGL_BAD_NATIVE_WINDOW"},
      {EGL_BAD_PARAMETER, "EGL_BAD_PARAMETER"}, {EGL_BAD_SURFACE, "EGL_BAD_SURFACE"},
      {EGL_CONTEXT_LOST, "EGL_CONTEXT_LOST"}, {EGL_BAD_STREAM_KHR, "EGL_BAD_STREAM_KHR"},
      {EGL_BAD_STATE_KHR, "EGL_BAD_STATE_KHR"}, {EGL_BAD_DEVICE_EXT, "EGL_BAD_DEVICE_EXT"},
  };
  EGLint code = egl.GetError ? egl.GetError() : 0;
  for (size_t i = 0; i < sizeof names / sizeof names[0]; ++i)
    if (names[i].code == code) {
      repro_say(err, n, "%s: %s (%#06x)", what, names[i].name, (unsigned)code);
      return -1;
    }
  repro_say(err, n, "%s: unknown EGL error (%#06x)", what, (unsigned)code);
  return -1;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
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
      {"cuCtxCreate_v2", &cu.CtxCreate},
      {"cuCtxDestroy_v2", &cu.CtxDestroy},
      {"cuCtxSetCurrent", &cu.CtxSetCurrent},
      {"cuCtxPopCurrent_v2", &cu.CtxPopCurrent},
      {"cuMemAlloc_v2", &cu.MemAlloc},
      {"cuMemFree_v2", &cu.MemFree},
      {"cuMemsetD8Async", &cu.MemsetD8Async},
      {"cuEGLStreamConsumerConnect", &cu.EGLStreamConsumerConnect},
      {"cuEGLStreamConsumerDisconnect", &cu.EGLStreamConsumerDisconnect},
      {"cuEGLStreamConsumerAcquireFrame", &cu.EGLStreamConsumerAcquireFrame},
      {"cuEGLStreamConsumerReleaseFrame", &cu.EGLStreamConsumerReleaseFrame},
      {"cuEGLStreamProducerConnect", &cu.EGLStreamProducerConnect},
      {"cuEGLStreamProducerDisconnect", &cu.EGLStreamProducerDisconnect},
      {"cuEGLStreamProducerPresentFrame", &cu.EGLStreamProducerPresentFrame},
      {"cuEGLStreamProducerReturnFrame", &cu.EGLStreamProducerReturnFrame},
      {"cuGraphicsResourceGetMappedEglFrame", &cu.GraphicsResourceGetMappedEglFrame},
  };
  for (size_t i = 0; i < sizeof syms / sizeof syms[0]; ++i)
    if (repro_load_symbol(lib, "libcuda.so.1", "NVIDIA driver", syms[i].name, syms[i].slot, err, n) != 0) return -1;
  return 0; /* never dlclosed: a driver stays mapped */
}

static int load_egl(char* err, size_t n) {
  void* lib = dlopen("libEGL.so.1", RTLD_NOW | RTLD_GLOBAL);
  if (!lib) lib = dlopen("libEGL.so", RTLD_NOW | RTLD_GLOBAL);
  const struct {
    const char* name;
    void* slot;
  } core[] = {
      {"eglGetProcAddress", &egl.GetProcAddress}, {"eglGetError", &egl.GetError},
      {"eglInitialize", &egl.Initialize},         {"eglTerminate", &egl.Terminate},
      {"eglQueryString", &egl.QueryString},
  };
  for (size_t i = 0; i < sizeof core / sizeof core[0]; ++i)
    if (repro_load_symbol(lib, "libEGL.so.1", "EGL loader", core[i].name, core[i].slot, err, n) != 0) return -1;
  /* Extension entry points come from eglGetProcAddress, as EGL requires. */
  const struct {
    const char* name;
    void* slot;
  } exts[] = {
      {"eglQueryDevicesEXT", &egl.QueryDevicesEXT},
      {"eglQueryDeviceAttribEXT", &egl.QueryDeviceAttribEXT},
      {"eglQueryDeviceStringEXT", &egl.QueryDeviceStringEXT},
      {"eglGetPlatformDisplayEXT", &egl.GetPlatformDisplayEXT},
      {"eglCreateStreamKHR", &egl.CreateStreamKHR},
      {"eglDestroyStreamKHR", &egl.DestroyStreamKHR},
      {"eglStreamAttribKHR", &egl.StreamAttribKHR},
      {"eglQueryStreamKHR", &egl.QueryStreamKHR},
  };
  for (size_t i = 0; i < sizeof exts / sizeof exts[0]; ++i) {
    __eglMustCastToProperFunctionPointerType f = egl.GetProcAddress(exts[i].name);
    if (!f) {
      repro_say(err, n, "eglGetProcAddress(%s) returned nothing: no EGL vendor library offers it", exts[i].name);
      return -1;
    }
    memcpy(exts[i].slot, &f, sizeof f);
  }
  return 0; /* never dlclosed: vendor libraries stay mapped */
}

/* The EGL display of the first EGL device that is a CUDA device (EGL_CUDA_DEVICE_NV), initialised, the way
 * the EGLStream_CUDA_Interop sample finds it. */
static int open_egl_cuda_display(char* err, size_t n) {
  EGLDeviceEXT devices[16];
  EGLint count = 0;
  if (!egl.QueryDevicesEXT(16, devices, &count)) return egl_fail("eglQueryDevicesEXT", err, n);
  if (count == 0) {
    repro_say(err, n,
              "eglQueryDevicesEXT: no EGL device (the NVIDIA EGL vendor library is not installed or not found)");
    return -1;
  }
  int chosen = -1;
  for (int i = 0; i < count; ++i) {
    EGLAttrib cuda_index = -1;
    if (egl.QueryDeviceAttribEXT(devices[i], EGL_CUDA_DEVICE_NV, &cuda_index)) {
      chosen = i;
      break;
    }
  }
  if (chosen < 0) {
    repro_say(err, n, "eglQueryDeviceAttribEXT(EGL_CUDA_DEVICE_NV): none of the %d EGL devices is a CUDA device "
        "(no NVIDIA EGL driver)", (int)count);
    return -1;
  }
  egl.QueryDeviceStringEXT(devices[chosen], EGL_EXTENSIONS);
  EGLDisplay dpy = egl.GetPlatformDisplayEXT(EGL_PLATFORM_DEVICE_EXT, devices[chosen], NULL);
  if (dpy == EGL_NO_DISPLAY) return egl_fail("eglGetPlatformDisplayEXT(EGL_PLATFORM_DEVICE_EXT)", err, n);
  EGLint major = 0, minor = 0;
  if (!egl.Initialize(dpy, &major, &minor)) return egl_fail("eglInitialize", err, n);
  g_display = dpy;
  const char* ext = egl.QueryString(dpy, EGL_EXTENSIONS);
  if (!ext || !strstr(ext, "EGL_KHR_stream")) {
    repro_say(err, n, "the EGL display lacks EGL_KHR_stream (extensions: %s)", ext ? ext : "");
    return -1;
  }
  return 0;
}

/* fanout: the rounds thread 0 opens, and each consumer thread's offer of its streams. */
struct stream_ends;
struct offer {
  int64_t round;
  struct stream_ends* ends; /* g_streams of them */
  int taken;                /* the producer collected it for its round */
};
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cv;
static int g_fanout_threads;
static int64_t g_open_round = -1, g_collected_round = -1, g_connected_round = -1, g_round_failed = -1,
               g_done_round = -1;
static struct offer* g_offers;
static _Thread_local int64_t t_my_round = -1;

int repro_workload_init(char* err, size_t err_size) {
  if (repro_param_range("streams", 1, 1, 64, &g_streams, err, err_size) != 0 ||
      repro_param_range("width", 640, 16, 8192, &g_width, err, err_size) != 0 ||
      repro_param_range("height", 480, 16, 8192, &g_height, err, err_size) != 0 ||
      repro_param_range("frames", 8, 1, 100000, &g_frames, err, err_size) != 0 ||
      repro_param_choice("layout", "paired", "fanout", "paired", &g_fanout, err, err_size) != 0 ||
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
  if (load_egl(err, err_size) != 0) return -1;
  if (open_egl_cuda_display(err, err_size) != 0) return -1;
  if (!g_per_thread) {
    if (cu_ok(cu.CtxCreate(&g_shared, CU_CTX_SCHED_AUTO, g_dev), "cuCtxCreate", err, err_size) != 0) return -1;
    CUcontext popped = NULL;
    cu.CtxPopCurrent(&popped); /* threads make it current themselves */
  }
  int threads = repro_threads();
  g_fanout_threads = g_fanout ? threads : 0;
  g_offers = calloc((size_t)threads, sizeof *g_offers);
  if (!g_offers) {
    repro_say(err, err_size, "out of memory");
    return -1;
  }
  for (int t = 0; t < threads; ++t) g_offers[t].round = -1;
  pthread_condattr_t attr;
  pthread_condattr_init(&attr);
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  pthread_cond_init(&g_cv, &attr);
  pthread_condattr_destroy(&attr);
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
  if (g_display != EGL_NO_DISPLAY) egl.Terminate(g_display);
  g_display = EGL_NO_DISPLAY;
}

/* --- the steps, each one NVIDIA call sequence; 0, or -1 with the call and the error by name in err --- */

/* One EGLStream and both of its CUDA ends. */
struct stream_ends {
  EGLStreamKHR stream;
  CUeglStreamConnection consumer;
  CUeglStreamConnection producer;
  int consumer_connected;
  int producer_connected;
  CUdeviceptr frame;
};

static struct stream_ends* new_ends(void) {
  struct stream_ends* ends = calloc((size_t)g_streams, sizeof *ends);
  if (ends)
    for (int i = 0; i < g_streams; ++i) ends[i].stream = EGL_NO_STREAM_KHR;
  return ends;
}

static int create_and_connect_consumer(struct stream_ends* e, char* err, size_t n) {
  static const EGLint attrs[] = {EGL_SUPPORT_REUSE_NV, EGL_FALSE, EGL_NONE};
  e->stream = egl.CreateStreamKHR(g_display, attrs);
  if (e->stream == EGL_NO_STREAM_KHR) return egl_fail("eglCreateStreamKHR", err, n);
  if (!egl.StreamAttribKHR(g_display, e->stream, EGL_CONSUMER_LATENCY_USEC_KHR, 16000))
    return egl_fail("eglStreamAttribKHR(EGL_CONSUMER_LATENCY_USEC_KHR)", err, n);
  if (!egl.StreamAttribKHR(g_display, e->stream, EGL_CONSUMER_ACQUIRE_TIMEOUT_USEC_KHR, 16000))
    return egl_fail("eglStreamAttribKHR(EGL_CONSUMER_ACQUIRE_TIMEOUT_USEC_KHR)", err, n);
  if (cu_ok(cu.EGLStreamConsumerConnect(&e->consumer, e->stream), "cuEGLStreamConsumerConnect", err, n) != 0)
    return -1;
  e->consumer_connected = 1;
  return 0;
}

static int connect_producer(struct stream_ends* e, char* err, size_t n) {
  if (!e->frame &&
      cu_ok(cu.MemAlloc(&e->frame, (size_t)g_width * (size_t)g_height * 4), "cuMemAlloc", err, n) != 0)
    return -1;
  if (cu_ok(cu.EGLStreamProducerConnect(&e->producer, e->stream, g_width, g_height), "cuEGLStreamProducerConnect",
            err, n) != 0)
    return -1;
  e->producer_connected = 1;
  return 0;
}

static int present(struct stream_ends* e, int frame_no, char* err, size_t n) {
  /* A little real producer work per frame, so the frame is not an idle buffer. */
  if (cu_ok(cu.MemsetD8Async(e->frame, (unsigned char)frame_no, (size_t)g_width * 4, NULL), "cuMemsetD8Async",
            err, n) != 0)
    return -1;
  CUeglFrame f;
  memset(&f, 0, sizeof f);
  f.frame.pPitch[0] = (void*)(uintptr_t)e->frame;
  f.width = (unsigned)g_width;
  f.height = (unsigned)g_height;
  f.depth = 1;
  f.pitch = (unsigned)g_width * 4;
  f.planeCount = 1;
  f.numChannels = 4;
  f.frameType = CU_EGL_FRAME_TYPE_PITCH;
  f.eglColorFormat = CU_EGL_COLOR_FORMAT_ARGB;
  f.cuFormat = CU_AD_FORMAT_UNSIGNED_INT8;
  return cu_ok(cu.EGLStreamProducerPresentFrame(&e->producer, f, NULL), "cuEGLStreamProducerPresentFrame", err, n);
}

/* `give_up` (may be NULL) lets the fanout consumer stop waiting when the producer abandoned the round. */
static int acquire(struct stream_ends* e, CUgraphicsResource* res, int (*give_up)(int64_t), int64_t round,
                   char* err, size_t n) {
  double until = now_s() + FRAME_WAIT_MS / 1000.0;
  CUstream stream = NULL;
  for (;;) {
    CUresult r = cu.EGLStreamConsumerAcquireFrame(&e->consumer, res, &stream, ACQUIRE_TIMEOUT_US);
    if (r == CUDA_SUCCESS) break;
    if (r != CUDA_ERROR_LAUNCH_TIMEOUT || now_s() >= until || (give_up && give_up(round)))
      return cu_ok(r, "cuEGLStreamConsumerAcquireFrame", err, n);
  }
  CUeglFrame mapped;
  memset(&mapped, 0, sizeof mapped);
  if (cu_ok(cu.GraphicsResourceGetMappedEglFrame(&mapped, *res, 0, 0), "cuGraphicsResourceGetMappedEglFrame", err,
            n) != 0) {
    cu.EGLStreamConsumerReleaseFrame(&e->consumer, *res, &stream);
    return -1;
  }
  if (mapped.width != (unsigned)g_width || mapped.height != (unsigned)g_height) {
    cu.EGLStreamConsumerReleaseFrame(&e->consumer, *res, &stream);
    repro_say(err, n, "cuGraphicsResourceGetMappedEglFrame: got a %ux%u frame, presented %dx%d", mapped.width,
        mapped.height, g_width, g_height);
    return -1;
  }
  return 0;
}

static int release(struct stream_ends* e, CUgraphicsResource res, char* err, size_t n) {
  CUstream stream = NULL;
  return cu_ok(cu.EGLStreamConsumerReleaseFrame(&e->consumer, res, &stream), "cuEGLStreamConsumerReleaseFrame",
               err, n);
}

static int return_frame(struct stream_ends* e, char* err, size_t n) {
  double until = now_s() + FRAME_WAIT_MS / 1000.0;
  for (;;) {
    CUeglFrame back;
    memset(&back, 0, sizeof back);
    CUresult r = cu.EGLStreamProducerReturnFrame(&e->producer, &back, NULL);
    if (r == CUDA_SUCCESS) return 0;
    if (r != CUDA_ERROR_LAUNCH_TIMEOUT) return cu_ok(r, "cuEGLStreamProducerReturnFrame", err, n);
    if (now_s() >= until) {
      repro_say(err, n, "cuEGLStreamProducerReturnFrame: %s (%d) for 1 s: the frame never came back",
                repro_cu_name(cu.GetErrorName, r), (int)r);
      return -1;
    }
    sched_yield();
  }
}

static int disconnect_producer(struct stream_ends* e, char* err, size_t n) {
  if (!e->producer_connected) return 0;
  e->producer_connected = 0;
  return cu_ok(cu.EGLStreamProducerDisconnect(&e->producer), "cuEGLStreamProducerDisconnect", err, n);
}

static int disconnect_consumer_and_destroy(struct stream_ends* e, char* err, size_t n) {
  int ok = 1;
  if (e->consumer_connected) {
    e->consumer_connected = 0;
    ok = cu_ok(cu.EGLStreamConsumerDisconnect(&e->consumer), "cuEGLStreamConsumerDisconnect", err, n) == 0;
  }
  if (e->stream != EGL_NO_STREAM_KHR) {
    if (!egl.DestroyStreamKHR(g_display, e->stream)) {
      char why[256];
      egl_fail("eglDestroyStreamKHR", why, sizeof why);
      if (ok) repro_say(err, n, "%s", why);
      ok = 0;
    }
    e->stream = EGL_NO_STREAM_KHR;
  }
  if (e->frame) {
    char why[256];
    if (cu_ok(cu.MemFree(e->frame), "cuMemFree", why, sizeof why) != 0 && ok) {
      repro_say(err, n, "%s", why);
      ok = 0;
    }
    e->frame = 0;
  }
  return ok ? 0 : -1;
}

/* The disconnect phase over every stream, whatever state it reached; the first error is the phase's. */
static int disconnect_all(struct stream_ends** ends, int count, int producer, int consumer, char* err, size_t n) {
  int ok = 1;
  char ignored[256];
  if (producer)
    for (int i = 0; i < count; ++i)
      ok = disconnect_producer(ends[i], ok ? err : ignored, ok ? n : sizeof ignored) == 0 && ok;
  if (consumer)
    for (int i = 0; i < count; ++i)
      ok = disconnect_consumer_and_destroy(ends[i], ok ? err : ignored, ok ? n : sizeof ignored) == 0 && ok;
  return ok ? 0 : -1;
}

static int teardown(struct repro_errs* e, struct stream_ends* ends, int producer, int consumer) {
  struct stream_ends* all[64];
  for (int i = 0; i < g_streams; ++i) all[i] = &ends[i];
  return REPRO_PHASE(e, "disconnect",
                     disconnect_all(all, g_streams, producer, consumer, REPRO_ERR_BUF(e), REPRO_ERR_CAP(e)));
}

static int connect_paired(struct stream_ends* ends, char* err, size_t n) {
  for (int i = 0; i < g_streams; ++i)
    if (create_and_connect_consumer(&ends[i], err, n) != 0 || connect_producer(&ends[i], err, n) != 0) return -1;
  return 0;
}

static void iterate_paired(struct repro_errs* e) {
  struct stream_ends* ends = new_ends();
  if (!ends) {
    repro_say(e->first, e->size, "out of memory");
    e->count++;
    return;
  }
  int ok = REPRO_PHASE(e, "connect", connect_paired(ends, REPRO_ERR_BUF(e), REPRO_ERR_CAP(e)));
  for (int f = 0; ok && f < g_frames && !repro_stopping(); ++f) {
    for (int i = 0; i < g_streams; ++i) {
      struct stream_ends* s = &ends[i];
      CUgraphicsResource res = NULL;
      ok = REPRO_PHASE(e, "present", present(s, f, REPRO_ERR_BUF(e), REPRO_ERR_CAP(e))) &&
           REPRO_PHASE(e, "acquire", acquire(s, &res, NULL, 0, REPRO_ERR_BUF(e), REPRO_ERR_CAP(e))) &&
           REPRO_PHASE(e, "release", release(s, res, REPRO_ERR_BUF(e), REPRO_ERR_CAP(e))) &&
           REPRO_PHASE(e, "return", return_frame(s, REPRO_ERR_BUF(e), REPRO_ERR_CAP(e)));
      if (!ok) break;
    }
  }
  teardown(e, ends, 1, 1);
  free(ends);
}

/* --- fanout coordination --- */

/* Waits on g_cv (g_mu held) until pred() holds, at most limit_ms, and, when heed_deadline, no longer than
 * the run's deadline. Returns pred(). */
static int wait_for(long limit_ms, int (*pred)(int64_t), int64_t arg, int heed_deadline) {
  double until = now_s() + (double)limit_ms / 1000.0;
  while (!pred(arg)) {
    if ((heed_deadline && repro_stopping()) || now_s() >= until) return pred(arg);
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_nsec += 2000000;
    if (ts.tv_nsec >= 1000000000) {
      ts.tv_nsec -= 1000000000;
      ++ts.tv_sec;
    }
    pthread_cond_timedwait(&g_cv, &g_mu, &ts);
  }
  return 1;
}

static int all_offered(int64_t round) {
  for (int t = 1; t < g_fanout_threads; ++t)
    if (g_offers[t].round != round) return 0;
  return 1;
}
static int round_open(int64_t mine) { return g_open_round > mine; }
static int round_collected(int64_t round) { return g_collected_round >= round; }
static int round_decided(int64_t round) {
  return g_connected_round == round || g_round_failed == round || g_done_round >= round;
}
static int round_done(int64_t round) { return g_done_round >= round; }
static int round_abandoned(int64_t round) {
  pthread_mutex_lock(&g_mu);
  int failed = g_round_failed == round;
  pthread_mutex_unlock(&g_mu);
  return failed;
}

static int connect_producers(struct stream_ends** all, int count, char* err, size_t n) {
  if (count == 0) {
    repro_say(err, n, "fanout: no consumer thread offered a stream within 2 s");
    return -1;
  }
  for (int i = 0; i < count; ++i)
    if (connect_producer(all[i], err, n) != 0) return -1;
  return 0;
}

static int present_all(struct stream_ends** all, int count, int f, char* err, size_t n) {
  for (int i = 0; i < count; ++i)
    if (present(all[i], f, err, n) != 0) return -1;
  return 0;
}

static int return_all(struct stream_ends** all, int count, char* err, size_t n) {
  for (int i = 0; i < count; ++i)
    if (return_frame(all[i], err, n) != 0) return -1;
  return 0;
}

static void iterate_producer(struct repro_errs* e) {
  int64_t round;
  pthread_mutex_lock(&g_mu);
  round = ++g_open_round;
  g_connected_round = -1;
  pthread_cond_broadcast(&g_cv);
  pthread_mutex_unlock(&g_mu);
  /* Collect the consumers' offers for this round. */
  struct stream_ends** all = calloc((size_t)g_fanout_threads * (size_t)g_streams + 1, sizeof *all);
  int count = 0;
  pthread_mutex_lock(&g_mu);
  wait_for(2000, all_offered, round, 1);
  for (int t = 1; t < g_fanout_threads; ++t) {
    if (g_offers[t].round != round) continue;
    g_offers[t].taken = 1;
    for (int i = 0; all && i < g_streams; ++i) all[count++] = &g_offers[t].ends[i];
  }
  g_collected_round = round;
  pthread_cond_broadcast(&g_cv);
  pthread_mutex_unlock(&g_mu);
  if (count == 0 && repro_stopping()) {
    /* The deadline fell between opening the round and the consumers' offers: not an error. */
    pthread_mutex_lock(&g_mu);
    g_done_round = round;
    pthread_cond_broadcast(&g_cv);
    pthread_mutex_unlock(&g_mu);
    free(all);
    return;
  }
  int ok = REPRO_PHASE(e, "connect", connect_producers(all, count, REPRO_ERR_BUF(e), REPRO_ERR_CAP(e)));
  pthread_mutex_lock(&g_mu);
  g_connected_round = ok ? round : -1;
  g_round_failed = ok ? -1 : round;
  pthread_cond_broadcast(&g_cv);
  pthread_mutex_unlock(&g_mu);
  for (int f = 0; ok && f < g_frames; ++f) {
    ok = REPRO_PHASE(e, "present", present_all(all, count, f, REPRO_ERR_BUF(e), REPRO_ERR_CAP(e)));
    if (ok) ok = REPRO_PHASE(e, "return", return_all(all, count, REPRO_ERR_BUF(e), REPRO_ERR_CAP(e)));
  }
  REPRO_PHASE(e, "disconnect", disconnect_all(all, count, 1, 0, REPRO_ERR_BUF(e), REPRO_ERR_CAP(e)));
  pthread_mutex_lock(&g_mu);
  if (!ok) g_round_failed = round;
  g_done_round = round;
  pthread_cond_broadcast(&g_cv);
  pthread_mutex_unlock(&g_mu);
  free(all);
}

static int connect_consumers(struct stream_ends* ends, char* err, size_t n) {
  for (int i = 0; i < g_streams; ++i)
    if (create_and_connect_consumer(&ends[i], err, n) != 0) return -1;
  return 0;
}

static int producer_never_disconnected(char* err, size_t n) {
  repro_say(err, n,
            "fanout: the producer did not disconnect within 10 s; streams leaked rather than destroyed under it");
  return -1;
}

static void iterate_consumer(int thread, struct repro_errs* e) {
  int64_t round;
  pthread_mutex_lock(&g_mu);
  /* Wait for a round this thread has not joined yet (the producer opens one per iteration). */
  if (!wait_for(2000, round_open, t_my_round, 1)) {
    pthread_mutex_unlock(&g_mu);
    return;
  }
  round = g_open_round;
  pthread_mutex_unlock(&g_mu);
  t_my_round = round;
  struct stream_ends* ends = new_ends();
  if (!ends) {
    repro_say(e->first, e->size, "out of memory");
    e->count++;
    return;
  }
  int ok = REPRO_PHASE(e, "connect", connect_consumers(ends, REPRO_ERR_BUF(e), REPRO_ERR_CAP(e)));
  int taken = 0, joined = 0;
  if (ok) {
    pthread_mutex_lock(&g_mu);
    g_offers[thread].round = round;
    g_offers[thread].ends = ends;
    g_offers[thread].taken = 0;
    pthread_cond_broadcast(&g_cv);
    /* Once offered, the producer may take these streams: wait for its verdict whatever the deadline. */
    wait_for(10000, round_collected, round, 0);
    taken = g_offers[thread].taken;
    if (taken) wait_for(10000, round_decided, round, 0);
    joined = taken && g_connected_round == round;
    if (!taken) {
      g_offers[thread].round = -1;
      g_offers[thread].ends = NULL;
      g_offers[thread].taken = 0;
    }
    pthread_mutex_unlock(&g_mu);
  }
  for (int f = 0; joined && f < g_frames; ++f) {
    for (int i = 0; i < g_streams; ++i) {
      struct stream_ends* s = &ends[i];
      CUgraphicsResource res = NULL;
      joined = REPRO_PHASE(e, "acquire",
                           acquire(s, &res, round_abandoned, round, REPRO_ERR_BUF(e), REPRO_ERR_CAP(e))) &&
               REPRO_PHASE(e, "release", release(s, res, REPRO_ERR_BUF(e), REPRO_ERR_CAP(e)));
      if (!joined) break;
    }
  }
  if (taken) {
    /* The producer disconnects first (the sample's order); never destroy a stream it may still hold. */
    pthread_mutex_lock(&g_mu);
    int producer_done = wait_for(10000, round_done, round, 0);
    g_offers[thread].round = -1;
    g_offers[thread].ends = NULL;
    g_offers[thread].taken = 0;
    pthread_mutex_unlock(&g_mu);
    if (!producer_done) {
      REPRO_PHASE(e, "disconnect", producer_never_disconnected(REPRO_ERR_BUF(e), REPRO_ERR_CAP(e)));
      /* The producer may still hold pointers into `ends` and come back from the call it is stuck in: the
       * streams leak, and so does their storage, untouched (crashgrid keeps it until the workload ends). */
      return;
    }
  }
  teardown(e, ends, 0, 1);
  free(ends);
}

int repro_workload_iterate(int thread, int64_t iteration, char* err, size_t err_size) {
  (void)iteration;
  struct repro_errs e;
  repro_errs_start(&e, err, err_size);
  if (!g_fanout || repro_threads() == 1)
    iterate_paired(&e);
  else if (thread == 0)
    iterate_producer(&e);
  else
    iterate_consumer(thread, &e);
  return e.count ? -1 : 0;
}

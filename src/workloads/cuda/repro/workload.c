/* cuda in the standalone reproduction: CUDA driver churn from many threads at once. Each iteration creates a
 * context (context=per-thread, the default: cuCtxCreate_v2 / cuCtxDestroy_v2) or makes the process's shared
 * one current (context=shared: cuCtxSetCurrent / cuCtxSetCurrent(NULL)), allocates `allocs` buffers of
 * `alloc_kb` KiB, creates `streams` non-blocking streams and queues a cuMemsetD8Async per buffer on them,
 * records and waits for one event per stream, and tears everything down (events, streams, buffers, then the
 * context), also after a failure. With sync=on (the default) the threads meet before every ctx-create, so
 * context initialisations really collide instead of drifting apart after the first iteration.
 *
 * Unlike reference-race this is a C port of crashgrid's cuda workload (src/workloads/cuda/cuda.cc, C++ on
 * crashgrid's runtime), kept to the same calls in the same order, the same phases and the same parameters;
 * it is not the compiled-in code itself. libcuda.so.1 is loaded with dlopen and its entry points resolved as
 * crashgrid resolves them (the versioned export, e.g. cuMemAlloc_v2, else cuGetProcAddress); the types come
 * from the CUDA toolkit's cuda.h. */
#define _GNU_SOURCE
#include <cuda.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "repro.h"
#include "repro_cuda.h"

#define MEET_TIMEOUT_MS 2000 /* a thread waits at most this long for the others before ctx-create */

static struct {
  CUresult (*Init)(unsigned);
  CUresult (*GetErrorName)(CUresult, const char**);
  CUresult (*DeviceGetCount)(int*);
  CUresult (*DeviceGet)(CUdevice*, int);
  CUresult (*CtxCreate)(CUcontext*, unsigned, CUdevice);
  CUresult (*CtxDestroy)(CUcontext);
  CUresult (*CtxSetCurrent)(CUcontext);
  CUresult (*MemAlloc)(CUdeviceptr*, size_t);
  CUresult (*MemFree)(CUdeviceptr);
  CUresult (*MemsetD8Async)(CUdeviceptr, unsigned char, size_t, CUstream);
  CUresult (*StreamCreate)(CUstream*, unsigned);
  CUresult (*StreamDestroy)(CUstream);
  CUresult (*EventCreate)(CUevent*, unsigned);
  CUresult (*EventRecord)(CUevent, CUstream);
  CUresult (*EventSynchronize)(CUevent);
  CUresult (*EventDestroy)(CUevent);
} cu;

/* The cell's settings (crashgrid's defaults and ranges). */
static int g_per_thread = 1, g_allocs = 4, g_alloc_kb = 1024, g_streams = 2, g_sync = 1;
static CUdevice g_dev;
static CUcontext g_shared;

/* --- errors, worded as crashgrid words them ("cuMemAlloc: CUDA_ERROR_OUT_OF_MEMORY (2)") --- */

/* 0 on success, else -1 with "what: NAME (code)" in err (repro_cuda.h). */
static int cu_ok(CUresult r, const char* what, char* err, size_t n) {
  return repro_cu_ok(cu.GetErrorName, r, what, err, n);
}

/* --- loading and set-up --- */

#if CUDA_VERSION >= 12000
typedef CUresult (*get_proc_address_fn)(const char* symbol, void** pfn, int cuda_version, cuuint64_t flags,
                                        CUdriverProcAddressQueryResult* status);
#endif

static int load_cuda(char* err, size_t n) {
  void* lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_GLOBAL);
  if (!lib) {
    char why[160];
    const char* e = dlerror();
    repro_say(why, sizeof why, "%s", e ? e : "dlopen failed");
    lib = dlopen("libcuda.so", RTLD_NOW | RTLD_GLOBAL);
    if (!lib) {
      repro_say(err, n, "cannot load libcuda.so.1: no NVIDIA driver on this machine? (%s)", why);
      return -1;
    }
  }
#if CUDA_VERSION >= 12000
  get_proc_address_fn gpa = NULL;
  void* gpa_sym = dlsym(lib, "cuGetProcAddress_v2");
  memcpy(&gpa, &gpa_sym, sizeof gpa);
#endif
  /* The versioned export, the name cuGetProcAddress knows, and the CUDA version whose ABI the slot's type
   * matches: crashgrid's table (src/nvidia/cuda_api.cc). */
  const struct {
    const char* exported;
    const char* base;
    int version;
    void* slot;
  } syms[] = {
      {"cuInit", "cuInit", 2000, &cu.Init},
      {"cuGetErrorName", "cuGetErrorName", 6000, &cu.GetErrorName},
      {"cuDeviceGetCount", "cuDeviceGetCount", 2000, &cu.DeviceGetCount},
      {"cuDeviceGet", "cuDeviceGet", 2000, &cu.DeviceGet},
      {"cuCtxCreate_v2", "cuCtxCreate", 3020, &cu.CtxCreate},
      {"cuCtxDestroy_v2", "cuCtxDestroy", 4000, &cu.CtxDestroy},
      {"cuCtxSetCurrent", "cuCtxSetCurrent", 4000, &cu.CtxSetCurrent},
      {"cuMemAlloc_v2", "cuMemAlloc", 3020, &cu.MemAlloc},
      {"cuMemFree_v2", "cuMemFree", 3020, &cu.MemFree},
      {"cuMemsetD8Async", "cuMemsetD8Async", 3020, &cu.MemsetD8Async},
      {"cuStreamCreate", "cuStreamCreate", 2000, &cu.StreamCreate},
      {"cuStreamDestroy_v2", "cuStreamDestroy", 4000, &cu.StreamDestroy},
      {"cuEventCreate", "cuEventCreate", 2000, &cu.EventCreate},
      {"cuEventRecord", "cuEventRecord", 2000, &cu.EventRecord},
      {"cuEventSynchronize", "cuEventSynchronize", 2000, &cu.EventSynchronize},
      {"cuEventDestroy_v2", "cuEventDestroy", 4000, &cu.EventDestroy},
  };
  for (size_t i = 0; i < sizeof syms / sizeof syms[0]; ++i) {
    void* f = dlsym(lib, syms[i].exported);
#if CUDA_VERSION >= 12000
    if (!f && gpa) {
      /* A driver may stop exporting an old versioned name yet still hand it out for the ABI version asked. */
      CUdriverProcAddressQueryResult status = CU_GET_PROC_ADDRESS_SUCCESS;
      void* fn = NULL;
      if (gpa(syms[i].base, &fn, syms[i].version, CU_GET_PROC_ADDRESS_DEFAULT, &status) == CUDA_SUCCESS &&
          status == CU_GET_PROC_ADDRESS_SUCCESS)
        f = fn;
    }
#else
    (void)syms[i].base, (void)syms[i].version;
#endif
    if (!f) {
      repro_say(err, n, "libcuda.so.1 lacks %s: the NVIDIA driver is too old", syms[i].exported);
      return -1;
    }
    memcpy(syms[i].slot, &f, sizeof f);
  }
  return 0; /* never dlclosed: a driver keeps threads and atexit handlers */
}

/* --- the meeting point before ctx-create (sync=on) --- */

/* A reusable barrier that never deadlocks a run: a thread waits at most MEET_TIMEOUT_MS or until the run is
 * stopping, so threads that reached the deadline (and left) cannot strand the others. */
static pthread_mutex_t g_meet_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_meet_cv;
static int g_meet_parties, g_meet_arrived;
static int64_t g_meet_generation;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void meet(void) {
  pthread_mutex_lock(&g_meet_mu);
  int64_t gen = g_meet_generation;
  if (++g_meet_arrived >= g_meet_parties) {
    g_meet_arrived = 0;
    ++g_meet_generation;
    pthread_cond_broadcast(&g_meet_cv);
    pthread_mutex_unlock(&g_meet_mu);
    return;
  }
  double until = now_s() + MEET_TIMEOUT_MS / 1000.0;
  while (g_meet_generation == gen && !repro_stopping() && now_s() < until) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_nsec += 5000000; /* 5 ms, as crashgrid's MeetingPoint */
    if (ts.tv_nsec >= 1000000000) {
      ts.tv_nsec -= 1000000000;
      ++ts.tv_sec;
    }
    pthread_cond_timedwait(&g_meet_cv, &g_meet_mu, &ts);
  }
  if (g_meet_generation == gen) {
    /* Gave up: open the gate for this generation so late arrivals do not count toward a stale one. */
    g_meet_arrived = 0;
    ++g_meet_generation;
    pthread_cond_broadcast(&g_meet_cv);
  }
  pthread_mutex_unlock(&g_meet_mu);
}

int repro_workload_init(char* err, size_t err_size) {
  int off = 0, shared = 0;
  if (repro_param_choice("context", "shared", "per-thread", "per-thread", &g_per_thread, err, err_size) != 0 ||
      repro_param_range("allocs", 4, 1, 1024, &g_allocs, err, err_size) != 0 ||
      repro_param_range("alloc_kb", 1024, 1, 1L << 20, &g_alloc_kb, err, err_size) != 0 ||
      repro_param_range("streams", 2, 1, 256, &g_streams, err, err_size) != 0 ||
      repro_param_choice("sync", "on", "off", "on", &off, err, err_size) != 0)
    return -1;
  g_sync = !off;
  shared = !g_per_thread;
  if (load_cuda(err, err_size) != 0) return -1;
  if (cu_ok(cu.Init(0), "cuInit", err, err_size) != 0) return -1;
  int count = 0;
  if (cu_ok(cu.DeviceGetCount(&count), "cuDeviceGetCount", err, err_size) != 0) return -1;
  if (count == 0) {
    repro_say(err, err_size, "cuDeviceGetCount: no CUDA device");
    return -1;
  }
  if (cu_ok(cu.DeviceGet(&g_dev, 0), "cuDeviceGet", err, err_size) != 0) return -1;
  /* The shared context is created (and left current) on this thread, as crashgrid's Init does. */
  if (shared && cu_ok(cu.CtxCreate(&g_shared, CU_CTX_SCHED_AUTO, g_dev), "cuCtxCreate", err, err_size) != 0)
    return -1;
  g_meet_parties = repro_threads();
  g_meet_arrived = 0;
  g_meet_generation = 0;
  pthread_condattr_t attr;
  pthread_condattr_init(&attr);
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  pthread_cond_init(&g_meet_cv, &attr);
  pthread_condattr_destroy(&attr);
  return 0;
}

/* crashgrid's cuda workload has no per-thread set-up or tear-down: each iteration makes its own context. */
int repro_workload_thread_init(int thread, char* err, size_t err_size) {
  (void)thread, (void)err, (void)err_size;
  return 0;
}

void repro_workload_thread_done(int thread) { (void)thread; }

void repro_workload_shutdown(void) {
  if (g_shared) cu.CtxDestroy(g_shared);
  g_shared = NULL;
}

/* --- the steps, each one phase of crashgrid's iteration; 0, or -1 with the call and the error in err --- */

struct made {
  CUcontext own; /* context=per-thread: this iteration's context */
  CUdeviceptr* ptrs;
  int nptrs;
  CUstream* streams;
  int nstreams;
  CUevent* events;
  int nevents;
};

static int ctx_create(struct made* m, char* err, size_t n) {
  if (!g_per_thread) return cu_ok(cu.CtxSetCurrent(g_shared), "cuCtxSetCurrent", err, n);
  CUcontext ctx = NULL;
  if (cu_ok(cu.CtxCreate(&ctx, CU_CTX_SCHED_AUTO, g_dev), "cuCtxCreate", err, n) != 0) return -1;
  m->own = ctx;
  return 0;
}

static int alloc(struct made* m, char* err, size_t n) {
  for (int i = 0; i < g_allocs; ++i) {
    CUdeviceptr p = 0;
    if (cu_ok(cu.MemAlloc(&p, (size_t)g_alloc_kb * 1024), "cuMemAlloc", err, n) != 0) return -1;
    m->ptrs[m->nptrs++] = p;
  }
  return 0;
}

static int stream(struct made* m, char* err, size_t n) {
  for (int i = 0; i < g_streams; ++i) {
    CUstream st = NULL;
    if (cu_ok(cu.StreamCreate(&st, CU_STREAM_NON_BLOCKING), "cuStreamCreate", err, n) != 0) return -1;
    m->streams[m->nstreams++] = st;
  }
  for (int i = 0; i < m->nptrs; ++i)
    if (cu_ok(cu.MemsetD8Async(m->ptrs[i], (unsigned char)i, (size_t)g_alloc_kb * 1024,
                               m->streams[i % m->nstreams]),
              "cuMemsetD8Async", err, n) != 0)
      return -1;
  return 0;
}

static int event(struct made* m, char* err, size_t n) {
  for (int i = 0; i < m->nstreams; ++i) {
    CUevent ev = NULL;
    if (cu_ok(cu.EventCreate(&ev, CU_EVENT_DEFAULT), "cuEventCreate", err, n) != 0) return -1;
    m->events[m->nevents++] = ev;
    if (cu_ok(cu.EventRecord(ev, m->streams[i]), "cuEventRecord", err, n) != 0) return -1;
  }
  for (int i = 0; i < m->nevents; ++i)
    if (cu_ok(cu.EventSynchronize(m->events[i]), "cuEventSynchronize", err, n) != 0) return -1;
  return 0;
}

/* Everything that was made, also after a failure; every call is made, the last error is the phase's (as
 * crashgrid's free phase reports it). */
static int free_all(struct made* m, char* err, size_t n) {
  int all = 1;
  char e[256] = "";
  for (int i = 0; i < m->nevents; ++i)
    if (cu_ok(cu.EventDestroy(m->events[i]), "cuEventDestroy", e, sizeof e) != 0) all = 0;
  for (int i = 0; i < m->nstreams; ++i)
    if (cu_ok(cu.StreamDestroy(m->streams[i]), "cuStreamDestroy", e, sizeof e) != 0) all = 0;
  for (int i = 0; i < m->nptrs; ++i)
    if (cu_ok(cu.MemFree(m->ptrs[i]), "cuMemFree", e, sizeof e) != 0) all = 0;
  if (!all) repro_say(err, n, "%s", e);
  return all ? 0 : -1;
}

static int ctx_destroy(struct made* m, char* err, size_t n) {
  if (!g_per_thread) return cu_ok(cu.CtxSetCurrent(NULL), "cuCtxSetCurrent(NULL)", err, n);
  if (!m->own) return 0;
  CUcontext ctx = m->own;
  m->own = NULL;
  return cu_ok(cu.CtxDestroy(ctx), "cuCtxDestroy", err, n);
}

int repro_workload_iterate(int thread, int64_t iteration, char* err, size_t err_size) {
  (void)thread, (void)iteration;
  struct repro_errs e;
  repro_errs_start(&e, err, err_size);
  if (g_sync && repro_threads() > 1) meet();
  CUdeviceptr ptrs[1024];
  CUstream streams[256];
  CUevent events[256];
  struct made m = {NULL, ptrs, 0, streams, 0, events, 0};
  if (!REPRO_PHASE(&e, "ctx-create", ctx_create(&m, REPRO_ERR_BUF(&e), REPRO_ERR_CAP(&e)))) return -1;
  int ok = REPRO_PHASE(&e, "alloc", alloc(&m, REPRO_ERR_BUF(&e), REPRO_ERR_CAP(&e)));
  if (ok) ok = REPRO_PHASE(&e, "stream", stream(&m, REPRO_ERR_BUF(&e), REPRO_ERR_CAP(&e)));
  if (ok) ok = REPRO_PHASE(&e, "event", event(&m, REPRO_ERR_BUF(&e), REPRO_ERR_CAP(&e)));
  /* Tear down whatever was made, also after a failure, so a failing iteration does not leak device memory. */
  REPRO_PHASE(&e, "free", free_all(&m, REPRO_ERR_BUF(&e), REPRO_ERR_CAP(&e)));
  REPRO_PHASE(&e, "ctx-destroy", ctx_destroy(&m, REPRO_ERR_BUF(&e), REPRO_ERR_CAP(&e)));
  return e.count ? -1 : 0;
}

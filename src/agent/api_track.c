// API-call tracking and --serialize, the half of libcrashgrid_agent.so that sits between a program and the
// NVIDIA and GStreamer libraries it calls. The block it writes is struct agent_api (src/agent/agent_block.h).
//
// How calls reach the agent, and why this way:
//   - Direct binding: the agent exports the entry points (cuInit, cuvidDestroyDecoder, gst_element_set_state,
//     ... CG_API_HOOKS in api_names.h); preloaded, it comes before the real library in the lookup order, so
//     the program's PLT calls land here and the agent calls the next definition (dlsym RTLD_NEXT, at first call).
//   - dlsym: interposed. A lookup of a tracked name returns a trampoline from a fixed pool (DYN_HOOKS) that
//     calls what the real dlsym returned. LD_AUDIT's la_symbind64 was the alternative: it needs a second
//     library loaded into its own link namespace in every trial process (a start-up cost on every exec, which
//     issue 10 measures), sees only objects la_objopen asked for, and its wrappers would live in the other
//     namespace with their own libc and TLS. Interposing dlsym costs nothing at start-up; the one subtlety is
//     RTLD_NEXT, whose meaning depends on the caller's address: those lookups are handed to the real dlsym as
//     a sibling call (a jump), so it sees the program's return address (the agent is always built with -O2,
//     src/CMakeLists.txt; agent_test checks RTLD_NEXT from a program).
//   - cuGetProcAddress (how libcudart and newer drivers' users reach every entry point) and eglGetProcAddress
//     (how EGL stream extension functions are found): what they return for a tracked name is wrapped.
//   - NvEncodeAPICreateInstance fills a table of function pointers: the known entries are wrapped.
// Every wrapper has one shape, sixteen integer arguments in and one integer out: the CUDA driver API, NVDEC,
// NVENC, the EGL stream functions and the GStreamer calls tracked take only integers and pointers, return an
// integer or a pointer, and none is variadic (gst_element_link_many is not tracked; it calls
// gst_element_link, which is). With the System V x86-64 convention the first six words travel in registers
// and the rest on the stack, and a wrapper hands on the ten stack words it was given in the same places; so a
// struct passed by value also arrives intact as long as it and the arguments after it fit in those ten words:
// cuEGLStreamProducerPresentFrame's CUeglFrame is 64 bytes (8 words, on the stack). Twelve words (six on the
// stack) cut its last two fields, and the driver refused every frame (CUDA_ERROR_INVALID_VALUE: the eglstream
// workload on the H200, 2026-12-04; tests/integration/api_test.cc AStructPassedByValue...). Under AAPCS64 a
// struct over 16 bytes is passed by reference, an integer. The extra words read harmless words of the
// caller's frame. No tracked function takes a floating-point argument (those travel in vector registers,
// which the wrapper's own code may use).
//
// Off (no block, or CRASHGRID_API=off), every interposed function costs one load and a branch.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fnmatch.h>
#include <link.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent_internal.h"
#include "agent/api_names.h"

#define EXPORT __attribute__((visibility("default")))
#define TLS_IE __attribute__((tls_model("initial-exec")))

#define A16                                                                                                   \
  uintptr_t a0, uintptr_t a1, uintptr_t a2, uintptr_t a3, uintptr_t a4, uintptr_t a5, uintptr_t a6, uintptr_t a7, \
      uintptr_t a8, uintptr_t a9, uintptr_t a10, uintptr_t a11, uintptr_t a12, uintptr_t a13, uintptr_t a14,       \
      uintptr_t a15
#define P16 a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15
typedef uintptr_t (*fn16)(A16);

enum hook_kind {
  K_PLAIN = 0,
  K_GETPROC = 1, /* cuGetProcAddress(name, void** pfn, ...): wraps *pfn */
  K_EGLPROC = 2, /* eglGetProcAddress(name): wraps the result */
  K_NVENC = 3,   /* NvEncodeAPICreateInstance(NV_ENCODE_API_FUNCTION_LIST*): wraps the table */
  K_UNREF = 4,   /* gst_object_unref(obj): tracked for pipelines only */
};

struct hook {
  void* real;       /* what the call goes to; atomic */
  const char* name; /* static hooks: the exported name; dynamic ones: name_buf */
  char name_buf[AGENT_API_NAME_MAX];
  uint32_t id;   /* name id in the block, 0 before the first tracked call, UINT32_MAX when the table is full */
  int serialize; /* -1 not decided yet, else 0 or 1 */
  int kind;
};

// ---- state set once by cg_api_init ----

static int g_track;  // tracking (or serializing) on
static struct agent_api* g_api;
static const char* g_serialize;  // CRASHGRID_SERIALIZE, "" for none
static pthread_key_t g_slot_key;
static int g_slot_key_ok;
static pthread_mutex_t g_serial_lock = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;

// ---- the real dlsym ----

typedef void* (*dlsym_fn)(void*, const char*);
static dlsym_fn g_real_dlsym;

static dlsym_fn real_dlsym(void) {
  dlsym_fn f = __atomic_load_n(&g_real_dlsym, __ATOMIC_ACQUIRE);
  if (f) return f;
  // dlvsym is not interposed; called from here, RTLD_NEXT means "after the agent": libc's (or libdl's) dlsym.
  static const char* const versions[] = {"GLIBC_2.34", "GLIBC_2.2.5", "GLIBC_2.17", "GLIBC_2.0"};
  for (size_t i = 0; i < sizeof versions / sizeof versions[0] && !f; ++i) {
    f = (dlsym_fn)dlvsym(RTLD_NEXT, "dlsym", versions[i]);
  }
  if (f) __atomic_store_n(&g_real_dlsym, f, __ATOMIC_RELEASE);
  return f;
}

void* cg_next_symbol(const char* name) {
  dlsym_fn f = real_dlsym();
  return f ? f(RTLD_NEXT, name) : NULL;
}

// ---- what is tracked ----

static int starts_with(const char* s, const char* prefix) { return strncmp(s, prefix, strlen(prefix)) == 0; }

// A name whose calls are tracked, and how: 1 with *kind set, else 0.
static int tracked_name(const char* name, int* kind) {
  *kind = K_PLAIN;
  if (strcmp(name, "cuGetProcAddress") == 0 || strcmp(name, "cuGetProcAddress_v2") == 0) {
    *kind = K_GETPROC;
    return 1;
  }
  if (strcmp(name, "eglGetProcAddress") == 0) {
    *kind = K_EGLPROC;
    return 1;
  }
  if (strcmp(name, "NvEncodeAPICreateInstance") == 0) {
    *kind = K_NVENC;
    return 1;
  }
  if (strcmp(name, "gst_object_unref") == 0) {
    *kind = K_UNREF;
    return 1;
  }
  if (strcmp(name, "gst_element_link_many") == 0) return 0;  // variadic
  for (size_t i = 0; i < sizeof cg_api_tracked_prefixes / sizeof cg_api_tracked_prefixes[0]; ++i) {
    if (starts_with(name, cg_api_tracked_prefixes[i])) return 1;
  }
  return 0;
}

// --serialize: groups (src/agent/api_names.h) or fnmatch globs, comma-separated.
static int in_group(const char* group, size_t n, const char* name) {
  if (n == 3 && strncmp(group, "all", 3) == 0) return 1;
  if (n == 4 && strncmp(group, "none", 4) == 0) return 0;
  const struct cg_api_group* g = cg_api_find_group(group, n);
  if (g) return cg_api_group_contains(g, name);
  char glob[AGENT_API_NAME_MAX * 2];
  if (n >= sizeof glob) return 0;
  memcpy(glob, group, n);
  glob[n] = 0;
  return fnmatch(glob, name, 0) == 0;
}

// Items are joined by ',' (CRASHGRID_SERIALIZE=cuvid,gst-state) or '+' (a grid value: serialize=cuvid+nvenc).
static int serialized(const char* name) {
  const char* s = g_serialize;
  while (s && *s) {
    const char* end = strpbrk(s, ",+");
    size_t n = end ? (size_t)(end - s) : strlen(s);
    if (n > 0 && in_group(s, n, name)) return 1;
    s = end ? end + 1 : NULL;
  }
  return 0;
}

// ---- the name table and the thread slots in the block ----

static uint32_t register_name(const char* name) {
  struct agent_api* a = g_api;
  uint32_t used = __atomic_load_n(&a->names_used, __ATOMIC_ACQUIRE);
  if (used > AGENT_API_NAMES) used = AGENT_API_NAMES;
  for (uint32_t i = 0; i < used; ++i) {
    if (__atomic_load_n(&a->names[i].ready, __ATOMIC_ACQUIRE) &&
        strncmp(a->names[i].name, name, AGENT_API_NAME_MAX) == 0) {
      return i + 1;
    }
  }
  // Another process (or thread) may register the same name meanwhile: a duplicate entry, read back by name.
  uint32_t i = __atomic_fetch_add(&a->names_used, 1, __ATOMIC_ACQ_REL);
  if (i >= AGENT_API_NAMES) return UINT32_MAX;
  strncpy(a->names[i].name, name, AGENT_API_NAME_MAX - 1);
  a->names[i].name[AGENT_API_NAME_MAX - 1] = 0;
  __atomic_store_n(&a->names[i].ready, 1, __ATOMIC_RELEASE);
  return i + 1;
}

static uint32_t hook_id(struct hook* h) {
  uint32_t id = __atomic_load_n(&h->id, __ATOMIC_ACQUIRE);
  if (id) return id == UINT32_MAX ? 0 : id;
  id = register_name(h->name);
  __atomic_store_n(&h->serialize, serialized(h->name), __ATOMIC_RELEASE);
  __atomic_store_n(&h->id, id, __ATOMIC_RELEASE);
  return id == UINT32_MAX ? 0 : id;
}

static __thread struct agent_api_thread* t_slot TLS_IE;
static __thread int t_no_slot TLS_IE;
static unsigned g_slot_hint;
static int g_claimed_here;  // a thread of this process took a slot (so exit has slots to free)

static void release_slot(void* p) {
  struct agent_api_thread* t = p;
  __atomic_store_n(&t->phase, 0, __ATOMIC_RELAXED);
  __atomic_store_n(&t->call, 0, __ATOMIC_RELAXED);
  __atomic_store_n(&t->outer, 0, __ATOMIC_RELAXED);
  __atomic_store_n(&t->depth, 0, __ATOMIC_RELAXED);
  __atomic_store_n(&t->tid, 0, __ATOMIC_RELEASE);
  t_slot = NULL;
  t_no_slot = 1;  // a key destructor is the thread's last act
}

static struct agent_api_thread* thread_slot(void) {
  struct agent_api_thread* t = t_slot;
  if (t || t_no_slot) return t;
  int32_t tid = (int32_t)syscall(SYS_gettid), pid = (int32_t)syscall(SYS_getpid);
  unsigned start = __atomic_fetch_add(&g_slot_hint, 1, __ATOMIC_RELAXED);
  for (unsigned i = 0; i < AGENT_API_THREADS; ++i) {
    struct agent_api_thread* s = &g_api->threads[(start + i) % AGENT_API_THREADS];
    int32_t expected = 0;
    if (__atomic_load_n(&s->tid, __ATOMIC_RELAXED) != 0 ||
        !__atomic_compare_exchange_n(&s->tid, &expected, tid, 0, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
      continue;
    }
    __atomic_store_n(&s->pid, pid, __ATOMIC_RELAXED);
    __atomic_store_n(&s->call, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&s->outer, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&s->depth, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&s->calls, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&s->phase, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&s->iterations, 0, __ATOMIC_RELAXED);
    t_slot = s;
    __atomic_store_n(&g_claimed_here, 1, __ATOMIC_RELAXED);
    if (g_slot_key_ok) pthread_setspecific(g_slot_key, s);
    return s;
  }
  t_no_slot = 1;
  __atomic_add_fetch(&g_api->threads_dropped, 1, __ATOMIC_RELAXED);
  return NULL;
}

struct agent_api* cg_api_region(void) { return g_api; }

struct agent_api_thread* cg_api_thread_slot(void) { return g_api ? thread_slot() : NULL; }

// Slots of this process's threads: freed at a normal exit, and at load (what an image before exec() left).
static void free_own_slots(void) {
  if (!g_api) return;
  int32_t pid = (int32_t)syscall(SYS_getpid);
  for (unsigned i = 0; i < AGENT_API_THREADS; ++i) {
    struct agent_api_thread* s = &g_api->threads[i];
    if (__atomic_load_n(&s->tid, __ATOMIC_ACQUIRE) != 0 && __atomic_load_n(&s->pid, __ATOMIC_RELAXED) == pid) {
      __atomic_store_n(&s->depth, 0, __ATOMIC_RELAXED);
      __atomic_store_n(&s->phase, 0, __ATOMIC_RELAXED);
      __atomic_store_n(&s->call, 0, __ATOMIC_RELAXED);
      __atomic_store_n(&s->outer, 0, __ATOMIC_RELAXED);
      __atomic_store_n(&s->tid, 0, __ATOMIC_RELEASE);
    }
  }
}

__attribute__((destructor)) static void api_fini(void) {
  // Threads still in a call at exit() keep running a little longer: they no longer appear in a report.
  if (__atomic_load_n(&g_claimed_here, __ATOMIC_RELAXED)) free_own_slots();
}

// The entry time of a call, for "in cuvidDestroyDecoder for 12.3 s" in a hang: CLOCK_MONOTONIC_COARSE (a tick's
// resolution, a few ms) costs a load from the vDSO page; CLOCK_MONOTONIC cost ~300 ns a call on the 2-core VM
// (bench/results/api-tracking.md), more than the rest of the wrapper together.
static int64_t coarse_mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

// ---- wrapping pointers: the dynamic pool ----

#define DYN_HOOKS 512
static struct hook g_dyn[DYN_HOOKS];
static unsigned g_dyn_used;
static int g_dyn_lock;

static uintptr_t api_call(struct hook* h, A16);
static int is_static_export(const void* p);

// 512 trampolines, tramp_000 .. tramp_777: the digits are octal, so g_dyn[0DDD] is slot DDD in base 8.
#define TR(d) \
  static uintptr_t tramp_##d(A16) { return api_call(&g_dyn[0##d], P16); }
#define TR_C(a, b, c) TR(a##b##c)
#define TR_B(a, b) \
  TR_C(a, b, 0) TR_C(a, b, 1) TR_C(a, b, 2) TR_C(a, b, 3) TR_C(a, b, 4) TR_C(a, b, 5) TR_C(a, b, 6) TR_C(a, b, 7)
#define TR_A(a) TR_B(a, 0) TR_B(a, 1) TR_B(a, 2) TR_B(a, 3) TR_B(a, 4) TR_B(a, 5) TR_B(a, 6) TR_B(a, 7)
TR_A(0) TR_A(1) TR_A(2) TR_A(3) TR_A(4) TR_A(5) TR_A(6) TR_A(7)
#undef TR
#undef TR_C
#define TR(d) (void*)tramp_##d,
#define TR_C(a, b, c) TR(a##b##c)
static void* const g_dyn_tramp[DYN_HOOKS] = {TR_A(0) TR_A(1) TR_A(2) TR_A(3) TR_A(4) TR_A(5) TR_A(6) TR_A(7)};
#undef TR
#undef TR_C
#undef TR_B
#undef TR_A

// A tracked function reached through a pointer: the trampoline that calls it (the same one for the same
// function), or `p` itself when the name is not tracked or the pool is full.
static void* wrap_pointer(const char* name, void* p) {
  int kind;
  if (!p || !name || !tracked_name(name, &kind) || is_static_export(p)) return p;  // the latter: tracked already
  void* out = p;
  while (__atomic_test_and_set(&g_dyn_lock, __ATOMIC_ACQUIRE)) {
  }
  unsigned used = g_dyn_used;
  unsigned i = 0;
  for (; i < used; ++i) {
    if (__atomic_load_n(&g_dyn[i].real, __ATOMIC_RELAXED) == p) break;
  }
  if (i < used) {
    out = g_dyn_tramp[i];
  } else if (used < DYN_HOOKS) {
    struct hook* h = &g_dyn[used];
    size_t n = 0;
    // The name came from the program: only an identifier's characters go into the block.
    for (; name[n] && n < AGENT_API_NAME_MAX - 1; ++n) {
      char c = name[n];
      int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
      h->name_buf[n] = ok ? c : '?';
    }
    h->name_buf[n] = 0;
    h->name = h->name_buf;
    h->kind = kind;
    h->serialize = -1;
    __atomic_store_n(&h->real, p, __ATOMIC_RELEASE);
    __atomic_store_n(&g_dyn_used, used + 1, __ATOMIC_RELEASE);
    out = g_dyn_tramp[used];
  }
  __atomic_clear(&g_dyn_lock, __ATOMIC_RELEASE);
  return out;
}

// The NVENC function table: its entries in cg_api_nvenc_table's order (api_names.h).
static void wrap_nvenc_table(uintptr_t list) {
  void** fns = (void**)(list + 8);
  for (size_t i = 0; i < sizeof cg_api_nvenc_table / sizeof cg_api_nvenc_table[0]; ++i) {
    if (cg_api_nvenc_table[i][0] && fns[i]) fns[i] = wrap_pointer(cg_api_nvenc_table[i], fns[i]);
  }
}

// gst_object_unref is tracked for pipelines only (every GStreamer object goes through it).
typedef uintptr_t (*gtype_fn)(void);
typedef int (*is_a_fn)(void*, uintptr_t);
static int is_pipeline(uintptr_t obj) {
  static uintptr_t pipeline_type;
  static is_a_fn is_a;
  if (!obj) return 0;
  if (!__atomic_load_n(&is_a, __ATOMIC_ACQUIRE)) {
    dlsym_fn d = real_dlsym();
    gtype_fn get_type = d ? (gtype_fn)d(RTLD_DEFAULT, "gst_pipeline_get_type") : NULL;
    is_a_fn f = d ? (is_a_fn)d(RTLD_DEFAULT, "g_type_check_instance_is_a") : NULL;
    if (!get_type || !f) return 0;
    __atomic_store_n(&pipeline_type, get_type(), __ATOMIC_RELEASE);
    __atomic_store_n(&is_a, f, __ATOMIC_RELEASE);
  }
  return is_a((void*)obj, __atomic_load_n(&pipeline_type, __ATOMIC_ACQUIRE)) != 0;
}

// ---- the call ----

__attribute__((noinline)) static uintptr_t tracked_call(struct hook* h, fn16 real, A16) {
  if (h->kind == K_UNREF && !is_pipeline(a0)) return real(P16);
  int quiet = h->kind == K_GETPROC || h->kind == K_EGLPROC;  // lookups, not calls anyone asks about
  uint32_t id = quiet ? 0 : hook_id(h);
  int serial = !quiet && __atomic_load_n(&h->serialize, __ATOMIC_ACQUIRE) == 1;
  struct agent_api_thread* t = id ? thread_slot() : NULL;
  uint32_t prev = 0;
  int64_t prev_ns = 0;
  if (t) {
    int64_t now = coarse_mono_ns();
    prev = __atomic_load_n(&t->call, __ATOMIC_RELAXED);
    prev_ns = __atomic_load_n(&t->call_mono_ns, __ATOMIC_RELAXED);
    int32_t depth = __atomic_load_n(&t->depth, __ATOMIC_RELAXED);
    if (depth == 0) {
      __atomic_store_n(&t->outer_mono_ns, now, __ATOMIC_RELAXED);
      __atomic_store_n(&t->outer_arg, (uint64_t)a1, __ATOMIC_RELAXED);
      __atomic_store_n(&t->outer, id, __ATOMIC_RELAXED);
    }
    __atomic_store_n(&t->call_mono_ns, now, __ATOMIC_RELAXED);
    __atomic_store_n(&t->call, id, __ATOMIC_RELAXED);
    __atomic_store_n(&t->depth, depth + 1, __ATOMIC_RELAXED);
    __atomic_store_n(&t->calls, __atomic_load_n(&t->calls, __ATOMIC_RELAXED) + 1, __ATOMIC_RELAXED);
  }
  if (id) __atomic_add_fetch(&g_api->names[id - 1].calls, 1, __ATOMIC_RELAXED);
  // --amplify: a wait before the call (and before its lock: a delay must not hold other threads back), so the
  // window between what the program did before it and what the call does opens wide. Shown as in the call.
  if (!quiet && __atomic_load_n(&cg_amp_on, __ATOMIC_RELAXED)) cg_amp_point(CG_AMP_API_ENTRY);
  if (serial) pthread_mutex_lock(&g_serial_lock);
  uintptr_t rc = real(P16);
  if (serial) pthread_mutex_unlock(&g_serial_lock);
  if (t) {
    int32_t depth = __atomic_load_n(&t->depth, __ATOMIC_RELAXED) - 1;
    __atomic_store_n(&t->call, prev, __ATOMIC_RELAXED);
    __atomic_store_n(&t->call_mono_ns, prev_ns, __ATOMIC_RELAXED);
    __atomic_store_n(&t->depth, depth, __ATOMIC_RELAXED);
    if (depth <= 0) __atomic_store_n(&t->outer, 0, __ATOMIC_RELAXED);
  }
  if (h->kind == K_GETPROC && rc == 0 && a1) {
    void** pfn = (void**)a1;
    *pfn = wrap_pointer((const char*)a0, *pfn);
  } else if (h->kind == K_EGLPROC) {
    rc = (uintptr_t)wrap_pointer((const char*)a0, (void*)rc);
  } else if (h->kind == K_NVENC && rc == 0 && a0) {
    wrap_nvenc_table(a0);
  }
  return rc;
}

// What a call to a missing function returns: CUDA_ERROR_UNKNOWN for the CUDA driver and NVDEC,
// NV_ENC_ERR_NO_ENCODE_DEVICE for NVENC, 0 (NULL, FALSE, GST_STATE_CHANGE_FAILURE) for the others.
static uintptr_t missing_result(const struct hook* h) {
  if (starts_with(h->name, "cu")) return 999;
  if (starts_with(h->name, "NvEncode")) return 1;
  return 0;
}

#define FIND_OBJECTS 256
struct find_arg {
  const char* names[FIND_OBJECTS];
  int n;
};

static int collect_object(struct dl_phdr_info* info, size_t size, void* argp) {
  (void)size;
  struct find_arg* arg = argp;
  if (!info->dlpi_name || !info->dlpi_name[0] || strstr(info->dlpi_name, "libcrashgrid_agent")) return 0;
  if (arg->n < FIND_OBJECTS) arg->names[arg->n++] = info->dlpi_name;
  return 0;
}

// The definition a static hook stands for: the next one after the agent in the global scope, else one in a
// library loaded with RTLD_LOCAL (dlopen'ed NVIDIA libraries are; their own calls of their exported functions
// still bind to the agent's export, through the global scope that comes first). The objects are listed first
// and opened after: dlopen inside dl_iterate_phdr's callback would take the loader's lock again.
static void* find_real(const char* name) {
  void* p = cg_next_symbol(name);
  if (p) return p;
  static struct find_arg arg;  // one lookup at a time: a hook's first call, rare
  static int lock;
  while (__atomic_test_and_set(&lock, __ATOMIC_ACQUIRE)) {
  }
  arg.n = 0;
  dl_iterate_phdr(collect_object, &arg);
  dlsym_fn d = real_dlsym();
  for (int i = 0; i < arg.n && d && !p; ++i) {
    void* handle = dlopen(arg.names[i], RTLD_LAZY | RTLD_NOLOAD);
    if (!handle) continue;
    void* q = d(handle, name);
    dlclose(handle);
    if (q && !is_static_export(q)) p = q;
  }
  __atomic_clear(&lock, __ATOMIC_RELEASE);
  return p;
}

static uintptr_t api_call(struct hook* h, A16) {
  fn16 real = (fn16)__atomic_load_n(&h->real, __ATOMIC_ACQUIRE);
  if (!real) {
    real = (fn16)find_real(h->name);  // a static hook's first call (dynamic ones always have real)
    if (!real) return missing_result(h);
    __atomic_store_n(&h->real, (void*)real, __ATOMIC_RELEASE);
  }
  if (!__atomic_load_n(&g_track, __ATOMIC_RELAXED)) return real(P16);
  return tracked_call(h, real, P16);
}

// ---- the exported entry points (direct binding) ----


#define ENUM(name, kind) H_##name,
enum { CG_API_HOOKS(ENUM) H_COUNT };
#undef ENUM
#define ENTRY(n, k) {.name = #n, .kind = k, .serialize = -1},
static struct hook g_static[H_COUNT] = {CG_API_HOOKS(ENTRY)};
#undef ENTRY
// Each export is an alias of a local function: the tables below then hold link-time addresses (relative
// relocations, no symbol lookups at load), and a dlsym that finds the export returns the same address.
#define DEFINE(n, k)                                                                      \
  static uintptr_t hook_##n(A16) { return api_call(&g_static[H_##n], P16); }              \
  extern __typeof(hook_##n) n __attribute__((alias("hook_" #n), visibility("default")));
CG_API_HOOKS(DEFINE)
#undef DEFINE
#define ADDR(n, k) (void*)hook_##n,
static void* const g_static_fn[H_COUNT] = {CG_API_HOOKS(ADDR)};
#undef ADDR

static int is_static_export(const void* p) {
  for (int i = 0; i < H_COUNT; ++i) {
    if (p == g_static_fn[i]) return 1;
  }
  return 0;
}

// ---- dlsym ----

static void* tracked_dlsym(void* p, const char* name) {
  if (!p || !name) return p;
  for (int i = 0; i < H_COUNT; ++i) {
    if (p != g_static_fn[i]) continue;
    // The lookup found the agent's own export (RTLD_DEFAULT, or a handle whose search reaches the agent): it
    // stands for the real function, and when there is none the program must see NULL, not a wrapper that
    // fails, as it would without crashgrid.
    if (!__atomic_load_n(&g_static[i].real, __ATOMIC_ACQUIRE)) {
      void* real = find_real(g_static[i].name);
      if (!real) return NULL;
      __atomic_store_n(&g_static[i].real, real, __ATOMIC_RELEASE);
    }
    return p;
  }
  return wrap_pointer(name, p);
}

EXPORT void* dlsym(void* handle, const char* name) {
  dlsym_fn real = real_dlsym();
  if (!real) return NULL;
  // A sibling call: the real dlsym must see the caller's return address for RTLD_NEXT.
  if (handle == RTLD_NEXT || !__atomic_load_n(&g_track, __ATOMIC_RELAXED)) return real(handle, name);
  return tracked_dlsym(real(handle, name), name);
}

// ---- set-up ----

void cg_api_init(struct agent_block* block) {
  if (!block) return;
  const char* serialize = getenv(AGENT_ENV_SERIALIZE);
  g_serialize = serialize ? serialize : "";
  g_slot_key_ok = pthread_key_create(&g_slot_key, release_slot) == 0;
  // The slots are there with CRASHGRID_API=off too: a program's own phases (crashgrid.h) live in them.
  g_api = (struct agent_api*)((char*)block + AGENT_API_OFFSET);
  // Slots an image of this process had before exec(); the trial's first process has none (and the scan would
  // fault in the table's pages at every exec).
  if (__atomic_load_n(&block->processes_loaded, __ATOMIC_ACQUIRE) > 1) free_own_slots();
  const char* mode = getenv(AGENT_ENV_API);
  if (mode && strcmp(mode, "off") == 0) return;
  __atomic_store_n(&g_track, 1, __ATOMIC_RELEASE);
}

void cg_api_after_fork_child(void) {
  t_slot = NULL;
  t_no_slot = 0;
  if (g_slot_key_ok) pthread_setspecific(g_slot_key, NULL);
  pthread_mutex_t fresh = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
  g_serial_lock = fresh;  // held by a thread of the parent that does not exist here
}

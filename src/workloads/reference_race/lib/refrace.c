/* The reference target's deliberate race. See refrace.h for the contract.
 *
 * Built with -O1 -fno-inline so that every function below shows up as its own frame in a crash stack.
 *
 * Where the tables live: each table gets a fresh address from a private window far below the usual mmap
 * area, and a gap is left between tables. Without that, the kernel would hand an unmapped table's address
 * to the next mmap (a malloc arena, a thread stack), and a stale write would corrupt someone else's memory
 * and crash far away from here, or not at all. With it, a stale access always lands on unmapped memory and
 * faults in this library with SEGV_MAPERR, which is what the reference target is for. */
#define _GNU_SOURCE
#include "refrace.h"

#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define REFRACE_TABLE_CAPACITY 4096u /* slots per table; a full table is re-mapped */
#define REFRACE_TABLE_KEEP 32u       /* newest entries carried into the new table */
#define REFRACE_CHECK_ENTRIES 24u    /* entries the registry check walks on every open */
#define REFRACE_BUFFER_WORDS 2048u   /* 16 KiB of private memory per session */
#define REFRACE_WINDOW_BASE 0x100000000000ull /* 16 TiB: far below the mmap base, far above the heap */
#define REFRACE_WINDOW_TABLES (1u << 20)
#define REFRACE_GAP (64u * 1024u)

struct refrace_slot {
  uint64_t session_id;
  uint64_t owner;
  uint64_t stamp;
};

struct refrace_table {
  uint64_t capacity;
  uint64_t count;
  uint64_t generation;
  uint64_t checksum;
  struct refrace_slot slots[];
};

struct refrace_session {
  uint64_t id;
  uint64_t owner;
  uint64_t stamp;
  uint64_t* buffer;
};

/* The device context. Deliberately a plain (volatile, so each use re-reads it) pointer with no lock. */
static struct refrace_table* volatile g_table;
static _Atomic uint64_t g_next_window_slot;
static _Atomic uint64_t g_next_session_id;
static _Atomic uint64_t g_generation;
static _Atomic int g_device_refs;

static size_t refrace_table_bytes(void) {
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  size_t bytes = sizeof(struct refrace_table) + REFRACE_TABLE_CAPACITY * sizeof(struct refrace_slot);
  return (bytes + page - 1) / page * page;
}

/* A zeroed table at an address no other mapping has used recently (see the comment at the top). The
 * address allocator itself is thread-safe: only the table pointer is raced on. */
static struct refrace_table* refrace_table_map(void) {
  size_t bytes = refrace_table_bytes();
  size_t stride = bytes + REFRACE_GAP;
  for (int tries = 0; tries < 64; ++tries) {
    uint64_t k = atomic_fetch_add(&g_next_window_slot, 1) % REFRACE_WINDOW_TABLES;
    void* want = (void*)(uintptr_t)(REFRACE_WINDOW_BASE + k * stride);
    void* p = mmap(want, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (p != MAP_FAILED) {
      struct refrace_table* t = p;
      t->capacity = REFRACE_TABLE_CAPACITY;
      return t;
    }
    if (errno != EEXIST) break;
  }
  void* p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return NULL;
  struct refrace_table* t = p;
  t->capacity = REFRACE_TABLE_CAPACITY;
  return t;
}

int refrace_device_open(void) {
  if (atomic_fetch_add(&g_device_refs, 1) > 0) return 0;
  struct refrace_table* t = refrace_table_map();
  if (!t) {
    atomic_fetch_sub(&g_device_refs, 1);
    errno = ENOMEM;
    return -1;
  }
  g_table = t;
  return 0;
}

void refrace_device_close(void) {
  if (atomic_fetch_sub(&g_device_refs, 1) != 1) return;
  struct refrace_table* t = g_table;
  g_table = NULL;
  if (t) munmap(t, refrace_table_bytes());
}

/* Replaces a full table by a new mapping holding its newest entries, publishes it, and unmaps the old one.
 * The race: another thread that loaded g_table before the store below still uses `old` afterwards. */
static struct refrace_table* refrace_table_compact(struct refrace_table* old) {
  struct refrace_table* t = refrace_table_map();
  if (!t) return old;
  uint64_t n = old->count;
  if (n > old->capacity) n = old->capacity;
  uint64_t first = n > REFRACE_TABLE_KEEP ? n - REFRACE_TABLE_KEEP : 0;
  memcpy(t->slots, &old->slots[first], (size_t)(n - first) * sizeof(struct refrace_slot));
  t->count = n - first;
  t->generation = old->generation + 1;
  t->checksum = old->checksum;
  atomic_fetch_add(&g_generation, 1);
  g_table = t;
  munmap(old, refrace_table_bytes());
  return t;
}

/* The driver "validates" the registry before handing out a session: a walk over the newest entries. */
static uint64_t refrace_registry_check(struct refrace_table* t, uint64_t owner) {
  uint64_t n = t->count;
  if (n > t->capacity) n = t->capacity;
  uint64_t first = n > REFRACE_CHECK_ENTRIES ? n - REFRACE_CHECK_ENTRIES : 0;
  uint64_t h = owner * 0x9e3779b97f4a7c15ull;
  for (uint64_t i = first; i < n; ++i) {
    h ^= t->slots[i].session_id + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    h ^= t->slots[i].owner;
  }
  return h;
}

static void refrace_registry_insert(struct refrace_table* t, const struct refrace_session* s) {
  uint64_t n = t->count;
  if (n >= t->capacity) return; /* lost to a concurrent open; the next open re-maps */
  t->slots[n].session_id = s->id;
  t->slots[n].owner = s->owner;
  t->slots[n].stamp = s->stamp;
  t->checksum ^= s->stamp;
  t->count = n + 1;
}

refrace_session* refrace_session_open(uint64_t owner) {
  struct refrace_session* s = malloc(sizeof *s);
  if (!s) return NULL;
  s->buffer = malloc(REFRACE_BUFFER_WORDS * sizeof(uint64_t));
  if (!s->buffer) {
    free(s);
    return NULL;
  }
  s->id = atomic_fetch_add(&g_next_session_id, 1) + 1;
  s->owner = owner;
  struct refrace_table* t = g_table; /* the snapshot that goes stale */
  if (t->count >= t->capacity) t = refrace_table_compact(t);
  s->stamp = refrace_registry_check(t, owner);
  for (uint32_t i = 0; i < REFRACE_BUFFER_WORDS; ++i) s->buffer[i] = s->stamp + i;
  refrace_registry_insert(t, s);
  return s;
}

uint64_t refrace_session_use(refrace_session* s, unsigned passes) {
  uint64_t x = s->stamp | 1;
  for (unsigned p = 0; p < passes; ++p) {
    for (uint32_t i = 0; i < REFRACE_BUFFER_WORDS; ++i) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      s->buffer[i] += x;
    }
  }
  return x;
}

void refrace_session_close(refrace_session* s) {
  if (!s) return;
  free(s->buffer);
  free(s);
}

uint64_t refrace_table_generation(void) { return atomic_load(&g_generation); }

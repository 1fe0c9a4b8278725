// --amplify in the trial: the delays at thread starts (crashgrid_agent.c: the new thread in start_thunk, and its
// creator after pthread_create returns), tracked API entries
// (api_track.c's tracked_call) and phase entries (a built-in workload's, through crashgrid_amplify_v1, and a
// program's own CRASHGRID_PHASE). The decisions are amplify.h's; this file holds the state and waits.
//
// No lock, no malloc: each thread draws from its own stream in initial-exec TLS, seeded at its first point
// from the trial's seed, the process's ordinal in the trial and the thread's ordinal in the process. The
// ordinals follow the order threads reach their first point, which the scheduler decides: the same seed gives
// the same decisions to the same (process, thread) ordinal, not the same interleaving.
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "agent/agent_internal.h"
#include "agent/amplify.h"

#define EXPORT __attribute__((visibility("default")))
#define TLS_IE __attribute__((tls_model("initial-exec")))

int cg_amp_on;  // read by the hooks' one branch
static uint64_t g_seed;
static uint64_t g_process;
static uint64_t g_threshold[3];
static unsigned g_thread_ordinal;  // the next thread's (0 is the thread that loaded the agent)
static struct agent_amplify* g_stats;

static __thread uint64_t t_state TLS_IE;
static __thread int t_ready TLS_IE;

static int64_t mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void wait_ns(uint64_t ns) {
  if (ns < AMP_SPIN_BELOW_NS) {
    int64_t end = mono_ns() + (int64_t)ns;
    while (mono_ns() < end) __asm__ volatile("" ::: "memory");
    return;
  }
  struct timespec ts = {(time_t)(ns / 1000000000u), (long)(ns % 1000000000u)};
  int saved = errno;  // a program reading errno after an API call must see the call's, not ours
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
  errno = saved;
}

void cg_amp_point(int kind) {
  if (!t_ready) {
    unsigned ordinal = __atomic_fetch_add(&g_thread_ordinal, 1, __ATOMIC_RELAXED);
    t_state = cg_amp_thread_state(g_seed, g_process, ordinal);
    t_ready = 1;
  }
  uint64_t ns = cg_amp_decide(&t_state, g_threshold[kind]);
  if (!ns) return;
  if (g_stats) {
    __atomic_add_fetch(&g_stats->delays, 1, __ATOMIC_RELAXED);
    __atomic_add_fetch(&g_stats->delay_ns, ns, __ATOMIC_RELAXED);
  }
  wait_ns(ns);
}

void cg_amp_init(struct agent_block* block) {
  double p = cg_amp_parse_p(getenv(AGENT_ENV_AMPLIFY));
  if (!(p > 0)) return;
  int ok = 0;
  g_seed = cg_amp_parse_seed(getenv(AGENT_ENV_AMPLIFY_SEED), &ok);
  g_process = block ? (uint64_t)__atomic_load_n(&block->processes_loaded, __ATOMIC_ACQUIRE) : 1;
  g_threshold[CG_AMP_THREAD_START] = cg_amp_threshold(p > AMP_START_P ? p : AMP_START_P);
  g_threshold[CG_AMP_API_ENTRY] = cg_amp_threshold(p);
  g_threshold[CG_AMP_PHASE_ENTRY] = cg_amp_threshold(p);
  if (block) {
    g_stats = (struct agent_amplify*)((char*)block + AGENT_AMPLIFY_OFFSET);
    __atomic_store_n(&g_stats->active, 1, __ATOMIC_RELAXED);
    __atomic_store_n(&g_stats->seed, g_seed, __ATOMIC_RELAXED);
  }
  // The constructor runs in the process's first thread: it takes ordinal 0, so the set of (process, thread)
  // ordinals, and with it the set of decisions, does not depend on which thread reaches a point first.
  t_state = cg_amp_thread_state(g_seed, g_process, 0);
  t_ready = 1;
  __atomic_store_n(&g_thread_ordinal, 1, __ATOMIC_RELAXED);
  __atomic_store_n(&cg_amp_on, 1, __ATOMIC_RELEASE);
}

void cg_amp_after_fork_child(void) {
  // The child's threads start counting again; the forking thread keeps its stream, shifted so that parent and
  // child do not make the same decisions from here on.
  __atomic_store_n(&g_thread_ordinal, 1, __ATOMIC_RELAXED);
  g_process += 0x1000;
  if (t_ready) t_state ^= 0x5851f42d4c957f2dull;
}

// A built-in workload's phase entries and its threads' start (after its start barrier), from crashgrid's
// runtime (src/runtime/runner.cc) through a weak reference: kind is enum cg_amp_point.
EXPORT void crashgrid_amplify_v1(int kind) {
  if (!__atomic_load_n(&cg_amp_on, __ATOMIC_RELAXED) || kind < 0 || kind > CG_AMP_PHASE_ENTRY) return;
  cg_amp_point(kind);
}

// 1 when this process injects delays (crashgrid's runtime asks once, then calls crashgrid_amplify_v1 only then).
EXPORT int crashgrid_amplify_active_v1(void) { return __atomic_load_n(&cg_amp_on, __ATOMIC_ACQUIRE); }

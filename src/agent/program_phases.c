// The agent's half of crashgrid.h (include/crashgrid.h): a program names its own phases and counts its
// iterations, and they land in the block (struct agent_api, version 3) where the supervisor reads them, after
// a crash too, as it reads a built-in workload's status block: the phase of each thread in crash and hang
// reports, the iteration count as the trial's iterations (mitigations' throughput).
//
// The header reaches these through weak references: a program run without the agent finds them NULL and
// calls nothing. Their names carry a version (_v1): a header of another crashgrid release then finds either
// the functions it was written for or none, never ones with other arguments.
#include <stdint.h>
#include <string.h>

#include "agent/agent_internal.h"

#define EXPORT __attribute__((visibility("default")))

// The id (index + 1) of phase `name` in the block's table, registered at its first use; 0 when the table is
// full. The name is the program's: only printable ASCII goes into the block.
static uint32_t phase_id(struct agent_api* a, const char* name) {
  char clean[AGENT_API_NAME_MAX];
  size_t n = 0;
  for (; name[n] && n < AGENT_API_NAME_MAX - 1; ++n) {
    unsigned char c = (unsigned char)name[n];
    clean[n] = c >= 0x20 && c < 0x7f ? (char)c : '?';
  }
  clean[n] = 0;
  uint32_t used = __atomic_load_n(&a->phases_used, __ATOMIC_ACQUIRE);
  if (used > AGENT_API_PHASES) used = AGENT_API_PHASES;
  for (uint32_t i = 0; i < used; ++i) {
    if (__atomic_load_n(&a->phases[i].ready, __ATOMIC_ACQUIRE) && strcmp(a->phases[i].name, clean) == 0) {
      return i + 1;
    }
  }
  // Two threads (or processes) naming a new phase at once: two entries of one name, read back by name.
  uint32_t i = __atomic_fetch_add(&a->phases_used, 1, __ATOMIC_ACQ_REL);
  if (i >= AGENT_API_PHASES) return 0;
  memcpy(a->phases[i].name, clean, n + 1);
  __atomic_store_n(&a->phases[i].ready, 1, __ATOMIC_RELEASE);
  return i + 1;
}

// CRASHGRID_PHASE(name): the calling thread is in phase `name` from now on; NULL or "" for between phases.
EXPORT void crashgrid_phase_v1(const char* name) {
  struct agent_api* a = cg_api_region();
  if (!a) return;
  __atomic_store_n(&a->program_reports, 1, __ATOMIC_RELAXED);
  struct agent_api_thread* t = cg_api_thread_slot();
  if (!t) return;
  uint32_t id = name && name[0] ? phase_id(a, name) : 0;
  if (id) __atomic_add_fetch(&a->phases[id - 1].calls, 1, __ATOMIC_RELAXED);
  __atomic_store_n(&t->phase, id, __ATOMIC_RELAXED);
  // --amplify: entering a named phase is an amplification point, as a tracked API entry is.
  if (id && __atomic_load_n(&cg_amp_on, __ATOMIC_RELAXED)) cg_amp_point(CG_AMP_PHASE_ENTRY);
}

// CRASHGRID_ITERATION(): one more iteration of the program's loop (n more with CRASHGRID_ITERATIONS(n)).
EXPORT void crashgrid_iterations_v1(uint64_t n) {
  struct agent_api* a = cg_api_region();
  if (!a) return;
  __atomic_store_n(&a->program_reports, 1, __ATOMIC_RELAXED);
  __atomic_add_fetch(&a->iterations, n, __ATOMIC_RELAXED);
  struct agent_api_thread* t = cg_api_thread_slot();
  if (t) __atomic_store_n(&t->iterations, __atomic_load_n(&t->iterations, __ATOMIC_RELAXED) + n, __ATOMIC_RELAXED);
}

/* One iteration of the reference-race workload: open `sessions` sessions on the shared refrace device, use
 * them, close them. The one copy of that loop body: crashgrid's workload (reference_race.cc) runs each step
 * as a phase, and `crashgrid repro` exports this file as it is for the standalone reproduction. Plain C that
 * also compiles as C++. */
#ifndef CRASHGRID_REFRACE_ITERATION_H_
#define CRASHGRID_REFRACE_ITERATION_H_

#include <stdint.h>

#include "refrace.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The use phase does a fixed amount of work per iteration, shared among the sessions: more sessions per
 * iteration means more time in `open` relative to the rest, which is what makes the crash rate rise with
 * `sessions` (as more encoders per pipeline did in the first report). */
#define REFRACE_USE_PASSES_PER_ITERATION 8u

static inline unsigned refrace_iteration_passes(int sessions) {
  unsigned passes = REFRACE_USE_PASSES_PER_ITERATION / (unsigned)sessions;
  return passes ? passes : 1u;
}

/* Who opens: the thread in the high half, the iteration in the low half. */
static inline uint64_t refrace_iteration_owner(int thread, int64_t iteration) {
  return ((uint64_t)thread << 32) | (uint32_t)iteration;
}

/* Opens up to `sessions` sessions into `out`; returns how many opened (fewer: refrace_session_open failed). */
static inline int refrace_iteration_open(uint64_t owner, int sessions, refrace_session** out) {
  int k = 0;
  for (; k < sessions; ++k) {
    out[k] = refrace_session_open(owner);
    if (!out[k]) break;
  }
  return k;
}

static inline uint64_t refrace_iteration_use(refrace_session* const* open, int n, unsigned passes) {
  uint64_t sink = 0;
  for (int k = 0; k < n; ++k) sink += refrace_session_use(open[k], passes);
  return sink;
}

static inline void refrace_iteration_close(refrace_session* const* open, int n) {
  for (int k = 0; k < n; ++k) refrace_session_close(open[k]);
}

#ifdef __cplusplus
}
#endif

#endif /* CRASHGRID_REFRACE_ITERATION_H_ */

/* crashgrid.h: a program run under crashgrid names its own phases and counts its iterations. One file, C and
 * C++, no library to link.
 *
 *   #include <crashgrid.h>
 *
 *   void* worker(void* arg) {
 *     while (running) {
 *       CRASHGRID_PHASE("open");    open_decoder();     // this thread is in phase "open" from here on
 *       CRASHGRID_PHASE("decode");  decode_frames();
 *       CRASHGRID_PHASE("close");   close_decoder();
 *       CRASHGRID_PHASE_END();                          // between phases
 *       CRASHGRID_ITERATION();                          // one more iteration of the loop
 *     }
 *   }
 *
 * Under `crashgrid sweep --exec` (the agent, libcrashgrid_agent.so, preloaded) each thread's phase appears in
 * crash and hang reports as a built-in workload's does (`show`: "Thread 3 "dec0" ... phase decode"; signatures
 * and `crashes`: "..., phase decode"), and the iterations of all threads and processes of the trial are the
 * trial's iterations: `mitigations` reports them per second as the program's throughput (a `--progress-api`
 * given on the command line takes precedence).
 *
 * Without crashgrid the macros call nothing: the functions are weak references the dynamic linker leaves NULL
 * when no agent is preloaded, so each macro costs a load and a not-taken branch. With -DCRASHGRID_DISABLE they
 * compile to nothing and do not evaluate their arguments (like assert with NDEBUG).
 *
 * CRASHGRID_PHASE's name is copied (printable ASCII, at most 47 characters; a trial holds 64 distinct names):
 * any string will do. Phases are per thread and sticky until the next
 * CRASHGRID_PHASE or CRASHGRID_PHASE_END. CRASHGRID_ITERATIONS(n) counts n at once. All are thread-safe.
 *
 * Requirements: GCC or Clang on an ELF platform (Linux) and a dynamically linked program (a static one never
 * gets the agent), PIE or not; C99 or later, any C++. Elsewhere the macros compile to nothing. */
#ifndef CRASHGRID_H_
#define CRASHGRID_H_

#define CRASHGRID_H_VERSION 1

#if defined(CRASHGRID_DISABLE) || !defined(__GNUC__) || !defined(__ELF__)

#define CRASHGRID_PHASE(name) ((void)0)
#define CRASHGRID_PHASE_END() ((void)0)
#define CRASHGRID_ITERATION() ((void)0)
#define CRASHGRID_ITERATIONS(n) ((void)0)
#define CRASHGRID_ACTIVE() 0

#else

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif
/* Exported by libcrashgrid_agent.so (src/agent/program_phases.c); versioned names, so that a header and an
 * agent of different releases find each other's functions or none. */
extern void crashgrid_phase_v1(const char* name) __attribute__((weak));
extern void crashgrid_iterations_v1(uint64_t n) __attribute__((weak));
#ifdef __cplusplus
}
#endif

#define CRASHGRID_PHASE(name)                                                  \
  do {                                                                         \
    if (__builtin_expect(crashgrid_phase_v1 != 0, 0)) crashgrid_phase_v1(name); \
  } while (0)
#define CRASHGRID_PHASE_END() CRASHGRID_PHASE((const char*)0)
#define CRASHGRID_ITERATIONS(n)                                                                 \
  do {                                                                                          \
    if (__builtin_expect(crashgrid_iterations_v1 != 0, 0)) crashgrid_iterations_v1((uint64_t)(n)); \
  } while (0)
#define CRASHGRID_ITERATION() CRASHGRID_ITERATIONS(1)
/* 1 when the agent is preloaded (the program runs under crashgrid, or at least with its agent), else 0. */
#define CRASHGRID_ACTIVE() (crashgrid_phase_v1 != 0)

#endif

#endif /* CRASHGRID_H_ */

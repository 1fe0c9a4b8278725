/* --amplify: the pure half of the agent's delay injection (src/agent/amplify.c is the other), C and C++ alike
 * (agent_test.cc checks these functions directly), no state, no system calls.
 *
 * The idea is rr's chaos mode from inside the trial: a thread that is made to wait at a moment where it
 * usually does not (its start, entering an API call or a phase) opens the windows between a check and a use,
 * or reorders start-up, that plain runs hit rarely. Each amplification point draws from a per-thread
 * splitmix64 stream; with probability p it waits for a duration drawn log-uniformly by octave from
 * [AMP_MIN_NS, AMP_MAX_NS]: the octave (1-2 us, 2-4 us, ... 1-2 ms) uniformly, then a uniform point inside it.
 * Short waits spin on the clock (a sleep of a few microseconds costs more than that in the kernel's timer
 * slack), longer ones sleep, so the CPU goes to the other threads: the point of a delay.
 *
 * The environment, set by the supervisor (src/sweep/amplify.h):
 *   CRASHGRID_AMPLIFY       the probability at API and phase entries, a decimal in (0, 1] ("0.1")
 *   CRASHGRID_AMPLIFY_SEED  the trial's seed, 16 hex digits
 * Thread starts (the new thread before its routine, and its creator after pthread_create returned: two points)
 * are delayed with probability AMP_START_P whatever the value. Unset, or "0": no delays, and each
 * amplification point costs one load and a predictable branch. */
#ifndef CRASHGRID_AGENT_AMPLIFY_H_
#define CRASHGRID_AGENT_AMPLIFY_H_

#include <stdint.h>

#define AGENT_ENV_AMPLIFY "CRASHGRID_AMPLIFY"
#define AGENT_ENV_AMPLIFY_SEED "CRASHGRID_AMPLIFY_SEED"

#define AMP_MIN_NS 1000ull                 /* 1 us */
#define AMP_OCTAVES 11u                    /* 1 us << 11 = 2.048 ms */
#define AMP_MAX_NS (AMP_MIN_NS << AMP_OCTAVES)
#define AMP_SPIN_BELOW_NS 50000ull         /* waits shorter than 50 us spin */
#define AMP_START_P 0.5                    /* a thread start is delayed every other time */

/* Where a delay is drawn: the kinds have their own probability. */
enum cg_amp_point { CG_AMP_THREAD_START = 0, CG_AMP_API_ENTRY = 1, CG_AMP_PHASE_ENTRY = 2 };

#ifdef __cplusplus
extern "C" {
#endif

static inline uint64_t cg_amp_next(uint64_t* state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

/* The stream of one thread: the trial's seed, the process's ordinal in the trial (1 for its first process)
 * and the thread's ordinal in its process (0 for the main thread), mixed so that neighbours share nothing. */
static inline uint64_t cg_amp_thread_state(uint64_t seed, uint64_t process, uint64_t thread) {
  uint64_t s = seed ^ (process * 0xd1b54a32d192ed03ull);
  (void)cg_amp_next(&s);
  s ^= thread * 0x8cb92ba72f3d8dd7ull;
  (void)cg_amp_next(&s);
  return s;
}

/* p in [0, 1] as a threshold on a 64-bit draw: draw < threshold with probability p. */
static inline uint64_t cg_amp_threshold(double p) {
  if (!(p > 0)) return 0;
  if (p >= 1) return UINT64_MAX;
  return (uint64_t)(p * 18446744073709551616.0);
}

/* The duration a draw stands for, in [AMP_MIN_NS, AMP_MAX_NS): the octave from the top bits, the point in it
 * from the next ones. */
static inline uint64_t cg_amp_duration_ns(uint64_t draw) {
  uint32_t octave = (uint32_t)((draw >> 32) % AMP_OCTAVES);
  uint64_t lo = AMP_MIN_NS << octave;
  return lo + (uint64_t)(((draw & 0xffffffffull) * lo) >> 32);
}

/* One amplification point: the delay to inject (0: none). Two draws when it delays, one when not. */
static inline uint64_t cg_amp_decide(uint64_t* state, uint64_t threshold) {
  if (cg_amp_next(state) >= threshold || threshold == 0) return 0;
  return cg_amp_duration_ns(cg_amp_next(state));
}

/* CRASHGRID_AMPLIFY's value: a decimal in [0, 1] without exponent, parsed by hand (strtod follows the
 * program's locale). -1 for anything else. */
static inline double cg_amp_parse_p(const char* s) {
  if (!s || !*s) return -1;
  double v = 0, scale = 1;
  int digits = 0, dot = 0;
  for (; *s; ++s) {
    if (*s == '.' && !dot) {
      dot = 1;
    } else if (*s >= '0' && *s <= '9') {
      ++digits;
      if (dot) {
        scale /= 10;
        v += (*s - '0') * scale;
      } else {
        v = v * 10 + (*s - '0');
      }
    } else {
      return -1;
    }
  }
  if (!digits || v > 1) return -1;
  return v;
}

/* CRASHGRID_AMPLIFY_SEED: 1 to 16 hex digits. 0 (and *ok = 0) for anything else. */
static inline uint64_t cg_amp_parse_seed(const char* s, int* ok) {
  uint64_t v = 0;
  int n = 0;
  *ok = 0;
  if (!s) return 0;
  for (; *s; ++s, ++n) {
    char c = *s;
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    if (d < 0 || n >= 16) return 0;
    v = v << 4 | (uint64_t)d;
  }
  *ok = n > 0;
  return v;
}

#ifdef __cplusplus
}
#endif

#endif /* CRASHGRID_AGENT_AMPLIFY_H_ */

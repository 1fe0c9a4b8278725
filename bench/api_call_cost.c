// Nanoseconds per call of one API function reached through dlsym (argv[1]: a library, argv[2]: the function,
// default cuCtxSynchronize of tests/fixtures/fakecuda, which returns at once), N calls (argv[3], default 10^7).
// Run it bare and under the preloaded agent with a block (bench/api-call-cost.sh) for the cost of tracking.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  void* lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  int (*fn)(void) = lib ? (int (*)(void))dlsym(lib, argc > 2 ? argv[2] : "cuCtxSynchronize") : NULL;
  if (!fn) return 2;
  long n = argc > 3 ? atol(argv[3]) : 10000000;
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (long i = 0; i < n; ++i) fn();
  clock_gettime(CLOCK_MONOTONIC, &b);
  printf("%.1f\n", ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / n);
  return 0;
}

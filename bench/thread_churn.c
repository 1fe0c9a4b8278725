// What the agent costs a program that starts many threads (GStreamer starts about four per pipeline start):
// creates and joins N threads one after another and prints the mean cost of one, in ns. Run it under
// `crashgrid sweep --exec` with --capture none and with the default (attach) to compare; see
// bench/results/capture-overhead.md.
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static void* nothing(void* arg) { return arg; }

int main(int argc, char** argv) {
  long n = argc > 1 ? atol(argv[1]) : 20000;
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (long i = 0; i < n; ++i) {
    pthread_t t;
    if (pthread_create(&t, NULL, nothing, NULL) != 0) return 1;
    pthread_join(t, NULL);
  }
  clock_gettime(CLOCK_MONOTONIC, &b);
  double ns = ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / (double)n;
  printf("ns_per_thread %.0f\n", ns);
  return 0;
}

/* The gst workload's lifecycle with nothing around it: N threads, each looping for D seconds over
 * gst_parse_launch(K copies of BRANCH) -> PLAYING -> wait for ASYNC_DONE/ERROR/EOS -> NULL -> unref.
 * bench/gst-overhead.sh compares its rate with `crashgrid run gst` to measure what crashgrid's runtime costs.
 *
 * usage: gst_minimal THREADS SECONDS COPIES 'BRANCH' */
#include <gst/gst.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double g_deadline;
static char* g_description;
static pthread_barrier_t g_barrier;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

struct counts {
  long iterations;
  long errors;
};

static void* worker(void* arg) {
  struct counts* c = arg;
  pthread_barrier_wait(&g_barrier);
  while (now_s() < g_deadline) {
    GError* err = NULL;
    GstElement* p = gst_parse_launch(g_description, &err);
    c->iterations++;
    if (err) {
      c->errors++;
      g_error_free(err);
      if (p) gst_object_unref(p);
      continue;
    }
    GstBus* bus = gst_element_get_bus(p);
    if (gst_element_set_state(p, GST_STATE_PLAYING) == GST_STATE_CHANGE_ASYNC) {
      GstMessage* m = gst_bus_timed_pop_filtered(bus, 5 * GST_SECOND,
                                                 GST_MESSAGE_ASYNC_DONE | GST_MESSAGE_ERROR | GST_MESSAGE_EOS);
      if (!m || GST_MESSAGE_TYPE(m) == GST_MESSAGE_ERROR) c->errors++;
      if (m) gst_message_unref(m);
    }
    gst_element_set_state(p, GST_STATE_NULL);
    gst_object_unref(bus);
    gst_object_unref(p);
  }
  return NULL;
}

int main(int argc, char** argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: %s THREADS SECONDS COPIES 'BRANCH'\n", argv[0]);
    return 2;
  }
  int threads = atoi(argv[1]);
  double seconds = atof(argv[2]);
  int copies = atoi(argv[3]);
  const char* branch = argv[4];
  if (threads < 1 || seconds <= 0 || copies < 1) {
    fprintf(stderr, "THREADS and COPIES must be >= 1, SECONDS > 0\n");
    return 2;
  }
  gst_init(&argc, &argv);
  size_t len = (strlen(branch) + 2) * (size_t)copies + 1;
  g_description = calloc(1, len);
  for (int i = 0; i < copies; ++i) {
    strcat(g_description, branch);
    strcat(g_description, "  ");
  }
  pthread_t* tids = calloc((size_t)threads, sizeof *tids);
  struct counts* counts = calloc((size_t)threads, sizeof *counts);
  pthread_barrier_init(&g_barrier, NULL, (unsigned)threads + 1);
  for (int i = 0; i < threads; ++i) pthread_create(&tids[i], NULL, worker, &counts[i]);
  double start = now_s();
  g_deadline = start + seconds;
  pthread_barrier_wait(&g_barrier);
  long iterations = 0, errors = 0;
  for (int i = 0; i < threads; ++i) {
    pthread_join(tids[i], NULL);
    iterations += counts[i].iterations;
    errors += counts[i].errors;
  }
  double elapsed = now_s() - start;
  printf("gst_minimal: %d threads, %d copies, %.1fs: %ld iterations, %ld errors, %.1f iterations/s\n", threads,
         copies, elapsed, iterations, errors, iterations / elapsed);
  free(tids);
  free(counts);
  free(g_description);
  return 0;
}

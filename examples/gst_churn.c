/* The first report's program (shared/seeds/000_*), for crashgrid's GPU run: THREAD_COUNT threads, each
 * building, starting and stopping a GStreamer pipeline of ENCODERS_PER_PIPELINE branches in a loop for
 * DURATION seconds (default 5). A pipeline that starts, or fails to, is stopped and unreffed, and the loop
 * goes on; GStreamer errors are counted, not fatal. The program exits 0 when it ran to its end, so a crash
 * is the only way a run fails, as in the report.
 *
 * Branches (EXAMPLE_ELEMENTS):
 *   nvidia    filesrc (a 176x144 H.264 clip written at start) ! h264parse ! nvh264dec ! cudaupload ! fakesink,
 *             with GStreamer's nvcodec plugin; exits 4 when an element is missing
 *   software  videotestsrc ! videoconvert ! fakesink (no GPU: for checking the harness)
 *   auto      (default) nvidia when every element is there, else software, saying so on stderr
 *
 * Under crashgrid it names its phases (parse, start, stop) and counts one iteration per pipeline cycle with
 * include/crashgrid.h, so reports say which phase each thread was in and `mitigations` has a throughput
 * (pipeline cycles per second); without crashgrid those macros do nothing.
 *
 * Build: with the tree (target gst_churn, build/examples/gst_churn), or alone:
 *   cc -O2 -g -o gst_churn examples/gst_churn.c -Isrc/workloads/nvdec -Iinclude \
 *      $(pkg-config --cflags --libs gstreamer-1.0) -pthread
 * Run:   THREAD_COUNT=4 ENCODERS_PER_PIPELINE=2 ./gst_churn
 *        crashgrid sweep --grid THREAD_COUNT=1..8 --grid ENCODERS_PER_PIPELINE=1,2,4 --runs 10 \
 *            --duration 5s --db gpu.db --exec -- ./gst_churn */
#define _GNU_SOURCE
#include <crashgrid.h>
#include <gst/gst.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const unsigned char tiny_h264[] = {
#include "tiny_h264.inc"
};

static int g_branches = 1;
static double g_duration_s = 5;
static char g_clip[256];
static int g_nvidia;

struct worker {
  pthread_t id;
  int index;
  long iterations;
  long started;
  long failed;
};

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long env_long(const char* name, long fallback, long lo, long hi) {
  const char* v = getenv(name);
  if (!v || !*v) return fallback;
  char* end = NULL;
  long x = strtol(v, &end, 10);
  if (*end || x < lo || x > hi) {
    fprintf(stderr, "gst_churn: %s='%s' is not an integer from %ld to %ld\n", name, v, lo, hi);
    exit(2);
  }
  return x;
}

static char* pipeline_description(void) {
  size_t size = 512 * (size_t)g_branches + 1;
  char* s = malloc(size);
  if (!s) abort();
  s[0] = 0;
  size_t used = 0;
  for (int b = 0; b < g_branches; ++b) {
    if (g_nvidia)
      used += (size_t)snprintf(s + used, size - used,
                               "filesrc location=%s ! h264parse ! nvh264dec ! cudaupload ! fakesink sync=false ",
                               g_clip);
    else
      used += (size_t)snprintf(s + used, size - used,
                               "videotestsrc num-buffers=30 ! video/x-raw,width=176,height=144 ! videoconvert ! "
                               "fakesink sync=false ");
  }
  return s;
}

/* One iteration as the report's: create, start, and when it started or failed, stop and unref. */
static void churn_once(struct worker* w, const char* description) {
  GError* error = NULL;
  CRASHGRID_PHASE("parse");
  GstElement* pipeline = gst_parse_launch(description, &error);
  if (!pipeline) {
    CRASHGRID_PHASE_END();
    fprintf(stderr, "gst_churn: thread %d: gst_parse_launch: %s\n", w->index, error ? error->message : "?");
    g_clear_error(&error);
    ++w->failed;
    return;
  }
  g_clear_error(&error); /* a recoverable parse warning */
  CRASHGRID_PHASE("start");
  GstStateChangeReturn r = gst_element_set_state(pipeline, GST_STATE_PLAYING);
  if (r != GST_STATE_CHANGE_FAILURE) r = gst_element_get_state(pipeline, NULL, NULL, 2 * GST_SECOND);
  if (r == GST_STATE_CHANGE_FAILURE || r == GST_STATE_CHANGE_ASYNC)
    ++w->failed;
  else
    ++w->started;
  CRASHGRID_PHASE("stop");
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(pipeline);
  CRASHGRID_PHASE_END();
  CRASHGRID_ITERATION();
}

static void* worker_main(void* arg) {
  struct worker* w = arg;
  char* description = pipeline_description();
  double deadline = now_s() + g_duration_s;
  while (now_s() < deadline) {
    churn_once(w, description);
    ++w->iterations;
  }
  free(description);
  return NULL;
}

static int have_elements(const char* const* names, char* missing, size_t size) {
  int ok = 1;
  missing[0] = 0;
  for (const char* const* n = names; *n; ++n) {
    GstElementFactory* f = gst_element_factory_find(*n);
    if (f) {
      gst_object_unref(f);
      continue;
    }
    ok = 0;
    size_t used = strlen(missing);
    snprintf(missing + used, size - used, "%s%s", used ? ", " : "", *n);
  }
  return ok;
}

static int write_clip(void) {
  snprintf(g_clip, sizeof g_clip, "%s/gst_churn_%d.h264", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
           (int)getpid());
  FILE* f = fopen(g_clip, "wb");
  if (!f || fwrite(tiny_h264, 1, sizeof tiny_h264, f) != sizeof tiny_h264 || fclose(f) != 0) {
    fprintf(stderr, "gst_churn: cannot write the clip %s\n", g_clip);
    return -1;
  }
  return 0;
}

int main(int argc, char** argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  gst_init(&argc, &argv);
  int threads = (int)env_long("THREAD_COUNT", 1, 1, 1024);
  g_branches = (int)env_long("ENCODERS_PER_PIPELINE", 1, 1, 64);
  g_duration_s = (double)env_long("DURATION", 5, 1, 3600);
  const char* mode = getenv("EXAMPLE_ELEMENTS");
  if (!mode || !*mode) mode = "auto";
  if (strcmp(mode, "auto") != 0 && strcmp(mode, "nvidia") != 0 && strcmp(mode, "software") != 0) {
    fprintf(stderr, "gst_churn: EXAMPLE_ELEMENTS='%s' is not one of auto, nvidia, software\n", mode);
    return 2;
  }
  static const char* const nvidia[] = {"filesrc", "h264parse", "nvh264dec", "cudaupload", "fakesink", NULL};
  static const char* const software[] = {"videotestsrc", "videoconvert", "fakesink", NULL};
  char missing[512];
  if (strcmp(mode, "software") != 0) {
    g_nvidia = have_elements(nvidia, missing, sizeof missing);
    if (!g_nvidia && strcmp(mode, "nvidia") == 0) {
      fprintf(stderr,
              "gst_churn: GStreamer has no %s (the nvcodec plugin of gst-plugins-bad, an NVIDIA GPU and driver "
              "are needed; EXAMPLE_ELEMENTS=software runs the software pipeline)\n",
              missing);
      return 4;
    }
    if (!g_nvidia)
      fprintf(stderr, "gst_churn: warning: GStreamer has no %s: running the software pipeline instead "
                      "(videotestsrc ! videoconvert ! fakesink)\n", missing);
  }
  if (!g_nvidia && !have_elements(software, missing, sizeof missing)) {
    fprintf(stderr, "gst_churn: GStreamer has no %s (install gst-plugins-base)\n", missing);
    return 4;
  }
  if (g_nvidia && write_clip() != 0) return 1;

  printf("gst_churn: %d threads x %d %s branches for %.0f s\n", threads, g_branches,
         g_nvidia ? "nvh264dec+cudaupload" : "videotestsrc (software)", g_duration_s);
  struct worker* w = calloc((size_t)threads, sizeof *w);
  if (!w) return 1;
  for (int i = 0; i < threads; ++i) {
    w[i].index = i;
    if (pthread_create(&w[i].id, NULL, worker_main, &w[i]) != 0) {
      fprintf(stderr, "gst_churn: cannot start thread %d\n", i);
      return 1;
    }
  }
  long iterations = 0, started = 0, failed = 0;
  for (int i = 0; i < threads; ++i) {
    pthread_join(w[i].id, NULL);
    iterations += w[i].iterations;
    started += w[i].started;
    failed += w[i].failed;
  }
  if (g_nvidia) unlink(g_clip);
  printf("gst_churn: %ld pipelines, %ld started, %ld failed to start\n", iterations, started, failed);
  free(w);
  return 0;
}

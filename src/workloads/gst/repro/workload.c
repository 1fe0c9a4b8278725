/* gst in the standalone reproduction: the first report's workload. Each iteration builds one pipeline of K
 * copies of a branch (gst_parse_launch), sets it PLAYING and waits for it to preroll (or fail), sets it back
 * to NULL and drops it (phases build, start, stop, unref). Errors on the way (no encoder session left,
 * negotiation failures, timeouts) are counted, not fatal. The branch is the first of these whose elements
 * all exist: DeepStream's nvv4l2h264enc, GStreamer's nvh264enc, nvcudah264enc, cudaupload/cudadownload alone,
 * then a CPU encoder (x264enc) so it runs anywhere; BRANCH='...' (the parameter `branch`) pins one.
 *
 * Unlike reference-race this is a C port of crashgrid's gst workload (src/workloads/gst/gst_workload.cc, C++ on
 * crashgrid's runtime), kept to the same calls in the same order, the same phases and the same parameters; it
 * is not the compiled-in code itself. It links against GStreamer (pkg-config gstreamer-1.0), as crashgrid
 * does; the NVIDIA elements are GStreamer plugins, found at run time. */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gst/gst.h>

#include "repro.h"

struct candidate {
  const char* label;
  const char* branch;
  const char* elements[5]; /* factories that must exist, NULL-terminated */
};

/* In order of preference: the report's DeepStream branch, then GStreamer's own NVIDIA encoders, then CUDA
 * memory transfers alone, then a CPU encoder so the workload runs anywhere (kept light: tiny frames). */
static const struct candidate candidates[] = {
    {"DeepStream encoder", "videotestsrc ! nvvideoconvert ! nvv4l2h264enc ! fakesink",
     {"videotestsrc", "nvvideoconvert", "nvv4l2h264enc", "fakesink", NULL}},
    {"GStreamer NVENC encoder", "videotestsrc ! nvh264enc ! fakesink", {"videotestsrc", "nvh264enc", "fakesink", NULL}},
    {"GStreamer CUDA NVENC encoder", "videotestsrc ! cudaupload ! nvcudah264enc ! fakesink",
     {"videotestsrc", "cudaupload", "nvcudah264enc", "fakesink", NULL}},
    {"GStreamer CUDA upload/download (no encoder)", "videotestsrc ! cudaupload ! cudadownload ! fakesink",
     {"videotestsrc", "cudaupload", "cudadownload", "fakesink", NULL}},
    {"CPU encoder (no NVIDIA elements found)",
     "videotestsrc ! video/x-raw,width=160,height=120,framerate=30/1 ! x264enc speed-preset=ultrafast "
     "tune=zerolatency ! fakesink",
     {"videotestsrc", "x264enc", "fakesink", NULL}},
};

/* The cell's settings (crashgrid's defaults and ranges). */
static int g_branches = 1;
static double g_start_timeout_s = 5;
static char* g_branch;      /* the branch (g_malloc'd) */
static const char* g_label; /* where it came from */
static char* g_description; /* g_branches copies of it, joined by two spaces */

/* --- parameters, parsed and worded as crashgrid's Params parses and words them --- */

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/* A copy of s without leading and trailing blanks (g_free it). */
static char* trimmed(const char* s) {
  while (is_space(*s)) ++s;
  size_t n = strlen(s);
  while (n > 0 && is_space(s[n - 1])) --n;
  return g_strndup(s, n);
}

/* crashgrid's ParseInt: the whole string, base 10, no leading blank. */
static int parse_int(const char* s, long long* out) {
  if (!*s || strlen(s) > 30 || is_space(*s)) return 0;
  char* end = NULL;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (errno != 0 || *end) return 0;
  *out = v;
  return 1;
}

/* crashgrid's ParseDuration: a number with an optional unit (ms, s, m, min, h; none is seconds). */
static int parse_duration(const char* text, double* seconds) {
  char* s = trimmed(text);
  size_t i = 0;
  while (s[i] && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.')) ++i;
  int ok = 0;
  if (i > 0 && i <= 60) {
    char number[64];
    memcpy(number, s, i);
    number[i] = 0;
    char* end = NULL;
    errno = 0;
    double value = strtod(number, &end);
    const char* unit = s + i;
    double scale = 0;
    if (!*unit || strcmp(unit, "s") == 0) scale = 1;
    else if (strcmp(unit, "ms") == 0) scale = 1e-3;
    else if (strcmp(unit, "m") == 0 || strcmp(unit, "min") == 0) scale = 60;
    else if (strcmp(unit, "h") == 0) scale = 3600;
    if (errno == 0 && !*end && isfinite(value) && scale > 0) {
      *seconds = value * scale;
      ok = 1;
    }
  }
  g_free(s);
  return ok;
}

/* crashgrid's FormatDuration: 500ms, 5s, 2.5s, 1m30s, 2h05m. */
static void format_duration(double seconds, char* out, size_t n) {
  if (seconds < 0) seconds = 0;
  if (seconds < 1) {
    snprintf(out, n, "%lldms", (long long)lround(seconds * 1000));
  } else if (seconds < 60) {
    if (seconds == floor(seconds))
      snprintf(out, n, "%llds", (long long)seconds);
    else
      snprintf(out, n, "%.1fs", seconds);
  } else {
    long long s = llround(seconds);
    if (s < 3600) {
      if (s % 60)
        snprintf(out, n, "%lldm%02llds", s / 60, s % 60);
      else
        snprintf(out, n, "%lldm", s / 60);
    } else {
      snprintf(out, n, "%lldh%02lldm", s / 3600, (s % 3600) / 60);
    }
  }
}

/* branches: the parameter, else $ENCODERS_PER_PIPELINE, else 1; 1 to 64. */
static int parse_branches(char* err, size_t n) {
  long long fallback = 1;
  const char* env = getenv("ENCODERS_PER_PIPELINE");
  const char* param = repro_param("branches", NULL);
  if (env && *env && !param) {
    char* t = trimmed(env);
    int ok = parse_int(t, &fallback) && fallback >= 1 && fallback <= 64;
    g_free(t);
    if (!ok) {
      repro_say(err, n, "ENCODERS_PER_PIPELINE='%s' is not a branch count from 1 to 64 (fix it or pass "
          "--param branches=N)", env);
      return -1;
    }
  }
  long long v = fallback;
  if (param) {
    char* t = trimmed(param);
    int ok = parse_int(t, &v) && v >= 1 && v <= 64;
    g_free(t);
    if (!ok) {
      repro_say(err, n, "parameter 'branches' must be an integer from 1 to 64, not '%s'", param);
      return -1;
    }
  }
  g_branches = (int)v;
  return 0;
}

static int parse_start_timeout(char* err, size_t n) {
  const char* v = repro_param("start-timeout", NULL);
  if (!v) {
    g_start_timeout_s = 5;
    return 0;
  }
  double s = 0;
  if (!parse_duration(v, &s) || s <= 0) {
    repro_say(err, n, "parameter 'start-timeout' must be a positive duration such as 500ms, 5s or 1m, not '%s'", v);
    return -1;
  }
  g_start_timeout_s = s;
  return 0;
}

/* --- set-up --- */

static int has_factory(const char* name) {
  GstElementFactory* f = gst_element_factory_find(name);
  if (!f) return 0;
  gst_object_unref(f);
  return 1;
}

static void make_description(void) {
  GString* s = g_string_new(NULL);
  for (int i = 0; i < g_branches; ++i) {
    if (i) g_string_append(s, "  ");
    g_string_append(s, g_branch);
  }
  g_description = g_string_free(s, FALSE);
}

/* A user branch naming an element that is not installed can never run: say so once, up front, instead of
 * counting the same parse error in every iteration. Other parse errors stay counted errors. */
static int check_elements_exist(char* err, size_t n) {
  make_description();
  GError* e = NULL;
  GstElement* p = gst_parse_launch(g_branch, &e);
  if (p) {
    gst_element_set_state(p, GST_STATE_NULL);
    gst_object_unref(p);
  }
  if (!e) return 0;
  int missing = e->domain == GST_PARSE_ERROR && e->code == GST_PARSE_ERROR_NO_SUCH_ELEMENT;
  if (missing)
    repro_say(err, n, "branch '%s' cannot be built: %s (check the name with gst-inspect-1.0, or install its plugin)",
        g_branch, e->message);
  g_error_free(e);
  return missing ? -1 : 0;
}

static int choose_branch(char* err, size_t n) {
  const char* pinned = repro_param("branch", NULL);
  if (pinned) {
    g_branch = trimmed(pinned);
    g_label = "user branch";
    if (!*g_branch) {
      repro_say(err, n, "parameter 'branch' is empty (give a gst-launch fragment such as 'videotestsrc ! fakesink')");
      return -1;
    }
    return check_elements_exist(err, n);
  }
  for (size_t i = 0; i < sizeof candidates / sizeof candidates[0]; ++i) {
    int ok = 1;
    for (const char* const* e = candidates[i].elements; *e; ++e) ok = ok && has_factory(*e);
    if (ok) {
      g_branch = g_strdup(candidates[i].branch);
      g_label = candidates[i].label;
      break;
    }
  }
  if (!g_branch) {
    repro_say(err, n, "no usable GStreamer branch: none of nvv4l2h264enc, nvh264enc, nvcudah264enc, cudaupload or "
        "x264enc (with videotestsrc and fakesink) is installed (install gstreamer1.0-plugins-ugly, or pass "
        "--param branch=...)");
    return -1;
  }
  make_description();
  return 0;
}

int repro_workload_init(char* err, size_t err_size) {
  if (parse_branches(err, err_size) != 0 || parse_start_timeout(err, err_size) != 0) return -1;
  GError* e = NULL;
  if (!gst_init_check(NULL, NULL, &e)) {
    repro_say(err, err_size, "GStreamer could not initialise: %s", e ? e->message : "unknown reason");
    if (e) g_error_free(e);
    return -1;
  }
  if (choose_branch(err, err_size) != 0) return -1;
  /* crashgrid's Detail(), which its trial prints in its summary: what runs, and which candidate it is. */
  printf("gst: %d x [%s] (%s)\n", g_branches, g_branch, g_label);
  return 0;
}

int repro_workload_thread_init(int thread, char* err, size_t err_size) {
  (void)thread;
  (void)err;
  (void)err_size;
  return 0;
}

void repro_workload_thread_done(int thread) { (void)thread; }

void repro_workload_shutdown(void) {}

/* --- one iteration --- */

/* The bus error's text and the element it came from: "Internal data stream error. (from videotestsrc0)". */
static void bus_error_text(GstMessage* m, char* err, size_t n) {
  GError* e = NULL;
  gchar* debug = NULL;
  gst_message_parse_error(m, &e, &debug);
  const char* text = e ? e->message : "unknown error";
  if (GST_MESSAGE_SRC(m))
    repro_say(err, n, "%s (from %s)", text, GST_OBJECT_NAME(GST_MESSAGE_SRC(m)));
  else
    repro_say(err, n, "%s", text);
  if (e) g_error_free(e);
  g_free(debug);
}

static int build(GstElement** pipeline, char* err, size_t n) {
  GError* e = NULL;
  GstElement* p = gst_parse_launch(g_description, &e);
  if (e) {
    repro_say(err, n, "%s", e->message);
    g_error_free(e);
    if (p) *pipeline = p;
    return -1;
  }
  if (!p) {
    repro_say(err, n, "gst_parse_launch returned no pipeline");
    return -1;
  }
  *pipeline = p;
  return 0;
}

static int start_on_bus(GstElement* p, GstBus* bus, char* err, size_t n) {
  GstStateChangeReturn r = gst_element_set_state(p, GST_STATE_PLAYING);
  if (r == GST_STATE_CHANGE_FAILURE) {
    GstMessage* m = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
    if (m) {
      bus_error_text(m, err, n);
      gst_message_unref(m);
    } else {
      repro_say(err, n, "state change to PLAYING failed");
    }
    return -1;
  }
  if (r != GST_STATE_CHANGE_ASYNC) return 0; /* no preroll to wait for (live source or already there) */
  const GstMessageType types = (GstMessageType)(GST_MESSAGE_ASYNC_DONE | GST_MESSAGE_ERROR | GST_MESSAGE_EOS);
  double waited = 0;
  const double slice_s = 0.05;
  while (waited < g_start_timeout_s) {
    double slice = slice_s < g_start_timeout_s - waited ? slice_s : g_start_timeout_s - waited;
    GstMessage* m = gst_bus_timed_pop_filtered(bus, (GstClockTime)(slice * GST_SECOND), types);
    waited += slice;
    if (!m) {
      /* Past the run's deadline a slow start is not worth waiting for: let the thread finish on time. */
      if (repro_stopping()) return 0;
      continue;
    }
    int result = 0;
    if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ERROR) {
      bus_error_text(m, err, n);
      result = -1;
    } /* EOS: ran to the end before we looked, it started; else ASYNC_DONE */
    gst_message_unref(m);
    return result;
  }
  char limit[32];
  format_duration(g_start_timeout_s, limit, sizeof limit);
  repro_say(err, n, "pipeline did not reach PLAYING within %s (no ASYNC_DONE)", limit);
  return -1;
}

static int start(GstElement* p, char* err, size_t n) {
  GstBus* bus = gst_element_get_bus(p);
  int result = start_on_bus(p, bus, err, n);
  gst_object_unref(bus);
  return result;
}

static int stop(GstElement** pipeline, char* err, size_t n) {
  if (gst_element_set_state(*pipeline, GST_STATE_NULL) == GST_STATE_CHANGE_FAILURE) {
    repro_say(err, n, "state change to NULL failed");
    gst_object_unref(*pipeline);
    *pipeline = NULL;
    return -1;
  }
  return 0;
}

static int unref(GstElement* p) {
  gst_object_unref(p);
  return 0;
}

/* Drops a pipeline that a failed phase left behind: to NULL first, because dropping a pipeline that is not
 * in NULL is a GStreamer bug ("not in NULL state"). */
static void drop(GstElement* p) {
  if (!p) return;
  gst_element_set_state(p, GST_STATE_NULL);
  gst_object_unref(p);
}

int repro_workload_iterate(int thread, int64_t iteration, char* err, size_t err_size) {
  (void)thread;
  (void)iteration;
  struct repro_errs e;
  repro_errs_start(&e, err, err_size);
  GstElement* pipeline = NULL;
  if (!REPRO_PHASE(&e, "build", build(&pipeline, REPRO_ERR_BUF(&e), REPRO_ERR_CAP(&e)))) {
    drop(pipeline); /* a partial pipeline */
    return -1;
  }
  REPRO_PHASE(&e, "start", start(pipeline, REPRO_ERR_BUF(&e), REPRO_ERR_CAP(&e)));
  /* Stopped and dropped whether or not it started, like the report's program. */
  REPRO_PHASE(&e, "stop", stop(&pipeline, REPRO_ERR_BUF(&e), REPRO_ERR_CAP(&e)));
  if (pipeline) REPRO_PHASE(&e, "unref", unref(pipeline));
  return e.count ? -1 : 0;
}

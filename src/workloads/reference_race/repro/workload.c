/* reference-race in the standalone reproduction: the iteration of crashgrid's workload
 * (refrace_iteration.h, exported as it is), its steps bracketed as crashgrid's phases. */
#include <stdio.h>
#include <stdlib.h>

#include "refrace_iteration.h"
#include "repro.h"

static int g_sessions;
static unsigned g_passes;
static volatile uint64_t g_sink;

int repro_workload_init(char* err, size_t err_size) {
  g_sessions = (int)repro_param_long("sessions", 1);
  if (g_sessions < 1 || g_sessions > 64) {
    snprintf(err, err_size, "sessions=%d is out of range (1 to 64)", g_sessions);
    return -1;
  }
  g_passes = refrace_iteration_passes(g_sessions);
  if (refrace_device_open() != 0) {
    snprintf(err, err_size, "could not create the refrace device (out of memory?)");
    return -1;
  }
  return 0;
}

int repro_workload_thread_init(int thread, char* err, size_t err_size) {
  (void)thread, (void)err, (void)err_size;
  return 0;
}

int repro_workload_iterate(int thread, int64_t iteration, char* err, size_t err_size) {
  refrace_session* open[64];
  repro_phase_begin("open");
  int opened = refrace_iteration_open(refrace_iteration_owner(thread, iteration), g_sessions, open);
  repro_phase_end("open");
  if (opened == g_sessions) {
    repro_phase_begin("use");
    g_sink += refrace_iteration_use(open, opened, g_passes);
    repro_phase_end("use");
  } else {
    snprintf(err, err_size, "refrace_session_open failed for session %d of %d", opened + 1, g_sessions);
  }
  repro_phase_begin("close");
  refrace_iteration_close(open, opened);
  repro_phase_end("close");
  return opened == g_sessions ? 0 : -1;
}

void repro_workload_thread_done(int thread) { (void)thread; }

void repro_workload_shutdown(void) { refrace_device_close(); }

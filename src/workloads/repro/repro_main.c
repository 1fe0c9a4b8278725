/* The standalone reproduction's loop (see repro.h): `./repro` runs REPRO_RUNS runs of the cell and prints
 * how many crashed; `./repro once` runs one in this process (for a debugger). Settings come from
 * repro_cell.h, each overridable from the environment: THREADS, DURATION_MS, RUNS, and every parameter
 * under its name in upper case. Exit status: 0 no run crashed, 1 at least one did, 2 the workload could not
 * start. */
#define _GNU_SOURCE
#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "repro.h"
#include "repro_cell.h"

struct repro_param_value {
  const char* name;
  const char* value;
};
static const struct repro_param_value repro_cell_params[] = {REPRO_PARAMS{NULL, NULL}};

const char* repro_param(const char* name, const char* fallback) {
  char env_name[128];
  size_t n = 0;
  for (; name[n] && n + 1 < sizeof env_name; ++n)
    env_name[n] = isalnum((unsigned char)name[n]) ? (char)toupper((unsigned char)name[n]) : '_';
  env_name[n] = 0;
  const char* v = getenv(env_name);
  if (v && *v) return v;
  for (const struct repro_param_value* p = repro_cell_params; p->name; ++p)
    if (strcmp(p->name, name) == 0) return p->value;
  return fallback;
}

long repro_param_long(const char* name, long fallback) {
  const char* v = repro_param(name, NULL);
  if (!v) return fallback;
  char* end = NULL;
  errno = 0;
  long x = strtol(v, &end, 10);
  if (errno || end == v || *end) {
    fprintf(stderr, "repro: parameter %s='%s' is not an integer\n", name, v);
    exit(2);
  }
  return x;
}

int repro_param_range(const char* name, long fallback, long lo, long hi, int* out, char* err, size_t n) {
  long v = repro_param_long(name, fallback);
  if (v < lo || v > hi) {
    repro_say(err, n, "parameter '%s' must be an integer from %ld to %ld, not '%s'", name, lo, hi,
              repro_param(name, ""));
    return -1;
  }
  *out = (int)v;
  return 0;
}

int repro_param_choice(const char* name, const char* a, const char* b, const char* def, int* is_b, char* err,
                       size_t n) {
  const char* v = repro_param(name, def);
  if (strcmp(v, a) != 0 && strcmp(v, b) != 0) {
    repro_say(err, n, "parameter '%s' cannot be '%s' (use one of: %s, %s)", name, v, a, b);
    return -1;
  }
  *is_b = strcmp(v, b) == 0;
  return 0;
}

/* --serialize: one mutex for every serialized phase, as crashgrid's runtime holds it. */
static pthread_mutex_t repro_serialize_mu = PTHREAD_MUTEX_INITIALIZER;
static const char* repro_serialize_spec;

static int repro_serialized(const char* phase) {
  const char* s = repro_serialize_spec;
  if (!s || !*s || strcmp(s, "none") == 0) return 0;
  if (strcmp(s, "all") == 0) return 1;
  size_t len = strlen(phase);
  while (*s) {
    size_t word = strcspn(s, ",+");
    if (word == len && strncmp(s, phase, len) == 0) return 1;
    s += word;
    if (*s) ++s;
  }
  return 0;
}

void repro_phase_begin(const char* phase) {
  if (repro_serialized(phase)) pthread_mutex_lock(&repro_serialize_mu);
}

void repro_phase_end(const char* phase) {
  if (repro_serialized(phase)) pthread_mutex_unlock(&repro_serialize_mu);
}

void repro_say(char* err, size_t n, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, n, fmt, ap);
  va_end(ap);
}

int repro_load_symbol(void* lib, const char* lib_name, const char* provider, const char* name, void* slot, char* err,
                      size_t n) {
  void* f = lib ? dlsym(lib, name) : NULL;
  if (!f) {
    if (lib)
      repro_say(err, n, "%s has no %s (driver too old?)", lib_name, name);
    else
      repro_say(err, n, "cannot load %s: no %s on this machine?", lib_name, provider);
    return -1;
  }
  memcpy(slot, &f, sizeof f);
  return 0;
}

void repro_errs_start(struct repro_errs* e, char* err, size_t n) {
  e->first = err;
  e->size = n;
  e->count = 0;
  err[0] = 0;
}

int repro_phase_counted(struct repro_errs* e, const char* name, int result) {
  repro_phase_end(name);
  if (result == 0) return 1;
  if (e->count++ == 0 && !e->first[0]) repro_say(e->first, e->size, "%s failed (no message)", name);
  return 0;
}

static double repro_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct repro_thread {
  pthread_t id;
  int index;
  int64_t iterations;
  int64_t errors;
  char first_error[256];
};

static pthread_barrier_t repro_start;
static double repro_deadline;
static long repro_duration_ms;
static int repro_thread_count = 1;

int repro_threads(void) { return repro_thread_count; }

/* Read only by worker threads, after the barrier that publishes repro_deadline. */
int repro_stopping(void) { return repro_now() >= repro_deadline; }

static void* repro_thread_main(void* arg) {
  struct repro_thread* t = arg;
  char err[240] = ""; /* shorter than first_error by more than "setup: ", so no message is cut */
  int ready = repro_workload_thread_init(t->index, err, sizeof err) == 0;
  if (!ready) snprintf(t->first_error, sizeof t->first_error, "setup: %s", err);
  /* Every thread's clock starts at the barrier, as crashgrid's does. */
  if (pthread_barrier_wait(&repro_start) == PTHREAD_BARRIER_SERIAL_THREAD)
    repro_deadline = repro_now() + (double)repro_duration_ms / 1000.0;
  pthread_barrier_wait(&repro_start); /* the deadline is set and seen by all */
  if (ready) {
    while (repro_now() < repro_deadline) {
      err[0] = 0;
      if (repro_workload_iterate(t->index, t->iterations, err, sizeof err) != 0) {
        if (t->errors++ == 0) snprintf(t->first_error, sizeof t->first_error, "%s", err);
      }
      ++t->iterations;
    }
  }
  repro_workload_thread_done(t->index);
  return NULL;
}

/* One run in this process: 0 when it ran to its end (iteration errors included), 2 when it could not start. */
static int repro_run_once(int threads, int verbose) {
  char err[256] = "";
  if (repro_workload_init(err, sizeof err) != 0) {
    fprintf(stderr, "repro: the workload could not start: %s\n", err);
    return 2;
  }
  struct repro_thread* t = calloc((size_t)threads, sizeof *t);
  if (!t) return 2;
  pthread_barrier_init(&repro_start, NULL, (unsigned)threads);
  for (int i = 0; i < threads; ++i) {
    t[i].index = i;
    if (pthread_create(&t[i].id, NULL, repro_thread_main, &t[i]) != 0) {
      fprintf(stderr, "repro: cannot start thread %d\n", i);
      exit(2);
    }
  }
  int64_t iterations = 0, errors = 0;
  const char* first_error = NULL;
  for (int i = 0; i < threads; ++i) {
    pthread_join(t[i].id, NULL);
    iterations += t[i].iterations;
    errors += t[i].errors;
    if (!first_error && t[i].first_error[0]) first_error = t[i].first_error;
  }
  repro_workload_shutdown();
  if (verbose)
    printf("  %lld iterations, %lld with errors%s%s\n", (long long)iterations, (long long)errors,
           first_error ? "; first: " : "", first_error ? first_error : "");
  free(t);
  return 0;
}

int main(int argc, char** argv) {
  int threads = (int)repro_param_long("threads", REPRO_THREADS);
  repro_duration_ms = repro_param_long("duration_ms", REPRO_DURATION_MS);
  long runs = repro_param_long("runs", REPRO_RUNS);
  repro_serialize_spec = repro_param("serialize", "none");
  if (threads < 1 || repro_duration_ms < 1 || runs < 1) {
    fprintf(stderr, "repro: THREADS, DURATION_MS and RUNS must be at least 1\n");
    return 2;
  }
  repro_thread_count = threads;
  setvbuf(stdout, NULL, _IOLBF, 0);
  printf("%s: %d threads, %ld ms per run, serialize %s (%s)\n", REPRO_WORKLOAD, threads, repro_duration_ms,
         repro_serialize_spec, REPRO_CELL);
  if (argc > 1 && strcmp(argv[1], "once") == 0) return repro_run_once(threads, 1);

  long crashed = 0, hung = 0, clean = 0;
  for (long r = 1; r <= runs; ++r) {
    pid_t pid = fork();
    if (pid < 0) {
      perror("repro: fork");
      return 2;
    }
    if (pid == 0) {
      /* A run that has not ended long after its deadline is hung: SIGALRM ends it. */
      alarm((unsigned)(repro_duration_ms / 1000 + 60));
      _exit(repro_run_once(threads, 0));
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM) {
      ++hung;
      printf("run %ld: hung (killed %d s after its deadline)\n", r, 60);
    } else if (WIFSIGNALED(status)) {
      ++crashed;
      printf("run %ld: crashed: %s (exit status %d)\n", r, strsignal(WTERMSIG(status)), 128 + WTERMSIG(status));
    } else if (WEXITSTATUS(status) == 2) {
      fprintf(stderr, "repro: run %ld could not start; stopping\n", r);
      return 2;
    } else {
      ++clean;
      printf("run %ld: clean\n", r);
    }
  }
  printf("crashed %ld of %ld runs (%ld hung, %ld clean)\n", crashed + hung, runs, hung, clean);
  return crashed + hung > 0 ? 1 : 0;
}

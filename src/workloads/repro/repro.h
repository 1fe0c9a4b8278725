/* The contract between the standalone reproduction's loop (repro_main.c) and one workload (workload.c), as
 * `crashgrid repro` exports them. The loop is a crashgrid trial without crashgrid: REPRO_THREADS threads set
 * up, meet at a barrier, repeat iterations until REPRO_DURATION_MS have passed, and tear down; each run is
 * its own process, and the loop counts the runs that died of a signal. Plain C11 + POSIX threads. */
#ifndef CRASHGRID_REPRO_H_
#define CRASHGRID_REPRO_H_

#include <stddef.h>
#include <stdint.h>

/* The cell's value of a workload parameter: the environment variable of that name in upper case when set
 * (SESSIONS=8 ./repro), else the value `crashgrid repro` wrote into repro_cell.h, else `fallback`. */
const char* repro_param(const char* name, const char* fallback);
long repro_param_long(const char* name, long fallback);

/* An integer parameter that must lie in lo..hi (default `fallback`), into *out: 0, or -1 with crashgrid's words
 * ("parameter 'streams' must be an integer from 1 to 64, not '0'") in err (n bytes). A value that is no integer
 * at all stops the loop, as in repro_param_long. */
int repro_param_range(const char* name, long fallback, long lo, long hi, int* out, char* err, size_t n);

/* A parameter that must be `a` or `b` (default `def`), *is_b saying which: 0, or -1 with "parameter 'layout'
 * cannot be 'x' (use one of: paired, fanout)" in err. */
int repro_param_choice(const char* name, const char* a, const char* b, const char* def, int* is_b, char* err,
                       size_t n);

/* Brackets a step of an iteration named like the workload's crashgrid phase. When the cell serialized that
 * phase (crashgrid's --serialize, here SERIALIZE=open,close or all), the step runs under one process-wide
 * mutex, as it did in crashgrid. */
void repro_phase_begin(const char* phase);
void repro_phase_end(const char* phase);

/* The run's thread count and whether its deadline has passed, for a workload whose threads coordinate
 * (eglstream's fanout layout), as crashgrid's IterationContext::threads() and stopping(). */
int repro_threads(void);
int repro_stopping(void);

/* Writes a printf-style message into err (n bytes): how a workload words its errors. */
void repro_say(char* err, size_t n, const char* fmt, ...) __attribute__((format(printf, 3, 4)));

/* Stores `name` from `lib` (a dlopen handle, NULL when the library could not be loaded) into *slot (a function
 * pointer's address): 0, or -1 with "cannot load LIB_NAME: no PROVIDER on this machine?" or "LIB_NAME has no
 * NAME (driver too old?)" in err. */
int repro_load_symbol(void* lib, const char* lib_name, const char* provider, const char* name, void* slot, char* err,
                      size_t n);

/* Collects an iteration's errors: the first is the one the loop reports, later ones go to scratch (crashgrid
 * counts each failed phase; the loop counts the iteration). */
struct repro_errs {
  char* first;
  size_t size;
  int count;
  char scratch[256];
};
/* Starts collecting an iteration's errors, the first into err (n bytes). */
void repro_errs_start(struct repro_errs* e, char* err, size_t n);
#define REPRO_ERR_BUF(e) ((e)->count ? (e)->scratch : (e)->first)
#define REPRO_ERR_CAP(e) ((e)->count ? sizeof (e)->scratch : (e)->size)

/* Runs step `body` (an expression: 0 or -1 with the message in REPRO_ERR_BUF(e), REPRO_ERR_CAP(e)) as phase
 * `name`: serialized when the cell serialized it, counted in `e` when it fails. Evaluates to 1 when it
 * succeeded. */
#define REPRO_PHASE(e, name, body) repro_phase_counted((e), (name), (repro_phase_begin(name), (body)))
int repro_phase_counted(struct repro_errs* e, const char* name, int result);

/* What a workload implements (workload.c). Each returns 0, or -1 with a message in err (err_size bytes).
 * init and shutdown run on the main thread; the others on worker thread `thread` (0-based). */
int repro_workload_init(char* err, size_t err_size);
int repro_workload_thread_init(int thread, char* err, size_t err_size);
int repro_workload_iterate(int thread, int64_t iteration, char* err, size_t err_size);
void repro_workload_thread_done(int thread);
void repro_workload_shutdown(void);

#endif /* CRASHGRID_REPRO_H_ */

/* The agent block: the contract between libcrashgrid_agent.so (preloaded into every process of a trial) and
 * the supervisor. C and C++ alike include it; plain integers accessed with __atomic builtins, no pointers, a
 * fixed layout, so it stays readable after the trial died and can be read by a crashgrid of another build.
 *
 * The supervisor creates it (a memfd of AGENT_BLOCK_SIZE bytes, zeroed) and hands it to the trial in the
 * environment:
 *   CRASHGRID_AGENT_FD      the memfd (inherited, at the same number in every process of the trial)
 *   CRASHGRID_AGENT_NOTIFY  the write end of a pipe: the agent writes one byte after posting a fault, so the
 *                           supervisor wakes from poll() at once
 *   CRASHGRID_AGENT_MODE    "attach": post the fault and wait for the supervisor to capture (bounded);
 *                           "handler": write the faulting thread's own record to CRASHGRID_HANDLER_FD, no wait
 *   CRASHGRID_AGENT_WAIT_MS the bound on that wait (default 10000): past it the agent writes its own record
 *   CRASHGRID_HANDLER_FD    a memfd for the self-written record (format: src/supervisor/handler_report.h)
 * Without CRASHGRID_AGENT_FD the agent does nothing at all (its interposed functions pass straight through).
 *
 * A fault, step by step (the faulting thread, in its signal handler, on the alternate stack):
 *   1. CAS fault_state 0 -> CLAIMED. Losing the race (another thread or process faulted first) it waits for
 *      fault_state >= RELEASED, then goes on to step 5.
 *   2. fills fault_pid .. fault_unix_ns, then stores fault_state = POSTED (release) and writes the notify byte.
 *   3. FUTEX_WAITs on fault_state (a shared futex: the word lives in a MAP_SHARED memfd) until it is RELEASED
 *      or SELF, or the bound passes.
 *      The supervisor, seeing POSTED: seizes every thread of fault_pid with ptrace, unwinds them all, detaches,
 *      stores RELEASED and FUTEX_WAKEs. If it cannot ptrace, it stores SELF instead.
 *   4. On SELF, or when the bound passed, the agent writes its own record (faulting thread only) to
 *      CRASHGRID_HANDLER_FD and stores fault_state = SELF_WRITTEN.
 *   5. Chains to the handler the program installed for that signal (the agent interposes sigaction/signal, so
 *      it stays first and the program's handler is called after it), or restores the default action and lets
 *      the signal kill the process: a fault raised by the CPU happens again on return, a sent signal is sent
 *      again. The exit status is the one the program would have had without crashgrid.
 */
#ifndef CRASHGRID_AGENT_BLOCK_H_
#define CRASHGRID_AGENT_BLOCK_H_

#include <stdint.h>

#define AGENT_BLOCK_MAGIC 0x41544743u /* "CGTA" */
#define AGENT_BLOCK_VERSION 4u /* 2: the API-call region (struct agent_api) at AGENT_API_OFFSET; 3: in it, the
                                 * phases and iterations a program reports through crashgrid.h; 4: --amplify's
                                 * counters (struct agent_amplify) at AGENT_AMPLIFY_OFFSET */
#define AGENT_BLOCK_SIZE 65536u

#define AGENT_ENV_FD "CRASHGRID_AGENT_FD"
#define AGENT_ENV_NOTIFY "CRASHGRID_AGENT_NOTIFY"
#define AGENT_ENV_MODE "CRASHGRID_AGENT_MODE"
#define AGENT_ENV_WAIT_MS "CRASHGRID_AGENT_WAIT_MS"
#define AGENT_LIB_NAME "libcrashgrid_agent.so"
#define AGENT_LIB_ENV "CRASHGRID_AGENT_LIB" /* overrides where the supervisor looks for the library */

/* fault_state values */
#define AGENT_FAULT_NONE 0
#define AGENT_FAULT_CLAIMED 1      /* a thread is filling in the record */
#define AGENT_FAULT_POSTED 2       /* the record is complete; the faulting thread waits */
#define AGENT_FAULT_RELEASED 3     /* the supervisor captured the stacks and let the thread go */
#define AGENT_FAULT_SELF 4         /* the supervisor cannot capture: the agent writes its own record */
#define AGENT_FAULT_SELF_WRITTEN 5 /* the agent wrote its own record (after SELF, or the wait's bound) */

struct agent_block {
  uint32_t magic;   /* AGENT_BLOCK_MAGIC, written by the supervisor */
  uint32_t version; /* AGENT_BLOCK_VERSION */
  /* Processes whose agent constructor ran with this block (incremented by each; a crash in a trial where it
   * is 0 had no agent: a static or setuid program, or LD_PRELOAD removed from the environment). */
  int32_t processes_loaded;
  int32_t fault_state; /* AGENT_FAULT_*; the futex word */
  int32_t fault_pid;   /* getpid() of the faulting process */
  int32_t fault_tid;   /* gettid() of the faulting thread */
  int32_t fault_signo;
  int32_t fault_code;  /* si_code */
  uint64_t fault_addr; /* si_addr, meaningful when fault_has_addr */
  int32_t fault_has_addr; /* 1 for SIGSEGV/SIGBUS/SIGILL/SIGFPE/SIGTRAP raised by the CPU (si_code > 0 and
                           * not SI_KERNEL), else 0 */
  int32_t reserved0;
  int64_t fault_unix_ns; /* CLOCK_REALTIME when the signal arrived */
  int64_t fault_mono_ns; /* CLOCK_MONOTONIC when the signal arrived (the supervisor's time to crash) */
  char fault_thread_name[16]; /* prctl(PR_GET_NAME) of the faulting thread, NUL-terminated */
  /* How many faults arrived while another was being captured (second crashes, other processes). */
  int32_t faults_after_first;
  int32_t reserved1;
  /* Where the faulting thread was (0 when the agent cannot tell), from the signal's ucontext: */
  uint64_t fault_pc;           /* the interrupted instruction pointer */
  uint64_t fault_sp;           /* the interrupted stack pointer */
  uint64_t fault_context_addr; /* address of that ucontext_t in fault_pid (on the faulting thread's alternate
                                * stack, valid while it waits): all registers at the fault, for an unwind that
                                * starts at the fault instead of in the agent's handler */
};

/* ---- version 2: the API calls each thread is in (src/agent/api_track.c writes it) ----
 *
 * At AGENT_API_OFFSET, after the fault record's page. Every field is written with relaxed atomics by the thread
 * that owns it and read by the supervisor at any time, also after the trial died (torn values are possible
 * while it runs and harmless: a report names what the threads were doing when they were stopped).
 *
 * Names: the process-wide table of tracked calls, by id (index + 1; id 0 is "no call"). An entry is claimed with
 * fetch_add on names_used, its name written, then `ready` stored (release); readers skip entries not ready.
 * The processes of a trial share it (a shell and its child); each process keeps its own id cache.
 *
 * Threads: one slot per thread that made a tracked call, claimed with a CAS of `tid` from 0, given back (tid 0)
 * when the thread exits normally. A thread killed with its process keeps its slot: what it was in stays there.
 * call is the innermost tracked call in flight, outer the outermost (depth counts the nesting), 0 when none.
 * calls counts the thread's tracked calls (entered); outer_arg is the outer call's second argument as an integer
 * (gst_element_set_state's GstState), for the report.
 *
 * AGENT_ENV_API ("CRASHGRID_API"), set by the supervisor: "off" disables tracking (the interposed functions
 * then cost one branch); anything else, or unset, tracks.
 * AGENT_ENV_SERIALIZE ("CRASHGRID_SERIALIZE"): comma-separated groups or globs whose calls the agent runs under
 * one process-wide lock (the groups: src/agent/api_names.h).
 *
 * Version 3: a program's own phases and iterations (include/crashgrid.h; the agent's half is
 * src/agent/program_phases.c). A thread's slot carries the phase it named last (`phase`, an id into `phases`,
 * claimed like `names`; 0 between phases) and its iteration count; `iterations` counts all threads and
 * processes of the trial (slots are given back when threads exit, the total stays), and `program_reports` is 1
 * once a program called into crashgrid.h, so that 0 iterations reads as "none counted", not "not reported".
 * Phase names hold printable ASCII only ('?' for anything else). These work with CRASHGRID_API=off too. */
#define AGENT_API_OFFSET 4096u
#define AGENT_API_NAMES 256u
#define AGENT_API_NAME_MAX 48u
#define AGENT_API_THREADS 512u
#define AGENT_API_PHASES 64u
#define AGENT_ENV_API "CRASHGRID_API"
#define AGENT_ENV_SERIALIZE "CRASHGRID_SERIALIZE"

struct agent_api_name {
  uint64_t calls;   /* calls entered, all threads and processes together */
  uint32_t ready;   /* 1 once name is written */
  uint32_t group;   /* reserved */
  char name[AGENT_API_NAME_MAX]; /* NUL-terminated */
};

struct agent_api_thread {
  int32_t tid;   /* 0: a free slot */
  int32_t pid;
  uint32_t call; /* innermost call in flight (name id), 0 when none */
  uint32_t outer;
  int32_t depth;
  uint32_t phase; /* the program's phase (crashgrid.h): id into agent_api.phases, 0 when none (version 3) */
  uint64_t calls;
  int64_t call_mono_ns;  /* CLOCK_MONOTONIC_COARSE at entry of `call` (same clock, a tick's resolution) */
  int64_t outer_mono_ns; /* and of `outer` */
  uint64_t outer_arg;
  uint64_t iterations; /* CRASHGRID_ITERATION()s of this thread (version 3) */
};

struct agent_api {
  uint32_t names_used;      /* entries claimed (may exceed AGENT_API_NAMES: those calls go untracked) */
  uint32_t threads_dropped; /* threads that found no free slot */
  uint64_t iterations;      /* version 3: CRASHGRID_ITERATION()s of every thread and process of the trial */
  uint32_t program_reports; /* version 3: 1 once the program called crashgrid.h's functions */
  uint32_t phases_used;     /* version 3: entries of `phases` claimed (as names_used) */
  uint32_t reserved[10];
  struct agent_api_name names[AGENT_API_NAMES];
  struct agent_api_thread threads[AGENT_API_THREADS];
  struct agent_api_name phases[AGENT_API_PHASES]; /* version 3: phase names; `calls` counts their entries */
};

/* ---- version 4: --amplify (src/agent/amplify.h, amplify.c) ----
 *
 * At AGENT_AMPLIFY_OFFSET, after the API region. Written by every process of the trial that injects delays
 * (CRASHGRID_AMPLIFY set): active = 1, the seed it drew from, and the delays it injected (count and total). */
#define AGENT_AMPLIFY_OFFSET 61440u

struct agent_amplify {
  uint32_t active;   /* 1 once a process of the trial amplifies */
  uint32_t reserved;
  uint64_t seed;     /* CRASHGRID_AMPLIFY_SEED as parsed */
  uint64_t delays;   /* delays injected, all threads and processes */
  uint64_t delay_ns; /* their total duration */
};

#endif /* CRASHGRID_AGENT_BLOCK_H_ */

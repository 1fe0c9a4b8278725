// libcrashgrid_agent.so: the in-trial half of crash capture, preloaded (LD_PRELOAD) into every process of a
// trial. The protocol with the supervisor is src/agent/agent_block.h; this file is the agent's side of it.
//
// The constructor maps the agent block (CRASHGRID_AGENT_FD), installs one handler for the crash signals and
// gives every thread an alternate stack. At a fault the handler, with async-signal-safe calls only:
//   attach mode:  claims the block, posts the faulting thread's pid/tid/signal/address/time/name, wakes the
//                 supervisor (one byte on CRASHGRID_AGENT_NOTIFY) and waits on the block's futex while the
//                 supervisor seizes and unwinds every thread. If the supervisor answers SELF, or does not
//                 answer within CRASHGRID_AGENT_WAIT_MS, it writes its own record to CRASHGRID_HANDLER_FD.
//   handler mode: writes its own record at once (the `--capture handler` fallback; also without a block, when
//                 only CRASHGRID_HANDLER_FD is set, as libcrashgrid_handler.so did).
// Then it chains to the handler the program installed (sigaction/signal are interposed, so the agent stays
// first and the program sees only its own handlers), or restores the default action and lets the signal kill
// the process: the exit status is the one the program has without crashgrid.
//
// Decisions the protocol leaves open:
//   - When the bound passes, the agent takes the fault over with CAS POSTED -> SELF, so a supervisor that
//     stores RELEASED with a CAS from POSTED learns it came too late; it then writes its record and stores
//     SELF_WRITTEN. Without a usable CRASHGRID_HANDLER_FD it leaves POSTED (or the supervisor's SELF) alone.
//   - In handler mode with a block the first fault of the trial claims it, fills it in and stores
//     SELF_WRITTEN once its record is written (no POSTED, no wait); the notify byte follows. Each process
//     writes a record for its first fault (as the old handler did), later ones only count.
//   - A sent signal (si_code <= 0) that the program ignores is not a crash: no record, dropped as the kernel
//     would. SIGABRT is always reported (abort() goes on to kill even when SIGABRT is ignored).
//   - SIGTRAP and the asynchronous SIGBUS (BUS_MCEERR_AO) do not happen again on return: with the default
//     action they are re-sent, like sent signals. Other CPU faults (si_code > 0, SI_KERNEL included) re-fault.
//   - processes_loaded counts constructors (exec'd processes), not fork()ed children.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <unwind.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "agent/agent_block.h"
#include "agent/agent_internal.h"

#define EXPORT __attribute__((visibility("default")))

#define ALTSTACK_SIZE (256 * 1024)  // the program's handlers run on it too; only touched pages cost memory
#define MAX_FRAMES 128
#define DEFAULT_WAIT_MS 10000

enum { MODE_OFF = 0, MODE_ATTACH = 1, MODE_HANDLER = 2 };

static const int kSignals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP};
#define NSIG_OURS ((int)(sizeof kSignals / sizeof kSignals[0]))

// Set once by the constructor, read everywhere after.
static int g_mode = MODE_OFF;
static struct agent_block* g_block;
static int g_notify_fd = -1;
static int g_handler_fd = -1;
static dev_t g_notify_dev, g_handler_dev;  // what the fds were at load time: a program may close and reuse them
static ino_t g_notify_ino, g_handler_ino;
static int64_t g_wait_ns = (int64_t)DEFAULT_WAIT_MS * 1000000;
static pthread_key_t g_altstack_key;
static int g_altstack_key_ok;
static int g_self_written;  // this process wrote its record (per process: reset in a fork()ed child)

// The program's view of the crash signals: what it installed ("chained"), behind a spinlock that is only
// ever held with every signal blocked, so neither a signal handler nor a thread that holds it can interrupt
// it; the critical sections copy a few bytes and make one rt_sigaction call.
static struct sigaction g_chained[NSIG_OURS];
static int g_chain_lock;
static sigset_t g_fork_saved_mask;

typedef int (*sigaction_fn)(int, const struct sigaction*, struct sigaction*);
typedef sighandler_t (*signal_fn)(int, sighandler_t);
typedef int (*pthread_create_fn)(pthread_t*, const pthread_attr_t*, void* (*)(void*), void*);
static sigaction_fn g_real_sigaction;
static signal_fn g_real_signal, g_real_bsd_signal, g_real_sysv_signal, g_real___sysv_signal, g_real_sigset;
static pthread_create_fn g_real_pthread_create;

static void on_fault(int sig, siginfo_t* si, void* ucv);

static void* next_symbol(const char* name) { return cg_next_symbol(name); }

static void resolve_real(void) {
  if (!__atomic_load_n(&g_real_sigaction, __ATOMIC_ACQUIRE)) {
    sigaction_fn f = (sigaction_fn)next_symbol("sigaction");
    if (!f) f = (sigaction_fn)dlsym(RTLD_DEFAULT, "__sigaction");  // glibc's alias, never interposed here
    if (f) __atomic_store_n(&g_real_sigaction, f, __ATOMIC_RELEASE);
  }
  if (!g_real_signal) g_real_signal = (signal_fn)next_symbol("signal");
  if (!g_real_bsd_signal) g_real_bsd_signal = (signal_fn)next_symbol("bsd_signal");
  if (!g_real_sysv_signal) g_real_sysv_signal = (signal_fn)next_symbol("sysv_signal");
  if (!g_real___sysv_signal) g_real___sysv_signal = (signal_fn)next_symbol("__sysv_signal");
  if (!g_real_sigset) g_real_sigset = (signal_fn)next_symbol("sigset");
  if (!g_real_pthread_create) g_real_pthread_create = (pthread_create_fn)next_symbol("pthread_create");
}

static sigaction_fn real_sigaction(void) {
  sigaction_fn f = __atomic_load_n(&g_real_sigaction, __ATOMIC_ACQUIRE);
  if (!f) {
    resolve_real();
    f = __atomic_load_n(&g_real_sigaction, __ATOMIC_ACQUIRE);
  }
  return f;
}

static int active(void) { return __atomic_load_n(&g_mode, __ATOMIC_ACQUIRE) != MODE_OFF; }

static int slot_of(int sig) {
  for (int i = 0; i < NSIG_OURS; ++i) {
    if (kSignals[i] == sig) return i;
  }
  return -1;
}

// The slot of `sig` when the agent owns it, else -1 (pass through).
static int owned_slot(int sig) { return active() ? slot_of(sig) : -1; }

static void chain_lock(sigset_t* saved) {
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, saved);
  while (__atomic_exchange_n(&g_chain_lock, 1, __ATOMIC_ACQUIRE)) sched_yield();
}

static void chain_unlock(const sigset_t* saved) {
  __atomic_store_n(&g_chain_lock, 0, __ATOMIC_RELEASE);
  pthread_sigmask(SIG_SETMASK, saved, NULL);
}

// Our handler, as the kernel holds it: SA_RESTART follows the program's wish for the signal (syscalls that
// a sent signal interrupts), the crash signals stay blocked while the agent works (a fault inside the agent
// then kills at once instead of nesting).
static void ours(int program_flags, struct sigaction* sa) {
  memset(sa, 0, sizeof *sa);
  sa->sa_sigaction = on_fault;
  sigemptyset(&sa->sa_mask);
  for (int i = 0; i < NSIG_OURS; ++i) sigaddset(&sa->sa_mask, kSignals[i]);
  sa->sa_flags = SA_SIGINFO | SA_ONSTACK | (program_flags & SA_RESTART);
}

static void install_ours_locked(int sig, int program_flags) {
  struct sigaction sa;
  ours(program_flags, &sa);
  real_sigaction()(sig, &sa, NULL);
}

// sigaction() for a signal the agent owns: the program's handler goes to the chain, ours stays installed.
static void chained_sigaction(int slot, const struct sigaction* act, struct sigaction* oact) {
  struct sigaction in, out;
  if (act) in = *act;  // before the lock: a bad pointer faults here, not while holding it
  sigset_t saved;
  chain_lock(&saved);
  out = g_chained[slot];
  if (act) {
    g_chained[slot] = in;
    install_ours_locked(kSignals[slot], in.sa_flags);
  }
  chain_unlock(&saved);
  if (oact) *oact = out;
}

// ---- time, futex, fds ----

static int64_t now_ns(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int32_t load_state(struct agent_block* b) { return __atomic_load_n(&b->fault_state, __ATOMIC_ACQUIRE); }

static void futex_wake_all(struct agent_block* b) {
  syscall(SYS_futex, &b->fault_state, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

// Waits until done(fault_state) or CLOCK_MONOTONIC passes `deadline`. A shared futex: the word lives in a
// MAP_SHARED memfd the supervisor maps too.
static void wait_state(struct agent_block* b, int64_t deadline, int (*done)(int32_t)) {
  for (;;) {
    int32_t st = load_state(b);
    if (done(st)) return;
    int64_t left = deadline - now_ns(CLOCK_MONOTONIC);
    if (left <= 0) return;
    struct timespec ts = {(time_t)(left / 1000000000), (long)(left % 1000000000)};
    syscall(SYS_futex, &b->fault_state, FUTEX_WAIT, st, &ts, NULL, 0);
  }
}

static int winner_done(int32_t st) { return st != AGENT_FAULT_POSTED; }
static int loser_done(int32_t st) { return st >= AGENT_FAULT_RELEASED; }

// Still the file it was at load time (the program may have closed the fd and opened something else there).
static int same_file(int fd, dev_t dev, ino_t ino) {
  if (fd < 0) return 0;
  struct stat st;
  return fstat(fd, &st) == 0 && st.st_dev == dev && st.st_ino == ino;
}

static int remember_file(int fd, dev_t* dev, ino_t* ino) {
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) return -1;
  *dev = st.st_dev;
  *ino = st.st_ino;
  return fd;
}

static pid_t my_pid(void) { return (pid_t)syscall(SYS_getpid); }
static pid_t my_tid(void) { return (pid_t)syscall(SYS_gettid); }

// ---- async-signal-safe formatting of the self-written record (src/supervisor/handler_report.h) ----

struct out {
  int fd;
  size_t len;
  char buf[8192];
};

static void flush(struct out* o) {
  size_t off = 0;
  while (off < o->len) {
    ssize_t w = write(o->fd, o->buf + off, o->len - off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) break;
    off += (size_t)w;
  }
  o->len = 0;
}

static void put(struct out* o, const char* s, size_t n) {
  while (n > 0) {
    if (o->len == sizeof o->buf) flush(o);
    size_t room = sizeof o->buf - o->len;
    size_t k = n < room ? n : room;
    memcpy(o->buf + o->len, s, k);
    o->len += k;
    s += k;
    n -= k;
  }
}

static void puts_(struct out* o, const char* s) { put(o, s, strlen(s)); }

static void put_dec(struct out* o, long v) {
  char tmp[24];
  int i = sizeof tmp;
  int neg = v < 0;
  unsigned long u = neg ? -(unsigned long)v : (unsigned long)v;
  do {
    tmp[--i] = (char)('0' + u % 10);
    u /= 10;
  } while (u);
  if (neg) tmp[--i] = '-';
  put(o, tmp + i, sizeof tmp - i);
}

static void put_hex(struct out* o, uintptr_t v) {
  char tmp[20];
  int i = sizeof tmp;
  do {
    tmp[--i] = "0123456789abcdef"[v & 15];
    v >>= 4;
  } while (v);
  tmp[--i] = 'x';
  tmp[--i] = '0';
  put(o, tmp + i, sizeof tmp - i);
}

static uintptr_t interrupted_pc(void* ucv) {
  ucontext_t* uc = (ucontext_t*)ucv;
#if defined(__x86_64__)
  return (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
#elif defined(__aarch64__)
  return (uintptr_t)uc->uc_mcontext.pc;
#else
  (void)uc;
  return 0;
#endif
}

static uintptr_t interrupted_sp(void* ucv) {
  ucontext_t* uc = (ucontext_t*)ucv;
#if defined(__x86_64__)
  return (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
#elif defined(__aarch64__)
  return (uintptr_t)uc->uc_mcontext.sp;
#else
  (void)uc;
  return 0;
#endif
}

// A fault the CPU raised, with an address: SIGSEGV/SIGBUS/SIGILL/SIGFPE/SIGTRAP with si_code > 0 and not
// SI_KERNEL (a general-protection fault, e.g. a non-canonical address, reports no address).
static int has_fault_addr(int sig, const siginfo_t* si) {
  return sig != SIGABRT && si->si_code > 0 && si->si_code != SI_KERNEL;
}

// The return addresses of this thread's stack, innermost first, like backtrace(3). The unwinder is libgcc's,
// linked into the agent (-static-libgcc, its symbols hidden): glibc's backtrace() loads libgcc_s with dlopen at
// its first call, which cannot happen in a signal handler and cost every trial process ~0.4 ms when done at
// load time instead (bench/results/exec-throughput.md). No allocation, no loader call.
struct unwind_state {
  void** frames;
  int n;
  int max;
};

static _Unwind_Reason_Code unwind_one(struct _Unwind_Context* ctx, void* arg) {
  struct unwind_state* st = arg;
  if (st->n >= st->max) return _URC_END_OF_STACK;
  st->frames[st->n++] = (void*)_Unwind_GetIP(ctx);
  return _URC_NO_REASON;
}

static int unwind_frames(void** frames, int max) {
  struct unwind_state st = {frames, 0, max};
  _Unwind_Backtrace(unwind_one, &st);
  return st.n;
}

static void write_record(int fd, int sig, siginfo_t* si, void* uc) {
  static struct out o;  // static: the alternate stack is small; one writer per process (g_self_written)
  o.fd = fd;
  o.len = 0;
  // Several processes of one trial share the file (a shell and its child): one record at a time. POSIX
  // record locks belong to the process, so they exclude each other even through one shared description.
  struct flock lk;
  memset(&lk, 0, sizeof lk);
  lk.l_type = F_WRLCK;
  lk.l_whence = SEEK_SET;
  while (fcntl(fd, F_SETLKW, &lk) < 0 && errno == EINTR) {
  }
  puts_(&o, "CRASHGRID-HANDLER 1\npid ");
  put_dec(&o, my_pid());
  puts_(&o, "\ntid ");
  put_dec(&o, my_tid());
  puts_(&o, "\nsignal ");
  put_dec(&o, sig);
  puts_(&o, "\ncode ");
  put_dec(&o, si->si_code);
  if (has_fault_addr(sig, si)) {
    puts_(&o, "\naddr ");
    put_hex(&o, (uintptr_t)si->si_addr);
  } else {
    puts_(&o, "\nnoaddr");
  }
  char name[17] = {0};
  prctl(PR_GET_NAME, name, 0, 0, 0);
  puts_(&o, "\nname ");
  puts_(&o, name);
  puts_(&o, "\n");
  // The unwinder walks through the signal frame (glibc's __restore_rt has CFI), so the interrupted pc shows up
  // as one of the entries: drop the agent's own frames before it.
  void* frames[MAX_FRAMES];
  int n = unwind_frames(frames, MAX_FRAMES);
  uintptr_t pc = interrupted_pc(uc);
  int first = -1;
  for (int i = 0; i < n; ++i) {
    if ((uintptr_t)frames[i] == pc) {
      first = i;
      break;
    }
  }
  if (first < 0 && pc != 0) {
    puts_(&o, "pc ");
    put_hex(&o, pc);
    puts_(&o, "\n");
  }
  for (int i = first < 0 ? 1 : first; i < n; ++i) {
    puts_(&o, "pc ");
    put_hex(&o, (uintptr_t)frames[i]);
    puts_(&o, "\n");
  }
  puts_(&o, "maps\n");
  int maps = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
  if (maps >= 0) {
    char chunk[4096];
    for (;;) {
      ssize_t r = read(maps, chunk, sizeof chunk);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) break;
      put(&o, chunk, (size_t)r);
    }
    close(maps);
  }
  puts_(&o, "end\n");
  flush(&o);
  lk.l_type = F_UNLCK;
  fcntl(fd, F_SETLK, &lk);
}

// This process's record, once: true when it was written.
static int write_self_once(int sig, siginfo_t* si, void* uc) {
  if (!same_file(g_handler_fd, g_handler_dev, g_handler_ino)) return 0;
  if (__atomic_exchange_n(&g_self_written, 1, __ATOMIC_ACQ_REL)) return 0;
  write_record(g_handler_fd, sig, si, uc);
  return 1;
}

// ---- the fault ----

static void fill_block(struct agent_block* b, int sig, const siginfo_t* si, void* uc, int64_t unix_ns,
                       int64_t mono_ns) {
  b->fault_pid = my_pid();
  b->fault_tid = my_tid();
  b->fault_signo = sig;
  b->fault_code = si->si_code;
  b->fault_has_addr = has_fault_addr(sig, si);
  b->fault_addr = b->fault_has_addr ? (uint64_t)(uintptr_t)si->si_addr : 0;
  b->fault_unix_ns = unix_ns;
  b->fault_mono_ns = mono_ns;
  b->fault_pc = interrupted_pc(uc);
  b->fault_sp = interrupted_sp(uc);
  b->fault_context_addr = (uint64_t)(uintptr_t)uc;
  char name[16] = {0};
  prctl(PR_GET_NAME, name, 0, 0, 0);
  name[15] = 0;
  memcpy(b->fault_thread_name, name, sizeof name);
}

static void notify(void) {
  if (!same_file(g_notify_fd, g_notify_dev, g_notify_ino)) return;
  char c = '!';
  while (write(g_notify_fd, &c, 1) < 0 && errno == EINTR) {  // O_NONBLOCK: EAGAIN (a full pipe) is fine
  }
}

static int claim(struct agent_block* b) {
  int32_t expected = AGENT_FAULT_NONE;
  return __atomic_compare_exchange_n(&b->fault_state, &expected, AGENT_FAULT_CLAIMED, 0, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE);
}

static void report_attach(struct agent_block* b, int sig, siginfo_t* si, void* uc, int64_t unix_ns,
                          int64_t mono_ns) {
  int64_t deadline = mono_ns + g_wait_ns;
  if (!claim(b)) {
    // Another thread or process faulted first: let the supervisor finish with it, then go on.
    __atomic_add_fetch(&b->faults_after_first, 1, __ATOMIC_ACQ_REL);
    wait_state(b, deadline, loser_done);
    return;
  }
  fill_block(b, sig, si, uc, unix_ns, mono_ns);
  __atomic_store_n(&b->fault_state, AGENT_FAULT_POSTED, __ATOMIC_RELEASE);
  futex_wake_all(b);  // losers that saw CLAIMED now wait for RELEASED
  notify();
  wait_state(b, deadline, winner_done);
  int32_t st = load_state(b);
  if (st == AGENT_FAULT_POSTED && same_file(g_handler_fd, g_handler_dev, g_handler_ino)) {
    int32_t expected = AGENT_FAULT_POSTED;  // the bound passed: take the fault over
    st = __atomic_compare_exchange_n(&b->fault_state, &expected, AGENT_FAULT_SELF, 0, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE)
             ? AGENT_FAULT_SELF
             : expected;
  }
  if (st == AGENT_FAULT_SELF && write_self_once(sig, si, uc)) {
    __atomic_store_n(&b->fault_state, AGENT_FAULT_SELF_WRITTEN, __ATOMIC_RELEASE);
  }
  futex_wake_all(b);  // whatever the supervisor woke, every loser goes on now
}

static void report_handler(struct agent_block* b, int sig, siginfo_t* si, void* uc, int64_t unix_ns,
                           int64_t mono_ns) {
  int claimed = b && claim(b);
  if (claimed) fill_block(b, sig, si, uc, unix_ns, mono_ns);
  else if (b) __atomic_add_fetch(&b->faults_after_first, 1, __ATOMIC_ACQ_REL);
  int written = write_self_once(sig, si, uc);
  if (claimed) {
    __atomic_store_n(&b->fault_state, written ? AGENT_FAULT_SELF_WRITTEN : AGENT_FAULT_POSTED,
                     __ATOMIC_RELEASE);
    futex_wake_all(b);
    notify();
  }
}

// Kernel-raised faults that do not happen again when the handler returns.
static int refaults_on_return(int sig, const siginfo_t* si) {
  if (si->si_code <= 0 || sig == SIGABRT || sig == SIGTRAP) return 0;
  if (sig == SIGBUS && si->si_code == BUS_MCEERR_AO) return 0;
  return 1;
}

// The program's buffered stdout, written out before the signal kills it (a pipe or file would otherwise keep up
// to 4 KiB in the dying process), when no other thread holds the stream: this never waits. If the crashing
// thread itself was inside stdio (the lock is recursive) a second fault here is blocked and kills the process
// with the same signal, so the outcome is the one the program has without crashgrid.
static void flush_stdout_if_free(void) {
  if (ftrylockfile(stdout) != 0) return;
  fflush_unlocked(stdout);
  funlockfile(stdout);
}

static void die_by_default(int sig, const siginfo_t* si) {
  flush_stdout_if_free();
  struct sigaction dfl;
  memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  real_sigaction()(sig, &dfl, NULL);
  // A CPU fault happens again when the handler returns and kills with its original si_code; anything else
  // is sent again, to this thread: pending (blocked) until the handler returns, then fatal.
  if (!refaults_on_return(sig, si)) syscall(SYS_tgkill, my_pid(), my_tid(), sig);
}

static void on_fault(int sig, siginfo_t* si, void* ucv) {
  int saved_errno = errno;
  int64_t unix_ns = now_ns(CLOCK_REALTIME), mono_ns = now_ns(CLOCK_MONOTONIC);
  int slot = slot_of(sig);
  if (slot < 0) return;  // cannot happen: installed for kSignals only
  sigset_t saved;
  chain_lock(&saved);
  struct sigaction act = g_chained[slot];
  chain_unlock(&saved);

  int sent = si->si_code <= 0;
  int ignored = act.sa_handler == SIG_IGN;
  if (!(ignored && sent && sig != SIGABRT)) {
    if (g_mode == MODE_ATTACH && g_block) report_attach(g_block, sig, si, ucv, unix_ns, mono_ns);
    else if (g_mode == MODE_HANDLER) report_handler(g_block, sig, si, ucv, unix_ns, mono_ns);
  }

  // Chain. Read again: the program may have changed its handler meanwhile; SA_RESETHAND resets it, as the
  // kernel does at delivery.
  chain_lock(&saved);
  act = g_chained[slot];
  int is_function = act.sa_handler != SIG_DFL && act.sa_handler != SIG_IGN;
  if (is_function && (act.sa_flags & SA_RESETHAND)) g_chained[slot].sa_handler = SIG_DFL;
  chain_unlock(&saved);

  if (act.sa_handler == SIG_IGN) {
    // The kernel drops an ignored signal that was sent; a fault it raises kills regardless.
    if (sent) {
      errno = saved_errno;
      return;
    }
    die_by_default(sig, si);
  } else if (act.sa_handler == SIG_DFL) {
    die_by_default(sig, si);
  } else {
    // The mask the kernel would have set for the program's handler: the interrupted one, its sa_mask and,
    // unless SA_NODEFER, the signal itself. sigreturn restores the interrupted one after.
    ucontext_t* uc = (ucontext_t*)ucv;
    sigset_t mask = uc->uc_sigmask;
    sigorset(&mask, &mask, &act.sa_mask);
    if (!(act.sa_flags & SA_NODEFER)) sigaddset(&mask, sig);
    pthread_sigmask(SIG_SETMASK, &mask, NULL);
    errno = saved_errno;
    if (act.sa_flags & SA_SIGINFO) act.sa_sigaction(sig, si, ucv);
    else act.sa_handler(sig);
    return;
  }
  errno = saved_errno;
}

// ---- alternate stacks: one per thread, so a stack overflow in any thread still reaches the handler ----

// Alternate stacks come from chunks mapped ahead of time, not one mmap per new thread: mapping one (mmap plus
// the mprotect of its guard page take the process's mmap lock for writing) delayed every thread's start and
// stalled the page faults of the threads already running, and that changed how often a start-up race crashed
// (measured: bench/results/capture-race.md). A starting thread takes a stack from the free list (a spinlock
// held for a few instructions, never in a signal handler) and makes one sigaltstack call; an exiting thread
// gives it back. Only when the list and the chunk run dry is another chunk mapped, once per POOL_CHUNK threads
// (after the first POOL_FIRST_CHUNK).
#define POOL_CHUNK 64

struct free_stack {
  struct free_stack* next;  // lives at the base of a free stack
};
static struct free_stack* g_free_stacks;
static int g_pool_lock;
static size_t g_page;

static void pool_lock(void) {
  while (__atomic_test_and_set(&g_pool_lock, __ATOMIC_ACQUIRE)) {
  }
}
static void pool_unlock(void) { __atomic_clear(&g_pool_lock, __ATOMIC_RELEASE); }

// Guard pages without splitting the mapping: MADV_GUARD_INSTALL (Linux 6.13) marks a page so that touching it
// faults, under the mmap lock taken for reading and with no new VMA; an mprotect per guard page split the chunk
// into 128 VMAs and cost more than the rest of the agent's start-up together (bench/results/exec-throughput.md).
// Older kernels reject the advice (EINVAL) and get the mprotect.
#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif
static int g_guard_by_madvise = 1;

static void install_guard(char* page) {
  if (g_guard_by_madvise && madvise(page, g_page, MADV_GUARD_INSTALL) == 0) return;
  g_guard_by_madvise = 0;
  mprotect(page, g_page, PROT_NONE);  // overflowing an alternate stack faults instead of hitting the next
}

// The newest chunk, its size and how many of its stacks were handed out: a stack is first touched when a thread
// takes it, not when the chunk is mapped (linking every stack into the free list up front faulted in a page of
// each). The guard pages are installed when the chunk is mapped, not when a thread takes its stack: a system
// call at every thread's start shifted a start-up race's timing (bench/results/capture-race.md). The first
// chunk is small: most trial processes (a shell, /bin/true, a launcher script) start a few threads, and every
// stack of a chunk costs its guard page's system call in the process's start-up.
#define POOL_FIRST_CHUNK 16
static char* g_chunk;
static int g_chunk_size;
static int g_chunk_used;

static size_t slot_size(void) { return g_page + ALTSTACK_SIZE; }

// Maps a chunk of stacks, each above a guard page. Called with the lock held.
static void pool_grow_locked(void) {
  int n = g_chunk ? POOL_CHUNK : POOL_FIRST_CHUNK;
  char* mem = mmap(NULL, slot_size() * (size_t)n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) return;
  for (int i = 0; i < n; ++i) install_guard(mem + (size_t)i * slot_size());
  g_chunk = mem;
  g_chunk_size = n;
  g_chunk_used = 0;
}

static void* pool_take(void) {
  pool_lock();
  void* stack = NULL;
  struct free_stack* f = g_free_stacks;
  if (f) {
    g_free_stacks = f->next;
    stack = f;
  } else {
    if (g_chunk_used == g_chunk_size) pool_grow_locked();
    if (g_chunk_used < g_chunk_size) stack = g_chunk + (size_t)g_chunk_used++ * slot_size() + g_page;
  }
  pool_unlock();
  return stack;
}

static void pool_give(void* stack) {
  struct free_stack* f = stack;
  pool_lock();
  f->next = g_free_stacks;
  g_free_stacks = f;
  pool_unlock();
}

static void setup_altstack(void) {
  stack_t cur;
  if (sigaltstack(NULL, &cur) == 0 && !(cur.ss_flags & SS_DISABLE)) return;  // the thread has one already
  void* mem = pool_take();
  if (!mem) return;
  stack_t ss;
  ss.ss_sp = mem;
  ss.ss_size = ALTSTACK_SIZE;
  ss.ss_flags = 0;
  if (sigaltstack(&ss, NULL) != 0) {
    pool_give(mem);
    return;
  }
  if (g_altstack_key_ok) pthread_setspecific(g_altstack_key, mem);
}

static void free_altstack(void* mem) {
  stack_t cur;
  if (sigaltstack(NULL, &cur) == 0 && cur.ss_sp == mem) {  // still ours, not the program's
    stack_t off;
    memset(&off, 0, sizeof off);
    off.ss_flags = SS_DISABLE;
    if (sigaltstack(&off, NULL) != 0) return;  // running on it: leave it out of the pool
  }
  pool_give(mem);
}

// A new thread starts in start_thunk, which gives it its alternate stack and then calls the program's start
// routine. The routine and its argument travel in a slot of a static table, not in a malloc'd block: a
// free() as a thread's first act initialises its malloc arena and tcache (an mmap of the arena under the
// process's mmap lock), which the program's own threads would not have done at that moment; with it, a
// start-up race crashed in 87 of 100 trials instead of 32 (bench/results/capture-race.md).
#define START_SLOTS 1024

struct start_slot {
  void* (*fn)(void*);
  void* arg;
  int busy;
};
static struct start_slot g_start_slots[START_SLOTS];
static unsigned g_start_next;

static struct start_slot* slot_claim(void) {
  unsigned first = __atomic_fetch_add(&g_start_next, 1, __ATOMIC_RELAXED);
  for (unsigned i = 0; i < START_SLOTS; ++i) {
    struct start_slot* s = &g_start_slots[(first + i) % START_SLOTS];
    if (!__atomic_test_and_set(&s->busy, __ATOMIC_ACQUIRE)) return s;
  }
  return NULL;  // a thousand threads starting at once: the caller starts this one without a thunk
}

static void* start_thunk(void* p) {
  struct start_slot* s = p;
  void* (*fn)(void*) = s->fn;
  void* arg = s->arg;
  __atomic_clear(&s->busy, __ATOMIC_RELEASE);
  setup_altstack();
  // --amplify: a new thread that sometimes starts late, the other order of a start-up race.
  if (__atomic_load_n(&cg_amp_on, __ATOMIC_RELAXED)) cg_amp_point(CG_AMP_THREAD_START);
  return fn(arg);
}

EXPORT int pthread_create(pthread_t* t, const pthread_attr_t* attr, void* (*fn)(void*), void* arg) {
  if (!g_real_pthread_create) resolve_real();
  if (!g_real_pthread_create) return EAGAIN;
  if (!active()) return g_real_pthread_create(t, attr, fn, arg);
  struct start_slot* s = slot_claim();
  int rc;
  if (!s) {
    rc = g_real_pthread_create(t, attr, fn, arg);
  } else {
    s->fn = fn;
    s->arg = arg;
    rc = g_real_pthread_create(t, attr, start_thunk, s);
    if (rc != 0) __atomic_clear(&s->busy, __ATOMIC_RELEASE);
  }
  // --amplify: the creator, too, sometimes waits after the start, so that the new thread runs first: the other
  // order of "create, then set up what the thread needs", which plain runs almost never take.
  if (rc == 0 && __atomic_load_n(&cg_amp_on, __ATOMIC_RELAXED)) cg_amp_point(CG_AMP_THREAD_START);
  return rc;
}

// ---- interposed signal functions: for the crash signals the program sees and sets only its own ----

EXPORT int sigaction(int sig, const struct sigaction* act, struct sigaction* oact) {
  int slot = owned_slot(sig);
  if (slot < 0) {
    sigaction_fn real = real_sigaction();
    if (!real) {
      errno = ENOSYS;
      return -1;
    }
    return real(sig, act, oact);
  }
  chained_sigaction(slot, act, oact);
  return 0;
}

// signal() and bsd_signal(): BSD semantics (the signal blocked in its handler, syscalls restarted).
static sighandler_t bsd_signal_owned(int slot, int sig, sighandler_t handler) {
  if (handler == SIG_ERR) {
    errno = EINVAL;
    return SIG_ERR;
  }
  struct sigaction act, old;
  memset(&act, 0, sizeof act);
  act.sa_handler = handler;
  sigemptyset(&act.sa_mask);
  sigaddset(&act.sa_mask, sig);
  act.sa_flags = SA_RESTART;
  chained_sigaction(slot, &act, &old);
  return old.sa_handler;
}

// sysv_signal(): one-shot, not blocked in its handler (what signal() is for strict ISO C programs).
static sighandler_t sysv_signal_owned(int slot, sighandler_t handler) {
  if (handler == SIG_ERR) {
    errno = EINVAL;
    return SIG_ERR;
  }
  struct sigaction act, old;
  memset(&act, 0, sizeof act);
  act.sa_handler = handler;
  sigemptyset(&act.sa_mask);
  act.sa_flags = SA_RESETHAND | SA_NODEFER;
  chained_sigaction(slot, &act, &old);
  return old.sa_handler;
}

EXPORT sighandler_t signal(int sig, sighandler_t handler) {
  int slot = owned_slot(sig);
  if (slot >= 0) return bsd_signal_owned(slot, sig, handler);
  if (!g_real_signal) resolve_real();
  return g_real_signal ? g_real_signal(sig, handler) : SIG_ERR;
}

sighandler_t bsd_signal(int sig, sighandler_t handler);
EXPORT sighandler_t bsd_signal(int sig, sighandler_t handler) {
  int slot = owned_slot(sig);
  if (slot >= 0) return bsd_signal_owned(slot, sig, handler);
  if (!g_real_bsd_signal) resolve_real();
  return g_real_bsd_signal ? g_real_bsd_signal(sig, handler) : SIG_ERR;
}

EXPORT sighandler_t sysv_signal(int sig, sighandler_t handler) {
  int slot = owned_slot(sig);
  if (slot >= 0) return sysv_signal_owned(slot, handler);
  if (!g_real_sysv_signal) resolve_real();
  return g_real_sysv_signal ? g_real_sysv_signal(sig, handler) : SIG_ERR;
}

EXPORT sighandler_t __sysv_signal(int sig, sighandler_t handler) {
  int slot = owned_slot(sig);
  if (slot >= 0) return sysv_signal_owned(slot, handler);
  if (!g_real___sysv_signal) resolve_real();
  return g_real___sysv_signal ? g_real___sysv_signal(sig, handler) : SIG_ERR;
}

// sigset() (System V): SIG_HOLD blocks the signal; any other disposition installs it and unblocks. The
// result is SIG_HOLD when the signal was blocked, else the previous disposition.
EXPORT sighandler_t sigset(int sig, sighandler_t disp) {
  int slot = owned_slot(sig);
  if (slot < 0) {
    if (!g_real_sigset) resolve_real();
    return g_real_sigset ? g_real_sigset(sig, disp) : SIG_ERR;
  }
  if (disp == SIG_ERR) {
    errno = EINVAL;
    return SIG_ERR;
  }
  sigset_t one, old;
  sigemptyset(&one);
  sigaddset(&one, sig);
  struct sigaction prev;
  if (disp == SIG_HOLD) {
    chained_sigaction(slot, NULL, &prev);
    if (sigprocmask(SIG_BLOCK, &one, &old) < 0) return SIG_ERR;
  } else {
    struct sigaction act;
    memset(&act, 0, sizeof act);
    act.sa_handler = disp;
    sigemptyset(&act.sa_mask);
    chained_sigaction(slot, &act, &prev);
    if (sigprocmask(SIG_UNBLOCK, &one, &old) < 0) return SIG_ERR;
  }
  return sigismember(&old, sig) ? SIG_HOLD : prev.sa_handler;
}

// ---- fork: the child keeps everything; the lock must not be held by a thread that does not exist there ----

static void before_fork(void) {
  chain_lock(&g_fork_saved_mask);
  pool_lock();  // a child forked while another thread held it would never see it released
}
static void after_fork_parent(void) {
  pool_unlock();
  chain_unlock(&g_fork_saved_mask);
}
static void after_fork_child(void) {
  __atomic_store_n(&g_self_written, 0, __ATOMIC_RELEASE);
  cg_api_after_fork_child();
  cg_amp_after_fork_child();
  pool_unlock();
  chain_unlock(&g_fork_saved_mask);
}

// ---- load ----

static int parse_int(const char* s, long* out) {
  if (!s || !*s) return 0;
  char* end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || *end || v < 0) return 0;
  *out = v;
  return 1;
}

static struct agent_block* map_block(const char* fd_env) {
  long fd;
  if (!parse_int(fd_env, &fd) || fd > INT_MAX) return NULL;
  struct stat st;
  if (fstat((int)fd, &st) != 0 || st.st_size < (off_t)AGENT_BLOCK_SIZE) return NULL;  // else SIGBUS
  void* m = mmap(NULL, AGENT_BLOCK_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, (int)fd, 0);
  if (m == MAP_FAILED) return NULL;
  struct agent_block* b = m;
  if (__atomic_load_n(&b->magic, __ATOMIC_ACQUIRE) != AGENT_BLOCK_MAGIC ||
      __atomic_load_n(&b->version, __ATOMIC_ACQUIRE) != AGENT_BLOCK_VERSION) {
    munmap(m, AGENT_BLOCK_SIZE);
    return NULL;
  }
  return b;
}

__attribute__((constructor)) static void crashgrid_agent_init(void) {
  resolve_real();
  if (!g_real_sigaction) return;  // nothing to chain to: stay out of the way
  const char* block_env = getenv(AGENT_ENV_FD);
  const char* handler_env = getenv("CRASHGRID_HANDLER_FD");
  int mode;
  struct agent_block* b = NULL;
  if (block_env && *block_env) {
    b = map_block(block_env);
    if (!b) return;  // not ours to use (or another protocol version): stay out of the way
    __atomic_add_fetch(&b->processes_loaded, 1, __ATOMIC_ACQ_REL);
    const char* m = getenv(AGENT_ENV_MODE);
    mode = m && strcmp(m, "handler") == 0 ? MODE_HANDLER : MODE_ATTACH;
    long v;
    if (parse_int(getenv(AGENT_ENV_NOTIFY), &v) && v <= INT_MAX) {
      int fd = remember_file((int)v, &g_notify_dev, &g_notify_ino);
      int fl = fd >= 0 ? fcntl(fd, F_GETFL) : -1;
      if (fl >= 0 && fcntl(fd, F_SETFL, fl | O_NONBLOCK) == 0) g_notify_fd = fd;
    }
    if (parse_int(getenv(AGENT_ENV_WAIT_MS), &v)) g_wait_ns = (int64_t)v * 1000000;
  } else if (handler_env && *handler_env) {
    mode = MODE_HANDLER;  // the `--capture handler` of before the agent block
  } else {
    return;
  }
  long v;
  if (parse_int(handler_env, &v) && v <= INT_MAX) g_handler_fd = remember_file((int)v, &g_handler_dev, &g_handler_ino);

  long page = sysconf(_SC_PAGESIZE);
  g_page = page > 0 ? (size_t)page : 4096;
  g_altstack_key_ok = pthread_key_create(&g_altstack_key, free_altstack) == 0;
  pool_lock();
  pool_grow_locked();  // now, before the program's threads start
  pool_unlock();
  setup_altstack();
  pthread_atfork(before_fork, after_fork_parent, after_fork_child);

  g_block = b;
  cg_api_init(b);
  cg_amp_init(b);
  // stdout keeps the program's own buffering: making it line-buffered here raised the start-up race's crash
  // rate on the GPU machine (bench/results/capture-race.md). The output up to a crash is kept by flushing
  // it when the crash kills the process instead (die_by_default).
  sigset_t saved;
  chain_lock(&saved);
  for (int i = 0; i < NSIG_OURS; ++i) {
    // Installed and what was there read back in one call (what was there is the program's from now on); again
    // only if that asked for SA_RESTART, which ours then follows.
    struct sigaction sa;
    ours(0, &sa);
    real_sigaction()(kSignals[i], &sa, &g_chained[i]);
    if (g_chained[i].sa_flags & SA_RESTART) install_ours_locked(kSignals[i], g_chained[i].sa_flags);
  }
  __atomic_store_n(&g_mode, mode, __ATOMIC_RELEASE);
  chain_unlock(&saved);
}

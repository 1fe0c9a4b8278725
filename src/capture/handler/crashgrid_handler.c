// libcrashgrid_handler.so: the `--capture handler` fallback for machines where ptrace is not permitted.
//
// Preloaded (LD_PRELOAD) into the trial and everything it starts. Its constructor installs handlers for the
// crash signals; at a crash the handler writes, with async-signal-safe calls only, the signal, si_code,
// fault address, thread id and name, the raw pcs of the faulting thread and /proc/self/maps to the file
// descriptor named by CRASHGRID_HANDLER_FD (a memfd the supervisor reads after the trial; format in
// src/supervisor/handler_report.h), then lets the signal kill the process as it would have.
//
// Limits compared with ptrace capture: only the faulting thread, no hang capture, and a handler installed
// later by the program or its libraries replaces this one.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#define ALTSTACK_SIZE (64 * 1024)
#define MAX_FRAMES 128

static int g_fd = -1;
static volatile sig_atomic_t g_fired;
static pthread_key_t g_altstack_key;
static const int kSignals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};

// ---- async-signal-safe formatting ----
struct out {
  char buf[8192];
  size_t len;
};

static void flush(struct out* o) {
  size_t off = 0;
  while (off < o->len) {
    ssize_t w = write(g_fd, o->buf + off, o->len - off);
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

static void write_record(int sig, siginfo_t* si, void* uc) {
  static struct out o;  // static: the alternate stack is small
  o.len = 0;
  // Several processes of one trial share the file (a shell and its child): one record at a time. POSIX
  // record locks belong to the process, so they exclude each other even through one shared description.
  struct flock lk;
  memset(&lk, 0, sizeof lk);
  lk.l_type = F_WRLCK;
  lk.l_whence = SEEK_SET;
  while (fcntl(g_fd, F_SETLKW, &lk) < 0 && errno == EINTR) {
  }
  puts_(&o, "CRASHGRID-HANDLER 1\npid ");
  put_dec(&o, getpid());
  puts_(&o, "\ntid ");
  put_dec(&o, syscall(SYS_gettid));
  puts_(&o, "\nsignal ");
  put_dec(&o, sig);
  puts_(&o, "\ncode ");
  put_dec(&o, si->si_code);
  if (si->si_code > 0 && sig != SIGABRT) {
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
  // backtrace() walks through the signal frame (glibc's __restore_rt has CFI), so the interrupted pc shows up
  // as one of the entries: drop the handler's own frames before it. It was called once at load time, so
  // libgcc_s is already loaded and no allocation happens here.
  void* frames[MAX_FRAMES];
  int n = backtrace(frames, MAX_FRAMES);
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
  fcntl(g_fd, F_SETLK, &lk);
}

static void on_crash(int sig, siginfo_t* si, void* uc) {
  int saved = errno;
  if (!__sync_lock_test_and_set(&g_fired, 1) && g_fd >= 0) write_record(sig, si, uc);
  // SA_RESETHAND restored the default action. A fault raised by the CPU happens again when the handler
  // returns and then kills with the original si_code; a signal that was sent (abort(), kill) must be sent
  // again (it stays pending until the handler returns).
  if (si->si_code <= 0) syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), sig);
  errno = saved;
}

static void setup_altstack(void) {
  void* mem = mmap(NULL, ALTSTACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) return;
  stack_t ss;
  ss.ss_sp = mem;
  ss.ss_size = ALTSTACK_SIZE;
  ss.ss_flags = 0;
  if (sigaltstack(&ss, NULL) != 0) {
    munmap(mem, ALTSTACK_SIZE);
    return;
  }
  pthread_setspecific(g_altstack_key, mem);
}

static void free_altstack(void* mem) {
  stack_t ss;
  memset(&ss, 0, sizeof ss);
  ss.ss_flags = SS_DISABLE;
  sigaltstack(&ss, NULL);
  munmap(mem, ALTSTACK_SIZE);
}

// Each thread gets its own alternate stack, so a stack overflow in a worker still gets a record.
struct start_args {
  void* (*fn)(void*);
  void* arg;
};

static void* start_thunk(void* p) {
  struct start_args a = *(struct start_args*)p;
  free(p);
  setup_altstack();
  return a.fn(a.arg);
}

typedef int (*pthread_create_fn)(pthread_t*, const pthread_attr_t*, void* (*)(void*), void*);

int pthread_create(pthread_t* t, const pthread_attr_t* attr, void* (*fn)(void*), void* arg) {
  static pthread_create_fn real;
  if (!real) real = (pthread_create_fn)dlsym(RTLD_NEXT, "pthread_create");
  if (!real) return EAGAIN;
  struct start_args* a = malloc(sizeof *a);
  if (!a) return real(t, attr, fn, arg);
  a->fn = fn;
  a->arg = arg;
  int rc = real(t, attr, start_thunk, a);
  if (rc != 0) free(a);
  return rc;
}

__attribute__((constructor)) static void crashgrid_handler_init(void) {
  const char* fd = getenv("CRASHGRID_HANDLER_FD");
  if (!fd || !*fd) return;
  g_fd = atoi(fd);
  void* prime[2];
  backtrace(prime, 2);
  pthread_key_create(&g_altstack_key, free_altstack);
  setup_altstack();
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_crash;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESETHAND;
  for (size_t i = 0; i < sizeof kSignals / sizeof kSignals[0]; ++i) sigaction(kSignals[i], &sa, NULL);
}

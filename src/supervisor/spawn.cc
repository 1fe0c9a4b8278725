#include "supervisor/spawn.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include <fmt/format.h>

#include "supervisor/descendants.h"
#include "util/strings.h"

extern char** environ;

namespace cg {

// What the child reads between clone and exec. A named type, not an anonymous one: SpawnMemory (declared in the
// header, so of external linkage) holds one.
struct ChildSetup {
  const char* path;
  char* const* argv;
  char* const* envp;
  pid_t parent;
  int devnull, out_w, err_w;
  int go_r;        // held children wait for 'G' here; -1: no hold
  int exec_err_w;  // the exec errno goes here; -1: into *exec_errno (the vfork path, see Spawn)
  const int* inherit;
  size_t ninherit;
  uint64_t reset_signals;  // bit N-1: signal N is ignored or caught in crashgrid and must be set to SIG_DFL
  int32_t* guard_slot;     // the reaper guard's slot: the child stores its pid (= its group) there first
  int* exec_errno;         // the vfork path's exec errno, in crashgrid's memory
};

namespace {

// The signals whose disposition is not the default in this process (ignored or caught), from the kernel's
// SigIgn and SigCgt masks: three system calls here instead of 62 sigaction calls in every child. (Not from
// /proc/thread-self/stat: its masks stop at signal 31, and glibc's own signals 32 and 33 are above it.) All
// signals when the masks cannot be read.
uint64_t NonDefaultSignals() {
  constexpr uint64_t kAll = ~uint64_t{0};
  int fd = open("/proc/thread-self/status", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return kAll;
  char buf[4096];
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return kAll;
  buf[n] = 0;
  uint64_t mask = 0;
  for (const char* key : {"\nSigIgn:\t", "\nSigCgt:\t"}) {
    const char* at = std::strstr(buf, key);
    if (!at) return kAll;
    mask |= std::strtoull(at + std::strlen(key), nullptr, 16);
  }
  return mask;
}

// The forked child between fork and exec (CRASHGRID_SPAWN=fork): async-signal-safe calls only.
[[noreturn]] void ForkChildMain(const ChildSetup& s) {
  setpgid(0, 0);
  // The table is a shared mapping, so the store reaches the guard from the forked child too.
  if (s.guard_slot) __atomic_store_n(s.guard_slot, static_cast<int32_t>(getpid()), __ATOMIC_RELEASE);
  // The parent-death signal fires when the *thread* that forked exits; RunTrial does the whole trial on its
  // calling thread, so that thread outlives the child.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != s.parent) _exit(127);  // crashgrid died before prctl took effect
  // Handlers are reset by exec, but ignored signals and the blocked mask are inherited: give the program
  // the defaults it would get from a shell. Through the system call, not glibc's sigaction: that one refuses
  // glibc's own signals 32 and 33 (EINVAL), so a crashgrid started with them ignored (some launchers do) would
  // hand them on ignored. The kernel's struct: all zero is SIG_DFL, no flags, an empty mask.
  struct {
    unsigned long handler, flags, restorer, mask;
  } dfl{};
  for (long sig = 1; sig <= 64; ++sig) {
    if ((s.reset_signals >> (sig - 1) & 1) && sig != SIGKILL && sig != SIGSTOP)
      syscall(SYS_rt_sigaction, sig, &dfl, nullptr, 8L);
  }
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  if (s.go_r >= 0) {
    char c = 0;
    ssize_t r;
    do r = read(s.go_r, &c, 1);
    while (r < 0 && errno == EINTR);
    if (r != 1 || c != 'G') _exit(127);
  }
  if (dup2(s.devnull, 0) < 0 || dup2(s.out_w, 1) < 0 || dup2(s.err_w, 2) < 0) {
    int e = errno;
    ssize_t w = write(s.exec_err_w, &e, sizeof e);
    (void)w;
    _exit(127);
  }
  // Only stdio and the fds meant for the program cross exec, even if some library in crashgrid opened a
  // file without O_CLOEXEC (another trial's pipe held open would also delay its EOF).
  close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
  for (size_t i = 0; i < s.ninherit; ++i) fcntl(s.inherit[i], F_SETFD, 0);
  execve(s.path, s.argv, s.envp);
  int e = errno;
  ssize_t w = write(s.exec_err_w, &e, sizeof e);
  (void)w;
  _exit(127);
}

// Under a sanitizer the child's instrumented code would update the runtime's per-thread state, which it shares
// with the forking thread: those builds take the fork path.
#if (defined(__x86_64__) || defined(__aarch64__)) && !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
constexpr bool kHaveRawSyscalls = true;

// A system call that returns -errno instead of setting errno: the CLONE_VM child shares the forking thread's
// TLS, and errno lives there.
long Sys(long n, long a1 = 0, long a2 = 0, long a3 = 0, long a4 = 0) {
#if defined(__x86_64__)
  long ret;
  register long r10 asm("r10") = a4;
  asm volatile("syscall" : "=a"(ret) : "a"(n), "D"(a1), "S"(a2), "d"(a3), "r"(r10) : "rcx", "r11", "memory");
  return ret;
#else
  register long x8 asm("x8") = n;
  register long x0 asm("x0") = a1;
  register long x1 asm("x1") = a2;
  register long x2 asm("x2") = a3;
  register long x3 asm("x3") = a4;
  asm volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3) : "memory", "cc");
  return x0;
#endif
}

[[noreturn]] void SysExit(int code) {
  for (;;) Sys(SYS_exit_group, code);
}

[[noreturn]] void ReportAndExit(const ChildSetup& s, long neg_errno) {
  int e = static_cast<int>(-neg_errno);
  if (s.exec_err_w >= 0) {
    Sys(SYS_write, s.exec_err_w, reinterpret_cast<long>(&e), sizeof e);
  } else {
    *s.exec_errno = e;  // the vfork path: crashgrid's thread is suspended until this child exits
  }
  SysExit(127);
}

// The CLONE_VM child between clone and exec, on its own stack in crashgrid's memory: raw system calls only, no
// writes but to its stack, the guard's slot and (vfork path) the exec errno. The same steps as ForkChildMain
// (see there for why each is needed).
int CloneChildMain(void* arg) {
  const ChildSetup& s = *static_cast<const ChildSetup*>(arg);
  Sys(SYS_setpgid, 0, 0);
  if (s.guard_slot) __atomic_store_n(s.guard_slot, static_cast<int32_t>(Sys(SYS_getpid)), __ATOMIC_RELEASE);
  Sys(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL);
  if (Sys(SYS_getppid) != s.parent) SysExit(127);
  // The kernel's struct sigaction; all zero is SIG_DFL with no flags and an empty mask. Without CLONE_SIGHAND
  // the child has its own copy of the handler table, so this leaves crashgrid's handlers alone.
  struct {
    unsigned long handler, flags, restorer, mask;
  } dfl{};
  constexpr long kSigsetBytes = 8;  // the kernel's sigset_t, not glibc's 128-byte one
  for (long sig = 1; sig <= 64; ++sig) {
    if ((s.reset_signals >> (sig - 1) & 1) && sig != SIGKILL && sig != SIGSTOP)
      Sys(SYS_rt_sigaction, sig, reinterpret_cast<long>(&dfl), 0, kSigsetBytes);
  }
  unsigned long none = 0;  // every signal was blocked across the clone, so no handler ran here before this
  Sys(SYS_rt_sigprocmask, SIG_SETMASK, reinterpret_cast<long>(&none), 0, kSigsetBytes);
  long r;
  if (s.go_r >= 0) {
    char c = 0;
    do r = Sys(SYS_read, s.go_r, reinterpret_cast<long>(&c), 1);
    while (r == -EINTR);
    if (r != 1 || c != 'G') SysExit(127);
  }
  if ((r = Sys(SYS_dup3, s.devnull, 0, 0)) < 0 || (r = Sys(SYS_dup3, s.out_w, 1, 0)) < 0 ||
      (r = Sys(SYS_dup3, s.err_w, 2, 0)) < 0) {
    ReportAndExit(s, r);
  }
  Sys(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
  for (size_t i = 0; i < s.ninherit; ++i) Sys(SYS_fcntl, s.inherit[i], F_SETFD, 0);
  r = Sys(SYS_execve, reinterpret_cast<long>(s.path), reinterpret_cast<long>(s.argv), reinterpret_cast<long>(s.envp));
  ReportAndExit(s, r);
}
#else
constexpr bool kHaveRawSyscalls = false;
int CloneChildMain(void*) { return 127; }
#endif

bool UseClone() {
  static const bool use = [] {
    const char* e = std::getenv("CRASHGRID_SPAWN");
    return kHaveRawSyscalls && !(e && std::string_view(e) == "fork");
  }();
  return use;
}

// The CLONE_VM child's stack. It only makes system calls; 64 KiB leaves room for whatever the compiler spills.
constexpr size_t kChildStackBytes = 64 * 1024;

// A vfork child's stack is free again once clone returns: one per spawning thread, kept for its lifetime.
void* VforkStack() {
  struct Stack {
    void* p = mmap(nullptr, kChildStackBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    ~Stack() {
      if (p != MAP_FAILED) munmap(p, kChildStackBytes);
    }
  };
  static thread_local Stack stack;
  return stack.p;
}

bool Pipe(ScopedFd* r, ScopedFd* w, std::string* err) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) {
    *err = fmt::format("pipe: {}", std::strerror(errno));
    return false;
  }
  r->reset(FdAbove2(p[0]));
  w->reset(FdAbove2(p[1]));
  return true;
}

}  // namespace

// Everything the child reads before exec: with CLONE_VM it reads it from crashgrid's memory, so it must stay put
// (and unchanged) until the child exec'd or exited.
struct SpawnMemory {
  std::string path;
  std::vector<std::string> env_strings, argv_strings;
  std::vector<char*> envp, argv;
  std::vector<int> inherit;
  ChildSetup setup{};
  void* stack = MAP_FAILED;

  ~SpawnMemory() {
    if (stack != MAP_FAILED) munmap(stack, kChildStackBytes);
  }
};

SpawnedChild::SpawnedChild() = default;

SpawnedChild::~SpawnedChild() {
  if (!memory) return;
  pollfd p{memory_done.get(), POLLIN, 0};
  bool done = memory_done.is_open() && poll(&p, 1, 0) == 1 && (p.revents & POLLHUP);
  // Not provably done (not reaped, or another trial's child held before exec still has a copy of the pipe):
  // a few KiB leaked beat a child reading freed memory.
  if (!done && !reaped) (void)memory.release();
}

int FdAbove2(int fd) {
  if (fd < 0 || fd > 2) return fd;
  int n = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  close(fd);
  return n;
}

bool SpawnedChild::Go() {
  if (!go.is_open()) return true;  // not held
  char c = 'G';
  ssize_t w;
  do w = write(go.get(), &c, 1);
  while (w < 0 && errno == EINTR);
  go.reset();
  return w == 1;
}

void SpawnedChild::Abort() { go.reset(); }

bool ResolveProgram(const std::string& name, const std::vector<std::pair<std::string, std::string>>& env,
                    std::string* path, std::string* err) {
  if (name.empty()) {
    *err = "empty program name";
    return false;
  }
  if (name.find('/') != std::string::npos) {
    *path = name;
    return true;
  }
  const char* p = std::getenv("PATH");
  std::string search = p ? p : "/usr/local/bin:/usr/bin:/bin";
  for (const auto& [k, v] : env) {
    if (k == "PATH") search = v;
  }
  for (const std::string& dir : Split(search, ':')) {
    std::string candidate = (dir.empty() ? std::string(".") : dir) + "/" + name;
    struct stat st;
    if (stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(candidate.c_str(), X_OK) == 0) {
      *path = candidate;
      return true;
    }
  }
  *err = fmt::format("program '{}' not found in PATH (give its path, e.g. ./{})", name, name);
  return false;
}

bool Spawn(const std::string& path, const SpawnPlan& plan, SpawnedChild* child, std::string* err) {
  // Everything the child touches is built here, before the clone.
  auto mem = std::make_unique<SpawnMemory>();
  mem->path = path;
  for (char** e = environ; e && *e; ++e) {
    std::string_view kv(*e);
    std::string_view key = kv.substr(0, kv.find('='));
    bool replaced = false;
    for (const auto& [k, v] : plan.env) replaced = replaced || k == key;
    if (!replaced) mem->env_strings.emplace_back(kv);
  }
  for (const auto& [k, v] : plan.env) mem->env_strings.push_back(k + "=" + v);
  for (auto& s : mem->env_strings) mem->envp.push_back(s.data());
  mem->envp.push_back(nullptr);
  mem->argv_strings = plan.argv;
  for (auto& s : mem->argv_strings) mem->argv.push_back(s.data());
  mem->argv.push_back(nullptr);
  mem->inherit = plan.inherit_fds;

  // Every trial's stdin; opened once for the process (close-on-exec, so only the dup in a child reaches it).
  static const int devnull_fd = FdAbove2(open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (devnull_fd < 0) {
    *err = "cannot open /dev/null for the trial's standard input";
    return false;
  }
  // Without a hold the CLONE_VM child is a vfork child: this thread sleeps until it exec'd or exited, so it
  // needs neither the go pipe nor the exec-error pipe (it leaves the errno in `exec_errno`), the parent is
  // woken once instead of three times (go, exec, exit), and its memory and stack are free again at once.
  const bool vfork = UseClone() && !plan.hold;
  ScopedFd out_w, err_w, go_r, exec_err_w;
  if (!Pipe(&child->out, &out_w, err) || !Pipe(&child->err, &err_w, err) ||
      (plan.hold && !Pipe(&go_r, &child->go, err)) || (!vfork && !Pipe(&child->exec_err, &exec_err_w, err))) {
    return false;
  }
  fcntl(child->out.get(), F_SETFL, O_NONBLOCK);
  fcntl(child->err.get(), F_SETFL, O_NONBLOCK);
  if (child->exec_err.is_open()) fcntl(child->exec_err.get(), F_SETFL, O_NONBLOCK);

  int exec_errno = 0;
  mem->setup = ChildSetup{mem->path.c_str(), mem->argv.data(),    mem->envp.data(), getpid(),
                          devnull_fd,        out_w.get(),         err_w.get(),      go_r.get(),
                          exec_err_w.get(),  mem->inherit.data(), mem->inherit.size(), NonDefaultSignals(),
                          plan.guard_slot,   &exec_errno};
  pid_t pid;
  if (UseClone()) {
    void* stack = vfork ? VforkStack() : (mem->stack = mmap(nullptr, kChildStackBytes, PROT_READ | PROT_WRITE,
                                                            MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0));
    if (stack == MAP_FAILED) {
      *err = fmt::format("mmap of the child's stack: {}", std::strerror(errno));
      return false;
    }
    if (!vfork) child->memory_done.reset(fcntl(child->exec_err.get(), F_DUPFD_CLOEXEC, 3));
    // Every signal blocked across the clone: a handler of crashgrid's run in the child would run in crashgrid's
    // memory. The child unblocks them once their dispositions are the defaults.
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pid = clone(CloneChildMain, static_cast<char*>(stack) + kChildStackBytes,
                CLONE_VM | (vfork ? CLONE_VFORK : 0) | SIGCHLD, &mem->setup);
    int e = errno;
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    if (pid < 0) {
      *err = fmt::format("clone: {}", std::strerror(e));
      return false;
    }
    if (vfork) {
      child->exec_errno = exec_errno;  // the child exec'd (0) or exited after writing it
    } else {
      child->memory = std::move(mem);
    }
  } else {
    pid = fork();
    if (pid < 0) {
      *err = fmt::format("fork: {}", std::strerror(errno));
      return false;
    }
    if (pid == 0) ForkChildMain(mem->setup);
    if (!plan.hold) {
      // As on the vfork path: return once the child exec'd (EOF) or failed to (its errno).
      exec_err_w.reset();
      for (;;) {
        pollfd p{child->exec_err.get(), POLLIN, 0};
        if (poll(&p, 1, -1) < 0 && errno != EINTR) break;
        int e = 0;
        ssize_t got = read(child->exec_err.get(), &e, sizeof e);
        if (got < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        if (got == sizeof e) child->exec_errno = e;
        break;
      }
      child->exec_err.reset();
    }
  }
  child->out_w = std::move(out_w);
  child->err_w = std::move(err_w);
  // Before another trial's KillTrialProcesses can find this child among crashgrid's: a live trial's leader
  // is never reaped but by its trial.
  for (const auto& [k, v] : plan.env) {
    if (k == kTrialMarkerEnv) NoteTrialLeader(v, pid);
  }
  // Both sides set the group, so it exists whichever runs first (a vfork child has: it exec'd already).
  if (!vfork) setpgid(pid, pid);
  child->pid = pid;
  return true;
}

}  // namespace cg

#include "supervisor/reaper_guard.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <vector>

#include <fmt/format.h>

#include "supervisor/descendants.h"

namespace cg {
namespace {

constexpr int kMaxGroups = 4096;

// The registered groups: a table in memory shared with the guard (mapped before the guard is forked), one
// process group id per slot, 0 for a free slot. Registering is a store, so a trial costs the guard nothing: it
// sleeps in read() until EOF and only then reads the table. (It used to be a message on the socket per
// registration and per unregistration, which woke the guard twice a trial: about a sixth of crashgrid's CPU
// samples on `--exec /bin/true`, bench/results/exec-throughput.md.) Each slot is written with one atomic store,
// so a crashgrid killed at any instant leaves every slot either its old or its new value.
int32_t* g_table = nullptr;
// How long the guard goes on looking for marked processes that are still alive.
constexpr int kScanSeconds = 10;

// "CRASHGRID_TRIAL=<pid of the process that started the guard>.", written before the fork.
char g_marker_prefix[64];
size_t g_marker_prefix_len = 0;

struct LinuxDirent64 {
  uint64_t d_ino;
  int64_t d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[];
};

// SIGKILLs every process (but this one) whose environment carries the marker prefix; returns how many.
// Async-signal-safe.
int KillMarkedProcesses() {
  static char dents[32768] __attribute__((aligned(8)));
  static char buf[4096];
  int dir = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return 0;
  const pid_t self = getpid();
  int found = 0;
  for (;;) {
    long got = syscall(SYS_getdents64, dir, dents, sizeof dents);
    if (got <= 0) break;
    for (long off = 0; off < got;) {
      const auto* d = reinterpret_cast<const LinuxDirent64*>(dents + off);
      off += d->d_reclen;
      pid_t pid = 0;
      const char* c = d->d_name;
      for (; *c >= '0' && *c <= '9'; ++c) pid = pid * 10 + (*c - '0');
      if (*c != 0 || pid <= 0 || pid == self) continue;
      char path[48] = "/proc/";
      size_t n = 6;
      for (const char* q = d->d_name; *q && n < 30; ++q) path[n++] = *q;
      std::memcpy(path + n, "/environ", 9);
      int efd = open(path, O_RDONLY | O_CLOEXEC);
      if (efd < 0) continue;  // gone, or not ours to read (another user's)
      EnvEntryPrefixMatcher matcher(g_marker_prefix, g_marker_prefix_len);
      bool hit = false;
      for (;;) {
        ssize_t r = read(efd, buf, sizeof buf);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        if (matcher.Feed(buf, static_cast<size_t>(r))) {
          hit = true;
          break;
        }
      }
      close(efd);
      if (hit) {
        kill(pid, SIGKILL);
        ++found;
      }
    }
  }
  close(dir);
  return found;
}

// Runs in a child forked from a possibly multi-threaded process: async-signal-safe calls only, no
// allocation.
[[noreturn]] void GuardMain(int fd) {
  struct sigaction ign {};
  ign.sa_handler = SIG_IGN;
  sigaction(SIGINT, &ign, nullptr);
  sigaction(SIGTERM, &ign, nullptr);
  sigaction(SIGHUP, &ign, nullptr);
  sigaction(SIGPIPE, &ign, nullptr);
  char buf[256];
  for (;;) {  // nothing is sent any more: this waits for EOF (crashgrid gone)
    ssize_t r = read(fd, buf, sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
  }
  for (int i = 0; i < kMaxGroups; ++i) {
    int32_t pgid = __atomic_load_n(&g_table[i], __ATOMIC_ACQUIRE);
    if (pgid > 0) kill(-pgid, SIGKILL);
  }
  // Processes that left their trial's group (setsid, a double fork) are found by their marker. A killed
  // process keeps its environment until its exit got that far, and one may fork while being killed: scan
  // until a pass finds nothing alive, within bounds (a process stuck in the kernel never dies).
  timespec start{}, now{};
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (int pass = 0; pass < 10000; ++pass) {
    if (KillMarkedProcesses() == 0) break;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (now.tv_sec - start.tv_sec >= kScanSeconds) break;
    timespec pause{0, 2 * 1000 * 1000};
    nanosleep(&pause, nullptr);
  }
  _exit(0);
}

std::mutex g_guard_mu;
int g_fd = -1;         // crashgrid's end of the socket pair
int g_used = 0;        // slots [0, g_used) of g_table may be in use
pid_t g_owner = 0;     // the process that started the guard behind g_fd
pid_t g_guard_pid = 0;

bool StartGuardLocked(std::string* err) {
  if (g_fd >= 0) close(g_fd);  // inherited from the process we were forked from: its guard, not ours
  g_fd = -1;
  g_guard_pid = 0;
  std::string prefix = fmt::format("{}={}.", kTrialMarkerEnv, getpid());
  if (prefix.size() >= sizeof g_marker_prefix) {
    *err = "reaper guard: marker too long";
    return false;
  }
  std::memcpy(g_marker_prefix, prefix.data(), prefix.size());
  g_marker_prefix_len = prefix.size();
  // Our parent's table (in a forked child) is unmapped; an earlier guard's of this process is left mapped:
  // a trial's child may still be about to store its pid into a slot reserved there.
  if (g_table && g_owner != getpid()) munmap(g_table, kMaxGroups * sizeof(int32_t));
  g_used = 0;
  void* table = mmap(nullptr, kMaxGroups * sizeof(int32_t), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (table == MAP_FAILED) {
    g_table = nullptr;
    *err = fmt::format("reaper guard: mmap: {}", std::strerror(errno));
    return false;
  }
  g_table = static_cast<int32_t*>(table);
  int sv[2];
  // A socket pair rather than a pipe: sending with MSG_NOSIGNAL cannot raise SIGPIPE in crashgrid if
  // someone killed the guard.
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    *err = fmt::format("reaper guard: socketpair: {}", std::strerror(errno));
    return false;
  }
  int report[2];
  if (pipe2(report, O_CLOEXEC) != 0) {
    *err = fmt::format("reaper guard: pipe: {}", std::strerror(errno));
    close(sv[0]);
    close(sv[1]);
    return false;
  }
  // Double fork: the guard must sit in its own session, away from the terminal's Ctrl-C, and must not be the
  // child of a trial thread (whose waitpid(-1, __WNOTHREAD) must never see it). Crashgrid being a subreaper
  // (SupervisorInitOnce), it adopts the guard when the middle process exits, into its main thread; it carries
  // no trial marker, so KillTrialProcesses leaves it alone.
  pid_t mid = fork();
  if (mid < 0) {
    *err = fmt::format("reaper guard: fork: {}", std::strerror(errno));
    close(sv[0]);
    close(sv[1]);
    close(report[0]);
    close(report[1]);
    return false;
  }
  if (mid == 0) {
    setsid();
    pid_t guard = fork();
    if (guard != 0) {
      ssize_t w = write(report[1], &guard, sizeof guard);
      (void)w;
      _exit(guard > 0 ? 0 : 1);
    }
    // Keep only the socket: holding crashgrid's stdout (or a trial's pipe) would keep readers waiting.
    int null_fd = open("/dev/null", O_RDWR);
    if (null_fd >= 0) {
      dup2(null_fd, 0);
      dup2(null_fd, 1);
      dup2(null_fd, 2);
    }
    dup2(sv[1], 3);  // dup2 clears FD_CLOEXEC on 3
    close_range(4, ~0U, 0);
    GuardMain(3);
  }
  close(sv[1]);
  close(report[1]);
  pid_t guard = 0;
  ssize_t r;
  do r = read(report[0], &guard, sizeof guard);
  while (r < 0 && errno == EINTR);
  close(report[0]);
  int st;
  while (waitpid(mid, &st, 0) < 0 && errno == EINTR) {
  }
  if (r != sizeof guard || guard <= 0) {
    *err = "reaper guard: could not fork the guard process";
    close(sv[0]);
    return false;
  }
  g_fd = sv[0];
  g_owner = getpid();
  g_guard_pid = guard;
  return true;
}

// Whether the guard still holds its end: a killed guard leaves the socket hung up. No message, no wake-up.
bool GuardAliveLocked() {
  pollfd p{g_fd, 0, 0};
  return poll(&p, 1, 0) == 0 || !(p.revents & (POLLHUP | POLLERR | POLLNVAL));
}

// A slot that is reserved for a child about to store its pid: the guard skips it (it kills groups > 0).
constexpr int32_t kReserved = -1;

int32_t* StoreSlotLocked(int32_t value) {
  int slot = 0;
  while (slot < g_used && __atomic_load_n(&g_table[slot], __ATOMIC_RELAXED) != 0) ++slot;
  if (slot == g_used) {
    if (g_used == kMaxGroups) return nullptr;  // more groups at once than slots: the marker scan still finds them
    ++g_used;
  }
  __atomic_store_n(&g_table[slot], value, __ATOMIC_RELEASE);
  return &g_table[slot];
}

bool EnsureGuardLocked(std::string* err) {
  if (g_fd < 0 || g_owner != getpid()) {
    if (!StartGuardLocked(err)) return false;
  }
  if (!GuardAliveLocked()) {
    // The guard died (someone killed it): start another one. The groups registered with the dead one are
    // still running trials: register them with the new one too.
    std::vector<int32_t> live;
    for (int i = 0; i < g_used; ++i)
      if (int32_t g = __atomic_load_n(&g_table[i], __ATOMIC_RELAXED); g > 0) live.push_back(g);
    if (!StartGuardLocked(err)) return false;
    for (int32_t g : live) StoreSlotLocked(g);
  }
  return true;
}

}  // namespace

bool GuardRegisterGroup(pid_t pgid, std::string* err) {
  std::lock_guard<std::mutex> lock(g_guard_mu);
  if (!EnsureGuardLocked(err)) return false;
  StoreSlotLocked(static_cast<int32_t>(pgid));
  return true;
}

bool GuardReserveSlot(int32_t** slot, std::string* err) {
  std::lock_guard<std::mutex> lock(g_guard_mu);
  *slot = nullptr;
  if (!EnsureGuardLocked(err)) return false;
  *slot = StoreSlotLocked(kReserved);
  return true;
}

void GuardReleaseSlot(int32_t* slot) {
  if (!slot) return;
  std::lock_guard<std::mutex> lock(g_guard_mu);
  __atomic_store_n(slot, 0, __ATOMIC_RELEASE);
  if (g_table && slot >= g_table && slot < g_table + kMaxGroups) {
    while (g_used > 0 && __atomic_load_n(&g_table[g_used - 1], __ATOMIC_RELAXED) == 0) --g_used;
  }
}

void GuardUnregisterGroup(pid_t pgid) {
  std::lock_guard<std::mutex> lock(g_guard_mu);
  if (g_fd < 0 || g_owner != getpid()) return;
  for (int i = 0; i < g_used; ++i) {
    if (__atomic_load_n(&g_table[i], __ATOMIC_RELAXED) == pgid) {
      __atomic_store_n(&g_table[i], 0, __ATOMIC_RELEASE);
      break;
    }
  }
  while (g_used > 0 && __atomic_load_n(&g_table[g_used - 1], __ATOMIC_RELAXED) == 0) --g_used;
}

pid_t GuardPid() {
  std::lock_guard<std::mutex> lock(g_guard_mu);
  return g_owner == getpid() ? g_guard_pid : 0;
}

}  // namespace cg

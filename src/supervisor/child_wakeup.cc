#include "supervisor/child_wakeup.h"

#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <mutex>

namespace cg {
namespace {

// Slots own their eventfd forever once created: the signal handler may write to any slot's fd at any time,
// so an fd must never be closed (and its number reused for something else) while the handler can see it.
constexpr int kSlots = 512;
std::atomic<int> g_slot_fd[kSlots];
bool g_slot_used[kSlots];
std::mutex g_wakeup_mu;
struct sigaction g_previous;
std::once_flag g_install_once;

void OnSigchld(int sig, siginfo_t* info, void* ctx) {
  int saved = errno;
  const uint64_t one = 1;
  for (int i = 0; i < kSlots; ++i) {
    // Acquire: pairs with the store that published the fd, so the eventfd's creation happens before this write.
    int fd = g_slot_fd[i].load(std::memory_order_acquire);
    if (fd >= 0) {
      ssize_t ignored = write(fd, &one, sizeof one);
      (void)ignored;
    }
  }
  errno = saved;
  // Someone else in the process may have cared about SIGCHLD before us.
  if (g_previous.sa_flags & SA_SIGINFO) {
    if (g_previous.sa_sigaction) g_previous.sa_sigaction(sig, info, ctx);
  } else if (g_previous.sa_handler != SIG_DFL && g_previous.sa_handler != SIG_IGN) {
    g_previous.sa_handler(sig);
  }
}

void Install() {
  for (auto& s : g_slot_fd) s.store(-1);
  struct sigaction sa {};
  sa.sa_sigaction = OnSigchld;
  sigemptyset(&sa.sa_mask);
  // No SA_NOCLDSTOP: it would also silence the notifications of ptrace stops.
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigaction(SIGCHLD, &sa, &g_previous);
}

}  // namespace

ChildWakeup::ChildWakeup() {
  std::call_once(g_install_once, Install);
  std::lock_guard<std::mutex> lock(g_wakeup_mu);
  for (int i = 0; i < kSlots; ++i) {
    if (g_slot_used[i]) continue;
    int fd = g_slot_fd[i].load();
    if (fd < 0) {
      fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
      if (fd < 0) return;
      g_slot_fd[i].store(fd);
    }
    g_slot_used[i] = true;
    slot_ = i;
    fd_ = fd;
    break;
  }
  Drain();
}

ChildWakeup::~ChildWakeup() {
  if (slot_ < 0) return;
  std::lock_guard<std::mutex> lock(g_wakeup_mu);
  g_slot_used[slot_] = false;
}

void ChildWakeup::Drain() {
  if (fd_ < 0) return;
  uint64_t v;
  while (read(fd_, &v, sizeof v) == sizeof v) {
  }
}

}  // namespace cg

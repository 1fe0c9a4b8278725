#include "supervisor/progress.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "util/fd.h"
#include "workload/workload.h"

namespace cg {

bool ProcessCpuSeconds(pid_t pid, double* seconds) {
  std::string path = "/proc/" + std::to_string(pid) + "/stat";
  ScopedFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.is_open()) return false;
  char buf[1024];
  ssize_t n = read(fd.get(), buf, sizeof buf - 1);
  if (n <= 0) return false;  // ESRCH: the process was reaped between open and read
  buf[n] = '\0';
  // "pid (comm) state ppid ...": comm may hold spaces and ')', so fields are counted from the last ')'.
  const char* p = std::strrchr(buf, ')');
  if (!p) return false;
  ++p;
  // Fields 3.. follow; utime and stime are fields 14 and 15 (proc(5)), in clock ticks.
  unsigned long long utime = 0, stime = 0;
  for (int field = 3; field <= 15; ++field) {
    while (*p == ' ') ++p;
    if (!*p) return false;
    char* end = nullptr;
    if (field == 14)
      utime = std::strtoull(p, &end, 10);
    else if (field == 15)
      stime = std::strtoull(p, &end, 10);
    else
      end = const_cast<char*>(std::strchr(p, ' '));
    if (!end) return false;
    p = end;
  }
  static const long ticks = sysconf(_SC_CLK_TCK);
  *seconds = static_cast<double>(utime + stime) / static_cast<double>(ticks > 0 ? ticks : 100);
  return true;
}

Progress SampleProgress(const StatusBlock* status, const std::vector<pid_t>& processes) {
  Progress p;
  if (status && status->valid()) {
    const StatusHeader* h = status->header();
    p.has_status = true;
    int teardown = status->PhaseIndex(kTeardownPhase);
    int threads = std::min<int>(h->threads.load(), kStatusMaxThreads);
    p.all_left_loop = threads > 0;
    uint64_t hash = 14695981039346656037ull;  // FNV-1a over each thread's phase
    for (int i = 0; i < threads; ++i) {
      const StatusThread* t = status->thread(i);
      p.counters += t->iterations.load(std::memory_order_relaxed) +
                    t->successes.load(std::memory_order_relaxed) + t->errors.load(std::memory_order_relaxed);
      int32_t phase = t->phase.load(std::memory_order_relaxed);
      for (int b = 0; b < 4; ++b) {
        hash ^= static_cast<uint8_t>(static_cast<uint32_t>(phase) >> (8 * b));
        hash *= 1099511628211ull;
      }
      if (phase != kPhaseDone && (teardown < 0 || phase != teardown)) p.all_left_loop = false;
    }
    p.counters += h->units.load(std::memory_order_relaxed);
    p.phases = hash;
  }
  double total = 0;
  bool any = false;
  for (pid_t pid : processes) {
    double s = 0;
    if (!ProcessCpuSeconds(pid, &s)) continue;
    total += s;
    any = true;
  }
  p.cpu_s = any ? total : -1;
  return p;
}

}  // namespace cg

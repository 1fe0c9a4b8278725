#include "supervisor/progress.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "util/fd.h"
#include "runtime/workload.h"

namespace cg {

namespace {

struct Stat {
  pid_t pgrp = 0;
  unsigned long long utime = 0, stime = 0;  // clock ticks
};

bool ReadStat(pid_t pid, Stat* out) {
  std::string path = "/proc/" + std::to_string(pid) + "/stat";
  ScopedFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.is_open()) return false;
  char buf[1024];
  ssize_t n = read(fd.get(), buf, sizeof buf - 1);
  if (n <= 0) return false;  // ESRCH: the process was reaped between open and read
  buf[n] = '\0';
  // "pid (comm) state ppid pgrp ...": comm may hold spaces and ')', so fields are counted from the last ')'.
  const char* p = std::strrchr(buf, ')');
  if (!p) return false;
  ++p;
  // proc(5): field 5 is pgrp, 14 and 15 are utime and stime.
  for (int field = 3; field <= 15; ++field) {
    while (*p == ' ') ++p;
    if (!*p) return false;
    char* end = nullptr;
    unsigned long long v = std::strtoull(p, &end, 10);  // field 3 (state) is a letter: v is 0, end is p
    if (field == 5) out->pgrp = static_cast<pid_t>(v);
    if (field == 14) out->utime = v;
    if (field == 15) out->stime = v;
    p = std::strchr(p, ' ');
    if (!p) return field == 15;
  }
  return true;
}

}  // namespace

bool ProcessCpuSeconds(pid_t pid, double* seconds) {
  Stat st;
  if (!ReadStat(pid, &st)) return false;
  static const long ticks = sysconf(_SC_CLK_TCK);
  *seconds = static_cast<double>(st.utime + st.stime) / static_cast<double>(ticks > 0 ? ticks : 100);
  return true;
}

std::vector<pid_t> ProcessGroupMembers(pid_t pgid) {
  std::vector<pid_t> out;
  DIR* d = opendir("/proc");
  if (!d) return out;
  while (dirent* e = readdir(d)) {
    char* end = nullptr;
    long pid = std::strtol(e->d_name, &end, 10);
    if (pid <= 0 || *end) continue;
    Stat st;
    if (ReadStat(static_cast<pid_t>(pid), &st) && st.pgrp == pgid) out.push_back(static_cast<pid_t>(pid));
  }
  closedir(d);
  return out;
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

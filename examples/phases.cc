// examples/phases: a program that tells crashgrid its phases and its throughput with crashgrid.h
// (include/crashgrid.h, installed as <crashgrid.h>). THREADS workers each repeat open, decode, close on a
// shared "decoder table"; every pass is one iteration. With CRASH_AFTER=N the first worker crashes in its
// decode phase after N iterations, so a report has something to show:
//
//   crashgrid sweep --grid THREADS=1,4 --runs 5 --duration 2s --db phases.db --exec -- build/examples/phases
//   crashgrid sweep --param CRASH_AFTER=50 --runs 1 --duration 2s --db crash.db --exec -- build/examples/phases
//   crashgrid show crash.db 1           # Thread ... "worker0" (faulting thread, phase decode)
//   crashgrid mitigations phases.db     # throughput: the iterations counted here, per second
//
// Run on its own it does the same work, and the macros cost a load and a branch each.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <pthread.h>

#include "crashgrid.h"

namespace {

std::mutex g_table_lock;
std::vector<int> g_table(64);

long EnvLong(const char* name, long fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtol(v, nullptr, 10) : fallback;
}

void Worker(int index, long crash_after, std::chrono::steady_clock::time_point deadline,
            std::atomic<long>* done) {
  std::string name = "worker" + std::to_string(index);
  pthread_setname_np(pthread_self(), name.c_str());
  for (long i = 0; std::chrono::steady_clock::now() < deadline; ++i) {
    CRASHGRID_PHASE("open");
    int slot;
    {
      std::lock_guard<std::mutex> lock(g_table_lock);
      slot = static_cast<int>(i + index) % static_cast<int>(g_table.size());
      g_table[slot] = 1;
    }
    CRASHGRID_PHASE("decode");
    if (index == 0 && crash_after > 0 && i == crash_after) {
      volatile int* frame = nullptr;
      *frame = slot;  // the deliberate crash
    }
    std::this_thread::sleep_for(std::chrono::microseconds(200));
    CRASHGRID_PHASE("close");
    {
      std::lock_guard<std::mutex> lock(g_table_lock);
      g_table[slot] = 0;
    }
    CRASHGRID_PHASE_END();
    CRASHGRID_ITERATION();
    done->fetch_add(1, std::memory_order_relaxed);
  }
}

}  // namespace

int main() {
  int threads = static_cast<int>(EnvLong("THREADS", 2));
  long seconds = EnvLong("SECONDS_TO_RUN", 1);
  long crash_after = EnvLong("CRASH_AFTER", 0);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  std::atomic<long> done{0};
  std::vector<std::thread> pool;
  for (int i = 0; i < threads; ++i) pool.emplace_back(Worker, i, crash_after, deadline, &done);
  for (auto& t : pool) t.join();
  std::printf("%ld iterations in %ld s on %d threads%s\n", done.load(), seconds, threads,
              CRASHGRID_ACTIVE() ? " (under crashgrid's agent)" : "");
  return 0;
}

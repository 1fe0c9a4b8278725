// How long a crash capture holds a process stopped: PTRACE_INTERRUPT of every thread and UnwindStoppedThreads
// over all of them, for processes of 16 to 128 threads blocked three calls deep (fixtures/capture_blocked).
// Usage: capture_bench [REPEATS] [-- PROGRAM ARGS...]
//   Each repeat is a fresh process; prints min / median / max. With a program (e.g. `crashgrid run
//   reference-race --threads 64 --duration 30s`) it also captures that program after it ran for 1 s, or at its
//   first fatal signal, whichever is first: a real process whose threads sit at many different addresses.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "capture/test_tracee.h"
#include "capture/unwind.h"
#include "util/clock.h"

namespace {

struct Sample {
  double stop_ms = 0;
  double unwind_ms = 0;
  size_t frames = 0;
  size_t threads = 0;
  size_t failed_threads = 0;
};

bool CaptureOnce(int threads, Sample* s) {
  cg::TestTracee t;
  std::string err;
  if (!t.Start({std::string(CRASHGRID_BINARY_DIR) + "/fixtures/capture_blocked", std::to_string(threads)}, &err)) {
    std::fprintf(stderr, "capture_bench: %s\n", err.c_str());
    return false;
  }
  t.Go();
  auto ready = [&t] { return t.output().find("ready") != std::string::npos; };
  if (t.Pump(60, ready) != cg::TestTracee::Stop::kCondition) {
    std::fprintf(stderr, "capture_bench: fixture did not get ready\n");
    return false;
  }
  double t0 = cg::MonotonicSeconds();
  if (!t.StopAll(0, &err)) return false;
  double t1 = cg::MonotonicSeconds();
  cg::CrashReport report;
  if (!cg::UnwindStoppedThreads(t.pid(), t.Threads(), &report, &err)) {
    std::fprintf(stderr, "capture_bench: %s\n", err.c_str());
    return false;
  }
  double t2 = cg::MonotonicSeconds();
  s->stop_ms = (t1 - t0) * 1000;
  s->unwind_ms = (t2 - t1) * 1000;
  s->threads = report.threads.size();
  for (const auto& th : report.threads) {
    s->frames += th.frames.size();
    if (th.frames.empty()) ++s->failed_threads;
  }
  return true;
}

bool CaptureProgram(const std::vector<std::string>& argv, Sample* s, bool* crashed) {
  cg::TestTracee t;
  std::string err;
  if (!t.Start(argv, &err)) return false;
  pid_t fault_tid = 0;
  cg::TestTracee::Stop stop = t.Pump(1.0, nullptr, &fault_tid);
  if (stop == cg::TestTracee::Stop::kExited) {
    std::fprintf(stderr, "capture_bench: %s exited early\n", argv[0].c_str());
    return false;
  }
  *crashed = stop == cg::TestTracee::Stop::kFatalSignal;
  double t0 = cg::MonotonicSeconds();
  if (!t.StopAll(*crashed ? fault_tid : 0, &err)) return false;
  double t1 = cg::MonotonicSeconds();
  cg::CrashReport report;
  report.faulting_tid = fault_tid;
  if (!cg::UnwindStoppedThreads(t.pid(), t.Threads(fault_tid), &report, &err)) return false;
  double t2 = cg::MonotonicSeconds();
  s->stop_ms = (t1 - t0) * 1000;
  s->unwind_ms = (t2 - t1) * 1000;
  s->threads = report.threads.size();
  for (const auto& th : report.threads) {
    s->frames += th.frames.size();
    if (th.frames.empty()) ++s->failed_threads;
  }
  return true;
}

double Pick(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(q * static_cast<double>(v.size() - 1) + 0.5)];
}

}  // namespace

int main(int argc, char** argv) {
  int repeats = argc > 1 && std::string(argv[1]) != "--" ? std::atoi(argv[1]) : 10;
  std::vector<std::string> program;
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--") {
      program.assign(argv + i + 1, argv + argc);
      break;
    }
  }
  std::printf("| threads | repeats | interrupt+wait ms (min / median / max) | UnwindStoppedThreads ms (min / median / max) | frames/thread | threads without frames |\n");
  std::printf("|---:|---:|---|---|---:|---:|\n");
  for (int threads : {16, 64, 128}) {
    std::vector<double> stop, unwind;
    Sample last;
    for (int i = 0; i < repeats; ++i) {
      Sample s;
      if (!CaptureOnce(threads, &s)) return 1;
      stop.push_back(s.stop_ms);
      unwind.push_back(s.unwind_ms);
      last = s;
    }
    std::printf("| %d | %d | %.2f / %.2f / %.2f | %.1f / %.1f / %.1f | %.1f | %zu |\n", threads + 1, repeats,
                Pick(stop, 0), Pick(stop, 0.5), Pick(stop, 1), Pick(unwind, 0), Pick(unwind, 0.5), Pick(unwind, 1),
                static_cast<double>(last.frames) / static_cast<double>(last.threads), last.failed_threads);
  }
  if (program.empty()) return 0;
  std::printf("\n| program | repeats | threads | crashed | interrupt+wait ms (min / median / max) | UnwindStoppedThreads ms (min / median / max) | frames/thread |\n");
  std::printf("|---|---:|---:|---:|---|---|---:|\n");
  std::vector<double> stop, unwind;
  Sample last;
  int crashes = 0;
  for (int i = 0; i < repeats; ++i) {
    Sample s;
    bool crashed = false;
    if (!CaptureProgram(program, &s, &crashed)) return 1;
    crashes += crashed ? 1 : 0;
    stop.push_back(s.stop_ms);
    unwind.push_back(s.unwind_ms);
    last = s;
  }
  std::printf("| %s | %d | %zu | %d | %.2f / %.2f / %.2f | %.1f / %.1f / %.1f | %.1f |\n", program[0].c_str(), repeats,
              last.threads, crashes, Pick(stop, 0), Pick(stop, 0.5), Pick(stop, 1), Pick(unwind, 0), Pick(unwind, 0.5),
              Pick(unwind, 1), static_cast<double>(last.frames) / static_cast<double>(last.threads));
  return 0;
}

// Supervisor benchmarks (results in bench/results/supervisor-overhead.md and capture-overhead.md).
//   supervisor_bench spawn [N] [program]
//       RunTrial on /bin/true N times per capture method: trials per second (compare with forkexec_loop).
//   supervisor_bench workload CAPTURE REPEAT -- crashgrid run WORKLOAD ...
//       runs a built-in workload REPEAT times under RunTrial with the given capture method and prints its
//       iterations per second of workload time (the cost of tracing from the start).
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "supervisor/supervisor.h"
#include "util/clock.h"

using namespace cg;

static int Spawn(int n, const std::string& program) {
  for (CaptureMethod m : {CaptureMethod::kNone, CaptureMethod::kTrace, CaptureMethod::kHandler}) {
    TrialSpec spec;
    spec.argv = {program};
    spec.capture = m;
    spec.duration_s = 10;
    spec.grace_s = 5;
    double t0 = MonotonicSeconds();
    for (int i = 0; i < n; ++i) {
      TrialResult r = RunTrial(spec);
      if (r.outcome != Outcome::kClean) {
        std::fprintf(stderr, "trial %d: %s %s\n", i, OutcomeName(r.outcome), r.detail.c_str());
        return 1;
      }
    }
    double s = MonotonicSeconds() - t0;
    std::printf("RunTrial --capture %-7s: %d trials of %s in %.3f s: %.1f trials/s (%.3f ms each)\n",
                CaptureMethodName(m), n, program.c_str(), s, n / s, s * 1000 / n);
  }
  return 0;
}

static int Workload(const std::string& capture, int repeat, std::vector<std::string> argv) {
  TrialSpec spec;
  spec.argv = std::move(argv);
  spec.builtin_workload = true;
  if (!ParseCaptureMethod(capture, &spec.capture)) {
    std::fprintf(stderr, "unknown capture method %s\n", capture.c_str());
    return 2;
  }
  spec.duration_s = 60;
  spec.grace_s = 30;
  for (int i = 0; i < repeat; ++i) {
    TrialResult r = RunTrial(spec);
    double rate = r.workload_seconds > 0 ? r.iterations / r.workload_seconds : 0;
    std::printf("capture=%s run=%d outcome=%s iterations=%lld workload_s=%.3f iterations_per_s=%.1f wall_s=%.3f%s%s\n",
                capture.c_str(), i, OutcomeName(r.outcome), static_cast<long long>(r.iterations),
                r.workload_seconds, rate, r.duration_s, r.detail.empty() ? "" : " detail=", r.detail.c_str());
    if (r.report) {
      const CrashReport& c = *r.report;
      std::printf("  capture: method=%s signal=%d faulting_tid=%d (%s, phase '%s') threads=%zu capture_ms=%.1f\n"
                  "  signature: %s%s%s\n",
                  c.method.c_str(), c.signal, c.faulting_tid, c.faulting_thread_name.c_str(),
                  c.threads.empty() ? "" : c.threads[0].phase.c_str(), c.threads.size(), c.capture_ms,
                  r.signature.c_str(), c.error.empty() ? "" : "\n  capture error: ", c.error.c_str());
    }
  }
  return 0;
}

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "spawn";
  if (mode == "spawn") return Spawn(argc > 2 ? std::atoi(argv[2]) : 1000, argc > 3 ? argv[3] : "/bin/true");
  if (mode == "workload" && argc > 5 && std::strcmp(argv[4], "--") == 0) {
    return Workload(argv[2], std::atoi(argv[3]), std::vector<std::string>(argv + 5, argv + argc));
  }
  std::fprintf(stderr, "usage: supervisor_bench spawn [N] [program] | workload CAPTURE REPEAT -- ARGV...\n");
  return 2;
}

// Supervisor benchmarks (results in bench/results/supervisor-overhead.md and capture-overhead.md).
//   supervisor_bench spawn [N] [program] [ARMS] [ROUNDS]
//       RunTrial on /bin/true N times per arm and round (ARMS: plain,none,attach by default; plain is posix_spawn +
//       waitpid), arms interleaved: ms a trial and speed relative to the first arm (median of per-round ratios).
//   supervisor_bench workload CAPTURE REPEAT -- crashgrid run WORKLOAD ...
//       runs a built-in workload REPEAT times under RunTrial with the given capture method and prints its
//       iterations per second of workload time (the cost of tracing from the start).
//   supervisor_bench race N ARMS -- PROGRAM ARGS...
//       does watching change the crash probability? Runs PROGRAM N times in each arm, one trial of each arm
//       in turn (plain = posix_spawn + waitpid with no crashgrid; otherwise RunTrial with that capture
//       method), and prints crashes per arm. ARMS: comma-separated, e.g. plain,none,attach,handler,trace.
//       ARM@LIB runs that arm with another agent build side by side with the first: a capture arm with
//       CRASHGRID_AGENT_LIB=LIB, plain with LD_PRELOAD=LIB (the library loaded but not active: no supervisor).
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <random>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "supervisor/supervisor.h"
#include "util/clock.h"
#include "util/strings.h"

using namespace cg;

extern char** environ;

// Arms run in rounds, each round every arm once in a fresh random order (fixed seed), each arm N trials a
// round: this machine's speed drifts by tens of percent within a minute, so only arms measured side by side
// compare. "plain" is posix_spawn + waitpid (what forkexec_loop does), the rest RunTrial with that capture.
static int Spawn(int n, const std::string& program, const std::string& arms_text, int rounds) {
  std::vector<std::string> arms = Split(arms_text, ',');
  std::vector<std::vector<double>> ms(arms.size());
  std::mt19937 rng(20261202);
  std::vector<size_t> order(arms.size());
  for (size_t a = 0; a < arms.size(); ++a) order[a] = a;
  char* cargv[] = {const_cast<char*>(program.c_str()), nullptr};
  for (int round = 0; round < rounds; ++round) {
    std::shuffle(order.begin(), order.end(), rng);
    for (size_t a : order) {
      TrialSpec spec;
      spec.argv = {program};
      spec.duration_s = 10;
      spec.grace_s = 5;
      bool plain = arms[a] == "plain";
      if (!plain && !ParseCaptureMethod(arms[a], &spec.capture)) {
        std::fprintf(stderr, "unknown arm %s (plain or a capture method)\n", arms[a].c_str());
        return 2;
      }
      double t0 = MonotonicSeconds();
      for (int i = 0; i < n; ++i) {
        if (plain) {
          pid_t pid = 0;
          int st = 0;
          if (posix_spawn(&pid, cargv[0], nullptr, nullptr, cargv, environ) != 0 || waitpid(pid, &st, 0) != pid ||
              st != 0) {
            std::fprintf(stderr, "plain trial %d failed\n", i);
            return 1;
          }
          continue;
        }
        TrialResult r = RunTrial(spec);
        if (r.outcome != Outcome::kClean) {
          std::fprintf(stderr, "trial %d: %s %s\n", i, OutcomeName(r.outcome), r.detail.c_str());
          return 1;
        }
      }
      ms[a].push_back((MonotonicSeconds() - t0) * 1000 / n);
    }
  }
  // Per arm: the median ms a trial over the rounds, and the median of its per-round ratio to the first arm.
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0.0 : v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
  };
  std::printf("# %d rounds x %d trials of %s per arm, arms in random order each round\n", rounds, n, program.c_str());
  std::printf("%-10s %10s %10s %16s\n", "arm", "ms/trial", "trials/s", ("vs " + arms[0]).c_str());
  for (size_t a = 0; a < arms.size(); ++a) {
    std::vector<double> ratio;
    for (int r = 0; r < rounds; ++r) ratio.push_back(ms[0][r] / ms[a][r]);
    double m = median(ms[a]);
    std::printf("%-10s %10.3f %10.1f %15.1f%%\n", arms[a].c_str(), m, 1000 / m, 100 * median(ratio));
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

static int Race(int n, const std::string& arms_text, std::vector<std::string> argv) {
  std::vector<std::string> arms = Split(arms_text, ',');
  std::vector<int> crashes(arms.size()), with_stacks(arms.size()), other(arms.size());
  std::vector<char*> cargv;
  for (std::string& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  // Each round runs every arm once, in a fresh random order (fixed seed): what ran just before a trial (a
  // capture's unwinding, a cheap plain run) changes the machine's state, and must not always favour one arm.
  std::mt19937 rng(20261201);
  std::vector<size_t> order(arms.size());
  for (size_t a = 0; a < arms.size(); ++a) order[a] = a;
  for (int i = 0; i < n; ++i) {
    std::shuffle(order.begin(), order.end(), rng);
    for (size_t a : order) {
      std::string arm = arms[a], lib;
      if (size_t at = arm.find('@'); at != std::string::npos) {
        lib = arm.substr(at + 1);
        arm.resize(at);
      }
      if (arm == "plain") {
        pid_t pid = 0;
        std::vector<std::string> env_text;
        for (char** e = environ; *e; ++e) env_text.emplace_back(*e);
        if (!lib.empty()) env_text.push_back("LD_PRELOAD=" + lib);
        std::vector<char*> envp;
        for (std::string& e : env_text) envp.push_back(e.data());
        envp.push_back(nullptr);
        if (posix_spawn(&pid, cargv[0], nullptr, nullptr, cargv.data(), envp.data()) != 0) return 1;
        int st = 0;
        waitpid(pid, &st, 0);
        if (WIFSIGNALED(st)) ++crashes[a];
        else if (WEXITSTATUS(st) != 0) ++other[a];
        continue;
      }
      TrialSpec spec;
      spec.argv = argv;
      spec.duration_s = 10;
      spec.grace_s = 5;
      if (!ParseCaptureMethod(arm, &spec.capture)) {
        std::fprintf(stderr, "unknown arm %s (plain or a capture method, optionally @LIB)\n", arms[a].c_str());
        return 2;
      }
      std::string saved = std::getenv("CRASHGRID_AGENT_LIB") ? std::getenv("CRASHGRID_AGENT_LIB") : "";
      if (!lib.empty()) setenv("CRASHGRID_AGENT_LIB", lib.c_str(), 1);
      TrialResult r = RunTrial(spec);
      if (!lib.empty()) {
        if (saved.empty()) unsetenv("CRASHGRID_AGENT_LIB");
        else setenv("CRASHGRID_AGENT_LIB", saved.c_str(), 1);
      }
      if (r.outcome == Outcome::kCrashed) {
        ++crashes[a];
        if (r.report && !r.report->threads.empty() && !r.report->threads[0].frames.empty()) ++with_stacks[a];
      } else if (r.outcome != Outcome::kClean) {
        ++other[a];
      }
    }
  }
  for (size_t a = 0; a < arms.size(); ++a) {
    std::printf("%s %d %d %d %d\n", arms[a].c_str(), crashes[a], n - other[a], with_stacks[a], other[a]);
  }
  return 0;
}

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "spawn";
  if (mode == "spawn") {
    return Spawn(argc > 2 ? std::atoi(argv[2]) : 1000, argc > 3 ? argv[3] : "/bin/true",
                 argc > 4 ? argv[4] : "plain,none,attach", argc > 5 ? std::atoi(argv[5]) : 5);
  }
  if (mode == "race" && argc > 5 && std::strcmp(argv[4], "--") == 0) {
    return Race(std::atoi(argv[2]), argv[3], std::vector<std::string>(argv + 5, argv + argc));
  }
  if (mode == "workload" && argc > 5 && std::strcmp(argv[4], "--") == 0) {
    return Workload(argv[2], std::atoi(argv[3]), std::vector<std::string>(argv + 5, argv + argc));
  }
  std::fprintf(stderr, "usage: supervisor_bench spawn [N] [program] [ARMS] [ROUNDS] | workload CAPTURE REPEAT -- ARGV... | race N ARMS -- "
                       "ARGV...\n");
  return 2;
}

// What watching a trial does to what it measures: the default capture (the agent notifies at a fault, the
// supervisor attaches only then) must leave a start-up race crashing as often as the program run plainly,
// and still bring back every crash with its stacks.
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <cstdlib>
#include <random>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "harness.h"
#include "stats/exact.h"
#include "store/store.h"

extern char** environ;

namespace cg::test {
namespace {

// Runs the fixture `n` times directly (no crashgrid) and counts the runs that died of a signal.
int PlainCrashes(const std::string& program, int n) {
  int crashes = 0;
  for (int i = 0; i < n; ++i) {
    pid_t pid = 0;
    char* argv[] = {const_cast<char*>(program.c_str()), nullptr};
    if (posix_spawn(&pid, program.c_str(), nullptr, nullptr, argv, environ) != 0) return -1;
    int st = 0;
    waitpid(pid, &st, 0);
    if (WIFSIGNALED(st)) ++crashes;
  }
  return crashes;
}

std::vector<StoredTrial> LoadTrials(const std::string& db) {
  std::string err;
  int code = 0;
  auto store = Store::Open(db, Store::Mode::kReadOnly, &err, &code);
  EXPECT_TRUE(store) << err;
  if (!store) return {};
  std::vector<RunRecord> runs;
  EXPECT_TRUE(store->LoadRuns(&runs, &err)) << err;
  std::vector<StoredTrial> trials;
  if (!runs.empty()) {
    EXPECT_TRUE(store->LoadTrials(runs.back().id, /*full=*/true, &trials, &err)) << err;
  }
  return trials;
}

TEST(Capture, StartupRaceCrashesAtTheUntracedRateUnderTheDefaultCapture) {
  const std::string fixture = FixturePath("startup_race");
  // The race's window is a busy loop; find a width at which this machine crashes in roughly a fifth to four
  // fifths of plain runs, so that a capture that hid the race would show.
  long spin = 200000;
  int k = 0;
  for (int tries = 0; tries < 6; ++tries) {
    setenv("STARTUP_RACE_SPIN", std::to_string(spin).c_str(), 1);
    k = PlainCrashes(fixture, 20);
    if (k >= 4 && k <= 16) break;
    spin = k < 4 ? spin * 3 : spin / 3;
  }
  ASSERT_GE(k, 2) << "the start-up race fixture does not race on this machine (spin " << spin << ")";

  const std::string db = TestDir() + "/race.db";
  Env env = {{"STARTUP_RACE_SPIN", std::to_string(spin)}};
  int plain_k = 0, plain_n = 0;
  // Interleaved finely, in a random order within each round: on a loaded 2-core machine this race's rate moves
  // by a factor of two or more within seconds (another test taking a core), and blocks of 20 runs an arm were
  // long enough for that drift to land on one arm (fresh-clone CI here: plain 41/80 vs 9/80 one run, 13/80 vs
  // 80/80 another under a busy loop; bench/results/capture-race.md). Two runs an arm a round, 40 rounds.
  constexpr int kRounds = 40, kPerRound = 2;
  std::mt19937 order(20261204);
  for (int round = 1; round <= kRounds; ++round) {
    bool plain_first = order() % 2 == 0;
    for (int arm = 0; arm < 2; ++arm) {
      if ((arm == 0) == plain_first) {
        plain_k += PlainCrashes(fixture, kPerRound);
        plain_n += kPerRound;
        continue;
      }
      CmdResult r = RunCrashgrid({"sweep", "--runs", std::to_string(round * kPerRound), "--duration", "5s", "--db",
                                  db, "--no-live", "--format", "none", "--exec", "--", fixture},
                                 240, env);
      ASSERT_EQ(r.exit_code, 0) << r.err;
    }
  }
  std::vector<StoredTrial> trials = LoadTrials(db);
  ASSERT_EQ(trials.size(), static_cast<size_t>(plain_n));
  int attach_k = 0;
  for (const StoredTrial& t : trials) {
    const TrialResult& r = t.result;
    EXPECT_EQ(r.capture_method, "attach") << r.detail;
    if (r.outcome != Outcome::kCrashed) {
      EXPECT_EQ(r.outcome, Outcome::kClean) << r.detail;
      continue;
    }
    ++attach_k;
    ASSERT_TRUE(r.report.has_value()) << "a crash without stacks: " << r.detail;
    EXPECT_EQ(r.report->method, "attach");
    EXPECT_EQ(r.report->signal, SIGSEGV);
    ASSERT_FALSE(r.report->threads.empty());
    ASSERT_FALSE(r.report->threads[0].frames.empty());
    EXPECT_EQ(r.report->threads[0].frames[0].symbol, "worker") << "the stack starts at the fault";
  }
  double p = FisherExactTwoSided(attach_k, plain_n, plain_k, plain_n);
  std::printf("start-up race at spin %ld: plain %d/%d, default capture %d/%d, Fisher p = %.3g\n", spin, plain_k,
              plain_n, attach_k, plain_n, p);
  // At this size a capture that staggered thread start-up as tracing does (0 of 40 in the issue's
  // measurement) gives p < 1e-4; two honest arms fall below 0.001 once in a thousand runs.
  EXPECT_GT(attach_k, 0) << "the default capture hid the start-up race: plain " << plain_k << "/" << plain_n;
  // With fewer than 4 cores another process taking a core changes how often this race's threads overlap, and
  // by how much depends on how the runs are paced (plain runs here go back to back; crashgrid's have its
  // start-up and commit between them): under a busy loop on this 2-core VM the default capture crashed *more*
  // than plain (pooled 184/480 vs 138/480), while idle and in supervisor_bench's one-by-one interleaving it is
  // within noise (bench/results/capture-race.md, 2026-12-04). There the test asks only what the defect it was
  // written for would break: that the default capture does not crash less than plain (one-sided).
  // In a sanitizer build the supervisor is the instrumented one and spawns with a full fork (supervisor/spawn.cc):
  // 200 `--exec /bin/true` trials cost 1.2 s of CPU against 0.17 s in the release build, much of it around each
  // trial's start; the fixture and the agent are not instrumented. On 2 cores that work takes the race's second
  // core for part of its window: test-asan in fresh-clone CI gave plain 47/80 vs 26/80 (2026-12-04), idle runs
  // of it here pooled 106/240 vs 84/240, while the release build idle pooled 93/240 vs 106/240 (crashgrid
  // higher). The rate is the release build's property and `make test` checks it; here only what the capture
  // brings back is checked (above), which is what the sanitizers are for.
  if (std::getenv("CRASHGRID_SANITIZER") != nullptr) {
    std::printf("sanitizer build (%s): the rates are not compared\n", std::getenv("CRASHGRID_SANITIZER"));
    return;
  }
  const bool few_cores = std::thread::hardware_concurrency() < 4;
  double p_less = FisherExactOneSided(attach_k, plain_n, plain_k, plain_n, /*greater=*/false);
  if (few_cores) {
    EXPECT_GT(p_less, 0.001) << "the default capture crashed less than plain: " << attach_k << "/" << plain_n
                             << " vs " << plain_k << "/" << plain_n;
  } else {
    EXPECT_GT(p, 0.001) << "plain " << plain_k << "/" << plain_n << " vs default capture " << attach_k << "/"
                        << plain_n;
  }
}

}  // namespace
}  // namespace cg::test

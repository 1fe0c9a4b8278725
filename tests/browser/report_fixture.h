// Runs and trials built in memory for the report tests (golden files, the headless browser test). Fully
// deterministic: no clock, no randomness. Captured text includes hostile strings: markup and script in program
// output, frame symbols and environment values, ANSI escapes and invalid UTF-8.
#pragma once

#include <string>
#include <vector>

#include "report/html.h"
#include "store/store.h"
#include "trial/run.h"

namespace cg::testing {

// A run with its trials in memory; the renderers take it grouped (groups()) or as a ReportRun (report()).
struct FixtureRun {
  RunRecord run;
  std::vector<StoredTrial> trials;
  std::vector<TrialGroup> groups() const { return GroupTrials(trials, run.duration_s); }
  ReportRun report() const { return MakeReportRun(run, trials); }
};

inline std::vector<ReportRun> Reports(const std::vector<FixtureRun>& runs) {
  std::vector<ReportRun> out;
  for (const auto& r : runs) out.push_back(r.report());
  return out;
}

inline const char kHostileOutput[] =
    "starting\n<script>document.title='pwned'</script>\n<img src=x onerror=\"document.title='pwned2'\">\n"
    "\x1b[31mred\x1b[0m bad utf8: \xff\xfe end & \"quotes\" 'single'\n";

inline const char kSigSegv[] = "SIGSEGV/SEGV_MAPERR null | librefrace.so@0x1234 | refrace_step | worker_main";
inline const char kSigAbort[] = "SIGABRT/SI_TKILL wild | <b>injected</b>+0x10 | refrace_teardown";
inline const char kSigHang[] = "hang | futex_wait | refrace_lock";

inline CrashReport MakeCrashReport(int sig, const std::string& top_symbol) {
  CrashReport r;
  r.method = "ptrace";
  r.signal = sig;
  r.si_code = 1;
  r.fault_address = 0x10;
  r.has_fault_address = true;
  r.faulting_tid = 4242;
  r.faulting_thread_name = "worker-1";
  r.capture_ms = 12.5;
  ThreadStack t1;
  t1.tid = 4242;
  t1.name = "worker-1";
  t1.phase = "open";
  t1.faulting = true;
  t1.frames = {{0x7f0000001234, "/usr/lib/librefrace.so", "abcdef", 0x1234, top_symbol, 0x10},
               {0x7f0000002000, "/usr/lib/librefrace.so", "abcdef", 0x2000, "worker_main", 0x40}};
  ThreadStack t2;
  t2.tid = 4243;
  t2.name = "main";
  t2.frames = {{0x7f0000003000, "/lib/x86_64-linux-gnu/libc.so.6", "", 0x3000, "", 0}};
  t2.error = "no CFI for <unknown>";
  r.threads = {t1, t2};
  return r;
}

inline RunRecord MakeRun(int64_t id, const std::string& driver, bool reference, std::vector<GridAxis> grid) {
  RunRecord run;
  run.id = id;
  run.created_at = 1763780000 + 3600 * id;
  run.workload = "reference-race";
  run.reference_target = reference;
  run.grid = std::move(grid);
  run.argv = {"crashgrid", "sweep", "reference-race", "--grid", "threads=1,2,4", "--grid", "sessions=1,4",
              "--runs", "4", "--duration", "300ms", "--db", "ref<1>.db"};  // as command_line says
  run.command_line =
      "crashgrid sweep reference-race --grid threads=1,2,4 --grid sessions=1,4 --runs 4 --duration 300ms --db "
      "'ref<1>.db'";
  run.params = {{"mode", "race<&>"}};
  run.runs = 4;
  run.duration_s = 0.3;
  run.grace_s = 5;
  run.capture = "ptrace";
  run.crashgrid_version = "0.1.0";
  run.crashgrid_commit = "abcdef123456";
  run.environment = {{"host", "testbox"},
                     {"kernel", "6.1.0"},
                     {"nvidia", {{"driver", driver}, {"gpus", {"NVIDIA <i>H100</i>"}}}},
                     {"gstreamer", {{"version", "1.22.0"}}},
                     {"env", {{"LD_PRELOAD", "</td><script>alert(1)</script>"}}}};
  run.finished = true;
  return run;
}

// k crashes of n in a cell, decided from the cell's position so every cell differs.
inline std::vector<StoredTrial> MakeTrials(const RunRecord& run, int crash_bias) {
  std::vector<StoredTrial> out;
  int64_t id = run.id * 1000;
  std::vector<Cell> cells{Cell{}};
  for (const auto& axis : run.grid) {
    std::vector<Cell> next;
    for (const auto& prefix : cells) {
      for (const auto& v : axis.values) {
        Cell c = prefix;
        c.emplace_back(axis.name, v);
        next.push_back(c);
      }
    }
    cells = next;
  }
  for (size_t ci = 0; ci < cells.size(); ++ci) {
    int crashes = static_cast<int>((ci * 3 + static_cast<size_t>(crash_bias)) % 5);  // 0..4 of 4 runs
    for (int rep = 0; rep < 4; ++rep) {
      StoredTrial t;
      t.id = ++id;
      t.run_id = run.id;
      t.cell = cells[ci];
      t.cell_key = CellKey(t.cell);
      t.repetition = rep;
      TrialResult& r = t.result;
      r.started_at = 1763780000 + static_cast<double>(id);
      r.duration_s = 0.35;
      r.time_to_outcome_s = 0.3;
      r.iterations = 100 + static_cast<int64_t>(ci) * 10;
      r.successes = r.iterations;
      r.workload_seconds = 0.3;
      r.capture_method = "ptrace";
      if (rep < crashes) {
        if (rep == 3) {
          r.outcome = Outcome::kHung;
          r.exit_code = 0;
          r.signal = 9;
          r.signature = kSigHang;
          r.detail = "outlived 300ms + 5s grace";
        } else {
          r.outcome = Outcome::kCrashed;
          r.signal = rep == 2 ? 6 : 11;
          r.signature = rep == 2 ? kSigAbort : kSigSegv;
          r.report = MakeCrashReport(r.signal, rep == 2 ? "<b>injected</b>" : "refrace_step");
          r.stdout_tail = kHostileOutput;
          r.stderr_tail = "refrace: racing </pre><script>document.title='pwned3'</script>\n";
        }
      } else {
        r.outcome = Outcome::kClean;
      }
      out.push_back(std::move(t));
    }
  }
  return out;
}

inline std::vector<GridAxis> TwoAxes() { return {{"threads", {"1", "2", "4"}}, {"sessions", {"1", "4"}}}; }

// Two runs over the same 3 x 2 grid on different drivers (the comparison view).
inline std::vector<FixtureRun> ComparisonFixture() {
  std::vector<FixtureRun> runs(2);
  runs[0].run = MakeRun(1, "550.120", true, TwoAxes());
  runs[0].trials = MakeTrials(runs[0].run, 2);
  runs[1].run = MakeRun(2, "535.183 <old>", true, TwoAxes());
  runs[1].trials = MakeTrials(runs[1].run, 0);
  return runs;
}

// One run with a third axis (two maps per measure) and a `serialize` axis (the mitigation table).
inline std::vector<FixtureRun> MitigationFixture() {
  std::vector<FixtureRun> runs(1);
  runs[0].run = MakeRun(3, "570.144", false,
                        {{"threads", {"2", "4"}}, {"sessions", {"1", "4"}}, {"serialize", {"none", "open+close"}}});
  runs[0].trials = MakeTrials(runs[0].run, 1);
  // The mitigation removes every crash and costs some throughput; 32 clean runs per cell make each SAFE.
  std::vector<StoredTrial> extra;
  int64_t next_id = runs[0].trials.back().id;
  for (auto& t : runs[0].trials) {
    if (t.cell.back().second != "open+close") continue;
    t.result = TrialResult{};
    t.result.outcome = Outcome::kClean;
    t.result.iterations = 80;
    t.result.workload_seconds = 0.3;
    t.result.duration_s = 0.35;
    if (t.repetition != 0) continue;
    for (int rep = 4; rep < 32; ++rep) {
      StoredTrial more = t;
      more.id = ++next_id;
      more.repetition = rep;
      extra.push_back(more);
    }
  }
  runs[0].trials.insert(runs[0].trials.end(), extra.begin(), extra.end());
  return runs;
}

}  // namespace cg::testing

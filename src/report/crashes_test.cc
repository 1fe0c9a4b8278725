#include "report/crashes.h"

#include <signal.h>

#include <gtest/gtest.h>

namespace cg {
namespace {

Frame F(uint64_t pc, const std::string& module, const std::string& symbol, uint64_t symoff, uint64_t offset,
        const std::string& build_id = "") {
  Frame f;
  f.pc = pc;
  f.module = module;
  f.symbol = symbol;
  f.symbol_offset = symoff;
  f.offset = offset;
  f.build_id = build_id;
  return f;
}

StoredTrial Trial(int64_t id, const std::string& cell, Outcome outcome, const std::string& signature,
                  double started_at = 1795000000) {
  StoredTrial t;
  t.id = id;
  t.run_id = 1;
  t.cell_key = cell;
  t.result.outcome = outcome;
  t.result.signature = signature;
  t.result.started_at = started_at;
  if (outcome == Outcome::kCrashed) t.result.signal = SIGSEGV;
  return t;
}

CrashReport SegvReport() {
  CrashReport r;
  r.method = "ptrace";
  r.signal = SIGSEGV;
  r.si_code = SEGV_MAPERR;
  r.fault_address = 0x18;
  r.has_fault_address = true;
  r.faulting_tid = 101;
  r.capture_ms = 12.5;
  ThreadStack t;
  t.tid = 101;
  t.name = "crashgrid";
  t.faulting = true;
  t.frames = {F(0x7f0000001234, "/x/libcrashgrid_refrace.so", "refrace_table_lookup", 0x14, 0x1234, "ab12"),
              F(0x7f0000001300, "/x/libcrashgrid_refrace.so", "", 0, 0x1300, "ab12"),
              F(0x55550000a000, "/x/crashgrid", "cg::WorkerMain()", 0x40, 0xa000, "cd34")};
  ThreadStack other;
  other.tid = 102;
  other.name = "crashgrid";
  other.phase = "close";
  other.frames = {F(0x7f0000009000, "/lib/libc.so.6", "__futex_abstimed_wait_common", 0x8, 0x9000, "ef56")};
  other.error = "unwinding stopped after 1 frame: no matching address range";
  r.threads = {t, other};
  return r;
}

TEST(CrashesReport, GdbFrameLineMatchesThreadApplyAllBt) {
  EXPECT_EQ(FormatGdbFrame(0, F(0x7f0000001234, "/usr/lib/libfoo.so.1", "foo", 0x12, 0x1234)),
            "#0  0x00007f0000001234 in foo+0x12 () from /usr/lib/libfoo.so.1");
  EXPECT_EQ(FormatGdbFrame(12, F(0x7f0000001300, "/usr/lib/libfoo.so.1", "", 0, 0x1300)),
            "#12 0x00007f0000001300 in ?? () from /usr/lib/libfoo.so.1 [+0x1300]");
  EXPECT_EQ(FormatGdbFrame(1, F(0x10, "", "", 0, 0)), "#1  0x0000000000000010 in ?? ()");
}

TEST(CrashesReport, GroupsRankBySignatureCountWithCellsAndFirstAndLastTrial) {
  std::vector<StoredTrial> trials = {
      Trial(1, "threads=1", Outcome::kClean, ""),
      Trial(2, "threads=2", Outcome::kCrashed, "SIG A", 100),
      Trial(3, "threads=4", Outcome::kCrashed, "SIG B", 200),
      Trial(4, "threads=4", Outcome::kCrashed, "SIG B", 300),
      Trial(5, "threads=2", Outcome::kCrashed, "SIG B", 400),
      Trial(6, "threads=4", Outcome::kFailed, ""),
      Trial(7, "threads=4", Outcome::kCrashed, "", 500),
      Trial(8, "threads=4", Outcome::kHung, "hang | f", 600),
  };
  std::vector<SignatureGroup> g = GroupCrashes(trials);
  ASSERT_EQ(g.size(), 4u);
  EXPECT_EQ(g[0].signature, "SIG B");
  EXPECT_EQ(g[0].count, 3);
  ASSERT_EQ(g[0].cells.size(), 2u);
  EXPECT_EQ(g[0].cells[0], (std::pair<std::string, int64_t>{"threads=4", 2}));
  EXPECT_EQ(g[0].cells[1], (std::pair<std::string, int64_t>{"threads=2", 1}));
  EXPECT_EQ(g[0].first.id, 3);
  EXPECT_EQ(g[0].last.id, 5);
  EXPECT_EQ(g[0].last.started_at, 400);
  // Ties keep the order in which the signatures first appeared.
  EXPECT_EQ(g[1].signature, "SIG A");
  EXPECT_EQ(g[2].signature, "SIGSEGV (no stack)");
  EXPECT_FALSE(g[2].captured);
  EXPECT_EQ(g[3].signature, "hang | f");
}

TEST(CrashesReport, RendersSignaturesWithRepresentativeStack) {
  CrashesSummary s;
  s.run_id = 3;
  s.workload = "reference-race";
  s.reference_target = true;
  s.trials = 10;
  std::vector<StoredTrial> trials = {Trial(11, "threads=4", Outcome::kCrashed, "SIGSEGV/SEGV_MAPERR null | a", 1795000000),
                                     Trial(12, "threads=4", Outcome::kCrashed, "SIGSEGV/SEGV_MAPERR null | a", 1795000061)};
  s.crashes = 2;
  s.groups = GroupCrashes(trials);
  StoredTrial rep = trials[0];
  rep.result.report = SegvReport();
  rep.result.threads = {ThreadStatus{0, 101, "open", 5, 4, 1}};
  s.groups[0].representative = rep;
  EXPECT_EQ(RenderCrashes(s, "ref.db"),
            "run 3: reference-race (reference target), 10 trials, 2 crashed or hung, 1 signature\n"
            "\n"
            "#1 2 trials (100% of crashes)  SIGSEGV/SEGV_MAPERR null | a\n"
            "   cells: threads=4 (2)\n"
            "   first: trial 11 at 2026-11-18 11:06:40 UTC   last: trial 12 at 2026-11-18 11:07:41 UTC\n"
            "   trial 11, Thread 101 \"crashgrid\" (faulting thread, phase open):\n"
            "     #0  0x00007f0000001234 in refrace_table_lookup+0x14 () from /x/libcrashgrid_refrace.so\n"
            "     #1  0x00007f0000001300 in ?? () from /x/libcrashgrid_refrace.so [+0x1300]\n"
            "     #2  0x000055550000a000 in cg::WorkerMain()+0x40 () from /x/crashgrid\n"
            "\n"
            "Whole report of a trial: crashgrid show ref.db TRIAL\n");
  nlohmann::json j = CrashesJson(s);
  EXPECT_EQ(j["schema_version"], 1);
  EXPECT_EQ(j["signatures"][0]["count"], 2);
  EXPECT_EQ(j["signatures"][0]["representative"]["thread"]["tid"], 101);
  EXPECT_EQ(j["signatures"][0]["representative"]["thread"]["frames"].size(), 3u);
}

TEST(CrashesReport, NoCrashesIsOneLine) {
  CrashesSummary s;
  s.run_id = 1;
  s.workload = "gst";
  s.trials = 31;
  EXPECT_EQ(RenderCrashes(s, "x.db"), "run 1: gst, 31 trials, 0 crashed or hung\n");
}

TEST(CrashesReport, TrialReportShowsEveryThreadFaultingFirstWithModulesAndTails) {
  StoredTrial t = Trial(17, "threads=8,sessions=4", Outcome::kCrashed, "SIGSEGV/SEGV_MAPERR null | refrace_table_lookup");
  t.repetition = 4;
  t.result.duration_s = 1.5;
  t.result.time_to_outcome_s = 1.25;
  t.result.capture_method = "ptrace";
  t.result.report = SegvReport();
  t.result.threads = {ThreadStatus{0, 101, "open", 5, 4, 1}, ThreadStatus{1, 102, "close", 6, 6, 0}};
  t.result.iterations = 11;
  t.result.successes = 10;
  t.result.errors = 1;
  t.result.stderr_tail = "refrace: opening\nboom\n";
  EXPECT_EQ(RenderTrialReport(t),
            "trial 17 (run 1, cell threads=8,sessions=4, repetition 4)\n"
            "outcome:   crashed: SIGSEGV (SEGV_MAPERR) at 0x0000000000000018\n"
            "exit code: 139 (as a shell script would see it)\n"
            "started:   2026-11-18 11:06:40 UTC, outcome after 1.2s, ran 1.5s\n"
            "signature: SIGSEGV/SEGV_MAPERR null | refrace_table_lookup\n"
            "capture:   ptrace, 2 threads in 12.5 ms\n"
            "workload:  11 iterations, 10 successes, 1 errors\n"
            "\n"
            "Thread 101 \"crashgrid\" (faulting thread, phase open):\n"
            "#0  0x00007f0000001234 in refrace_table_lookup+0x14 () from /x/libcrashgrid_refrace.so\n"
            "#1  0x00007f0000001300 in ?? () from /x/libcrashgrid_refrace.so [+0x1300]\n"
            "#2  0x000055550000a000 in cg::WorkerMain()+0x40 () from /x/crashgrid\n"
            "\n"
            "Thread 102 \"crashgrid\" (phase close):\n"
            "#0  0x00007f0000009000 in __futex_abstimed_wait_common+0x8 () from /lib/libc.so.6\n"
            "(unwinding stopped after 1 frame: no matching address range)\n"
            "\n"
            "modules:\n"
            "  ab12  /x/libcrashgrid_refrace.so\n"
            "  cd34  /x/crashgrid\n"
            "  ef56  /lib/libc.so.6\n"
            "\n"
            "stdout: (empty)\n"
            "\n"
            "stderr (last 22 bytes):\n"
            "  refrace: opening\n"
            "  boom\n");
  nlohmann::json j = TrialReportJson(t);
  EXPECT_EQ(j["trial"], 17);
  EXPECT_EQ(j["result"]["report"]["threads"].size(), 2u);
}

TEST(CrashesReport, TrialWithoutStacksSaysHowToGetThem) {
  StoredTrial t = Trial(5, "threads=2", Outcome::kCrashed, "");
  t.result.capture_method = "none";
  t.result.threads = {ThreadStatus{0, 7, "encode", 3, 3, 0}};
  std::string out = RenderTrialReport(t);
  EXPECT_NE(out.find("no stacks captured (sweep with --capture ptrace to get them)"), std::string::npos) << out;
  EXPECT_NE(out.find("  #0 tid 7: phase encode, 3 iterations, 0 errors\n"), std::string::npos) << out;
}

}  // namespace
}  // namespace cg

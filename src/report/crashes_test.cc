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

// What `crashgrid crashes` does: group the trials (as the store does), then read the first and last trial of
// each signature for their start times.
double StartedAt(const std::vector<StoredTrial>& trials, int64_t id) {
  for (const auto& t : trials)
    if (t.id == id) return t.result.started_at;
  return -1;
}
std::vector<SignatureGroup> Groups(const std::vector<StoredTrial>& trials) {
  std::vector<SignatureGroup> out = GroupCrashes(GroupTrials(trials, 0));
  for (auto& g : out) {
    g.first.started_at = StartedAt(trials, g.first.id);
    g.last.started_at = StartedAt(trials, g.last.id);
  }
  return out;
}
SignatureGroup Overran(const std::vector<StoredTrial>& trials) {
  SignatureGroup g = GroupOverran(GroupTrials(trials, 0));
  g.first.started_at = StartedAt(trials, g.first.id);
  g.last.started_at = StartedAt(trials, g.last.id);
  return g;
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

TEST(CrashesReport, GdbFrameLineNamesFileAndLineOfCodeBuiltWithDebugInfo) {
  Frame f = F(0x555500001149, "/build/app", "decode", 0x14, 0x1149);
  f.file = "/src/app.c";
  f.line = 42;
  EXPECT_EQ(FormatGdbFrame(0, f), "#0  0x0000555500001149 in decode+0x14 () at /src/app.c:42 from /build/app");
  f.file = "/src/\x1b[2Japp.c";
  EXPECT_EQ(FormatGdbFrame(0, f).find('\x1b'), std::string::npos) << "a file name is the program's text";
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
  std::vector<SignatureGroup> g = Groups(trials);
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
  s.groups = Groups(trials);
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
            "   summary: refrace_table_lookup, phase open\n"
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
  EXPECT_EQ(j["signatures"][0]["representative"]["summary"], "refrace_table_lookup, phase open");
  EXPECT_EQ(j["overran"]["count"], 0);
}

Frame Exported(Frame f) {
  f.exported = true;
  return f;
}

// A hang in libcuda: main (tid 200) in join, worker 201 idle in the runtime, worker 202 blocked in
// cuCtxCreate_v2. Stored the way records written before AnnotateReport are: main first, no api.
CrashReport HangReport() {
  CrashReport r;
  r.method = "ptrace";
  ThreadStack main_thread;
  main_thread.tid = 200;
  main_thread.name = "crashgrid";
  main_thread.faulting = true;
  main_thread.frames = {F(0x7f0000009000, "/lib/libc.so.6", "__futex_abstimed_wait_common", 0x8, 0x9000),
                        F(0x7f0000009100, "/lib/libstdc++.so.6", "std::thread::join()", 0x10, 0x9100),
                        F(0x55550000a000, "/x/crashgrid", "cg::RunWorkload()", 0x40, 0xa000)};
  ThreadStack idle;
  idle.tid = 201;
  idle.name = "cg-w0";
  idle.frames = {F(0x7f0000009000, "/lib/libc.so.6", "__futex_abstimed_wait_common", 0x8, 0x9000),
                 F(0x55550000b000, "/x/crashgrid", "cg::WorkerMain()", 0x40, 0xb000)};
  ThreadStack blocked;
  blocked.tid = 202;
  blocked.name = "cg-w1";
  blocked.state = 'S';
  blocked.frames = {F(0x7f0000009200, "/lib/libc.so.6", "__lll_lock_wait", 0x20, 0x9200),
                    F(0x7f1000017941, "/usr/lib/libcuda.so.1", "", 0, 0x17941),
                    Exported(F(0x7f1000020000, "/usr/lib/libcuda.so.1", "cuCtxCreate_v2", 0x30, 0x20000)),
                    F(0x55550000c000, "/x/crashgrid", "cg::OpenContext()", 0x40, 0xc000)};
  r.threads = {main_thread, idle, blocked};
  r.representative_tid = 202;
  return r;
}

TEST(CrashesReport, HangShowsItsRepresentativeWorkerWithTheCallInFlight) {
  CrashesSummary s;
  s.run_id = 4;
  s.workload = "cuda";
  s.trials = 3;
  s.crashes = 1;
  std::vector<StoredTrial> trials = {Trial(21, "threads=2", Outcome::kHung, "hang | libcuda.so.1 via cuCtxCreate_v2")};
  s.groups = Groups(trials);
  StoredTrial rep = trials[0];
  rep.result.report = HangReport();
  rep.result.threads = {ThreadStatus{0, 201, "", 3, 3, 0}, ThreadStatus{1, 202, "open", 2, 2, 0}};
  s.groups[0].representative = rep;
  EXPECT_EQ(RenderCrashes(s, "c.db"),
            "run 4: cuda, 3 trials, 1 crashed or hung, 1 signature\n"
            "\n"
            "#1 1 trial (100% of crashes)  hang | libcuda.so.1 via cuCtxCreate_v2\n"
            "   cells: threads=2 (1)\n"
            "   first: trial 21 at 2026-11-18 11:06:40 UTC   last: trial 21 at 2026-11-18 11:06:40 UTC\n"
            "   summary: blocked in libcuda.so.1 via cuCtxCreate_v2, phase open\n"
            "   trial 21, Thread 202 \"cg-w1\" in cuCtxCreate_v2 (representative, phase open):\n"
            "     #0  0x00007f0000009200 in __lll_lock_wait+0x20 () from /lib/libc.so.6\n"
            "     #1  0x00007f1000017941 in ?? () from /usr/lib/libcuda.so.1 [+0x17941]\n"
            "     #2  0x00007f1000020000 in cuCtxCreate_v2+0x30 () from /usr/lib/libcuda.so.1\n"
            "     #3  0x000055550000c000 in cg::OpenContext()+0x40 () from /x/crashgrid\n"
            "\n"
            "Whole report of a trial: crashgrid show c.db TRIAL\n");
  nlohmann::json j = CrashesJson(s);
  EXPECT_EQ(j["signatures"][0]["representative"]["thread"]["tid"], 202);

  // `show`: the representative first, every thread with its call in flight (none for runtime threads).
  std::string out = RenderTrialReport(rep);
  EXPECT_NE(out.find("summary:   blocked in libcuda.so.1 via cuCtxCreate_v2, phase open\n"), std::string::npos) << out;
  size_t rep_at = out.find("\nThread 202 \"cg-w1\" in cuCtxCreate_v2 (representative, phase open):\n");
  size_t main_at = out.find("\nThread 200 \"crashgrid\":\n");
  size_t idle_at = out.find("\nThread 201 \"cg-w0\" (phase idle):\n");
  ASSERT_NE(rep_at, std::string::npos) << out;
  ASSERT_NE(main_at, std::string::npos) << out;
  ASSERT_NE(idle_at, std::string::npos) << out;
  EXPECT_LT(rep_at, main_at);
  EXPECT_LT(main_at, idle_at);
}

TEST(CrashesReport, OverranTrialsAreListedApartAndNeverAsASignature) {
  std::vector<StoredTrial> trials = {
      Trial(1, "threads=8", Outcome::kOverran, "", 1795000000),
      Trial(2, "threads=8", Outcome::kCrashed, "SIGSEGV/SEGV_MAPERR null | a", 1795000010),
      Trial(3, "threads=4", Outcome::kOverran, "", 1795000020),
      Trial(4, "threads=8", Outcome::kOverran, "", 1795000030),
      Trial(5, "threads=1", Outcome::kClean, "", 1795000040),
  };
  CrashesSummary s;
  s.run_id = 2;
  s.workload = "nvdec";
  s.trials = 5;
  s.crashes = 1;
  s.groups = Groups(trials);
  s.overran = Overran(trials);
  ASSERT_EQ(s.groups.size(), 1u);
  EXPECT_EQ(s.groups[0].signature, "SIGSEGV/SEGV_MAPERR null | a");
  EXPECT_EQ(s.overran.count, 3);
  EXPECT_EQ(RenderCrashes(s, "n.db"),
            "run 2: nvdec, 5 trials, 1 crashed or hung, 3 overran, 1 signature\n"
            "\n"
            "#1 1 trial (100% of crashes)  SIGSEGV/SEGV_MAPERR null | a\n"
            "   cells: threads=8 (1)\n"
            "   first: trial 2 at 2026-11-18 11:06:50 UTC   last: trial 2 at 2026-11-18 11:06:50 UTC\n"
            "\n"
            "overran (slow, not stuck): 3 trials, not counted as crashes\n"
            "   cells: threads=8 (2), threads=4 (1)\n"
            "   first: trial 1 at 2026-11-18 11:06:40 UTC   last: trial 4 at 2026-11-18 11:07:10 UTC\n"
            "\n"
            "Whole report of a trial: crashgrid show n.db TRIAL\n");
  nlohmann::json j = CrashesJson(s);
  EXPECT_EQ(j["signatures"].size(), 1u);
  EXPECT_EQ(j["overran"]["count"], 3);
  EXPECT_EQ(j["overran"]["cells"][0]["cell"], "threads=8");
  EXPECT_EQ(j["overran"]["last"]["trial"], 4);

  // Only overran trials: no signatures, the section still there.
  trials.erase(trials.begin() + 1);
  s.crashes = 0;
  s.groups = Groups(trials);
  s.overran = Overran(trials);
  EXPECT_TRUE(s.groups.empty());
  std::string out = RenderCrashes(s, "n.db");
  EXPECT_EQ(out.substr(0, out.find('\n')), "run 2: nvdec, 5 trials, 0 crashed or hung, 3 overran");
  EXPECT_NE(out.find("\noverran (slow, not stuck): 3 trials, not counted as crashes\n"), std::string::npos) << out;
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
            "summary:   refrace_table_lookup, phase open\n"
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

TEST(CrashesReport, TrialReportShowsHostileTextVisiblyAndAllOfItPastANul) {
  StoredTrial t = Trial(9, "M=a\x1b[2Jb", Outcome::kCrashed, "SIGSEGV/SEGV_MAPERR null | evil\x1b]0;x\x07");
  t.result.report = SegvReport();
  t.result.report->threads[0].name = "w\x1b[2J\xff\nx";
  t.result.report->threads[0].frames[0].symbol = "sym\x9b" "2J";
  t.result.report->threads[0].frames[0].module = "/x/lib\x1b]52;c;QQ==\x07.so";
  t.result.stdout_tail = std::string("before\x1b]0;title\x07\nnul:\0after-nul\n", 32);
  t.result.stderr_tail = "all of stderr \xc3(\n";
  std::string out = RenderTrialReport(t);
  for (char c : {'\x1b', '\x07', '\0'}) EXPECT_EQ(out.find(c), std::string::npos) << int(c) << "\n" << out;
  EXPECT_EQ(out.find('\xff'), std::string::npos) << out;
  EXPECT_NE(out.find("cell M=a\\x1b[2Jb,"), std::string::npos) << out;
  EXPECT_NE(out.find("signature: SIGSEGV/SEGV_MAPERR null | evil\\x1b]0;x\\x07\n"), std::string::npos) << out;
  // The thread's name stays on its heading line.
  EXPECT_NE(out.find("Thread 101 \"w\\x1b[2J\\xff\\x0ax\" (faulting thread"), std::string::npos) << out;
  EXPECT_NE(out.find(" in sym\\x9b2J+0x14 () from /x/lib\\x1b]52;c;QQ==\\x07.so\n"), std::string::npos) << out;
  EXPECT_NE(out.find("  before\\x1b]0;title\\x07\n  nul:\\x00after-nul\n"), std::string::npos) << out;
  EXPECT_NE(out.find("  all of stderr \\xc3(\n"), std::string::npos) << out;
}

// What the agent tracked reads in the heading: the call, the outer call it is under, the caller, the count.
TEST(ThreadHeading, SaysTheCallInFlightUnderItsOuterCall) {
  TrialResult r;
  r.outcome = Outcome::kCrashed;
  ThreadStack t;
  t.tid = 32;
  t.name = "videotestsrc2:s";
  t.faulting = true;
  t.api = t.api_call = "cuvidDestroyDecoder";
  t.api_outer = "gst_element_set_state(NULL)";
  t.api_caller = "churn_once";
  t.api_calls = 17;
  EXPECT_EQ(ThreadHeading(t, r),
            "Thread 32 \"videotestsrc2:s\" in cuvidDestroyDecoder, under gst_element_set_state(NULL) from churn_once "
            "(faulting thread, 17 API calls)");
  t.api = t.api_call = "gst_element_set_state";  // the outer call itself: its state, once
  EXPECT_EQ(ThreadHeading(t, r),
            "Thread 32 \"videotestsrc2:s\" in gst_element_set_state(NULL) from churn_once (faulting thread, 17 API "
            "calls)");
  ThreadStack plain;  // nothing tracked: as before
  plain.tid = 7;
  plain.name = "w";
  EXPECT_EQ(ThreadHeading(plain, r), "Thread 7 \"w\"");
}

}  // namespace
}  // namespace cg

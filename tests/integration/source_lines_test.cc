// Frames of code built with -g show file:line (the module's DWARF line table, libdw) in show, crashes and
// bugreport, and signatures stay what they were without debug information.
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "harness.h"
#include "store/store.h"
#include "trial/trial.h"

namespace cg::test {
namespace {

// The 1-based line of `marker` in the fixture's source, 0 if absent.
int LineOf(const std::string& path, const std::string& marker) {
  std::ifstream in(path);
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.find(marker) != std::string::npos) return n;
  }
  return 0;
}

bool EndsWith(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

TEST(SymbolLines, CrashFrameOfCodeBuiltWithDebugInfoShowsFileAndLine) {
  const std::string source = std::string(CRASHGRID_SOURCE_DIR) + "/tests/fixtures/exec_phases.c";
  const int crash_line = LineOf(source, "// CRASH-LINE");
  const int call_line = LineOf(source, "flush_frames((volatile int*)arg);");
  ASSERT_GT(crash_line, 0);
  ASSERT_GT(call_line, 0);
  const std::string test_dir = TestDir();  // once: each call starts an empty directory
  for (const std::string capture : {"attach", "handler"}) {
    std::string db = test_dir + "/lines-" + capture + ".db";
    CmdResult r = RunCrashgrid({"sweep", "--runs", "1", "--duration", "5s", "--capture", capture, "--db", db,
                                "--no-live", "--format", "none", "--exec", "--", FixturePath("exec_phases"), "3",
                                "crash"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::string err;
    int code = 0;
    auto store = Store::Open(db, Store::Mode::kReadOnly, &err, &code);
    ASSERT_TRUE(store) << err;
    std::vector<RunRecord> runs;
    ASSERT_TRUE(store->LoadRuns(&runs, &err)) << err;
    ASSERT_EQ(runs.size(), 1u);
    std::vector<StoredTrial> trials;
    ASSERT_TRUE(store->LoadTrials(runs[0].id, /*full=*/true, &trials, &err)) << err;
    ASSERT_EQ(trials.size(), 1u);
    const TrialResult& t = trials[0].result;
    ASSERT_EQ(t.outcome, Outcome::kCrashed) << t.detail;
    ASSERT_TRUE(t.report.has_value());
    const std::vector<Frame>& frames = t.report->threads.at(0).frames;
    ASSERT_GE(frames.size(), 2u);
    EXPECT_EQ(frames[0].symbol, "flush_frames") << capture;
    EXPECT_TRUE(EndsWith(frames[0].file, "tests/fixtures/exec_phases.c")) << capture << ": " << frames[0].file;
    EXPECT_EQ(frames[0].line, crash_line) << capture;
    // A return address: the line of the call, not of the instruction after it.
    EXPECT_EQ(frames[1].symbol, "worker") << capture;
    EXPECT_EQ(frames[1].line, call_line) << capture;
    EXPECT_EQ(t.signature.find("exec_phases.c"), std::string::npos) << "a line never splits a signature: " << t.signature;

    const std::string where = "exec_phases.c:" + std::to_string(crash_line) + " from ";
    CmdResult show = RunCrashgrid({"show", db, std::to_string(trials[0].id)});
    ASSERT_EQ(show.exit_code, 0) << show.err;
    EXPECT_NE(show.out.find("in flush_frames+0x"), std::string::npos) << show.out;
    EXPECT_NE(show.out.find(where), std::string::npos) << show.out;
    CmdResult crashes = RunCrashgrid({"crashes", db});
    ASSERT_EQ(crashes.exit_code, 0) << crashes.err;
    EXPECT_NE(crashes.out.find(where), std::string::npos) << crashes.out;
    std::string dir = test_dir + "/bug-" + capture;
    CmdResult bug = RunCrashgrid({"bugreport", db, "--signature", t.signature, "-o", dir});
    ASSERT_EQ(bug.exit_code, 0) << bug.err;
    EXPECT_NE(ReadFile(dir + "/README.md").find(where), std::string::npos) << ReadFile(dir + "/README.md");
  }
}

}  // namespace
}  // namespace cg::test

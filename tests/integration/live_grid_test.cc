// End-to-end: what the live grid and the plain progress lines of a real `crashgrid sweep` say about decided
// cells and the crash percentage. The sweep sets each cell's verdict (SweepProgress::cell_verdict) as the
// SPRT reaches it; these tests read it off the screen.
#include <pty.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "harness.h"

namespace cg::test {
namespace {

// X=1 crashes every time (CRASHES after one crash with p1 = 0.5), X=0 never (SAFE after 5 clean runs:
// 5 * ln(0.5 / 0.99) < ln(0.05 / 0.95)).
std::vector<std::string> DecidedSweep(const std::string& db) {
  return {"sweep", "--grid", "X=0,1", "--until", "decided", "--runs", "20", "--p0", "0.01", "--p1", "0.5",
          "--duration", "2s", "--capture", "none", "--seed", "1", "--format", "none", "--db", db, "--exec", "--",
          "sh", "-c", "if [ \"$X\" = 1 ]; then kill -SEGV $$; fi; exit 0"};
}

TEST(LiveGrid, RealSweepMarksDecidedCellsAndExplainsTheMarks) {
  std::string db = TestDir() + "/decided.db";
  struct winsize ws = {};
  ws.ws_row = 40;
  ws.ws_col = 120;
  int master = -1;
  pid_t pid = forkpty(&master, nullptr, nullptr, &ws);
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    setenv("TERM", "xterm-256color", 1);
    std::string bin = CrashgridBin();
    std::vector<std::string> args = DecidedSweep(db);
    std::vector<char*> argv{const_cast<char*>(bin.c_str())};
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(bin.c_str(), argv.data());
    _exit(127);
  }
  std::string screen;
  char buf[4096];
  while (true) {
    ssize_t n = read(master, buf, sizeof(buf));
    if (n <= 0) break;  // EIO once the child side closes
    screen.append(buf, static_cast<size_t>(n));
  }
  close(master);
  int status = WaitFor(pid, 120);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << screen;
  std::string text = StripAnsi(screen);
  // The last frame: X=0 decided SAFE after 5 clean runs and X=1 CRASHES after one crash.
  size_t frame = text.rfind("[6/6]");
  ASSERT_NE(frame, std::string::npos) << text;
  std::string last = text.substr(frame);
  EXPECT_NE(last.find(" 1 crash (17%) (decided)\n"), std::string::npos) << last;
  EXPECT_NE(last.find("0  0/5S\n"), std::string::npos) << last;
  EXPECT_NE(last.find("1  1/1C\n"), std::string::npos) << last;
  EXPECT_NE(last.find("S SAFE, C CRASHES: decided by the SPRT (2 of 2 cells)"), std::string::npos) << last;
  EXPECT_NE(last.find("green: no crash"), std::string::npos) << last;
}

TEST(PlainProgress, RealSweepPrintsTheCrashPercentage) {
  std::string db = TestDir() + "/plain.db";
  std::vector<std::string> args = DecidedSweep(db);
  args.insert(args.begin() + 1, "--no-live");
  CmdResult r = RunCrashgrid(args, 120);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  std::string all = r.out + r.err;
  // The crash is a notable trial, printed at once; the percentage is of the trials before and with it.
  EXPECT_NE(all.find(" 1 crash ("), std::string::npos) << all;
  EXPECT_NE(all.find("[6/6] "), std::string::npos) << all;
  EXPECT_NE(all.find("1 crash (17%)"), std::string::npos) << all;
}

}  // namespace
}  // namespace cg::test

// End-to-end: the live grid on a terminal, and Ctrl-C during a sweep.
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "harness.h"
#include "store/store.h"
#include "util/error.h"

namespace cg::test {
namespace {

TEST(Live, SweepOnATerminalEndsWithTheFilledGrid) {
  std::string db = TestDir() + "/live.db";
  struct winsize ws = {};
  ws.ws_row = 40;
  ws.ws_col = 120;
  int master = -1;
  pid_t pid = forkpty(&master, nullptr, nullptr, &ws);
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    setenv("TERM", "xterm-256color", 1);
    std::string bin = CrashgridBin();
    execl(bin.c_str(), bin.c_str(), "sweep", "reference-race", "--grid", "threads=1,2", "--grid", "sessions=1,2",
          "--runs", "2", "--duration", "200ms", "--db", db.c_str(), nullptr);
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
  EXPECT_NE(screen.find("\x1b["), std::string::npos) << "no terminal control: not the live view";
  std::string text = StripAnsi(screen);
  // The last frame drawn: the grid's header, then one row per threads value with both cells at n = 2.
  size_t header = text.rfind("threads\\sessions");
  ASSERT_NE(header, std::string::npos) << text;
  std::string rest = text.substr(header);
  std::vector<std::string> lines;
  for (size_t start = 0, end; lines.size() < 3 && (end = rest.find('\n', start)) != std::string::npos;
       start = end + 1)
    lines.push_back(rest.substr(start, end - start));
  ASSERT_EQ(lines.size(), 3u) << rest;
  for (int row = 1; row <= 2; ++row) {
    const std::string& line = lines[static_cast<size_t>(row)];
    size_t cells = 0;
    for (size_t pos = line.find("/2"); pos != std::string::npos; pos = line.find("/2", pos + 1)) cells++;
    EXPECT_EQ(cells, 2u) << "row " << row << ": " << line << "\n" << text;
  }
  EXPECT_NE(text.find("[8/8]"), std::string::npos) << text;
}

TEST(Sweep, CtrlCStopsAtOnceDiscardsTheTrialInFlightAndSaysHowToResume) {
  std::string dir = TestDir();
  std::string db = dir + "/ctrlc.db";
  std::vector<std::string> args = {"sweep", "--runs", "4", "--duration", "3s", "--db", db, "--no-live",
                                   "--exec", "--", "sh", "-c", "sleep 1.5"};
  pid_t pid = StartCrashgrid(args, dir + "/log");
  auto count = [&] {
    std::string err;
    int code = 0;
    auto store = Store::Open(db, Store::Mode::kReadOnly, &err, &code);
    std::vector<RunRecord> runs;
    std::vector<StoredTrial> trials;
    if (!store || !store->LoadRuns(&runs, &err) || runs.empty() || !store->LoadTrials(runs[0].id, false, &trials, &err))
      return size_t{0};
    return trials.size();
  };
  ASSERT_TRUE(WaitUntil(60, [&] { return count() >= 1; })) << ReadFile(dir + "/log");
  // The second trial is in flight now (or about to start); Ctrl-C kills it and it is not recorded.
  usleep(300 * 1000);
  kill(pid, SIGINT);
  int status = WaitFor(pid, 30);
  ASSERT_NE(status, -1) << "crashgrid did not stop after Ctrl-C";
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 128 + SIGINT);
  std::string log = ReadFile(dir + "/log");
  EXPECT_NE(log.find("crashgrid sweep --resume --db " + db), std::string::npos) << log;
  size_t recorded = count();
  EXPECT_EQ(recorded, 1u) << log;

  CmdResult again = RunCrashgrid({"sweep", "--resume", "--db", db, "--no-live"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(count(), 4u);
}

}  // namespace
}  // namespace cg::test

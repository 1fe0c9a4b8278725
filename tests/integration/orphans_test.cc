// No process of a trial outlives it, nor crashgrid, in any capture mode: not even the ones that left the
// trial's process group (a setsid() grandchild, a double-forked daemon), which only a subreaper and the
// trial marker can find without ptrace.
#include <dirent.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <ostream>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "harness.h"

namespace cg::test {
namespace {

// What orphan_escape wrote: itself, its setsid() grandchild, its double-forked daemon, its marker.
struct Escape {
  pid_t leader = 0, grandchild = 0, daemon = 0;
  std::string marker;
  std::vector<pid_t> pids() const { return {leader, grandchild, daemon}; }
};

bool ReadEscape(const std::string& path, Escape* e) {
  std::istringstream in(ReadFile(path));
  return static_cast<bool>(in >> e->leader >> e->grandchild >> e->daemon >> e->marker);
}

// The later-*.pids files in dir (trials after the first).
std::vector<std::string> LaterPidFiles(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = opendir(dir.c_str());
  if (!d) return out;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name.rfind("later-", 0) == 0 && name.size() > 5 && name.substr(name.size() - 5) == ".pids") {
      out.push_back(dir + "/" + name);
    }
  }
  closedir(d);
  return out;
}

char StateOf(pid_t pid) {
  std::string stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  size_t paren = stat.rfind(')');
  return paren == std::string::npos || paren + 2 >= stat.size() ? 0 : stat[paren + 2];
}

pid_t ParentOf(pid_t pid) {
  std::string stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  size_t paren = stat.rfind(')');
  int ppid = 0;
  if (paren != std::string::npos) std::sscanf(stat.c_str() + paren + 1, " %*c %d", &ppid);
  return ppid;
}

// Not running: gone, or a zombie nobody reaped yet.
bool Dead(pid_t pid) {
  if (kill(pid, 0) != 0 && errno == ESRCH) return true;
  char s = StateOf(pid);
  return s == 0 || s == 'Z' || s == 'X';
}

std::string Survivors(const Escape& e) {
  std::string out;
  const char* names[] = {"trial process", "setsid() grandchild", "double-forked daemon"};
  std::vector<pid_t> pids = e.pids();
  for (size_t i = 0; i < pids.size(); ++i) {
    if (!Dead(pids[i])) out += std::string(out.empty() ? "" : ", ") + names[i] + " " + std::to_string(pids[i]);
  }
  return out.empty() ? "none" : out;
}

// Kills what a failed test left behind: only processes this test started, still carrying its marker.
void Cleanup(const Escape& e) {
  for (pid_t pid : e.pids()) {
    if (pid <= 0) continue;
    std::string env = ReadFile("/proc/" + std::to_string(pid) + "/environ");
    if (e.marker != "-" && env.find("CRASHGRID_TRIAL=" + e.marker + '\0') != std::string::npos) {
      kill(pid, SIGKILL);
    }
  }
}

bool MarkerNames(const std::string& marker, pid_t crashgrid) {
  return marker.rfind(std::to_string(crashgrid) + ".", 0) == 0;
}

class OrphansAtTrialEnd : public ::testing::TestWithParam<std::tuple<std::string, std::string>> {};

// Two trials in a row: the second waits for the test to release it, so the first one's escapees are looked
// at after that trial ended and while crashgrid (and so the reaper guard's last resort) is still running.
TEST_P(OrphansAtTrialEnd, EscapedProcessesAreGoneOnceTheirTrialEnded) {
  const auto& [capture, ending] = GetParam();
  std::string dir = TestDir();
  pid_t cg = StartCrashgrid({"sweep", "--runs", "2", "--duration", "2s", "--grace", "2s", "--db", dir + "/o.db",
                             "--no-live", "--capture", capture, "--exec", "--", FixturePath("orphan_escape"), dir,
                             ending, "release"},
                            dir + "/log");
  ASSERT_GT(cg, 0);
  Escape first, later;
  bool started = WaitUntil(120, [&] { return !LaterPidFiles(dir).empty(); });
  ReadEscape(dir + "/first.pids", &first);
  if (started) ReadEscape(LaterPidFiles(dir)[0], &later);
  std::string survivors = Survivors(first);
  int status = 0;
  bool cg_running = waitpid(cg, &status, WNOHANG) == 0;
  std::ofstream(dir + "/release").put('\n');
  int end = WaitFor(cg, 120);
  if (end == -1) {
    kill(cg, SIGKILL);
    waitpid(cg, nullptr, 0);
  }
  Cleanup(first);
  Cleanup(later);
  ASSERT_TRUE(started) << "the second trial never started\n" << ReadFile(dir + "/log");
  ASSERT_TRUE(cg_running) << "crashgrid ended before the first trial's processes were looked at (loaded machine?)";
  ASSERT_GT(first.daemon, 0);
  EXPECT_EQ(survivors, "none") << "alive after their trial ended (" << ending << ", --capture " << capture << ")";
  EXPECT_TRUE(MarkerNames(first.marker, cg)) << first.marker;
  EXPECT_TRUE(MarkerNames(later.marker, cg)) << later.marker;
  EXPECT_NE(first.marker, later.marker) << "each trial has its own marker";
  EXPECT_TRUE(WIFEXITED(end) && WEXITSTATUS(end) == 0) << end << "\n" << ReadFile(dir + "/log");
  EXPECT_TRUE(WaitUntil(10, [&] { return Survivors(later) == "none"; })) << Survivors(later);
}

INSTANTIATE_TEST_SUITE_P(EveryCapture, OrphansAtTrialEnd,
                         ::testing::Combine(::testing::Values("attach", "trace", "handler", "none"),
                                            ::testing::Values("exit", "crash", "hang")),
                         [](const auto& info) {
                           return std::get<0>(info.param) + "_" + std::get<1>(info.param);
                         });

// With --jobs, one trial's end kills its own escapees but not those of the trial still running beside it,
// which also live as crashgrid's adopted children.
TEST(OrphansWithJobs, ATrialsEndSparesTheEscapeesOfATrialStillRunning) {
  std::string dir = TestDir();
  // Two cells, so that their trials run side by side (the runs of one cell are rounds apart).
  pid_t cg = StartCrashgrid({"sweep", "--grid", "CELL=1,2", "--runs", "1", "--jobs", "2", "--duration", "30s",
                             "--db", dir + "/o.db", "--no-live", "--capture", "none", "--exec", "--",
                             FixturePath("orphan_escape"), dir, "await", "release", "{CELL}"},
                            dir + "/log");
  ASSERT_GT(cg, 0);
  Escape first, later;
  bool started = WaitUntil(120, [&] {
    return ReadEscape(dir + "/first.pids", &first) && !LaterPidFiles(dir).empty() &&
           ReadEscape(LaterPidFiles(dir)[0], &later);
  });
  // Nothing but the first trial's end kills its escapees while crashgrid runs.
  bool first_gone = started && WaitUntil(30, [&] { return Survivors(first) == "none"; });
  std::string later_survivors = Survivors(later);
  bool cg_running = waitpid(cg, nullptr, WNOHANG) == 0;
  std::ofstream(dir + "/release").put('\n');
  int end = WaitFor(cg, 120);
  if (end == -1) {
    kill(cg, SIGKILL);
    waitpid(cg, nullptr, 0);
  }
  bool later_gone = WaitUntil(10, [&] { return Survivors(later) == "none"; });
  Cleanup(first);
  Cleanup(later);
  ASSERT_TRUE(started) << ReadFile(dir + "/log");
  ASSERT_TRUE(cg_running) << "crashgrid ended before the second trial was released";
  EXPECT_TRUE(first_gone) << Survivors(first);
  EXPECT_EQ(later_survivors, "trial process " + std::to_string(later.leader) + ", setsid() grandchild " +
                                 std::to_string(later.grandchild) + ", double-forked daemon " +
                                 std::to_string(later.daemon))
      << "the first trial's end killed processes of the trial still running";
  EXPECT_NE(first.marker, later.marker);
  EXPECT_TRUE(WIFEXITED(end) && WEXITSTATUS(end) == 0) << end << "\n" << ReadFile(dir + "/log");
  EXPECT_TRUE(later_gone) << Survivors(later);
}

struct KillCase {
  int signal;
  int times;  // SIGINT/SIGTERM/SIGHUP: once kills the trial in flight and exits, twice exits at once
  std::string capture;
};

void PrintTo(const KillCase& c, std::ostream* os) {
  *os << "SIG" << sigabbrev_np(c.signal) << " x" << c.times << " --capture " << c.capture;
}

class OrphansOfAKilledCrashgrid : public ::testing::TestWithParam<KillCase> {};

TEST_P(OrphansOfAKilledCrashgrid, AreGoneSoonAfterCrashgridExits) {
  const KillCase& c = GetParam();
  std::string dir = TestDir();
  // A hanging trial: killed at the signal (one SIGINT/SIGTERM/SIGHUP), or at once with crashgrid (two).
  pid_t cg = StartCrashgrid({"sweep", "--runs", "3", "--duration", "3s", "--grace", "2s", "--db", dir + "/o.db",
                             "--no-live", "--capture", c.capture, "--exec", "--", FixturePath("orphan_escape"), dir,
                             "hang"},
                            dir + "/log");
  ASSERT_GT(cg, 0);
  Escape e;
  bool started = WaitUntil(120, [&] { return ReadEscape(dir + "/first.pids", &e); });
  if (!started) {
    kill(cg, SIGKILL);
    waitpid(cg, nullptr, 0);
    FAIL() << "the trial never started\n" << ReadFile(dir + "/log");
  }
  // Mid-trial, all of it runs, and the daemon (its parent gone) was adopted by crashgrid, not by init.
  EXPECT_EQ(Survivors(e), "trial process " + std::to_string(e.leader) + ", setsid() grandchild " +
                              std::to_string(e.grandchild) + ", double-forked daemon " + std::to_string(e.daemon));
  EXPECT_EQ(ParentOf(e.daemon), cg);
  for (int i = 0; i < c.times; ++i) {
    if (i > 0) usleep(200 * 1000);
    kill(cg, c.signal);
  }
  int status = WaitFor(cg, 60);
  if (status == -1) {
    kill(cg, SIGKILL);
    waitpid(cg, nullptr, 0);
  }
  bool gone = WaitUntil(5, [&] { return Survivors(e) == "none"; });
  std::string survivors = Survivors(e);
  Cleanup(e);
  ASSERT_NE(status, -1) << "crashgrid did not exit\n" << ReadFile(dir + "/log");
  if (c.signal == SIGKILL) {
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == c.signal) << status;
  } else {  // SIGINT, SIGTERM and SIGHUP stop the sweep: exit 128 + the signal
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 128 + c.signal) << status;
  }
  EXPECT_TRUE(gone) << survivors << " still alive 5 s after crashgrid exited\n" << ReadFile(dir + "/log");
}

INSTANTIATE_TEST_SUITE_P(
    Signals, OrphansOfAKilledCrashgrid,
    ::testing::Values(KillCase{SIGKILL, 1, "none"}, KillCase{SIGHUP, 1, "none"}, KillCase{SIGTERM, 1, "none"},
                      KillCase{SIGTERM, 2, "none"}, KillCase{SIGINT, 1, "none"}, KillCase{SIGINT, 2, "none"},
                      KillCase{SIGKILL, 1, "attach"}, KillCase{SIGKILL, 1, "handler"}, KillCase{SIGKILL, 1, "trace"},
                      KillCase{SIGHUP, 1, "handler"}),
    [](const auto& info) {
      const KillCase& c = info.param;
      return std::string(sigabbrev_np(c.signal)) + (c.times > 1 ? "Twice" : "") + "_" + c.capture;
    });

}  // namespace
}  // namespace cg::test

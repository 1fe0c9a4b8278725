#include "supervisor/descendants.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "supervisor/supervisor.h"
#include "util/clock.h"
#include "util/test_util.h"

namespace cg {
namespace {

using test_util::Fixture;
using test_util::Slurp;

using namespace std::string_literals;



char StateOf(pid_t pid) {
  std::string stat = Slurp("/proc/" + std::to_string(pid) + "/stat");
  size_t paren = stat.rfind(')');
  return paren == std::string::npos || paren + 2 >= stat.size() ? 0 : stat[paren + 2];
}

pid_t ParentOf(pid_t pid) {
  std::string stat = Slurp("/proc/" + std::to_string(pid) + "/stat");
  size_t paren = stat.rfind(')');
  int ppid = 0;
  if (paren != std::string::npos) std::sscanf(stat.c_str() + paren + 1, " %*c %d", &ppid);
  return ppid;
}

// Not running any more: gone, or a zombie.
bool Dead(pid_t pid) {
  if (kill(pid, 0) != 0 && errno == ESRCH) return true;
  char s = StateOf(pid);
  return s == 0 || s == 'Z' || s == 'X';
}
// Gone altogether: somebody reaped it.
bool Reaped(pid_t pid) { return kill(pid, 0) != 0 && errno == ESRCH; }
bool Running(pid_t pid) { return kill(pid, 0) == 0 && !Dead(pid); }

template <typename F>
bool WaitUntilTrue(double timeout_s, F pred) {
  double end = MonotonicSeconds() + timeout_s;
  while (MonotonicSeconds() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return pred();
}

std::set<pid_t> AsSet(const std::vector<pid_t>& v) { return {v.begin(), v.end()}; }

// A fresh directory for one test, under the build tree.
std::string TestDir() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string dir = std::string(CRASHGRID_BINARY_DIR) + "/test-output/" + info->test_suite_name() + "." +
                    info->name() + "-" + std::to_string(getpid());
  std::string cmd = "rm -rf '" + dir + "' && mkdir -p '" + dir + "'";
  EXPECT_EQ(std::system(cmd.c_str()), 0);
  return dir;
}

// Starts argv in a process group of its own with CRASHGRID_TRIAL=marker (none when empty), as Spawn would.
pid_t StartMarked(std::vector<std::string> argv, const std::string& marker) {
  std::vector<std::string> env_strings = {"PATH=/usr/bin:/bin"};
  if (!marker.empty()) env_strings.push_back(std::string(kTrialMarkerEnv) + "=" + marker);
  std::vector<char*> envp, args;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  for (auto& s : argv) args.push_back(s.data());
  args.push_back(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    setpgid(0, 0);
    execve(args[0], args.data(), envp.data());
    _exit(127);
  }
  setpgid(pid, pid);
  return pid;
}

struct EscapePids {
  pid_t leader = 0, grandchild = 0, daemon = 0;
  std::string marker;
};

// Waits for orphan_escape to write DIR/first.pids.
bool ReadEscapePids(const std::string& dir, EscapePids* p, double timeout_s = 30) {
  double end = MonotonicSeconds() + timeout_s;
  for (;;) {
    std::istringstream in(Slurp(dir + "/first.pids"));
    if (in >> p->leader >> p->grandchild >> p->daemon >> p->marker) return true;
    if (MonotonicSeconds() >= end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

bool WaitExitedNoReap(pid_t pid, double timeout_s) {
  double end = MonotonicSeconds() + timeout_s;
  while (MonotonicSeconds() < end) {
    siginfo_t si{};
    if (waitid(P_PID, static_cast<id_t>(pid), &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == pid) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return false;
}

// Kills what a failed test left behind: only the pids this test started (still carrying its marker).
void Cleanup(const EscapePids& p) {
  for (pid_t pid : {p.grandchild, p.daemon}) {
    if (pid <= 0) continue;
    std::string env = Slurp("/proc/" + std::to_string(pid) + "/environ");
    if (!p.marker.empty() && TrialMarkerIn(env) == p.marker) kill(pid, SIGKILL);
  }
}

TEST(Descendants, FindsEveryProcessBelowRootWhateverItsSessionOrGroup) {
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  // root -> {a (new session) -> c, b (new group)}; only async-signal-safe calls after fork.
  pid_t root = fork();
  if (root == 0) {
    pid_t a = fork();
    if (a == 0) {
      setsid();
      pid_t c = fork();
      if (c == 0) {
        for (;;) pause();
      }
      ssize_t w = write(p[1], &c, sizeof c);
      (void)w;
      for (;;) pause();
    }
    pid_t b = fork();
    if (b == 0) {
      setpgid(0, 0);
      for (;;) pause();
    }
    pid_t ab[2] = {a, b};
    ssize_t w = write(p[1], ab, sizeof ab);
    (void)w;
    for (;;) pause();
  }
  close(p[1]);
  // The two writes may arrive in either order; a's message is one pid, root's two.
  std::vector<pid_t> got;
  pid_t v;
  while (got.size() < 3 && read(p[0], &v, sizeof v) == sizeof v) got.push_back(v);
  close(p[0]);
  ASSERT_EQ(got.size(), 3u);
  std::set<pid_t> all(got.begin(), got.end());
  pid_t a = 0, c = 0;
  for (pid_t x : got) {
    if (ParentOf(x) == root && getsid(x) == x) a = x;
    if (ParentOf(x) != root) c = x;
  }
  ASSERT_GT(a, 0);
  ASSERT_GT(c, 0);

  EXPECT_EQ(AsSet(Descendants(root)), all);
  EXPECT_EQ(AsSet(DescendantsByScan(root)), all);
  EXPECT_EQ(AsSet(Descendants(a)), std::set<pid_t>{c});
  EXPECT_EQ(AsSet(DescendantsByScan(a)), std::set<pid_t>{c});
  EXPECT_TRUE(Descendants(c).empty());
  EXPECT_TRUE(AsSet(Descendants(getpid())).count(c)) << "grandchildren of ours are our descendants";
  EXPECT_TRUE(AsSet(Children(getpid())).count(root));
  EXPECT_FALSE(AsSet(Children(getpid())).count(a));

  for (pid_t x : all) kill(x, SIGKILL);
  kill(root, SIGKILL);
  waitpid(root, nullptr, 0);
  EXPECT_TRUE(Descendants(root).empty()) << "a reaped root has no descendants";
}

TEST(Descendants, ListsZombieChildren) {
  pid_t z = fork();
  if (z == 0) _exit(0);
  ASSERT_TRUE(WaitExitedNoReap(z, 10));
  EXPECT_TRUE(AsSet(Children(getpid())).count(z));
  EXPECT_TRUE(AsSet(DescendantsByScan(getpid())).count(z));
  waitpid(z, nullptr, 0);
  EXPECT_FALSE(AsSet(Children(getpid())).count(z));
}

TEST(TrialMarker, IsFoundOnlyAsAWholeEntryName) {
  EXPECT_EQ(TrialMarkerIn("A=1\0CRASHGRID_TRIAL=12.3\0B=2\0"s), "12.3");
  EXPECT_EQ(TrialMarkerIn("CRASHGRID_TRIAL=7.1\0"s), "7.1");
  EXPECT_EQ(TrialMarkerIn("A=1\0CRASHGRID_TRIAL=7.2"s), "7.2") << "last entry without its NUL";
  EXPECT_EQ(TrialMarkerIn("CRASHGRID_TRIAL=7.1\0CRASHGRID_TRIAL=8.1\0"s), "7.1") << "the one getenv sees";
  EXPECT_EQ(TrialMarkerIn("XCRASHGRID_TRIAL=7.1\0"s), "");
  EXPECT_EQ(TrialMarkerIn("FOO=CRASHGRID_TRIAL=7.1\0"s), "");
  EXPECT_EQ(TrialMarkerIn("CRASHGRID_TRIALS=7.1\0"s), "");
  EXPECT_EQ(TrialMarkerIn(""s), "");
}

TEST(TrialMarker, ParsesOnlyPidDotSequence) {
  pid_t pid = 0;
  uint64_t seq = 0;
  ASSERT_TRUE(ParseTrialMarker("1234.56", &pid, &seq));
  EXPECT_EQ(pid, 1234);
  EXPECT_EQ(seq, 56u);
  for (const char* bad : {"", "1234", "1234.", ".56", "12a.5", "12.5x", "-3.4", "0.1", "1.2.3", "12 .3"}) {
    EXPECT_FALSE(ParseTrialMarker(bad, &pid, &seq)) << bad;
  }
}

TEST(TrialMarker, EachLiveTrialHasItsOwnNamingThisProcess) {
  LiveTrial a, b;
  EXPECT_NE(a.marker(), b.marker());
  pid_t pid = 0;
  uint64_t seq = 0;
  ASSERT_TRUE(ParseTrialMarker(a.marker(), &pid, &seq)) << a.marker();
  EXPECT_EQ(pid, getpid());
}

TEST(EnvEntryPrefixMatcher, MatchesAnEntryStartInAnyPieces) {
  const std::string prefix = "CRASHGRID_TRIAL=123.";
  auto matches = [&](const std::string& block, size_t piece) {
    EnvEntryPrefixMatcher m(prefix.data(), prefix.size());
    bool hit = false;
    for (size_t i = 0; i < block.size(); i += piece) hit = m.Feed(block.data() + i, std::min(piece, block.size() - i));
    return hit;
  };
  const std::string yes[] = {"CRASHGRID_TRIAL=123.7\0"s, "A=b\0CRASHGRID_TRIAL=123.9\0C=d\0"s,
                             "A=\0\0CRASHGRID_TRIAL=123.0"s};
  const std::string no[] = {"CRASHGRID_TRIAL=1234.7\0"s, "CRASHGRID_TRIAL=12.7\0"s, "X=CRASHGRID_TRIAL=123.7\0"s,
                            "XCRASHGRID_TRIAL=123.7\0"s, "CRASHGRID_TRIAL=123"s, ""s};
  for (size_t piece : {1u, 2u, 3u, 5u, 7u, 64u}) {
    for (const auto& b : yes) EXPECT_TRUE(matches(b, piece)) << piece;
    for (const auto& b : no) EXPECT_FALSE(matches(b, piece)) << piece;
  }
}

// The orphans a trial leaves outside its group are adopted by us, then killed and reaped at its end; other
// children of ours (a helper a library spawned, another running trial's orphan) are not touched, and the
// leader stays for its trial to reap.
TEST(KillTrialProcesses, KillsAndReapsThisTrialsAdoptedOrphansAndNothingElse) {
  SupervisorInitOnce();
  std::string dir = TestDir();
  LiveTrial trial, other;
  pid_t foreign = StartMarked({"/bin/sleep", "60"}, "");
  pid_t others_orphan = StartMarked({"/bin/sleep", "60"}, other.marker());
  pid_t ended_orphan = 0;
  {
    LiveTrial ended;
    ended_orphan = StartMarked({"/bin/sleep", "60"}, ended.marker());
  }
  pid_t leader = StartMarked({Fixture("orphan_escape"), dir, "exit"}, trial.marker());
  EscapePids p;
  ASSERT_TRUE(ReadEscapePids(dir, &p)) << "orphan_escape wrote no pids";
  p.marker = trial.marker();
  ASSERT_EQ(p.leader, leader);
  ASSERT_TRUE(WaitExitedNoReap(leader, 30));
  // Both escapees were reparented to us, not to init (the leader and the middle process are gone).
  EXPECT_TRUE(WaitUntilTrue(10, [&] { return ParentOf(p.grandchild) == getpid() && ParentOf(p.daemon) == getpid(); }));
  ASSERT_TRUE(Running(p.grandchild));
  ASSERT_TRUE(Running(p.daemon));

  EXPECT_TRUE(KillTrialProcesses(leader, trial.marker(), MonotonicSeconds() + 30));

  EXPECT_TRUE(Reaped(p.grandchild)) << "killed and reaped: state " << StateOf(p.grandchild);
  EXPECT_TRUE(Reaped(p.daemon)) << "killed and reaped: state " << StateOf(p.daemon);
  EXPECT_TRUE(Reaped(ended_orphan)) << "an ended trial's orphan is killed too: state " << StateOf(ended_orphan);
  EXPECT_TRUE(Running(foreign)) << "a child without a marker is not ours to kill";
  EXPECT_TRUE(Running(others_orphan)) << "a running trial's orphan is left to that trial";
  int status = 0;
  EXPECT_EQ(waitpid(leader, &status, WNOHANG), leader) << "the leader is left for its trial to reap";
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;

  Cleanup(p);
  for (pid_t x : {foreign, others_orphan, ended_orphan}) {
    kill(x, SIGKILL);
    waitpid(x, nullptr, 0);
  }
}

TEST(KillTrialProcesses, KillsAHungLeaderWithTheProcessesThatLeftItsGroup) {
  SupervisorInitOnce();
  std::string dir = TestDir();
  LiveTrial trial;
  pid_t leader = StartMarked({Fixture("orphan_escape"), dir, "hang"}, trial.marker());
  EscapePids p;
  ASSERT_TRUE(ReadEscapePids(dir, &p)) << "orphan_escape wrote no pids";
  p.marker = trial.marker();
  ASSERT_TRUE(Running(leader));
  // The grandchild is still the leader's child, in a session of its own: only the subtree walk finds it.
  ASSERT_EQ(ParentOf(p.grandchild), leader);

  EXPECT_TRUE(KillTrialProcesses(leader, trial.marker(), MonotonicSeconds() + 30));
  EXPECT_TRUE(Dead(p.grandchild)) << StateOf(p.grandchild);
  EXPECT_TRUE(Dead(p.daemon)) << StateOf(p.daemon);
  int status = 0;
  EXPECT_EQ(waitpid(leader, &status, 0), leader);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  Cleanup(p);
}

class OrphansOfRunTrial : public ::testing::TestWithParam<CaptureMethod> {};

// Through the whole supervisor: whatever captures the trial, what escaped its group is dead when RunTrial
// returns.
TEST_P(OrphansOfRunTrial, EscapedProcessesAreDeadWhenTheTrialReturns) {
  for (const char* mode : {"exit", "crash", "hang"}) {
    std::string dir = TestDir();
    TrialSpec spec;
    spec.argv = {Fixture("orphan_escape"), dir, mode};
    spec.capture = GetParam();
    spec.duration_s = 0.5;
    spec.grace_s = 0.5;
    TrialResult r = RunTrial(spec);
    EscapePids p;
    ASSERT_TRUE(ReadEscapePids(dir, &p, 0)) << mode << ": " << OutcomeName(r.outcome) << " " << r.detail;
    pid_t owner = 0;
    uint64_t seq = 0;
    EXPECT_TRUE(ParseTrialMarker(p.marker, &owner, &seq) && owner == getpid()) << p.marker;
    EXPECT_TRUE(Dead(p.grandchild)) << mode << ": the setsid() grandchild survived its trial";
    EXPECT_TRUE(Dead(p.daemon)) << mode << ": the double-forked daemon survived its trial";
    Cleanup(p);
  }
}

INSTANTIATE_TEST_SUITE_P(AllCaptures, OrphansOfRunTrial,
                         ::testing::Values(CaptureMethod::kAttach, CaptureMethod::kTrace, CaptureMethod::kHandler,
                                           CaptureMethod::kNone),
                         [](const auto& info) { return std::string(CaptureMethodName(info.param)); });

}  // namespace
}  // namespace cg

#include "harness.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

namespace cg::test {

std::string CrashgridBin() { return std::string(CRASHGRID_BINARY_DIR) + "/crashgrid"; }
std::string FixturePath(const std::string& name) { return std::string(CRASHGRID_BINARY_DIR) + "/fixtures/" + name; }

std::string TestDir() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string dir = std::string(CRASHGRID_BINARY_DIR) + "/test-output/" + info->test_suite_name() + "." + info->name();
  std::string cmd = "rm -rf '" + dir + "' && mkdir -p '" + dir + "'";
  if (std::system(cmd.c_str()) != 0) ADD_FAILURE() << "cannot create " << dir;
  return dir;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

static double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

static pid_t Spawn(const std::vector<std::string>& args, const Env& env, int out_fd, int err_fd) {
  pid_t pid = fork();
  if (pid == 0) {
    setpgid(0, 0);
    int devnull = open("/dev/null", O_RDONLY);
    dup2(devnull, 0);
    dup2(out_fd, 1);
    dup2(err_fd, 2);
    for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
    std::vector<char*> argv;
    std::string bin = CrashgridBin();
    argv.push_back(bin.data());
    std::vector<std::string> copy = args;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(bin.c_str(), argv.data());
    _exit(127);
  }
  return pid;
}

int WaitFor(pid_t pid, double timeout_s) {
  double deadline = Now() + timeout_s;
  while (Now() < deadline) {
    int status = 0;
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return status;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return -1;
}

CmdResult RunCrashgrid(const std::vector<std::string>& args, double timeout_s, const Env& env) {
  CmdResult res;
  char out_path[] = "/tmp/cg-out-XXXXXX";
  char err_path[] = "/tmp/cg-err-XXXXXX";
  int out_fd = mkstemp(out_path);
  int err_fd = mkstemp(err_path);
  pid_t pid = Spawn(args, env, out_fd, err_fd);
  int status = WaitFor(pid, timeout_s);
  if (status == -1) {
    res.timed_out = true;
    kill(-pid, SIGKILL);
    waitpid(pid, &status, 0);
  }
  if (WIFEXITED(status)) res.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) res.signal = WTERMSIG(status);
  close(out_fd);
  close(err_fd);
  res.out = ReadFile(out_path);
  res.err = ReadFile(err_path);
  unlink(out_path);
  unlink(err_path);
  return res;
}

CmdResult RunRefusedSweep(const std::string& db, const std::vector<std::string>& extra) {
  std::vector<std::string> args = {"sweep", "--runs", "1", "--duration", "1s", "--db", db, "--no-live"};
  args.insert(args.end(), extra.begin(), extra.end());
  args.insert(args.end(), {"--exec", "--", "/bin/true"});
  return RunCrashgrid(args);
}

pid_t StartCrashgrid(const std::vector<std::string>& args, const std::string& out_file) {
  int fd = open(out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = Spawn(args, {}, fd, fd);
  close(fd);
  return pid;
}

std::vector<pid_t> ProcessesWithMarker(const std::string& marker) {
  std::vector<pid_t> out;
  DIR* d = opendir("/proc");
  if (!d) return out;
  while (dirent* e = readdir(d)) {
    char* end;
    long pid = strtol(e->d_name, &end, 10);
    if (*end || pid <= 0) continue;
    std::string base = std::string("/proc/") + e->d_name;
    std::string cmdline = ReadFile(base + "/cmdline");
    for (char& c : cmdline)
      if (c == '\0') c = ' ';
    if (cmdline.find(marker) == std::string::npos) continue;
    std::string stat = ReadFile(base + "/stat");
    size_t paren = stat.rfind(')');
    if (paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] == 'Z') continue;
    out.push_back(static_cast<pid_t>(pid));
  }
  closedir(d);
  return out;
}

bool WaitUntil(double timeout_s, const std::function<bool()>& pred) {
  double deadline = Now() + timeout_s;
  while (Now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return pred();
}

std::string StripAnsi(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\x1b' && i + 1 < s.size() && s[i + 1] == '[') {
      i += 2;
      while (i < s.size() && !(s[i] >= '@' && s[i] <= '~')) ++i;
      continue;
    }
    if (s[i] != '\r') out += s[i];
  }
  return out;
}

std::vector<StoredTrial> LoadNewestRunTrials(const std::string& db) {
  std::string err;
  int code = 0;
  auto store = Store::Open(db, Store::Mode::kReadOnly, &err, &code);
  EXPECT_TRUE(store) << err;
  if (!store) return {};
  std::vector<RunRecord> runs;
  EXPECT_TRUE(store->LoadRuns(&runs, &err)) << err;
  if (runs.empty()) return {};
  std::vector<StoredTrial> trials;
  EXPECT_TRUE(store->LoadTrials(runs.back().id, /*full=*/true, &trials, &err)) << err;
  return trials;
}

}  // namespace cg::test

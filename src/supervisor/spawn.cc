#include "supervisor/spawn.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

#include "supervisor/descendants.h"
#include "util/strings.h"

extern char** environ;

namespace cg {
namespace {

struct ChildSetup {
  const char* path;
  char* const* argv;
  char* const* envp;
  pid_t parent;
  int devnull, out_w, err_w, go_r, exec_err_w;
  const int* inherit;
  size_t ninherit;
};

// The child between fork and exec: async-signal-safe calls only.
[[noreturn]] void ChildMain(const ChildSetup& s) {
  setpgid(0, 0);
  // The parent-death signal fires when the *thread* that forked exits; RunTrial does the whole trial on its
  // calling thread, so that thread outlives the child.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != s.parent) _exit(127);  // crashgrid died before prctl took effect
  // Handlers are reset by exec, but ignored signals and the blocked mask are inherited: give the program
  // the defaults it would get from a shell.
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) sigaction(sig, &dfl, nullptr);
  }
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  char c = 0;
  ssize_t r;
  do r = read(s.go_r, &c, 1);
  while (r < 0 && errno == EINTR);
  if (r != 1 || c != 'G') _exit(127);
  if (dup2(s.devnull, 0) < 0 || dup2(s.out_w, 1) < 0 || dup2(s.err_w, 2) < 0) {
    int e = errno;
    ssize_t w = write(s.exec_err_w, &e, sizeof e);
    (void)w;
    _exit(127);
  }
  // Only stdio and the fds meant for the program cross exec, even if some library in crashgrid opened a
  // file without O_CLOEXEC (another trial's pipe held open would also delay its EOF).
  close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
  for (size_t i = 0; i < s.ninherit; ++i) fcntl(s.inherit[i], F_SETFD, 0);
  execve(s.path, s.argv, s.envp);
  int e = errno;
  ssize_t w = write(s.exec_err_w, &e, sizeof e);
  (void)w;
  _exit(127);
}

bool Pipe(ScopedFd* r, ScopedFd* w, std::string* err) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) {
    *err = fmt::format("pipe: {}", std::strerror(errno));
    return false;
  }
  r->reset(FdAbove2(p[0]));
  w->reset(FdAbove2(p[1]));
  return true;
}

}  // namespace

int FdAbove2(int fd) {
  if (fd < 0 || fd > 2) return fd;
  int n = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  close(fd);
  return n;
}

bool SpawnedChild::Go() {
  char c = 'G';
  ssize_t w;
  do w = write(go.get(), &c, 1);
  while (w < 0 && errno == EINTR);
  go.reset();
  return w == 1;
}

void SpawnedChild::Abort() { go.reset(); }

bool ResolveProgram(const std::string& name, const std::vector<std::pair<std::string, std::string>>& env,
                    std::string* path, std::string* err) {
  if (name.empty()) {
    *err = "empty program name";
    return false;
  }
  if (name.find('/') != std::string::npos) {
    *path = name;
    return true;
  }
  const char* p = std::getenv("PATH");
  std::string search = p ? p : "/usr/local/bin:/usr/bin:/bin";
  for (const auto& [k, v] : env) {
    if (k == "PATH") search = v;
  }
  for (const std::string& dir : Split(search, ':')) {
    std::string candidate = (dir.empty() ? std::string(".") : dir) + "/" + name;
    struct stat st;
    if (stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(candidate.c_str(), X_OK) == 0) {
      *path = candidate;
      return true;
    }
  }
  *err = fmt::format("program '{}' not found in PATH (give its path, e.g. ./{})", name, name);
  return false;
}

bool Spawn(const std::string& path, const SpawnPlan& plan, SpawnedChild* child, std::string* err) {
  // Everything the child touches is built here, before fork.
  std::vector<std::string> env_strings;
  for (char** e = environ; e && *e; ++e) {
    std::string_view kv(*e);
    std::string_view key = kv.substr(0, kv.find('='));
    bool replaced = false;
    for (const auto& [k, v] : plan.env) replaced = replaced || k == key;
    if (!replaced) env_strings.emplace_back(kv);
  }
  for (const auto& [k, v] : plan.env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_strings = plan.argv;
  std::vector<char*> argv;
  for (auto& s : argv_strings) argv.push_back(s.data());
  argv.push_back(nullptr);

  ScopedFd devnull(FdAbove2(open("/dev/null", O_RDONLY | O_CLOEXEC)));
  if (!devnull.is_open()) {
    *err = fmt::format("open /dev/null: {}", std::strerror(errno));
    return false;
  }
  ScopedFd out_w, err_w, go_r, exec_err_w;
  if (!Pipe(&child->out, &out_w, err) || !Pipe(&child->err, &err_w, err) || !Pipe(&go_r, &child->go, err) ||
      !Pipe(&child->exec_err, &exec_err_w, err)) {
    return false;
  }
  fcntl(child->out.get(), F_SETFL, O_NONBLOCK);
  fcntl(child->err.get(), F_SETFL, O_NONBLOCK);
  fcntl(child->exec_err.get(), F_SETFL, O_NONBLOCK);

  ChildSetup s{path.c_str(),     argv.data(),  envp.data(),       getpid(),
               devnull.get(),    out_w.get(),  err_w.get(),       go_r.get(),
               exec_err_w.get(), plan.inherit_fds.data(), plan.inherit_fds.size()};
  pid_t pid = fork();
  if (pid < 0) {
    *err = fmt::format("fork: {}", std::strerror(errno));
    return false;
  }
  if (pid == 0) ChildMain(s);
  // Before another trial's KillTrialProcesses can find this child among crashgrid's: a live trial's leader
  // is never reaped but by its trial.
  for (const auto& [k, v] : plan.env) {
    if (k == kTrialMarkerEnv) NoteTrialLeader(v, pid);
  }
  // Both sides set the group, so it exists whichever runs first.
  setpgid(pid, pid);
  child->pid = pid;
  return true;
}

}  // namespace cg

// libcrashgrid_agent.so against real processes: each test plays the supervisor (creates the agent block and
// the notify pipe, preloads the agent into a fixture program, answers the posted fault) and checks what the
// agent posted, wrote and how the program died.
#include <fcntl.h>
#include <linux/futex.h>
#include <poll.h>
#include <signal.h>
#include <dirent.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <ucontext.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstddef>
#include <fstream>
#include <sstream>
#include <climits>
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "agent/agent_block.h"
#include "agent/amplify.h"
#include "supervisor/handler_report.h"

extern char** environ;

namespace cg {
namespace {

// The layout is the contract with crashgrids of other builds.
static_assert(offsetof(agent_block, fault_state) == 12);
static_assert(offsetof(agent_block, fault_addr) == 32);
static_assert(offsetof(agent_block, fault_thread_name) == 64);
static_assert(offsetof(agent_block, faults_after_first) == 80);
static_assert(offsetof(agent_block, fault_pc) == 88);
static_assert(offsetof(agent_block, fault_context_addr) == 104);
static_assert(sizeof(agent_block) <= AGENT_BLOCK_SIZE);

std::string Fixture(const std::string& name) { return std::string(CRASHGRID_BINARY_DIR) + "/fixtures/" + name; }
std::string AgentLib() { return std::string(CRASHGRID_BINARY_DIR) + "/" + AGENT_LIB_NAME; }

double Now() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

int64_t NowNs(clockid_t clock) {
  timespec ts;
  clock_gettime(clock, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

struct Options {
  bool preload = true;
  bool block = true;       // CRASHGRID_AGENT_FD (+ NOTIFY)
  bool handler_fd = true;  // CRASHGRID_HANDLER_FD
  std::string mode;        // CRASHGRID_AGENT_MODE, unset when empty
  int wait_ms = -1;        // CRASHGRID_AGENT_WAIT_MS, unset when < 0
  uint32_t version = AGENT_BLOCK_VERSION;
  std::vector<std::string> env;  // more NAME=VALUE (CRASHGRID_AMPLIFY...)
};

// One fixture process and the supervisor's side of its agent.
class Trial {
 public:
  Trial(const std::string& fixture, const std::vector<std::string>& args, const Options& o = Options()) {
    if (o.block) {
      block_fd_ = memfd_create("agent-block", MFD_CLOEXEC);
      if (block_fd_ < 0 || ftruncate(block_fd_, AGENT_BLOCK_SIZE) != 0) return;
      void* m = mmap(nullptr, AGENT_BLOCK_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, block_fd_, 0);
      if (m == MAP_FAILED) return;
      block_ = static_cast<agent_block*>(m);
      block_->magic = AGENT_BLOCK_MAGIC;
      block_->version = o.version;
      int p[2];
      if (pipe2(p, O_CLOEXEC) != 0) return;
      notify_r_ = p[0];
      notify_w_ = p[1];
    }
    if (o.handler_fd) {
      handler_fd_ = memfd_create("agent-handler", MFD_CLOEXEC);
      if (handler_fd_ < 0) return;
    }
    int out[2];
    if (pipe2(out, O_CLOEXEC) != 0) return;
    out_r_ = out[0];
    fcntl(out_r_, F_SETFL, O_NONBLOCK);

    std::vector<std::string> env;
    for (char** e = environ; *e; ++e) {
      std::string kv(*e);
      if (kv.starts_with("LD_PRELOAD=") || kv.starts_with("CRASHGRID_")) continue;
      env.push_back(kv);
    }
    if (o.preload) env.push_back("LD_PRELOAD=" + AgentLib());
    if (o.block) {
      env.push_back(std::string(AGENT_ENV_FD) + "=" + std::to_string(block_fd_));
      env.push_back(std::string(AGENT_ENV_NOTIFY) + "=" + std::to_string(notify_w_));
    }
    if (o.handler_fd) env.push_back(std::string(kHandlerFdEnv) + "=" + std::to_string(handler_fd_));
    if (!o.mode.empty()) env.push_back(std::string(AGENT_ENV_MODE) + "=" + o.mode);
    if (o.wait_ms >= 0) env.push_back(std::string(AGENT_ENV_WAIT_MS) + "=" + std::to_string(o.wait_ms));
    env.insert(env.end(), o.env.begin(), o.env.end());
    std::vector<std::string> argv = {Fixture(fixture)};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char*> cargv, cenv;
    for (std::string& s : argv) cargv.push_back(s.data());
    cargv.push_back(nullptr);
    for (std::string& s : env) cenv.push_back(s.data());
    cenv.push_back(nullptr);
    int keep[] = {block_fd_, notify_w_, handler_fd_};

    started_ = Now();
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out[1], 1);
      for (int fd : keep) {
        if (fd >= 0) fcntl(fd, F_SETFD, 0);
      }
      execve(cargv[0], cargv.data(), cenv.data());
      _exit(127);
    }
    close(out[1]);
    if (notify_w_ >= 0) {  // the trial holds the only write end: the pipe reports EOF once all are gone
      close(notify_w_);
      notify_w_ = -1;
    }
  }

  ~Trial() {
    if (pid_ > 0 && !reaped_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (block_) munmap(block_, AGENT_BLOCK_SIZE);
    for (int fd : {block_fd_, notify_r_, notify_w_, handler_fd_, out_r_}) {
      if (fd >= 0) close(fd);
    }
  }

  bool ok() const { return pid_ > 0 && out_r_ >= 0; }
  pid_t pid() const { return pid_; }
  agent_block* block() const { return block_; }
  int32_t state() const { return __atomic_load_n(&block_->fault_state, __ATOMIC_ACQUIRE); }

  // Polls the notify pipe until the agent posts, `seconds` at most. True when a byte came and the block says
  // POSTED.
  bool WaitPosted(double seconds) {
    double end = Now() + seconds;
    while (Now() < end) {
      pollfd p = {notify_r_, POLLIN, 0};
      int left_ms = static_cast<int>((end - Now()) * 1000) + 1;
      int r = poll(&p, 1, left_ms);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) break;
      char c;
      ssize_t n = read(notify_r_, &c, 1);
      if (n == 1) {
        posted_at_ = Now();
        return state() == AGENT_FAULT_POSTED;
      }
      if (n == 0) return false;  // every process of the trial is gone
    }
    return false;
  }

  // What the supervisor stores after its capture, then the wake-up.
  void Answer(int32_t value) {
    __atomic_store_n(&block_->fault_state, value, __ATOMIC_RELEASE);
    syscall(SYS_futex, &block_->fault_state, FUTEX_WAKE, INT_MAX, nullptr, nullptr, 0);
  }

  // The wait status, or -1 when the process did not end within `seconds` (it is killed then).
  int Reap(double seconds) {
    double end = Now() + seconds;
    for (;;) {
      int st = 0;
      pid_t r = waitpid(pid_, &st, WNOHANG);
      if (r == pid_) {
        reaped_ = true;
        ended_ = Now();
        return st;
      }
      if (Now() > end) {
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
        reaped_ = true;
        return -1;
      }
      usleep(2000);
    }
  }

  // Everything the program wrote to stdout so far.
  const std::string& Out() {
    char buf[4096];
    for (;;) {
      ssize_t n = read(out_r_, buf, sizeof buf);
      if (n > 0) out_.append(buf, static_cast<size_t>(n));
      else if (n < 0 && errno == EINTR) continue;
      else break;
    }
    return out_;
  }

  std::string HandlerFile() const {
    std::string data;
    char buf[65536];
    off_t off = 0;
    for (;;) {
      ssize_t n = pread(handler_fd_, buf, sizeof buf, off);
      if (n <= 0) break;
      data.append(buf, static_cast<size_t>(n));
      off += n;
    }
    return data;
  }

  double started() const { return started_; }
  double posted_at() const { return posted_at_; }
  double ended() const { return ended_; }

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
  int block_fd_ = -1, notify_r_ = -1, notify_w_ = -1, handler_fd_ = -1, out_r_ = -1;
  agent_block* block_ = nullptr;
  std::string out_;
  double started_ = 0, posted_at_ = 0, ended_ = 0;
};

bool IsThreadOf(pid_t pid, pid_t tid) {
  struct stat st;
  return stat(("/proc/" + std::to_string(pid) + "/task/" + std::to_string(tid)).c_str(), &st) == 0;
}

// The path of the mapping of `pid` that holds `addr`, "" if none.
std::string MappingOf(pid_t pid, uint64_t addr) {
  std::ifstream maps("/proc/" + std::to_string(pid) + "/maps");
  std::string line;
  while (std::getline(maps, line)) {
    unsigned long long lo = 0, hi = 0;
    if (std::sscanf(line.c_str(), "%llx-%llx", &lo, &hi) != 2 || addr < lo || addr >= hi) continue;
    size_t slash = line.find('/');
    return slash == std::string::npos ? "[anon]" : line.substr(slash);
  }
  return "";
}

bool DiedOf(int status, int sig) { return status != -1 && WIFSIGNALED(status) && WTERMSIG(status) == sig; }
bool ExitedWith(int status, int code) { return status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == code; }

class AgentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    struct stat st;
    ASSERT_EQ(stat(AgentLib().c_str(), &st), 0) << AgentLib() << " is not built";
  }
};

TEST_F(AgentTest, WorkerThreadSegvIsPostedAndKills) {
  Trial t("agent_crash", {"thread-segv"});
  ASSERT_TRUE(t.ok());
  int64_t before = NowNs(CLOCK_MONOTONIC);
  ASSERT_TRUE(t.WaitPosted(10)) << "state " << t.state();
  agent_block* b = t.block();
  EXPECT_EQ(b->processes_loaded, 1);
  EXPECT_EQ(b->fault_pid, t.pid());
  EXPECT_NE(b->fault_tid, t.pid());  // the worker, not the main thread
  EXPECT_TRUE(IsThreadOf(t.pid(), b->fault_tid));
  EXPECT_EQ(b->fault_signo, SIGSEGV);
  EXPECT_EQ(b->fault_code, SEGV_MAPERR);
  EXPECT_EQ(b->fault_has_addr, 1);
  EXPECT_EQ(b->fault_addr, 0x10u);
  EXPECT_STREQ(b->fault_thread_name, "cg-worker");
  EXPECT_EQ(b->faults_after_first, 0);
  EXPECT_GT(b->fault_mono_ns, before - 1000000000LL);
  EXPECT_LE(b->fault_mono_ns, NowNs(CLOCK_MONOTONIC));
  EXPECT_LT(std::llabs(b->fault_unix_ns - NowNs(CLOCK_REALTIME)), 10'000'000'000LL);
  // Where it was: the faulting instruction in the program, its stack, and the whole context readable from
  // outside while it waits.
  EXPECT_EQ(MappingOf(t.pid(), b->fault_pc), Fixture("agent_crash"));
  EXPECT_NE(b->fault_sp, 0u);
  ASSERT_NE(b->fault_context_addr, 0u);
#if defined(__x86_64__)
  ucontext_t uc;
  iovec local = {&uc, sizeof uc};
  iovec remote = {reinterpret_cast<void*>(b->fault_context_addr), sizeof uc};
  ASSERT_EQ(process_vm_readv(t.pid(), &local, 1, &remote, 1, 0), static_cast<ssize_t>(sizeof uc)) << strerror(errno);
  EXPECT_EQ(static_cast<uint64_t>(uc.uc_mcontext.gregs[REG_RIP]), b->fault_pc);
  EXPECT_EQ(static_cast<uint64_t>(uc.uc_mcontext.gregs[REG_RSP]), b->fault_sp);
  EXPECT_EQ(static_cast<uint64_t>(uc.uc_mcontext.gregs[REG_CR2]), 0x10u);  // the faulting address, again
#endif
  // The faulting thread waits for us: still posted a while later, the process alive.
  usleep(100 * 1000);
  EXPECT_EQ(t.state(), AGENT_FAULT_POSTED);
  EXPECT_EQ(waitpid(t.pid(), nullptr, WNOHANG), 0);
  t.Answer(AGENT_FAULT_RELEASED);
  int st = t.Reap(10);
  EXPECT_TRUE(DiedOf(st, SIGSEGV)) << st;
  EXPECT_EQ(t.state(), AGENT_FAULT_RELEASED);
  EXPECT_EQ(t.HandlerFile(), "");  // we captured: no self record
}

// The program's own handler runs after the post, and only once we released it.
void ExpectPostedBeforeProgramsHandler(const std::string& how) {
  Trial t("agent_own_handler", {how});
  ASSERT_TRUE(t.ok());
  ASSERT_TRUE(t.WaitPosted(10)) << how << ": state " << t.state() << ", out: " << t.Out();
  EXPECT_EQ(t.block()->fault_signo, SIGSEGV);
  EXPECT_EQ(t.block()->fault_addr, 0x10u);
  EXPECT_EQ(t.block()->fault_tid, t.pid());
  usleep(50 * 1000);
  EXPECT_EQ(t.Out(), "view ok\n") << how << ": the program's handler ran before the release";
  t.Answer(AGENT_FAULT_RELEASED);
  int st = t.Reap(10);
  EXPECT_TRUE(ExitedWith(st, 42)) << how << ": status " << st;
  EXPECT_EQ(t.Out(), "view ok\nhandler\n") << how;
}

std::vector<pid_t> Threads(pid_t pid) {
  std::vector<pid_t> out;
  DIR* d = opendir(("/proc/" + std::to_string(pid) + "/task").c_str());
  if (!d) return out;
  while (dirent* e = readdir(d)) {
    if (std::atoi(e->d_name) > 0) out.push_back(std::atoi(e->d_name));
  }
  closedir(d);
  return out;
}

// What the supervisor does at POSTED, for real: seize and stop every thread, look, detach. The faulting
// thread sits in the agent's futex wait and goes on waiting after the detach, until RELEASED.
TEST_F(AgentTest, SurvivesSeizeAndDetachOfEveryThread) {
  Trial t("agent_crash", {"two-threads"});
  ASSERT_TRUE(t.ok());
  ASSERT_TRUE(t.WaitPosted(10));
  pid_t fault_tid = t.block()->fault_tid;
  double end = Now() + 10;
  while (__atomic_load_n(&t.block()->faults_after_first, __ATOMIC_ACQUIRE) < 1 && Now() < end) usleep(1000);
#if defined(__x86_64__)
  // POSTED is set before the agent writes its notice and goes into its futex wait: under load the thread can
  // still be in that write. Seize it once the kernel shows it blocked in the wait, as the supervisor finds it.
  auto in_syscall = [&](pid_t tid) {
    std::ifstream f("/proc/" + std::to_string(t.pid()) + "/task/" + std::to_string(tid) + "/syscall");
    long nr = -1;
    f >> nr;
    return nr;
  };
  while (in_syscall(fault_tid) != SYS_futex && Now() < end) usleep(1000);
#endif
  std::vector<pid_t> tids = Threads(t.pid());
  ASSERT_EQ(tids.size(), 3u);  // main (in pthread_join) and both racers (in the agent)
  for (pid_t tid : tids) {
    ASSERT_EQ(ptrace(PTRACE_SEIZE, tid, nullptr, nullptr), 0) << strerror(errno);
    ASSERT_EQ(ptrace(PTRACE_INTERRUPT, tid, nullptr, nullptr), 0) << strerror(errno);
  }
  bool saw_faulting = false;
  for (pid_t tid : tids) {
    int st = 0;
    ASSERT_EQ(waitpid(tid, &st, __WALL), tid);
    EXPECT_TRUE(WIFSTOPPED(st)) << st;
#if defined(__x86_64__)
    if (tid == fault_tid) {
      user_regs_struct regs;
      ASSERT_EQ(ptrace(PTRACE_GETREGS, tid, nullptr, &regs), 0);
      EXPECT_EQ(regs.orig_rax, static_cast<unsigned long long>(SYS_futex)) << "waiting in the agent";
      saw_faulting = true;
    }
#else
    saw_faulting = true;
#endif
  }
  EXPECT_TRUE(saw_faulting);
  for (pid_t tid : tids) EXPECT_EQ(ptrace(PTRACE_DETACH, tid, nullptr, nullptr), 0) << strerror(errno);
  usleep(100 * 1000);
  EXPECT_EQ(t.state(), AGENT_FAULT_POSTED) << "the detach woke the agent early";
  EXPECT_EQ(waitpid(t.pid(), nullptr, WNOHANG), 0);
  t.Answer(AGENT_FAULT_RELEASED);
  EXPECT_TRUE(DiedOf(t.Reap(10), SIGSEGV));
}

TEST_F(AgentTest, ProgramsSigactionHandlerRunsAfterTheRelease) { ExpectPostedBeforeProgramsHandler("sigaction"); }
TEST_F(AgentTest, ProgramsSignalHandlerRunsAfterTheRelease) { ExpectPostedBeforeProgramsHandler("signal"); }
TEST_F(AgentTest, ProgramsSysvSignalHandlerRunsAfterTheRelease) { ExpectPostedBeforeProgramsHandler("sysv"); }
TEST_F(AgentTest, ProgramsSigsetHandlerRunsAfterTheRelease) { ExpectPostedBeforeProgramsHandler("sigset"); }

TEST_F(AgentTest, ConcurrentSigactionCallsKeepTheProgramsView) {
  Trial t("agent_own_handler", {"threads"});
  ASSERT_TRUE(t.ok());
  ASSERT_TRUE(t.WaitPosted(20)) << "out: " << t.Out();
  t.Answer(AGENT_FAULT_RELEASED);
  int st = t.Reap(10);
  EXPECT_TRUE(ExitedWith(st, 42)) << st;
}

TEST_F(AgentTest, ResetHandIsHonoured) {
  Trial t("agent_own_handler", {"resethand"});
  ASSERT_TRUE(t.ok());
  ASSERT_TRUE(t.WaitPosted(10));
  t.Answer(AGENT_FAULT_RELEASED);
  // The handler returns, the fault repeats with the default action back: death, one post.
  int st = t.Reap(10);
  EXPECT_TRUE(DiedOf(st, SIGSEGV)) << st;
  EXPECT_EQ(t.Out(), "view ok\nhandler\n");
  EXPECT_EQ(t.block()->faults_after_first, 1);
}

TEST_F(AgentTest, AbortIsPostedWithTkillAndKillsWithSigabrt) {
  Trial t("agent_crash", {"abort"});
  ASSERT_TRUE(t.ok());
  ASSERT_TRUE(t.WaitPosted(10));
  EXPECT_EQ(t.block()->fault_signo, SIGABRT);
  EXPECT_EQ(t.block()->fault_code, SI_TKILL);
  EXPECT_EQ(t.block()->fault_has_addr, 0);
  EXPECT_EQ(t.block()->fault_addr, 0u);
  EXPECT_EQ(t.block()->fault_tid, t.pid());
  t.Answer(AGENT_FAULT_RELEASED);
  int st = t.Reap(10);
  EXPECT_TRUE(DiedOf(st, SIGABRT)) << st;
}

TEST_F(AgentTest, SentSegvIsPostedAndSentAgain) {
  Trial t("agent_crash", {"raise-segv"});
  ASSERT_TRUE(t.ok());
  ASSERT_TRUE(t.WaitPosted(10));
  EXPECT_EQ(t.block()->fault_signo, SIGSEGV);
  EXPECT_EQ(t.block()->fault_code, SI_TKILL);
  EXPECT_EQ(t.block()->fault_has_addr, 0);
  t.Answer(AGENT_FAULT_RELEASED);
  EXPECT_TRUE(DiedOf(t.Reap(10), SIGSEGV));
}

TEST_F(AgentTest, SupervisorThatNeverAnswersGetsTheSelfRecord) {
  Options o;
  o.wait_ms = 300;
  Trial t("agent_crash", {"thread-segv"}, o);
  ASSERT_TRUE(t.ok());
  ASSERT_TRUE(t.WaitPosted(10));
  int st = t.Reap(10);
  EXPECT_TRUE(DiedOf(st, SIGSEGV)) << st;
  EXPECT_GE(t.ended() - t.posted_at(), 0.25);
  EXPECT_LT(t.ended() - t.started(), 2.0) << "the wait is bounded at 300 ms";
  EXPECT_EQ(t.state(), AGENT_FAULT_SELF_WRITTEN);
  CrashReport r;
  std::string err;
  ASSERT_TRUE(ParseHandlerRecord(t.HandlerFile(), &r, &err)) << err << "\n" << t.HandlerFile();
  EXPECT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.signal, SIGSEGV);
  EXPECT_EQ(r.si_code, SEGV_MAPERR);
  EXPECT_TRUE(r.has_fault_address);
  EXPECT_EQ(r.fault_address, 0x10u);
  EXPECT_EQ(r.faulting_tid, t.block()->fault_tid);
  EXPECT_EQ(r.faulting_thread_name, "cg-worker");
  ASSERT_EQ(r.threads.size(), 1u);
  ASSERT_FALSE(r.threads[0].frames.empty());
  EXPECT_EQ(r.threads[0].frames[0].module, Fixture("agent_crash")) << "the first pc is the faulting one";
}

TEST_F(AgentTest, SupervisorAnsweringSelfGetsTheSelfRecord) {
  Trial t("agent_crash", {"thread-segv"});
  ASSERT_TRUE(t.ok());
  ASSERT_TRUE(t.WaitPosted(10));
  t.Answer(AGENT_FAULT_SELF);
  int st = t.Reap(10);
  EXPECT_TRUE(DiedOf(st, SIGSEGV)) << st;
  EXPECT_LT(t.ended() - t.posted_at(), 5.0);  // not the 10 s bound
  EXPECT_EQ(t.state(), AGENT_FAULT_SELF_WRITTEN);
  CrashReport r;
  std::string err;
  ASSERT_TRUE(ParseHandlerRecord(t.HandlerFile(), &r, &err)) << err;
  EXPECT_EQ(r.signal, SIGSEGV);
  EXPECT_EQ(r.faulting_tid, t.block()->fault_tid);
}

TEST_F(AgentTest, HandlerModeWritesAtOnceWithoutWaiting) {
  Options o;
  o.mode = "handler";
  Trial t("agent_crash", {"thread-segv"}, o);
  ASSERT_TRUE(t.ok());
  int st = t.Reap(10);  // nobody answers: it must not wait for us
  EXPECT_TRUE(DiedOf(st, SIGSEGV)) << st;
  EXPECT_LT(t.ended() - t.started(), 5.0);
  EXPECT_EQ(t.state(), AGENT_FAULT_SELF_WRITTEN);
  EXPECT_EQ(t.block()->fault_signo, SIGSEGV);
  EXPECT_EQ(t.block()->fault_pid, t.pid());
  CrashReport r;
  std::string err;
  ASSERT_TRUE(ParseHandlerRecord(t.HandlerFile(), &r, &err)) << err;
  EXPECT_EQ(r.signal, SIGSEGV);
  EXPECT_EQ(r.fault_address, 0x10u);
  EXPECT_EQ(r.faulting_tid, t.block()->fault_tid);
}

TEST_F(AgentTest, HandlerFdAloneIsTheOldHandlerMode) {
  Options o;
  o.block = false;
  Trial t("agent_crash", {"abort"}, o);
  ASSERT_TRUE(t.ok());
  int st = t.Reap(10);
  EXPECT_TRUE(DiedOf(st, SIGABRT)) << st;
  CrashReport r;
  std::string err;
  ASSERT_TRUE(ParseHandlerRecord(t.HandlerFile(), &r, &err)) << err;
  EXPECT_EQ(r.signal, SIGABRT);
  EXPECT_EQ(r.si_code, SI_TKILL);
  EXPECT_FALSE(r.has_fault_address);
  EXPECT_EQ(r.faulting_tid, t.pid());
}

// Preloaded without any of its environment the agent is invisible.
TEST_F(AgentTest, WithoutEnvironmentProgramsBehaveAsWithoutTheAgent) {
  Options bare;
  bare.block = false;
  bare.handler_fd = false;
  Options none = bare;
  none.preload = false;
  for (const char* how : {"sigaction", "signal", "sysv", "sigset", "resethand"}) {
    Trial with("agent_own_handler", {how}, bare);
    Trial without("agent_own_handler", {how}, none);
    ASSERT_TRUE(with.ok() && without.ok());
    int a = with.Reap(10), b = without.Reap(10);
    EXPECT_NE(a, -1);
    EXPECT_EQ(a, b) << how;
    EXPECT_EQ(with.Out(), without.Out()) << how;
  }
  for (const char* mode : {"thread-segv", "abort", "ignore-raise", "ignore-fault"}) {
    Trial with("agent_crash", {mode}, bare);
    Trial without("agent_crash", {mode}, none);
    ASSERT_TRUE(with.ok() && without.ok());
    int a = with.Reap(10), b = without.Reap(10);
    EXPECT_NE(a, -1);
    EXPECT_EQ(a & 0x7f, b & 0x7f) << mode;  // the core-dump bit aside
    EXPECT_EQ(WIFEXITED(a) ? WEXITSTATUS(a) : -1, WIFEXITED(b) ? WEXITSTATUS(b) : -1) << mode;
  }
}

// With the agent active the exit status is the program's own too.
TEST_F(AgentTest, ExitStatusIsTheProgramsOwn) {
  Options none;
  none.block = false;
  none.handler_fd = false;
  none.preload = false;
  Options quick;
  quick.wait_ms = 0;  // nobody answers: the agent writes its record and goes on at once
  for (const char* mode : {"thread-segv", "abort", "raise-segv", "ignore-raise", "ignore-fault", "exit"}) {
    Trial with("agent_crash", {mode}, quick);
    Trial without("agent_crash", {mode}, none);
    ASSERT_TRUE(with.ok() && without.ok());
    int a = with.Reap(10), b = without.Reap(10);
    EXPECT_NE(a, -1) << mode;
    EXPECT_EQ(a & 0x7f, b & 0x7f) << mode;
    EXPECT_EQ(WIFEXITED(a) ? WEXITSTATUS(a) : -1, WIFEXITED(b) ? WEXITSTATUS(b) : -1) << mode;
  }
}

TEST_F(AgentTest, IgnoredSentSignalIsNoCrash) {
  Trial t("agent_crash", {"ignore-raise"});
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(ExitedWith(t.Reap(10), 7));
  EXPECT_EQ(t.state(), AGENT_FAULT_NONE);
}

TEST_F(AgentTest, TwoThreadsFaultingAtOnceMakeOneRecord) {
  Trial t("agent_crash", {"two-threads"});
  ASSERT_TRUE(t.ok());
  ASSERT_TRUE(t.WaitPosted(10));
  agent_block* b = t.block();
  uint64_t first_addr = b->fault_addr;
  EXPECT_TRUE(first_addr == 0x20 || first_addr == 0x30) << first_addr;
  pid_t first_tid = b->fault_tid;
  EXPECT_TRUE(IsThreadOf(t.pid(), first_tid));
  // The other thread faults too, counts itself and waits for the release.
  double end = Now() + 10;
  while (__atomic_load_n(&b->faults_after_first, __ATOMIC_ACQUIRE) < 1 && Now() < end) usleep(1000);
  EXPECT_GE(b->faults_after_first, 1);
  EXPECT_EQ(b->fault_tid, first_tid);  // the record is the first fault's
  EXPECT_EQ(b->fault_addr, first_addr);
  t.Answer(AGENT_FAULT_RELEASED);
  int st = t.Reap(10);
  EXPECT_TRUE(DiedOf(st, SIGSEGV)) << st;
  EXPECT_GE(b->faults_after_first, 1);
  EXPECT_EQ(t.state(), AGENT_FAULT_RELEASED);
}

TEST_F(AgentTest, ForkedChildPostsItsOwnPid) {
  Trial t("agent_crash", {"fork"});
  ASSERT_TRUE(t.ok());
  ASSERT_TRUE(t.WaitPosted(10));
  pid_t child = t.block()->fault_pid;
  EXPECT_NE(child, t.pid());
  EXPECT_EQ(t.Out(), "child " + std::to_string(child) + "\n");
  EXPECT_TRUE(IsThreadOf(child, t.block()->fault_tid));
  EXPECT_EQ(t.block()->fault_addr, 0x40u);
  t.Answer(AGENT_FAULT_RELEASED);
  EXPECT_TRUE(ExitedWith(t.Reap(10), 0)) << "the child did not die of SIGSEGV";
}

TEST_F(AgentTest, ExecedProgramLoadsTheAgentAgain) {
  Trial t("agent_crash", {"exec"});
  ASSERT_TRUE(t.ok());
  ASSERT_TRUE(t.WaitPosted(10));
  EXPECT_EQ(t.block()->processes_loaded, 2);
  EXPECT_EQ(t.block()->fault_pid, t.pid());  // exec keeps the pid
  EXPECT_STREQ(t.block()->fault_thread_name, "cg-worker");
  t.Answer(AGENT_FAULT_RELEASED);
  EXPECT_TRUE(DiedOf(t.Reap(10), SIGSEGV));
}

TEST_F(AgentTest, GeneralProtectionFaultHasNoAddress) {
#if !defined(__x86_64__)
  GTEST_SKIP() << "x86-64 only";
#endif
  Trial t("agent_crash", {"sikernel"});
  ASSERT_TRUE(t.ok());
  ASSERT_TRUE(t.WaitPosted(10));
  EXPECT_EQ(t.block()->fault_signo, SIGSEGV);
  EXPECT_EQ(t.block()->fault_code, SI_KERNEL);
  EXPECT_EQ(t.block()->fault_has_addr, 0);
  t.Answer(AGENT_FAULT_RELEASED);
  EXPECT_TRUE(DiedOf(t.Reap(10), SIGSEGV));
}

TEST_F(AgentTest, BreakpointIsPostedAndKillsWithSigtrap) {
#if !defined(__x86_64__)
  GTEST_SKIP() << "x86-64 only";
#endif
  Trial t("agent_crash", {"int3"});
  ASSERT_TRUE(t.ok());
  ASSERT_TRUE(t.WaitPosted(10));
  EXPECT_EQ(t.block()->fault_signo, SIGTRAP);
  t.Answer(AGENT_FAULT_RELEASED);
  EXPECT_TRUE(DiedOf(t.Reap(10), SIGTRAP));  // int3 does not trap again on return: sent again
}

TEST_F(AgentTest, StackOverflowInAThreadIsPosted) {
  Trial t("agent_crash", {"overflow"});
  ASSERT_TRUE(t.ok());
  ASSERT_TRUE(t.WaitPosted(20));
  EXPECT_EQ(t.block()->fault_signo, SIGSEGV);
  EXPECT_STREQ(t.block()->fault_thread_name, "cg-overflow");
  EXPECT_TRUE(IsThreadOf(t.pid(), t.block()->fault_tid));
  t.Answer(AGENT_FAULT_RELEASED);
  EXPECT_TRUE(DiedOf(t.Reap(10), SIGSEGV));
}

TEST_F(AgentTest, BlockOfAnotherVersionLeavesTheProgramAlone) {
  Options o;
  o.version = AGENT_BLOCK_VERSION + 1;
  Trial t("agent_own_handler", {"sigaction"}, o);
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(ExitedWith(t.Reap(10), 42));
  EXPECT_EQ(t.Out(), "view ok\nhandler\n");
  EXPECT_EQ(t.block()->processes_loaded, 0);
  EXPECT_EQ(t.state(), AGENT_FAULT_NONE);
}

// ---- --amplify: the decisions (amplify.h) and the agent injecting them ----

std::vector<uint64_t> Decisions(uint64_t seed, uint64_t process, uint64_t thread, double p, int n) {
  uint64_t state = cg_amp_thread_state(seed, process, thread);
  uint64_t threshold = cg_amp_threshold(p);
  std::vector<uint64_t> out;
  for (int i = 0; i < n; ++i) out.push_back(cg_amp_decide(&state, threshold));
  return out;
}

TEST(Amplify, SameSeedAndOrdinalsGiveTheSameDecisions) {
  EXPECT_EQ(Decisions(42, 1, 3, 0.1, 2000), Decisions(42, 1, 3, 0.1, 2000));
  EXPECT_NE(Decisions(42, 1, 3, 0.1, 2000), Decisions(43, 1, 3, 0.1, 2000)) << "another seed";
  EXPECT_NE(Decisions(42, 1, 3, 0.1, 2000), Decisions(42, 1, 4, 0.1, 2000)) << "another thread";
  EXPECT_NE(Decisions(42, 1, 3, 0.1, 2000), Decisions(42, 2, 3, 0.1, 2000)) << "another process";
}

TEST(Amplify, DelaysTheShareAskedFor) {
  for (double p : {0.01, 0.1, 0.5}) {
    std::vector<uint64_t> d = Decisions(7, 1, 0, p, 100000);
    double share = static_cast<double>(std::count_if(d.begin(), d.end(), [](uint64_t ns) { return ns > 0; })) / 1e5;
    // Binomial(1e5, p): 5 standard deviations at most.
    EXPECT_NEAR(share, p, 5 * std::sqrt(p * (1 - p) / 1e5)) << "p " << p;
  }
  std::vector<uint64_t> none = Decisions(7, 1, 0, 0, 1000), all = Decisions(7, 1, 0, 1, 1000);
  EXPECT_EQ(std::count(none.begin(), none.end(), 0u), 1000);
  EXPECT_EQ(std::count(all.begin(), all.end(), 0u), 0);
}

TEST(Amplify, DurationsAreLogUniformFromOneMicrosecondToTwoMilliseconds) {
  uint64_t state = 99;
  std::vector<int> octave(AMP_OCTAVES, 0);
  const int n = 110000;
  for (int i = 0; i < n; ++i) {
    uint64_t ns = cg_amp_duration_ns(cg_amp_next(&state));
    ASSERT_GE(ns, AMP_MIN_NS);
    ASSERT_LT(ns, AMP_MAX_NS);
    int k = 0;
    while ((AMP_MIN_NS << (k + 1)) <= ns) ++k;
    ++octave[static_cast<size_t>(k)];
  }
  EXPECT_EQ(AMP_MAX_NS, 2048000u);
  // Each octave (1-2 us, ..., 1-2 ms) gets a share of 1/11: 10000 each, +-5%.
  for (int k = 0; k < static_cast<int>(AMP_OCTAVES); ++k) EXPECT_NEAR(octave[static_cast<size_t>(k)], 10000, 500) << k;
  // Within an octave the point is uniform: the low half of 1-2 us holds about half of that octave.
  state = 5;
  int low = 0, first = 0;
  for (int i = 0; i < n; ++i) {
    uint64_t ns = cg_amp_duration_ns(cg_amp_next(&state));
    if (ns < 2 * AMP_MIN_NS) {
      ++first;
      low += ns < 1500;
    }
  }
  EXPECT_NEAR(static_cast<double>(low) / first, 0.5, 0.05);
}

TEST(Amplify, ParsesWhatTheSupervisorWrites) {
  EXPECT_DOUBLE_EQ(cg_amp_parse_p("0.1"), 0.1);
  EXPECT_DOUBLE_EQ(cg_amp_parse_p("1"), 1.0);
  EXPECT_DOUBLE_EQ(cg_amp_parse_p(".25"), 0.25);
  EXPECT_DOUBLE_EQ(cg_amp_parse_p("0"), 0.0);
  for (const char* bad : {"", "1.5", "1e-3", "-0.1", "0.1x", "on", "0..1"}) EXPECT_LT(cg_amp_parse_p(bad), 0) << bad;
  int ok = 0;
  EXPECT_EQ(cg_amp_parse_seed("00000000000000ff", &ok), 0xffu);
  EXPECT_EQ(ok, 1);
  EXPECT_EQ(cg_amp_parse_seed("DEADbeef", &ok), 0xdeadbeefu);
  EXPECT_EQ(cg_amp_parse_seed("12345678901234567", &ok), 0u);
  EXPECT_EQ(ok, 0);
  EXPECT_EQ(cg_amp_parse_seed("xyz", &ok), 0u);
  EXPECT_EQ(ok, 0);
}

const agent_amplify& AmplifyRegion(const Trial& t) {
  return *reinterpret_cast<const agent_amplify*>(reinterpret_cast<const char*>(t.block()) + AGENT_AMPLIFY_OFFSET);
}

// 64 thread starts, each two points (the new thread, then its creator), each delayed with probability 1/2: the
// set of (process, thread) ordinals is the same in every run, so a seed gives the same delays in any interleaving.
TEST_F(AgentTest, AmplifyDelaysThreadStartsAsTheSeedSays) {
  static_assert(AGENT_AMPLIFY_OFFSET >= AGENT_API_OFFSET + sizeof(agent_api));
  static_assert(AGENT_AMPLIFY_OFFSET + sizeof(agent_amplify) <= AGENT_BLOCK_SIZE);
  auto run = [](const std::string& seed, uint64_t* delays, uint64_t* ns) {
    Options o;
    o.env = {std::string(AGENT_ENV_AMPLIFY) + "=0.1", std::string(AGENT_ENV_AMPLIFY_SEED) + "=" + seed};
    Trial t("agent_crash", {"threads", "64"}, o);
    ASSERT_TRUE(t.ok());
    EXPECT_TRUE(ExitedWith(t.Reap(30), 0));
    const agent_amplify& a = AmplifyRegion(t);
    EXPECT_EQ(a.active, 1u);
    *delays = a.delays;
    *ns = a.delay_ns;
  };
  uint64_t d1 = 0, n1 = 0, d2 = 0, n2 = 0, d3 = 0, n3 = 0;
  run("00000000000000aa", &d1, &n1);
  run("00000000000000aa", &d2, &n2);
  run("00000000000000ab", &d3, &n3);
  EXPECT_GE(d1, 40u);  // Binomial(128, 1/2): 64 +- 5.7; 40 and 88 are 4 standard deviations away
  EXPECT_LE(d1, 88u);
  EXPECT_GE(n1, d1 * AMP_MIN_NS);
  EXPECT_EQ(d1, d2);
  EXPECT_EQ(n1, n2) << "the same seed, the same delays";
  EXPECT_NE(n1, n3) << "another seed, other delays";
}

TEST_F(AgentTest, WithoutAmplifyNoDelayIsInjected) {
  Trial t("agent_crash", {"threads", "64"});
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(ExitedWith(t.Reap(30), 0));
  EXPECT_EQ(AmplifyRegion(t).active, 0u);
  EXPECT_EQ(AmplifyRegion(t).delays, 0u);
}

}  // namespace
}  // namespace cg

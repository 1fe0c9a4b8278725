// The reference target's promises, checked the way a sweep uses it: each run in its own child process.
#include <link.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <string>

#include <gtest/gtest.h>

#include "util/clock.h"
#include "runtime/runner.h"
#include "runtime/workload.h"

namespace cg {
namespace {

// The text segment of libcrashgrid_refrace.so in the child, for the SIGSEGV handler below.
uintptr_t g_lib_start = 0, g_lib_end = 0;
int g_report_fd = -1;

int FindRefrace(struct dl_phdr_info* info, size_t, void*) {
  if (!info->dlpi_name || !std::strstr(info->dlpi_name, "libcrashgrid_refrace")) return 0;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const auto& ph = info->dlpi_phdr[i];
    if (ph.p_type == PT_LOAD && (ph.p_flags & PF_X)) {
      g_lib_start = info->dlpi_addr + ph.p_vaddr;
      g_lib_end = g_lib_start + ph.p_memsz;
    }
  }
  return 1;
}

// Reports whether the fault is the library's own, then dies of the signal as before. The library's own: the
// faulting instruction is inside it, or the faulting address is one of its stale tables (the library's private
// window at 16 TiB) reached through a libc helper it called (memcpy while compacting a table).
void OnSegv(int sig, siginfo_t* info, void* uc_void) {
  auto* uc = static_cast<ucontext_t*>(uc_void);
  uintptr_t pc = static_cast<uintptr_t>(uc->uc_mcontext.gregs[REG_RIP]);
  uintptr_t addr = reinterpret_cast<uintptr_t>(info->si_addr);
  constexpr uintptr_t kWindowBase = 0x100000000000ull, kWindowEnd = 0x200000000000ull;
  bool in_code = pc >= g_lib_start && pc < g_lib_end;
  bool in_tables = addr >= kWindowBase && addr < kWindowEnd;
  char where = (in_code || in_tables) ? 'L' : 'X';
  (void)!::write(g_report_fd, &where, 1);
  signal(sig, SIG_DFL);
}

struct Outcome {
  bool crashed = false;
  int signal = 0;
  int exit_code = -1;
  char fault_in = 0;  // 'L' a fault of libcrashgrid_refrace (see OnSegv), 'X' anything else
};

// Forks; the child runs the workload through the runner and exits 0 unless it crashes.
Outcome RunInChild(int threads, int sessions, double duration_s, const std::string& serialize) {
  int pipefd[2];
  EXPECT_EQ(::pipe(pipefd), 0);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(pipefd[0]);
    g_report_fd = pipefd[1];
    dl_iterate_phdr(FindRefrace, nullptr);
    struct sigaction sa {};
    sa.sa_sigaction = OnSegv;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigaction(SIGSEGV, &sa, nullptr);
    auto w = CreateWorkload("reference-race");
    RunOptions o;
    o.threads = threads;
    o.duration_s = duration_s;
    o.serialize = serialize;
    o.params.Set("sessions", std::to_string(sessions));
    std::string err;
    TrialResult m;
    if (!w->Init(o.params, threads, &err)) ::_exit(3);
    if (!RunWorkload(*w, o, nullptr, &m, &err)) ::_exit(4);
    w->Shutdown();
    ::_exit(m.iterations > 0 ? 0 : 5);
  }
  ::close(pipefd[1]);
  Outcome out;
  int status = 0;
  double deadline = MonotonicSeconds() + duration_s + 60;
  while (true) {
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (MonotonicSeconds() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      ADD_FAILURE() << "child hung";
      break;
    }
    ::usleep(10000);
  }
  if (WIFSIGNALED(status)) {
    out.crashed = true;
    out.signal = WTERMSIG(status);
  } else if (WIFEXITED(status)) {
    out.exit_code = WEXITSTATUS(status);
  }
  if (::read(pipefd[0], &out.fault_in, 1) != 1) out.fault_in = 0;
  ::close(pipefd[0]);
  return out;
}

TEST(ReferenceRace, IsMarkedAsReferenceTarget) {
  auto w = CreateWorkload("reference-race");
  ASSERT_NE(w, nullptr);
  EXPECT_TRUE(w->info().reference_target);
  EXPECT_NE(w->info().summary.find("REFERENCE TARGET"), std::string::npos);
  EXPECT_EQ(w->info().phases, (std::vector<std::string>{"setup", "open", "use", "close", "teardown"}));
  std::string err;
  EXPECT_FALSE(w->Validate(Params(std::map<std::string, std::string>{{"sessions", "0"}}), 1, &err));
}

TEST(ReferenceRace, OneThreadNeverCrashes) {
  for (int run = 0; run < 4; ++run) {
    Outcome o = RunInChild(1, run % 2 ? 8 : 1, 1.0, "none");
    EXPECT_FALSE(o.crashed) << "run " << run << " died of signal " << o.signal;
    EXPECT_EQ(o.exit_code, 0) << "run " << run;
  }
}

TEST(ReferenceRace, FourThreadsFourSessionsCrashInMostRuns) {
  constexpr int kRuns = 8;
  int crashes = 0, in_library = 0;
  for (int run = 0; run < kRuns; ++run) {
    Outcome o = RunInChild(4, 4, 2.0, "none");
    if (o.crashed) {
      ++crashes;
      EXPECT_EQ(o.signal, SIGSEGV);
      if (o.fault_in == 'L') ++in_library;
    } else {
      EXPECT_EQ(o.exit_code, 0);
    }
  }
  EXPECT_GE(crashes, 5) << crashes << "/" << kRuns << " runs crashed";
  EXPECT_EQ(in_library, crashes) << "every crash must be a fault of libcrashgrid_refrace.so";
}

TEST(ReferenceRace, SerializingOpenRemovesTheCrash) {
  for (int run = 0; run < 3; ++run) {
    Outcome o = RunInChild(4, 4, 1.5, "open");
    EXPECT_FALSE(o.crashed) << "run " << run << " died of signal " << o.signal;
    EXPECT_EQ(o.exit_code, 0);
  }
}

TEST(ReferenceRace, SerializingUseAndCloseDoesNotRemoveTheCrash) {
  int crashes = 0;
  for (int run = 0; run < 4; ++run) crashes += RunInChild(4, 4, 2.0, "use+close").crashed;
  EXPECT_GE(crashes, 1);
}

}  // namespace
}  // namespace cg

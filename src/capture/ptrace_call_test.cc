#include "capture/ptrace_call.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

namespace cg {
namespace {

// A child stopped in a ptrace stop of ours (PTRACE_TRACEME, then SIGSTOP).
pid_t StoppedTracee() {
  pid_t pid = fork();
  if (pid == 0) {
    ptrace(PTRACE_TRACEME, 0, nullptr, nullptr);
    raise(SIGSTOP);
    _exit(0);
  }
  int st = 0;
  EXPECT_EQ(waitpid(pid, &st, 0), pid);
  EXPECT_TRUE(WIFSTOPPED(st));
  return pid;
}

TEST(PtraceIfAlive, AGoneTraceeIsGoneAndNoProblem) {
  pid_t pid = StoppedTracee();
  kill(pid, SIGKILL);
  int st = 0;
  ASSERT_EQ(waitpid(pid, &st, 0), pid);  // reaped: the pid no longer names a tracee of ours
  std::string problems;
  EXPECT_EQ(PtraceIfAlive(PTRACE_CONT, pid, nullptr, nullptr, &problems), PtraceResult::kGone);
  EXPECT_EQ(problems, "");
}

TEST(PtraceIfAlive, AnyOtherErrorIsAProblemNamingTheRequestAndThread) {
  pid_t pid = StoppedTracee();
  std::string problems = "earlier";
  // An invalid signal number to inject: the kernel answers EIO, a mistake of the tracer's, not a gone tracee.
  EXPECT_EQ(PtraceIfAlive(PTRACE_CONT, pid, nullptr, reinterpret_cast<void*>(1000L), &problems),
            PtraceResult::kFailed);
  EXPECT_EQ(problems, "earlier; PTRACE_CONT of thread " + std::to_string(pid) + ": Input/output error (EIO)");
  EXPECT_EQ(PtraceIfAlive(PTRACE_CONT, pid, nullptr, nullptr, &problems), PtraceResult::kOk);
  int st = 0;
  ASSERT_EQ(waitpid(pid, &st, 0), pid);
  EXPECT_TRUE(WIFEXITED(st));
}

}  // namespace
}  // namespace cg

#include "capture/ptrace_call.h"

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace cg {
namespace {

const char* RequestName(enum __ptrace_request request) {
  switch (request) {
    case PTRACE_CONT: return "PTRACE_CONT";
    case PTRACE_LISTEN: return "PTRACE_LISTEN";
    case PTRACE_INTERRUPT: return "PTRACE_INTERRUPT";
    case PTRACE_DETACH: return "PTRACE_DETACH";
    case PTRACE_GETEVENTMSG: return "PTRACE_GETEVENTMSG";
    case PTRACE_GETSIGINFO: return "PTRACE_GETSIGINFO";
    case PTRACE_SEIZE: return "PTRACE_SEIZE";
    default: return "ptrace";
  }
}

}  // namespace

std::string PtraceProblem(enum __ptrace_request request, pid_t tid, int err) {
  const char* name = strerrorname_np(err);
  return fmt::format("{} of thread {}: {} ({})", RequestName(request), tid, std::strerror(err), name ? name : "?");
}

PtraceResult PtraceIfAlive(enum __ptrace_request request, pid_t tid, void* addr, void* data, std::string* problems) {
  if (ptrace(request, tid, addr, data) == 0) return PtraceResult::kOk;
  int e = errno;
  if (e == ESRCH) return PtraceResult::kGone;
  if (problems) *problems += (problems->empty() ? "" : "; ") + PtraceProblem(request, tid, e);
  return PtraceResult::kFailed;
}

}  // namespace cg

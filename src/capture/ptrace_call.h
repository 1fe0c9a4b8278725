// ptrace requests that tell "the tracee is gone" from a real error, the way rr does (ptrace_if_alive): a
// tracee can be killed, exit or be reaped between any two requests, and then the kernel answers ESRCH; that is
// expected and needs no word. Any other error (EIO, EINVAL, EPERM on a thread we traced) means crashgrid asked
// for something wrong, and must be seen: it lands in the trial's detail instead of being ignored.
#pragma once

#include <sys/ptrace.h>
#include <sys/types.h>

#include <string>

namespace cg {

enum class PtraceResult { kOk, kGone, kFailed };

// Makes the request; on kFailed appends "PTRACE_<what> of thread <tid>: <error>" to *problems ("; "-separated).
[[nodiscard]] PtraceResult PtraceIfAlive(enum __ptrace_request request, pid_t tid, void* addr, void* data,
                                         std::string* problems);

// The problem text PtraceIfAlive appends for `request` failing on `tid` with `err` (for tests).
std::string PtraceProblem(enum __ptrace_request request, pid_t tid, int err);

}  // namespace cg

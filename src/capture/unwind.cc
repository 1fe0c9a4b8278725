#include "capture/unwind.h"

#include <elfutils/libdwfl.h>

#include <cstring>
#include <fstream>
#include <string>

#include <fmt/format.h>

#include "capture/symbolize.h"
#include "util/clock.h"

namespace cg {
namespace {

constexpr size_t kMaxFramesPerThread = 64;

char* g_proc_debuginfo_path = nullptr;  // Dwfl_Callbacks keeps a pointer to it: the default search path
const Dwfl_Callbacks kProcCallbacks = {
    .find_elf = dwfl_linux_proc_find_elf,
    .find_debuginfo = FindLocalDebuginfo,
    .section_address = nullptr,
    .debuginfo_path = &g_proc_debuginfo_path,
};

std::string ThreadName(pid_t pid, pid_t tid) {
  std::ifstream in(fmt::format("/proc/{}/task/{}/comm", pid, tid));
  std::string name;
  std::getline(in, name);
  return name;
}

struct FrameWalk {
  Dwfl* dwfl;
  AddressDescriber* describer;
  ThreadStack* stack;
  bool truncated = false;
};

int OnFrame(Dwfl_Frame* state, void* arg) {
  auto* walk = static_cast<FrameWalk*>(arg);
  Dwarf_Addr pc = 0;
  bool activation = false;
  if (!dwfl_frame_pc(state, &pc, &activation)) return DWARF_CB_ABORT;
  Frame frame;
  // The module is found from the call instruction too: a noreturn call can be the last byte of a module.
  Dwarf_Addr lookup = activation || pc == 0 ? pc : pc - 1;
  walk->describer->Describe(dwfl_addrmodule(walk->dwfl, lookup), pc, activation, &frame);
  walk->stack->frames.push_back(std::move(frame));
  if (walk->stack->frames.size() >= kMaxFramesPerThread) {
    walk->truncated = true;
    return DWARF_CB_ABORT;
  }
  return DWARF_CB_OK;
}

}  // namespace

bool UnwindStoppedThreads(pid_t pid, const std::vector<pid_t>& tids, CrashReport* report, std::string* err) {
  double t0 = MonotonicSeconds();
  // One Dwfl for every thread: module maps, opened ELF files, CFI tables and symbol tables are read once
  // per process, which is what keeps a 64-thread capture well under the 250 ms budget.
  DwflPtr dwfl(dwfl_begin(&kProcCallbacks));
  if (!dwfl) {
    *err = fmt::format("dwfl_begin failed: {}", dwfl_errmsg(-1));
    return false;
  }
  int rc = dwfl_linux_proc_report(dwfl.get(), pid);
  if (rc != 0) {
    *err = rc > 0 ? fmt::format("cannot read /proc/{}/maps: {}", pid, std::strerror(rc))
                  : fmt::format("cannot report the modules of {}: {}", pid, dwfl_errmsg(-1));
    return false;
  }
  if (dwfl_report_end(dwfl.get(), nullptr, nullptr) != 0) {
    *err = fmt::format("cannot report the modules of {}: {}", pid, dwfl_errmsg(-1));
    return false;
  }
  // assume_ptrace_stopped: the caller's threads are our tracees and already stopped, so libdwfl neither
  // attaches nor detaches (which would resume them); it reads registers and memory through ptrace, so this
  // must run on the thread that is the tracer.
  rc = dwfl_linux_proc_attach(dwfl.get(), pid, /*assume_ptrace_stopped=*/true);
  if (rc != 0) {
    *err = rc > 0 ? fmt::format("cannot attach to {}: {}", pid, std::strerror(rc))
                  : fmt::format("cannot attach to {}: {}", pid, dwfl_errmsg(-1));
    return false;
  }
  AddressDescriber describer;
  for (pid_t tid : tids) {
    ThreadStack stack;
    stack.tid = tid;
    stack.name = ThreadName(pid, tid);
    stack.faulting = report->faulting_tid != 0 && tid == report->faulting_tid;
    if (stack.faulting && report->faulting_thread_name.empty()) report->faulting_thread_name = stack.name;
    FrameWalk walk{dwfl.get(), &describer, &stack};
    rc = dwfl_getthread_frames(dwfl.get(), tid, OnFrame, &walk);
    if (walk.truncated) {
      stack.error = fmt::format("stack truncated at {} frames", kMaxFramesPerThread);
    } else if (rc == -1 && stack.frames.empty()) {
      stack.error = fmt::format("cannot unwind thread {}: {}", tid, dwfl_errmsg(-1));
    } else if (rc == -1 && stack.frames.size() == 1) {
      // libdwfl also reports the normal end of a stack as an error on some systems; a single frame means the
      // CFI of the innermost function could not be used.
      stack.error = fmt::format("unwinding stopped after 1 frame: {}", dwfl_errmsg(-1));
    }
    report->threads.push_back(std::move(stack));
  }
  report->capture_ms = (MonotonicSeconds() - t0) * 1000;
  return true;
}

}  // namespace cg

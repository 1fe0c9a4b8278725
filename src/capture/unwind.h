// Stacks of a stopped process through elfutils' libdwfl, the way eu-stack and Crashpad's handler read them:
// CFI (.eh_frame) unwinding, so stripped libraries unwind too; nearest symbol from .symtab or .dynsym.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "trial/trial.h"

namespace cg {

// Unwinds the listed threads of `pid`. Every thread must already be in a ptrace-stop of the caller (the
// supervisor's tracees); nothing is resumed or detached here. Fills report->threads in the order given
// (tid, name from /proc, frames), and keeps going past a thread that fails (its ThreadStack.error says why).
// Returns false only when the process could not be read at all.
[[nodiscard]] bool UnwindStoppedThreads(pid_t pid, const std::vector<pid_t>& tids, CrashReport* report, std::string* err);

// For frames captured by the in-process handler (module path and offset known, process gone): fills
// symbol, symbol_offset and build_id from the module file on disk when it can.
void SymbolizeOffline(std::vector<Frame>* frames);

}  // namespace cg

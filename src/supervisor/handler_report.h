// The record the in-trial agent (src/agent/crashgrid_agent.c) writes itself at a crash (`--capture handler`,
// or in attach mode when the supervisor cannot capture), and its translation into a CrashReport.
//
// Format (text, one record per crashing process, the first one is the trial's crash):
//   CRASHGRID-HANDLER 1
//   pid N / tid N / signal N / code N / addr 0xHEX / name COMM
//   pc 0xHEX            (faulting thread, innermost first; the first is the interrupted pc)
//   maps
//   ...lines of /proc/PID/maps...
//   end
#pragma once

#include <string>
#include <string_view>

#include "agent/agent_block.h"
#include "trial/trial.h"

namespace cg {

constexpr const char* kHandlerFdEnv = "CRASHGRID_HANDLER_FD";

// Parses the first complete record: signal, code, address, faulting thread, and one frame per pc with its
// module path and offset from the module's load base (the lowest mapping of that file). Symbols are left
// to SymbolizeOffline. False when `data` holds no complete record.
[[nodiscard]] bool ParseHandlerRecord(std::string_view data, CrashReport* report, std::string* err);

// Where libcrashgrid_agent.so (AGENT_LIB_NAME) is: $CRASHGRID_AGENT_LIB (AGENT_LIB_ENV), else next to the
// running executable, its parent directory (test binaries live one level down), ../lib/crashgrid (the
// installed layout, cmake/install.cmake) or ../lib. "" if not found.
std::string FindAgentLibrary();

}  // namespace cg

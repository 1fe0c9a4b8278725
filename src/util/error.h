// User-facing errors and exit codes.
//
// Expected failures travel as values (`bool F(..., std::string* err)`); the command that meets one prints it
// once, as `crashgrid: error: <what> (<fix>)`, and exits with one of the codes below. Programming errors abort
// through CG_CHECK, in release builds too.
#pragma once

#include <string>
#include <string_view>

namespace cg {

// Documented in README.md ("Exit codes"). Keep the two in step.
enum ExitCode : int {
  kExitOk = 0,
  kExitFailure = 1,      // a runtime failure that is not the user's input (I/O error, internal error)
  kExitUsage = 2,        // bad command line: unknown workload/parameter/format, malformed grid spec, ...
  kExitDatabase = 3,     // the database file is unreadable, foreign, or written by a newer crashgrid
  kExitCannotRun = 4,    // the workload cannot run on this machine (missing GPU, library, program)
  kExitInterrupted = 130 // stopped by Ctrl-C / SIGTERM after recording the trials in flight
};

// Prints "crashgrid: error: MSG" on stderr.
void PrintError(std::string_view msg);
// Prints "crashgrid: warning: MSG" on stderr.
void PrintWarning(std::string_view msg);

[[noreturn]] void CheckFailed(const char* file, int line, const char* cond, std::string_view msg);

}  // namespace cg

#define CG_CHECK(cond)                                                   \
  do {                                                                   \
    if (!(cond)) ::cg::CheckFailed(__FILE__, __LINE__, #cond, "");       \
  } while (0)
#define CG_CHECK_MSG(cond, msg)                                          \
  do {                                                                   \
    if (!(cond)) ::cg::CheckFailed(__FILE__, __LINE__, #cond, (msg));    \
  } while (0)

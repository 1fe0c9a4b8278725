// Starting a trial process: fork, then exec at once, with everything the child needs prepared before the
// fork (after fork() in a multi-threaded process only async-signal-safe calls are allowed).
#pragma once

#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

#include "util/fd.h"

namespace cg {

struct SpawnPlan {
  std::vector<std::string> argv;  // argv[0] as given (a name is looked up in PATH)
  std::vector<std::pair<std::string, std::string>> env;  // added to / replacing crashgrid's environment
  std::vector<int> inherit_fds;   // stay open across exec at the same numbers (all >= 3)
};

// A started child, held before exec until Go(): the supervisor registers its group with the reaper guard
// and seizes it with ptrace first, so nothing the program does escapes either.
struct SpawnedChild {
  pid_t pid = -1;
  ScopedFd out;       // read ends of the child's stdout and stderr (non-blocking)
  ScopedFd err;
  ScopedFd exec_err;  // CLOEXEC pipe: EOF once exec succeeded, or the exec errno (an int)
  ScopedFd go;        // write 'G' to let the child exec; close it to make the child exit 127

  bool Go();
  void Abort();
};

// Resolves argv[0] against PATH (from `env` when it overrides PATH). False with a user-facing reason.
bool ResolveProgram(const std::string& name, const std::vector<std::pair<std::string, std::string>>& env,
                    std::string* path, std::string* err);

// Forks the child: own process group, parent-death signal, default signal dispositions, stdin from
// /dev/null, stdout/stderr to pipes. False (with err) when not even the fork could be done.
bool Spawn(const std::string& path, const SpawnPlan& plan, SpawnedChild* child, std::string* err);

// Dups fd to a number >= 3 (close-on-exec), closing the original; a trial's fds must never land on 0..2,
// which the child overwrites with its stdio.
int FdAbove2(int fd);

}  // namespace cg

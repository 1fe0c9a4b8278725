// Starting a trial process without copying crashgrid: clone(CLONE_VM) shares crashgrid's memory with the child
// until it execs, so nothing of a big process (87 MB of text, a SQLite cache, threads) is copied or faulted in
// copy-on-write afterwards; a full fork() of crashgrid took about a fifth of a trial's CPU time. Unlike vfork the
// parent runs on while the child waits before exec (the hold, below), so the child lives on its own stack and
// makes raw system calls only: in shared memory it must not write errno (that is the forking thread's TLS),
// take a lock, allocate or run a signal handler (all signals stay blocked until their dispositions are reset).
// Everything it reads is built before the clone and kept, with its stack, until it exec'd or exited.
//
// CRASHGRID_SPAWN=fork in crashgrid's environment selects the old path (fork, then the same set-up with libc
// calls), which is also used where raw system calls are not written (architectures other than x86-64 and
// AArch64) and in ASan/TSan builds: for comparison runs (bench/exec-throughput.sh).
#pragma once

#include <sys/types.h>

#include <cstdint>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "util/fd.h"

namespace cg {

struct SpawnPlan {
  std::vector<std::string> argv;  // argv[0] as given (a name is looked up in PATH)
  std::vector<std::pair<std::string, std::string>> env;  // added to / replacing crashgrid's environment
  std::vector<int> inherit_fds;   // stay open across exec at the same numbers (all >= 3)
  // Held: the child waits before exec until Go() (so that it can be seized with ptrace first). Otherwise it
  // execs at once, and Spawn returns once it has (clone(CLONE_VM|CLONE_VFORK)).
  bool hold = false;
  // The reaper guard's slot for this trial (GuardReserveSlot): the child stores its pid, which is its process
  // group, there before anything else, so the group is registered before the program runs. May be null.
  int32_t* guard_slot = nullptr;
};

struct SpawnMemory;

// A started child. A held one waits before exec until Go(): the supervisor seizes it with ptrace first, so
// nothing the program does escapes the tracer.
struct SpawnedChild {
  SpawnedChild();
  // Frees what the child read before exec once it is sure the child is done with it (exec'd or exited: the
  // exec-error pipe's write end is gone); otherwise leaves it allocated rather than pull it from under a child.
  ~SpawnedChild();
  SpawnedChild(const SpawnedChild&) = delete;
  SpawnedChild& operator=(const SpawnedChild&) = delete;

  pid_t pid = -1;
  ScopedFd out;       // read ends of the child's stdout and stderr (non-blocking)
  ScopedFd err;
  // crashgrid's own copies of their write ends, kept so that the pipes never hang up: the child's exit closing
  // them would wake the supervisor once more, just before the exit itself does. Read to EAGAIN, not to EOF.
  ScopedFd out_w, err_w;
  ScopedFd exec_err;  // CLOEXEC pipe: EOF once exec succeeded, or the exec errno (an int); not on the vfork path
  ScopedFd go;        // held: write 'G' to let the child exec; close it to make the child exit 127
  int exec_errno = 0; // the vfork path: the exec errno, known when Spawn returns

  [[nodiscard]] bool Go();
  void Abort();

  bool reaped = false;                  // set by the supervisor once it reaped pid
  std::unique_ptr<SpawnMemory> memory;  // what a CLONE_VM child reads until it exec'd (null after a fork)
  ScopedFd memory_done;                 // another read end of the exec-error pipe: hung up once the child is done
};

// Resolves argv[0] against PATH (from `env` when it overrides PATH). False with a user-facing reason.
[[nodiscard]] bool ResolveProgram(const std::string& name, const std::vector<std::pair<std::string, std::string>>& env,
                    std::string* path, std::string* err);

// Starts the child: own process group, parent-death signal, default signal dispositions and an empty signal
// mask, stdin from /dev/null, stdout/stderr to pipes, plan.inherit_fds open at their numbers and every other fd
// closed at exec. False (with err) when not even the clone could be done.
[[nodiscard]] bool Spawn(const std::string& path, const SpawnPlan& plan, SpawnedChild* child, std::string* err);

// Dups fd to a number >= 3 (close-on-exec), closing the original; a trial's fds must never land on 0..2,
// which the child overwrites with its stdio.
int FdAbove2(int fd);

}  // namespace cg

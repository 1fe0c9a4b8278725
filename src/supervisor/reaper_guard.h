// The reaper guard: the promise that no process of a trial outlives crashgrid, however crashgrid dies.
//
// The trial's direct child has a parent-death signal, and traced processes die with their tracer
// (PTRACE_O_EXITKILL), but a grandchild that is not traced (--capture none/handler: a shell's child, a
// daemonising helper) would be orphaned. So crashgrid starts, once, a small process in its own session that
// ignores SIGINT/SIGTERM/SIGHUP and holds one end of a socket pair whose other end only crashgrid holds. Each
// trial's process group is registered with it while the trial runs (written into a table in memory shared
// with the guard: registering never wakes it); when the socket reaches EOF (crashgrid
// exited, even by SIGKILL) the guard SIGKILLs every group still registered, then every process whose
// environment carries the trial marker of the crashgrid that started it (CRASHGRID_TRIAL=<that pid>.*, see
// descendants.h: processes that left their group), scanning /proc until a pass finds none, and exits.
#pragma once

#include <sys/types.h>

#include <cstdint>

#include <string>

namespace cg {

// Registers a process group with the guard, starting the guard on first use (and again in a forked child
// of crashgrid, which must not share its parent's guard). False if the guard cannot be started.
[[nodiscard]] bool GuardRegisterGroup(pid_t pgid, std::string* err);
// Unregisters a group. Call it while the group's leader is still an unreaped zombie: until it is reaped its
// pid (and so the group id) cannot be reused, so a guard that fires later can never hit an unrelated group.
void GuardUnregisterGroup(pid_t pgid);
// Reserves a slot for a group about to be made: the trial's child stores its own pid (its group id) into
// *slot before it execs (SpawnPlan::guard_slot), so the group is registered before the program runs with no
// hold and no round trip. *slot is null when every slot is taken (the marker scan still finds the
// processes). False if the guard cannot be started. Release the slot while the group's leader is still an
// unreaped zombie (see GuardUnregisterGroup).
[[nodiscard]] bool GuardReserveSlot(int32_t** slot, std::string* err);
void GuardReleaseSlot(int32_t* slot);
// The guard's pid, 0 when none was started by this process (for tests).
pid_t GuardPid();

}  // namespace cg

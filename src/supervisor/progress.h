// One sample of a running trial for the watchdog (watchdog.h): how far its threads got, which phases they
// are in, and how much CPU its processes used.
#pragma once

#include <sys/types.h>

#include <vector>

#include "supervisor/watchdog.h"
#include "runtime/status_block.h"

namespace cg {

// Counters and phases from `status` (null, or not yet written by the workload: has_status is false), CPU time
// from /proc/PID/stat of each of `processes` (the trial's processes; those already gone are skipped, and with
// none left cpu_s is -1).
Progress SampleProgress(const StatusBlock* status, const std::vector<pid_t>& processes);

// utime + stime of process `pid`, all its threads (live and exited) together; false if it is gone.
[[nodiscard]] bool ProcessCpuSeconds(pid_t pid, double* seconds);

// The processes of process group `pgid` (a trial's group: its leader and whatever it forked), zombies
// included; the `processes` to give SampleProgress.
std::vector<pid_t> ProcessGroupMembers(pid_t pgid);

}  // namespace cg

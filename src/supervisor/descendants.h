// Finding and killing every process of a trial, including the ones that left its process group.
//
// A trial's program may start processes that leave its group and session (setsid, a double fork): the
// group kill misses them, and without ptrace nothing else knows them. So crashgrid is a child subreaper
// (an orphan below it is reparented to crashgrid, not to init) and marks every trial process through its
// environment, CRASHGRID_TRIAL=<crashgrid pid>.<trial sequence number>, which children inherit. At the end
// of a trial the leader's subtree is walked, and the orphans crashgrid adopted are told apart by that
// marker: adopted orphans are our children, so their pids cannot be reused until we reap them, which makes
// killing them by pid race-free. When crashgrid itself dies, the reaper guard finds the marked processes
// by scanning /proc (see reaper_guard.h).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cg {

inline constexpr char kTrialMarkerEnv[] = "CRASHGRID_TRIAL";

// Makes this process a child subreaper, once (again in a forked child: the setting is not inherited). Call
// it before the first trial is spawned: orphans made before it went to init.
void SupervisorInitOnce();

// Every process below root (children, theirs, ...), zombies included, in no particular order; empty when
// root is gone. Reads /proc/PID/task/TID/children, or scans every /proc/PID/stat where the kernel lacks
// that file (CONFIG_PROC_CHILDREN).
std::vector<pid_t> Descendants(pid_t root);
// The scan Descendants falls back to (exposed for tests).
std::vector<pid_t> DescendantsByScan(pid_t root);
// The direct children of pid, whichever of its threads forked or adopted them.
std::vector<pid_t> Children(pid_t pid);

// A trial from its start until its leader was reaped: while it lives, its marker is live and the orphans
// that carry it are left to this trial. Allocates the marker; keep it until the trial's leader is reaped.
class LiveTrial {
 public:
  LiveTrial();
  ~LiveTrial();
  LiveTrial(const LiveTrial&) = delete;
  LiveTrial& operator=(const LiveTrial&) = delete;

  // The value of kTrialMarkerEnv for this trial's processes.
  const std::string& marker() const { return marker_; }

 private:
  uint64_t seq_;
  std::string marker_;
};

// Spawn tells the registry the pid of a leader it started with a live marker: that pid is never reaped by
// anyone but its trial, even when it turns up as a zombie child.
void NoteTrialLeader(const std::string& marker, pid_t pid);

// The value of kTrialMarkerEnv in a NUL-separated environment block (as /proc/PID/environ holds it), the
// first one as getenv would see it; empty when there is none.
std::string TrialMarkerIn(std::string_view environ);
// Splits "<crashgrid pid>.<sequence number>". False when marker is not of that form.
[[nodiscard]] bool ParseTrialMarker(std::string_view marker, pid_t* crashgrid_pid, uint64_t* seq);

// Finds an entry that starts with prefix in a NUL-separated environment block fed in arbitrary pieces.
// No allocation: the reaper guard uses it after fork.
class EnvEntryPrefixMatcher {
 public:
  EnvEntryPrefixMatcher(const char* prefix, size_t len) : prefix_(prefix), len_(len) {}
  // True once an entry started with the prefix (in this piece or an earlier one).
  bool Feed(const char* data, size_t n) {
    for (size_t i = 0; i < n && !matched_; ++i) {
      char c = data[i];
      if (pos_ < 0) {
        if (c == '\0') pos_ = 0;
      } else if (c == prefix_[pos_]) {
        if (static_cast<size_t>(++pos_) == len_) matched_ = true;
      } else {
        pos_ = c == '\0' ? 0 : -1;
      }
    }
    return matched_;
  }

 private:
  const char* prefix_;
  size_t len_;
  long pos_ = 0;  // how much of the prefix the current entry matched so far; -1: it does not
  bool matched_ = false;
};

// SIGKILLs everything of the trial led by `leader` (its process group, every descendant of the leader
// whatever its group or session) and every adopted orphan (a child of crashgrid that is not a live trial's
// leader) carrying this trial's marker or that of a trial that ended, with their descendants; repeats until
// a pass finds nothing alive (a process may fork while being killed) and reaps the adopted ones. Never
// reaps the leader (its trial does) nor a child of crashgrid it cannot tell to be a trial's. False when
// something it killed was still alive at `deadline` (monotonic seconds). `leader_exited`: the leader is known
// to be a zombie (its last thread exited), so it has no children left to look for (they were reparented).
[[nodiscard]] bool KillTrialProcesses(pid_t leader, const std::string& marker, double deadline,
                                      bool leader_exited = false);

}  // namespace cg

#include "supervisor/descendants.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "supervisor/reaper_guard.h"
#include "util/clock.h"

namespace cg {
namespace {

// Reads a small /proc file whole; false when it cannot be opened (the process is gone).
bool ReadProcFile(const char* path, std::string* out) {
  out->clear();
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buf[4096];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out->append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return true;
}

struct ProcStat {
  char state = 0;
  pid_t ppid = 0;
  pid_t pgrp = 0;
  long threads = 0;
};

bool ReadProcStat(pid_t pid, ProcStat* st) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/stat", pid);
  std::string text;
  if (!ReadProcFile(path, &text)) return false;
  // "pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime
  // cstime priority nice num_threads ...": comm may hold spaces and parentheses, so parse from the last ')'.
  size_t paren = text.rfind(')');
  if (paren == std::string::npos) return false;
  int ppid = 0, pgrp = 0;
  long threads = 0;
  if (std::sscanf(text.c_str() + paren + 1, " %c %d %d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %ld",
                  &st->state, &ppid, &pgrp, &threads) != 4) {
    return false;
  }
  st->ppid = ppid;
  st->pgrp = pgrp;
  st->threads = threads;
  return true;
}

// Dead: gone, or a zombie. A thread group whose main thread exited early also shows 'Z' while its other
// threads run; num_threads tells the two apart.
bool IsDead(const ProcStat& st) { return (st.state == 'Z' || st.state == 'X') && st.threads <= 1; }

bool IsDead(pid_t pid) {
  ProcStat st;
  return !ReadProcStat(pid, &st) || IsDead(st);
}

std::vector<pid_t> NumericEntries(const char* dir_path) {
  std::vector<pid_t> out;
  DIR* d = opendir(dir_path);
  if (!d) return out;
  while (dirent* e = readdir(d)) {
    pid_t n = 0;
    const char* end = e->d_name + std::strlen(e->d_name);
    auto [p, ec] = std::from_chars(e->d_name, end, n);
    if (ec == std::errc() && p == end && n > 0) out.push_back(n);
  }
  closedir(d);
  return out;
}

// Whether /proc/PID/task/TID/children exists here (CONFIG_PROC_CHILDREN).
bool HaveChildrenFiles() {
  static const bool have = [] {
    char path[64];
    std::snprintf(path, sizeof path, "/proc/self/task/%d/children", static_cast<int>(gettid()));
    return access(path, R_OK) == 0;
  }();
  return have;
}

void AppendChildren(pid_t pid, std::vector<pid_t>* out) {
  char path[96];
  std::snprintf(path, sizeof path, "/proc/%d/task", pid);
  std::string text;
  for (pid_t tid : NumericEntries(path)) {
    std::snprintf(path, sizeof path, "/proc/%d/task/%d/children", pid, tid);
    if (!ReadProcFile(path, &text)) continue;
    const char* p = text.data();
    const char* end = p + text.size();
    while (p < end) {
      if (*p == ' ' || *p == '\n') {
        ++p;
        continue;
      }
      pid_t child = 0;
      auto [next, ec] = std::from_chars(p, end, child);
      if (ec != std::errc()) break;
      out->push_back(child);
      p = next;
    }
  }
}

std::string ReadEnviron(pid_t pid) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/environ", pid);
  std::string text;
  ReadProcFile(path, &text);
  return text;
}

// Trials that run now (by sequence number) and what is known of the processes of trials that ended.
struct Registry {
  std::mutex mu;
  uint64_t next_seq = 1;
  std::map<uint64_t, pid_t> live;  // sequence number -> leader (0 until spawned)
  // Processes killed as a trial's: their zombies end up as our children (their parents were killed too)
  // and are ours to reap. An entry goes when reaped or gone.
  std::set<pid_t> ours;
  // Leaders of the last trials that ended: a zombie child of ours in one of their groups was in that trial
  // (the zombie holds the group id, so the number cannot have been handed out again since).
  std::deque<pid_t> ended_groups;
};
constexpr size_t kEndedGroupsKept = 64;

Registry& TheRegistry() {
  static Registry* r = new Registry;  // never destroyed: trial threads may still use it during exit
  return *r;
}

bool IsLiveLeaderLocked(const Registry& r, pid_t pid) {
  for (const auto& [seq, leader] : r.live) {
    if (leader == pid) return true;
  }
  return false;
}

}  // namespace

void SupervisorInitOnce() {
  static std::atomic<pid_t> done_in{0};
  pid_t self = getpid();
  if (done_in.load() == self) return;
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  if (done_in.load() == self) return;
  // Without it (kernels before 3.4) orphans go to init: the reaper guard still kills them when crashgrid
  // exits, but not at the end of their trial.
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  done_in.store(self);
}

std::vector<pid_t> Children(pid_t pid) {
  std::vector<pid_t> out;
  if (HaveChildrenFiles()) {
    AppendChildren(pid, &out);
    return out;
  }
  ProcStat st;
  for (pid_t p : NumericEntries("/proc")) {
    if (ReadProcStat(p, &st) && st.ppid == pid) out.push_back(p);
  }
  return out;
}

std::vector<pid_t> Descendants(pid_t root) {
  if (!HaveChildrenFiles()) return DescendantsByScan(root);
  std::vector<pid_t> out;
  std::set<pid_t> seen{root};
  std::vector<pid_t> todo{root};
  std::vector<pid_t> kids;
  while (!todo.empty()) {
    pid_t p = todo.back();
    todo.pop_back();
    kids.clear();
    AppendChildren(p, &kids);
    for (pid_t k : kids) {
      if (!seen.insert(k).second) continue;
      out.push_back(k);
      todo.push_back(k);
    }
  }
  return out;
}

std::vector<pid_t> DescendantsByScan(pid_t root) {
  std::multimap<pid_t, pid_t> by_parent;
  ProcStat st;
  for (pid_t p : NumericEntries("/proc")) {
    if (ReadProcStat(p, &st)) by_parent.emplace(st.ppid, p);
  }
  std::vector<pid_t> out;
  std::set<pid_t> seen{root};
  std::vector<pid_t> todo{root};
  while (!todo.empty()) {
    pid_t p = todo.back();
    todo.pop_back();
    auto [b, e] = by_parent.equal_range(p);
    for (auto it = b; it != e; ++it) {
      if (!seen.insert(it->second).second) continue;
      out.push_back(it->second);
      todo.push_back(it->second);
    }
  }
  return out;
}

LiveTrial::LiveTrial() {
  Registry& r = TheRegistry();
  std::lock_guard<std::mutex> lock(r.mu);
  seq_ = r.next_seq++;
  r.live[seq_] = 0;
  marker_ = fmt::format("{}.{}", getpid(), seq_);
}

LiveTrial::~LiveTrial() {
  Registry& r = TheRegistry();
  std::lock_guard<std::mutex> lock(r.mu);
  auto it = r.live.find(seq_);
  if (it == r.live.end()) return;
  if (it->second > 0) {
    r.ended_groups.push_back(it->second);
    if (r.ended_groups.size() > kEndedGroupsKept) r.ended_groups.pop_front();
  }
  r.live.erase(it);
}

void NoteTrialLeader(const std::string& marker, pid_t pid) {
  pid_t owner = 0;
  uint64_t seq = 0;
  if (!ParseTrialMarker(marker, &owner, &seq) || owner != getpid()) return;
  Registry& r = TheRegistry();
  std::lock_guard<std::mutex> lock(r.mu);
  auto it = r.live.find(seq);
  if (it != r.live.end()) it->second = pid;
}

std::string TrialMarkerIn(std::string_view environ) {
  constexpr std::string_view key = "CRASHGRID_TRIAL=";
  static_assert(key.size() == sizeof kTrialMarkerEnv);  // the name and its '='
  size_t pos = 0;
  while (pos < environ.size()) {
    size_t end = environ.find('\0', pos);
    if (end == std::string_view::npos) end = environ.size();
    std::string_view entry = environ.substr(pos, end - pos);
    if (entry.substr(0, key.size()) == key) return std::string(entry.substr(key.size()));
    pos = end + 1;
  }
  return "";
}

bool ParseTrialMarker(std::string_view marker, pid_t* crashgrid_pid, uint64_t* seq) {
  size_t dot = marker.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == marker.size()) return false;
  const char* b = marker.data();
  const char* e = b + marker.size();
  pid_t pid = 0;
  auto [p1, ec1] = std::from_chars(b, b + dot, pid);
  if (ec1 != std::errc() || p1 != b + dot || pid <= 0) return false;
  uint64_t s = 0;
  auto [p2, ec2] = std::from_chars(b + dot + 1, e, s);
  if (ec2 != std::errc() || p2 != e) return false;
  *crashgrid_pid = pid;
  *seq = s;
  return true;
}

bool KillTrialProcesses(pid_t leader, const std::string& marker, double deadline, bool leader_exited) {
  if (leader <= 0) return true;  // kill(-0) and kill(-1) would hit far more than a trial
  const pid_t self = getpid();
  pid_t owner = 0;
  uint64_t own_seq = 0;
  bool have_marker = ParseTrialMarker(marker, &owner, &own_seq) && owner == self;
  Registry& r = TheRegistry();
  // The reaper guard is our child too (adopted) and carries no marker: skip it rather than read its /proc
  // files at the end of every trial.
  const pid_t guard = GuardPid();
  // Killed here and not dead yet when last looked at (the leader is its trial's business).
  std::set<pid_t> dying;
  auto kill_tree = [&](pid_t p) {
    kill(p, SIGKILL);
    if (p != leader) dying.insert(p);
    if (p == leader && leader_exited) return;  // a zombie's children were reparented (to crashgrid: below)
    for (pid_t d : Descendants(p)) {
      kill(d, SIGKILL);
      dying.insert(d);
    }
  };
  for (;;) {
    kill(-leader, SIGKILL);
    kill_tree(leader);
    {
      std::lock_guard<std::mutex> lock(r.mu);
      for (pid_t p : dying) r.ours.insert(p);
      for (pid_t c : Children(self)) {
        if (c == leader || c == guard || IsLiveLeaderLocked(r, c)) continue;
        ProcStat st;
        if (!ReadProcStat(c, &st)) continue;
        if (IsDead(st)) {
          bool ended_group = false;
          for (pid_t g : r.ended_groups) ended_group = ended_group || (g == st.pgrp && g != c);
          if (r.ours.count(c) || st.pgrp == leader || ended_group) {
            int raw;
            if (waitpid(c, &raw, WNOHANG | __WALL) == c) r.ours.erase(c);
          }
          continue;
        }
        pid_t m_owner = 0;
        uint64_t m_seq = 0;
        if (!ParseTrialMarker(TrialMarkerIn(ReadEnviron(c)), &m_owner, &m_seq) || m_owner != self) continue;
        bool this_trial = have_marker && m_seq == own_seq;
        if (!this_trial && r.live.count(m_seq)) continue;  // a running trial's orphan: left to that trial
        r.ours.insert(c);
        kill_tree(c);
        for (pid_t p : dying) r.ours.insert(p);
      }
      for (auto it = r.ours.begin(); it != r.ours.end();) {
        ProcStat st;
        it = ReadProcStat(*it, &st) ? std::next(it) : r.ours.erase(it);
      }
    }
    for (auto it = dying.begin(); it != dying.end();) it = IsDead(*it) ? dying.erase(it) : std::next(it);
    if (dying.empty()) break;
    if (MonotonicSeconds() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  // The last pass saw everything dead; what turned into our zombies during it is reaped now. Nothing to reap
  // when no process of ours is known (the usual end of a trial whose processes all stayed in its group).
  std::lock_guard<std::mutex> lock(r.mu);
  if (r.ours.empty()) return true;
  for (pid_t c : Children(self)) {
    if (c == leader || IsLiveLeaderLocked(r, c) || !r.ours.count(c)) continue;
    ProcStat st;
    int raw;
    if (ReadProcStat(c, &st) && IsDead(st) && waitpid(c, &raw, WNOHANG | __WALL) == c) r.ours.erase(c);
  }
  return true;
}

}  // namespace cg

// Runs the real crashgrid binary (and fixtures) for end-to-end tests.
#pragma once

#include <sys/types.h>

#include <string>
#include <utility>
#include <functional>
#include <vector>

#include "store/store.h"

namespace cg::test {

struct CmdResult {
  int exit_code = -1;  // -1 if killed by a signal
  int signal = 0;
  bool timed_out = false;
  std::string out;
  std::string err;
};

std::string CrashgridBin();
std::string FixturePath(const std::string& name);
// A fresh, empty directory for one test (under the build dir, kept for inspection).
std::string TestDir();

using Env = std::vector<std::pair<std::string, std::string>>;
// Runs crashgrid with args; kills it (and its process group) after timeout_s.
CmdResult RunCrashgrid(const std::vector<std::string>& args, double timeout_s = 240, const Env& env = {});
// `crashgrid sweep --runs 1 --duration 1s --db DB --no-live EXTRA... --exec -- /bin/true`: for options that
// must be refused before anything is created (the caller checks the exit code, the message and that DB is absent).
CmdResult RunRefusedSweep(const std::string& db, const std::vector<std::string>& extra);
// Starts crashgrid in the background (own process group); output goes to files in dir.
pid_t StartCrashgrid(const std::vector<std::string>& args, const std::string& out_file);
// Waits for pid up to timeout_s; returns the wait status or -1 on timeout.
int WaitFor(pid_t pid, double timeout_s);

// Pids of live processes whose command line contains `marker` (zombies excluded).
std::vector<pid_t> ProcessesWithMarker(const std::string& marker);
std::string ReadFile(const std::string& path);
bool WaitUntil(double timeout_s, const std::function<bool()>& pred);

// Terminal output with its CSI escape sequences and carriage returns removed: what a reader of the screen sees.
std::string StripAnsi(const std::string& s);

// The trials of the newest run in `db`, with their reports (full). A failure to read is a test failure.
std::vector<StoredTrial> LoadNewestRunTrials(const std::string& db);

}  // namespace cg::test

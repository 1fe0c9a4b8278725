// The plain records of one trial: what was run, how it ended, what it measured and what was captured.
// No I/O here; the supervisor fills them, the store persists them, stats and report read them.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace cg {

// How a trial process ended.
enum class Outcome {
  kClean,        // exited 0 (errors counted by the workload are not crashes)
  kCrashed,      // died of a signal (or a shell reported 128+N)
  kHung,         // past its bound and no thread made progress during the stall window; killed
  kFailed,       // exited with a non-zero code that is not a signal
  kCouldNotStart,// never ran the workload: program missing, workload unavailable on this machine
  kOverran,      // past its bound but still making progress (slow, not stuck); killed and captured
};

// "clean", "crashed", "hung", "failed", "could-not-start", "overran"
const char* OutcomeName(Outcome o);
bool ParseOutcome(const std::string& s, Outcome* out);  // inverse of OutcomeName

// What an outcome says about a cell's crash probability. Every table, page and statistic asks this one
// function: clean trials are evidence of safety; crashed and hung trials are crashes; failed, overran and
// could-not-start trials are neither (a trial that exited 1, or was killed while still busy, did not show
// that the program survives).
enum class Evidence { kSafe, kCrash, kNeither };
Evidence OutcomeEvidence(Outcome o);

// One grid cell: parameter values in grid-axis order, e.g. {{"threads","4"},{"sessions","4"}}.
using Cell = std::vector<std::pair<std::string, std::string>>;
// "threads=4,sessions=4" — the canonical key of a cell (stable across runs with the same axes).
std::string CellKey(const Cell& cell);
bool ParseCellKey(const std::string& key, Cell* cell);

// Errors a workload counted, grouped by a normalised message (numbers and addresses replaced by '#').
struct ErrorBucket {
  std::string phase;
  std::string message;  // normalised
  int64_t count = 0;
  std::string example;  // the first raw message
};

struct PhaseStats {
  std::string name;
  int64_t count = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  double max_ms = 0;
};

// What one workload thread was doing, as read from the shared status block (also after a crash).
struct ThreadStatus {
  int index = 0;       // 0..threads-1
  int tid = 0;         // kernel thread id
  std::string phase;   // the phase it was in ("" when between iterations, "done" after its loop)
  int64_t iterations = 0;
  int64_t successes = 0;
  int64_t errors = 0;
};

// One stack frame of a captured thread.
struct Frame {
  uint64_t pc = 0;
  std::string module;    // path of the ELF module, "" if unknown
  std::string build_id;  // hex, "" if none
  uint64_t offset = 0;   // pc - module load base
  std::string symbol;    // demangled nearest symbol, "" if none
  uint64_t symbol_offset = 0;
  bool exported = false; // the symbol is one the module exports (global or weak, default visibility):
                         // an API entry of that library
  std::string file;      // source file of the address from the module's DWARF line table (built with -g), ""
                         // if none; shown beside the frame, never part of a signature
  int line = 0;          // its line, 0 if unknown
};

struct ThreadStack {
  int tid = 0;
  std::string name;   // /proc/PID/task/TID/comm
  std::string phase;  // workload phase, when the trial is a built-in workload
  bool faulting = false;
  std::vector<Frame> frames;
  std::string error;  // why unwinding stopped early, if it did
  char state = 0;     // scheduler state from /proc at capture ('R', 'S', 'D', 't'...), 0 if unknown
  // The API entry the program called into the library at the top of the stack: the outermost exported
  // symbol of the innermost foreign library's run of frames ("cuvidDestroyDecoder"), "" if none. When the
  // agent tracked the thread's calls, the call it was in (api_call) instead.
  std::string api;
  // What the agent (src/agent/api_track.c) recorded for this thread, empty/0 when it tracked nothing:
  std::string api_call;    // the innermost tracked call in flight ("cuvidDestroyDecoder")
  std::string api_outer;   // the outermost one when calls nest ("gst_element_set_state(NULL)"), else ""
  std::string api_caller;  // the frame that made the outermost call ("churn_once"), "" if not on the stack
  int64_t api_calls = 0;   // tracked calls the thread made
  double api_call_s = 0;   // how long it had been in api_call when it was stopped (0 if unknown)
};

// One thread's entry in the agent's API-call table, as the supervisor read it (AgentChannel::ApiThreads).
struct AgentThreadCall {
  int pid = 0;
  int tid = 0;
  std::string call;   // "" when in no tracked call
  std::string outer;
  uint64_t outer_arg = 0;
  int depth = 0;
  int64_t calls = 0;
  int64_t call_mono_ns = 0;
};

// Everything captured at a crash or a hang.
struct CrashReport {
  std::string method;  // "ptrace", "handler" or "none"
  int signal = 0;
  int si_code = 0;
  uint64_t fault_address = 0;
  bool has_fault_address = false;
  int faulting_tid = 0;
  std::string faulting_thread_name;
  // A hang's representative thread (a blocked worker inside a foreign library, not main), 0 if none.
  int representative_tid = 0;
  std::vector<ThreadStack> threads;  // faulting thread first
  double capture_ms = 0;
  std::string error;  // capture problems (partial report), "" if complete
};

// How a trial ended and everything measured about it.
struct TrialResult {
  Outcome outcome = Outcome::kCouldNotStart;
  int exit_code = 0;        // when exited
  int signal = 0;           // when killed by a signal (or 128+N through a shell)
  bool via_shell = false;   // the signal was reported by a shell as exit status 128+N
  std::string detail;       // could-not-start reason, hang note, ...

  double started_at = 0;        // Unix seconds
  double duration_s = 0;        // wall time from spawn to reaped
  double time_to_outcome_s = 0; // spawn to exit/crash/watchdog (a crash's time to crash)

  // Workload metrics (built-in workloads; zero for --exec programs).
  int64_t iterations = 0;
  int64_t successes = 0;
  int64_t errors = 0;
  int64_t units = 0;          // frames or other work units the workload counts
  std::string units_name;     // "frames", "" if none
  double workload_seconds = 0;  // how long the workload's threads ran
  double setup_s = 0;     // spawn to the start barrier (built-in workloads), 0 if unknown
  double teardown_s = 0;  // the workload's deadline to the process's end (built-in workloads), 0 if unknown
  std::vector<ErrorBucket> error_buckets;
  std::vector<PhaseStats> phases;
  std::vector<ThreadStatus> threads;  // last known state of each workload thread

  std::string stdout_tail;  // last 64 KiB
  std::string stderr_tail;

  std::string capture_method;  // the method actually used: "attach", "trace", "handler", "none"
                               // ("ptrace" in databases written before the attach mode existed)
  std::optional<CrashReport> report;  // for crashed and hung trials, when captured
  std::string signature;  // crash/hang signature, "" if none
  // Schema v5: the GPU the trial ran on under `--gpus` (NVML index and UUID); -1 and "" otherwise.
  int gpu_index = -1;
  std::string gpu_uuid;
};

// The exit code table.py would have seen: 0, N for exit N, 128+N for a signal, 124 for a hang or an
// overrun (timeout(1)'s code), 127 for a program that could not start.
int SeedExitCode(const TrialResult& r);

// True for the outcomes counted as "crashes" by tables and statistics (crashed and hung).
inline bool IsCrash(Outcome o) { return o == Outcome::kCrashed || o == Outcome::kHung; }

// Normalises an error message for grouping: digits runs -> '#', hex addresses -> '0x#', trims, caps length.
std::string NormalizeErrorMessage(std::string_view msg);

}  // namespace cg

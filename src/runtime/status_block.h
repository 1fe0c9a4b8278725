// The status block: a small shared-memory page through which a workload process tells its supervisor which
// phase each thread is in and how far it got. It lives in a memfd created by the supervisor and mapped by
// both; plain atomics, no locks, so it stays readable when the workload dies in the middle of anything.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "trial/trial.h"

namespace cg {

constexpr uint32_t kStatusMagic = 0x54534743;  // "CGST"
constexpr uint32_t kStatusVersion = 1;
constexpr int kStatusMaxThreads = 1024;
constexpr int kStatusMaxPhases = 32;
constexpr int kStatusPhaseNameLen = 32;

constexpr int32_t kPhaseIdle = -1;  // between iterations (or not started yet)
constexpr int32_t kPhaseDone = -2;  // left its loop

struct StatusThread {
  std::atomic<int32_t> tid;
  std::atomic<int32_t> phase;  // index into phase_names, or kPhaseIdle / kPhaseDone
  std::atomic<int64_t> iterations;
  std::atomic<int64_t> successes;
  std::atomic<int64_t> errors;
};

struct StatusHeader {
  uint32_t magic;
  uint32_t version;
  std::atomic<int32_t> threads;
  int32_t phases;
  char phase_names[kStatusMaxPhases][kStatusPhaseNameLen];
  std::atomic<int64_t> units;
  std::atomic<int32_t> started;  // 1 once all threads passed the start barrier
  // CLOCK_REALTIME at the start barrier, in ns: lets the supervisor tell how long a workload that crashed
  // (and so wrote no result) had been running, for its throughput and its exposure.
  std::atomic<int64_t> started_unix_ns;
};

constexpr size_t kStatusBlockSize = sizeof(StatusHeader) + sizeof(StatusThread) * kStatusMaxThreads;

// A mapping of the status block (either side). Move-only; unmaps on destruction.
class StatusBlock {
 public:
  StatusBlock() = default;
  ~StatusBlock();
  StatusBlock(StatusBlock&& o) noexcept;
  StatusBlock& operator=(StatusBlock&& o) noexcept;
  StatusBlock(const StatusBlock&) = delete;
  StatusBlock& operator=(const StatusBlock&) = delete;

  // Supervisor side: a new memfd of kStatusBlockSize bytes, zeroed. Returns the fd (caller owns) or -1.
  static int CreateFd(std::string* err);
  // Maps an existing block (memfd or any fd of the right size). False on failure.
  bool Map(int fd, std::string* err);
  // Process-private anonymous block, for `crashgrid run` without a supervisor.
  bool MapAnonymous(std::string* err);

  // Workload side: writes the header (phase names, thread count).
  void Init(const std::vector<std::string>& phases, int threads);

  bool valid() const;  // mapped and carries the magic and version
  StatusHeader* header() const { return header_; }
  StatusThread* thread(int i) const;
  // The index of the phase called `name` in the block's phase table, -1 if none (or not valid).
  int PhaseIndex(std::string_view name) const;
  // Supervisor side: a copy of what each thread was doing.
  std::vector<ThreadStatus> Snapshot() const;
  int64_t units() const;
  // Unix seconds at the start barrier, or 0 if the threads never got there.
  double started_unix() const;

 private:
  void* base_ = nullptr;
  StatusHeader* header_ = nullptr;
};

}  // namespace cg

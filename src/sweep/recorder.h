// The sweep's recorder: the run row and every finished trial, through the store. A trial is committed as it
// finishes, so a killed sweep loses at most the trials in flight, and resuming reads back per-cell counts
// (Store::LoadTrialGroups), never every trial.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "store/store.h"
#include "sweep/options.h"
#include "trial/run.h"

namespace cg {

class Recorder {
 public:
  explicit Recorder(Store* store) : store_(store) {}

  // Finds the run of this sweep (by SweepKey) and updates what may change between invocations (command line,
  // --runs, stopping settings, capture); or inserts a new one, with `fingerprint()` as its environment.
  [[nodiscard]] bool OpenRun(const SweepOptions& opts, const std::function<nlohmann::json()>& fingerprint,
                             std::string* err);
  // What is recorded for the run so far, grouped per cell and outcome (empty for a new run).
  [[nodiscard]] bool LoadCounts(std::vector<TrialGroup>* groups, std::string* err);
  // Commits one finished trial.
  [[nodiscard]] bool Commit(const Cell& cell, int repetition, const TrialResult& result, std::string* err);
  // The verdicts stored for the run where the SPRT decided each cell (empty for a new run).
  [[nodiscard]] bool LoadVerdicts(std::vector<CellVerdict>* verdicts, std::string* err);
  // Stores a cell's verdict where its rule decided it (Scheduler::TakeDecision), naming the trial last
  // committed as the one that decided it.
  [[nodiscard]] bool SaveVerdict(CellVerdict verdict, std::string* err);
  // The first workload detail a trial reports (e.g. the chosen gst branch) is kept with the run.
  [[nodiscard]] bool NoteWorkloadDetail(const std::string& detail, std::string* err);
  // Marks the run finished (every cell done, not interrupted).
  [[nodiscard]] bool Finish(std::string* err);

  const RunRecord& run() const { return run_; }
  bool resumed() const { return resumed_; }

 private:
  Store* store_;
  RunRecord run_;
  bool resumed_ = false;
  int64_t last_trial_id_ = 0;
};

}  // namespace cg

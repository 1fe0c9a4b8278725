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

  // Continues the newest run of this sweep (same SweepKey) whose identity matches (sweep/fingerprint.h:
  // SameIdentity, against `fingerprint()` as this invocation's environment), updating what may change between
  // invocations (command line, --runs, stopping settings, capture); or inserts a new run. --new-run always
  // inserts; --resume never does (false, with refused() and *err saying why). note() is the line to show first.
  [[nodiscard]] bool OpenRun(const SweepOptions& opts, const std::function<nlohmann::json()>& fingerprint,
                             std::string* err);
  // What is recorded for the run so far, grouped per cell and outcome (empty for a new run).
  [[nodiscard]] bool LoadCounts(std::vector<TrialGroup>* groups, std::string* err);
  // Commits one finished trial, under `uid` when the sweep chose it before the trial ran ("": a new one).
  [[nodiscard]] bool Commit(const Cell& cell, int repetition, const TrialResult& result, std::string* err,
                            const std::string& uid = "");
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
  bool refused() const { return refused_; }
  // "continuing run 2 (...)" or "new run 3: driver 570.86 differs from run 2's 550.54 (...)"; "" for the first
  // run of a sweep.
  const std::string& note() const { return note_; }

 private:
  Store* store_;
  RunRecord run_;
  bool resumed_ = false;
  bool refused_ = false;
  std::string note_;
  int64_t last_trial_id_ = 0;
};

}  // namespace cg

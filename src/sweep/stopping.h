// Stopping rules: which cells run in the next round of a sweep, and when the sweep is done.
// A round runs each chosen cell once, in a fresh random order.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "trial/trial.h"

namespace cg {

struct CellProgress {
  Cell cell;
  int64_t n = 0;           // trials recorded (could-not-start excluded)
  int64_t crashes = 0;     // crashed + hung
  double exposure_s = 0;   // workload seconds summed (time to outcome, capped at duration)
};

class StoppingRule {
 public:
  virtual ~StoppingRule() = default;
  // Indices of the cells to run once each in the next round; empty when the sweep is done.
  virtual std::vector<size_t> NextRound(const std::vector<CellProgress>& cells) = 0;
  // A word for the progress line: "flat", "decided", "refine".
  virtual std::string name() const = 0;
  // Upper bound on the trials still to run, for the ETA (may over-estimate).
  virtual int64_t RemainingEstimate(const std::vector<CellProgress>& cells) const = 0;
};

// Every cell until it has `runs` trials.
std::unique_ptr<StoppingRule> NewFlatRule(int64_t runs);

}  // namespace cg

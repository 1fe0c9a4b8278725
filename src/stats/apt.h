// Refinement after the verdicts: spend further trials where a cell's probability is least certain relative to
// a threshold. APT (Locatelli, Carpentier, Kpotufe 2016, "An optimal algorithm for the thresholding bandit
// problem") runs the arm with the smallest sqrt(n) * (|p - theta| + eps): few runs, or an estimate close to
// theta. A cell stops being a candidate once its Wilson interval is narrower than `width`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace cg {

struct AptParams {
  // Default threshold: the middle of the SPRT indifference zone [p0, p1] = [0.01, 0.10], i.e. the probability
  // at which a cell is equally far from "safe" and "crashes" on a linear scale.
  double theta = 0.055;
  double eps = 0.01;    // APT's precision: cells within eps of theta are not told apart
  double width = 0.2;   // Wilson 95% interval width at which a cell needs no more runs
};

struct AptArm {
  int64_t k = 0;
  int64_t n = 0;
};

// APT's index for one arm (infinite priority, i.e. 0, for an arm with no runs).
double AptIndex(const AptArm& arm, const AptParams& p);
// True when the arm's Wilson interval is already narrower than p.width.
bool AptSettled(const AptArm& arm, const AptParams& p);
// Indices of up to `count` unsettled arms with the smallest index (ties: fewer runs, then lower index),
// best first. Empty when every arm is settled.
std::vector<size_t> AptSelect(const std::vector<AptArm>& arms, const AptParams& p, size_t count = 1);

}  // namespace cg

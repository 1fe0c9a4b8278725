// Intervals that stay true when the number of runs depended on the results. After Wald's SPRT stops a cell,
// k/n is biased away from the indifference zone and a fixed-n interval (Wilson, even Clopper-Pearson)
// covers less than it claims: the cells that stop early are exactly those whose first runs were extreme.
//
// - SprtExactInterval: the exact interval for the SPRT's own stopping rule (one run at a time, SprtDecide
//   after each, stopped at the first verdict or at a cap), by the stage-wise ordering of the sample space
//   (Siegmund 1978; Jennison & Turnbull 2000, ch. 8.4): a stop at an earlier stage on the CRASHES boundary
//   is more extreme than any later one, a stop on the SAFE boundary at an earlier stage is more extreme the
//   other way, and stops at the cap lie in between by their crash count. The probability of every stopping
//   point is enumerated exactly (a forward pass over the continuation region), and the bounds solve
//   P_lo(T >= t) = alpha/2, P_hi(T <= t) = alpha/2, which are monotone in p for this ordering. A boundary stop
//   at stage n depends only on stages up to n, so the cap does not enter it; a stop at the cap is taken at
//   the stage it was observed (the cap in evidence trials, after any failed or overran trial used some up).
// - AlwaysValidInterval: for any other stopping (the refinement after the verdicts spends runs where the
//   estimate is near a threshold): Robbins' beta-binomial mixture confidence sequence, {p : the Beta(1/2,
//   1/2) mixture's likelihood ratio against p < 1/alpha}, valid at every n at once by Ville's inequality, so
//   at any data-dependent stopping time. Wider than a fixed-n interval (it pays for the freedom).
#pragma once

#include <cstdint>

#include "stats/stats.h"

namespace cg {

// How a cell reached its final counts.
enum class StopKind {
  kFixed,         // a number of runs fixed in advance (`--until runs`): Wilson
  kSprtBoundary,  // the SPRT reached SAFE or CRASHES at this n (`--until decided`)
  kSprtCap,       // the SPRT was still undecided when the cell stopped (the cap, or the sweep was stopped)
  kAdaptive,      // runs beyond the SPRT chosen from the data (`--refine`): the always-valid interval
};
const char* StopKindName(StopKind k);  // "fixed", "sprt-boundary", "sprt-cap", "adaptive"

// The interval of the stage-wise ordering for k crashes in n runs of the SPRT `p` that stopped at n, on a
// boundary (SprtDecide(k, n) is SAFE or CRASHES) or undecided (at the cap). Returns false when (k, n) is not
// a point where that rule can stop (a path to it would have been decided earlier; the run's settings
// changed); the caller then falls back to AlwaysValidInterval.
bool SprtExactInterval(int64_t k, int64_t n, const SprtParams& p, double alpha, Interval* out);
// The median-unbiased estimate of the same ordering: p with P_p(T >= t) = 1/2 (k/n overstates a cell that
// reached CRASHES early, and understates one that reached SAFE). Same domain as SprtExactInterval.
bool SprtMedianUnbiased(int64_t k, int64_t n, const SprtParams& p, double* out);

// Robbins' mixture confidence sequence (Beta(1/2, 1/2) mixing), two-sided 1 - alpha. n = 0 -> [0, 1].
Interval AlwaysValidInterval(int64_t k, int64_t n, double alpha = 0.05);

// The interval a report shows for k crashes in n evidence runs that stopped as `kind` says: the one function
// every table, heatmap, page and JSON output uses. kSprt* fall back to AlwaysValidInterval where
// SprtExactInterval has no answer.
Interval StoppedInterval(int64_t k, int64_t n, StopKind kind, const SprtParams& p, double alpha = 0.05);

}  // namespace cg

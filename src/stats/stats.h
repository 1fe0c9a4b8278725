// Statistics: pure functions from counts to intervals, verdicts and tests. No I/O.
// See ../shared/DOMAIN.md ("Statistics") for why each one is used where.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cg {

struct Interval {
  double lo = 0;
  double hi = 1;
};

// Wilson score interval for k successes in n trials at confidence 1 - alpha (two-sided). n = 0 -> [0, 1].
Interval Wilson(int64_t k, int64_t n, double alpha = 0.05);
// One-sided upper bound for p when k = 0 crashes in n trials: 1 - alpha^(1/n).
double ZeroCrashUpperBound(int64_t n, double alpha = 0.05);
// Clopper-Pearson (exact) two-sided interval; used for every "safe" claim.
Interval ClopperPearson(int64_t k, int64_t n, double alpha = 0.05);
// Clopper-Pearson one-sided upper bound at 1 - alpha.
double ClopperPearsonUpper(int64_t k, int64_t n, double alpha = 0.05);

// Wald's sequential probability ratio test for a cell's crash probability.
struct SprtParams {
  double p0 = 0.01;  // "safe" hypothesis
  double p1 = 0.10;  // "crashes" hypothesis
  double alpha = 0.05;
  double beta = 0.05;
};
enum class Verdict { kUndecided, kSafe, kCrashes };
const char* VerdictName(Verdict v);  // "UNDECIDED", "SAFE", "CRASHES"
Verdict SprtDecide(int64_t k, int64_t n, const SprtParams& p);
// The verdict a cell shows and a study acts on: SprtDecide over its k crashes in n evidence trials, except that
// a cell with any failed trial (exited non-zero, in no n) is never SAFE: the program did not survive there,
// however many other runs were clean. It stays UNDECIDED (a failure is no crash either).
Verdict CellSprtVerdict(int64_t k, int64_t n, int64_t failed, const SprtParams& p);
// log(L(p1) / L(p0)) for k crashes in n runs; SprtDecide compares it with log((1-beta)/alpha) (CRASHES)
// and log(beta/(1-alpha)) (SAFE).
double SprtLogLikelihoodRatio(int64_t k, int64_t n, const SprtParams& p);
// Clean runs still needed for k crashes in n runs to reach SAFE if no further run crashes (0 when already
// SAFE; n is unbounded when CRASHES is already reached, which callers check first).
int64_t SprtCleanRunsToSafe(int64_t k, int64_t n, const SprtParams& p);

// The statement a SAFE verdict may make: "p < 0.093 at 95%" from the Clopper-Pearson one-sided upper bound,
// rounded up (never down) to two significant digits. n = 0 -> "no runs".
std::string SafeClaim(int64_t k, int64_t n, double alpha = 0.05);
// A probability as a short string rounded up to two significant digits: 0.0921 -> "0.093", 0.2 -> "0.20".
std::string FormatUpperBound(double p);

}  // namespace cg

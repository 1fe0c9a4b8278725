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

}  // namespace cg

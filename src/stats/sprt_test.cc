#include <gtest/gtest.h>

#include "stats/stats.h"

namespace cg {

TEST(Sprt, ThirtyOneCleanRunsAreSafeAtTheDefaults) {
  SprtParams p;
  EXPECT_EQ(SprtDecide(0, 31, p), Verdict::kSafe);
  EXPECT_EQ(SprtDecide(0, 30, p), Verdict::kUndecided);
}

TEST(Sprt, TwoEarlyCrashesAreCrashes) {
  SprtParams p;
  EXPECT_EQ(SprtDecide(2, 2, p), Verdict::kCrashes);
  EXPECT_EQ(SprtDecide(2, 19, p), Verdict::kCrashes);
  // The 18 clean runs between outweigh the second crash a little: 2*log(10) + 18*log(0.9/0.99) < log(19).
  EXPECT_EQ(SprtDecide(2, 20, p), Verdict::kUndecided);
  EXPECT_EQ(SprtDecide(1, 1, p), Verdict::kUndecided);
}

TEST(Sprt, OneCrashPostponesSafe) {
  SprtParams p;
  EXPECT_EQ(SprtDecide(1, 31, p), Verdict::kUndecided);
  int64_t more = SprtCleanRunsToSafe(1, 31, p);
  EXPECT_EQ(SprtDecide(1, 31 + more, p), Verdict::kSafe);
  EXPECT_EQ(SprtDecide(1, 31 + more - 1, p), Verdict::kUndecided);
  EXPECT_EQ(SprtCleanRunsToSafe(0, 0, p), 31);
  EXPECT_EQ(SprtCleanRunsToSafe(0, 31, p), 0);
}

TEST(Sprt, StricterParametersNeedMoreRuns) {
  SprtParams p;
  p.p1 = 0.05;
  EXPECT_EQ(SprtDecide(0, 31, p), Verdict::kUndecided);
  EXPECT_EQ(SprtDecide(0, SprtCleanRunsToSafe(0, 0, p), p), Verdict::kSafe);
  EXPECT_GT(SprtCleanRunsToSafe(0, 0, p), 31);
}

TEST(Sprt, VerdictNames) {
  EXPECT_STREQ(VerdictName(Verdict::kSafe), "SAFE");
  EXPECT_STREQ(VerdictName(Verdict::kCrashes), "CRASHES");
  EXPECT_STREQ(VerdictName(Verdict::kUndecided), "UNDECIDED");
}

TEST(ClopperPearson, MatchesRBinomTest) {
  // R: binom.test(682, 925, p = 3/4) -> 95 percent confidence interval 0.7076683 0.7654066
  Interval iv = ClopperPearson(682, 925);
  EXPECT_NEAR(iv.lo, 0.7076683, 1e-6);
  EXPECT_NEAR(iv.hi, 0.7654066, 1e-6);
  // Values below solve P(X >= k; n, lo) = 0.025 and P(X <= k; n, hi) = 0.025 by summing binomial terms
  // (an independent route from the incomplete beta used by the code).
  iv = ClopperPearson(3, 69);
  EXPECT_NEAR(iv.lo, 0.0090576, 1e-6);
  EXPECT_NEAR(iv.hi, 0.1218471, 1e-6);
  iv = ClopperPearson(0, 31);
  EXPECT_EQ(iv.lo, 0);
  EXPECT_NEAR(iv.hi, 0.1121887, 1e-6);  // 1 - 0.025^(1/31)
}

TEST(ClopperPearson, OneSidedUpperBound) {
  // k = 0: the bound is 1 - alpha^(1/n) exactly (R: binom.test(0, 31, alternative = "less")).
  EXPECT_NEAR(ClopperPearsonUpper(0, 31), 0.0921141, 1e-6);
  EXPECT_NEAR(ClopperPearsonUpper(1, 31), 0.1440904, 1e-6);
  EXPECT_NEAR(ClopperPearsonUpper(2, 69), 0.0884441, 1e-6);
  EXPECT_EQ(ClopperPearsonUpper(5, 5), 1);
  EXPECT_EQ(ClopperPearsonUpper(0, 0), 1);
}

TEST(SafeClaim, RoundsTheUpperBoundUp) {
  EXPECT_EQ(SafeClaim(0, 31), "p < 0.093 at 95%");
  EXPECT_EQ(SafeClaim(2, 69), "p < 0.089 at 95%");
  EXPECT_EQ(SafeClaim(0, 0), "no runs");
  EXPECT_EQ(FormatUpperBound(0.2), "0.20");
  EXPECT_EQ(FormatUpperBound(0.00123), "0.0013");
  EXPECT_EQ(FormatUpperBound(0.995), "1");
  // Rounding up onto a power of ten prints that power, not the digits of the smaller value ("0.00100").
  EXPECT_EQ(FormatUpperBound(0.000995), "0.001");
  EXPECT_EQ(FormatUpperBound(0.0991), "0.1");
  EXPECT_EQ(FormatUpperBound(0.001), "0.001");
}

}  // namespace cg

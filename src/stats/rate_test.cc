#include <gtest/gtest.h>

#include "stats/rate.h"

namespace cg {

TEST(CrashRate, MatchesRPoissonTest) {
  // R: poisson.test(137, 24.19893) -> rate 5.661407, 95 percent CI 4.753125 6.692709 (per unit of time;
  // here the unit is a minute).
  CrashRate r = CrashRateFromExposure(137, 24.19893 * 60);
  EXPECT_NEAR(r.per_minute, 5.661407, 1e-5);
  EXPECT_NEAR(r.per_minute_ci.lo, 4.753125, 1e-5);
  EXPECT_NEAR(r.per_minute_ci.hi, 6.692709, 1e-5);
}

TEST(CrashRate, NoCrashesHasZeroLowerBoundAndRuleOfThreeUpper) {
  // k = 0: upper = -ln(alpha/2) / T = 3.689 / T.
  CrashRate r = CrashRateFromExposure(0, 600);  // 10 minutes
  EXPECT_EQ(r.per_minute, 0);
  EXPECT_EQ(r.per_minute_ci.lo, 0);
  EXPECT_NEAR(r.per_minute_ci.hi, 0.3688879, 1e-6);
}

TEST(CrashRate, CleanTrialsCountAsCensoredExposureAndNeitherTrialsNotAtAll) {
  // Two trials of a 5 s workload: one crashes after 1 s, one runs clean for its 5 s. Exposure is 6 s, not
  // 2 x 5 s and not 1 s: one crash per 6 s = 10 per minute.
  TrialResult crashed;
  crashed.outcome = Outcome::kCrashed;
  crashed.time_to_outcome_s = 1.0;
  TrialResult clean;
  clean.outcome = Outcome::kClean;
  clean.time_to_outcome_s = 5.2;  // includes exit; capped at the duration
  TrialResult never;
  never.outcome = Outcome::kCouldNotStart;
  never.time_to_outcome_s = 0.1;
  // Failed and overran trials are no evidence either way: no exposure, as they add no crash.
  TrialResult failed;
  failed.outcome = Outcome::kFailed;
  failed.time_to_outcome_s = 2;
  failed.workload_seconds = 2;
  TrialResult overran;
  overran.outcome = Outcome::kOverran;
  overran.time_to_outcome_s = 9;
  overran.workload_seconds = 5;
  double exposure = TrialExposureSeconds(crashed, 5) + TrialExposureSeconds(clean, 5) +
                    TrialExposureSeconds(never, 5) + TrialExposureSeconds(failed, 5) +
                    TrialExposureSeconds(overran, 5);
  EXPECT_DOUBLE_EQ(exposure, 6.0);
  EXPECT_DOUBLE_EQ(CrashRateFromExposure(1, exposure).per_minute, 10.0);
  // The workload's own clock wins when it reported one.
  clean.workload_seconds = 4.5;
  EXPECT_DOUBLE_EQ(TrialExposureSeconds(clean, 5), 4.5);
}

}  // namespace cg

#include "stats/poisson_rates.h"

#include <cmath>

#include <gtest/gtest.h>

namespace cg {

// binom.test(3, 15, 1/3) (R; what poisson.test(c(3, 12), c(30, 60)) computes) = 0.412279
TEST(PoissonRates, MatchesTheConditionalBinomialTest) {
  EXPECT_NEAR(PoissonRatesTwoSided(3, 30, 12, 60), 0.4122791, 1e-6);
  // Equal exposure, all events on one side: 2 * 0.5^10.
  EXPECT_NEAR(PoissonRatesTwoSided(0, 1, 10, 1), 2 * std::pow(0.5, 10), 1e-12);
}

TEST(PoissonRates, SameRateOverDifferentExposureIsNoDifference) {
  // 0.5 s trials against 2 s trials at the same crashes per minute: 10 crashes in 5 min, 40 in 20 min.
  EXPECT_GT(PoissonRatesTwoSided(10, 300, 40, 1200), 0.9);
  EXPECT_DOUBLE_EQ(PoissonRatesTwoSided(0, 300, 0, 1200), 1);
  EXPECT_DOUBLE_EQ(PoissonRatesTwoSided(3, 0, 1, 10), 1);
}

}  // namespace cg

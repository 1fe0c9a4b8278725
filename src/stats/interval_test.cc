#include <gtest/gtest.h>

#include "stats/stats.h"

namespace cg {

TEST(Wilson, MatchesPublishedValues) {
  // statsmodels proportion_confint(57, 68, method="wilson") = (0.7321, 0.9074)
  Interval iv = Wilson(57, 68);
  EXPECT_NEAR(iv.lo, 0.73212, 1e-4);
  EXPECT_NEAR(iv.hi, 0.90737, 1e-4);
  // (3, 69): (0.01490, 0.12007)
  iv = Wilson(3, 69);
  EXPECT_NEAR(iv.lo, 0.014897, 1e-4);
  EXPECT_NEAR(iv.hi, 0.120072, 1e-4);
}

TEST(Wilson, EdgesAreClosed) {
  EXPECT_EQ(Wilson(0, 10).lo, 0);
  EXPECT_EQ(Wilson(10, 10).hi, 1);
  EXPECT_EQ(Wilson(0, 0).hi, 1);
}

TEST(ZeroCrashUpperBound, IsAboutThreeOverN) {
  EXPECT_NEAR(ZeroCrashUpperBound(69), 0.04250, 1e-4);
  EXPECT_NEAR(ZeroCrashUpperBound(31), 0.09211, 1e-4);
}

}  // namespace cg

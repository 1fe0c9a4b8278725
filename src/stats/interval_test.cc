#include <gtest/gtest.h>

#include "stats/stats.h"

namespace cg {

TEST(Wilson, MatchesPublishedValues) {
  // Wilson's closed form, (p + z^2/2n -/+ z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n) with z = 1.959964,
  // evaluated separately (the numbers first written here, 0.7321/0.9074, were off in the third digit).
  // R: prop.test(57, 68, correct = FALSE)$conf.int gives the same 0.7331 0.9072.
  Interval iv = Wilson(57, 68);
  EXPECT_NEAR(iv.lo, 0.733100, 1e-5);
  EXPECT_NEAR(iv.hi, 0.907199, 1e-5);
  iv = Wilson(3, 69);
  EXPECT_NEAR(iv.lo, 0.014896, 1e-5);
  EXPECT_NEAR(iv.hi, 0.120212, 1e-5);
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

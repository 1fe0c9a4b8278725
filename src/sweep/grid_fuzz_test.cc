// Regressions fuzz_grid (fuzz/) holds in its corpus: ranges at the ends of a long long. The old code computed
// b - a and the last v += step in signed arithmetic: undefined behaviour, in practice a loop that never ended.
#include <gtest/gtest.h>

#include "sweep/grid.h"

namespace cg {
namespace {

TEST(GridSpec, RangeEndingAtTheLargestIntegerEnds) {  // fuzz/corpus/fuzz_grid/overflow_end
  GridAxis axis;
  std::string err;
  ASSERT_TRUE(ParseGridAxis("x=9223372036854775807..9223372036854775807", &axis, &err)) << err;
  EXPECT_EQ(axis.values, std::vector<std::string>{"9223372036854775807"});
}

TEST(GridSpec, RangeWhoseLastStepPassesTheLargestIntegerEnds) {  // fuzz/corpus/fuzz_grid/overflow_step
  GridAxis axis;
  std::string err;
  ASSERT_TRUE(ParseGridAxis("x=9223372036854775800..9223372036854775807:5", &axis, &err)) << err;
  EXPECT_EQ(axis.values, (std::vector<std::string>{"9223372036854775800", "9223372036854775805"}));
}

TEST(GridSpec, RangeOverTheWholeIntegerLineIsTooLong) {  // fuzz/corpus/fuzz_grid/overflow_span
  GridAxis axis;
  std::string err;
  EXPECT_FALSE(ParseGridAxis("x=-9223372036854775808..9223372036854775807", &axis, &err));
  EXPECT_NE(err.find("more than 10000 values"), std::string::npos) << err;
  ASSERT_TRUE(ParseGridAxis("x=-9223372036854775808..9223372036854775807:9223372036854775807", &axis, &err)) << err;
  EXPECT_EQ(axis.values,
            (std::vector<std::string>{"-9223372036854775808", "-1", "9223372036854775806"}));
}

}  // namespace
}  // namespace cg

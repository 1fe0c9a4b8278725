#include "report/number_format.h"

#include <gtest/gtest.h>

#include "report/compare.h"
#include "report/table.h"

namespace cg {

TEST(NumberFormat, NeverRoundsAnAlmostCertainCrashTo100Percent) {
  EXPECT_EQ(FormatPercent(199.0 / 200), "99.5%");
  EXPECT_EQ(FormatPercent(1999.0 / 2000), "99.95%");
  EXPECT_EQ(FormatPercent(1.0), "100%");
  EXPECT_EQ(FormatPercent(0.15), "15%");
  EXPECT_EQ(FormatPercent(0.008), "0.8%");
  EXPECT_EQ(FormatPercent(0.04), "4%");
  EXPECT_EQ(PercentCellText(199, 200), "199/200 99.5% [97-99.92]");
}

TEST(NumberFormat, ShowsASmallLowerBoundInsteadOfZero) {
  // Wilson 95% for 1/200 is [0.0883%, 2.777%]: "[0-2.8]" said the interval reaches 0.
  EXPECT_EQ(PercentCellText(1, 200), "1/200 0.5% [0.088-2.8]");
  EXPECT_EQ(IntervalText({0.0000883, 0.02777}), "[0.0088-2.8]");
  EXPECT_EQ(IntervalText({0, 0.5}), "[0-50]");
  EXPECT_EQ(PercentText(0.0009, Rounding::kDown), "0.09");
  EXPECT_EQ(PercentText(0.0996, Rounding::kUp), "10");  // rounding up to 10 gives whole percent
}

TEST(NumberFormat, BoundsAreRoundedOutwards) {
  EXPECT_EQ(PercentText(0.04219, Rounding::kDown), "4.2");
  EXPECT_EQ(PercentText(0.04211, Rounding::kUp), "4.3");
  EXPECT_EQ(PercentText(0.042, Rounding::kUp), "4.2");  // exact at its precision: not moved by a float ulp
}

TEST(NumberFormat, ComparisonWithoutSharedAxesNamesItsOneCell) {
  CompareResult r;
  r.label_a = "run 1";
  r.label_b = "run 2";
  CellComparison c;
  c.key = "";
  c.ka = 3, c.na = 10, c.kb = 0, c.nb = 10;
  c.p_value = 0.2, c.p_adjusted = 0.2;
  c.test = "boschloo";
  r.cells.push_back(c);
  std::string text = RenderCompareText(r);
  EXPECT_NE(text.find("\n(all)  "), std::string::npos) << text;
  EXPECT_EQ(DisplayCellKey("threads=4"), "threads=4");
  EXPECT_EQ(PValueText(0.00001), "<0.0001");
  EXPECT_EQ(PValueText(0.0254729), "0.0255");
}

}  // namespace cg

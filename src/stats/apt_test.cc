#include <gtest/gtest.h>

#include "stats/apt.h"

namespace cg {

TEST(Apt, PicksTheCellClosestToTheThresholdAmongEquallySampled) {
  AptParams p;  // theta 0.055
  std::vector<AptArm> arms = {{0, 10}, {5, 10}, {1, 10}, {9, 10}};
  // |p - theta|: 0.055, 0.445, 0.045, 0.845 -> arm 2, then arm 0.
  std::vector<size_t> pick = AptSelect(arms, p, 2);
  ASSERT_EQ(pick.size(), 2u);
  EXPECT_EQ(pick[0], 2u);
  EXPECT_EQ(pick[1], 0u);
}

TEST(Apt, PrefersFewerRunsAtTheSameDistance) {
  AptParams p;
  p.theta = 0.5;
  std::vector<AptArm> arms = {{20, 40}, {5, 10}};
  EXPECT_EQ(AptSelect(arms, p)[0], 1u);
  EXPECT_LT(AptIndex(arms[1], p), AptIndex(arms[0], p));
}

TEST(Apt, SettledCellsAreNotPicked) {
  AptParams p;
  // 0/100 has a Wilson width of 0.037 < 0.2: settled even though it is close to theta in index terms.
  std::vector<AptArm> arms = {{0, 100}, {30, 60}};
  EXPECT_TRUE(AptSettled(arms[0], p));
  std::vector<size_t> pick = AptSelect(arms, p, 5);
  ASSERT_EQ(pick.size(), 1u);
  EXPECT_EQ(pick[0], 1u);
  EXPECT_TRUE(AptSelect({{0, 100}}, p, 3).empty());
}

TEST(Apt, UnrunCellsComeFirst) {
  AptParams p;
  std::vector<AptArm> arms = {{1, 18}, {0, 0}};
  EXPECT_EQ(AptSelect(arms, p)[0], 1u);
}

}  // namespace cg

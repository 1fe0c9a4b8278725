#include "sweep/grid.h"

#include <gtest/gtest.h>

namespace cg {

static std::vector<std::string> Values(const std::string& spec) {
  GridAxis axis;
  std::string err;
  EXPECT_TRUE(ParseGridAxis(spec, &axis, &err)) << err;
  return axis.values;
}

static std::string Error(const std::string& spec) {
  GridAxis axis;
  std::string err;
  EXPECT_FALSE(ParseGridAxis(spec, &axis, &err)) << spec;
  return err;
}

TEST(GridSpec, Ranges) {
  EXPECT_EQ(Values("threads=1..4"), (std::vector<std::string>{"1", "2", "3", "4"}));
  EXPECT_EQ(Values("threads=1..12:4"), (std::vector<std::string>{"1", "5", "9"}));
  EXPECT_EQ(Values("x=3..3"), (std::vector<std::string>{"3"}));
}

TEST(GridSpec, ListsAndWords) {
  EXPECT_EQ(Values("threads=1,2,4,8"), (std::vector<std::string>{"1", "2", "4", "8"}));
  EXPECT_EQ(Values("serialize=none,all,open+close"),
            (std::vector<std::string>{"none", "all", "open+close"}));
  GridAxis axis;
  std::string err;
  ASSERT_TRUE(ParseGridAxis("ENCODERS_PER_PIPELINE=1..2", &axis, &err));
  EXPECT_EQ(axis.name, "ENCODERS_PER_PIPELINE");
}

TEST(GridSpec, ErrorsSayWhatIsWrongAndShowTheForms) {
  EXPECT_NE(Error("threads").find("no '='"), std::string::npos);
  EXPECT_NE(Error("threads").find("NAME=1..12"), std::string::npos);
  EXPECT_NE(Error("threads=").find("no values"), std::string::npos);
  EXPECT_NE(Error("threads=4..1").find("empty"), std::string::npos);
  EXPECT_NE(Error("threads=1..x").find("integers"), std::string::npos);
  EXPECT_NE(Error("threads=1..4:0").find("step"), std::string::npos);
  EXPECT_NE(Error("threads=1,,2").find("empty value"), std::string::npos);
  EXPECT_NE(Error("threads=1,1").find("twice"), std::string::npos);
  EXPECT_NE(Error("thr eads=1").find("bad name"), std::string::npos);
}

TEST(ExpandGrid, FirstAxisVariesSlowest) {
  std::vector<GridAxis> axes = {{"a", {"1", "2"}}, {"b", {"x", "y", "z"}}};
  auto cells = ExpandGrid(axes);
  ASSERT_EQ(cells.size(), 6u);
  EXPECT_EQ(CellKey(cells[0]), "a=1,b=x");
  EXPECT_EQ(CellKey(cells[1]), "a=1,b=y");
  EXPECT_EQ(CellKey(cells[5]), "a=2,b=z");
  EXPECT_EQ(ExpandGrid({}).size(), 1u);
}

}  // namespace cg

#include "util/strings.h"

#include <gtest/gtest.h>

namespace cg {

TEST(Duration, ParsesUnits) {
  double s = 0;
  std::string err;
  ASSERT_TRUE(ParseDuration("250ms", &s, &err));
  EXPECT_DOUBLE_EQ(s, 0.25);
  ASSERT_TRUE(ParseDuration("5s", &s, &err));
  EXPECT_DOUBLE_EQ(s, 5);
  ASSERT_TRUE(ParseDuration("2m", &s, &err));
  EXPECT_DOUBLE_EQ(s, 120);
  ASSERT_TRUE(ParseDuration("3", &s, &err));
  EXPECT_DOUBLE_EQ(s, 3);
}

TEST(Duration, RejectsJunkWithAHint) {
  double s = 0;
  std::string err;
  EXPECT_FALSE(ParseDuration("5 parsecs", &s, &err));
  EXPECT_NE(err.find("unknown unit"), std::string::npos);
  EXPECT_FALSE(ParseDuration("fast", &s, &err));
  EXPECT_NE(err.find("500ms"), std::string::npos);
}

TEST(Duration, Formats) {
  EXPECT_EQ(FormatDuration(0.25), "250ms");
  EXPECT_EQ(FormatDuration(5), "5s");
  EXPECT_EQ(FormatDuration(150), "2m30s");
  EXPECT_EQ(FormatDuration(3720), "1h02m");
}

TEST(Suggest, FindsTyposAndPrefixes) {
  std::vector<std::string> names = {"gst", "reference-race", "eglstream", "cuda"};
  EXPECT_EQ(NearestName("referense-race", names), "reference-race");
  EXPECT_EQ(NearestName("ref", names), "reference-race");
  EXPECT_EQ(NearestName("egl-stream", names), "eglstream");
  EXPECT_EQ(NearestName("completely-different", names), "");
}

TEST(TailBuffer, KeepsTheLastBytes) {
  TailBuffer t(5);
  t.Append("abc");
  EXPECT_FALSE(t.truncated());
  t.Append("defg");
  EXPECT_EQ(t.str(), "cdefg");
  EXPECT_TRUE(t.truncated());
  t.Append("0123456789");
  EXPECT_EQ(t.str(), "56789");
}

TEST(ParseInt, RejectsJunk) {
  long long v;
  EXPECT_TRUE(ParseInt("42", &v));
  EXPECT_EQ(v, 42);
  EXPECT_FALSE(ParseInt("4x", &v));
  EXPECT_FALSE(ParseInt("", &v));
  EXPECT_FALSE(ParseInt(" 4", &v));
}

}  // namespace cg

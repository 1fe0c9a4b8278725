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

TEST(TerminalText, MakesEveryControlCharacterVisible) {
  // A window title (OSC 0), a screen clear (CSI 2 J), an OSC 52 clipboard write, BEL, NUL, DEL.
  std::string hostile = std::string("\x1b]0;title\x07\x1b[2J\x1b]52;c;aGk=\x07" "a\0b\x7f", 30);
  EXPECT_EQ(TerminalText(hostile), "\\x1b]0;title\\x07\\x1b[2J\\x1b]52;c;aGk=\\x07a\\x00b\\x7f");
  EXPECT_EQ(TerminalText("cr\rover"), "cr\\x0dover");
}

TEST(TerminalText, KeepsLinesAndTabsButTerminalLineDoesNot) {
  EXPECT_EQ(TerminalText("a\tb\nc\n"), "a\tb\nc\n");
  EXPECT_EQ(TerminalLine("a\tb\nc"), "a\\x09b\\x0ac");
}

TEST(TerminalText, EscapesEachByteOfInvalidUtf8) {
  EXPECT_EQ(TerminalText("\xff\xfe"), "\\xff\\xfe");
  EXPECT_EQ(TerminalText("\xE2\x82"), "\\xe2\\x82");         // truncated
  EXPECT_EQ(TerminalText("\xC0\xAF"), "\\xc0\\xaf");         // overlong '/'
  EXPECT_EQ(TerminalText("\xED\xA0\x80"), "\\xed\\xa0\\x80");  // a surrogate
  // Valid text in every length passes unchanged.
  EXPECT_EQ(TerminalText("H\xC3\xA9llo \xE2\x82\xAC \xF0\x9F\x98\x80"), "H\xC3\xA9llo \xE2\x82\xAC \xF0\x9F\x98\x80");
}

TEST(TerminalText, EscapesC1ControlsAndBidiOverrides) {
  EXPECT_EQ(TerminalText("\xC2\x9B" "2J"), "\\u009b2J");      // U+009B, the 8-bit CSI
  EXPECT_EQ(TerminalText("a\xE2\x80\xAE" "b"), "a\\u202eb");  // RIGHT-TO-LEFT OVERRIDE
  EXPECT_EQ(TerminalText("\xE2\x81\xA6"), "\\u2066");        // LEFT-TO-RIGHT ISOLATE
}

TEST(TerminalText, IsIdempotentAndLeavesBackslashes) {
  std::string once = TerminalText(std::string("\x1b\0\xff\\x1b", 7));
  EXPECT_EQ(once, "\\x1b\\x00\\xff\\x1b");
  EXPECT_EQ(TerminalText(once), once);
  EXPECT_EQ(TerminalLine(once), once);
}

}  // namespace cg

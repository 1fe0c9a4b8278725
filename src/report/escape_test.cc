#include "report/escape.h"

#include <gtest/gtest.h>

namespace cg {
namespace {

TEST(Escape, HtmlEscapesMarkupAndQuotes) {
  EXPECT_EQ(HtmlEscape("<script>a & \"b\" 'c'</script>"),
            "&lt;script&gt;a &amp; &quot;b&quot; &#39;c&#39;&lt;/script&gt;");
}

TEST(Escape, InvalidUtf8BecomesReplacementCharacter) {
  EXPECT_EQ(SanitizeText("a\xff" "b"), "a\xEF\xBF\xBD" "b");
  // A truncated sequence and an overlong '/' (a classic filter bypass) are both invalid.
  EXPECT_EQ(SanitizeText("\xE2\x82"), "\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(SanitizeText("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");
  // Valid multi-byte text passes unchanged.
  EXPECT_EQ(SanitizeText("H\xC3\xA9llo \xE2\x82\xAC \xF0\x9F\x98\x80"), "H\xC3\xA9llo \xE2\x82\xAC \xF0\x9F\x98\x80");
}

TEST(Escape, ControlCharactersBecomeVisibleSymbols) {
  // ESC -> U+241B, NUL -> U+2400; tab and newline stay.
  EXPECT_EQ(SanitizeText(std::string("\x1b[0m\t\n\0", 7)), "\xE2\x90\x9B[0m\t\n\xE2\x90\x80");
}

TEST(Escape, CsvQuotesOnlyWhenNeeded) {
  EXPECT_EQ(CsvField("plain"), "plain");
  EXPECT_EQ(CsvField("a,b"), "\"a,b\"");
  EXPECT_EQ(CsvField("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(CsvField("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(CsvField(" padded"), "\" padded\"");
  EXPECT_EQ(CsvField(""), "");
}

TEST(Escape, CsvGuardsFormulasAsOwaspRecommends) {
  // A spreadsheet evaluates a cell starting with = + - @ (or tab/CR): a single quote makes it text.
  EXPECT_EQ(CsvField("=cmd|' /C calc'!A0"), "\"'=cmd|' /C calc'!A0\"");
  EXPECT_EQ(CsvField("+1+2"), "\"'+1+2\"");
  EXPECT_EQ(CsvField("-2+3"), "\"'-2+3\"");
  EXPECT_EQ(CsvField("@SUM(A1)"), "\"'@SUM(A1)\"");
  EXPECT_EQ(CsvField("\tx"), "\"'\tx\"");
  EXPECT_EQ(CsvField("\rx"), "\"'\rx\"");
  EXPECT_EQ(CsvField("=HYPERLINK(\"http://x\")"), "\"'=HYPERLINK(\"\"http://x\"\")\"");
  EXPECT_EQ(CsvField("-inf"), "\"'-inf\"");
  // Numbers stay numbers: crashgrid's own (an exit code of -1) and a grid's negative values.
  EXPECT_EQ(CsvField("-1"), "-1");
  EXPECT_EQ(CsvField("-0.25"), "-0.25");
  EXPECT_EQ(CsvField("+3"), "+3");
  EXPECT_EQ(CsvField("-"), "\"'-\"");
  // Not at the start: nothing to evaluate.
  EXPECT_EQ(CsvField("a=b"), "a=b");
  EXPECT_TRUE(CsvFormulaStart("=1"));
  EXPECT_FALSE(CsvFormulaStart("1e3"));
  EXPECT_FALSE(CsvFormulaStart(""));
}

TEST(Escape, ShellQuoteLeavesSafeWordsAndQuotesTheRest) {
  EXPECT_EQ(ShellQuote("threads=4,sessions=4"), "threads=4,sessions=4");
  EXPECT_EQ(ShellQuote("a b"), "'a b'");
  EXPECT_EQ(ShellQuote("it's"), "'it'\\''s'");
  EXPECT_EQ(ShellQuote("$(rm -rf /)"), "'$(rm -rf /)'");
  EXPECT_EQ(ShellQuote(""), "''");
}

}  // namespace
}  // namespace cg

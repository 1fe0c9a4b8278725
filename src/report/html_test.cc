#include "report/html.h"

#include <gtest/gtest.h>

#include "../../tests/browser/report_fixture.h"
#include "report/golden_test_util.h"

namespace cg {
namespace {

size_t Count(const std::string& s, const std::string& needle) {
  size_t n = 0;
  for (size_t pos = s.find(needle); pos != std::string::npos; pos = s.find(needle, pos + 1)) ++n;
  return n;
}

TEST(HtmlReport, ComparisonReportMatchesGolden) {
  testing::ExpectGolden("report_compare.html", RenderHtmlReport(testing::Reports(testing::ComparisonFixture()), {"ref.db"}));
}

TEST(HtmlReport, MitigationReportMatchesGolden) {
  testing::ExpectGolden("report_mitigation.html", RenderHtmlReport(testing::Reports(testing::MitigationFixture()), {"mit.db"}));
}

TEST(HtmlReport, HostileCapturedTextNeverBecomesMarkup) {
  std::string html = RenderHtmlReport(testing::Reports(testing::ComparisonFixture()), {"<db>"});
  // The page's own markup has no script element and forbids scripts; captured markup appears only escaped.
  EXPECT_EQ(Count(html, "<script"), 0u);
  EXPECT_EQ(Count(html, "<img"), 0u);
  EXPECT_EQ(Count(html, "<b>injected"), 0u);
  EXPECT_EQ(Count(html, "<i>H100"), 0u);
  EXPECT_NE(html.find("&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(html.find("&lt;img src=x onerror=&quot;document.title=&#39;pwned2&#39;&quot;&gt;"), std::string::npos);
  EXPECT_NE(html.find("&lt;/td&gt;&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);  // environment
  EXPECT_NE(html.find("--db &#39;ref&lt;1&gt;.db&#39;"), std::string::npos);  // command line
  EXPECT_NE(html.find("content=\"default-src 'none'; style-src 'unsafe-inline'"), std::string::npos);
  EXPECT_EQ(html.find('\x1b'), std::string::npos);
  EXPECT_EQ(html.find("\xff"), std::string::npos);
}

TEST(HtmlReport, HasOneHeatmapCellPerGridCellPerMap) {
  auto runs = testing::ComparisonFixture();
  std::string html = RenderHtmlReport(testing::Reports(runs), {});
  // Per run: crash map + throughput map + one map per signature, 6 cells each. Run 1 has all three signatures
  // (a 4/4 cell reaches the hanging fourth repetition); run 2's cells have (3i % 5) crashes: 0,3,1,4,2,0.
  size_t run1_sigs = 3, run2_sigs = 3;
  EXPECT_EQ(Count(html, "class=\"hm-cell"), 6 * (2 + run1_sigs) + 6 * (2 + run2_sigs));
}

TEST(HtmlReport, ShowsCellCountsVerdictsAndWilsonOnHover) {
  std::string html = RenderHtmlReport({testing::ComparisonFixture()[0].report()}, {});
  EXPECT_NE(html.find("title=\"threads=4,sessions=1: 4/4 crashed or hung (100%), Wilson 95% [51%, 100%], SPRT "
                      "CRASHES\""),
            std::string::npos);
  EXPECT_NE(html.find("<span class=\"k\">4/4</span><span class=\"v\">CRASHES</span>"), std::string::npos);
}

TEST(HtmlReport, ReferenceTargetShowsBanner) {
  auto runs = testing::ComparisonFixture();
  EXPECT_NE(RenderHtmlReport({runs[0].report()}, {}).find("class=\"banner\""), std::string::npos);
  runs[0].run.reference_target = false;
  EXPECT_EQ(RenderHtmlReport({runs[0].report()}, {}).find("class=\"banner\""), std::string::npos);
}

TEST(HtmlReport, SignaturesAreListedByCountWithFoldedRepresentativeReport) {
  auto runs = testing::ComparisonFixture();
  std::string html = RenderHtmlReport({runs[0].report()}, {});
  // Run 1: cells have 2,0,3,1,4,2 crashes; repetitions 0-1 SIGSEGV, 2 SIGABRT, 3 hang.
  size_t segv = html.find("<tr class=\"sigrow\"><td>9</td><td class=\"sig\">SIGSEGV/SEGV_MAPERR null");
  size_t abrt = html.find("<tr class=\"sigrow\"><td>2</td><td class=\"sig\">SIGABRT");
  size_t hang = html.find("<tr class=\"sigrow\"><td>1</td><td class=\"sig\">hang");
  ASSERT_NE(segv, std::string::npos);
  ASSERT_NE(abrt, std::string::npos);
  ASSERT_NE(hang, std::string::npos);
  EXPECT_LT(segv, abrt);
  EXPECT_LT(abrt, hang);
  EXPECT_NE(html.find("<details><summary>Representative report"), std::string::npos);
  EXPECT_EQ(html.find("<details open"), std::string::npos);
  // The all-threads report as `crashgrid show` prints it (crashes.h), escaped.
  EXPECT_NE(html.find("#0  0x00007f0000001234 in refrace_step+0x10"), std::string::npos);
  EXPECT_NE(html.find("&lt;b&gt;injected&lt;/b&gt;+0x10"), std::string::npos);
}

TEST(HtmlReport, ComparisonOnlyWithTwoRuns) {
  auto runs = testing::ComparisonFixture();
  std::string two = RenderHtmlReport(testing::Reports(runs), {});
  EXPECT_NE(two.find("id=\"compare\""), std::string::npos);
  EXPECT_NE(two.find("NVIDIA driver: run 1 <code>550.120</code>, run 2 <code>535.183 &lt;old&gt;</code>"),
            std::string::npos);
  // Every shared cell is a row: 6 cells.
  size_t rows = 0;
  for (size_t pos = two.find("<tr><td><code>threads="); pos != std::string::npos;
       pos = two.find("<tr><td><code>threads=", pos + 1)) {
    ++rows;
  }
  EXPECT_EQ(rows, 6u);
  EXPECT_EQ(RenderHtmlReport({runs[0].report()}, {}).find("id=\"compare\""), std::string::npos);
}

TEST(HtmlReport, MitigationTableRecommendsTheSettingThatNeverCrashed) {
  std::string html = RenderHtmlReport(testing::Reports(testing::MitigationFixture()), {});
  EXPECT_NE(html.find("<p class=\"good\">Recommendation: serialize=open+close"), std::string::npos) << html;
  EXPECT_NE(html.find("<tr class=\"good\"><td><code>open+close</code></td>"), std::string::npos);
  EXPECT_NE(html.find("<tr><td><code>none</code></td><td>some CRASHES</td>"), std::string::npos);
  auto no_serialize = testing::ComparisonFixture();
  EXPECT_EQ(RenderHtmlReport({no_serialize[0].report()}, {}).find("Mitigations"), std::string::npos);
}

}  // namespace
}  // namespace cg

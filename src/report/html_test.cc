#include "report/html.h"

#include <gtest/gtest.h>

#include "../../tests/browser/report_fixture.h"
#include "report/golden_test_util.h"
#include "util/test_util.h"

namespace cg {
namespace {

using test_util::Count;


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
  EXPECT_NE(html.find("<span class=\"k\">4/4</span><span class=\"r\">100% [51-100%]</span><span class=\"v\">CRASHES"
                      "</span>"),
            std::string::npos);
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
  // (the rows of the comparison table only: the answer at the top lists the cells too)
  size_t compare = two.find("id=\"compare\""), end = two.find("</table>", compare);
  for (size_t pos = two.find("<tr><td><code>threads=", compare); pos < end; pos = two.find("<tr><td><code>threads=", pos + 1))
    ++rows;
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


size_t At(const std::string& html, const std::string& needle) {
  size_t pos = html.find(needle);
  EXPECT_NE(pos, std::string::npos) << needle;
  return pos;
}

// The page opens with the answer, in the order people ask: where, what, which fix, what differs; the detail
// tables (run summary, heatmaps, comparison, signatures) come after all of it.
TEST(HtmlReport, OpensWithTheAnswerBeforeTheDetails) {
  auto runs = testing::ComparisonFixture();
  runs.push_back(testing::MitigationFixture()[0]);
  std::string html = RenderHtmlReport(testing::Reports(runs), {});
  size_t where = At(html, "<h2 id=\"where\">Where it crashes</h2>");
  size_t what = At(html, "<h2 id=\"what\">What crashed</h2>");
  size_t fix = At(html, "<h2 id=\"fix\">Which fix</h2>");
  size_t differs = At(html, "<h2 id=\"differs\">What differs between runs</h2>");
  size_t details = At(html, "<h2 id=\"details\">Details</h2>");
  EXPECT_LT(At(html, "<h1>"), where);
  EXPECT_LT(where, what);
  EXPECT_LT(what, fix);
  EXPECT_LT(fix, differs);
  EXPECT_LT(differs, details);
  for (const char* detail : {"<table class=\"summary\">", "<table class=\"hm\">", "<table class=\"sigs\">",
                             "<table class=\"mitigations\">", "<table class=\"env\">", "<pre class=\"cmd\">"}) {
    EXPECT_LT(details, At(html, detail)) << detail;
  }
  // Two runs: the comparison is a detail too.
  std::string two = RenderHtmlReport(testing::Reports(testing::ComparisonFixture()), {});
  EXPECT_LT(At(two, "id=\"differs\""), At(two, "id=\"compare\""));
  // No policy axis: which fix says how to find one.
  EXPECT_NE(two.find("No run here has a mitigation axis", At(two, "id=\"fix\"")), std::string::npos);
  // One run: nothing to compare it with.
  std::string one = RenderHtmlReport({testing::MitigationFixture()[0].report()}, {});
  EXPECT_EQ(one.find("id=\"differs\""), std::string::npos);
  EXPECT_LT(At(one, "id=\"fix\""), At(one, "id=\"details\""));
}

// Where it crashes: every cell with verdict, k/n, rate and interval, CRASHES first and the highest rate first.
TEST(HtmlReport, WhereItCrashesListsCellsWithVerdictCountsRateAndInterval) {
  std::string html = RenderHtmlReport({testing::ComparisonFixture()[0].report()}, {});
  size_t where = At(html, "id=\"where\"");
  size_t table = html.find("<table class=\"where\">", where);
  ASSERT_NE(table, std::string::npos);
  EXPECT_NE(html.find("<p>6 cells: <b>4</b> CRASHES, <b>2</b> UNDECIDED.</p>", where), std::string::npos);
  // Run 1's cells have 2, 0, 3, 1, 4, 2 crashes of 4: 4/4, 3/4, 2/4, 2/4 CRASHES, then 1/4, 0/4.
  size_t first = html.find("<tr><td><code>threads=4,sessions=1</code></td><td class=\"bad\">CRASHES</td><td>4/4</td>"
                           "<td>100% [51-100%]</td></tr>",
                           table);
  size_t second = html.find("<tr><td><code>threads=2,sessions=1</code></td><td class=\"bad\">CRASHES</td><td>3/4</td>"
                            "<td>75% [30-96%]</td></tr>",
                            table);
  size_t undecided = html.find("<tr><td><code>threads=2,sessions=4</code></td><td>UNDECIDED</td><td>1/4</td>"
                               "<td>25% [4.5-70%]</td></tr>",
                               table);
  size_t clean = html.find("<tr><td><code>threads=1,sessions=4</code></td><td>UNDECIDED</td><td>0/4</td>"
                           "<td>0% [0-49%]</td></tr>",
                           table);
  ASSERT_NE(first, std::string::npos) << html.substr(table, 1200);
  ASSERT_NE(second, std::string::npos);
  ASSERT_NE(undecided, std::string::npos);
  ASSERT_NE(clean, std::string::npos);
  EXPECT_LT(first, second);
  EXPECT_LT(second, undecided);
  EXPECT_LT(undecided, clean);
  EXPECT_LT(clean, html.find("</table>", table));
}

// Every heatmap cell with evidence prints its rate and interval, not only its hover title.
TEST(HtmlReport, PrintsRateAndIntervalInEveryHeatmapCell) {
  auto runs = testing::ComparisonFixture();
  std::string html = RenderHtmlReport(testing::Reports(runs), {});
  // Crash and signature maps carry a rate (6 cells x 4 maps per run); throughput maps do not.
  EXPECT_EQ(Count(html, "<span class=\"r\">"), 2u * 6u * (1u + 3u));
  EXPECT_NE(html.find("<span class=\"k\">1/4</span><span class=\"r\">25% [4.5-70%]</span>"), std::string::npos);
  EXPECT_NE(html.find("its Wilson 95% interval; and the SPRT verdict (p0 = 0.01, p1 = 0.1, alpha = 0.05, "
                      "beta = 0.05)"),
            std::string::npos);
}

// A run whose cell values, signature, API entry and phase are all hostile: every one is escaped in the answer.
ReportRun HostileRun() {
  RunRecord run = testing::MakeRun(9, "570.1", false, {{"mode", {"<script>alert(1)</script>", "a&b"}}});
  run.labels = {{"<b>label</b>", "<i>value</i>"}};
  std::vector<StoredTrial> trials;
  for (int rep = 0; rep < 3; ++rep) {
    StoredTrial t;
    t.id = 900 + rep;
    t.run_id = 9;
    t.cell = {{"mode", rep == 0 ? "a&b" : "<script>alert(1)</script>"}};
    t.cell_key = CellKey(t.cell);
    t.repetition = rep;
    t.result.outcome = Outcome::kCrashed;
    t.result.signal = 11;
    t.result.signature = "SIGSEGV/SEGV_MAPERR null | <img src=x onerror=alert(2)> via <b>nvEnc</b>";
    t.result.report = testing::MakeCrashReport(11, "<img src=x onerror=alert(2)>");
    t.result.report->threads[0].api = "<b>nvEncEncodePicture</b>";
    t.result.report->threads[0].phase = "<u>encode</u>";
    trials.push_back(t);
  }
  return MakeReportRun(run, trials);
}

TEST(HtmlReport, TheAnswerEscapesHostileCellValuesSignaturesAndLabels) {
  auto runs = testing::Reports(testing::ComparisonFixture());
  runs.push_back(HostileRun());
  std::string html = RenderHtmlReport(runs, {});
  std::string answer = html.substr(0, html.find("id=\"details\""));
  EXPECT_EQ(Count(answer, "<script"), 0u);
  EXPECT_EQ(Count(answer, "<img"), 0u);
  EXPECT_EQ(Count(answer, "<b>nvEnc"), 0u);
  EXPECT_EQ(Count(answer, "<b>label"), 0u);
  EXPECT_EQ(Count(answer, "<i>value"), 0u);
  EXPECT_EQ(Count(answer, "<u>encode"), 0u);
  EXPECT_NE(answer.find("<code>mode=&lt;script&gt;alert(1)&lt;/script&gt;</code>"), std::string::npos);
  EXPECT_NE(answer.find("<code>mode=a&amp;b</code>"), std::string::npos);
  // What crashed: the API entry and the phase of the faulting thread of the representative trial.
  EXPECT_NE(answer.find("<td>3 (100%)</td><td class=\"sig\">SIGSEGV/SEGV_MAPERR null | &lt;img src=x "
                        "onerror=alert(2)&gt; via &lt;b&gt;nvEnc&lt;/b&gt;</td><td><code>&lt;b&gt;nvEncEncodePicture"
                        "&lt;/b&gt;</code></td><td>&lt;u&gt;encode&lt;/u&gt;</td>"),
            std::string::npos)
      << answer;
  EXPECT_NE(answer.find("<th>label &lt;b&gt;label&lt;/b&gt;</th>"), std::string::npos) << answer;
  EXPECT_NE(answer.find("<td>&lt;i&gt;value&lt;/i&gt;</td>"), std::string::npos);
}

// What crashed names the API entry from the signature's "via" part when no report of it was loaded, and the
// phase of the thread the report is about.
TEST(HtmlReport, WhatCrashedGivesApiEntryAndPhaseOfEachSignature) {
  ReportRun rr = HostileRun();
  rr.shown.clear();  // no representative loaded: the API entry comes from the signature
  std::string html = RenderHtmlReport({rr}, {});
  EXPECT_NE(html.find("<td><code>&lt;b&gt;nvEnc&lt;/b&gt;</code></td><td>-</td>"), std::string::npos) << html;
  std::string fixture = RenderHtmlReport({testing::ComparisonFixture()[0].report()}, {});
  // Run 1: 9 SIGSEGV, 2 SIGABRT, 1 hang; the crashes in phase "open" (the fixture's faulting thread).
  EXPECT_NE(fixture.find("<p>12 crashed or hung trials under 3 signatures.</p>"), std::string::npos);
  EXPECT_NE(fixture.find("<tr><td>9 (75%)</td><td class=\"sig\">SIGSEGV/SEGV_MAPERR null | librefrace.so@0x1234 | "
                         "refrace_step | worker_main</td><td>-</td><td>open</td><td><code>threads=1,sessions=1</code> "
                         "(2), <code>threads=2,sessions=1</code> (2), <code>threads=4,sessions=1</code> (2), and 2 more"
                         "</td></tr>"),
            std::string::npos)
      << fixture;
}

// Which fix: the mitigation study's recommendation with its cost, for a `serialize` or a `policy` axis.
TEST(HtmlReport, WhichFixGivesTheRecommendationWithItsCost) {
  auto mit = testing::MitigationFixture();
  std::string html = RenderHtmlReport(testing::Reports(mit), {});
  size_t fix = At(html, "id=\"fix\"");
  size_t rec = html.find("<p class=\"good\">Recommendation: serialize=open+close: every cell SAFE, cost ", fix);
  ASSERT_NE(rec, std::string::npos) << html.substr(fix, 800);
  EXPECT_LT(rec, At(html, "id=\"details\""));
  // The same study under a `policy` axis.
  for (auto& axis : mit[0].run.grid) {
    if (axis.name == "serialize") axis.name = "policy";
  }
  for (auto& t : mit[0].trials) {
    for (auto& [k, v] : t.cell) {
      if (k == "serialize") k = "policy";
    }
    t.cell_key = CellKey(t.cell);
  }
  std::string policy = RenderHtmlReport(testing::Reports(mit), {});
  EXPECT_NE(policy.find("<p class=\"good\">Recommendation: policy=open+close: every cell SAFE, cost "), std::string::npos);
  EXPECT_NE(policy.find("<h3>Mitigations (<code>policy</code> axis)</h3>"), std::string::npos);
}

// What differs: driver, GPUs and host always, and the labels and fingerprint fields that differ, highlighted.
TEST(HtmlReport, WhatDiffersShowsDriverLabelsAndDifferingFingerprintFields) {
  auto runs = testing::ComparisonFixture();
  runs[0].run.labels = {{"driver", "550"}, {"rack", "r1"}};
  runs[1].run.labels = {{"driver", "535"}, {"rack", "r1"}};
  runs[1].run.environment["kernel"] = "6.1.0-18";
  // A fingerprint as CollectEnvironment writes it: nvidia.driver_version and GPUs as objects.
  runs[1].run.environment["nvidia"] = {{"driver_version", "535.183"},
                                       {"gpus", {{{"name", "NVIDIA L4"}, {"uuid", "GPU-1"}}}}};
  std::string html = RenderHtmlReport(testing::Reports(runs), {});
  size_t differs = At(html, "id=\"differs\"");
  std::string table = html.substr(differs, html.find("</table>", differs) - differs);
  EXPECT_NE(table.find("<tr class=\"differs\"><th>NVIDIA driver</th><td>550.120</td><td>535.183</td></tr>"),
            std::string::npos)
      << table;
  EXPECT_NE(table.find("<tr class=\"differs\"><th>GPUs</th><td>NVIDIA &lt;i&gt;H100&lt;/i&gt;</td><td>NVIDIA L4</td>"),
            std::string::npos);
  EXPECT_NE(table.find("<tr><th>host</th><td>testbox</td><td>testbox</td></tr>"), std::string::npos);
  EXPECT_NE(table.find("<tr class=\"differs\"><th>label driver</th><td>550</td><td>535</td></tr>"), std::string::npos);
  EXPECT_NE(table.find("<tr class=\"differs\"><th>kernel</th><td>6.1.0</td><td>6.1.0-18</td></tr>"), std::string::npos);
  EXPECT_EQ(table.find("label rack"), std::string::npos);  // the same in both: not a difference
  EXPECT_EQ(table.find("gstreamer.version"), std::string::npos);
  // The comparison section reads the driver from the same place.
  EXPECT_NE(html.find("NVIDIA driver: run 1 <code>550.120</code>, run 2 <code>535.183</code>"), std::string::npos);
}

}  // namespace
}  // namespace cg

#include "report/svg.h"

#include <cmath>
#include <regex>

#include <gtest/gtest.h>
#include <map>

#include "../../tests/browser/report_fixture.h"
#include "report/golden_test_util.h"
#include "util/test_util.h"

namespace cg {
namespace {

using test_util::Count;


TEST(Heatmap, LaysOutFirstAxisAsRowsSecondAsColumnsAndCountsCrashes) {
  auto runs = testing::ComparisonFixture();
  auto maps = BuildHeatmaps(runs[0].run, runs[0].groups(), HeatMeasure::kCrashes);
  ASSERT_EQ(maps.size(), 1u);
  const Heatmap& m = maps[0];
  EXPECT_EQ(m.row_axis, "threads");
  EXPECT_EQ(m.col_axis, "sessions");
  ASSERT_EQ(m.rows, (std::vector<std::string>{"1", "2", "4"}));
  ASSERT_EQ(m.cols, (std::vector<std::string>{"1", "4"}));
  // Cell i (grid order) has (3i + 2) % 5 crashes of 4: 2, 0, 3, 1, 4, 2.
  const int expected[] = {2, 0, 3, 1, 4, 2};
  for (size_t i = 0; i < 6; ++i) {
    const HeatCell& c = m.at(i / 2, i % 2);
    EXPECT_EQ(c.n, 4) << i;
    EXPECT_EQ(c.k, expected[i]) << i;
    EXPECT_EQ(c.label, std::to_string(expected[i]) + "/4");
  }
  EXPECT_EQ(m.at(0, 0).cell_key, "threads=1,sessions=1");
  EXPECT_EQ(m.at(2, 0).note, "CRASHES");     // 4/4
  EXPECT_EQ(m.at(0, 1).note, "UNDECIDED");   // 0/4 is far from the 31 clean runs SAFE needs
  EXPECT_NE(m.at(0, 1).title.find("Wilson 95% [0%, 49%]"), std::string::npos) << m.at(0, 1).title;
}

TEST(Heatmap, OneMapPerValueOfTheThirdAxis) {
  auto runs = testing::MitigationFixture();
  auto maps = BuildHeatmaps(runs[0].run, runs[0].groups(), HeatMeasure::kCrashes);
  ASSERT_EQ(maps.size(), 2u);
  EXPECT_EQ(maps[0].subtitle, "serialize=none");
  EXPECT_EQ(maps[1].subtitle, "serialize=open+close");
  for (const auto& c : maps[1].cells) EXPECT_EQ(c.k, 0);
}

TEST(Heatmap, SignatureMapCountsOnlyThatSignature) {
  auto runs = testing::ComparisonFixture();
  auto maps = BuildHeatmaps(runs[0].run, runs[0].groups(), HeatMeasure::kSignature, testing::kSigHang);
  ASSERT_EQ(maps.size(), 1u);
  int64_t total = 0;
  for (const auto& c : maps[0].cells) total += c.k;
  EXPECT_EQ(total, 1);  // only the 4/4 cell reaches the fourth repetition, which hangs
  EXPECT_EQ(maps[0].at(2, 0).k, 1);
}

TEST(Heatmap, ThroughputIsIterationsPerWorkloadSecond) {
  auto runs = testing::ComparisonFixture();
  auto maps = BuildHeatmaps(runs[0].run, runs[0].groups(), HeatMeasure::kThroughput);
  ASSERT_EQ(maps.size(), 1u);
  EXPECT_NEAR(maps[0].at(0, 0).value, 100 / 0.3, 1e-9);
  EXPECT_NEAR(maps[0].at(2, 1).value, 150 / 0.3, 1e-9);
  EXPECT_EQ(maps[0].title, "Throughput (iterations/s)");
}

TEST(Heatmap, CellsWithoutTrialsAreMarkedAbsent) {
  auto runs = testing::ComparisonFixture();
  std::vector<StoredTrial> some;
  for (const auto& t : runs[0].trials) {
    if (t.cell_key != "threads=2,sessions=4") some.push_back(t);
  }
  auto maps = BuildHeatmaps(runs[0].run, GroupTrials(some, runs[0].run.duration_s), HeatMeasure::kCrashes);
  EXPECT_FALSE(maps[0].at(1, 1).present);
  EXPECT_EQ(maps[0].at(1, 1).label, "-");
  EXPECT_EQ(HeatColor(maps[0], maps[0].at(1, 1)), "#e0e0e0");
  EXPECT_TRUE(maps[0].at(1, 0).present);
}

TEST(Heatmap, FailedAndOverranTrialsAreShownApartAndCountInNoRate) {
  auto runs = testing::ComparisonFixture();
  std::vector<StoredTrial> trials;
  for (const auto& t : runs[0].trials) {
    if (t.cell_key == "threads=2,sessions=4") continue;
    trials.push_back(t);
    StoredTrial extra = t;  // threads=1,sessions=4 (0/4): one more that overran
    if (t.cell_key == "threads=1,sessions=4" && t.repetition == 0) {
      extra.result.outcome = Outcome::kOverran;
      trials.push_back(extra);
    }
  }
  for (int i = 0; i < 31; ++i) {  // threads=2,sessions=4: a program that always exits 1
    StoredTrial t;
    t.cell = {{"threads", "2"}, {"sessions", "4"}};
    t.cell_key = CellKey(t.cell);
    t.result.outcome = Outcome::kFailed;
    t.result.exit_code = 1;
    trials.push_back(t);
  }
  auto m = BuildHeatmaps(runs[0].run, GroupTrials(trials, runs[0].run.duration_s), HeatMeasure::kCrashes)[0];
  const HeatCell& overran = m.at(0, 1);
  EXPECT_EQ(overran.n, 4);
  EXPECT_EQ(overran.k, 0);
  EXPECT_EQ(overran.overran, 1);
  EXPECT_EQ(overran.label, "0/4 +1");
  EXPECT_EQ(HeatColor(m, overran), "#a6d96a");  // still the clean green of its 4 clean runs
  EXPECT_NE(overran.title.find("1 overran (neither crashes nor clean runs: not counted)"), std::string::npos)
      << overran.title;
  const HeatCell& failed = m.at(1, 1);
  EXPECT_FALSE(failed.present);
  EXPECT_EQ(failed.n, 0);
  EXPECT_EQ(failed.failed, 31);
  EXPECT_EQ(failed.label, "31 failed");
  EXPECT_EQ(failed.note, "");  // no verdict, SAFE least of all
  EXPECT_EQ(HeatColor(m, failed), "#e0e0e0");
}

TEST(Heatmap, CleanCellsAreGreenAndCrashingCellsDarkenWithRate) {
  auto runs = testing::ComparisonFixture();
  auto m = BuildHeatmaps(runs[0].run, runs[0].groups(), HeatMeasure::kCrashes)[0];
  EXPECT_EQ(HeatColor(m, m.at(0, 1)), "#a6d96a");  // 0/4
  auto red = [](const std::string& hex) { return std::stoi(hex.substr(1, 2), nullptr, 16); };
  auto green = [](const std::string& hex) { return std::stoi(hex.substr(3, 2), nullptr, 16); };
  // 1/4 < 2/4 < 4/4: each step has less green (darker, redder).
  EXPECT_GT(green(HeatColor(m, m.at(1, 1))), green(HeatColor(m, m.at(0, 0))));
  EXPECT_GT(green(HeatColor(m, m.at(0, 0))), green(HeatColor(m, m.at(2, 0))));
  EXPECT_GT(red(HeatColor(m, m.at(1, 1))), 0);
}

TEST(Svg, MatchesGolden) {
  auto runs = testing::ComparisonFixture();
  auto maps = BuildHeatmaps(runs[0].run, runs[0].groups(), HeatMeasure::kCrashes);
  testing::ExpectGolden("report_crash.svg", RenderSvgHeatmaps(maps, "run 1 (reference-race)"));
}

TEST(Svg, EscapesHostileTextAsXml) {
  RunRecord run;
  run.grid = {{"mode", {"<script>alert(1)</script>", "a&b"}}};
  std::vector<StoredTrial> trials(1);
  trials[0].cell = {{"mode", "<script>alert(1)</script>"}};
  trials[0].result.outcome = Outcome::kCrashed;
  trials[0].result.signature = "SIG\x1b]0;title\x07 <svg onload=alert(1)>";
  std::string sig = trials[0].result.signature;
  auto maps = BuildHeatmaps(run, GroupTrials(trials, run.duration_s), HeatMeasure::kSignature, sig);
  std::string svg = RenderSvgHeatmaps(maps, "caption \"quoted\" <x>");
  EXPECT_EQ(svg.find("<script"), std::string::npos);
  EXPECT_EQ(svg.find("<svg onload"), std::string::npos);
  EXPECT_EQ(svg.find('\x1b'), std::string::npos);
  EXPECT_EQ(svg.find('\x07'), std::string::npos);
  EXPECT_NE(svg.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(svg.find("a&amp;b"), std::string::npos);
  EXPECT_NE(svg.find("caption &quot;quoted&quot; &lt;x&gt;"), std::string::npos);
  // One <g class="cell"> per cell: two values on one axis.
  EXPECT_EQ(Count(svg, "<g class=\"cell\">"), 2u);
}


// One <text> element as a browser lays it out horizontally.
struct TextBox {
  double left = 0, right = 0, y = 0;
  std::string text;
};

// Characters of XML text, an entity counting as the one character it stands for.
size_t XmlChars(const std::string& s) {
  size_t n = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '&') {
      size_t semi = s.find(';', i);
      if (semi != std::string::npos) i = semi;
    }
    n += (static_cast<unsigned char>(s[i]) & 0xC0) != 0x80;
  }
  return n;
}

// Every <text> with its extent, at 0.6 em per character (0.65 em for the bold title): more than the average
// advance of sans-serif faces, so a box that fits here fits on screen.
std::vector<TextBox> TextBoxes(const std::string& svg) {
  std::vector<TextBox> out;
  std::regex text_re("<text ([^>]*)>([^<]*)</text>");
  std::regex attr_re("([a-z-]+)=\"([^\"]*)\"");
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), text_re); it != std::sregex_iterator(); ++it) {
    std::string attrs = (*it)[1];
    std::map<std::string, std::string> a;
    for (auto at = std::sregex_iterator(attrs.begin(), attrs.end(), attr_re); at != std::sregex_iterator(); ++at)
      a[(*at)[1]] = (*at)[2];
    double px = a["class"] == "title" ? 15 : a["class"] == "note" ? 9 : 12;
    double em = a["class"] == "title" ? 0.65 : 0.6;
    TextBox b;
    b.text = (*it)[2];
    double w = static_cast<double>(XmlChars(b.text)) * px * em;
    double x = std::stod(a["x"]);
    b.y = std::stod(a["y"]);
    std::string anchor = a["text-anchor"];
    b.left = anchor == "middle" ? x - w / 2 : anchor == "end" ? x - w : x;
    b.right = b.left + w;
    out.push_back(b);
  }
  return out;
}


std::vector<Heatmap> GridOfColumns(int columns, const std::string& col_prefix) {
  RunRecord run;
  GridAxis encoders{"encoders", {}};
  for (int c = 0; c < columns; ++c) encoders.values.push_back(col_prefix + std::to_string(c + 1));
  run.grid = {{"threads", {"1", "16"}}, encoders};
  std::vector<StoredTrial> trials;
  for (const auto& t : run.grid[0].values) {
    for (const auto& e : encoders.values) {
      for (int rep = 0; rep < 4; ++rep) {
        StoredTrial st;
        st.cell = {{"threads", t}, {"encoders", e}};
        st.cell_key = CellKey(st.cell);
        st.repetition = rep;
        st.result.outcome = rep == 0 && t == "16" ? Outcome::kCrashed : Outcome::kClean;
        st.result.signal = 11;
        trials.push_back(st);
      }
    }
  }
  return BuildHeatmaps(run, GroupTrials(trials, run.duration_s), HeatMeasure::kCrashes);
}

// The image is as wide as its widest text: the legend, the title, the caption and every label lie inside
// it, for grids of 1, 2, 3 and 12 columns (the legend was cut off at three columns or fewer), and every text
// of a cell lies inside that cell.
TEST(Svg, IsSizedToItsGridWithTheLegendAndEveryLabelInside) {
  for (int columns : {1, 2, 3, 12}) {
    for (const std::string prefix : {"", "a-rather-long-encoder-name-"}) {
      std::string svg = RenderSvgHeatmaps(GridOfColumns(columns, prefix), "run 7 (nvenc) on host build-farm-42");
      std::smatch m;
      ASSERT_TRUE(std::regex_search(svg, m, std::regex("width=\"(\\d+)\" height=\"(\\d+)\" viewBox=\"0 0 (\\d+) "
                                                       "(\\d+)\"")))
          << svg;
      double width = std::stod(m[1]), height = std::stod(m[2]);
      EXPECT_EQ(m[1], m[3]);
      EXPECT_EQ(m[2], m[4]);
      auto boxes = TextBoxes(svg);
      ASSERT_GT(boxes.size(), 10u);
      bool legend = false;
      for (const auto& b : boxes) {
        EXPECT_GE(b.left, 0) << columns << " columns: " << b.text;
        EXPECT_LE(b.right, width) << columns << " columns: " << b.text << " (width " << width << ")";
        EXPECT_LE(b.y, height) << b.text;
        legend |= b.text == "k/n: crashed or hung / crashed, hung or clean";
      }
      EXPECT_TRUE(legend) << svg;
      // Cell texts within their cell; column labels within their column.
      std::regex cell_re("<g class=\"cell\"><title>[^<]*</title><rect x=\"(\\d+)\" y=\"\\d+\" width=\"(\\d+)\"");
      for (auto it = std::sregex_iterator(svg.begin(), svg.end(), cell_re); it != std::sregex_iterator(); ++it) {
        double x = std::stod((*it)[1]), w = std::stod((*it)[2]);
        size_t end = svg.find("</g>", static_cast<size_t>(it->position()));
        for (const auto& b : TextBoxes(svg.substr(static_cast<size_t>(it->position()), end - it->position()))) {
          EXPECT_GE(b.left, x) << b.text;
          EXPECT_LE(b.right, x + w) << b.text;
        }
        for (const auto& b : boxes) {
          if (b.text.rfind(prefix, 0) == 0 && b.left < x + w && b.right > x && !prefix.empty()) {
            EXPECT_GE(b.left, x) << b.text;
            EXPECT_LE(b.right, x + w) << b.text;
          }
        }
      }
    }
  }
}

// The rate and its interval are printed in each cell, not only in the hover title.
TEST(Svg, PrintsRateAndIntervalInTheCells) {
  std::string svg = RenderSvgHeatmaps(GridOfColumns(1, ""), "");
  EXPECT_NE(svg.find(">1/4</text><text x=\"112\" y=\"157\" text-anchor=\"middle\" fill=\"#000000\" class=\"note\">"
                     "25% [4.5-70%]</text>"),
            std::string::npos)
      << svg;
  EXPECT_NE(svg.find("class=\"note\">0% [0-49%]</text>"), std::string::npos);
  // Wilson [4.56%, 69.9%] for 1/4: the printed bounds are rounded outwards.
  EXPECT_NE(svg.find("Wilson 95% [4.6%, 70%]"), std::string::npos);
  EXPECT_NE(svg.find("% [lo-hi]: the rate and its Wilson 95% interval"), std::string::npos);
}

}  // namespace
}  // namespace cg

#include "report/svg.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include <fmt/format.h>

#include "report/escape.h"

namespace cg {
namespace {

constexpr int kCellW = 76;   // the narrowest cell; wider when its text or its column's label needs it
constexpr int kPad = 12;
constexpr int kLine = 14;    // legend line spacing
constexpr int kSwatch = 10;  // legend colour swatch

// Font sizes of the text classes (kStyle) and the advance assumed per character: 0.6 em, a little more than
// the average of common sans-serif faces (DejaVu Sans ~0.55 em for lower case and digits), so the computed
// sizes err towards room to spare. Bold text gets 0.65 em.
constexpr double kEm = 0.6;
constexpr double kBoldEm = 0.65;
constexpr int kTextPx = 12;
constexpr int kTitlePx = 15;
constexpr int kNotePx = 9;

// Code points, so a UTF-8 cell value is not measured by its bytes.
size_t Chars(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}
int TextWidth(const std::string& s, int px = kTextPx, double em = kEm) {
  return static_cast<int>(std::ceil(static_cast<double>(Chars(s)) * px * em));
}

struct LegendLine {
  std::string swatch;  // fill colour of a swatch before the text, "" for none
  std::string text;
};

// What the colours, counts and the second and third lines of a cell mean. One short line each, so the
// legend does not set the width of a small map.
std::vector<LegendLine> Legend(const Heatmap& m) {
  if (m.measure == HeatMeasure::kThroughput) {
    return {{"#deebf7", "light: slow"},
            {"#084594", fmt::format("dark: fast (max {:.4g}/s)", m.max_value)},
            {"#e0e0e0", "grey: no throughput measured"}};
  }
  std::vector<LegendLine> l = {{"#a6d96a", "green: no crash"},
                               {"#f46d43", "orange to dark red: rising crash probability"},
                               {"#e0e0e0", "grey: no trials, or only failed or overran"},
                               {"", m.measure == HeatMeasure::kCrashes ? "k/n: crashed or hung / crashed, hung or clean"
                                                                       : "k/n: with this signature / crashed, hung or clean"},
                               {"", "+N: trials that failed or overran, in no rate"}};
  if (!m.interval_name.empty()) l.push_back({"", "% [lo-hi]: the rate and its " + m.interval_name + " interval"});
  if (m.measure == HeatMeasure::kCrashes) l.push_back({"", "SAFE, CRASHES, UNDECIDED: the SPRT's verdict"});
  return l;
}

struct Layout {
  int left = 0;    // x of the first cell column
  int top = 0;     // y of the first cell row (relative to the map's origin)
  int cell_w = kCellW;
  int cell_h = 44;
  int width = 0;   // of the whole map block: every piece of text inside it
  int height = 0;
};

Layout Measure(const Heatmap& m, const std::string& caption) {
  Layout l;
  int row_label = TextWidth(m.row_axis);
  for (const auto& r : m.rows) row_label = std::max(row_label, TextWidth(r));
  l.left = kPad + row_label + 10;
  l.top = kPad + 20 + (caption.empty() ? 0 : 16) + (m.subtitle.empty() ? 0 : 16) + (m.col_axis.empty() ? 0 : 18) + 18;
  bool rates = false;
  for (const auto& c : m.cols) l.cell_w = std::max(l.cell_w, TextWidth(c) + 8);
  for (const auto& c : m.cells) {
    l.cell_w = std::max({l.cell_w, TextWidth(c.label) + 8, TextWidth(c.rate, kNotePx) + 8,
                         TextWidth(c.note, kNotePx) + 8});
    rates |= !c.rate.empty();
  }
  l.cell_h = rates ? 56 : 44;  // a third line for the rate and interval
  int grid_w = static_cast<int>(m.cols.size()) * l.cell_w;
  l.width = l.left + grid_w + kPad;
  l.width = std::max(l.width, kPad + TextWidth(m.title, kTitlePx, kBoldEm) + kPad);
  l.width = std::max(l.width, kPad + TextWidth(caption) + kPad);
  l.width = std::max(l.width, kPad + TextWidth(m.subtitle) + kPad);
  l.width = std::max(l.width, l.left + TextWidth(m.col_axis) + kPad);
  l.width = std::max(l.width, kPad + TextWidth(m.row_axis) + kPad);
  std::vector<LegendLine> legend = Legend(m);
  for (const auto& line : legend) {
    l.width = std::max(l.width, kPad + (line.swatch.empty() ? 0 : kSwatch + 6) + TextWidth(line.text) + kPad);
  }
  l.height = l.top + static_cast<int>(m.rows.size()) * l.cell_h + 8 + static_cast<int>(legend.size()) * kLine + kPad;
  return l;
}

// The map's drawing commands, translated by (0, y0).
std::string Body(const Heatmap& m, const std::string& caption, int y0) {
  Layout l = Measure(m, caption);
  const int cw = l.cell_w, ch = l.cell_h;
  std::string s;
  int y = y0 + kPad + 14;
  s += fmt::format("<text x=\"{}\" y=\"{}\" class=\"title\">{}</text>\n", kPad, y, XmlEscape(m.title));
  if (!caption.empty()) {
    y += 16;
    s += fmt::format("<text x=\"{}\" y=\"{}\" class=\"sub\">{}</text>\n", kPad, y, XmlEscape(caption));
  }
  if (!m.subtitle.empty()) {
    y += 16;
    s += fmt::format("<text x=\"{}\" y=\"{}\" class=\"sub\">{}</text>\n", kPad, y, XmlEscape(m.subtitle));
  }
  int top = y0 + l.top;
  if (!m.col_axis.empty()) {
    s += fmt::format("<text x=\"{}\" y=\"{}\" class=\"axis\">{}</text>\n", l.left, top - 22,
                     XmlEscape(m.col_axis));
  }
  if (!m.row_axis.empty()) {
    s += fmt::format("<text x=\"{}\" y=\"{}\" class=\"axis\">{}</text>\n", kPad, top - 6, XmlEscape(m.row_axis));
  }
  for (size_t c = 0; c < m.cols.size(); ++c) {
    s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n",
                     l.left + static_cast<int>(c) * cw + cw / 2, top - 6, XmlEscape(m.cols[c]));
  }
  for (size_t r = 0; r < m.rows.size(); ++r) {
    int cy = top + static_cast<int>(r) * ch;
    s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\n", l.left - 8, cy + ch / 2 + 4,
                     XmlEscape(m.rows[r]));
    for (size_t c = 0; c < m.cols.size(); ++c) {
      const HeatCell& cell = m.at(r, c);
      int cx = l.left + static_cast<int>(c) * cw;
      std::string fg = HeatTextColor(m, cell);
      s += fmt::format("<g class=\"cell\"><title>{}</title>", XmlEscape(cell.title));
      s += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\" stroke=\"#ffffff\"/>", cx, cy,
                       cw, ch, HeatColor(m, cell));
      // Up to three lines, centred as a block: counts, rate and interval, verdict.
      std::vector<std::pair<std::string, bool>> text{{cell.label, false}};
      if (!cell.rate.empty()) text.emplace_back(cell.rate, true);
      if (!cell.note.empty()) text.emplace_back(cell.note, true);
      int ty = cy + ch / 2 + 5 - 7 * (static_cast<int>(text.size()) - 1);
      for (const auto& [t, small] : text) {
        s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"{}\"{}>{}</text>", cx + cw / 2, ty, fg,
                         small ? " class=\"note\"" : "", XmlEscape(t));
        ty += 14;
      }
      s += "</g>\n";
    }
  }
  int ly = top + static_cast<int>(m.rows.size()) * ch + 8;
  for (const auto& line : Legend(m)) {
    int x = kPad;
    if (!line.swatch.empty()) {
      s += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\" stroke=\"#999999\"/>", x, ly + 2,
                       kSwatch, kSwatch, line.swatch);
      x += kSwatch + 6;
    }
    s += fmt::format("<text x=\"{}\" y=\"{}\" class=\"sub\">{}</text>\n", x, ly + 11, XmlEscape(line.text));
    ly += kLine;
  }
  return s;
}

const char* kStyle =
    "<style>text{font-family:sans-serif;font-size:12px}.title{font-size:15px;font-weight:bold}"
    ".sub{fill:#444444}.axis{font-style:italic;fill:#444444}.note{font-size:9px}</style>\n";

}  // namespace

std::string RenderSvgHeatmaps(const std::vector<Heatmap>& maps, const std::string& caption) {
  int width = 0, height = 0;
  std::string body;
  for (size_t i = 0; i < maps.size(); ++i) {
    std::string cap = i == 0 ? caption : "";
    Layout l = Measure(maps[i], cap);
    body += Body(maps[i], cap, height);
    width = std::max(width, l.width);
    height += l.height;
  }
  height = std::max(height, 40);
  return fmt::format(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\">\n"
      "{2}<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n{3}</svg>\n",
      width, height, kStyle, body);
}

std::string RenderSvgHeatmap(const Heatmap& map, const std::string& caption) {
  return RenderSvgHeatmaps({map}, caption);
}

}  // namespace cg

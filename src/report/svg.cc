#include "report/svg.h"

#include <algorithm>

#include <fmt/format.h>

#include "report/escape.h"

namespace cg {
namespace {

constexpr int kCellW = 76;
constexpr int kCellH = 44;
constexpr int kCharW = 7;  // average advance of 12px sans-serif, for sizing label columns
constexpr int kPad = 12;

int TextWidth(const std::string& s) { return static_cast<int>(s.size()) * kCharW; }

struct Layout {
  int left = 0;    // x of the first cell column
  int top = 0;     // y of the first cell row (relative to the map's origin)
  int width = 0;   // of the whole map block
  int height = 0;
};

Layout Measure(const Heatmap& m, bool with_caption) {
  Layout l;
  int row_label = TextWidth(m.row_axis);
  for (const auto& r : m.rows) row_label = std::max(row_label, TextWidth(r));
  l.left = kPad + row_label + 10;
  l.top = kPad + 20 + (with_caption ? 16 : 0) + (m.subtitle.empty() ? 0 : 16) + (m.col_axis.empty() ? 0 : 18) + 18;
  int grid_w = static_cast<int>(m.cols.size()) * kCellW;
  l.width = std::max({l.left + grid_w + kPad, TextWidth(m.title) + 2 * kPad, 360});
  l.height = l.top + static_cast<int>(m.rows.size()) * kCellH + 50;  // room for the legend's two lines
  return l;
}

// The map's drawing commands, translated by (0, y0).
std::string Body(const Heatmap& m, const std::string& caption, int y0) {
  Layout l = Measure(m, !caption.empty());
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
                     l.left + static_cast<int>(c) * kCellW + kCellW / 2, top - 6, XmlEscape(m.cols[c]));
  }
  for (size_t r = 0; r < m.rows.size(); ++r) {
    int cy = top + static_cast<int>(r) * kCellH;
    s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\n", l.left - 8, cy + kCellH / 2 + 4,
                     XmlEscape(m.rows[r]));
    for (size_t c = 0; c < m.cols.size(); ++c) {
      const HeatCell& cell = m.at(r, c);
      int cx = l.left + static_cast<int>(c) * kCellW;
      std::string fg = HeatTextColor(m, cell);
      s += fmt::format("<g class=\"cell\"><title>{}</title>", XmlEscape(cell.title));
      s += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\" stroke=\"#ffffff\"/>", cx, cy,
                       kCellW, kCellH, HeatColor(m, cell));
      int ty = cell.note.empty() ? cy + kCellH / 2 + 5 : cy + kCellH / 2 - 1;
      s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"{}\">{}</text>", cx + kCellW / 2, ty,
                       fg, XmlEscape(cell.label));
      if (!cell.note.empty()) {
        s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"{}\" class=\"note\">{}</text>",
                         cx + kCellW / 2, cy + kCellH / 2 + 13, fg, XmlEscape(cell.note));
      }
      s += "</g>\n";
    }
  }
  // Legend: the two ends of the colour scale and the no-data grey.
  int ly = top + static_cast<int>(m.rows.size()) * kCellH + 14;
  std::string legend = m.measure == HeatMeasure::kThroughput
                           ? fmt::format("light = slow, dark = fast (max {:.4g}/s); grey = no data", m.max_value)
                           : "green = no crash; orange to dark red = rising crash probability; grey = no trials";
  s += fmt::format("<text x=\"{}\" y=\"{}\" class=\"sub\">{}</text>\n", kPad, ly + 6, XmlEscape(legend));
  if (m.measure != HeatMeasure::kThroughput) {
    s += fmt::format("<text x=\"{}\" y=\"{}\" class=\"sub\">{}</text>\n", kPad, ly + 20,
                     "k/n: crashed or hung / crashed, hung or clean; +N: trials that failed or overran, not counted");
  }
  return s;
}

const char* kStyle =
    "<style>text{font-family:sans-serif;font-size:12px}.title{font-size:15px;font-weight:bold}"
    ".sub{fill:#444444}.axis{font-style:italic;fill:#444444}.note{font-size:9px}</style>\n";

}  // namespace

std::string RenderSvgHeatmaps(const std::vector<Heatmap>& maps, const std::string& caption) {
  int width = 360, height = 0;
  std::string body;
  for (size_t i = 0; i < maps.size(); ++i) {
    std::string cap = i == 0 ? caption : "";
    Layout l = Measure(maps[i], !cap.empty());
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

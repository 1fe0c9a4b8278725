#include "report/tabulate.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "util/strings.h"

namespace cg {

// python-tabulate 0.8.9, as far as string cells without colour codes or newlines go (tabulate.py:
// _type, _column_type, _format, _align_column, _align_header, _format_table).
namespace {

// Python's len(): code points, not bytes.
size_t Width(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

std::string PadLeft(size_t width, const std::string& s) {
  size_t w = Width(s);
  return w >= width ? s : std::string(width - w, ' ') + s;
}
std::string PadRight(size_t width, const std::string& s) {
  size_t w = Width(s);
  return w >= width ? s : s + std::string(width - w, ' ');
}

bool IsPySpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

std::string_view PyStrip(std::string_view s) {
  while (!s.empty() && IsPySpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsPySpace(s.back())) s.remove_suffix(1);
  return s;
}

// Digits with single underscores between them, as Python's int() and float() accept.
size_t ScanDigits(std::string_view s, size_t i) {
  size_t start = i;
  while (i < s.size()) {
    if (std::isdigit(static_cast<unsigned char>(s[i]))) {
      ++i;
    } else if (s[i] == '_' && i > start && i + 1 < s.size() && std::isdigit(static_cast<unsigned char>(s[i + 1]))) {
      ++i;
    } else {
      break;
    }
  }
  return i;
}

// int(s) succeeds.
bool PyIsInt(std::string_view s) {
  s = PyStrip(s);
  size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  size_t end = ScanDigits(s, i);
  return end > i && end == s.size();
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// float(s) succeeds.
bool PyFloatParses(std::string_view s) {
  s = PyStrip(s);
  size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  std::string rest = Lower(s.substr(i));
  if (rest == "inf" || rest == "infinity" || rest == "nan") return true;
  size_t int_end = ScanDigits(s, i);
  bool digits = int_end > i;
  size_t j = int_end;
  if (j < s.size() && s[j] == '.') {
    size_t frac_end = ScanDigits(s, j + 1);
    digits = digits || frac_end > j + 1;
    j = frac_end;
  }
  if (!digits) return false;
  if (j < s.size() && (s[j] == 'e' || s[j] == 'E')) {
    size_t k = j + 1;
    if (k < s.size() && (s[k] == '+' || s[k] == '-')) ++k;
    size_t exp_end = ScanDigits(s, k);
    if (exp_end == k) return false;
    j = exp_end;
  }
  return j == s.size();
}

double PyFloat(std::string_view s) {
  std::string t;
  for (char c : PyStrip(s))
    if (c != '_') t += c;
  return std::strtod(t.c_str(), nullptr);
}

// tabulate's _isnumber: float() parses, and an infinite or NaN value is spelled exactly inf, -inf or nan.
bool PyIsNumber(std::string_view s) {
  if (!PyFloatParses(s)) return false;
  double v = PyFloat(s);
  if (std::isinf(v) || std::isnan(v)) {
    std::string l = Lower(s);
    return l == "inf" || l == "-inf" || l == "nan";
  }
  return true;
}

// tabulate's type lattice: bool < int < float < text.
enum class ColType { kBool = 1, kInt = 2, kFloat = 3, kText = 5 };

ColType CellType(const std::string& s) {
  if (s == "True" || s == "False") return ColType::kBool;
  if (PyIsInt(s)) return ColType::kInt;
  if (PyIsNumber(s)) return ColType::kFloat;
  return ColType::kText;
}

// format(float(s), "g"): Python's "g" is C's %g, but spells infinities and NaN in lower case like C does too.
std::string PyFormatG(const std::string& s) {
  double v = PyFloat(s);
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

// tabulate's _afterpoint.
int AfterPoint(const std::string& s) {
  if (!PyIsNumber(s) || PyIsInt(s)) return -1;
  size_t pos = s.rfind('.');
  if (pos == std::string::npos) pos = Lower(s).rfind('e');
  return pos == std::string::npos ? -1 : static_cast<int>(s.size() - pos - 1);
}

enum class Align { kLeft, kDecimal };

struct Laid {
  std::vector<std::string> headers;            // padded to the column widths
  std::vector<std::vector<std::string>> rows;  // padded
  std::vector<size_t> widths;
  std::vector<Align> aligns;
};

Laid LayOut(const std::vector<std::string>& headers, const std::vector<std::vector<std::string>>& rows) {
  size_t ncols = headers.size();
  for (const auto& r : rows) ncols = std::max(ncols, r.size());
  Laid out;
  std::vector<std::vector<std::string>> cols(ncols);
  for (size_t c = 0; c < ncols; ++c) {
    for (const auto& r : rows) cols[c].push_back(c < r.size() ? r[c] : "");
    ColType type = ColType::kBool;
    for (const auto& v : cols[c]) type = std::max(type, CellType(v));
    Align align = (type == ColType::kInt || type == ColType::kFloat) ? Align::kDecimal : Align::kLeft;
    if (type == ColType::kFloat)
      for (auto& v : cols[c]) v = PyFormatG(v);
    std::string header = c < headers.size() ? headers[c] : "";
    size_t width = Width(header) + 2;  // MIN_PADDING
    if (align == Align::kDecimal) {
      int max_decimals = -1;
      for (const auto& v : cols[c]) max_decimals = std::max(max_decimals, AfterPoint(v));
      for (auto& v : cols[c]) v += std::string(static_cast<size_t>(max_decimals - AfterPoint(v)), ' ');
    } else {
      for (auto& v : cols[c]) v = std::string(PyStrip(v));
    }
    for (const auto& v : cols[c]) width = std::max(width, Width(v));
    for (auto& v : cols[c]) v = align == Align::kDecimal ? PadLeft(width, v) : PadRight(width, v);
    out.headers.push_back(align == Align::kDecimal ? PadLeft(width, header) : PadRight(width, header));
    out.widths.push_back(width);
    out.aligns.push_back(align);
  }
  out.rows.assign(rows.size(), {});
  for (size_t c = 0; c < ncols; ++c)
    for (size_t r = 0; r < rows.size(); ++r) out.rows[r].push_back(std::move(cols[c][r]));
  return out;
}

// tabulate's _build_simple_row: begin + sep.join(cells) + end, right-stripped.
std::string Row(const std::vector<std::string>& cells) {
  std::string line = "|";
  for (size_t i = 0; i < cells.size(); ++i) {
    if (i) line += "|";
    line += " " + cells[i] + " ";
  }
  line += "|";
  while (!line.empty() && line.back() == ' ') line.pop_back();
  return line;
}

std::string Rule(const std::vector<size_t>& widths, char fill) {
  std::string line = "+";
  for (size_t i = 0; i < widths.size(); ++i) {
    if (i) line += "+";
    line += std::string(widths[i] + 2, fill);
  }
  return line + "+";
}

}  // namespace

std::string TabulateGrid(const std::vector<std::string>& headers, const std::vector<std::vector<std::string>>& rows) {
  Laid t = LayOut(headers, rows);
  std::vector<std::string> lines;
  lines.push_back(Rule(t.widths, '-'));
  lines.push_back(Row(t.headers));
  lines.push_back(Rule(t.widths, '='));
  for (size_t r = 0; r < t.rows.size(); ++r) {
    if (r) lines.push_back(Rule(t.widths, '-'));
    lines.push_back(Row(t.rows[r]));
  }
  lines.push_back(Rule(t.widths, '-'));
  return Join(lines, "\n");
}

std::string TabulatePipe(const std::vector<std::string>& headers, const std::vector<std::vector<std::string>>& rows) {
  Laid t = LayOut(headers, rows);
  std::vector<std::string> lines;
  lines.push_back(Row(t.headers));
  std::string colons = "|";
  for (size_t i = 0; i < t.widths.size(); ++i) {
    if (i) colons += "|";
    size_t w = t.widths[i] + 2;
    colons += t.aligns[i] == Align::kDecimal ? std::string(w - 1, '-') + ":" : ":" + std::string(w - 1, '-');
  }
  lines.push_back(colons + "|");
  for (const auto& r : t.rows) lines.push_back(Row(r));
  return Join(lines, "\n");
}

}  // namespace cg

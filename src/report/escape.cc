#include "report/escape.h"

#include <cstdint>

namespace cg {
namespace {

constexpr uint32_t kReplacement = 0xFFFD;

}  // namespace

std::string SanitizeText(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    uint32_t cp = 0;
    size_t len = DecodeUtf8(s, i, &cp);
    if (len == 0) {
      AppendUtf8(kReplacement, &out);
      ++i;
      continue;
    }
    if (cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') {
      AppendUtf8(0x2400 + cp, &out);
    } else if (cp == 0x7F) {
      AppendUtf8(0x2421, &out);
    } else if (cp == 0xFFFE || cp == 0xFFFF) {
      AppendUtf8(kReplacement, &out);
    } else {
      out.append(s.substr(i, len));
    }
    i += len;
  }
  return out;
}

std::string HtmlEscape(std::string_view s) {
  std::string clean = SanitizeText(s);
  std::string out;
  out.reserve(clean.size() + clean.size() / 8);
  for (char c : clean) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

bool CsvFormulaStart(std::string_view s) {
  if (s.empty() || std::string_view("=+-@\t\r").find(s.front()) == std::string_view::npos) return false;
  // A number is read as a number, never evaluated: "-3" and "-0.25" stay numbers (ParseDouble takes the whole
  // field and no "inf" or "nan").
  double unused = 0;
  return !ParseDouble(s, &unused);
}

std::string CsvField(std::string_view s) {
  const bool formula = CsvFormulaStart(s);
  bool quote = formula || (!s.empty() && (s.front() == ' ' || s.back() == ' '));
  for (char c : s) {
    if (c == ',' || c == '"' || c == '\n' || c == '\r') quote = true;
  }
  if (!quote) return std::string(s);
  std::string out = formula ? "\"'" : "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

}  // namespace cg

#include "sweep/grid.h"

#include <fmt/format.h>

#include "util/strings.h"

namespace cg {

static const char kGridForms[] = "use NAME=1..12, NAME=1..12:2, NAME=1,2,4,8 or NAME=none,all";

static bool IsName(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.')) return false;
  return true;
}

bool ParseGridAxis(const std::string& text, GridAxis* axis, std::string* err) {
  size_t eq = text.find('=');
  if (eq == std::string::npos) {
    *err = fmt::format("grid axis '{}' has no '=' ({})", text, kGridForms);
    return false;
  }
  axis->name = std::string(Trim(std::string_view(text).substr(0, eq)));
  std::string spec(Trim(std::string_view(text).substr(eq + 1)));
  axis->values.clear();
  if (!IsName(axis->name)) {
    *err = fmt::format("grid axis '{}' has a bad name '{}' (letters, digits, '_', '-' and '.' only)", text,
                       axis->name);
    return false;
  }
  if (spec.empty()) {
    *err = fmt::format("grid axis '{}' has no values ({})", text, kGridForms);
    return false;
  }
  size_t dots = spec.find("..");
  if (dots != std::string::npos) {
    std::string from = spec.substr(0, dots), rest = spec.substr(dots + 2), step = "1";
    size_t colon = rest.find(':');
    if (colon != std::string::npos) {
      step = rest.substr(colon + 1);
      rest = rest.substr(0, colon);
    }
    long long a, b, s;
    if (!ParseInt(from, &a) || !ParseInt(rest, &b) || !ParseInt(step, &s)) {
      *err = fmt::format("grid axis '{}': range '{}' needs integers ({})", text, spec, kGridForms);
      return false;
    }
    if (s <= 0) {
      *err = fmt::format("grid axis '{}': step must be positive", text);
      return false;
    }
    if (b < a) {
      *err = fmt::format("grid axis '{}': range {}..{} is empty (write the smaller bound first)", text, a, b);
      return false;
    }
    // In unsigned arithmetic: b - a and the last v += s overflow a long long near its ends (1..LLONG_MAX).
    unsigned long long span = static_cast<unsigned long long>(b) - static_cast<unsigned long long>(a);
    unsigned long long count = span / static_cast<unsigned long long>(s);
    if (count >= 10000) {
      *err = fmt::format("grid axis '{}' has more than 10000 values", text);
      return false;
    }
    for (unsigned long long i = 0; i <= count; ++i) {
      unsigned long long v = static_cast<unsigned long long>(a) + i * static_cast<unsigned long long>(s);
      axis->values.push_back(std::to_string(static_cast<long long>(v)));  // a <= v <= b: representable
    }
    return true;
  }
  for (const auto& raw : Split(spec, ',')) {
    std::string v(Trim(raw));
    if (v.empty()) {
      *err = fmt::format("grid axis '{}' has an empty value ({})", text, kGridForms);
      return false;
    }
    for (const auto& seen : axis->values) {
      if (seen == v) {
        *err = fmt::format("grid axis '{}' lists '{}' twice", text, v);
        return false;
      }
    }
    axis->values.push_back(v);
  }
  return true;
}

}  // namespace cg

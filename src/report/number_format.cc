#include "report/number_format.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace cg {
namespace {

double RoundAt(double v, int decimals, Rounding rounding) {
  double scale = std::pow(10.0, decimals);
  double x = v * scale;
  // The slack keeps a value that is exact at this precision (4.2 * 10) from moving by a float ulp.
  switch (rounding) {
    case Rounding::kNearest: x = std::round(x); break;
    case Rounding::kDown: x = std::floor(x + 1e-9); break;
    case Rounding::kUp: x = std::ceil(x - 1e-9); break;
  }
  return x / scale;
}

std::string Fixed(double v, int decimals) {
  std::string s = fmt::format("{:.{}f}", v, decimals);
  // "4.0" -> "4": a trailing zero says nothing (but 99.50 after widening stays exact at what it shows).
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  return s;
}

}  // namespace

std::string PercentText(double fraction, Rounding rounding) {
  double v = 100 * fraction;
  if (!(v > 0)) return "0";
  if (v >= 100) return "100";
  int decimals = v >= 10 ? 0 : v >= 0.1 ? 1 : std::max(1, 1 - static_cast<int>(std::floor(std::log10(v))));
  double shown = RoundAt(v, decimals, rounding);
  // Below 10 rounding may carry to 10 ("9.96" -> "10.0"): whole percent from there, as the rule says.
  if (decimals == 1 && shown >= 10) decimals = 0, shown = RoundAt(v, 0, rounding);
  // Never print a boundary the value is not on: 199/200 is not "100", a lower bound of 0.0009 is not "0".
  while ((shown <= 0 || shown >= 100) && decimals < 6) shown = RoundAt(v, ++decimals, rounding);
  return Fixed(shown, decimals);
}

std::string FormatPercent(double fraction) { return PercentText(fraction, Rounding::kNearest) + "%"; }

std::string IntervalText(const Interval& iv) {
  return "[" + PercentText(iv.lo, Rounding::kDown) + "-" + PercentText(iv.hi, Rounding::kUp) + "]";
}

std::string FormatRateAndInterval(double rate, const Interval& iv) {
  return FormatPercent(rate) + " [" + PercentText(iv.lo, Rounding::kDown) + "-" + PercentText(iv.hi, Rounding::kUp) +
         "%]";
}

std::string PValueText(double p) {
  if (p < 0.0001) return "<0.0001";
  return fmt::format("{:.4f}", p);
}

std::string DisplayCellKey(const std::string& key) { return key.empty() ? "(all)" : key; }

}  // namespace cg

#include <cmath>
#include <cstdint>
#include <cstdio>

#include "stats/special.h"
#include "stats/stats.h"

namespace cg {

Interval ClopperPearson(int64_t k, int64_t n, double alpha) {
  if (n <= 0) return {0, 1};
  double kk = static_cast<double>(k), nn = static_cast<double>(n);
  Interval iv;
  iv.lo = k == 0 ? 0 : special::BetaQuantile(alpha / 2, kk, nn - kk + 1);
  iv.hi = k == n ? 1 : special::BetaQuantile(1 - alpha / 2, kk + 1, nn - kk);
  return iv;
}

double ClopperPearsonUpper(int64_t k, int64_t n, double alpha) {
  if (n <= 0 || k >= n) return 1;
  double kk = static_cast<double>(k), nn = static_cast<double>(n);
  return special::BetaQuantile(1 - alpha, kk + 1, nn - kk);
}

const char* VerdictName(Verdict v) {
  switch (v) {
    case Verdict::kSafe:
      return "SAFE";
    case Verdict::kCrashes:
      return "CRASHES";
    case Verdict::kUndecided:
      break;
  }
  return "UNDECIDED";
}

double SprtLogLikelihoodRatio(int64_t k, int64_t n, const SprtParams& p) {
  double kk = static_cast<double>(k), clean = static_cast<double>(n - k);
  return kk * std::log(p.p1 / p.p0) + clean * std::log((1 - p.p1) / (1 - p.p0));
}

Verdict SprtDecide(int64_t k, int64_t n, const SprtParams& p) {
  if (n <= 0) return Verdict::kUndecided;
  double llr = SprtLogLikelihoodRatio(k, n, p);
  if (llr >= std::log((1 - p.beta) / p.alpha)) return Verdict::kCrashes;
  if (llr <= std::log(p.beta / (1 - p.alpha))) return Verdict::kSafe;
  return Verdict::kUndecided;
}

Verdict CellSprtVerdict(int64_t k, int64_t n, int64_t failed, const SprtParams& p) {
  Verdict v = SprtDecide(k, n, p);
  return v == Verdict::kSafe && failed > 0 ? Verdict::kUndecided : v;
}

int64_t SprtCleanRunsToSafe(int64_t k, int64_t n, const SprtParams& p) {
  double llr = SprtLogLikelihoodRatio(k, n, p);
  double lower = std::log(p.beta / (1 - p.alpha));
  if (llr <= lower) return 0;
  double step = std::log((1 - p.p1) / (1 - p.p0));  // negative: each clean run moves towards SAFE
  if (!(step < 0)) return INT64_MAX;                 // p1 <= p0: no number of clean runs decides
  auto runs = static_cast<int64_t>(std::ceil((lower - llr) / step));
  // Guard the ceil against rounding on an exact boundary: the verdict itself is the definition.
  while (runs > 0 && SprtDecide(k, n + runs - 1, p) == Verdict::kSafe) --runs;
  while (SprtDecide(k, n + runs, p) != Verdict::kSafe) ++runs;
  return runs;
}

std::string FormatUpperBound(double p) {
  if (p >= 1) return "1";
  if (p <= 0) return "0";
  int exponent = static_cast<int>(std::floor(std::log10(p)));
  double scale = std::pow(10.0, 1 - exponent);  // two significant digits
  // The tiny slack keeps a value that is already exact at two digits (0.2) from rounding up to 0.21.
  double up = std::ceil(p * scale - 1e-9) / scale;
  int decimals = std::max(0, 1 - exponent);
  // A power of ten (also one that rounding up reached: 0.000995 -> 0.001) reads as itself, "0.001", not with
  // the digits of the smaller value ("0.00100").
  double power = std::round(std::log10(up));
  if (std::fabs(std::log10(up) - power) < 1e-9) decimals = std::max(0, -static_cast<int>(power));
  if (up >= 1) return "1";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, up);
  return buf;
}

std::string SafeClaim(int64_t k, int64_t n, double alpha) {
  if (n <= 0) return "no runs";
  char conf[16];
  std::snprintf(conf, sizeof conf, "%g%%", 100 * (1 - alpha));
  return "p < " + FormatUpperBound(ClopperPearsonUpper(k, n, alpha)) + " at " + conf;
}

}  // namespace cg

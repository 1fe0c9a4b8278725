#include "stats/special.h"

#include <cmath>
#include <limits>

namespace cg::special {
namespace {

// Continued fraction for the incomplete beta (modified Lentz), valid for x < (a + 1) / (a + b + 2).
double BetaContinuedFraction(double x, double a, double b) {
  const double tiny = 1e-300;
  double qab = a + b, qap = a + 1, qam = a - 1;
  double c = 1, d = 1 - qab * x / qap;
  if (std::fabs(d) < tiny) d = tiny;
  d = 1 / d;
  double h = d;
  for (int m = 1; m <= 1000; ++m) {
    double m2 = 2.0 * m;
    double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (std::fabs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (std::fabs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (std::fabs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (std::fabs(c) < tiny) c = tiny;
    d = 1 / d;
    double del = d * c;
    h *= del;
    if (std::fabs(del - 1) < 1e-15) break;
  }
  return h;
}

// Bisection on a monotone CDF: slow but it cannot diverge, and these are called a handful of times per cell.
template <typename F>
double Invert(F cdf, double p, double lo, double hi) {
  for (int i = 0; i < 200 && hi - lo > 1e-15 * std::max(1.0, hi); ++i) {
    double mid = 0.5 * (lo + hi);
    if (cdf(mid) < p)
      lo = mid;
    else
      hi = mid;
  }
  return 0.5 * (lo + hi);
}

}  // namespace

double LogChoose(double n, double k) { return std::lgamma(n + 1) - std::lgamma(k + 1) - std::lgamma(n - k + 1); }

double BetaCdf(double x, double a, double b) {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  double lbt = std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log1p(-x);
  double bt = std::exp(lbt);
  if (x < (a + 1) / (a + b + 2)) return bt * BetaContinuedFraction(x, a, b) / a;
  return 1 - bt * BetaContinuedFraction(1 - x, b, a) / b;
}

double BetaQuantile(double p, double a, double b) {
  if (p <= 0) return 0;
  if (p >= 1) return 1;
  return Invert([&](double x) { return BetaCdf(x, a, b); }, p, 0, 1);
}

double GammaCdf(double x, double a) {
  if (x <= 0) return 0;
  double gln = std::lgamma(a);
  if (x < a + 1) {  // series
    double ap = a, sum = 1 / a, del = sum;
    for (int n = 0; n < 10000; ++n) {
      ap += 1;
      del *= x / ap;
      sum += del;
      if (std::fabs(del) < std::fabs(sum) * 1e-16) break;
    }
    return sum * std::exp(-x + a * std::log(x) - gln);
  }
  // Continued fraction for Q(a, x) (modified Lentz).
  const double tiny = 1e-300;
  double b = x + 1 - a, c = 1 / tiny, d = 1 / b, h = d;
  for (int i = 1; i < 10000; ++i) {
    double an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (std::fabs(d) < tiny) d = tiny;
    c = b + an / c;
    if (std::fabs(c) < tiny) c = tiny;
    d = 1 / d;
    double del = d * c;
    h *= del;
    if (std::fabs(del - 1) < 1e-16) break;
  }
  return 1 - std::exp(-x + a * std::log(x) - gln) * h;
}

double GammaQuantile(double p, double a) {
  if (p <= 0) return 0;
  if (p >= 1) return std::numeric_limits<double>::infinity();
  double hi = std::max(1.0, a);
  while (GammaCdf(hi, a) < p) hi *= 2;
  return Invert([&](double x) { return GammaCdf(x, a); }, p, 0, hi);
}

}  // namespace cg::special

#include <cmath>

#include "stats/stats.h"

namespace cg {

// Inverse of the standard normal CDF (Acklam's rational approximation, |error| < 1.2e-9 after one Newton
// step); only used for z at the usual confidence levels.
static double NormalQuantile(double p) {
  static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                             1.383577518672690e+02,  -3.066479806614716e+01, 2.506628277459239e+00};
  static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                             6.680131188771972e+01,  -1.328068155288572e+01};
  static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                             -2.549732539343734e+00, 4.374664141464968e+00,  2.938163982698783e+00};
  static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                             3.754408661907416e+00};
  const double plow = 0.02425;
  double q, r, x;
  if (p < plow) {
    q = std::sqrt(-2 * std::log(p));
    x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  } else if (p <= 1 - plow) {
    q = p - 0.5;
    r = q * q;
    x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
        (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  } else {
    q = std::sqrt(-2 * std::log(1 - p));
    x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  // One Newton step on erfc for full double precision.
  double e = 0.5 * std::erfc(-x / std::sqrt(2.0)) - p;
  double u = e * std::sqrt(2 * M_PI) * std::exp(x * x / 2);
  return x - u / (1 + x * u / 2);
}

Interval Wilson(int64_t k, int64_t n, double alpha) {
  if (n <= 0) return {0, 1};
  double z = NormalQuantile(1 - alpha / 2);
  double p = static_cast<double>(k) / static_cast<double>(n);
  double nn = static_cast<double>(n);
  double denom = 1 + z * z / nn;
  double center = (p + z * z / (2 * nn)) / denom;
  double half = z * std::sqrt(p * (1 - p) / nn + z * z / (4 * nn * nn)) / denom;
  Interval iv{std::max(0.0, center - half), std::min(1.0, center + half)};
  if (k == 0) iv.lo = 0;
  if (k == n) iv.hi = 1;
  return iv;
}

double ZeroCrashUpperBound(int64_t n, double alpha) {
  if (n <= 0) return 1;
  return 1 - std::pow(alpha, 1.0 / static_cast<double>(n));
}

}  // namespace cg

#include "stats/poisson_rates.h"

#include <algorithm>
#include <cmath>

#include "stats/special.h"

namespace cg {

double PoissonRatesTwoSided(int64_t k1, double e1, int64_t k2, double e2) {
  const int64_t total = k1 + k2;
  if (total <= 0 || !(e1 > 0) || !(e2 > 0)) return 1;
  const double q = e1 / (e1 + e2);
  const double nn = static_cast<double>(total);
  auto log_pmf = [&](int64_t x) {
    double xx = static_cast<double>(x);
    return special::LogChoose(nn, xx) + xx * std::log(q) + (nn - xx) * std::log1p(-q);
  };
  const double limit = log_pmf(k1) + std::log1p(1e-7);
  double p = 0;
  for (int64_t x = 0; x <= total; ++x) {
    double lp = log_pmf(x);
    if (lp <= limit) p += std::exp(lp);
  }
  return std::min(1.0, p);
}

}  // namespace cg

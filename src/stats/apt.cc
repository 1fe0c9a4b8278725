#include "stats/apt.h"

#include <algorithm>
#include <cmath>

#include "stats/stats.h"

namespace cg {

double AptIndex(const AptArm& arm, const AptParams& p) {
  if (arm.n <= 0) return 0;
  double phat = static_cast<double>(arm.k) / static_cast<double>(arm.n);
  return std::sqrt(static_cast<double>(arm.n)) * (std::fabs(phat - p.theta) + p.eps);
}

bool AptSettled(const AptArm& arm, const AptParams& p) {
  Interval iv = Wilson(arm.k, arm.n);
  return iv.hi - iv.lo < p.width;
}

std::vector<size_t> AptSelect(const std::vector<AptArm>& arms, const AptParams& p, size_t count) {
  std::vector<size_t> open;
  for (size_t i = 0; i < arms.size(); ++i)
    if (!AptSettled(arms[i], p)) open.push_back(i);
  std::stable_sort(open.begin(), open.end(), [&](size_t a, size_t b) {
    double ia = AptIndex(arms[a], p), ib = AptIndex(arms[b], p);
    if (ia != ib) return ia < ib;
    return arms[a].n < arms[b].n;
  });
  if (open.size() > count) open.resize(count);
  return open;
}

}  // namespace cg

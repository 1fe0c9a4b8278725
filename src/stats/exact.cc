#include "stats/exact.h"

#include <algorithm>
#include <array>
#include <limits>
#include <map>
#include <mutex>
#include <cmath>
#include <numeric>

#include "stats/special.h"
#include "util/error.h"

namespace cg {
namespace {

// log P(X = x) for the hypergeometric count of crashes in arm 1, given the margins.
double LogHypergeometric(int64_t x, int64_t n1, int64_t n2, int64_t crashes) {
  return special::LogChoose(static_cast<double>(n1), static_cast<double>(x)) +
         special::LogChoose(static_cast<double>(n2), static_cast<double>(crashes - x)) -
         special::LogChoose(static_cast<double>(n1 + n2), static_cast<double>(crashes));
}

void CheckTable(int64_t k1, int64_t n1, int64_t k2, int64_t n2) {
  CG_CHECK_MSG(n1 >= 0 && n2 >= 0 && k1 >= 0 && k2 >= 0 && k1 <= n1 && k2 <= n2, "bad 2x2 table");
}

}  // namespace

double FisherExactTwoSided(int64_t k1, int64_t n1, int64_t k2, int64_t n2) {
  CheckTable(k1, n1, k2, n2);
  int64_t m = k1 + k2;
  int64_t lo = std::max<int64_t>(0, m - n2), hi = std::min(m, n1);
  double observed = LogHypergeometric(k1, n1, n2, m);
  // R's relative tolerance: tables within 1e-7 of the observed probability count as "as extreme".
  double limit = observed + std::log1p(1e-7);
  double p = 0;
  for (int64_t x = lo; x <= hi; ++x) {
    double lp = LogHypergeometric(x, n1, n2, m);
    if (lp <= limit) p += std::exp(lp);
  }
  return std::min(1.0, p);
}

double FisherExactOneSided(int64_t k1, int64_t n1, int64_t k2, int64_t n2, bool greater) {
  CheckTable(k1, n1, k2, n2);
  int64_t m = k1 + k2;
  int64_t lo = std::max<int64_t>(0, m - n2), hi = std::min(m, n1);
  double p = 0;
  for (int64_t x = greater ? k1 : lo; x <= (greater ? hi : k1); ++x) p += std::exp(LogHypergeometric(x, n1, n2, m));
  return std::min(1.0, p);
}

double BoschlooOneSided(int64_t k1, int64_t n1, int64_t k2, int64_t n2, bool greater) {
  CheckTable(k1, n1, k2, n2);
  // The rejection region: every table (x1, x2) whose Fisher one-sided p-value is at most the observed one.
  // That p-value depends on x1 and the crash margin m = x1 + x2 only: one tail sum per margin.
  double observed = FisherExactOneSided(k1, n1, k2, n2, greater);
  double limit = observed * (1 + 1e-7);
  std::vector<double> lc1(static_cast<size_t>(n1 + 1)), lc2(static_cast<size_t>(n2 + 1)),
      lct(static_cast<size_t>(n1 + n2 + 1));
  for (int64_t x = 0; x <= n1; ++x) lc1[static_cast<size_t>(x)] = special::LogChoose(double(n1), double(x));
  for (int64_t x = 0; x <= n2; ++x) lc2[static_cast<size_t>(x)] = special::LogChoose(double(n2), double(x));
  for (int64_t m = 0; m <= n1 + n2; ++m) lct[static_cast<size_t>(m)] = special::LogChoose(double(n1 + n2), double(m));
  // Under a common crash probability pi, table (a, b) has probability C(n1,a) C(n2,b) pi^m (1-pi)^(N-m) with
  // m = a + b: the region's size is a sum over margins of pi^m (1-pi)^(N-m) times the region's binomial
  // weight at that margin, log_weight[m] (log-sum-exp of log C(n1,a) + log C(n2,m-a); -inf when the region
  // has no table of margin m). Computing the weights once makes each evaluation of the size O(n1 + n2)
  // instead of O(tables in the region): ~(n1+1)(n2+1)/(n1+n2+1) times less work per evaluation.
  const double kNone = -std::numeric_limits<double>::infinity();
  std::vector<double> log_weight(static_cast<size_t>(n1 + n2 + 1), kNone);
  bool has_none = false, has_all = false;  // the region holds (0, 0) / (n1, n2): the degenerate sizes
  std::vector<double> pmf, terms;
  for (int64_t m = 0; m <= n1 + n2; ++m) {
    int64_t lo = std::max<int64_t>(0, m - n2), hi = std::min(m, n1);
    pmf.assign(static_cast<size_t>(hi - lo + 1), 0);
    // LogHypergeometric(x, n1, n2, m) from the tables: no lgamma in the (n1+1)(n2+1) loop.
    for (int64_t x = lo; x <= hi; ++x) {
      pmf[static_cast<size_t>(x - lo)] = std::exp(lc1[static_cast<size_t>(x)] + lc2[static_cast<size_t>(m - x)] -
                                                  lct[static_cast<size_t>(m)]);
    }
    terms.clear();
    auto add = [&](int64_t x) {
      terms.push_back(lc1[static_cast<size_t>(x)] + lc2[static_cast<size_t>(m - x)]);
      if (x == 0 && m == 0) has_none = true;
      if (x == n1 && m - x == n2) has_all = true;
    };
    double tail = 0;
    if (greater) {
      for (int64_t x = hi; x >= lo; --x) {
        tail += pmf[static_cast<size_t>(x - lo)];
        if (std::min(1.0, tail) <= limit) add(x);
      }
    } else {
      for (int64_t x = lo; x <= hi; ++x) {
        tail += pmf[static_cast<size_t>(x - lo)];
        if (std::min(1.0, tail) <= limit) add(x);
      }
    }
    if (terms.empty()) continue;
    double top = *std::max_element(terms.begin(), terms.end());
    double sum = 0;
    for (double t : terms) sum += std::exp(t - top);
    log_weight[static_cast<size_t>(m)] = top + std::log(sum);
  }
  // The size at pi is sum over margins of f[m] * Binomial(m; N, pi), where f[m] = exp(log_weight[m] - lct[m])
  // (in [0, 1]) is the share of margin m's tables, by binomial weight, that lie in the region. The binomial
  // probabilities come from the mode outward by their ratio, (N - m) / (m + 1) * pi / (1 - pi): one exp per
  // evaluation instead of one per margin (the grid below evaluates the size thousands of times per test).
  // Past the mode they only decrease, so a side stops once they fall below 1e-300 (with f <= 1, what is left
  // weighs less than (N + 1) * 1e-300).
  const int64_t total_n = n1 + n2;
  std::vector<double> share(static_cast<size_t>(total_n + 1), 0);
  for (int64_t m = 0; m <= total_n; ++m) {
    double w = log_weight[static_cast<size_t>(m)];
    if (w != kNone) share[static_cast<size_t>(m)] = std::min(1.0, std::exp(w - lct[static_cast<size_t>(m)]));
  }
  auto size_at = [&](double pi) {
    // Degenerate: all mass on no crashes at all (or all crashes).
    if (pi <= 0) return has_none ? 1.0 : 0.0;
    if (pi >= 1) return has_all ? 1.0 : 0.0;
    const double lp = std::log(pi), lq = std::log1p(-pi), r = pi / (1 - pi);
    const double n = static_cast<double>(total_n);
    int64_t mode = std::min<int64_t>(total_n, static_cast<int64_t>(std::floor((n + 1) * pi)));
    const double at_mode = std::exp(lct[static_cast<size_t>(mode)] + static_cast<double>(mode) * lp +
                                    (n - static_cast<double>(mode)) * lq);
    constexpr double kNegligible = 1e-300;
    double s = share[static_cast<size_t>(mode)] * at_mode;
    double b = at_mode;
    for (int64_t m = mode; m < total_n && b >= kNegligible; ++m) {
      b *= static_cast<double>(total_n - m) / static_cast<double>(m + 1) * r;
      s += share[static_cast<size_t>(m + 1)] * b;
    }
    b = at_mode;
    for (int64_t m = mode; m > 0 && b >= kNegligible; --m) {
      b *= static_cast<double>(m) / (static_cast<double>(total_n - m + 1) * r);
      s += share[static_cast<size_t>(m - 1)] * b;
    }
    return s;
  };
  // The size is a smooth function of pi but may have several local maxima, and the highest is not always
  // the one nearest the best point of a coarse grid (23/150 vs 6/100 peaks twice; a 200-point grid refined
  // around its best point found 0.0254665 where the supremum is 0.0254729). So: a fine grid, then a
  // golden-section search in the bracket of every local maximum of the grid (SciPy likewise refines from
  // its grid with a bounded optimiser). Each evaluation is O(n1 + n2), so the grid is cheap.
  const int kGrid = 2000;
  std::vector<double> grid(kGrid + 1);
  for (int i = 0; i <= kGrid; ++i) grid[static_cast<size_t>(i)] = size_at(static_cast<double>(i) / kGrid);
  double best = *std::max_element(grid.begin(), grid.end());
  const double g = (std::sqrt(5.0) - 1) / 2;
  for (int i = 0; i <= kGrid; ++i) {
    double here = grid[static_cast<size_t>(i)];
    // Strict on the left: a plateau (a region of size 1 everywhere) is refined once, not at every point.
    bool left_ok = i == 0 || grid[static_cast<size_t>(i - 1)] < here;
    bool right_ok = i == kGrid || grid[static_cast<size_t>(i + 1)] <= here;
    if (!left_ok || !right_ok || here <= 0) continue;
    double a = std::max(0.0, static_cast<double>(i - 1) / kGrid), b = std::min(1.0, static_cast<double>(i + 1) / kGrid);
    double c = b - g * (b - a), d = a + g * (b - a);
    double fc = size_at(c), fd = size_at(d);
    for (int it = 0; it < 50; ++it) {
      if (fc > fd) {
        b = d, d = c, fd = fc;
        c = b - g * (b - a), fc = size_at(c);
      } else {
        a = c, c = d, fc = fd;
        d = a + g * (b - a), fd = size_at(d);
      }
    }
    best = std::max({best, fc, fd});
  }
  return std::min(1.0, best);
}

double BoschlooTwoSided(int64_t k1, int64_t n1, int64_t k2, int64_t n2) {
  // A grid's cells often share a table (every cell 0/200 against 0/200 in a clean comparison): each distinct
  // table is tested once per process.
  static std::mutex mu;
  static std::map<std::array<int64_t, 4>, double> cache;
  const std::array<int64_t, 4> key{k1, n1, k2, n2};
  {
    std::lock_guard<std::mutex> lock(mu);
    auto it = cache.find(key);
    if (it != cache.end()) return it->second;
  }
  double p = std::min(BoschlooOneSided(k1, n1, k2, n2, true), BoschlooOneSided(k1, n1, k2, n2, false));
  p = std::min(1.0, 2 * p);
  std::lock_guard<std::mutex> lock(mu);
  cache.emplace(key, p);
  return p;
}

std::vector<double> HolmAdjust(const std::vector<double>& p) {
  size_t m = p.size();
  std::vector<size_t> order(m);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return p[a] < p[b]; });
  std::vector<double> out(m);
  double running = 0;
  for (size_t i = 0; i < m; ++i) {
    running = std::max(running, std::min(1.0, static_cast<double>(m - i) * p[order[i]]));
    out[order[i]] = running;
  }
  return out;
}

std::vector<double> BenjaminiHochbergAdjust(const std::vector<double>& p) {
  size_t m = p.size();
  std::vector<size_t> order(m);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return p[a] < p[b]; });
  std::vector<double> out(m);
  double running = 1;
  for (size_t i = m; i-- > 0;) {
    running = std::min(running, static_cast<double>(m) / static_cast<double>(i + 1) * p[order[i]]);
    out[order[i]] = std::min(1.0, running);
  }
  return out;
}

}  // namespace cg

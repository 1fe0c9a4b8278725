#include <cmath>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "stats/exact.h"

namespace cg {

TEST(Fisher, MatchesRFisherTestTwoSided) {
  // R: fisher.test(matrix(c(3, 1, 1, 3), 2)) (TeaTasting) -> p-value = 0.4857
  EXPECT_NEAR(FisherExactTwoSided(3, 4, 1, 4), 0.4857143, 1e-6);
  // Wikipedia "Fisher's exact test" dieting example, R: fisher.test(matrix(c(1, 11, 9, 3), 2)) -> 0.002759
  EXPECT_NEAR(FisherExactTwoSided(1, 10, 11, 14), 0.002759456, 1e-8);
  EXPECT_NEAR(FisherExactTwoSided(0, 10, 0, 10), 1.0, 1e-12);
}

TEST(Fisher, MatchesRFisherTestOneSided) {
  // R's Convictions example: fisher.test(Convictions, alternative = "less") -> p-value = 0.0004652
  // (Dizygotic 2 convicted of 17, Monozygotic 10 of 13).
  EXPECT_NEAR(FisherExactOneSided(2, 17, 10, 13, /*greater=*/false), 0.0004652, 1e-7);
  // Summing hypergeometric terms with exact fractions: P(X >= 74) for 74/117 vs 31/63 = 0.0483122.
  EXPECT_NEAR(FisherExactOneSided(74, 117, 31, 63, /*greater=*/true), 0.0483122, 1e-7);
}

TEST(Boschloo, MatchesSciPyExample) {
  // SciPy docs: boschloo_exact([[74, 31], [43, 32]], alternative="greater") -> statistic 0.0483,
  // pvalue 0.0355 (columns are the two samples: 74 of 117 against 31 of 63).
  EXPECT_NEAR(BoschlooOneSided(74, 117, 31, 63, /*greater=*/true), 0.0355, 5e-4);
}

TEST(Boschloo, IsAtLeastAsPowerfulAsFisher) {
  // 6 of 20 crashes against 0 of 20: the case DOMAIN.md sizes a study for.
  double fisher = FisherExactTwoSided(6, 20, 0, 20);
  double boschloo = BoschlooTwoSided(6, 20, 0, 20);
  EXPECT_LE(boschloo, fisher + 1e-12);
  EXPECT_LT(boschloo, 0.05);
  EXPECT_NEAR(BoschlooTwoSided(3, 10, 3, 10), 1.0, 1e-9);
}

// The definition, table by table (what BoschlooOneSided computed before it summed the region per margin):
// the supremum over a grid of pi of the probability of every table whose Fisher p-value is at most the
// observed one, on a grid of pi finer than the search's.
double BoschlooByEveryTable(int64_t k1, int64_t n1, int64_t k2, int64_t n2, bool greater) {
  double limit = FisherExactOneSided(k1, n1, k2, n2, greater) * (1 + 1e-7);
  std::vector<std::pair<int64_t, int64_t>> region;
  for (int64_t a = 0; a <= n1; ++a)
    for (int64_t b = 0; b <= n2; ++b)
      if (FisherExactOneSided(a, n1, b, n2, greater) <= limit) region.emplace_back(a, b);
  double best = 0;
  for (int i = 1; i < 2000; ++i) {
    double pi = i / 2000.0, s = 0;
    for (auto [a, b] : region)
      s += std::exp(std::lgamma(n1 + 1.0) - std::lgamma(a + 1.0) - std::lgamma(n1 - a + 1.0) + std::lgamma(n2 + 1.0) -
                    std::lgamma(b + 1.0) - std::lgamma(n2 - b + 1.0) + (a + b) * std::log(pi) +
                    (n1 + n2 - a - b) * std::log1p(-pi));
    best = std::max(best, s);
  }
  return std::min(1.0, best);
}

TEST(Boschloo, AgreesWithTheTableByTableDefinition) {
  struct Case {
    int64_t k1, n1, k2, n2;
  };
  for (Case c : {Case{6, 20, 0, 20}, Case{1, 30, 4, 25}, Case{0, 12, 0, 15}, Case{12, 12, 3, 15}, Case{5, 40, 5, 40}}) {
    for (bool greater : {true, false}) {
      double want = BoschlooByEveryTable(c.k1, c.n1, c.k2, c.n2, greater);
      double got = BoschlooOneSided(c.k1, c.n1, c.k2, c.n2, greater);
      EXPECT_NEAR(got, want, 2e-3) << c.k1 << "/" << c.n1 << " vs " << c.k2 << "/" << c.n2 << " greater=" << greater;
    }
  }
}

// An independent oracle for the supremum: the region's binomial weight per margin m, then the size on a
// 100001-point grid of pi (spacing 1e-5: near a smooth maximum the grid is off by far less than 1e-7).
double BoschlooBruteForce(int64_t k1, int64_t n1, int64_t k2, int64_t n2, bool greater) {
  double limit = FisherExactOneSided(k1, n1, k2, n2, greater) * (1 + 1e-7);
  std::vector<double> weight(static_cast<size_t>(n1 + n2 + 1), 0);
  auto log_choose = [](double n, double k) { return std::lgamma(n + 1) - std::lgamma(k + 1) - std::lgamma(n - k + 1); };
  for (int64_t a = 0; a <= n1; ++a)
    for (int64_t b = 0; b <= n2; ++b)
      if (FisherExactOneSided(a, n1, b, n2, greater) <= limit)
        weight[static_cast<size_t>(a + b)] += std::exp(log_choose(double(n1), double(a)) + log_choose(double(n2), double(b)));
  double best = 0;
  const int kPoints = 100000;
  for (int i = 1; i < kPoints; ++i) {
    double pi = double(i) / kPoints, lp = std::log(pi), lq = std::log1p(-pi), s = 0;
    for (size_t m = 0; m < weight.size(); ++m)
      if (weight[m] > 0) s += weight[m] * std::exp(double(m) * lp + double(n1 + n2 - int64_t(m)) * lq);
    best = std::max(best, s);
  }
  return std::min(1.0, best);
}

TEST(Boschloo, FindsTheGlobalMaximumOverTheNuisanceParameter) {
  // SciPy: boschloo_exact([[23, 6], [127, 94]]).pvalue = 0.0254729 (two-sided); a 200-point grid refined
  // around its best point gave 0.0254665.
  EXPECT_NEAR(BoschlooTwoSided(23, 150, 6, 100), 0.0254729, 5e-7);
  struct Case {
    int64_t k1, n1, k2, n2;
  };
  for (Case c : {Case{23, 150, 6, 100}, Case{1, 200, 9, 200}, Case{3, 50, 12, 60}, Case{0, 31, 4, 31}}) {
    for (bool greater : {true, false}) {
      double want = BoschlooBruteForce(c.k1, c.n1, c.k2, c.n2, greater);
      double got = BoschlooOneSided(c.k1, c.n1, c.k2, c.n2, greater);
      // Never below the supremum the fine grid sees, and not above it by more than the grid can miss.
      EXPECT_NEAR(got, want, 1e-7 + 1e-6 * want)
          << c.k1 << "/" << c.n1 << " vs " << c.k2 << "/" << c.n2 << " greater=" << greater;
    }
  }
}

TEST(Holm, MatchesRPAdjust) {
  // R: p.adjust(c(0.01, 0.04, 0.03, 0.02, 0.05), "holm") -> 0.05 0.09 0.09 0.08 0.09
  std::vector<double> adj = HolmAdjust({0.01, 0.04, 0.03, 0.02, 0.05});
  std::vector<double> want = {0.05, 0.09, 0.09, 0.08, 0.09};
  ASSERT_EQ(adj.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(adj[i], want[i], 1e-12) << i;
  EXPECT_EQ(HolmAdjust({0.5, 0.9})[1], 1.0);  // capped at 1
}

TEST(BenjaminiHochberg, MatchesRPAdjust) {
  // R: p.adjust(c(0.01, 0.04, 0.03, 0.005, 0.5), "BH") -> 0.025 0.05 0.05 0.025 0.5
  std::vector<double> adj = BenjaminiHochbergAdjust({0.01, 0.04, 0.03, 0.005, 0.5});
  std::vector<double> want = {0.025, 0.05, 0.05, 0.025, 0.5};
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(adj[i], want[i], 1e-12) << i;
}

}  // namespace cg

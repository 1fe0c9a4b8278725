#include "stats/sequential.h"

#include <map>
#include <random>
#include <utility>

#include <gtest/gtest.h>

namespace cg {
namespace {

struct Stopped {
  int64_t k = 0, n = 0;
};

// One cell under `--until decided`: evidence runs one at a time until the SPRT decides or `cap` ran.
Stopped RunCell(double p, int64_t cap, const SprtParams& sprt, std::mt19937_64& rng) {
  std::bernoulli_distribution crash(p);
  Stopped s;
  while (s.n < cap) {
    s.n++;
    if (crash(rng)) s.k++;
    if (SprtDecide(s.k, s.n, sprt) != Verdict::kUndecided) break;
  }
  return s;
}

// Coverage of `interval` over `cells` simulated stopped cells; intervals are cached per stopping point.
template <typename F>
double Coverage(double p, int64_t cap, int cells, uint64_t seed, F interval) {
  SprtParams sprt;  // the defaults: p0 0.01, p1 0.10, alpha = beta = 0.05
  std::mt19937_64 rng(seed);
  std::map<std::pair<int64_t, int64_t>, Interval> cache;
  int covered = 0;
  for (int i = 0; i < cells; ++i) {
    Stopped s = RunCell(p, cap, sprt, rng);
    auto key = std::make_pair(s.k, s.n);
    auto it = cache.find(key);
    if (it == cache.end()) it = cache.emplace(key, interval(s.k, s.n, sprt)).first;
    if (it->second.lo <= p && p <= it->second.hi) covered++;
  }
  return static_cast<double>(covered) / cells;
}

StopKind KindOf(int64_t k, int64_t n, const SprtParams& sprt) {
  return SprtDecide(k, n, sprt) == Verdict::kUndecided ? StopKind::kSprtCap : StopKind::kSprtBoundary;
}

const double kProbabilities[] = {0.02, 0.05, 0.1, 0.2, 0.3};

}  // namespace

// The check: 4000 stopped cells per p at the default SPRT, at the default cap (--runs 10) and at a
// cap that lets SAFE happen (--runs 100). The displayed interval covers >= 0.94; Wilson at the stopped
// counts does not (it covered 0.87-0.91 in the issue).
TEST(SequentialInterval, CoversUnderTheSprtStoppingRuleWhereWilsonDoesNot) {
  for (int64_t cap : {10, 100}) {
    double worst_wilson = 1;
    for (double p : kProbabilities) {
      const uint64_t seed = 1000 + static_cast<uint64_t>(p * 1000) + static_cast<uint64_t>(cap);
      double shown = Coverage(p, cap, 4000, seed, [](int64_t k, int64_t n, const SprtParams& s) {
        return StoppedInterval(k, n, KindOf(k, n, s), s);
      });
      double wilson = Coverage(p, cap, 4000, seed, [](int64_t k, int64_t n, const SprtParams&) {
        return Wilson(k, n);
      });
      EXPECT_GE(shown, 0.94) << "p=" << p << " cap=" << cap;
      worst_wilson = std::min(worst_wilson, wilson);
    }
    EXPECT_LT(worst_wilson, 0.94) << "cap=" << cap << ": Wilson should fail the same check";
  }
}

TEST(SequentialInterval, EarlyCrashesStopOnTheBoundaryWithAnExactInterval) {
  SprtParams sprt;
  Interval iv;
  // 2/2: the only way to stop at stage 2 is two crashes, so P_lo(T >= t) = lo^2 = 0.025.
  ASSERT_TRUE(SprtExactInterval(2, 2, sprt, 0.05, &iv));
  EXPECT_NEAR(iv.lo, std::sqrt(0.025), 1e-9);
  EXPECT_DOUBLE_EQ(iv.hi, 1);  // the most extreme point of the sample space
  // 2/12 on the CRASHES boundary: P(T >= t) = P(second crash by run 12); P(T <= t) = 1 - P(by run 11).
  ASSERT_TRUE(SprtExactInterval(2, 12, sprt, 0.05, &iv));
  auto by = [](double p, int m) { return 1 - std::pow(1 - p, m) - m * p * std::pow(1 - p, m - 1); };
  EXPECT_NEAR(by(iv.lo, 12), 0.025, 1e-9);
  EXPECT_NEAR(by(iv.hi, 11), 0.975, 1e-9);
}

TEST(SequentialInterval, RefusesPointsTheRuleCannotStopAt) {
  SprtParams sprt;
  Interval iv;
  // 3/3 would have stopped at 2/2; 1/1 is undecided (a cap of 1 run), which is a stopping point.
  EXPECT_FALSE(SprtExactInterval(3, 3, sprt, 0.05, &iv));
  EXPECT_TRUE(SprtExactInterval(1, 1, sprt, 0.05, &iv));
  // 0/40: SAFE was reached at 0/31.
  EXPECT_FALSE(SprtExactInterval(0, 40, sprt, 0.05, &iv));
  EXPECT_TRUE(SprtExactInterval(0, 31, sprt, 0.05, &iv));
  EXPECT_EQ(iv.lo, 0);
  // The fallback is the always-valid interval, not a fixed-n one.
  Interval shown = StoppedInterval(0, 40, StopKind::kSprtBoundary, sprt);
  Interval av = AlwaysValidInterval(0, 40);
  EXPECT_DOUBLE_EQ(shown.hi, av.hi);
}

TEST(SequentialInterval, MedianUnbiasedEstimateIsBelowKOverNAfterAnEarlyCrashesStop) {
  SprtParams sprt;
  double m = 0;
  ASSERT_TRUE(SprtMedianUnbiased(2, 2, sprt, &m));
  EXPECT_NEAR(m, std::sqrt(0.5), 1e-9);  // P(T >= 2/2) = p^2 = 1/2
  ASSERT_TRUE(SprtMedianUnbiased(2, 12, sprt, &m));
  EXPECT_LT(m, 2.0 / 12);
}

// Ville: the mixture interval excludes the truth at some n <= 200 with probability <= alpha, so even an
// adversary that stops the moment it would exclude p gets coverage >= 0.95; Wilson fails that adversary.
TEST(AlwaysValidInterval, CoversAtAnyStoppingTimeEvenAnAdversarialOne) {
  for (double p : {0.05, 0.2}) {
    std::mt19937_64 rng(77 + static_cast<uint64_t>(p * 100));
    std::bernoulli_distribution crash(p);
    const int paths = 1000;
    int av_missed = 0, wilson_missed = 0;
    for (int i = 0; i < paths; ++i) {
      int64_t k = 0;
      bool av_out = false, wilson_out = false;
      for (int64_t n = 1; n <= 200 && !(av_out && wilson_out); ++n) {
        if (crash(rng)) k++;
        Interval av = AlwaysValidInterval(k, n);
        Interval w = Wilson(k, n);
        av_out |= p < av.lo || p > av.hi;
        wilson_out |= p < w.lo || p > w.hi;
      }
      av_missed += av_out;
      wilson_missed += wilson_out;
    }
    EXPECT_LE(av_missed, 0.05 * paths) << "p=" << p;
    EXPECT_GT(wilson_missed, 0.2 * paths) << "p=" << p;
  }
}

TEST(AlwaysValidInterval, ContainsTheEstimateAndIsWiderThanClopperPearson) {
  for (auto [k, n] : std::vector<std::pair<int64_t, int64_t>>{{0, 10}, {2, 30}, {15, 40}, {40, 40}}) {
    Interval av = AlwaysValidInterval(k, n), cp = ClopperPearson(k, n);
    double phat = static_cast<double>(k) / static_cast<double>(n);
    EXPECT_LE(av.lo, phat);
    EXPECT_GE(av.hi, phat);
    EXPECT_LE(av.lo, cp.lo + 1e-12) << k << "/" << n;
    EXPECT_GE(av.hi, cp.hi - 1e-12) << k << "/" << n;
  }
}

}  // namespace cg

#include "stats/sequential.h"

#include <cmath>
#include <functional>
#include <vector>

namespace cg {
namespace {

// The SPRT's sample space up to stage `n`, for one value of p: the probability of stopping on each boundary at
// each stage and, at stage n, of each crash count still undecided. Stages are evidence runs, one at a time,
// SprtDecide after each (what the decided rule does per cell).
struct Enumeration {
  std::vector<double> upper, lower;        // [m]: P(stop at stage m on CRASHES / on SAFE); [0] unused
  std::vector<int64_t> upper_k, lower_k;   // [m]: the crash count of that stop, -1 if none; -2 if several
  std::vector<double> open;                // [k]: P(still undecided after stage n with k crashes)
  int64_t open_lo = 0, open_hi = -1;       // the reachable undecided counts at stage n
};

Enumeration Enumerate(double p, int64_t n, const SprtParams& sprt) {
  Enumeration e;
  e.upper.assign(n + 1, 0);
  e.lower.assign(n + 1, 0);
  e.upper_k.assign(n + 1, -1);
  e.lower_k.assign(n + 1, -1);
  std::vector<double> mass(n + 2, 0), next(n + 2, 0);
  mass[0] = 1;
  int64_t lo = 0, hi = 0;  // reachable undecided band before stage m
  for (int64_t m = 1; m <= n; ++m) {
    for (int64_t k = lo; k <= hi + 1; ++k) next[k] = 0;
    for (int64_t k = lo; k <= hi; ++k) {
      next[k] += mass[k] * (1 - p);
      next[k + 1] += mass[k] * p;
    }
    int64_t new_lo = -1, new_hi = -2;
    for (int64_t k = lo; k <= hi + 1; ++k) {
      switch (SprtDecide(k, m, sprt)) {
        case Verdict::kCrashes:
          e.upper[m] += next[k];
          e.upper_k[m] = e.upper_k[m] == -1 ? k : -2;
          next[k] = 0;
          break;
        case Verdict::kSafe:
          e.lower[m] += next[k];
          e.lower_k[m] = e.lower_k[m] == -1 ? k : -2;
          next[k] = 0;
          break;
        case Verdict::kUndecided:
          if (new_lo < 0) new_lo = k;
          new_hi = k;
          break;
      }
    }
    for (int64_t k = lo; k <= hi + 1; ++k) mass[k] = next[k];
    if (new_lo < 0) {  // every path decided: nothing left open
      lo = 0, hi = -1;
      for (int64_t rest = m + 1; rest <= n; ++rest) e.upper_k[rest] = e.lower_k[rest] = -1;
      break;
    }
    // The undecided counts form one run of k between the two boundaries (both are lines in (m, k)).
    lo = new_lo, hi = new_hi;
  }
  e.open.assign(mass.begin(), mass.end());
  e.open_lo = lo, e.open_hi = hi;
  return e;
}

// P_p(T >= t) for the stopping point t = (k, n) in the stage-wise ordering, or -1 if t is not a stopping
// point. `prob_t` gets P_p(T = t).
double AtLeastAsHigh(double p, int64_t k, int64_t n, const SprtParams& sprt, double* prob_t) {
  Verdict v = SprtDecide(k, n, sprt);
  Enumeration e = Enumerate(p, n, sprt);
  double s = 0;
  switch (v) {
    case Verdict::kCrashes:
      if (e.upper_k[n] != k) return -1;
      for (int64_t m = 1; m <= n; ++m) s += e.upper[m];
      *prob_t = e.upper[n];
      return s;
    case Verdict::kSafe: {
      if (e.lower_k[n] != k) return -1;
      double below = 0;
      for (int64_t m = 1; m < n; ++m) below += e.lower[m];
      *prob_t = e.lower[n];
      return 1 - below;
    }
    case Verdict::kUndecided:
      if (k < e.open_lo || k > e.open_hi) return -1;
      for (int64_t m = 1; m <= n; ++m) s += e.upper[m];
      for (int64_t j = k; j <= e.open_hi; ++j) s += e.open[j];
      *prob_t = e.open[k];
      return s;
  }
  return -1;
}

// The p in [0, 1] where the increasing function f crosses `target` (0 or 1 when it never does).
double SolveIncreasing(const std::function<double(double)>& f, double target) {
  double lo = 0, hi = 1;
  if (f(1e-12) >= target) return 0;
  if (f(1 - 1e-12) <= target) return 1;
  for (int i = 0; i < 60; ++i) {
    double mid = (lo + hi) / 2;
    (f(mid) < target ? lo : hi) = mid;
  }
  return (lo + hi) / 2;
}

}  // namespace

const char* StopKindName(StopKind k) {
  switch (k) {
    case StopKind::kSprtBoundary: return "sprt-boundary";
    case StopKind::kSprtCap: return "sprt-cap";
    case StopKind::kAdaptive: return "adaptive";
    case StopKind::kFixed: break;
  }
  return "fixed";
}

bool SprtExactInterval(int64_t k, int64_t n, const SprtParams& sprt, double alpha, Interval* out) {
  if (n <= 0 || k < 0 || k > n) return false;
  double ignored = 0;
  if (AtLeastAsHigh(0.5, k, n, sprt, &ignored) < 0) return false;
  // P_p(T >= t) rises with p; P_p(T <= t) = 1 - P_p(T >= t) + P_p(T = t) falls.
  auto ge = [&](double p) {
    double pt = 0;
    return AtLeastAsHigh(p, k, n, sprt, &pt);
  };
  auto gt = [&](double p) {  // P_p(T > t) = 1 - P_p(T <= t), rising
    double pt = 0;
    double s = AtLeastAsHigh(p, k, n, sprt, &pt);
    return s - pt;
  };
  out->lo = SolveIncreasing(ge, alpha / 2);
  out->hi = SolveIncreasing(gt, 1 - alpha / 2);
  if (k == 0) out->lo = 0;
  return true;
}

bool SprtMedianUnbiased(int64_t k, int64_t n, const SprtParams& sprt, double* out) {
  if (n <= 0 || k < 0 || k > n) return false;
  double ignored = 0;
  if (AtLeastAsHigh(0.5, k, n, sprt, &ignored) < 0) return false;
  *out = SolveIncreasing([&](double p) { return AtLeastAsHigh(p, k, n, sprt, &ignored); }, 0.5);
  return true;
}

Interval AlwaysValidInterval(int64_t k, int64_t n, double alpha) {
  if (n <= 0) return {0, 1};
  const double kk = static_cast<double>(k), nn = static_cast<double>(n), a = 0.5;
  auto lbeta = [](double x, double y) { return std::lgamma(x) + std::lgamma(y) - std::lgamma(x + y); };
  const double log_marginal = lbeta(kk + a, nn - kk + a) - lbeta(a, a);
  const double bound = std::log(1 / alpha);
  // log of the mixture's likelihood ratio against p: smallest at p = k/n (where it is <= 0), rising to
  // either side; the interval is where it stays below log(1/alpha).
  auto log_ratio = [&](double p) {
    double ll = (k > 0 ? kk * std::log(p) : 0) + (k < n ? (nn - kk) * std::log1p(-p) : 0);
    return log_marginal - ll;
  };
  const double phat = kk / nn;
  Interval iv{0, 1};
  if (k > 0) {
    double lo = 0, hi = phat;  // log_ratio falls on (0, phat]
    for (int i = 0; i < 60; ++i) {
      double mid = (lo + hi) / 2;
      (log_ratio(mid) >= bound ? lo : hi) = mid;
    }
    iv.lo = lo;  // rounded outwards
  }
  if (k < n) {
    double lo = phat, hi = 1;  // log_ratio rises on [phat, 1)
    for (int i = 0; i < 60; ++i) {
      double mid = (lo + hi) / 2;
      (log_ratio(mid) >= bound ? hi : lo) = mid;
    }
    iv.hi = hi;
  }
  return iv;
}

Interval StoppedInterval(int64_t k, int64_t n, StopKind kind, const SprtParams& p, double alpha) {
  switch (kind) {
    case StopKind::kFixed: return Wilson(k, n, alpha);
    case StopKind::kAdaptive: return AlwaysValidInterval(k, n, alpha);
    case StopKind::kSprtBoundary:
    case StopKind::kSprtCap: {
      Interval iv;
      if (SprtExactInterval(k, n, p, alpha, &iv)) return iv;
      return AlwaysValidInterval(k, n, alpha);
    }
  }
  return Wilson(k, n, alpha);
}

}  // namespace cg

#include "stats/rate.h"

#include <cmath>
#include <cstdio>
#include <limits>

#include "stats/special.h"

namespace cg {

CrashRate CrashRateFromExposure(int64_t crashes, double exposure_s, double alpha) {
  CrashRate r;
  r.crashes = crashes;
  r.exposure_s = exposure_s;
  if (exposure_s <= 0) {
    r.per_minute_ci = {0, std::numeric_limits<double>::infinity()};
    return r;
  }
  double minutes = exposure_s / 60;
  double k = static_cast<double>(crashes);
  r.per_minute = k / minutes;
  // Garwood: chi2(alpha/2; 2k)/2 and chi2(1-alpha/2; 2k+2)/2, which are gamma quantiles with shapes k, k+1.
  r.per_minute_ci.lo = crashes == 0 ? 0 : special::GammaQuantile(alpha / 2, k) / minutes;
  r.per_minute_ci.hi = special::GammaQuantile(1 - alpha / 2, k + 1) / minutes;
  return r;
}

double TrialExposureSeconds(const TrialResult& r, double cap_s) {
  if (OutcomeEvidence(r.outcome) == Evidence::kNeither) return 0;
  if (r.workload_seconds > 0) return r.workload_seconds;
  double t = r.time_to_outcome_s > 0 ? r.time_to_outcome_s : r.duration_s;
  if (cap_s > 0) t = std::min(t, cap_s);
  return std::max(0.0, t);
}

std::string FormatCrashRate(const CrashRate& r) {
  if (r.exposure_s <= 0) return "no exposure";
  char buf[96];
  std::snprintf(buf, sizeof buf, "%.3g/min [%.3g, %.3g]", r.per_minute, r.per_minute_ci.lo, r.per_minute_ci.hi);
  return buf;
}

}  // namespace cg

// Crash rate per minute of workload, from time to crash. Crashed trials end early, so a probability per trial
// depends on the trial length; a rate per unit of exposure does not, which makes sweeps with different
// --duration comparable. Model: crashes arrive as a Poisson process (time to crash exponential); a clean trial
// is right-censored at its duration. The MLE is crashes / total exposure, with Garwood's exact interval
// (chi-square quantiles, i.e. gamma quantiles of the crash count).
#pragma once

#include <cstdint>

#include "stats/stats.h"
#include "trial/trial.h"

namespace cg {

struct CrashRate {
  int64_t crashes = 0;
  double exposure_s = 0;
  double per_minute = 0;  // crashes / exposure minutes; 0 when there is no exposure
  Interval per_minute_ci{0, 0};  // two-sided 1 - alpha; hi is +inf only when exposure is 0
};

// From counts: `crashes` events over `exposure_s` seconds of workload.
CrashRate CrashRateFromExposure(int64_t crashes, double exposure_s, double alpha = 0.05);

// Seconds of workload one trial contributed: for a crash, the time to the crash; for a clean trial, its
// length (censored there). Uses the workload's own clock when it reported one, else spawn-to-outcome
// capped at `cap_s` (the trial duration; 0 = no cap). Trials that are evidence neither way (failed, overran,
// could not start: OutcomeEvidence) contribute nothing, as they contribute no crash and no clean run.
double TrialExposureSeconds(const TrialResult& r, double cap_s = 0);

// "0.42/min [0.31, 0.57]" (per minute, three significant digits).
std::string FormatCrashRate(const CrashRate& r);

}  // namespace cg

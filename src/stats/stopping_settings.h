// How a sweep decides that a cell is done: the one typed home of the stopping settings. A run stores them as
// JSON (RunRecord.settings); the sweep, the tables, the heatmaps and the mitigation study all read them
// through here, so that a stored run is judged by the parameters it was swept with.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "stats/apt.h"
#include "stats/stats.h"

namespace cg {

struct RunRecord;

struct StoppingSettings {
  enum class Until { kRuns, kDecided };
  Until until = Until::kRuns;  // `--until runs|decided`
  SprtParams sprt;             // `--p0 --p1 --alpha --beta`; used by every verdict, also under kRuns
  bool refine = false;         // `--refine` (implies deciding first)
  // `--refine-width`; theta defaults to the middle of [sprt.p0, sprt.p1] (see DefaultRefineTheta).
  AptParams apt;
  int64_t refine_budget = 0;   // `--refine-budget`: 0 = kDefaultRefineBudgetPerCell per cell

  bool decides() const { return until == Until::kDecided || refine; }
};
constexpr int64_t kDefaultRefineBudgetPerCell = 10;

// The refinement threshold when none is given: the middle of the SPRT's indifference zone.
inline double DefaultRefineTheta(const SprtParams& p) { return (p.p0 + p.p1) / 2; }

// {"until": "runs"|"decided", "sprt": {"p0","p1","alpha","beta"}, "refine": {"theta","eps","width","budget"}}
// ("refine" only when refining). What the store keeps.
nlohmann::json StoppingSettingsJson(const StoppingSettings& s);

// The inverse, validating (0 < p0 < p1 < 1, 0 < alpha, beta < 0.5, 0 < width <= 1, budget >= 0). Keys missing
// from `j` take their defaults (a run stored before a key existed). On failure *err is a user-facing message
// naming the flag.
bool ParseStoppingSettings(const nlohmann::json& j, StoppingSettings* s, std::string* err);

// For reading stored runs: the run's settings, or the defaults where they are missing or invalid (a report
// must still render a damaged or foreign-made run).
StoppingSettings RunStoppingSettings(const RunRecord& run);

bool ValidateSprtParams(const SprtParams& p, std::string* err);

}  // namespace cg

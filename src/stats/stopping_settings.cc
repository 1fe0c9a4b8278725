#include "stats/stopping_settings.h"

#include <fmt/format.h>

#include "trial/run.h"

namespace cg {

using nlohmann::json;

bool ValidateSprtParams(const SprtParams& p, std::string* err) {
  if (!(p.p0 > 0 && p.p0 < p.p1 && p.p1 < 1)) {
    *err = fmt::format("--p0 {:g} and --p1 {:g} must satisfy 0 < p0 < p1 < 1 (defaults 0.01 and 0.10)", p.p0, p.p1);
    return false;
  }
  if (!(p.alpha > 0 && p.alpha < 0.5 && p.beta > 0 && p.beta < 0.5)) {
    *err = fmt::format("--alpha {:g} and --beta {:g} must be between 0 and 0.5 (defaults 0.05)", p.alpha, p.beta);
    return false;
  }
  return true;
}

json StoppingSettingsJson(const StoppingSettings& s) {
  json j = {{"until", s.until == StoppingSettings::Until::kDecided ? "decided" : "runs"},
            {"sprt", {{"p0", s.sprt.p0}, {"p1", s.sprt.p1}, {"alpha", s.sprt.alpha}, {"beta", s.sprt.beta}}}};
  if (s.refine)
    j["refine"] = {{"theta", s.apt.theta}, {"eps", s.apt.eps}, {"width", s.apt.width}, {"budget", s.refine_budget}};
  return j;
}

bool ParseStoppingSettings(const json& j, StoppingSettings* s, std::string* err) {
  *s = StoppingSettings();
  if (j.is_null()) return true;
  try {
    if (!j.is_object()) throw json::type_error::create(302, "settings are not an object", nullptr);
    std::string until = j.value("until", "runs");
    if (until == "runs") {
      s->until = StoppingSettings::Until::kRuns;
    } else if (until == "decided") {
      s->until = StoppingSettings::Until::kDecided;
    } else {
      *err = fmt::format("--until '{}' is not a stopping rule (use 'runs' or 'decided')", until);
      return false;
    }
    if (j.contains("sprt") && !j["sprt"].is_null()) {
      const json& p = j.at("sprt");
      s->sprt.p0 = p.value("p0", s->sprt.p0);
      s->sprt.p1 = p.value("p1", s->sprt.p1);
      s->sprt.alpha = p.value("alpha", s->sprt.alpha);
      s->sprt.beta = p.value("beta", s->sprt.beta);
    }
    if (!ValidateSprtParams(s->sprt, err)) return false;
    s->apt.theta = DefaultRefineTheta(s->sprt);
    s->refine = j.contains("refine") && !j["refine"].is_null();
    if (s->refine && j["refine"].is_object()) {
      const json& r = j.at("refine");
      s->apt.theta = r.value("theta", s->apt.theta);
      s->apt.eps = r.value("eps", s->apt.eps);
      s->apt.width = r.value("width", s->apt.width);
      s->refine_budget = r.value("budget", s->refine_budget);
    }
  } catch (const json::exception& e) {
    *err = fmt::format("stopping-rule settings are malformed ({}); re-run the sweep without --resume", e.what());
    return false;
  }
  if (!(s->apt.width > 0 && s->apt.width <= 1)) {
    *err = fmt::format("--refine-width {:g} must be in (0, 1] (default 0.2)", s->apt.width);
    return false;
  }
  if (!(s->apt.theta > 0 && s->apt.theta < 1)) {
    *err = fmt::format("the refinement threshold {:g} must be in (0, 1)", s->apt.theta);
    return false;
  }
  if (s->refine_budget < 0) {
    *err = fmt::format("--refine-budget {} must be a number of trials >= 0 (0: {} per cell)", s->refine_budget,
                       kDefaultRefineBudgetPerCell);
    return false;
  }
  return true;
}

StoppingSettings RunStoppingSettings(const RunRecord& run) {
  StoppingSettings s;
  std::string ignored;
  if (!ParseStoppingSettings(run.settings, &s, &ignored)) s = StoppingSettings();
  return s;
}

}  // namespace cg

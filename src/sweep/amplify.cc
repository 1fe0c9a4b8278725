#include "sweep/amplify.h"

#include <cmath>
#include <cstdlib>

#include <fmt/format.h>

#include "agent/amplify.h"
#include "sweep/fingerprint.h"

namespace cg {

bool ParseAmplify(const std::string& text, const std::string& where, double* p, std::string* err) {
  if (text == "off" || text == "none") {
    *p = 0;
    return true;
  }
  if (text == "on") {
    *p = kAmplifyDefaultP;
    return true;
  }
  double v = cg_amp_parse_p(text.c_str());  // the agent's own parser: what is accepted here, it reads
  if (v > 0 && v <= 1) {
    *p = v;
    return true;
  }
  *err = fmt::format("{} '{}' is not off, on or a probability in (0, 1] such as 0.2 (the share of API and phase "
                     "entries delayed; on is {})",
                     where, text, kAmplifyDefaultP);
  return false;
}

uint64_t AmplifySeed(const std::string& trial_uid) { return Fnv1a64("amplify/" + trial_uid); }

std::vector<std::pair<std::string, std::string>> AmplifyEnvironment(double p, uint64_t seed) {
  // Fixed-point text: the agent parses digits and one dot, no exponent.
  std::string value = fmt::format("{:.6f}", p);
  while (value.size() > 1 && value.back() == '0') value.pop_back();
  if (value.back() == '.') value.pop_back();
  return {{AGENT_ENV_AMPLIFY, value}, {AGENT_ENV_AMPLIFY_SEED, fmt::format("{:016x}", seed)}};
}

}  // namespace cg

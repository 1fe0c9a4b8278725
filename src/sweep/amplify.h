// --amplify: how a sweep asks the agent to inject delays (src/agent/amplify.h), as a fixed value or a grid
// axis (`--grid amplify=off,on`). The value is part of the sweep key and of a cell, so amplified trials never
// share a run's verdict with plain ones.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace cg {

// "on": this probability at API and phase entries (thread starts: 0.5 whatever the value).
constexpr double kAmplifyDefaultP = 0.1;

// `off`, `on` or a probability in (0, 1] ("0.2"), as --amplify and an `amplify` axis take them: *p is 0 for
// off. False with *err (starting with `where`) naming the value and what is accepted.
bool ParseAmplify(const std::string& text, const std::string& where, double* p, std::string* err);

// The trial's seed for its delays: FNV-1a 64 of "amplify/" and the trial's uid, which the store records (so
// `show` prints it, and a trial's delays can be drawn again) without a column of its own.
uint64_t AmplifySeed(const std::string& trial_uid);

// What the agent reads from the environment for probability `p` > 0 and `seed`: CRASHGRID_AMPLIFY and
// CRASHGRID_AMPLIFY_SEED.
std::vector<std::pair<std::string, std::string>> AmplifyEnvironment(double p, uint64_t seed);

}  // namespace cg

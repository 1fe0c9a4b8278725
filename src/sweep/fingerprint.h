// Where a sweep runs: the environment fingerprint stored with a new run, and the path of crashgrid itself.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace cg {

// Environment fingerprint of this machine, from `crashgrid doctor --json --fingerprint` run as a child (so no
// GStreamer or CUDA state enters the sweep process), with basic host facts if that fails.
nlohmann::json CollectFingerprint(const std::string& self_exe);

// Path of the running crashgrid executable.
std::string SelfExe();

}  // namespace cg

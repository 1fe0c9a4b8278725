// Where a sweep runs and what a run is: the environment fingerprint stored with a new run, the identity of
// the --exec program's build, and the run identity that decides whether a sweep command continues a
// recorded run (same sweep key and same identity) or starts a new one beside it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "sweep/options.h"
#include "trial/run.h"

namespace cg {

// Environment fingerprint of this machine, from `crashgrid doctor --json --fingerprint` run as a child (so no
// GStreamer or CUDA state enters the sweep process), with basic host facts if that fails. For an --exec sweep
// it also holds "program": ProgramFingerprint of the program the trials run.
nlohmann::json CollectFingerprint(const std::string& self_exe, const SweepOptions& opts);

// What identifies the build of the program at `path` (resolved through PATH from `program` as the trials
// resolve it, with the sweep's --env PATH if given): {"path", "build_id"} from the ELF NT_GNU_BUILD_ID note of
// the file; for a file without one (a script, or an ELF linked without --build-id) {"path", "content_hash"}
// (FNV-1a 64 of its bytes: a script's own text, not its interpreter's); {"path", "error"} if unreadable.
nlohmann::json ProgramFingerprint(const std::string& program, const std::map<std::string, std::string>& env);

// The parts of a run that must match for a sweep command to continue it, in the order a difference is told:
// ("driver", nvidia driver version), ("GPUs", "name uuid, ..."), ("host", ...), ("crashgrid", version), and for
// --exec ("program", "build-id HEX" or "content hash HEX") and ("cwd", directory); then ("label KEY", VALUE) per
// --label and ("--env NAME", VALUE) per --env. Not the kernel, CPU, GStreamer version, crashgrid's commit or
// anything in the sweep key (that decides which runs are candidates at all). Empty values stay in the list.
using IdentityParts = std::vector<std::pair<std::string, std::string>>;
IdentityParts RunIdentityParts(const RunRecord& run);

// The one identity function: a hash of RunIdentityParts, stored in RunRecord.identity when a run is created.
std::string RunIdentity(const RunRecord& run);

// Whether a sweep command that would create `fresh` continues `stored` (of the same sweep key). A run stored
// before schema v4 has identity "": it is compared part by part on what it recorded (driver, GPUs, host,
// crashgrid version, labels and --env, which it cannot have had), not on the program's build or the cwd,
// which it never recorded.
bool SameIdentity(const RunRecord& stored, const RunRecord& fresh);

// What differs, for the first line of a sweep that starts a new run: "driver 570.86 differs from run 2's
// 550.54; label driver=570 differs from run 2's (none)". "" when SameIdentity.
std::string IdentityDifference(const RunRecord& stored, const RunRecord& fresh);

// FNV-1a, 64 bits: the sweep key's and the identity's hash (not a defence against forgery: it tells builds
// and settings apart).
uint64_t Fnv1a64(std::string_view s, uint64_t h = 1469598103934665603ull);

// Path of the running crashgrid executable.
std::string SelfExe();

}  // namespace cg

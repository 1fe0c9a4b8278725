// `crashgrid sweep`'s option checks: --grid, --param, --label, --env, --duration and --grace as BuildOptions
// (cli/cmd_sweep.cc) sees them after CLI11 has split the command line. That function is private to
// cmd_sweep.cc, so this file includes it. Input: one flag a line, its first byte saying which (G grid, P param,
// L label, E env, D duration, R grace); the first line's first byte picks the built-in reference-race
// workload (even) or --exec /bin/true (odd). Properties: a rejection says why; accepted labels, --env names and
// --param keys are of the documented characters; the duration is positive and finite; grid axes are distinct.
#include "cli/cmd_sweep.cc"  // NOLINT: the target fuzzes its anonymous namespace

#include <cmath>
#include <set>

#include "fuzz_check.h"

namespace {

bool AllOf(const std::string& s, const char* extra) {
  if (s.empty()) return false;
  for (char c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && !std::strchr(extra, c)) return false;
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 4096) return 0;
  std::string input(reinterpret_cast<const char*>(data), size);
  cg::Flags f;
  f.db = "fuzz.db";
  std::vector<std::string> exec_argv;
  bool exec = !input.empty() && (static_cast<unsigned char>(input[0]) & 1);
  if (exec) exec_argv = {"/bin/true"};
  else f.workload = "reference-race";
  for (const std::string& line : cg::Split(input, '\n')) {
    if (line.empty()) continue;
    std::string value = line.substr(1);
    switch (line[0]) {
      case 'G': f.grid.push_back(value); break;
      case 'P': f.params.push_back(value); break;
      case 'L': f.labels.push_back(value); break;
      case 'E': f.env.push_back(value); break;
      case 'D': f.duration = value; break;
      case 'R': f.grace = value; break;
      default: break;
    }
  }
  cg::SweepOptions o;
  std::string err;
  if (!cg::BuildOptions(f, exec_argv, &o, &err)) {
    FUZZ_CHECK(!err.empty(), "rejected without a message");
    return 0;
  }
  FUZZ_CHECK(std::isfinite(o.duration_s) && o.duration_s > 0, "duration %g accepted", o.duration_s);
  // No --grace leaves the sentinel (-1: DefaultGrace of the duration, sweep/options.h); a given one is finite, >= 0.
  if (f.grace.empty()) {
    FUZZ_CHECK(o.grace_s == -1, "grace %g without --grace", o.grace_s);
  } else {
    FUZZ_CHECK(std::isfinite(o.grace_s) && o.grace_s >= 0, "grace %g accepted", o.grace_s);
  }
  for (const auto& [k, v] : o.labels) FUZZ_CHECK(AllOf(k, "_.-"), "label key '%s' accepted", k.c_str());
  for (const auto& [k, v] : o.env) {
    FUZZ_CHECK(AllOf(k, "_") && !std::isdigit(static_cast<unsigned char>(k[0])), "--env '%s' accepted", k.c_str());
  }
  for (const auto& [k, v] : o.params) {
    FUZZ_CHECK(!k.empty() && k.find('=') == std::string::npos, "--param key '%s' accepted", k.c_str());
  }
  std::set<std::string> axes;
  for (const auto& a : o.grid) FUZZ_CHECK(axes.insert(a.name).second, "axis '%s' twice", a.name.c_str());
  return 0;
}

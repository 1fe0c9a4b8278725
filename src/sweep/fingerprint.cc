#include "sweep/fingerprint.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include <fmt/format.h>

#include "supervisor/supervisor.h"
#include "util/strings.h"

namespace cg {

using nlohmann::json;

std::string SelfExe() {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) return "crashgrid";
  return std::string(buf, static_cast<size_t>(n));
}

static json BasicHostFacts() {
  json j;
  char host[256] = {};
  gethostname(host, sizeof(host) - 1);
  j["host"] = host;
  struct utsname u;
  if (uname(&u) == 0) j["kernel"] = fmt::format("{} {} {}", u.sysname, u.release, u.machine);
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (StartsWith(line, "model name")) {
      size_t colon = line.find(':');
      if (colon != std::string::npos) j["cpu"] = std::string(Trim(line.substr(colon + 1)));
      break;
    }
  }
  j["cpus"] = std::thread::hardware_concurrency();
  return j;
}

json CollectFingerprint(const std::string& self_exe) {
  TrialSpec spec;
  spec.argv = {self_exe, "doctor", "--json", "--fingerprint"};
  spec.duration_s = 20;
  spec.grace_s = 5;
  spec.capture = CaptureMethod::kNone;
  TrialResult r = RunTrial(spec);
  json facts;
  if (r.outcome == Outcome::kClean) {
    facts = json::parse(r.stdout_tail, nullptr, /*allow_exceptions=*/false);
  }
  if (!facts.is_object()) {
    facts = BasicHostFacts();
    facts["fingerprint_error"] =
        fmt::format("`crashgrid doctor --json --fingerprint` {}: {}", OutcomeName(r.outcome),
                    std::string(Trim(r.stderr_tail.substr(0, 300))));
  }
  return facts;
}

}  // namespace cg

#include "sweep/fingerprint.h"

#include <elf.h>
#include <fcntl.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "supervisor/spawn.h"
#include "supervisor/supervisor.h"
#include "util/fd.h"
#include "util/strings.h"

namespace cg {

using nlohmann::json;

uint64_t Fnv1a64(std::string_view s, uint64_t h) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

std::string SelfExe() {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) return "crashgrid";
  return std::string(buf, static_cast<size_t>(n));
}

namespace {

json BasicHostFacts() {
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

bool ReadAt(int fd, void* buf, size_t n, uint64_t off) {
  return pread(fd, buf, n, static_cast<off_t>(off)) == static_cast<ssize_t>(n);
}

// The NT_GNU_BUILD_ID note of an ELF file, from its PT_NOTE segments (present in stripped files too), as hex;
// "" if the file is not ELF or has none. 64-bit ELF of this machine's byte order only: the executables a
// sweep runs here.
std::string ElfBuildId(int fd) {
  Elf64_Ehdr eh;
  if (!ReadAt(fd, &eh, sizeof eh, 0) || std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
      eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum > 4096)
    return "";
  for (unsigned i = 0; i < eh.e_phnum; ++i) {
    Elf64_Phdr ph;
    if (!ReadAt(fd, &ph, sizeof ph, eh.e_phoff + uint64_t{i} * sizeof ph)) return "";
    if (ph.p_type != PT_NOTE || ph.p_filesz > (1u << 20)) continue;
    std::string notes(ph.p_filesz, '\0');
    if (!ReadAt(fd, notes.data(), notes.size(), ph.p_offset)) continue;
    auto align4 = [](uint64_t n) { return (n + 3) & ~uint64_t{3}; };
    for (uint64_t pos = 0; pos + sizeof(Elf64_Nhdr) <= notes.size();) {
      Elf64_Nhdr nh;
      std::memcpy(&nh, notes.data() + pos, sizeof nh);
      uint64_t name_at = pos + sizeof nh, desc_at = name_at + align4(nh.n_namesz);
      if (desc_at + nh.n_descsz > notes.size()) break;
      if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 && std::memcmp(notes.data() + name_at, "GNU", 4) == 0) {
        std::string hex;
        for (uint64_t k = 0; k < nh.n_descsz; ++k)
          hex += fmt::format("{:02x}", static_cast<unsigned char>(notes[desc_at + k]));
        return hex;
      }
      pos = desc_at + align4(nh.n_descsz);
    }
  }
  return "";
}

std::string ContentHash(int fd, std::string* err) {
  uint64_t h = Fnv1a64("");
  char buf[1 << 16];
  for (uint64_t off = 0;;) {
    ssize_t n = pread(fd, buf, sizeof buf, static_cast<off_t>(off));
    if (n < 0) {
      *err = strerror(errno);
      return "";
    }
    if (n == 0) break;
    h = Fnv1a64(std::string_view(buf, static_cast<size_t>(n)), h);
    off += static_cast<uint64_t>(n);
  }
  return fmt::format("{:016x}", h);
}

std::string ProgramPart(const json& environment) {
  if (!environment.is_object() || !environment.contains("program") || !environment["program"].is_object()) return "";
  const json& p = environment["program"];
  if (p.contains("build_id") && p["build_id"].is_string()) return "build-id " + p["build_id"].get<std::string>();
  if (p.contains("content_hash") && p["content_hash"].is_string())
    return "content hash " + p["content_hash"].get<std::string>();
  return "unreadable";
}

std::string StringAt(const json& j, const char* a, const char* b = nullptr) {
  if (!j.is_object() || !j.contains(a)) return "";
  const json& v = b ? (j[a].is_object() && j[a].contains(b) ? j[a][b] : json()) : j[a];
  return v.is_string() ? v.get<std::string>() : "";
}

std::string GpusPart(const json& environment) {
  std::vector<std::string> gpus;
  if (environment.is_object() && environment.contains("nvidia") && environment["nvidia"].is_object() &&
      environment["nvidia"].contains("gpus") && environment["nvidia"]["gpus"].is_array()) {
    for (const json& g : environment["nvidia"]["gpus"]) {
      std::string name = StringAt(g, "name"), uuid = StringAt(g, "uuid");
      gpus.push_back(uuid.empty() ? name : name + " " + uuid);
    }
  }
  return Join(gpus, ", ");
}

// Parts a run stored before schema v4 never recorded.
bool RecordedBeforeV4(const std::string& part) { return part == "program" || part == "cwd"; }

}  // namespace

json ProgramFingerprint(const std::string& program, const std::map<std::string, std::string>& env) {
  std::vector<std::pair<std::string, std::string>> overrides(env.begin(), env.end());
  std::string path, err;
  if (!ResolveProgram(program, overrides, &path, &err)) return {{"path", program}, {"error", err}};
  json j = {{"path", path}};
  ScopedFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    j["error"] = fmt::format("cannot open: {}", strerror(errno));
    return j;
  }
  std::string id = ElfBuildId(fd.get());
  if (!id.empty()) {
    j["build_id"] = id;
    return j;
  }
  std::string hash = ContentHash(fd.get(), &err);
  if (hash.empty()) {
    j["error"] = "cannot read: " + err;
  } else {
    j["content_hash"] = hash;
  }
  return j;
}

json CollectFingerprint(const std::string& self_exe, const SweepOptions& opts) {
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
  if (!opts.exec_argv.empty()) facts["program"] = ProgramFingerprint(opts.exec_argv[0], opts.env);
  return facts;
}

IdentityParts RunIdentityParts(const RunRecord& run) {
  const json& env = run.environment;
  IdentityParts parts = {{"driver", StringAt(env, "nvidia", "driver_version")},
                         {"GPUs", GpusPart(env)},
                         {"host", StringAt(env, "host")},
                         {"crashgrid", run.crashgrid_version}};
  if (!run.exec_argv.empty()) {
    parts.emplace_back("program", ProgramPart(env));
    parts.emplace_back("cwd", run.cwd);
  }
  for (const auto& [k, v] : run.labels) parts.emplace_back("label " + k, v);
  for (const auto& [k, v] : run.env) parts.emplace_back("--env " + k, v);
  return parts;
}

std::string RunIdentity(const RunRecord& run) {
  return fmt::format("{:016x}", Fnv1a64(json(RunIdentityParts(run)).dump()));
}

std::string IdentityDifference(const RunRecord& stored, const RunRecord& fresh) {
  IdentityParts old_parts = RunIdentityParts(stored), new_parts = RunIdentityParts(fresh);
  bool legacy = stored.identity.empty();
  auto value = [](const IdentityParts& parts, const std::string& name) -> const std::string* {
    for (const auto& [k, v] : parts)
      if (k == name) return &v;
    return nullptr;
  };
  // "driver 550.54", "label rack=b7", "--env GST_DEBUG='3 4'": a label or variable is shown as it was given.
  auto shown = [](const std::string& name, const std::string* v) -> std::string {
    if (!v) return "(none)";
    size_t space = name.find(' ');
    if (StartsWith(name, "label ") || StartsWith(name, "--env ")) return name.substr(space + 1) + "=" + ShellQuote(*v);
    return v->empty() ? "(unknown)" : *v;
  };
  auto what = [](const std::string& name) {
    return StartsWith(name, "label ") ? std::string("label") : StartsWith(name, "--env ") ? std::string("--env") : name;
  };
  std::vector<std::string> names;
  std::set<std::string> seen;
  for (const IdentityParts* parts : {&new_parts, &old_parts})
    for (const auto& [k, v] : *parts)
      if (seen.insert(k).second) names.push_back(k);
  std::vector<std::string> diffs;
  for (const auto& name : names) {
    if (legacy && RecordedBeforeV4(name)) continue;
    const std::string *now = value(new_parts, name), *then = value(old_parts, name);
    if (now && then && *now == *then) continue;
    diffs.push_back(fmt::format("{} {} differs from run {}'s {}", what(name), shown(name, now), stored.id,
                                shown(name, then)));
  }
  return Join(diffs, "; ");
}

bool SameIdentity(const RunRecord& stored, const RunRecord& fresh) {
  if (!stored.identity.empty()) return stored.identity == RunIdentity(fresh);
  return IdentityDifference(stored, fresh).empty();
}

}  // namespace cg

#include "supervisor/handler_report.h"

#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "util/strings.h"

namespace cg {
namespace {

struct Mapping {
  uint64_t start = 0, end = 0, offset = 0;
  std::string path;
};

bool ParseHex(std::string_view s, uint64_t* out) {
  if (StartsWith(s, "0x")) s.remove_prefix(2);
  if (s.empty() || s.size() > 16) return false;
  uint64_t v = 0;
  for (char c : s) {
    int d;
    if (c >= '0' && c <= '9') d = c - '0';
    else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
    else return false;
    v = v * 16 + static_cast<uint64_t>(d);
  }
  *out = v;
  return true;
}

// "55d0c0a00000-55d0c0a01000 r-xp 00001000 fd:01 1234   /usr/bin/x"
bool ParseMapsLine(std::string_view line, Mapping* m) {
  std::vector<std::string> f;
  size_t i = 0;
  while (f.size() < 5 && i < line.size()) {
    while (i < line.size() && line[i] == ' ') ++i;
    size_t j = line.find(' ', i);
    if (j == std::string_view::npos) j = line.size();
    f.emplace_back(line.substr(i, j - i));
    i = j;
  }
  if (f.size() < 5) return false;
  size_t dash = f[0].find('-');
  if (dash == std::string::npos || !ParseHex(f[0].substr(0, dash), &m->start) ||
      !ParseHex(f[0].substr(dash + 1), &m->end) || !ParseHex(f[2], &m->offset)) {
    return false;
  }
  m->path = std::string(Trim(i < line.size() ? line.substr(i) : std::string_view()));
  return true;
}

}  // namespace

bool ParseHandlerRecord(std::string_view data, CrashReport* report, std::string* err) {
  constexpr std::string_view kMagic = "CRASHGRID-HANDLER 1\n";
  size_t begin = data.find(kMagic);
  if (begin == std::string_view::npos) {
    *err = "no handler record";
    return false;
  }
  std::string_view rest = data.substr(begin + kMagic.size());
  CrashReport r;
  r.method = "handler";
  std::vector<uint64_t> pcs;
  std::vector<Mapping> maps;
  bool in_maps = false, complete = false;
  while (!rest.empty()) {
    size_t nl = rest.find('\n');
    if (nl == std::string_view::npos) break;  // a torn last line: the process died mid-write
    std::string_view line = rest.substr(0, nl);
    rest.remove_prefix(nl + 1);
    if (in_maps) {
      if (line == "end") {
        complete = true;
        break;
      }
      Mapping m;
      if (ParseMapsLine(line, &m)) maps.push_back(std::move(m));
      continue;
    }
    if (line == "maps") {
      in_maps = true;
      continue;
    }
    size_t sp = line.find(' ');
    std::string_view key = line.substr(0, sp);
    std::string_view value = sp == std::string_view::npos ? std::string_view() : line.substr(sp + 1);
    long long n = 0;
    uint64_t hex = 0;
    if (key == "tid" && ParseInt(value, &n)) r.faulting_tid = static_cast<int>(n);
    else if (key == "signal" && ParseInt(value, &n)) r.signal = static_cast<int>(n);
    else if (key == "code" && ParseInt(value, &n)) r.si_code = static_cast<int>(n);
    else if (key == "addr" && ParseHex(value, &hex)) {
      r.fault_address = hex;
      r.has_fault_address = true;
    } else if (key == "noaddr") {
      r.has_fault_address = false;
    } else if (key == "name") {
      r.faulting_thread_name = std::string(value);
    } else if (key == "pc" && ParseHex(value, &hex)) {
      pcs.push_back(hex);
    }
  }
  if (!complete) {
    *err = "handler record is incomplete (the process died while writing it)";
    if (pcs.empty()) return false;
    r.error = *err;
  }
  // Load base of a module: the start of its lowest mapping (the one at file offset 0).
  std::map<std::string, uint64_t> base;
  for (const Mapping& m : maps) {
    if (m.path.empty() || m.path[0] != '/') continue;
    auto it = base.find(m.path);
    uint64_t b = m.start - m.offset;
    if (m.offset == 0 && (it == base.end() || m.start < it->second)) base[m.path] = m.start;
    else if (it == base.end()) base[m.path] = b;
  }
  ThreadStack t;
  t.tid = r.faulting_tid;
  t.name = r.faulting_thread_name;
  t.faulting = true;
  for (uint64_t pc : pcs) {
    Frame f;
    f.pc = pc;
    for (const Mapping& m : maps) {
      if (pc >= m.start && pc < m.end) {
        if (!m.path.empty() && m.path[0] == '/') {
          f.module = m.path;
          f.offset = pc - base[m.path];
        } else {
          f.module = m.path;  // [vdso], [stack], anonymous JIT code
          f.offset = pc - m.start;
        }
        break;
      }
    }
    t.frames.push_back(std::move(f));
  }
  r.threads.push_back(std::move(t));
  *report = std::move(r);
  return true;
}

std::string FindAgentLibrary() {
  if (const char* env = std::getenv(AGENT_LIB_ENV); env && *env) {
    return access(env, R_OK) == 0 ? std::string(env) : "";
  }
  // Found once, checked again at every call (a sweep asks before every trial): one access() a trial.
  static std::mutex mu;
  static std::string found;
  std::lock_guard<std::mutex> lock(mu);
  if (!found.empty() && access(found.c_str(), R_OK) == 0) return found;
  found.clear();
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) return "";
  std::string dir(exe, static_cast<size_t>(n));
  dir = dir.substr(0, dir.rfind('/'));
  std::string parent = dir.substr(0, dir.rfind('/'));
  // The build tree keeps it beside the binary; `cmake --install` puts it in $prefix/lib/crashgrid/ (private
  // to crashgrid, like the reference race library that the binary's RPATH finds there).
  for (const std::string& d : {dir, parent, parent + "/lib/crashgrid", parent + "/lib"}) {
    std::string p = d + "/" + AGENT_LIB_NAME;
    if (access(p.c_str(), R_OK) == 0) return found = p;
  }
  return "";
}

}  // namespace cg

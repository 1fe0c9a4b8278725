#include "sweep/api_serialize.h"

#include <fnmatch.h>

#include <algorithm>

#include <fmt/format.h>

#include "agent/api_names.h"
#include "util/strings.h"

namespace cg {

namespace {

// Names the agent exports or wraps in the NVENC table: a glob matching one of them serializes something.
// The lookups (cuGetProcAddress*, eglGetProcAddress) are tracked but never locked, so they do not count.
std::vector<std::string> KnownCalls() {
  std::vector<std::string> names;
#define NAME(n, k) names.push_back(#n);
  CG_API_HOOKS(NAME)
#undef NAME
  for (const char* n : cg_api_nvenc_table)
    if (n[0]) names.push_back(n);
  std::erase_if(names, [](const std::string& n) {
    return StartsWith(n, "cuGetProcAddress") || n == "eglGetProcAddress";
  });
  return names;
}

// A name or glob that can match a tracked call: it matches a known entry point, or its literal start (up to
// the first wildcard) lies within a tracked prefix's names (cuMemGetInfo_v2, reached through dlsym or
// cuGetProcAddress, is tracked without being exported by the agent).
bool CanMatchTrackedCall(const std::string& item) {
  static const std::vector<std::string> known = KnownCalls();
  for (const auto& n : known)
    if (fnmatch(item.c_str(), n.c_str(), 0) == 0) return true;
  std::string literal = item.substr(0, item.find_first_of("*?[\\"));
  for (const char* prefix : cg_api_tracked_prefixes)
    if (!literal.empty() && StartsWith(literal, prefix)) return true;
  return false;
}

}  // namespace

std::vector<std::string> ApiSerializeGroups() {
  std::vector<std::string> groups = {"none", "all"};
  for (const auto& g : cg_api_groups) groups.push_back(g.name);
  return groups;
}

bool CheckApiSerialize(const std::string& spec, const std::string& where, std::string* err) {
  std::string normalized(Trim(spec));
  std::replace(normalized.begin(), normalized.end(), '+', ',');
  for (const auto& part : Split(normalized, ',')) {
    std::string item(Trim(part));
    std::vector<std::string> groups = ApiSerializeGroups();
    if (std::find(groups.begin(), groups.end(), item) != groups.end()) continue;
    if (!item.empty() && CanMatchTrackedCall(item)) continue;
    std::string what = item.empty() ? "an empty group" : fmt::format("unknown group '{}'", item);
    *err = fmt::format("{}: {} in '{}'{} (an --exec program's serialize names API groups: use {}, or a glob "
                       "matching a tracked call such as 'cuvidCreate*'; join several with ',' or '+')",
                       where, what, spec, DidYouMean(item, groups), Join(groups, ", "));
    return false;
  }
  return true;
}

}  // namespace cg

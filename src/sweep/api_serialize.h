// --serialize for an --exec program: the value names API groups or globs the agent locks around
// (src/agent/api_names.h). Checked before a sweep starts, so that a misspelt group is an error, not a
// sweep of trials that serialize nothing.
#pragma once

#include <string>
#include <vector>

namespace cg {

// The groups, as the user writes them: "none", "all", then api_names.h's groups ("cuvid", ...).
std::vector<std::string> ApiSerializeGroups();

// True when every item of `spec` (joined by ',' or '+') is "none", "all", a group, or a glob or name that can
// match a call the agent tracks. Else false with *err (starting with `where`: "--serialize") naming the item
// and listing the valid groups.
bool CheckApiSerialize(const std::string& spec, const std::string& where, std::string* err);

}  // namespace cg

#include <fmt/format.h>

#include "util/strings.h"
#include "runtime/workload.h"

namespace cg {

std::string Params::Get(const std::string& key, const std::string& fallback) const {
  auto it = values_.find(key);
  return it == values_.end() ? fallback : it->second;
}

bool Params::GetInt(const std::string& key, long long fallback, long long min, long long max, long long* out,
                    std::string* err) const {
  auto it = values_.find(key);
  if (it == values_.end()) {
    *out = fallback;
    return true;
  }
  long long v = 0;
  if (!ParseInt(Trim(it->second), &v) || v < min || v > max) {
    *err = fmt::format("parameter '{}' must be an integer from {} to {}, not '{}'", key, min, max, it->second);
    return false;
  }
  *out = v;
  return true;
}

bool Params::GetDuration(const std::string& key, double fallback, double* out, std::string* err) const {
  auto it = values_.find(key);
  if (it == values_.end()) {
    *out = fallback;
    return true;
  }
  std::string why;
  double v = 0;
  if (!ParseDuration(it->second, &v, &why) || v <= 0) {
    *err = fmt::format("parameter '{}' must be a positive duration such as 500ms, 5s or 1m, not '{}'", key,
                       it->second);
    return false;
  }
  *out = v;
  return true;
}

}  // namespace cg

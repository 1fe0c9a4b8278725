// `--grid NAME=SPEC` (sweep/grid.h). Properties: an accepted axis has a valid name and at least one value, no
// value is empty or repeated, and its canonical form NAME=v1,v2,... parses back to the same axis.
#include <set>
#include <string>

#include "fuzz_check.h"
#include "sweep/grid.h"
#include "util/strings.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 4096) return 0;
  std::string text(reinterpret_cast<const char*>(data), size);
  cg::GridAxis axis;
  std::string err;
  if (!cg::ParseGridAxis(text, &axis, &err)) {
    FUZZ_CHECK(!err.empty(), "rejected '%s' without a message", text.c_str());
    return 0;
  }
  FUZZ_CHECK(!axis.name.empty(), "accepted '%s' with an empty name", text.c_str());
  FUZZ_CHECK(!axis.values.empty() && axis.values.size() <= 10000, "'%s': %zu values", text.c_str(),
             axis.values.size());
  std::set<std::string> seen;
  for (const auto& v : axis.values) {
    FUZZ_CHECK(!v.empty(), "'%s' gave an empty value", text.c_str());
    FUZZ_CHECK(seen.insert(v).second, "'%s' gave '%s' twice", text.c_str(), v.c_str());
  }
  // The canonical form of a long range is a long list, whose duplicate check is quadratic: skip those.
  if (axis.values.size() > 300) return 0;
  std::string canonical = axis.name + "=" + cg::Join(axis.values, ",");
  cg::GridAxis again;
  FUZZ_CHECK(cg::ParseGridAxis(canonical, &again, &err), "'%s' -> '%s' does not parse: %s", text.c_str(),
             canonical.c_str(), err.c_str());
  FUZZ_CHECK(again.name == axis.name && again.values == axis.values, "'%s' -> '%s' parses to another axis",
             text.c_str(), canonical.c_str());
  return 0;
}

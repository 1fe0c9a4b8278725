// Durations (util/strings.h ParseDuration, FormatDuration). Properties: an accepted duration is finite and not
// negative; FormatDuration of it is printable ASCII, and when it is one number with one unit (below a minute)
// it parses back to within its rounding.
#include <cmath>
#include <string>

#include "fuzz_check.h"
#include "util/strings.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 512) return 0;
  std::string text(reinterpret_cast<const char*>(data), size);
  double s = -1;
  std::string err;
  if (!cg::ParseDuration(text, &s, &err)) {
    FUZZ_CHECK(!err.empty(), "rejected '%s' without a message", text.c_str());
    return 0;
  }
  FUZZ_CHECK(std::isfinite(s) && s >= 0, "'%s' parsed to %g", text.c_str(), s);
  std::string shown = cg::FormatDuration(s);
  FUZZ_CHECK(!shown.empty(), "'%s': empty format", text.c_str());
  for (char c : shown) FUZZ_CHECK(c > 0x20 && c < 0x7F, "'%s' formats with a control byte", text.c_str());
  if (s < 59.9) {
    double back = -1;
    FUZZ_CHECK(cg::ParseDuration(shown, &back, &err), "'%s' -> '%s' does not parse: %s", text.c_str(),
               shown.c_str(), err.c_str());
    double tolerance = s < 1 ? 0.0005 : 0.05;
    FUZZ_CHECK(std::fabs(back - s) <= tolerance + 1e-9, "'%s' = %.9g -> '%s' = %.9g", text.c_str(), s,
               shown.c_str(), back);
  }
  return 0;
}

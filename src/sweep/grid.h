// Grid specs and cells: `--grid threads=1..12`, `1..12:2`, `1,2,4,8`, `none,all,start+stop`.
#pragma once

#include <string>
#include <vector>

#include "trial/run.h"
#include "trial/trial.h"

namespace cg {

// Parses "NAME=SPEC". On failure *err says what is wrong and shows the accepted forms.
[[nodiscard]] bool ParseGridAxis(const std::string& text, GridAxis* axis, std::string* err);

}  // namespace cg

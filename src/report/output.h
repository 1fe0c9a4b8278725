// Writing a rendered report to its file: all or nothing, so a crash or a full disk midway never leaves a
// half-written report where a good one was.
#pragma once

#include <string>

namespace cg {

// Writes `data` to `path` through a temporary file in the same directory and a rename. "-" writes to stdout.
// On failure *err names the file and the reason.
bool WriteTextFile(const std::string& path, const std::string& data, std::string* err);

}  // namespace cg

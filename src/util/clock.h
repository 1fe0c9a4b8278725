#pragma once

#include <chrono>

namespace cg {

// Seconds on the monotonic clock (for durations).
inline double MonotonicSeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
// Seconds since the Unix epoch (for timestamps stored in the database).
inline double UnixSeconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace cg

// Small string helpers used across modules.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace cg {

std::vector<std::string> Split(std::string_view s, char sep);
std::string Join(const std::vector<std::string>& parts, std::string_view sep);
std::string_view Trim(std::string_view s);
bool StartsWith(std::string_view s, std::string_view prefix);
bool EndsWith(std::string_view s, std::string_view suffix);
// Parses a whole base-10 integer; false on junk, overflow or an empty string.
bool ParseInt(std::string_view s, long long* out);
// Parses a whole finite floating-point number.
bool ParseDouble(std::string_view s, double* out);

// The candidate closest to `name` by edit distance, or "" when none is close enough to be a likely typo.
std::string NearestName(std::string_view name, const std::vector<std::string>& candidates);
// ", did you mean 'x'?" or "" — to append to an error message.
std::string DidYouMean(std::string_view name, const std::vector<std::string>& candidates);

// Duration with a unit: "250ms", "5s", "2m", "1.5s". A bare number is seconds.
bool ParseDuration(std::string_view s, double* seconds, std::string* err);
// "250ms", "5s", "2m30s", "1h02m".
std::string FormatDuration(double seconds);

// Keeps the last `limit` bytes appended to it.
class TailBuffer {
 public:
  explicit TailBuffer(size_t limit) : limit_(limit) {}
  void Append(std::string_view data);
  const std::string& str() const { return buf_; }
  bool truncated() const { return truncated_; }

 private:
  size_t limit_;
  std::string buf_;
  bool truncated_ = false;
};

// A word for a POSIX shell: left bare when it is made of safe characters only, else single-quoted.
std::string ShellQuote(std::string_view s);
// Words for a POSIX shell: each ShellQuote'd, joined by spaces. /bin/sh -c parses it back into `argv`.
std::string ShellJoin(const std::vector<std::string>& argv);

}  // namespace cg

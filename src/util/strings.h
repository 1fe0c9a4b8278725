// Small string helpers used across modules.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cg {

std::vector<std::string> Split(std::string_view s, char sep);
std::string Join(const std::vector<std::string>& parts, std::string_view sep);
std::string_view Trim(std::string_view s);
bool StartsWith(std::string_view s, std::string_view prefix);
// The part of a path after its last slash (all of it without one).
std::string_view Basename(std::string_view path);
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

// Decodes one UTF-8 code point at s[i] (i < s.size()); returns its length in bytes, or 0 for an invalid
// sequence (truncated, overlong, a surrogate, past U+10FFFF), as a strict decoder must.
size_t DecodeUtf8(std::string_view s, size_t i, uint32_t* cp);
void AppendUtf8(uint32_t cp, std::string* out);

// Text that crashgrid did not make (a program's output, thread and symbol names, grid values, labels, paths)
// made safe to print on a terminal, a pipe or a Markdown/CSV file: every C0 control character and DEL becomes
// `\x1b`, `\x00`, `\x7f`; each byte of invalid UTF-8 becomes `\xNN`; C1 controls (U+0080..U+009F, which some
// terminals obey as CSI/OSC) and the bidirectional overrides and isolates (U+202A..U+202E, U+2066..U+2069,
// U+061C, which reorder what is shown) become `\u009b`, `\u202e`. Everything else, backslashes included, is
// left as it is: the result is for reading, not for decoding back. Valid UTF-8, printable, and idempotent.
// TerminalText keeps newline and tab (for multi-line text: captured output); TerminalLine escapes them too
// (`\x0a`, `\x09`), for what must stay on its line: names, values, frames.
std::string TerminalText(std::string_view s);
std::string TerminalLine(std::string_view s);

}  // namespace cg

#include "util/error.h"

#include <cstdio>
#include <cstdlib>

#include "util/strings.h"

namespace cg {

// Messages quote what the user typed and what programs printed or named: controls are made visible.
void PrintError(std::string_view msg) {
  std::string text = TerminalText(msg);
  std::fprintf(stderr, "crashgrid: error: %.*s\n", static_cast<int>(text.size()), text.data());
}

void PrintWarning(std::string_view msg) {
  std::string text = TerminalText(msg);
  std::fprintf(stderr, "crashgrid: warning: %.*s\n", static_cast<int>(text.size()), text.data());
}

void CheckFailed(const char* file, int line, const char* cond, std::string_view msg) {
  std::fprintf(stderr, "crashgrid: internal error: %s:%d: check failed: %s %.*s\n", file, line, cond,
               static_cast<int>(msg.size()), msg.data());
  std::abort();
}

}  // namespace cg

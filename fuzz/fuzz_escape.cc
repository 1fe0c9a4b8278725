// The escapers (report/escape.h SanitizeText, HtmlEscape, CsvField; util/strings.h ShellQuote, ShellJoin), on
// arbitrary bytes. Properties:
//  - SanitizeText: valid UTF-8, no C0 control but tab/LF/CR, no DEL, idempotent, and text that needed nothing
//    comes back unchanged.
//  - HtmlEscape: no raw < > " ', every & starts one of the five references, and unescaping gives SanitizeText.
//  - CsvField: an RFC 4180 reader gets the input back (or it with a leading ' where a spreadsheet would read a
//    formula: the guard issue 12 asks for).
//  - ShellQuote / ShellJoin: a POSIX shell word splitter (below, strict: any unquoted metacharacter is a failure)
//    gets the words back, and the first word is never read as a NAME=VALUE assignment.
// Hook for the terminal escaper (issue 12, util/strings TerminalText/TerminalLine): once it is on main, add its
// properties in CheckTerminal below: valid UTF-8, no C0/DEL/C1 control and no bidi override in the output
// (TerminalLine: no LF or tab either), idempotent.
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "report/escape.h"
#include "util/strings.h"

namespace {

void CheckSanitize(std::string_view in) {
  std::string out = cg::SanitizeText(in);
  FUZZ_CHECK(fuzz::ValidUtf8(out), "SanitizeText gave invalid UTF-8");
  bool needed_nothing = fuzz::ValidUtf8(in);
  for (unsigned char c : in)
    if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F) needed_nothing = false;
  if (in.find("\xEF\xBF\xBE") != std::string_view::npos || in.find("\xEF\xBF\xBF") != std::string_view::npos)
    needed_nothing = false;  // U+FFFE, U+FFFF: not XML characters
  for (unsigned char c : out)
    FUZZ_CHECK(!((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F), "SanitizeText kept byte %02x", c);
  FUZZ_CHECK(cg::SanitizeText(out) == out, "SanitizeText is not idempotent");
  if (needed_nothing) FUZZ_CHECK(out == in, "SanitizeText changed clean text");
}

void CheckHtml(std::string_view in) {
  std::string out = cg::HtmlEscape(in);
  std::string unescaped;
  for (size_t i = 0; i < out.size(); ++i) {
    char c = out[i];
    FUZZ_CHECK(c != '<' && c != '>' && c != '"' && c != '\'', "HtmlEscape kept a raw '%c'", c);
    if (c != '&') {
      unescaped += c;
      continue;
    }
    static const std::pair<std::string_view, char> kRefs[] = {
        {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&#39;", '\''}};
    bool found = false;
    for (const auto& [ref, ch] : kRefs) {
      if (std::string_view(out).substr(i, ref.size()) == ref) {
        unescaped += ch;
        i += ref.size() - 1;
        found = true;
        break;
      }
    }
    FUZZ_CHECK(found, "HtmlEscape left a bare '&' at %zu", i);
  }
  FUZZ_CHECK(unescaped == cg::SanitizeText(in), "HtmlEscape does not unescape to SanitizeText");
}

// One RFC 4180 field, the whole of `s`; false when it is not one.
bool ReadCsvField(std::string_view s, std::string* out) {
  out->clear();
  if (s.empty() || s.front() != '"') {
    for (char c : s)
      if (c == ',' || c == '"' || c == '\n' || c == '\r') return false;
    *out = std::string(s);
    return true;
  }
  if (s.size() < 2 || s.back() != '"') return false;
  for (size_t i = 1; i + 1 < s.size(); ++i) {
    if (s[i] == '"') {
      if (i + 2 >= s.size() || s[i + 1] != '"') return false;
      ++i;
    }
    *out += s[i];
  }
  return true;
}

void CheckCsv(std::string_view in) {
  std::string out = cg::CsvField(in), back;
  FUZZ_CHECK(ReadCsvField(out, &back), "CsvField gave a malformed field");
  bool formula = !in.empty() && std::string_view("=+-@\t\r").find(in.front()) != std::string_view::npos;
  FUZZ_CHECK(back == in || (formula && back == "'" + std::string(in)), "CsvField does not read back");
}

// POSIX word splitting of a command line made only of words (no operators, expansions or globs: a word that
// holds one unquoted is a failure, as a paste of it would run something else). Handles '...', "...", \x.
bool SplitShellWords(std::string_view s, std::vector<std::string>* words, std::string* why) {
  words->clear();
  size_t i = 0;
  while (i < s.size()) {
    if (s[i] == ' ') {
      ++i;
      continue;
    }
    std::string w;
    bool any_quote = false;
    while (i < s.size() && s[i] != ' ') {
      char c = s[i];
      if (c == '\'') {
        size_t end = s.find('\'', i + 1);
        if (end == std::string_view::npos) return *why = "unterminated '", false;
        w.append(s.substr(i + 1, end - i - 1));
        i = end + 1;
        any_quote = true;
      } else if (c == '\\') {
        if (i + 1 >= s.size()) return *why = "trailing backslash", false;
        w += s[i + 1];
        i += 2;
        any_quote = true;
      } else if (c == '"') {
        return *why = "double quotes (not produced by ShellQuote)", false;
      } else if (std::string_view("|&;<>()$`*?[]#~{}!\t\n").find(c) != std::string_view::npos ||
                 static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
        return *why = std::string("unquoted metacharacter or control byte ") + std::to_string(int(c)), false;
      } else {
        w += c;
        ++i;
      }
    }
    if (words->empty() && !any_quote) {
      // A first word NAME=VALUE is an assignment, not the program.
      size_t eq = w.find('=');
      bool name = eq != std::string::npos && eq > 0 && !(w[0] >= '0' && w[0] <= '9');
      for (size_t k = 0; name && k < eq; ++k)
        name = (w[k] >= 'a' && w[k] <= 'z') || (w[k] >= 'A' && w[k] <= 'Z') || (w[k] >= '0' && w[k] <= '9') ||
               w[k] == '_';
      if (name) return *why = "first word is an assignment", false;
    }
    words->push_back(std::move(w));
  }
  return true;
}

void CheckShell(std::string_view in) {
  std::vector<std::string> words;
  std::string why;
  std::string one = cg::ShellQuote(in);
  // ShellQuote alone quotes a word that may stand anywhere but first; ShellJoin is what places it first.
  std::string line = "x " + one;
  FUZZ_CHECK(SplitShellWords(line, &words, &why), "ShellQuote output does not split: %s", why.c_str());
  FUZZ_CHECK(words.size() == 2 && words[1] == in, "ShellQuote does not round-trip");
  // Split the input into several argv words at NUL bytes (argv cannot hold NUL anyway).
  std::vector<std::string> argv;
  std::string cur;
  for (char c : in) {
    if (c == '\0') {
      argv.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  argv.push_back(cur);
  std::string joined = cg::ShellJoin(argv);
  FUZZ_CHECK(SplitShellWords(joined, &words, &why), "ShellJoin output does not split: %s", why.c_str());
  FUZZ_CHECK(words == argv, "ShellJoin does not round-trip (%zu words in, %zu out)", argv.size(), words.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 16384) return 0;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  CheckSanitize(in);
  CheckHtml(in);
  CheckCsv(in);
  CheckShell(in);
  return 0;
}

// Escaping for every output format the reports write. Captured text (stack frames, program output, parameter
// values, command lines) comes from programs that crash and may be hostile: it goes through one of these
// before it is placed in HTML, SVG/XML, CSV or a shell command line. Nothing here trusts its input to be
// valid UTF-8.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "util/strings.h"

namespace cg {

// Valid UTF-8 that is also legal XML 1.0 character data: invalid byte sequences become U+FFFD; C0 control
// characters other than tab, newline and carriage return become their visible Control Pictures (ESC -> U+241B),
// so ANSI colour codes in program output stay readable instead of being dropped or breaking an XML parser.
std::string SanitizeText(std::string_view s);

// For HTML text and double- or single-quoted attribute values: sanitized, then & < > " ' as references.
std::string HtmlEscape(std::string_view s);
// The same rules serve XML (SVG, JUnit): &#39; is valid in both.
inline std::string XmlEscape(std::string_view s) { return HtmlEscape(s); }

// One RFC 4180 field: quoted when it holds a comma, quote, CR or LF, or leading/trailing space. A field that a
// spreadsheet would take for a formula (it starts with = + - @, tab or CR: OWASP's list) is prefixed with a
// single quote and quoted (`"'=cmd|' /C calc'!A0"`), unless the whole field is a number: "-3" and "-0.25"
// (crashgrid's numbers and a grid's negative values) stay numbers.
std::string CsvField(std::string_view s);
bool CsvFormulaStart(std::string_view s);

// ShellQuote and ShellJoin (words for a POSIX shell): util/strings.h.

}  // namespace cg

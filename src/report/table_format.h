// The formats of `crashgrid table --format`: the one list that the CLI's help and validation and the
// renderers use (report/table.h renders them).
#pragma once

#include <string>
#include <vector>

namespace cg {

enum class TableFormat { kSeed, kPercent, kMarkdown, kVerdict, kCsv, kJson };

struct TableFormatInfo {
  TableFormat format;
  const char* name;
  const char* help;  // one paragraph for `table --help`, lines after the first indented to the help column
};

// In the order `table --help` and the error for an unknown format list them.
const std::vector<TableFormatInfo>& TableFormats();
// "seed", "percent", "markdown", "verdict", "csv", "json".
const std::vector<std::string>& TableFormatNames();
// The names joined by '|' for an option's description: "seed|percent|markdown|verdict|csv|json".
std::string TableFormatChoices();
// The "formats:" block of `table --help`: each name and its help.
std::string TableFormatsHelp();
// On failure *err names the format and the valid ones (with a did-you-mean).
bool ParseTableFormat(const std::string& name, TableFormat* format, std::string* err);

}  // namespace cg

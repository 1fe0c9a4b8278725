#include "report/table_format.h"

#include <fmt/format.h>

#include "util/strings.h"

namespace cg {

const std::vector<TableFormatInfo>& TableFormats() {
  static const std::vector<TableFormatInfo> formats = {
      {TableFormat::kSeed, "seed",
       "exit-code counts per cell ({0: 66, 139: 3}: 128+N is signal N, 124 a hang or an overrun, 127\n"
       "could not start), laid out byte for byte like table.py's python-tabulate \"grid\" table"},
      {TableFormat::kPercent, "percent",
       "crashes k/n, crash rate and Wilson 95% interval; with no crash the one-sided 95% upper bound"},
      {TableFormat::kMarkdown, "markdown", "the percent cells as a GitHub table"},
      {TableFormat::kVerdict, "verdict",
       "Wald SPRT verdict per cell (SAFE, CRASHES, UNDECIDED) with the run's --p0/--p1/--alpha/--beta;\n"
       "a cell with any failed trial (exited non-zero) is never SAFE"},
      {TableFormat::kCsv, "csv", "one row per cell: axis values, n, crashes, outcomes, exit codes, Wilson bounds, exposure"},
      {TableFormat::kJson, "json", "the run, its axes and every cell's counts and interval (schema_version 2)"},
  };
  return formats;
}

const std::vector<std::string>& TableFormatNames() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const auto& f : TableFormats()) out.push_back(f.name);
    return out;
  }();
  return names;
}

std::string TableFormatChoices() { return Join(TableFormatNames(), "|"); }

std::string TableFormatsHelp() {
  std::string out = "formats:\n";
  for (const auto& f : TableFormats()) {
    std::string help = f.help;
    std::string indented;
    for (char c : help) indented += c == '\n' ? std::string("\n            ") : std::string(1, c);
    out += fmt::format("  {:<9} {}\n", f.name, indented);
  }
  return out;
}

bool ParseTableFormat(const std::string& name, TableFormat* format, std::string* err) {
  for (const auto& f : TableFormats()) {
    if (name == f.name) {
      *format = f.format;
      return true;
    }
  }
  const auto& names = TableFormatNames();
  *err = fmt::format("unknown table format '{}'{} (use one of: {})", name, DidYouMean(name, names),
                     Join(names, ", "));
  return false;
}

}  // namespace cg

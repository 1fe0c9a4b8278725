// python-tabulate 0.8.9's table layouts, byte for byte: what table.py printed, so `table --format seed` can
// be diffed against old logs. Pure functions, no I/O.
#pragma once

#include <string>
#include <vector>

namespace cg {

// tabulate(rows, headers, tablefmt="grid") for string cells: columns whose cells all read as numbers are
// right/decimal-aligned (floats reformatted with "g"), others left-aligned; each column at least two wider
// than its header. Ends without a newline, like tabulate.
std::string TabulateGrid(const std::vector<std::string>& headers, const std::vector<std::vector<std::string>>& rows);
// The same for tablefmt="pipe" (Markdown).
std::string TabulatePipe(const std::vector<std::string>& headers, const std::vector<std::vector<std::string>>& rows);

}  // namespace cg

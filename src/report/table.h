// `crashgrid table`: a run's crash table as text. Renderers return strings; the command prints them.
//
// Formats: seed (table.py's exit-code counts in python-tabulate's "grid" layout, byte for byte), percent
// (k/n, % and Wilson 95% interval, or the one-sided 95% upper bound with no crash), markdown (percent cells
// as a GitHub pipe table), verdict (Wald SPRT per cell), csv (one row per cell) and json (schema_version 2).
//
// Every format but seed counts as OutcomeEvidence says: k is the crashed and hung trials, n the crashed, hung
// and clean ones; failed and overran trials are shown apart ("+2 failed") and are in no rate or verdict, so a
// cell whose trials all failed is never SAFE. seed prints exit codes as table.py saw them (overran as 124,
// like a hang, which is what timeout(1) reports).
#pragma once

#include <string>
#include <vector>

#include "store/store.h"
#include "trial/run.h"

namespace cg {

enum class TableFormat { kSeed, kPercent, kMarkdown, kVerdict, kCsv, kJson };

constexpr int kTableJsonSchemaVersion = 2;

// "seed", "percent", "markdown", "verdict", "csv", "json".
const std::vector<std::string>& TableFormatNames();
// On failure *err names the format and the valid ones (with a did-you-mean).
bool ParseTableFormat(const std::string& name, TableFormat* format, std::string* err);

struct TableOptions {
  TableFormat format = TableFormat::kPercent;
  std::string rows;       // axis for rows; "" = the first axis
  std::string cols;       // axis for columns; "" = the first axis that is not the rows' axis
  std::string signature;  // count only crashes with this signature (full or unambiguous prefix); "" = all
};

// The whole output for one run: header lines naming the run (and saying so when it is a reference target),
// then one table per combination of the axes that are neither rows nor columns, each under a title naming
// their values. Returns false with *err (a usage error: unknown axis, unknown or ambiguous signature).
bool RenderTable(const RunRecord& run, const std::vector<StoredTrial>& trials, const TableOptions& options,
                 std::string* out, std::string* err);

// Loads a run's trials from `store` and renders them (what `sweep --format` prints after a sweep).
bool RenderStoredTable(Store& store, int64_t run_id, const TableOptions& options, std::string* out,
                       std::string* err);

// python-tabulate 0.8.9's tabulate(rows, headers, tablefmt="grid") for string cells, byte for byte: columns
// whose cells all read as numbers are right/decimal-aligned (floats reformatted with "g"), others
// left-aligned; each column at least two wider than its header. Ends without a newline, like tabulate.
std::string TabulateGrid(const std::vector<std::string>& headers, const std::vector<std::vector<std::string>>& rows);
// The same for tablefmt="pipe" (Markdown).
std::string TabulatePipe(const std::vector<std::string>& headers, const std::vector<std::vector<std::string>>& rows);

// Cell texts, exposed for other renderers.
// "57/68 84% [73-91]"; with no crash "0/69 <4.3%" (upper bound rounded up); "" for n = 0.
std::string PercentCellText(int64_t k, int64_t n);

}  // namespace cg

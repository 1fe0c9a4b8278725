// `crashgrid table`: a run's crash table as text. Renderers return strings; the command prints them.
//
// Formats: seed (table.py's exit-code counts in python-tabulate's "grid" layout, byte for byte), percent
// (k/n, % and Wilson 95% interval, or the one-sided 95% upper bound with no crash; under `--until decided` or
// `--refine` the interval valid under that stopping rule, ShowCell in report/cells.h), markdown (percent cells
// as a GitHub pipe table), verdict (Wald SPRT per cell, as stored where it stopped), csv (one row per cell)
// and json (schema_version 3).
//
// Every format but seed counts as OutcomeEvidence says: k is the crashed and hung trials, n the crashed, hung
// and clean ones; failed and overran trials are shown apart ("+2 failed") and are in no rate or verdict, so a
// cell whose trials all failed is never SAFE. seed prints exit codes as table.py saw them (overran as 124,
// like a hang, which is what timeout(1) reports).
#pragma once

#include <string>
#include <vector>

#include "report/cells.h"
#include "report/table_format.h"
#include "report/tabulate.h"
#include "store/store.h"
#include "trial/run.h"

namespace cg {

constexpr int kTableJsonSchemaVersion = 3;

struct TableOptions {
  TableFormat format = TableFormat::kPercent;
  std::string rows;       // axis for rows; "" = the first axis
  std::string cols;       // axis for columns; "" = the first axis that is not the rows' axis
  std::string signature;  // count only crashes with this signature (full or unambiguous prefix); "" = all
};

// The whole output for one run: header lines naming the run (and saying so when it is a reference target),
// then one table per combination of the axes that are neither rows nor columns, each under a title naming
// their values. Returns false with *err (a usage error: unknown axis, unknown or ambiguous signature).
// `groups` are the run's trials grouped (Store::LoadTrialGroups, or GroupTrials of trials in memory).
bool RenderTable(const RunRecord& run, const std::vector<TrialGroup>& groups, const TableOptions& options,
                 std::string* out, std::string* err);

// Cell texts, exposed for other renderers.
// "57/68 84% [73-91]"; with no crash "0/69 <4.3%" (upper bound rounded up); "" for n = 0.
std::string PercentCellText(int64_t k, int64_t n);
// A cell as ShowCell says: PercentCellText for a fixed n; under a stopping rule "2/12* 17% [1.2-51]" with its
// interval (also "0/31* 0% [0-11]") and '*' where the SPRT stopped the cell.
std::string ShownCellText(const CellShown& s);
// "CRASHES 2/12*"; with trials after the verdict "CRASHES at 2/12; now 2/30".
std::string ShownVerdictText(const CellShown& s);

}  // namespace cg

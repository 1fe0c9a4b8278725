// The heatmap model shared by the HTML report, the SVG export and bug-report bundles: a run's trials
// aggregated per cell and laid out as `table` lays them out (first grid axis rows, second axis columns, one
// map per combination of the remaining axes). Pure data; svg.cc and html.cc draw it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "report/number_format.h"
#include "report/cells.h"
#include "stats/stats.h"
#include "store/store.h"
#include "trial/run.h"

namespace cg {

enum class HeatMeasure {
  kCrashes,     // crashed + hung out of the evidence trials (crashed, hung, clean); verdict from the SPRT
  kSignature,   // trials with one crash signature out of the evidence trials
  kThroughput,  // iterations/s (units/s when the workload counts units) over workload seconds
};

struct HeatCell {
  std::string cell_key;  // "threads=4,sessions=4"
  int64_t n = 0;         // evidence trials (OutcomeEvidence: crashed, hung, clean)
  int64_t k = 0;         // crashes, or crashes with the signature
  int64_t failed = 0;    // ran but neither: shown apart, in no rate
  int64_t overran = 0;
  double value = 0;      // k/n, or the rate
  bool present = false;  // false: no data for this cell (drawn grey)
  std::string label;     // "3/20", "3/20* +2" (* stopped by the SPRT; 2 failed or overran), "31 failed", "812/s"
  std::string note;      // "CRASHES"/"SAFE"/"UNDECIDED" for crashes (as stored where the SPRT stopped); ""
  std::string title;     // hover text: cell, counts, the 95% interval (shown.ci), the verdict
  // Crash and signature measures with n > 0: the interval valid under the run's stopping rule, the early-stop
  // mark and the verdict where the SPRT stopped (ShowCell). What a renderer prints in the cell.
  CellShown shown;
  Interval interval{0, 1};  // shown.ci where shown, else the Wilson interval of k/n (n > 0)
  std::string rate;         // printed in the cell under the counts: "15% [5.2-36%]"; "" without a rate
};

struct Heatmap {
  HeatMeasure measure = HeatMeasure::kCrashes;
  std::string title;     // "Crash probability", "Signature SIG", "Throughput (iterations/s)"
  std::string subtitle;  // values of the axes beyond the second: "encoders=2,serialize=none"; "" if none
  std::string row_axis;  // "" for a grid without axes
  std::string col_axis;  // "" for a grid with fewer than two axes
  std::vector<std::string> rows;
  std::vector<std::string> cols;
  std::vector<HeatCell> cells;  // rows.size() * cols.size(), row-major
  double max_value = 0;         // largest value (for the throughput colour scale)
  std::string interval_name;    // what HeatCell::interval is, for legends: "Wilson 95%"; "" for throughput

  const HeatCell& at(size_t r, size_t c) const { return cells[r * cols.size() + c]; }
};

// One map per combination of the axes beyond the second (one map for a grid of up to two axes).
// `signature` is used by kSignature only.
std::vector<Heatmap> BuildHeatmaps(const RunRecord& run, const std::vector<TrialGroup>& groups,
                                   HeatMeasure measure, const std::string& signature = "");

// Background colour of a cell as "#rrggbb": green for no crash, pale orange to dark red as k/n rises,
// light to dark blue for throughput, grey for no data.
std::string HeatColor(const Heatmap& map, const HeatCell& cell);
// Black or white, whichever reads better on HeatColor.
std::string HeatTextColor(const Heatmap& map, const HeatCell& cell);

// "SIGSEGV" for 11, "SIG42" for one without a name.
std::string SignalName(int sig);
// FormatPercent ("0.8%", "15%", "99.5%"): report/number_format.h.

// The signature a crashed or hung trial is grouped under: its captured signature, or "SIGSEGV (no stack)" /
// "hang (no stack)" when nothing was captured; "" for trials that did not crash.
std::string EffectiveSignature(const TrialResult& r);

// Crash signatures of a run with their counts, most frequent first (ties by name).
struct SignatureCount {
  std::string signature;
  int64_t count = 0;
};
std::vector<SignatureCount> CountSignatures(const std::vector<TrialGroup>& groups);

}  // namespace cg

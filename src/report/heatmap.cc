#include "report/heatmap.h"

#include <signal.h>
#include <string.h>

#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "report/cells.h"
#include "stats/stats.h"
#include "stats/stopping_settings.h"

namespace cg {
namespace {

struct Agg {
  int64_t n = 0;
  int64_t k = 0;
  int64_t failed = 0;
  int64_t overran = 0;
  double work = 0;       // iterations or units
  double seconds = 0;    // workload seconds
};

struct Rgb {
  double r, g, b;
};

Rgb Mix(Rgb a, Rgb b, double t) {
  t = std::clamp(t, 0.0, 1.0);
  return {a.r + (b.r - a.r) * t, a.g + (b.g - a.g) * t, a.b + (b.b - a.b) * t};
}

std::string Hex(Rgb c) {
  auto q = [](double v) { return static_cast<int>(std::lround(std::clamp(v, 0.0, 255.0))); };
  return fmt::format("#{:02x}{:02x}{:02x}", q(c.r), q(c.g), q(c.b));
}

const Rgb kNoData{0xe0, 0xe0, 0xe0};
const Rgb kClean{0xa6, 0xd9, 0x6a};

Rgb CellRgb(const Heatmap& map, const HeatCell& cell) {
  if (!cell.present) return kNoData;
  if (map.measure == HeatMeasure::kThroughput) {
    double t = map.max_value > 0 ? cell.value / map.max_value : 0;
    return Mix({0xde, 0xeb, 0xf7}, {0x08, 0x45, 0x94}, t);
  }
  if (cell.k == 0) return kClean;
  // Any crash at all must stand out from a clean cell, so the scale starts at a clear orange.
  double p = cell.value;
  if (p < 0.5) return Mix({0xfd, 0xd0, 0x8a}, {0xf4, 0x6d, 0x43}, p / 0.5);
  return Mix({0xf4, 0x6d, 0x43}, {0x9e, 0x01, 0x1a}, (p - 0.5) / 0.5);
}

std::string FormatRate(double v) {
  if (v >= 100) return fmt::format("{:.0f}", v);
  if (v >= 10) return fmt::format("{:.1f}", v);
  return fmt::format("{:.2f}", v);
}

}  // namespace

std::string SignalName(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  if (abbrev) return std::string("SIG") + abbrev;
  return fmt::format("SIG{}", sig);
}

std::string EffectiveSignature(const TrialResult& r) {
  if (OutcomeEvidence(r.outcome) != Evidence::kCrash) return "";
  if (!r.signature.empty()) return r.signature;
  if (r.outcome == Outcome::kHung) return "hang (no stack)";
  return SignalName(r.signal) + " (no stack)";
}

std::vector<SignatureCount> CountSignatures(const std::vector<TrialGroup>& groups) {
  std::map<std::string, int64_t> counts;
  for (const auto& g : groups) {
    std::string sig = EffectiveSignature(GroupResult(g));
    if (!sig.empty()) counts[sig] += g.count;
  }
  std::vector<SignatureCount> out;
  for (const auto& [sig, n] : counts) out.push_back({sig, n});
  std::stable_sort(out.begin(), out.end(),
                   [](const SignatureCount& a, const SignatureCount& b) { return a.count > b.count; });
  return out;
}

std::vector<Heatmap> BuildHeatmaps(const RunRecord& run, const std::vector<TrialGroup>& groups,
                                   HeatMeasure measure, const std::string& signature) {
  bool use_units = false;
  for (const auto& g : groups) {
    if (!g.units_name.empty() && g.units > 0) use_units = true;
  }
  std::string units_name = "iterations";
  std::map<std::string, Agg> agg;
  for (const auto& g : groups) {
    if (g.outcome == Outcome::kCouldNotStart) continue;
    Agg& a = agg[CellKey(g.cell)];
    if (OutcomeEvidence(g.outcome) == Evidence::kNeither) {
      if (g.outcome == Outcome::kFailed) a.failed += g.count;
      if (g.outcome == Outcome::kOverran) a.overran += g.count;
      continue;  // no rate and no throughput from a trial that failed or overran
    }
    a.n += g.count;
    if (measure == HeatMeasure::kCrashes && OutcomeEvidence(g.outcome) == Evidence::kCrash) a.k += g.count;
    if (measure == HeatMeasure::kSignature && EffectiveSignature(GroupResult(g)) == signature) a.k += g.count;
    // Only trials that measured their workload (workload_seconds > 0) count towards throughput: the
    // timed_* sums, and workload_seconds (zero for the others).
    if (g.workload_seconds > 0) {
      if (use_units && !g.units_name.empty()) units_name = g.units_name;
      a.work += static_cast<double>(use_units ? g.timed_units : g.timed_iterations);
      a.seconds += g.workload_seconds;
    }
  }
  const std::vector<GridAxis> axes = TrialAxes(run, groups);  // values outside the grid still show
  std::vector<Cell> pages =
      ExpandGrid(std::vector<GridAxis>(axes.begin() + std::min<size_t>(2, axes.size()), axes.end()));
  std::vector<Heatmap> maps;
  for (const auto& page : pages) {
    Heatmap m;
    m.measure = measure;
    switch (measure) {
      case HeatMeasure::kCrashes: m.title = "Crash probability"; break;
      case HeatMeasure::kSignature: m.title = "Signature " + signature; break;
      case HeatMeasure::kThroughput: m.title = "Throughput (" + units_name + "/s)"; break;
    }
    m.subtitle = CellKey(page);
    if (measure != HeatMeasure::kThroughput) {
      // The interval ShowCell gives this run's cells (the legend and the answer's table header read it).
      const StoppingSettings st = RunStoppingSettings(run);
      m.interval_name = !st.decides() ? "Wilson 95%"
                        : st.refine    ? "always-valid 95%"
                                       : "95% exact for the SPRT's stopping rule (* stopped early)";
    }
    if (axes.size() >= 1) {
      m.row_axis = axes[0].name;
      m.rows = axes[0].values;
    } else {
      m.rows = {""};
    }
    if (axes.size() >= 2) {
      m.col_axis = axes[1].name;
      m.cols = axes[1].values;
    } else {
      m.cols = {""};
    }
    for (const auto& row : m.rows) {
      for (const auto& col : m.cols) {
        Cell cell;
        if (axes.size() >= 1) cell.emplace_back(axes[0].name, row);
        if (axes.size() >= 2) cell.emplace_back(axes[1].name, col);
        cell.insert(cell.end(), page.begin(), page.end());
        HeatCell hc;
        hc.cell_key = CellKey(cell);
        std::string where = hc.cell_key.empty() ? "the only cell" : hc.cell_key;
        auto it = agg.find(hc.cell_key);
        if (it != agg.end()) {
          const Agg& a = it->second;
          hc.n = a.n;
          hc.k = a.k;
          hc.failed = a.failed;
          hc.overran = a.overran;
        }
        std::string neither;  // "; 2 failed, 1 overran (neither crashes nor clean runs: not counted)"
        if (hc.failed + hc.overran > 0) {
          std::vector<std::string> parts;
          if (hc.failed > 0) parts.push_back(fmt::format("{} failed", hc.failed));
          if (hc.overran > 0) parts.push_back(fmt::format("{} overran", hc.overran));
          neither = "; " + fmt::format("{}", fmt::join(parts, ", ")) +
                    " (neither crashes nor clean runs: not counted)";
        }
        if (measure == HeatMeasure::kThroughput) {
          if (it != agg.end() && it->second.seconds > 0) {
            hc.present = true;
            hc.value = it->second.work / it->second.seconds;
            hc.label = FormatRate(hc.value) + "/s";
            hc.title = fmt::format("{}: {} {}/s over {:.1f} workload seconds in {} trials", where,
                                   FormatRate(hc.value), units_name, it->second.seconds, hc.n);
          } else {
            hc.label = "-";
            hc.title = where + ": no throughput measured";
          }
        } else if (hc.n > 0) {
          hc.present = true;
          hc.value = static_cast<double>(hc.k) / static_cast<double>(hc.n);
          hc.shown = ShowCell(run, hc.cell_key, hc.k, hc.n, measure != HeatMeasure::kCrashes, hc.failed);
          const CellShown& s = hc.shown;
          hc.label = fmt::format("{}/{}{}", hc.k, hc.n, s.stopped_early ? "*" : "");
          if (hc.failed + hc.overran > 0) hc.label += fmt::format(" +{}", hc.failed + hc.overran);
          hc.interval = s.ci;
          hc.rate = FormatRateAndInterval(hc.value, s.ci);
          std::string what = measure == HeatMeasure::kCrashes ? "crashed or hung" : "with this signature";
          const char* method = s.stop == StopKind::kFixed      ? "Wilson 95%"
                               : s.stop == StopKind::kAdaptive ? "always-valid 95%"
                                                               : "95% (exact for the SPRT's stopping rule)";
          hc.title = fmt::format("{}: {}/{} {} ({}), {} [{}, {}]", where, hc.k, hc.n, what, FormatPercent(hc.value),
                                 method, FormatPercent(s.ci.lo), FormatPercent(s.ci.hi));
          if (measure == HeatMeasure::kCrashes) {
            hc.note = s.verdict;
            if (s.stop == StopKind::kFixed && hc.k == 0)
              hc.title += fmt::format(", one-sided 95% upper bound {}", FormatPercent(s.upper_bound));
            hc.title += ", SPRT " + hc.note;
            if (s.later_evidence()) hc.title += fmt::format(" at {}/{}; now {}/{}", s.verdict_k, s.verdict_n, hc.k, hc.n);
            else if (s.stopped_early) hc.title += fmt::format(" (stopped at n={})", s.verdict_n);
          }
          hc.title += neither;
        } else if (hc.failed + hc.overran > 0) {
          // Ran, but nothing it says bears on crashing: grey like a cell without trials, and never a verdict.
          hc.label = hc.failed > 0 ? fmt::format("{} failed", hc.failed) : fmt::format("{} overran", hc.overran);
          hc.title = where + ": no trial crashed, hung or ran clean" + neither;
        } else {
          hc.label = "-";
          hc.title = where + ": no trials";
        }
        m.max_value = std::max(m.max_value, hc.value);
        m.cells.push_back(std::move(hc));
      }
    }
    maps.push_back(std::move(m));
  }
  return maps;
}

std::string HeatColor(const Heatmap& map, const HeatCell& cell) { return Hex(CellRgb(map, cell)); }

std::string HeatTextColor(const Heatmap& map, const HeatCell& cell) {
  Rgb c = CellRgb(map, cell);
  double luma = 0.2126 * c.r + 0.7152 * c.g + 0.0722 * c.b;
  return luma < 140 ? "#ffffff" : "#000000";
}

}  // namespace cg

#include "report/table.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <unordered_map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "report/cells.h"
#include "report/crashes.h"
#include "report/escape.h"
#include "report/number_format.h"
#include "report/reproduce.h"
#include "stats/stats.h"
#include "stats/stopping_settings.h"
#include "trial/trial_json.h"
#include "util/strings.h"

namespace cg {

// ---------------------------------------------------------------------------------------------------------
// Percent and interval texts: report/number_format.h.
std::string PercentCellText(int64_t k, int64_t n) {
  if (n <= 0) return "";
  if (k == 0) return fmt::format("0/{} <{}%", n, PercentText(ZeroCrashUpperBound(n), Rounding::kUp));
  Interval iv = Wilson(k, n);
  return fmt::format("{}/{} {}% {}", k, n, PercentText(static_cast<double>(k) / static_cast<double>(n)),
                     IntervalText(iv));
}

std::string ShownCellText(const CellShown& s) {
  if (s.n <= 0) return "";
  if (s.stop == StopKind::kFixed) return PercentCellText(s.k, s.n);
  // Under a stopping rule every cell shows its interval, also with no crash: the rule's interval is two-sided.
  return fmt::format("{}/{}{} {}% [{}-{}]", s.k, s.n, s.stopped_early ? "*" : "", PercentText(s.rate, Rounding::kNearest),
                     PercentText(s.ci.lo, Rounding::kDown), PercentText(s.ci.hi, Rounding::kUp));
}

std::string ShownVerdictText(const CellShown& s) {
  if (s.n <= 0) return "";
  if (s.later_evidence())
    return fmt::format("{} at {}/{}; now {}/{}", s.verdict, s.verdict_k, s.verdict_n, s.k, s.n);
  return fmt::format("{} {}/{}{}", s.verdict, s.k, s.n, s.stopped_early ? "*" : "");
}

namespace {

constexpr char kReferenceNote[] = "reference target: crashes are deliberate, for checking crashgrid itself";
// What the cells count (OutcomeEvidence), said under every table but table.py's.
constexpr char kCountingNote[] =
    "crashes: crashed or hung; runs: crashed, hung or exited 0; +N failed (exited non-zero), +N overran (killed "
    "while still making progress): neither, in no rate";

// Text that did not come from crashgrid (axis names and values, labels, the command line, a signature): on one
// line, control characters visible, and in Markdown with its punctuation taken literally.
std::string Untrusted(const std::string& s, TableFormat format) {
  std::string line = TerminalLine(s);
  if (format != TableFormat::kMarkdown) return line;
  std::string out;
  for (char c : line) {
    if (std::string_view("\\`*_[]<>|~").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

std::vector<std::string> HeaderLines(const RunRecord& run, const std::string& signature, TableFormat format) {
  std::string command = Untrusted(RunCommandLine(run), format);
  std::vector<std::string> lines;
  lines.push_back(fmt::format("run {} ({}, {}{}): {}", run.id, run.workload.empty() ? "?" : run.workload,
                              FormatUtc(run.created_at), run.finished ? "" : ", unfinished", command));
  if (!run.labels.empty()) lines.push_back("labels: " + Untrusted(LabelsText(run.labels), format));
  if (run.reference_target) lines.push_back(kReferenceNote);
  // What the workload chose on this machine (the gst pipeline branch, say): part of what the table measured.
  if (!run.workload_detail.empty())
    lines.push_back("workload, as its first trial set up: " + Untrusted(run.workload_detail, format));
  if (!signature.empty()) {
    lines.push_back(fmt::format("counting only crashes with signature '{}'; crashes with other signatures count "
                                "as non-crashes{}",
                                Untrusted(signature, format), format == TableFormat::kSeed ? " (exit code 0)" : ""));
  }
  const std::vector<std::string> legend = ShownCellsLegend(run);
  if (format == TableFormat::kPercent || format == TableFormat::kMarkdown) {
    if (legend.empty()) {
      lines.push_back("cells: crashes/runs, crash rate and Wilson 95% interval; with no crash, the one-sided 95% "
                      "upper bound");
    } else {
      lines.push_back("cells: crashes/runs, crash rate k/n and its 95% interval");
    }
  }
  if (format == TableFormat::kVerdict) {
    SprtParams p = RunStoppingSettings(run).sprt;
    lines.push_back(fmt::format("cells: Wald SPRT verdict (p0={:g}, p1={:g}, alpha={:g}, beta={:g}) and "
                                "crashes/runs",
                                p.p0, p.p1, p.alpha, p.beta));
  }
  if (format == TableFormat::kPercent || format == TableFormat::kMarkdown)
    lines.insert(lines.end(), legend.begin(), legend.end());
  if (format == TableFormat::kVerdict && !legend.empty()) lines.push_back(legend.back());  // the mark, no interval
  if (format != TableFormat::kSeed) lines.push_back(kCountingNote);
  return lines;
}

std::string SeedCellText(const CellCounts& c) {
  if (c.trials == 0) return "";
  // table.py printed a dict that always held exit code 0 ("{0: 0, 139: 9}" when every run crashed).
  std::map<int, int64_t> codes = c.exit_codes;
  codes.emplace(0, 0);
  std::vector<std::string> parts;
  for (const auto& [code, count] : codes) parts.push_back(fmt::format("{}: {}", code, count));
  return "{" + Join(parts, ", ") + "}";
}

// "+2 failed +1 overran": the trials that ran but are evidence neither way, after a cell's counts; without a
// leading '+' when the cell has nothing else ("31 failed": a cell whose program always exits 1 has no rate,
// and no verdict).
std::string NeitherText(const CellCounts& c, bool alone) {
  std::vector<std::string> parts;
  if (c.failed > 0) parts.push_back(fmt::format("{}{} failed", alone ? "" : "+", c.failed));
  if (c.overran > 0) parts.push_back(fmt::format("{}{} overran", alone && parts.empty() ? "" : "+", c.overran));
  return Join(parts, " ");
}

std::string EvidenceCellText(const CellCounts& c, const std::string& counts) {
  if (c.trials == 0) return "";
  if (c.n == 0) return c.neither() > 0 ? NeitherText(c, /*alone=*/true) : "not run";
  return c.neither() > 0 ? counts + " " + NeitherText(c, /*alone=*/false) : counts;
}

std::string CellText(const RunRecord& run, const CellCounts& c, TableFormat format, bool subset) {
  if (format == TableFormat::kSeed) return SeedCellText(c);
  const CellShown shown = ShowCell(run, c.key, c.crashes, c.n, subset, c.failed);
  if (format == TableFormat::kVerdict) return EvidenceCellText(c, ShownVerdictText(shown));
  return EvidenceCellText(c, ShownCellText(shown));
}

// Which axes make rows, columns and separate tables.
struct Layout {
  int row = -1;  // index into axes, -1 for none
  int col = -1;
  std::vector<int> fixed;
};

bool ChooseLayout(const std::vector<GridAxis>& axes, const TableOptions& o, Layout* l, std::string* err) {
  std::vector<std::string> names;
  for (const auto& a : axes) names.push_back(a.name);
  auto find = [&](const std::string& name, const char* flag, int* index) {
    auto it = std::find(names.begin(), names.end(), name);
    if (it != names.end()) {
      *index = static_cast<int>(it - names.begin());
      return true;
    }
    if (names.empty()) {
      *err = fmt::format("{} '{}': this run has no grid axes (drop {})", flag, name, flag);
    } else {
      *err = fmt::format("{} '{}' is not an axis of this run{} (axes: {})", flag, name, DidYouMean(name, names),
                         Join(names, ", "));
    }
    return false;
  };
  if (!o.rows.empty() && !find(o.rows, "--rows", &l->row)) return false;
  if (!o.cols.empty() && !find(o.cols, "--cols", &l->col)) return false;
  if (l->row >= 0 && l->row == l->col) {
    *err = fmt::format("--rows and --cols both name '{}' (pick two different axes)", o.rows);
    return false;
  }
  auto first_other = [&](int other) {
    for (int i = 0; i < static_cast<int>(axes.size()); ++i)
      if (i != other) return i;
    return -1;
  };
  if (o.rows.empty()) l->row = first_other(l->col);
  if (o.cols.empty()) {
    l->col = -1;
    for (int i = 0; i < static_cast<int>(axes.size()); ++i)
      if (i != l->row) {
        l->col = i;
        break;
      }
  }
  for (int i = 0; i < static_cast<int>(axes.size()); ++i)
    if (i != l->row && i != l->col) l->fixed.push_back(i);
  return true;
}

std::string Escape(const std::string& s, TableFormat format) {
  if (format != TableFormat::kMarkdown) return s;
  std::string out;
  for (char c : s) {
    if (c == '|') out += '\\';
    out += c;
  }
  return out;
}

std::string ExitCodesText(const CellCounts& c) {
  std::vector<std::string> parts;
  for (const auto& [code, count] : c.exit_codes) parts.push_back(fmt::format("{}:{}", code, count));
  return Join(parts, " ");
}

std::string RenderCsv(const RunRecord& run, const std::vector<GridAxis>& axes, const std::vector<CellCounts>& cells,
                      const std::string& signature) {
  std::vector<std::string> header = {"run_id", "reference_target"};
  for (const auto& a : axes) header.push_back(TerminalText(a.name));
  for (const char* h : {"n", "crashes", "crashed", "hung", "failed", "overran", "clean", "could_not_start", "exit_codes",
                        "wilson_lo", "wilson_hi", "upper_bound_95", "exposure_s", "iterations", "interval95_lo",
                        "interval95_hi", "interval_method", "verdict", "verdict_crashes", "verdict_n", "stopped_early"})
    header.push_back(h);
  if (!signature.empty()) {
    header.push_back("signature");
    header.push_back("other_crashes");
  }
  std::string out;
  std::vector<std::string> fields;
  for (const auto& h : header) fields.push_back(CsvField(h));
  out += Join(fields, ",") + "\n";
  for (const auto& c : cells) {
    if (c.trials == 0) continue;
    fields = {std::to_string(run.id), run.reference_target ? "true" : "false"};
    for (const auto& [name, value] : c.cell) fields.push_back(CsvField(TerminalText(value)));
    std::string lo, hi, upper;
    if (c.n > 0) {
      Interval iv = Wilson(c.crashes, c.n);
      lo = fmt::format("{:.4f}", iv.lo);
      hi = fmt::format("{:.4f}", iv.hi);
      if (c.crashes == 0) upper = fmt::format("{:.4f}", ZeroCrashUpperBound(c.n));
    }
    for (auto v : {c.n, c.crashes, c.crashed, c.hung, c.failed, c.overran, c.clean, c.could_not_start})
      fields.push_back(std::to_string(v));
    fields.push_back(ExitCodesText(c));
    fields.push_back(lo);
    fields.push_back(hi);
    fields.push_back(upper);
    fields.push_back(fmt::format("{:.3f}", c.exposure_s));
    fields.push_back(std::to_string(c.iterations));
    // The interval to read (valid under the run's stopping rule) and the verdict where the SPRT stopped.
    std::vector<std::string> shown_fields(7);
    if (c.n > 0) {
      CellShown s = ShowCell(run, c.key, c.crashes, c.n, !signature.empty());
      shown_fields = {fmt::format("{:.4f}", s.ci.lo), fmt::format("{:.4f}", s.ci.hi), IntervalMethodName(s.stop),
                      s.verdict, std::to_string(s.verdict_k), std::to_string(s.verdict_n),
                      s.stopped_early ? "true" : "false"};
    }
    fields.insert(fields.end(), shown_fields.begin(), shown_fields.end());
    if (!signature.empty()) {
      fields.push_back(CsvField(TerminalText(signature)));
      fields.push_back(std::to_string(c.other_crashes));
    }
    out += Join(fields, ",") + "\n";
  }
  return out;
}

nlohmann::json RunJson(const RunRecord& r) {
  return {{"id", r.id},
          {"created_at", r.created_at},
          {"argv", r.argv},
          {"command_line", r.command_line},
          {"workload", r.workload},
          {"exec_argv", r.exec_argv},
          {"reference_target", r.reference_target},
          {"grid", r.grid},
          {"params", r.params},
          {"runs", r.runs},
          {"duration_s", r.duration_s},
          {"grace_s", r.grace_s},
          {"capture", r.capture},
          {"crashgrid_version", r.crashgrid_version},
          {"crashgrid_commit", r.crashgrid_commit},
          {"environment", r.environment},
          {"workload_detail", r.workload_detail},
          {"sweep_key", r.sweep_key},
          {"settings", r.settings},
          {"finished", r.finished},
          {"labels", r.labels},
          {"cwd", r.cwd},
          {"env", r.env},
          {"identity", r.identity}};
}

std::string RenderJson(const RunRecord& run, const std::vector<GridAxis>& axes, const Layout& layout,
                       const std::vector<CellCounts>& cells, const std::string& signature) {
  using nlohmann::json;
  SprtParams p = RunStoppingSettings(run).sprt;
  // v2: n counts evidence trials only (failed and overran left out of it, and counted apart). v3: per cell
  // interval95 (valid under the stopping rule), stop, stopped_early, median_unbiased, and the verdict as
  // stored where the SPRT stopped (verdict_at).
  json j = {{"schema_version", kTableJsonSchemaVersion}, {"run", RunJson(run)}, {"axes", axes}};
  if (run.reference_target) j["note"] = kReferenceNote;
  j["counting"] = {{"crash", {"crashed", "hung"}},
                   {"safe", {"clean"}},
                   {"neither", {"failed", "overran", "could-not-start"}},
                   {"n", "crash + safe trials: the denominator of rate, wilson95, upper_bound95 and verdict"}};
  j["rows"] = layout.row >= 0 ? json(axes[layout.row].name) : json(nullptr);
  j["cols"] = layout.col >= 0 ? json(axes[layout.col].name) : json(nullptr);
  j["signature"] = signature.empty() ? json(nullptr) : json(signature);
  j["sprt"] = {{"p0", p.p0}, {"p1", p.p1}, {"alpha", p.alpha}, {"beta", p.beta}};
  json list = json::array();
  for (const auto& c : cells) {
    json cell = json::object();
    for (const auto& [name, value] : c.cell) cell[name] = value;
    json codes = json::object();
    for (const auto& [code, count] : c.exit_codes) codes[std::to_string(code)] = count;
    json e = {{"cell", cell},
              {"key", c.key},
              {"trials", c.trials},
              {"ran", c.ran},
              {"n", c.n},
              {"crashes", c.crashes},
              {"crashed", c.crashed},
              {"hung", c.hung},
              {"failed", c.failed},
              {"overran", c.overran},
              {"clean", c.clean},
              {"could_not_start", c.could_not_start},
              {"exit_codes", codes},
              {"exposure_s", c.exposure_s},
              {"iterations", c.iterations},
              {"signatures", c.signatures}};
    if (!signature.empty()) e["other_crashes"] = c.other_crashes;
    if (c.n > 0) {
      Interval iv = Wilson(c.crashes, c.n);
      e["rate"] = static_cast<double>(c.crashes) / static_cast<double>(c.n);
      e["wilson95"] = {{"lo", iv.lo}, {"hi", iv.hi}};
      e["upper_bound95"] = c.crashes == 0 ? json(ZeroCrashUpperBound(c.n)) : json(nullptr);
      const CellShown s = ShowCell(run, c.key, c.crashes, c.n, !signature.empty(), c.failed);
      // The interval to read: Wilson only for a fixed n; under --until decided or --refine the one valid
      // under that stopping rule ("wilson95" stays, as the fixed-n interval it always was).
      e["interval95"] = {{"lo", s.ci.lo}, {"hi", s.ci.hi}, {"method", IntervalMethodName(s.stop)}};
      e["stop"] = StopKindName(s.stop);
      e["stopped_early"] = s.stopped_early;
      e["median_unbiased"] = s.has_median_unbiased ? json(s.median_unbiased) : json(nullptr);
      e["verdict"] = s.verdict;
      e["verdict_at"] = {{"crashes", s.verdict_k}, {"n", s.verdict_n}, {"stored", s.verdict_stored}};
    } else {
      e["rate"] = e["wilson95"] = e["upper_bound95"] = e["verdict"] = nullptr;
      e["interval95"] = e["stop"] = e["stopped_early"] = e["median_unbiased"] = e["verdict_at"] = nullptr;
    }
    list.push_back(std::move(e));
  }
  j["cells"] = std::move(list);
  return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace

bool RenderTable(const RunRecord& run, const std::vector<TrialGroup>& groups, const TableOptions& options,
                 std::string* out, std::string* err) {
  std::string signature;
  if (!options.signature.empty() && !ResolveSignature(options.signature, groups, &signature, err)) return false;
  std::vector<GridAxis> axes = TrialAxes(run, groups);
  Layout layout;
  if (!ChooseLayout(axes, options, &layout, err)) return false;
  std::vector<CellCounts> cells = AggregateCells(run, groups, signature);

  if (options.format == TableFormat::kCsv) {
    *out = RenderCsv(run, axes, cells, signature);
    return true;
  }
  if (options.format == TableFormat::kJson) {
    *out = RenderJson(run, axes, layout, cells, signature);
    return true;
  }

  const TableFormat format = options.format;
  const bool markdown = format == TableFormat::kMarkdown;
  std::unordered_map<std::string, const CellCounts*> by_key;
  for (const auto& c : cells) by_key.emplace(c.key, &c);

  std::string text;
  for (const auto& line : HeaderLines(run, signature, format)) text += markdown ? line + "\n\n" : line + "\n";

  std::vector<GridAxis> fixed_axes;
  for (int i : layout.fixed) fixed_axes.push_back(axes[i]);
  const GridAxis none{"", {""}};
  const GridAxis& row_axis = layout.row >= 0 ? axes[layout.row] : none;
  const GridAxis& col_axis = layout.col >= 0 ? axes[layout.col] : none;
  const char* value_word = format == TableFormat::kSeed ? "exit codes"
                           : format == TableFormat::kVerdict ? "verdict"
                                                             : "crashes";
  std::vector<std::string> headers;
  if (layout.row >= 0 && layout.col >= 0)
    headers.push_back(Untrusted(row_axis.name, format) + " \\ " + Untrusted(col_axis.name, format));
  else
    headers.push_back(Untrusted(row_axis.name, format));
  if (layout.col >= 0) {
    for (const auto& v : col_axis.values) headers.push_back(Untrusted(v, format));
  } else {
    headers.push_back(value_word);
  }

  std::vector<std::string> could_not_start;
  for (const Cell& fixed : ExpandGrid(fixed_axes)) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& rv : row_axis.values) {
      std::vector<std::string> row = {layout.row >= 0 ? Untrusted(rv, format) : "all"};
      for (const auto& cv : col_axis.values) {
        // The cell's key in axis order, whatever the roles of the axes in this table.
        Cell cell;
        for (int i = 0; i < static_cast<int>(axes.size()); ++i) {
          if (i == layout.row) {
            cell.emplace_back(axes[i].name, rv);
          } else if (i == layout.col) {
            cell.emplace_back(axes[i].name, cv);
          } else {
            auto it = std::find_if(fixed.begin(), fixed.end(), [&](const auto& p) { return p.first == axes[i].name; });
            cell.emplace_back(axes[i].name, it->second);
          }
        }
        auto found = by_key.find(CellKey(cell));
        const CellCounts* c = found == by_key.end() ? nullptr : found->second;
        row.push_back(c ? Escape(CellText(run, *c, format, !signature.empty()), format) : "");
        if (c && c->could_not_start > 0 && format != TableFormat::kSeed)
          could_not_start.push_back(fmt::format("{} ({})", c->key.empty() ? "the only cell" : Untrusted(c->key, format),
                                                c->could_not_start));
      }
      rows.push_back(std::move(row));
    }
    if (!fixed.empty()) {
      std::vector<std::string> parts;
      for (const auto& [name, value] : fixed) parts.push_back(Untrusted(name, format) + "=" + Untrusted(value, format));
      std::string title = Join(parts, ", ");
      text += markdown ? "**" + title + "**\n\n" : "\n" + title + "\n";
    }
    text += markdown ? TabulatePipe(headers, rows) + "\n" : TabulateGrid(headers, rows) + "\n";
    if (markdown && !fixed.empty()) text += "\n";
  }
  if (!could_not_start.empty()) {
    text += fmt::format("{}trials that could not start (not counted in any rate): {}\n", markdown ? "\n" : "",
                        Join(could_not_start, ", "));
  }
  *out = std::move(text);
  return true;
}

}  // namespace cg

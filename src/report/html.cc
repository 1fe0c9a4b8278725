#include "report/html.h"

#include <time.h>

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>

#include "report/cells.h"
#include "report/compare.h"
#include "report/crashes.h"
#include "report/escape.h"
#include "report/reproduce.h"
#include "report/mitigations.h"
#include "stats/rate.h"
#include "stats/stopping_settings.h"
#include "report/heatmap.h"
#include "stats/stats.h"

namespace cg {
namespace {

std::string E(std::string_view s) { return HtmlEscape(s); }

const char* kStyle = R"(body{font-family:sans-serif;margin:24px;color:#222;max-width:1400px}
h1{font-size:22px}h2{font-size:19px;border-bottom:1px solid #ccc;padding-bottom:4px;margin-top:36px}
h3{font-size:16px;margin-top:22px}h4{font-size:14px;margin:14px 0 4px}
pre{background:#f6f6f6;border:1px solid #ddd;padding:8px;overflow-x:auto;white-space:pre-wrap;word-break:break-all;font-size:12px}
code{background:#f2f2f2;padding:1px 3px}
.banner{background:#fff3cd;border:2px solid #e0a800;padding:10px 14px;font-weight:bold;margin:12px 0}
table{border-collapse:collapse;margin:6px 0}
th,td{border:1px solid #ccc;padding:3px 8px;text-align:left;font-size:13px;vertical-align:top}
table.hm td.hm-cell{min-width:72px;height:48px;text-align:center;vertical-align:middle;border:2px solid #fff;padding:2px 4px}
table.hm th{background:#fafafa;text-align:center;vertical-align:middle}
table.hm .k{display:block;font-weight:bold}table.hm .r,table.hm .v{display:block;font-size:10px;white-space:nowrap}
.answer{background:#f7f9fc;border:1px solid #d0d7e2;padding:4px 16px 12px;margin:12px 0}.answer h2{margin-top:18px}
tr.differs th,tr.differs td{font-weight:bold;background:#fff3cd}
.maps{display:flex;flex-wrap:wrap;gap:24px}
.legend{font-size:12px;color:#555}
details{margin:6px 0}summary{cursor:pointer}
.sig{font-family:monospace;word-break:break-all}
.sigrow td:first-child{text-align:right}
.small{font-size:12px;color:#555}
.good{color:#1a7f37;font-weight:bold}.bad{color:#b00020;font-weight:bold}
)";

std::string HeatmapTable(const Heatmap& m, const std::string& id) {
  std::string s = fmt::format("<div class=\"map\" id=\"{}\"><h4>{}{}</h4>\n<table class=\"hm\">\n", E(id), E(m.title),
                              m.subtitle.empty() ? "" : " &mdash; " + E(m.subtitle));
  s += "<thead><tr><th>";
  if (!m.row_axis.empty()) s += E(m.row_axis) + (m.col_axis.empty() ? "" : " \\ " + E(m.col_axis));
  s += "</th>";
  for (const auto& c : m.cols) s += "<th>" + E(c) + "</th>";
  s += "</tr></thead>\n<tbody>\n";
  for (size_t r = 0; r < m.rows.size(); ++r) {
    s += "<tr><th>" + E(m.rows[r]) + "</th>";
    for (size_t c = 0; c < m.cols.size(); ++c) {
      const HeatCell& cell = m.at(r, c);
      s += fmt::format("<td class=\"hm-cell{}\" style=\"background:{};color:{}\" title=\"{}\" data-cell=\"{}\">",
                       cell.present ? "" : " empty", HeatColor(m, cell), HeatTextColor(m, cell), E(cell.title),
                       E(cell.cell_key));
      s += "<span class=\"k\">" + E(cell.label) + "</span>";
      if (!cell.rate.empty()) s += "<span class=\"r\">" + E(cell.rate) + "</span>";
      if (!cell.note.empty()) s += "<span class=\"v\">" + E(cell.note) + "</span>";
      s += "</td>";
    }
    s += "</tr>\n";
  }
  s += "</tbody></table></div>\n";
  return s;
}

std::string Maps(const std::vector<Heatmap>& maps, const std::string& id_prefix) {
  std::string s = "<div class=\"maps\">\n";
  for (size_t i = 0; i < maps.size(); ++i) s += HeatmapTable(maps[i], fmt::format("{}-{}", id_prefix, i));
  s += "</div>\n";
  return s;
}

// The fingerprint as rows of dotted keys, so nested objects (nvidia.driver, gstreamer.version) stay readable.
void Flatten(const nlohmann::json& j, const std::string& prefix, std::vector<std::pair<std::string, std::string>>* out) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      Flatten(it.value(), prefix.empty() ? it.key() : prefix + "." + it.key(), out);
    }
  } else if (j.is_array() && !j.empty() && (j.front().is_object() || j.front().is_array())) {
    for (size_t i = 0; i < j.size(); ++i) Flatten(j[i], fmt::format("{}[{}]", prefix, i), out);
  } else if (j.is_string()) {
    out->emplace_back(prefix, j.get<std::string>());
  } else {
    out->emplace_back(prefix, j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  }
}

std::string EnvironmentTable(const nlohmann::json& env) {
  std::vector<std::pair<std::string, std::string>> rows;
  Flatten(env, "", &rows);
  if (rows.empty()) return "<p class=\"small\">No environment fingerprint was recorded.</p>\n";
  std::string s = "<table class=\"env\">\n";
  for (const auto& [k, v] : rows) s += "<tr><th>" + E(k) + "</th><td>" + E(v) + "</td></tr>\n";
  return s + "</table>\n";
}

// The NVIDIA driver of the fingerprint: `nvidia.driver_version` (CollectEnvironment), or `nvidia.driver` as
// older records and hand-made fixtures have it; "?" when neither.
std::string DriverOf(const nlohmann::json& env) {
  if (!env.is_object() || !env.contains("nvidia") || !env["nvidia"].is_object()) return "?";
  for (const char* key : {"driver_version", "driver"}) {
    if (env["nvidia"].contains(key) && env["nvidia"][key].is_string()) return env["nvidia"][key].get<std::string>();
  }
  return "?";
}

// The GPUs of the fingerprint by name (`nvidia.gpus`: names, or objects with a name), "none" for none.
std::string GpusOf(const nlohmann::json& env) {
  if (!env.is_object() || !env.contains("nvidia") || !env["nvidia"].is_object() || !env["nvidia"].contains("gpus") ||
      !env["nvidia"]["gpus"].is_array())
    return "?";
  std::string out;
  for (const auto& g : env["nvidia"]["gpus"]) {
    std::string name = g.is_string()                                            ? g.get<std::string>()
                       : g.is_object() && g.contains("name") && g["name"].is_string() ? g["name"].get<std::string>()
                                                                                       : "?";
    out += (out.empty() ? "" : ", ") + name;
  }
  return out.empty() ? "none" : out;
}

struct Totals {
  int64_t trials = 0, ran = 0, crashed = 0, hung = 0, failed = 0, not_started = 0, overran = 0;
};

Totals Count(const std::vector<TrialGroup>& groups) {
  Totals t;
  for (const auto& g : groups) {
    t.trials += g.count;
    switch (g.outcome) {
      case Outcome::kCrashed: t.crashed += g.count; break;
      case Outcome::kHung: t.hung += g.count; break;
      case Outcome::kFailed: t.failed += g.count; break;
      case Outcome::kCouldNotStart: t.not_started += g.count; break;
      case Outcome::kOverran: t.overran += g.count; break;
      case Outcome::kClean: break;
    }
    if (g.outcome != Outcome::kCouldNotStart) t.ran += g.count;
  }
  return t;
}

std::string RunTitle(const RunRecord& run) {
  return fmt::format("Run {} &mdash; {}{}", run.id, E(run.workload.empty() ? "?" : run.workload),
                     run.labels.empty() ? "" : " [" + E(LabelsText(run.labels)) + "]");
}

std::string SignatureSection(const ReportRun& rr, const std::string& id_prefix) {
  auto sigs = CountSignatures(rr.groups);
  std::string s = "<h3>Crash signatures</h3>\n";
  if (sigs.empty()) return s + "<p>No trial crashed or hung.</p>\n";
  s += "<table class=\"sigs\"><tr><th>count</th><th>signature</th></tr>\n";
  for (const auto& sc : sigs) {
    s += fmt::format("<tr class=\"sigrow\"><td>{}</td><td class=\"sig\">{}</td></tr>\n", sc.count, E(sc.signature));
  }
  s += "</table>\n";
  for (size_t i = 0; i < sigs.size(); ++i) {
    const auto& sc = sigs[i];
    s += fmt::format("<h4 class=\"sig\">{} &times; {}</h4>\n", sc.count, E(sc.signature));
    s += Maps(BuildHeatmaps(rr.run, rr.groups, HeatMeasure::kSignature, sc.signature),
              fmt::format("{}-sig{}", id_prefix, i));
    const StoredTrial* rep = RepresentativeTrial(rr, sc.signature);
    if (!rep) continue;
    s += fmt::format("<details><summary>Representative report: trial {} ({}, repetition {}, {})</summary>\n", rep->id,
                     E(CellKey(rep->cell)), rep->repetition, E(OutcomeName(rep->result.outcome)));
    s += "<pre class=\"threads\">" + E(RenderTrialReport(*rep)) + "</pre>\n";
    s += "</details>\n";
  }
  return s;
}

const GridAxis* FindAxis(const RunRecord& run, const std::string& name) {
  for (const auto& a : run.grid) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

// The grid axis holding mitigation policies (`serialize`, or `policy`), "" when the run has none.
std::string MitigationAxis(const RunRecord& run) {
  for (const char* name : {"serialize", "policy"}) {
    if (FindAxis(run, name)) return name;
  }
  return "";
}

// The mitigation study of the run's policy axis (mitigations.h); false with *err when it cannot be built.
bool StudyMitigations(const ReportRun& rr, const std::string& axis, MitigationStudy* study, std::string* err) {
  return BuildMitigationStudy(rr.run, rr.groups, axis, RunStoppingSettings(rr.run).sprt, study, err);
}

// The mitigation study as a table and its recommendation.
std::string MitigationSection(const ReportRun& rr) {
  std::string axis = MitigationAxis(rr.run);
  if (axis.empty()) return "";
  MitigationStudy study;
  std::string err;
  std::string s = "<h3>Mitigations (<code>" + E(axis) + "</code> axis)</h3>\n";
  if (!StudyMitigations(rr, axis, &study, &err)) return s + "<p>" + E(err) + "</p>\n";
  s += fmt::format("<table class=\"mitigations\"><tr><th>{}</th><th>verdict</th><th>SAFE</th><th>CRASHES</th>"
                   "<th>UNDECIDED</th><th>crashes/n</th><th>failed</th><th>overran</th><th>95% upper bound</th>"
                   "<th>{}</th><th>vs none</th></tr>\n",
                   E(axis), E(study.throughput_unit));
  for (size_t i = 0; i < study.policies.size(); ++i) {
    const PolicySummary& p = study.policies[i];
    bool rec = static_cast<int>(i) == study.recommended;
    s += fmt::format("<tr{}><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}/{}</td>"
                     "<td>{}</td><td>{}</td><td>p &lt; {}</td><td>{}</td><td>{}</td></tr>\n",
                     rec ? " class=\"good\"" : "", E(p.policy), E(p.verdict), p.safe, p.crashes, p.undecided, p.k, p.n,
                     p.failed, p.overran, E(FormatUpperBound(p.worst_upper)),
                     p.workload_s > 0 ? fmt::format("{:.1f}", p.throughput) : "-",
                     p.has_relative ? fmt::format("{:+.0f}%", p.relative * 100) : "-");
  }
  s += "</table>\n";
  s += "<p class=\"legend\">crashes/n: trials that crashed or hung / trials that crashed, hung or exited 0. "
       "Trials that failed (exited non-zero) or overran (killed past the bound while still making progress) are "
       "neither, in no verdict; a policy with any is never recommended.</p>\n";
  s += fmt::format("<p class=\"{}\">{}</p>\n", study.recommended >= 0 ? "good" : "bad", E(study.recommendation));
  return s;
}

// Two runs cell by cell (compare.h): exact test per shared cell, Holm-adjusted.
std::string ComparisonSection(const ReportRun& a, const ReportRun& b) {
  CompareArm arm_a{fmt::format("run {}", a.run.id), fmt::format("run {} ({})", a.run.id, a.run.workload), a.run,
                   a.groups};
  CompareArm arm_b{fmt::format("run {}", b.run.id), fmt::format("run {} ({})", b.run.id, b.run.workload), b.run,
                   b.groups};
  CompareResult r = Compare(arm_a, arm_b, CompareOptions{});
  std::string s = fmt::format("<h2 id=\"compare\">Comparison: run {} vs run {}</h2>\n", a.run.id, b.run.id);
  auto driver = [](const RunRecord& run) { return DriverOf(run.environment); };
  s += fmt::format("<p>NVIDIA driver: run {} <code>{}</code>, run {} <code>{}</code>.</p>\n", a.run.id,
                   E(driver(a.run)), b.run.id, E(driver(b.run)));
  if (r.cells.empty()) return s + "<p>The two runs share no cell.</p>\n";
  s += fmt::format("<p class=\"small\">Exact test per cell the runs share (Boschloo, Fisher for large cells), "
                   "p-values Holm-adjusted over {} cells; significant at {:g}.</p>\n",
                   r.cells.size(), r.alpha);
  s += fmt::format("<table class=\"compare\"><tr><th>cell</th><th>run {} k/n</th><th>run {} k/n</th><th>test</th>"
                   "<th>p</th><th>Holm p</th><th></th></tr>\n",
                   a.run.id, b.run.id);
  for (const auto& c : r.cells) {
    std::string verdict = c.direction > 0   ? fmt::format("<span class=\"bad\">run {} crashes more</span>", b.run.id)
                          : c.direction < 0 ? fmt::format("<span class=\"good\">run {} crashes less</span>", b.run.id)
                                            : "no significant difference";
    s += fmt::format("<tr><td><code>{}</code></td><td>{}/{} ({})</td><td>{}/{} ({})</td><td>{}</td><td>{:.3g}</td>"
                     "<td>{:.3g}</td><td>{}</td></tr>\n",
                     E(DisplayCellKey(c.key)), c.ka, c.na, FormatPercent(c.pa), c.kb, c.nb, FormatPercent(c.pb), E(c.test), c.p_value,
                     c.p_adjusted, verdict);
  }
  s += fmt::format("<tr><th>matched cells</th><th>{}/{}</th><th>{}/{}</th><th colspan=\"4\">run {} crashes more in {}, "
                   "fewer in {} of {} cells</th></tr>\n</table>\n",
                   r.ka, r.na, r.kb, r.nb, b.run.id, r.more, r.fewer, r.cells.size());
  s += fmt::format("<p>Crash rate per minute of workload: run {} {}, run {} {}.</p>\n", a.run.id,
                   E(FormatCrashRate(r.rate_a)), b.run.id, E(FormatCrashRate(r.rate_b)));
  auto only = [&](const std::vector<std::pair<std::string, int64_t>>& sigs, int64_t id) {
    if (sigs.empty()) return std::string();
    std::string o = fmt::format("<p>Signatures only in run {}:</p><ul>\n", id);
    for (const auto& [sig, n] : sigs) o += fmt::format("<li>{} &times; <span class=\"sig\">{}</span></li>\n", n, E(sig));
    return o + "</ul>\n";
  };
  if (r.failed_a + r.overran_a + r.failed_b + r.overran_b > 0) {
    s += fmt::format("<p class=\"small\">Not counted (neither crashes nor clean runs): run {} {} failed, {} overran; "
                     "run {} {} failed, {} overran.</p>\n",
                     a.run.id, r.failed_a, r.overran_a, b.run.id, r.failed_b, r.overran_b);
  }
  s += only(r.signatures_only_a, a.run.id) + only(r.signatures_only_b, b.run.id);
  if (!r.unmatched_a.empty() || !r.unmatched_b.empty()) {
    s += fmt::format("<p class=\"small\">Cells in one run only: {} in run {}, {} in run {}.</p>\n", r.unmatched_a.size(),
                     a.run.id, r.unmatched_b.size(), b.run.id);
  }
  return s;
}

// What a crash map's cells say: counts, rate and interval, verdict under the run's own SPRT settings.
std::string CrashMapLegend(const RunRecord& run, const std::string& interval_name) {
  const SprtParams sprt = RunStoppingSettings(run).sprt;
  return fmt::format(
      "<p class=\"legend\">Each cell: crashed or hung / trials that crashed, hung or exited 0; the crash rate with "
      "its {} interval; and the SPRT verdict (p0 = {:g}, p1 = {:g}, alpha = {:g}, beta = {:g}). Trials that failed "
      "(exited non-zero) or overran (killed past the bound while still making progress) are neither: counted in no "
      "rate and shown apart (+N). Hover a cell for the details. Green: no crash; orange to dark red: rising crash "
      "probability; grey: no trials, or only failed or overran ones.</p>\n",
      E(interval_name.empty() ? "95%" : interval_name), sprt.p0, sprt.p1, sprt.alpha, sprt.beta);
}

std::string RunSection(const ReportRun& rr) {
  const RunRecord& run = rr.run;
  std::string id = fmt::format("run{}", run.id);
  std::string s = fmt::format("<section class=\"run\" id=\"{}\">\n<h2>{}</h2>\n", id, RunTitle(run));
  if (run.reference_target) {
    s += "<div class=\"banner\">Reference target: this workload crashes on purpose (crashes are deliberate). "
         "It checks that crashgrid finds and groups crashes; it says nothing about your drivers.</div>\n";
  }
  Totals t = Count(rr.groups);
  s += "<h3>Command line</h3>\n<pre class=\"cmd\">" + E(CdPrefix(run) + RunCommandLine(run)) + "</pre>\n";
  s += "<table class=\"summary\">\n";
  s += "<tr><th>started</th><td>" + E(FormatUtc(run.created_at)) + (run.finished ? "" : " (not finished)") + "</td></tr>\n";
  if (!run.workload_detail.empty()) s += "<tr><th>workload detail</th><td>" + E(run.workload_detail) + "</td></tr>\n";
  if (!run.labels.empty()) s += "<tr><th>labels</th><td><code>" + E(LabelsText(run.labels)) + "</code></td></tr>\n";
  if (!run.exec_argv.empty()) s += "<tr><th>program</th><td><code>" + E(ShellJoin(run.exec_argv)) + "</code></td></tr>\n";
  if (!run.cwd.empty()) s += "<tr><th>working directory</th><td><code>" + E(run.cwd) + "</code></td></tr>\n";
  for (const auto& [k, v] : run.env) s += "<tr><th>--env " + E(k) + "</th><td><code>" + E(v) + "</code></td></tr>\n";
  {
    Cell cell = ReproductionCell(run, rr.groups);
    s += "<tr><th>one trial of " + E(cell.empty() ? std::string("the run") : CellKey(cell)) +
         "</th><td><code class=\"repro\">" + E(ReproductionCommand(run, cell)) + "</code></td></tr>\n";
  }
  for (const auto& [k, v] : run.params) s += "<tr><th>" + E(k) + "</th><td>" + E(v) + "</td></tr>\n";
  s += fmt::format("<tr><th>trials</th><td>{} ran: {} crashed, {} hung (crashes); {} clean; {} failed, {} overran "
                   "(neither); {} could not start</td></tr>\n",
                   t.ran, t.crashed, t.hung, t.ran - t.crashed - t.hung - t.failed - t.overran, t.failed, t.overran,
                   t.not_started);
  s += fmt::format("<tr><th>per trial</th><td>{:.3g} s (grace {:.3g} s), up to {} runs per cell, capture {}</td></tr>\n",
                   run.duration_s, run.grace_s, run.runs, E(run.capture.empty() ? "?" : run.capture));
  s += "<tr><th>crashgrid</th><td>" + E(run.crashgrid_version) + " (" + E(run.crashgrid_commit) + ")</td></tr>\n";
  s += "</table>\n";

  s += "<h3>Crash probability</h3>\n";
  std::vector<Heatmap> crash_maps = BuildHeatmaps(run, rr.groups, HeatMeasure::kCrashes);
  s += Maps(crash_maps, id + "-crash");
  s += CrashMapLegend(run, crash_maps.empty() ? "" : crash_maps[0].interval_name);
  bool any_throughput = false;
  for (const auto& g : rr.groups) any_throughput |= g.workload_seconds > 0;
  if (any_throughput) {
    s += "<h3>Throughput</h3>\n";
    s += Maps(BuildHeatmaps(run, rr.groups, HeatMeasure::kThroughput), id + "-tput");
  }
  s += MitigationSection(rr);
  s += SignatureSection(rr, id);
  s += "<h3>Environment</h3>\n" + EnvironmentTable(run.environment);
  s += "</section>\n";
  return s;
}

// ---------------------------------------------------------------------------------------------------------
// The answer, at the top of the page: where it crashes, what crashed, which fix, what differs between runs.
// Each part is one function over the runs; the detail sections below repeat none of their logic.

constexpr size_t kAnswerCells = 20;       // cells listed per run; the rest are counted
constexpr size_t kAnswerSignatures = 5;   // signatures listed per run
constexpr size_t kAnswerSignatureCells = 3;

std::string RunHeading(const ReportRun& rr, size_t runs) {
  const char* reference = rr.run.reference_target ? " (reference target: crashes are deliberate)" : "";
  if (runs < 2) {
    return rr.run.reference_target ? "<p class=\"small\">Reference target: crashes are deliberate.</p>\n" : "";
  }
  return fmt::format("<h3><a href=\"#run{}\">{}</a>{}</h3>\n", rr.run.id, RunTitle(rr.run), reference);
}

// Order of the cells in the answer: CRASHES first, then undecided cells that crashed, the other undecided
// ones, SAFE, and cells without evidence; within each, the higher crash rate first, then grid order.
int VerdictRank(const HeatCell& c) {
  if (!c.present) return 4;
  if (c.note == "CRASHES") return 0;
  if (c.note == "SAFE") return 3;
  return c.k > 0 ? 1 : 2;
}

// Where it crashes: every cell of the crash maps with its verdict, k/n, rate and interval, crashing cells
// first.
std::string WhereItCrashes(const std::vector<ReportRun>& runs) {
  std::string s = "<h2 id=\"where\">Where it crashes</h2>\n";
  for (const auto& rr : runs) {
    s += RunHeading(rr, runs.size());
    std::vector<HeatCell> cells;
    std::string interval_name;
    for (const auto& m : BuildHeatmaps(rr.run, rr.groups, HeatMeasure::kCrashes)) {
      if (interval_name.empty()) interval_name = m.interval_name;
      cells.insert(cells.end(), m.cells.begin(), m.cells.end());
    }
    std::map<std::string, int> verdicts;
    int64_t no_evidence = 0;
    for (const auto& c : cells) {
      if (c.present) {
        verdicts[c.note]++;
      } else {
        ++no_evidence;
      }
    }
    std::vector<std::string> parts;
    for (const char* v : {"CRASHES", "UNDECIDED", "SAFE"}) {
      if (verdicts[v] > 0) parts.push_back(fmt::format("<b>{}</b> {}", verdicts[v], v));
    }
    if (no_evidence > 0) parts.push_back(fmt::format("{} without a crashed, hung or clean trial", no_evidence));
    std::string joined;
    for (size_t i = 0; i < parts.size(); ++i) joined += (i ? ", " : "") + parts[i];
    s += fmt::format("<p>{} cell{}: {}.</p>\n", cells.size(), cells.size() == 1 ? "" : "s",
                     joined.empty() ? "no trials" : joined);
    std::stable_sort(cells.begin(), cells.end(), [](const HeatCell& a, const HeatCell& b) {
      if (VerdictRank(a) != VerdictRank(b)) return VerdictRank(a) < VerdictRank(b);
      return a.value > b.value;
    });
    s += fmt::format("<table class=\"where\"><tr><th>cell</th><th>verdict</th><th>crashes/n</th>"
                     "<th>rate [{} interval]</th></tr>\n",
                     E(interval_name.empty() ? "95%" : interval_name));
    for (size_t i = 0; i < cells.size() && i < kAnswerCells; ++i) {
      const HeatCell& c = cells[i];
      std::string verdict = c.note.empty() ? "-" : c.note;
      const char* cls = c.note == "CRASHES" ? " class=\"bad\"" : c.note == "SAFE" ? " class=\"good\"" : "";
      s += fmt::format("<tr><td><code>{}</code></td><td{}>{}</td><td>{}</td><td>{}</td></tr>\n",
                       E(c.cell_key.empty() ? "the only cell" : c.cell_key), cls, E(verdict), E(c.label),
                       E(c.rate.empty() ? "-" : c.rate));
    }
    s += "</table>\n";
    if (cells.size() > kAnswerCells) {
      s += fmt::format("<p class=\"small\">and {} more cells (all in the crash map below).</p>\n",
                       cells.size() - kAnswerCells);
    }
  }
  return s;
}

// The API entry of a signature when no report of it was loaded: the ` via API` part of a crash signature.
std::string ApiOfSignature(const std::string& signature) {
  size_t via = signature.rfind(" via ");
  if (via == std::string::npos || signature.find(" | ", via) != std::string::npos) return "";
  return signature.substr(via + 5);
}

// What crashed: the most frequent signatures with the API entry and phase of their representative trial.
std::string WhatCrashed(const std::vector<ReportRun>& runs) {
  std::string s = "<h2 id=\"what\">What crashed</h2>\n";
  for (const auto& rr : runs) {
    s += RunHeading(rr, runs.size());
    std::vector<SignatureGroup> groups = GroupCrashes(rr.groups);
    if (groups.empty()) {
      s += "<p>No trial crashed or hung.</p>\n";
      continue;
    }
    int64_t total = 0;
    for (const auto& g : groups) total += g.count;
    s += fmt::format("<p>{} crashed or hung trial{} under {} signature{}.</p>\n", total, total == 1 ? "" : "s",
                     groups.size(), groups.size() == 1 ? "" : "s");
    s += "<table class=\"what\"><tr><th>crashes</th><th>signature</th><th>API entry</th><th>phase</th>"
         "<th>cells</th></tr>\n";
    for (size_t i = 0; i < groups.size() && i < kAnswerSignatures; ++i) {
      const SignatureGroup& g = groups[i];
      CrashSite site;
      if (const StoredTrial* rep = RepresentativeTrial(rr, g.signature)) site = TrialCrashSite(rep->result);
      if (site.api.empty()) site.api = ApiOfSignature(g.signature);
      std::string cells;
      for (size_t c = 0; c < g.cells.size() && c < kAnswerSignatureCells; ++c) {
        cells += fmt::format("{}<code>{}</code> ({})", c ? ", " : "",
                             E(g.cells[c].first.empty() ? "the only cell" : g.cells[c].first), g.cells[c].second);
      }
      if (g.cells.size() > kAnswerSignatureCells) {
        cells += fmt::format(", and {} more", g.cells.size() - kAnswerSignatureCells);
      }
      s += fmt::format("<tr><td>{} ({})</td><td class=\"sig\">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                       g.count, FormatPercent(static_cast<double>(g.count) / static_cast<double>(total)),
                       E(g.signature), site.api.empty() ? "-" : "<code>" + E(site.api) + "</code>",
                       E(site.phase.empty() ? "-" : site.phase), cells);
    }
    s += "</table>\n";
    if (groups.size() > kAnswerSignatures) {
      s += fmt::format("<p class=\"small\">and {} more signatures (all under each run below).</p>\n",
                       groups.size() - kAnswerSignatures);
    }
  }
  return s;
}

// Which fix: the mitigation study's recommendation (with its cost) for each run with a policy axis.
std::string WhichFix(const std::vector<ReportRun>& runs) {
  std::string s = "<h2 id=\"fix\">Which fix</h2>\n";
  bool any = false, crashed = false;
  for (const auto& rr : runs) {
    Totals t = Count(rr.groups);
    crashed |= t.crashed + t.hung > 0;
    std::string axis = MitigationAxis(rr.run);
    if (axis.empty()) continue;
    any = true;
    s += RunHeading(rr, runs.size());
    MitigationStudy study;
    std::string err;
    if (!StudyMitigations(rr, axis, &study, &err)) {
      s += "<p>" + E(err) + "</p>\n";
      continue;
    }
    s += fmt::format("<p class=\"{}\">{}</p>\n", study.recommended >= 0 ? "good" : "bad", E(study.recommendation));
  }
  if (any) return s;
  if (!crashed) return "";
  return s + "<p>No run here has a mitigation axis. To find a fix and its cost, sweep the crashing cells with "
             "<code>--grid serialize=none,all,PHASE,...</code> and read <code>crashgrid mitigations</code>.</p>\n";
}

// What differs between the runs shown: driver, GPUs and host always, and every label, `--env` variable,
// crashgrid version and environment fingerprint field whose value is not the same in all of them.
std::string WhatDiffers(const std::vector<ReportRun>& runs) {
  if (runs.size() < 2) return "";
  // Per run: field -> value, in the order the rows are shown.
  std::vector<std::string> order = {"NVIDIA driver", "GPUs", "host"};
  std::set<std::string> always(order.begin(), order.end());
  std::vector<std::map<std::string, std::string>> facts(runs.size());
  auto add = [&](size_t i, const std::string& key, const std::string& value) {
    if (std::find(order.begin(), order.end(), key) == order.end()) order.push_back(key);
    facts[i][key] = value;
  };
  for (size_t i = 0; i < runs.size(); ++i) {
    const RunRecord& run = runs[i].run;
    add(i, "NVIDIA driver", DriverOf(run.environment));
    add(i, "GPUs", GpusOf(run.environment));
    add(i, "host", run.environment.is_object() && run.environment.contains("host") &&
                           run.environment["host"].is_string()
                       ? run.environment["host"].get<std::string>()
                       : "?");
  }
  for (size_t i = 0; i < runs.size(); ++i) {
    for (const auto& [k, v] : runs[i].run.labels) add(i, "label " + k, v);
  }
  for (size_t i = 0; i < runs.size(); ++i) {
    const RunRecord& run = runs[i].run;
    add(i, "workload", run.workload);
    add(i, "crashgrid", run.crashgrid_version + " (" + run.crashgrid_commit + ")");
    for (const auto& [k, v] : run.env) add(i, "--env " + k, v);
  }
  for (size_t i = 0; i < runs.size(); ++i) {
    std::vector<std::pair<std::string, std::string>> flat;
    Flatten(runs[i].run.environment, "", &flat);
    for (const auto& [k, v] : flat) {
      if (k == "host" || k == "schema_version" || k.rfind("nvidia.driver", 0) == 0 || k.rfind("nvidia.gpus", 0) == 0)
        continue;
      add(i, k, v);
    }
  }
  std::string s = "<h2 id=\"differs\">What differs between runs</h2>\n<table class=\"differs\"><tr><th></th>";
  for (const auto& rr : runs) s += fmt::format("<th><a href=\"#run{}\">run {}</a></th>", rr.run.id, rr.run.id);
  s += "</tr>\n";
  size_t differing = 0;
  for (const auto& key : order) {
    std::set<std::string> values;
    for (const auto& f : facts) {
      auto it = f.find(key);
      values.insert(it == f.end() ? "-" : it->second);
    }
    bool differs = values.size() > 1;
    differing += differs;
    if (!differs && !always.count(key)) continue;
    s += fmt::format("<tr{}><th>{}</th>", differs ? " class=\"differs\"" : "", E(key));
    for (const auto& f : facts) {
      auto it = f.find(key);
      s += "<td>" + E(it == f.end() ? "-" : it->second) + "</td>";
    }
    s += "</tr>\n";
  }
  s += "</table>\n";
  s += differing == 0 ? "<p>The runs share driver, GPUs, host, labels and every recorded environment field.</p>\n"
                      : fmt::format("<p class=\"small\">{} field{} (highlighted); driver, GPUs and host are "
                                    "shown even when equal.</p>\n",
                                    differing, differing == 1 ? " differs" : "s differ");
  return s;
}

std::string Answer(const std::vector<ReportRun>& runs) {
  return "<section class=\"answer\" id=\"answer\">\n" + WhereItCrashes(runs) + WhatCrashed(runs) + WhichFix(runs) +
         WhatDiffers(runs) + "</section>\n";
}

}  // namespace

int64_t RepresentativeTrialId(const std::vector<TrialGroup>& groups, const std::string& signature) {
  int64_t with_report = 0, first = 0;
  for (const auto& g : groups) {
    if (EffectiveSignature(GroupResult(g)) != signature) continue;
    if (g.first_report_trial_id != 0 && (with_report == 0 || g.first_report_trial_id < with_report))
      with_report = g.first_report_trial_id;
    if (first == 0 || g.first_trial_id < first) first = g.first_trial_id;
  }
  return with_report != 0 ? with_report : first;
}

std::vector<int64_t> RepresentativeTrialIds(const std::vector<TrialGroup>& groups) {
  std::vector<int64_t> ids;
  for (const auto& sc : CountSignatures(groups)) {
    int64_t id = RepresentativeTrialId(groups, sc.signature);
    if (id != 0) ids.push_back(id);
  }
  return ids;
}

const StoredTrial* RepresentativeTrial(const ReportRun& rr, const std::string& signature) {
  auto it = rr.shown.find(RepresentativeTrialId(rr.groups, signature));
  return it == rr.shown.end() ? nullptr : &it->second;
}

ReportRun MakeReportRun(const RunRecord& run, const std::vector<StoredTrial>& trials) {
  ReportRun rr;
  rr.run = run;
  rr.groups = GroupTrials(trials, run.duration_s);
  for (int64_t id : RepresentativeTrialIds(rr.groups)) {
    for (const auto& t : trials)
      if (t.id == id) rr.shown.emplace(id, t);
  }
  return rr;
}

std::string RenderHtmlReport(const std::vector<ReportRun>& runs, const HtmlReportOptions& options) {
  std::string s =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      // No script may run and nothing may be fetched, whatever a captured string contains.
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
      "img-src data:\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<title>crashgrid report</title>\n<style>" +
      std::string(kStyle) + "</style>\n</head>\n<body>\n<h1>crashgrid report</h1>\n";
  if (!options.source.empty()) s += "<p class=\"small\">Data: <code>" + E(options.source) + "</code></p>\n";
  if (runs.empty()) return s + "<p>The database holds no runs.</p>\n</body>\n</html>\n";
  s += Answer(runs);
  s += "<h2 id=\"details\">Details</h2>\n<ul class=\"toc\">\n";
  for (const auto& rr : runs) {
    s += fmt::format("<li><a href=\"#run{}\">{}</a>{}</li>\n", rr.run.id, RunTitle(rr.run),
                     rr.run.reference_target ? " (reference target: crashes are deliberate)" : "");
  }
  if (runs.size() == 2) s += "<li><a href=\"#compare\">Comparison</a></li>\n";
  s += "</ul>\n";
  if (runs.size() == 2) s += ComparisonSection(runs[0], runs[1]);
  for (const auto& rr : runs) s += RunSection(rr);
  s += "</body>\n</html>\n";
  return s;
}

}  // namespace cg

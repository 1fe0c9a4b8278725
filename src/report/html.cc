#include "report/html.h"

#include <time.h>

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>

#include "report/escape.h"
#include "report/heatmap.h"
#include "stats/exact.h"
#include "stats/stats.h"

namespace cg {
namespace {

std::string E(std::string_view s) { return HtmlEscape(s); }

std::string FormatUtc(double unix_seconds) {
  if (unix_seconds <= 0) return "unknown time";
  time_t t = static_cast<time_t>(unix_seconds);
  struct tm tm;
  gmtime_r(&t, &tm);
  char buf[64];
  strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

const char* kStyle = R"(body{font-family:sans-serif;margin:24px;color:#222;max-width:1400px}
h1{font-size:22px}h2{font-size:19px;border-bottom:1px solid #ccc;padding-bottom:4px;margin-top:36px}
h3{font-size:16px;margin-top:22px}h4{font-size:14px;margin:14px 0 4px}
pre{background:#f6f6f6;border:1px solid #ddd;padding:8px;overflow-x:auto;white-space:pre-wrap;word-break:break-all;font-size:12px}
code{background:#f2f2f2;padding:1px 3px}
.banner{background:#fff3cd;border:2px solid #e0a800;padding:10px 14px;font-weight:bold;margin:12px 0}
table{border-collapse:collapse;margin:6px 0}
th,td{border:1px solid #ccc;padding:3px 8px;text-align:left;font-size:13px;vertical-align:top}
table.hm td.hm-cell{width:72px;height:40px;text-align:center;vertical-align:middle;border:2px solid #fff;padding:2px}
table.hm th{background:#fafafa;text-align:center}
table.hm .k{display:block;font-weight:bold}table.hm .v{display:block;font-size:10px}
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

struct Totals {
  int64_t trials = 0, ran = 0, crashed = 0, hung = 0, failed = 0, not_started = 0;
};

Totals Count(const std::vector<StoredTrial>& trials) {
  Totals t;
  for (const auto& st : trials) {
    ++t.trials;
    switch (st.result.outcome) {
      case Outcome::kCrashed: ++t.crashed; break;
      case Outcome::kHung: ++t.hung; break;
      case Outcome::kFailed: ++t.failed; break;
      case Outcome::kCouldNotStart: ++t.not_started; break;
      case Outcome::kClean: break;
    }
    if (st.result.outcome != Outcome::kCouldNotStart) ++t.ran;
  }
  return t;
}

std::string RunTitle(const RunRecord& run) {
  return fmt::format("Run {} &mdash; {}", run.id, E(run.workload.empty() ? "?" : run.workload));
}

std::string SignatureSection(const ReportRun& rr, const std::string& id_prefix) {
  auto sigs = CountSignatures(rr.trials);
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
    s += Maps(BuildHeatmaps(rr.run, rr.trials, HeatMeasure::kSignature, sc.signature),
              fmt::format("{}-sig{}", id_prefix, i));
    const StoredTrial* rep = RepresentativeTrial(rr.trials, sc.signature);
    if (!rep) continue;
    const TrialResult& r = rep->result;
    s += fmt::format("<details><summary>Representative report: trial {} ({}, repetition {}, {})</summary>\n", rep->id,
                     E(rep->cell_key.empty() ? CellKey(rep->cell) : rep->cell_key), rep->repetition,
                     E(OutcomeName(r.outcome)));
    if (r.report) {
      s += "<pre class=\"threads\">" + E(FormatAllThreads(*r.report)) + "</pre>\n";
    } else {
      s += "<p class=\"small\">No stacks were captured for this trial (capture: " +
           E(r.capture_method.empty() ? "none" : r.capture_method) + ").</p>\n";
    }
    if (!r.detail.empty()) s += "<p>Detail: <code>" + E(r.detail) + "</code></p>\n";
    if (!r.stderr_tail.empty()) s += "<h4>stderr (tail)</h4><pre class=\"out\">" + E(r.stderr_tail) + "</pre>\n";
    if (!r.stdout_tail.empty()) s += "<h4>stdout (tail)</h4><pre class=\"out\">" + E(r.stdout_tail) + "</pre>\n";
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

// One row per value of the `serialize` axis over all other cells: how often it crashed and what it cost.
std::string MitigationSection(const ReportRun& rr) {
  const GridAxis* axis = FindAxis(rr.run, "serialize");
  if (!axis) return "";
  struct Row {
    int64_t n = 0, k = 0;
    double work = 0, seconds = 0;
  };
  std::map<std::string, Row> rows;
  for (const auto& t : rr.trials) {
    if (t.result.outcome == Outcome::kCouldNotStart) continue;
    for (const auto& [name, value] : t.cell) {
      if (name != "serialize") continue;
      Row& row = rows[value];
      ++row.n;
      if (IsCrash(t.result.outcome)) ++row.k;
      if (t.result.workload_seconds > 0) {
        row.work += static_cast<double>(t.result.iterations);
        row.seconds += t.result.workload_seconds;
      }
    }
  }
  double baseline = 0;
  auto rate = [](const Row& r) { return r.seconds > 0 ? r.work / r.seconds : 0.0; };
  if (rows.count("none")) baseline = rate(rows["none"]);
  std::string s = "<h3>Mitigations (<code>serialize</code> axis)</h3>\n<table class=\"mitigations\">\n"
                  "<tr><th>serialize</th><th>crashes</th><th>crash rate (Wilson 95%)</th><th>safe claim</th>"
                  "<th>iterations/s</th><th>vs none</th></tr>\n";
  std::string best;
  double best_rate = -1;
  std::string least;
  double least_p = 2;
  for (const auto& value : axis->values) {
    auto it = rows.find(value);
    if (it == rows.end()) {
      s += "<tr><td>" + E(value) + "</td><td colspan=\"5\">no trials</td></tr>\n";
      continue;
    }
    const Row& r = it->second;
    Interval w = Wilson(r.k, r.n);
    double p = static_cast<double>(r.k) / static_cast<double>(r.n);
    bool safe = SprtDecide(r.k, r.n, SprtParams{}) == Verdict::kSafe;
    s += fmt::format("<tr><td><code>{}</code></td><td>{}/{}</td><td>{} [{}, {}]</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                     E(value), r.k, r.n, FormatPercent(p), FormatPercent(w.lo), FormatPercent(w.hi),
                     r.k == 0 ? E(SafeClaim(r.k, r.n)) + (safe ? " (SAFE)" : "") : "<span class=\"bad\">crashes</span>",
                     r.seconds > 0 ? fmt::format("{:.1f}", rate(r)) : "-",
                     baseline > 0 && r.seconds > 0 ? fmt::format("{:+.0f}%", (rate(r) / baseline - 1) * 100) : "-");
    if (r.k == 0 && rate(r) > best_rate) {
      best_rate = rate(r);
      best = value;
    }
    if (p < least_p) {
      least_p = p;
      least = value;
    }
  }
  s += "</table>\n";
  if (!best.empty()) {
    const Row& r = rows[best];
    s += fmt::format("<p class=\"good\">Recommendation: <code>serialize={}</code> &mdash; no crash in {} trials ({}), "
                     "the fastest of the settings that never crashed.</p>\n",
                     E(best), r.n, E(SafeClaim(0, r.n)));
  } else if (!least.empty()) {
    s += fmt::format("<p class=\"bad\">No setting of <code>serialize</code> removed the crash; the lowest crash rate "
                     "was <code>serialize={}</code> ({}).</p>\n",
                     E(least), FormatPercent(least_p));
  }
  return s;
}

std::string ComparisonSection(const ReportRun& a, const ReportRun& b) {
  struct Counts {
    int64_t n = 0, k = 0;
  };
  auto tally = [](const std::vector<StoredTrial>& trials) {
    std::map<std::string, Counts> m;
    for (const auto& t : trials) {
      if (t.result.outcome == Outcome::kCouldNotStart) continue;
      Counts& c = m[CellKey(t.cell)];
      ++c.n;
      if (IsCrash(t.result.outcome)) ++c.k;
    }
    return m;
  };
  auto ta = tally(a.trials), tb = tally(b.trials);
  std::vector<std::string> keys;
  for (const auto& [key, c] : ta) {
    if (tb.count(key)) keys.push_back(key);
  }
  std::string s = fmt::format("<h2 id=\"compare\">Comparison: run {} vs run {}</h2>\n", a.run.id, b.run.id);
  s += "<p class=\"small\">Fisher's exact test (two-sided) per cell the two runs share; p-values Holm-adjusted over "
       "those cells.</p>\n";
  if (keys.empty()) return s + "<p>The two runs share no cell.</p>\n";
  std::vector<double> p;
  Counts sa, sb;
  for (const auto& k : keys) {
    p.push_back(FisherExactTwoSided(ta[k].k, ta[k].n, tb[k].k, tb[k].n));
    sa.n += ta[k].n, sa.k += ta[k].k, sb.n += tb[k].n, sb.k += tb[k].k;
  }
  std::vector<double> adj = HolmAdjust(p);
  s += fmt::format("<table class=\"compare\"><tr><th>cell</th><th>run {}</th><th>run {}</th><th>p</th>"
                   "<th>Holm p</th><th></th></tr>\n",
                   a.run.id, b.run.id);
  for (size_t i = 0; i < keys.size(); ++i) {
    const Counts &x = ta[keys[i]], &y = tb[keys[i]];
    double px = static_cast<double>(x.k) / static_cast<double>(x.n);
    double py = static_cast<double>(y.k) / static_cast<double>(y.n);
    std::string verdict = adj[i] < 0.05 ? (px > py ? "<span class=\"bad\">run " + std::to_string(a.run.id) +
                                                         " crashes more</span>"
                                                   : "<span class=\"bad\">run " + std::to_string(b.run.id) +
                                                         " crashes more</span>")
                                        : "no significant difference";
    s += fmt::format("<tr><td><code>{}</code></td><td>{}/{} ({})</td><td>{}/{} ({})</td><td>{:.3g}</td><td>{:.3g}</td>"
                     "<td>{}</td></tr>\n",
                     E(keys[i]), x.k, x.n, FormatPercent(px), y.k, y.n, FormatPercent(py), p[i], adj[i], verdict);
  }
  double pall = FisherExactTwoSided(sa.k, sa.n, sb.k, sb.n);
  s += fmt::format("<tr><th>all shared cells</th><th>{}/{}</th><th>{}/{}</th><th>{:.3g}</th><th></th><th></th></tr>\n",
                   sa.k, sa.n, sb.k, sb.n, pall);
  s += "</table>\n";
  auto driver = [](const RunRecord& r) -> std::string {
    const auto& env = r.environment;
    if (env.is_object() && env.contains("nvidia") && env["nvidia"].is_object() && env["nvidia"].contains("driver") &&
        env["nvidia"]["driver"].is_string()) {
      return env["nvidia"]["driver"].get<std::string>();
    }
    return "";
  };
  std::string da = driver(a.run), db = driver(b.run);
  if (da != db) s += "<p>NVIDIA driver: run " + std::to_string(a.run.id) + " <code>" + E(da.empty() ? "?" : da) +
                     "</code>, run " + std::to_string(b.run.id) + " <code>" + E(db.empty() ? "?" : db) + "</code>.</p>\n";
  return s;
}

std::string RunSection(const ReportRun& rr) {
  const RunRecord& run = rr.run;
  std::string id = fmt::format("run{}", run.id);
  std::string s = fmt::format("<section class=\"run\" id=\"{}\">\n<h2>{}</h2>\n", id, RunTitle(run));
  if (run.reference_target) {
    s += "<div class=\"banner\">Reference target: this workload crashes on purpose (crashes are deliberate). "
         "It checks that crashgrid finds and groups crashes; it says nothing about your drivers.</div>\n";
  }
  Totals t = Count(rr.trials);
  s += "<h3>Command line</h3>\n<pre class=\"cmd\">" + E(run.command_line) + "</pre>\n";
  s += "<table class=\"summary\">\n";
  s += "<tr><th>started</th><td>" + E(FormatUtc(run.created_at)) + (run.finished ? "" : " (not finished)") + "</td></tr>\n";
  if (!run.workload_detail.empty()) s += "<tr><th>workload detail</th><td>" + E(run.workload_detail) + "</td></tr>\n";
  if (!run.exec_argv.empty()) {
    std::vector<std::string> q;
    for (const auto& a : run.exec_argv) q.push_back(ShellQuote(a));
    std::string joined;
    for (size_t i = 0; i < q.size(); ++i) joined += (i ? " " : "") + q[i];
    s += "<tr><th>program</th><td><code>" + E(joined) + "</code></td></tr>\n";
  }
  for (const auto& [k, v] : run.params) s += "<tr><th>" + E(k) + "</th><td>" + E(v) + "</td></tr>\n";
  s += fmt::format("<tr><th>trials</th><td>{} ran, {} crashed, {} hung, {} failed, {} could not start</td></tr>\n", t.ran,
                   t.crashed, t.hung, t.failed, t.not_started);
  s += fmt::format("<tr><th>per trial</th><td>{:.3g} s (grace {:.3g} s), up to {} runs per cell, capture {}</td></tr>\n",
                   run.duration_s, run.grace_s, run.runs, E(run.capture.empty() ? "?" : run.capture));
  s += "<tr><th>crashgrid</th><td>" + E(run.crashgrid_version) + " (" + E(run.crashgrid_commit) + ")</td></tr>\n";
  s += "</table>\n";

  s += "<h3>Crash probability</h3>\n";
  s += Maps(BuildHeatmaps(run, rr.trials, HeatMeasure::kCrashes), id + "-crash");
  s += "<p class=\"legend\">Each cell: crashed or hung / trials that ran, and the SPRT verdict (p0 = 1%, p1 = 10%). "
       "Hover a cell for its Wilson 95% interval. Green: no crash; orange to dark red: rising crash probability; "
       "grey: no trials.</p>\n";
  bool any_throughput = false;
  for (const auto& st : rr.trials) any_throughput |= st.result.workload_seconds > 0;
  if (any_throughput) {
    s += "<h3>Throughput</h3>\n";
    s += Maps(BuildHeatmaps(run, rr.trials, HeatMeasure::kThroughput), id + "-tput");
  }
  s += MitigationSection(rr);
  s += SignatureSection(rr, id);
  s += "<h3>Environment</h3>\n" + EnvironmentTable(run.environment);
  s += "</section>\n";
  return s;
}

}  // namespace

std::string FormatAllThreads(const CrashReport& report) {
  std::string s;
  if (report.signal) {
    s += fmt::format("Signal {} ({}), si_code {}", SignalName(report.signal), report.signal, report.si_code);
    if (report.has_fault_address) s += fmt::format(", fault address 0x{:x}", report.fault_address);
    s += fmt::format(", faulting thread {}", report.faulting_tid);
    if (!report.faulting_thread_name.empty()) s += " \"" + report.faulting_thread_name + "\"";
    s += "\n";
  }
  s += fmt::format("Captured by {} in {:.1f} ms", report.method.empty() ? "?" : report.method, report.capture_ms);
  if (!report.error.empty()) s += " (partial: " + report.error + ")";
  s += "\n";
  for (size_t i = 0; i < report.threads.size(); ++i) {
    const ThreadStack& t = report.threads[i];
    s += fmt::format("\nThread {} (tid {}", i + 1, t.tid);
    if (!t.name.empty()) s += " \"" + t.name + "\"";
    s += ")";
    if (!t.phase.empty()) s += " phase " + t.phase;
    if (t.faulting) s += " <- faulting";
    s += ":\n";
    for (size_t f = 0; f < t.frames.size(); ++f) {
      const Frame& fr = t.frames[f];
      s += fmt::format("#{:<2} 0x{:016x} in ", f, fr.pc);
      if (!fr.symbol.empty()) {
        s += fr.symbol;
        if (fr.symbol_offset) s += fmt::format("+0x{:x}", fr.symbol_offset);
      } else {
        s += "??";
      }
      if (!fr.module.empty()) s += fmt::format(" ({}+0x{:x})", fr.module, fr.offset);
      s += "\n";
    }
    if (!t.error.empty()) s += "   (unwinding stopped: " + t.error + ")\n";
  }
  return s;
}

const StoredTrial* RepresentativeTrial(const std::vector<StoredTrial>& trials, const std::string& signature) {
  const StoredTrial* first = nullptr;
  for (const auto& t : trials) {
    if (EffectiveSignature(t.result) != signature) continue;
    if (t.result.report) return &t;
    if (!first) first = &t;
  }
  return first;
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
  s += "<ul class=\"toc\">\n";
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

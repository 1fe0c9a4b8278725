#include "report/bugreport.h"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>

#include "report/cells.h"
#include "report/crashes.h"
#include "report/escape.h"
#include "report/html.h"
#include "report/reproduce.h"
#include "report/svg.h"
#include "stats/stats.h"
#include "util/strings.h"

namespace cg {
namespace {

// A Markdown code span that shows `s` literally: controls visible (TerminalLine), on one line, fenced by more
// backticks than it contains in a row, and with '|' escaped so it can sit in a table cell.
std::string MdCode(std::string_view raw) {
  std::string s = TerminalLine(raw);
  size_t run = 0, longest = 0;
  for (char c : s) {
    run = c == '`' ? run + 1 : 0;
    longest = std::max(longest, run);
  }
  std::string out;
  for (char c : s) {
    if (c == '|') {
      out += "\\|";
    } else {
      out += c;
    }
  }
  std::string fence(longest + 1, '`');
  bool pad = !out.empty() && (out.front() == '`' || out.back() == '`');
  return fence + (pad ? " " : "") + out + (pad ? " " : "") + fence;
}

std::string MdTable(const Heatmap& m) {
  std::string s;
  std::string corner = m.row_axis + (m.col_axis.empty() ? "" : " \\ " + m.col_axis);
  if (!m.subtitle.empty()) s += "With " + MdCode(m.subtitle) + ":\n\n";
  s += "| " + (corner.empty() ? std::string("cell") : MdCode(corner)) + " |";
  for (const auto& c : m.cols) s += " " + (c.empty() ? std::string("k/n") : MdCode(c)) + " |";
  s += "\n|---|";
  for (size_t c = 0; c < m.cols.size(); ++c) s += "---|";
  s += "\n";
  for (size_t r = 0; r < m.rows.size(); ++r) {
    s += "| " + (m.rows[r].empty() ? std::string("-") : MdCode(m.rows[r])) + " |";
    for (size_t c = 0; c < m.cols.size(); ++c) {
      const HeatCell& cell = m.at(r, c);
      s += " " + (cell.present ? fmt::format("{}/{}", cell.k, cell.n) : std::string("-")) + " |";
    }
    s += "\n";
  }
  return s;
}

bool IsValueOption(const std::string& a) {
  static const std::set<std::string> kDrop = {"--grid", "--runs", "--db", "--until", "--junit", "--refine-width",
                                              "--refine-budget", "--format"};
  return kDrop.count(a) > 0;
}

}  // namespace

std::string MdBlock(std::string_view raw, const std::string& lang) {
  std::string s = TerminalText(raw);
  size_t run = 0, longest = 0;
  for (char c : s) {
    run = c == '`' ? run + 1 : 0;
    longest = std::max(longest, run);
  }
  std::string fence(std::max<size_t>(3, longest + 1), '`');
  if (!s.empty() && s.back() != '\n') s += '\n';
  return fence + lang + "\n" + s + fence + "\n";
}


bool MatchSignature(const std::vector<SignatureCount>& signatures, const std::string& query, std::string* match,
                    std::string* err) {
  std::vector<const SignatureCount*> prefixed;
  for (const auto& s : signatures) {
    if (s.signature == query) {
      *match = s.signature;
      return true;
    }
    if (StartsWith(s.signature, query)) prefixed.push_back(&s);
  }
  if (prefixed.size() == 1) {
    *match = prefixed[0]->signature;
    return true;
  }
  auto list = [](const std::vector<const SignatureCount*>& sigs) {
    std::string s;
    for (size_t i = 0; i < sigs.size(); ++i) s += fmt::format("{}'{}' ({})", i ? ", " : "", sigs[i]->signature, sigs[i]->count);
    return s;
  };
  if (signatures.empty()) {
    *err = fmt::format("no signature '{}': this run has no crashes or hangs (pick another run with --run)", query);
  } else if (prefixed.empty()) {
    std::vector<const SignatureCount*> all;
    for (const auto& s : signatures) all.push_back(&s);
    *err = fmt::format("unknown signature '{}' (give one of, or a unique prefix of: {})", query, list(all));
  } else {
    *err = fmt::format("signature prefix '{}' is ambiguous (it starts {}; give more of it)", query, list(prefixed));
  }
  return false;
}

std::vector<std::string> ReproArgv(const RunRecord& run, const Cell& cell, int runs, const std::string& db) {
  std::vector<std::string> in = run.argv;
  std::vector<std::string> exec;
  auto ex = std::find(in.begin(), in.end(), "--exec");
  if (ex != in.end()) {
    exec.assign(ex, in.end());
    in.erase(ex, in.end());
  }
  std::vector<std::string> out = {"crashgrid", "sweep"};
  size_t start = 0;
  if (in.size() >= 2 && in[1] == "sweep") start = 2;
  if (in.empty()) {
    if (run.workload != "exec" && !run.workload.empty()) out.push_back(run.workload);
    for (const auto& [k, v] : run.params) {
      bool axis = false;
      for (const auto& [name, value] : cell) axis |= name == k;
      if (!axis) out.insert(out.end(), {"--param", k + "=" + v});
    }
    if (!run.exec_argv.empty()) {
      exec = {"--exec", "--"};
      exec.insert(exec.end(), run.exec_argv.begin(), run.exec_argv.end());
    }
  }
  for (size_t i = start; i < in.size(); ++i) {
    const std::string& a = in[i];
    if (a == "--resume" || a == "--no-live" || a == "--refine" || a == "--new-run") continue;
    // `--env NAME` took crashgrid's value of NAME: the reproduction names the value the run recorded.
    if ((a == "--env" && i + 1 < in.size()) || StartsWith(a, "--env=")) {
      std::string e = a == "--env" ? in[++i] : a.substr(6);
      auto recorded = run.env.find(e);
      out.insert(out.end(), {"--env", e.find('=') == std::string::npos && recorded != run.env.end()
                                          ? e + "=" + recorded->second
                                          : e});
      continue;
    }
    if (IsValueOption(a)) {
      ++i;  // and its value
      continue;
    }
    size_t eq = a.find('=');
    if (StartsWith(a, "--") && eq != std::string::npos && IsValueOption(a.substr(0, eq))) continue;
    out.push_back(a);
  }
  for (const auto& [name, value] : cell) out.insert(out.end(), {"--grid", name + "=" + value});
  out.insert(out.end(), {"--runs", std::to_string(runs), "--db", db});
  out.insert(out.end(), exec.begin(), exec.end());
  return out;
}

BugReport RenderBugReport(const ReportRun& rr, const std::string& signature) {
  const RunRecord& run = rr.run;
  BugReport b;
  std::vector<Heatmap> maps = BuildHeatmaps(run, rr.groups, HeatMeasure::kSignature, signature);
  // The cell with the most crashes of this signature (highest rate on ties) is where a repro fails fastest.
  std::map<std::string, std::pair<int64_t, int64_t>> per_cell;  // key -> (k, n)
  std::map<std::string, Cell> cells;
  int64_t total = 0, ran = 0;
  for (const auto& g : rr.groups) {
    if (g.outcome == Outcome::kCouldNotStart) continue;
    auto& kn = per_cell[CellKey(g.cell)];
    cells[CellKey(g.cell)] = g.cell;
    kn.second += g.count;
    ran += g.count;
    if (EffectiveSignature(GroupResult(g)) == signature) {
      kn.first += g.count;
      total += g.count;
    }
  }
  std::string best;
  for (const auto& [key, kn] : per_cell) {
    if (kn.first == 0) continue;
    if (best.empty()) {
      best = key;
      continue;
    }
    const auto& bk = per_cell[best];
    if (kn.first > bk.first || (kn.first == bk.first && kn.first * bk.second > bk.first * kn.second)) best = key;
  }

  std::string& md = b.markdown;
  md += "# Crash report: " + MdCode(signature) + "\n\n";
  if (run.reference_target) {
    md += "> **Reference target: crashes are deliberate.** This run exercises crashgrid itself; it is not a driver "
          "bug.\n\n";
  }
  md += fmt::format("{} of {} trials of run {} ({}) ended with this signature.\n\n", total, ran, run.id,
                    MdCode(run.workload));
  md += "## Reproduce\n\n";
  if (!best.empty()) {
    const auto& kn = per_cell[best];
    // One signature's share of the crashes: under a stopping rule, the always-valid interval (ShowCell).
    const CellShown shown = ShowCell(run, best, kn.first, kn.second, /*subset=*/true);
    const Interval w = shown.ci;
    md += fmt::format("The cell {} crashed this way in {}/{} trials ({}, {} [{}, {}]). To reproduce:\n\n",
                      MdCode(best), kn.first, kn.second, FormatPercent(static_cast<double>(kn.first) / kn.second),
                      shown.stop == StopKind::kFixed ? "Wilson 95%" : "always-valid 95%", FormatPercent(w.lo),
                      FormatPercent(w.hi));
    md += MdBlock(CdPrefix(run) + ShellJoin(ReproArgv(run, cells[best], 20, "repro.db")), "sh");
    md += "\nOne trial of that cell without crashgrid (its working directory, environment and arguments):\n\n";
    md += MdBlock(ReproductionCommand(run, cells[best]), "sh");
  }
  md += "\nThe original command:\n\n" + MdBlock(CdPrefix(run) + RunCommandLine(run), "sh");
  if (!run.exec_argv.empty()) md += "\nProgram under test: " + MdCode(ShellJoin(run.exec_argv)) + "\n";

  md += "\n## Environment\n\n";
  const auto& env = run.environment;
  // "driver_version" is the fingerprint's key (workloads/environment.h); "driver" what early files wrote.
  for (const char* key : {"driver_version", "driver"}) {
    if (env.is_object() && env.contains("nvidia") && env["nvidia"].is_object() && env["nvidia"].contains(key)) {
      const auto& v = env["nvidia"][key];
      md += "- NVIDIA driver: " +
            MdCode(v.is_string() ? v.get<std::string>() : v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)) +
            "\n";
      break;
    }
  }
  if (!run.labels.empty()) md += "- labels: " + MdCode(LabelsText(run.labels)) + "\n";
  md += "- crashgrid " + MdCode(run.crashgrid_version + " (" + run.crashgrid_commit + ")") + "\n";
  md += fmt::format("- {} s per trial, capture {}\n\n", run.duration_s, MdCode(run.capture));
  md += "<details><summary>Full environment fingerprint</summary>\n\n" +
        MdBlock(env.dump(2, ' ', false, nlohmann::json::error_handler_t::replace), "json") + "\n</details>\n";

  md += "\n## Crashes with this signature per cell (k/n)\n\n";
  for (const auto& m : maps) md += MdTable(m) + "\n";
  md += "See `heatmap.svg` for the same table as an image.\n";

  md += "\n## Representative report (all threads)\n\n";
  const StoredTrial* rep = RepresentativeTrial(rr, signature);
  if (rep && rep->result.report) {
    b.threads = RenderTrialReport(*rep);
    md += fmt::format("Trial {} in cell {} (also in `report.txt`):\n\n", rep->id, MdCode(CellKey(rep->cell)));
    md += MdBlock(b.threads);
  } else {
    md += "No stacks were captured for this signature (sweep with `--capture ptrace` to get them).\n";
  }
  md += "\n_Generated by crashgrid bugreport._\n";

  b.svg = RenderSvgHeatmaps(maps, fmt::format("run {} ({}): {} of {} trials", run.id, run.workload, total, ran));
  return b;
}

}  // namespace cg

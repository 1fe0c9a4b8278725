#include "report/reproduce.h"

#include "report/escape.h"
#include "trial/trial_command.h"
#include "util/strings.h"

namespace cg {

std::string CdPrefix(const RunRecord& run) { return run.cwd.empty() ? "" : "cd " + ShellQuote(run.cwd) + " && "; }

std::string RunCommandLine(const RunRecord& run) {
  return run.argv.empty() ? run.command_line : ShellJoin(run.argv);
}

std::string ReproductionCommand(const RunRecord& run, const Cell& cell) {
  TrialCommand c = RunTrialCommand(run, cell, "crashgrid");
  std::string s = CdPrefix(run);
  // NAME=VALUE is an assignment only while NAME= is unquoted: quote the value alone.
  for (const auto& [k, v] : c.env) s += k + "=" + ShellQuote(v) + " ";
  if (!c.argv.empty()) {
    // A command word that looks like an assignment would be taken for one: quote it whatever it holds.
    std::string program = ShellQuote(c.argv[0]);
    if (program == c.argv[0] && program.find('=') != std::string::npos) program = "'" + program + "'";
    s += program;
    for (size_t i = 1; i < c.argv.size(); ++i) s += " " + ShellQuote(c.argv[i]);
  }
  return s;
}

Cell ReproductionCell(const RunRecord& run, const std::vector<TrialGroup>& groups) {
  std::map<std::string, std::pair<int64_t, int64_t>> kn;  // cell key -> (crashes, evidence)
  std::map<std::string, Cell> cells;
  for (const TrialGroup& g : groups) {
    Evidence e = OutcomeEvidence(g.outcome);
    if (e == Evidence::kNeither) continue;
    auto& c = kn[g.cell_key];
    cells[g.cell_key] = g.cell;
    c.second += g.count;
    if (e == Evidence::kCrash) c.first += g.count;
  }
  const std::string* best = nullptr;
  for (const auto& [key, c] : kn) {
    if (c.first == 0) continue;
    const auto* b = best ? &kn[*best] : nullptr;
    if (!b || c.first > b->first || (c.first == b->first && c.first * b->second > b->first * c.second)) best = &key;
  }
  if (best) return cells[*best];
  std::vector<Cell> all = ExpandGrid(run.grid);
  return all.empty() ? Cell{} : all.front();
}

std::string LabelsText(const std::map<std::string, std::string>& labels) {
  std::vector<std::string> parts;
  for (const auto& [k, v] : labels) parts.push_back(k + "=" + ShellQuote(v));
  return Join(parts, " ");
}

}  // namespace cg

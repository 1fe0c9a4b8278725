#include "report/mitigations.h"
#include "stats/stopping_settings.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <map>

#include <fmt/format.h>

#include "report/cells.h"
#include "util/strings.h"

namespace cg {
namespace {

Verdict ParseVerdictName(const std::string& name) {
  for (Verdict v : {Verdict::kSafe, Verdict::kCrashes})
    if (name == VerdictName(v)) return v;
  return Verdict::kUndecided;
}

int PhasesOf(const std::string& policy) {
  if (policy == "none" || policy.empty()) return 0;
  if (policy == "all") return INT_MAX / 2;
  return static_cast<int>(Split(policy, '+').size());
}

std::string Percent(double rel) { return fmt::format("{:+.0f}%", 100 * rel); }

std::string Throughput(double t) { return t >= 100 ? fmt::format("{:.0f}", t) : fmt::format("{:.3g}", t); }

// What an all-SAFE policy may claim: the bound of its weakest cell, which every cell meets. (Pooled over cells
// the bound is tighter than any one cell supports: two cells of 31 clean runs pool to p < 0.048, while each
// supports only p < 0.093.)
std::string WorstCellClaim(const PolicySummary& p) {
  int64_t n = 0;
  for (const PolicyCell& c : p.cells)
    if (c.key == p.worst_cell) n = c.n;
  if (p.cells.size() == 1)
    return fmt::format("p < {} at 95% (Clopper-Pearson, {} trials)", FormatUpperBound(p.worst_upper), n);
  return fmt::format("p < {} at 95% in every cell (Clopper-Pearson, by its weakest cell, {}: {} trials)",
                     FormatUpperBound(p.worst_upper), p.worst_cell.empty() ? "(all)" : p.worst_cell, n);
}

}  // namespace

bool BuildMitigationStudy(const RunRecord& run, const std::vector<TrialGroup>& groups, const std::string& axis,
                          const SprtParams& sprt, MitigationStudy* study, std::string* err) {
  MitigationStudy s;
  s.run_id = run.id;
  s.reference_target = run.reference_target;
  s.workload = run.workload;
  s.axis = axis;
  s.sprt = sprt;
  std::vector<GridAxis> axes = TrialAxes(run, groups);
  auto found = std::find_if(axes.begin(), axes.end(), [&](const GridAxis& a) { return a.name == axis; });
  if (found == axes.end()) {
    std::vector<std::string> names;
    for (const auto& a : axes) names.push_back(a.name);
    *err = fmt::format("run {} has no grid axis '{}'{} (sweep with --grid {}=none,all,open,... to study "
                       "mitigations)",
                       run.id, axis, DidYouMean(axis, names), axis);
    return false;
  }
  bool units = std::any_of(groups.begin(), groups.end(), [](const TrialGroup& g) { return !g.units_name.empty(); });
  s.throughput_unit = "iterations/s";
  if (units) {
    for (const auto& g : groups)
      if (!g.units_name.empty()) {
        s.throughput_unit = g.units_name + "/s";
        break;
      }
  }

  std::map<std::string, size_t> index;
  for (const std::string& value : found->values) {
    index[value] = s.policies.size();
    PolicySummary p;
    p.policy = value;
    p.phases = PhasesOf(value);
    s.policies.push_back(p);
  }
  std::vector<double> exposure(s.policies.size(), 0);
  const SprtParams own = RunStoppingSettings(run).sprt;
  const bool own_settings =
      own.p0 == sprt.p0 && own.p1 == sprt.p1 && own.alpha == sprt.alpha && own.beta == sprt.beta;
  for (const CellCounts& c : AggregateCells(run, groups)) {
    std::string policy;
    Cell rest;
    for (const auto& [name, value] : c.cell) {
      if (name == axis)
        policy = value;
      else
        rest.emplace_back(name, value);
    }
    PolicySummary& p = s.policies[index.at(policy)];
    exposure[index.at(policy)] += c.exposure_s;
    PolicyCell pc;
    pc.key = CellKey(rest);
    pc.k = c.crashes;
    pc.n = c.n;
    pc.failed = c.failed;
    pc.overran = c.overran;
    pc.could_not_start = c.could_not_start;
    p.failed += c.failed;
    p.overran += c.overran;
    p.could_not_start += c.could_not_start;
    // With the sweep's own SPRT settings, the verdict stored where the SPRT stopped (ShowCell: later trials,
    // a --refine pass, do not undo it); with other settings asked for, the verdict those give on these counts.
    pc.verdict = own_settings ? ParseVerdictName(ShowCell(run, c.key, c.crashes, c.n, false, c.failed).verdict)
                              : CellSprtVerdict(c.crashes, c.n, c.failed, sprt);
    pc.cp_upper = ClopperPearsonUpper(c.crashes, c.n);
    p.cells.push_back(pc);
    p.k += c.crashes;
    p.n += c.n;
    if (pc.not_started()) {
      p.not_started++;  // untested: no number of clean runs would decide it
    } else if (pc.verdict == Verdict::kSafe) {
      p.safe++;
    } else if (pc.verdict == Verdict::kCrashes) {
      p.crashes++;
    } else {
      p.undecided++;
      // A cell with a failed trial never reaches SAFE: no count of clean runs to it.
      if (c.failed == 0) p.runs_to_safe += SprtCleanRunsToSafe(c.crashes, c.n, sprt);
    }
  }
  // Throughput from the trials themselves: exposure here is the workload's own clock, which is what
  // "iterations per second of workload time" means.
  for (const TrialGroup& g : groups) {
    // Failed and overran trials are left out here too: their workload did not end the way it measures.
    if (OutcomeEvidence(g.outcome) == Evidence::kNeither) continue;
    auto at = std::find_if(g.cell.begin(), g.cell.end(), [&](const auto& kv) { return kv.first == axis; });
    if (at == g.cell.end() || !index.count(at->second)) continue;
    PolicySummary& p = s.policies[index[at->second]];
    p.work += static_cast<double>(units ? g.units : g.iterations);
    p.workload_s += g.workload_seconds;
  }
  const PolicySummary* none = nullptr;
  for (size_t i = 0; i < s.policies.size(); ++i) {
    PolicySummary& p = s.policies[i];
    p.verdict = p.crashes > 0                      ? "some CRASHES"
                : p.failed > 0                     ? "some FAILED"
                : p.overran > 0                    ? "some OVERRAN"
                : p.could_not_start > 0            ? "not started"
                : (p.undecided > 0 || p.n == 0)    ? "undecided"
                                                   : "all SAFE";
    p.pooled_upper = ClopperPearsonUpper(p.k, p.n);
    const PolicyCell* worst = nullptr;
    for (const PolicyCell& c : p.cells)
      if (!worst || c.cp_upper > worst->cp_upper) worst = &c;
    p.worst_upper = worst ? worst->cp_upper : 1;
    p.worst_cell = worst ? worst->key : "";
    p.throughput = p.workload_s > 0 ? p.work / p.workload_s : 0;
    p.rate = CrashRateFromExposure(p.k, exposure[i]);
    if (p.policy == "none") none = &p;
  }
  if (none && none->throughput > 0) {
    for (auto& p : s.policies) {
      p.has_relative = true;
      p.relative = p.throughput / none->throughput - 1;
    }
  }

  // The recommendation: the fastest all-SAFE policy, preferring the one serializing fewest phases among
  // near-ties.
  double fastest = -1;
  for (const auto& p : s.policies)
    if (p.verdict == "all SAFE") fastest = std::max(fastest, p.throughput);
  for (size_t i = 0; i < s.policies.size(); ++i) {
    const PolicySummary& p = s.policies[i];
    if (p.verdict != "all SAFE" || p.throughput < fastest * (1 - kThroughputTie)) continue;
    if (s.recommended < 0) {
      s.recommended = static_cast<int>(i);
      continue;
    }
    const PolicySummary& best = s.policies[static_cast<size_t>(s.recommended)];
    if (p.phases < best.phases || (p.phases == best.phases && p.throughput > best.throughput))
      s.recommended = static_cast<int>(i);
  }
  auto cost = [&](const PolicySummary& p) {
    if (p.has_relative) return fmt::format("{} {} vs none", Percent(p.relative), s.throughput_unit);
    const char* why = none ? "none has no measured throughput: its trials crashed before reporting any"
                           : "no 'none' policy in the grid to compare with";
    return fmt::format("{} {} ({})", Throughput(p.throughput), s.throughput_unit, why);
  };
  if (s.recommended >= 0) {
    const PolicySummary& p = s.policies[static_cast<size_t>(s.recommended)];
    if (p.policy == "none") {
      s.recommendation = fmt::format("Recommendation: none needed: every cell is SAFE without serializing, crash "
                                     "probability {}.",
                                     WorstCellClaim(p));
    } else {
      s.recommendation = fmt::format("Recommendation: {}={}: every cell SAFE, cost {}, crash probability {}.", axis,
                                     p.policy, cost(p), WorstCellClaim(p));
    }
  } else {
    // No policy is all SAFE. The one to run more of: no CRASHES cell and no trial that failed, overran or could
    // not start, fastest; else say which policies fail, or which crash least. A policy whose trials could not
    // start in some cell is untested there: never the candidate (its untested cells are no "runs to SAFE").
    std::vector<std::string> failing;
    for (const auto& p : s.policies) {
      if (p.crashes > 0 || (p.failed == 0 && p.overran == 0 && p.could_not_start == 0)) continue;
      std::vector<std::string> what;
      if (p.failed > 0) what.push_back(fmt::format("{} failed", p.failed));
      if (p.overran > 0) what.push_back(fmt::format("{} overran", p.overran));
      if (p.could_not_start > 0) what.push_back(fmt::format("{} could not start", p.could_not_start));
      failing.push_back(fmt::format("{}={} ({})", axis, p.policy, Join(what, ", ")));
    }
    for (size_t i = 0; i < s.policies.size(); ++i) {
      const PolicySummary& p = s.policies[i];
      if (p.crashes > 0 || p.failed > 0 || p.overran > 0 || p.could_not_start > 0 || p.n == 0) continue;
      if (s.candidate < 0 || p.throughput > s.policies[static_cast<size_t>(s.candidate)].throughput)
        s.candidate = static_cast<int>(i);
    }
    const std::string not_a_fix =
        failing.empty() ? ""
                        : fmt::format(" Not a fix: {}, whose trials exited non-zero, ran past their bound or "
                                      "could not start (see why with `crashgrid export`).",
                                      Join(failing, ", "));
    if (s.candidate >= 0) {
      const PolicySummary& p = s.policies[static_cast<size_t>(s.candidate)];
      s.recommendation = fmt::format("No policy is SAFE in every cell yet. Best candidate: {}={} (no crashing cell, "
                                     "{} undecided, cost {}); about {} more clean runs would decide it "
                                     "(re-run the sweep with --until decided and a larger --runs).{}",
                                     axis, p.policy, p.undecided, cost(p), p.runs_to_safe, not_a_fix);
    } else if (!failing.empty()) {
      s.recommendation = fmt::format("No policy can be recommended: those without a crash have trials that failed, "
                                     "overran or could not start: {}. A policy under which the program exits "
                                     "non-zero, runs past its bound or cannot start is not a fix (see why with "
                                     "`crashgrid export`).",
                                     Join(failing, ", "));
    } else {
      int fewest = -1;
      for (size_t i = 0; i < s.policies.size(); ++i)
        if (s.policies[i].n > 0 &&
            (fewest < 0 || s.policies[i].crashes < s.policies[static_cast<size_t>(fewest)].crashes))
          fewest = static_cast<int>(i);
      if (fewest >= 0) {
        const PolicySummary& p = s.policies[static_cast<size_t>(fewest)];
        s.recommendation = fmt::format("No policy removes the crash: every policy has CRASHES cells. Fewest: {}={} "
                                       "({} of {} cells). Serialize more phases (e.g. {}=all) or try another "
                                       "mitigation.",
                                       axis, p.policy, p.crashes, p.cells.size(), axis);
      } else {
        s.recommendation = "No trials ran: nothing to recommend.";
      }
    }
  }
  *study = std::move(s);
  return true;
}

std::string RenderMitigationsText(const MitigationStudy& s) {
  std::string out = fmt::format("Mitigation study: run {} ({}{}), policy axis '{}', SPRT p0={:g} p1={:g} "
                                "alpha={:g} beta={:g}\n\n",
                                s.run_id, s.workload, s.reference_target ? ", reference target" : "", s.axis,
                                s.sprt.p0, s.sprt.p1, s.sprt.alpha, s.sprt.beta);
  size_t width = 6;
  for (const auto& p : s.policies) width = std::max(width, p.policy.size());
  std::string unit = s.throughput_unit;
  size_t tput = std::max<size_t>(6, unit.size());
  out += fmt::format("{:<{}}  {:<12}  {:>4} {:>7} {:>9}  {:>10}  {:>6} {:>7} {:>8}  {:>13}  {:>{}}  {}\n", "policy",
                     width, "verdict", "SAFE", "CRASHES", "UNDECIDED", "crashes/n", "failed", "overran", "no start",
                     "95% upper", unit, tput, "vs none");
  for (const auto& p : s.policies) {
    std::string line = fmt::format(
        "{:<{}}  {:<12}  {:>4} {:>7} {:>9}  {:>10}  {:>6} {:>7} {:>8}  {:>13}  {:>{}}  {}", p.policy, width,
        p.verdict, p.safe, p.crashes, p.undecided, fmt::format("{}/{}", p.k, p.n), p.failed, p.overran,
        p.could_not_start, "p < " + FormatUpperBound(p.worst_upper),
        p.workload_s > 0 ? Throughput(p.throughput) : "-", tput, p.has_relative ? Percent(p.relative) : "-");
    out += std::string(Trim(line)) + "\n";
  }
  out += "\nSAFE, CRASHES, UNDECIDED: cells by SPRT verdict (a cell with a failed trial is never SAFE). crashes/n: "
         "trials that crashed or hung / trials that crashed, hung or exited 0. failed (exited non-zero), overran "
         "(killed past the bound while still making progress) and no start (could not start): trials that are "
         "neither, in no verdict; a policy with any is never recommended. 95% upper: the Clopper-Pearson bound of "
         "the policy's weakest cell.\n";
  out += "\n" + s.recommendation + "\n";
  return out;
}

nlohmann::json MitigationsToJson(const MitigationStudy& s) {
  using nlohmann::json;
  json policies = json::array();
  for (const auto& p : s.policies) {
    json cells = json::array();
    for (const auto& c : p.cells)
      cells.push_back({{"cell", c.key}, {"crashes", c.k}, {"n", c.n}, {"failed", c.failed}, {"overran", c.overran},
                       {"could_not_start", c.could_not_start},
                       {"not_started", c.not_started()}, {"verdict", VerdictName(c.verdict)},
                       {"cp_upper95", c.cp_upper}});
    json j = {{"policy", p.policy},
              {"verdict", p.verdict},
              {"safe", p.safe},
              {"crashes_cells", p.crashes},
              {"undecided", p.undecided},
              {"crashes", p.k},
              {"n", p.n},
              {"failed", p.failed},
              {"overran", p.overran},
              {"could_not_start", p.could_not_start},
              {"not_started", p.not_started},
              {"worst_cell", p.worst_cell},
              {"worst_cell_cp_upper95", p.worst_upper},
              {"pooled_cp_upper95", p.pooled_upper},
              {"crash_rate_per_minute", p.rate.per_minute},
              {"crash_rate_ci", {p.rate.per_minute_ci.lo, p.rate.per_minute_ci.hi}},
              {"throughput", p.throughput},
              {"runs_to_safe", p.runs_to_safe},
              {"cells", cells}};
    j["relative_to_none"] = p.has_relative ? json(p.relative) : json(nullptr);
    policies.push_back(j);
  }
  json j = {{"schema_version", kMitigationsJsonSchemaVersion},
            {"run", s.run_id},
            {"workload", s.workload},
            {"reference_target", s.reference_target},
            {"axis", s.axis},
            {"throughput_unit", s.throughput_unit},
            {"sprt", {{"p0", s.sprt.p0}, {"p1", s.sprt.p1}, {"alpha", s.sprt.alpha}, {"beta", s.sprt.beta}}},
            {"policies", policies},
            {"recommendation", s.recommendation}};
  j["recommended"] = s.recommended >= 0 ? json(s.policies[static_cast<size_t>(s.recommended)].policy) : json(nullptr);
  j["candidate"] = s.candidate >= 0 ? json(s.policies[static_cast<size_t>(s.candidate)].policy) : json(nullptr);
  return j;
}

}  // namespace cg

#include "report/cells.h"

#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>

#include <fmt/format.h>

#include "stats/stopping_settings.h"
#include "util/strings.h"

namespace cg {

TrialResult GroupResult(const TrialGroup& g) {
  TrialResult r;
  r.outcome = g.outcome;
  r.exit_code = g.exit_code;
  r.signal = g.signal;
  r.via_shell = g.via_shell;
  r.signature = g.signature;
  return r;
}

std::vector<GridAxis> TrialAxes(const RunRecord& run, const std::vector<TrialGroup>& groups) {
  std::vector<GridAxis> axes = run.grid;
  for (const auto& t : groups) {
    for (const auto& [name, value] : t.cell) {
      // Captured by name: clang before 16 cannot capture a structured binding (the fuzz build is clang 14).
      auto axis = std::find_if(axes.begin(), axes.end(), [&name = name](const GridAxis& a) { return a.name == name; });
      if (axis == axes.end()) {
        axes.push_back({name, {}});
        axis = axes.end() - 1;
      }
      if (std::find(axis->values.begin(), axis->values.end(), value) == axis->values.end())
        axis->values.push_back(value);
    }
  }
  return axes;
}

bool AddGpuAxis(RunRecord* run, std::vector<TrialGroup>* groups, std::string* err) {
  for (const GridAxis& a : run->grid) {
    if (a.name == "gpu") {
      *err = fmt::format("run {} has a grid axis named 'gpu' of its own: --by gpu (the GPU each trial ran on under "
                         "--gpus) cannot add a second one (sweep with another name for that axis)",
                         run->id);
      return false;
    }
  }
  std::map<int, std::set<std::string>> uuids;  // index -> the UUIDs recorded with it
  for (const TrialGroup& g : *groups) uuids[g.gpu_index].insert(g.gpu_uuid);
  auto label = [&](int index, const std::string& uuid) {
    if (index < 0) return std::string("none");
    return uuids[index].size() > 1 ? fmt::format("{}/{}", index, uuid) : std::to_string(index);
  };
  GridAxis axis{"gpu", {}};
  for (const auto& [index, set] : uuids)
    for (const std::string& uuid : set) {
      std::string value = label(index, uuid);
      if (std::find(axis.values.begin(), axis.values.end(), value) == axis.values.end()) axis.values.push_back(value);
    }
  for (TrialGroup& g : *groups) {
    g.cell.emplace_back("gpu", label(g.gpu_index, g.gpu_uuid));
    g.cell_key = CellKey(g.cell);
  }
  run->grid.push_back(std::move(axis));
  run->verdicts.clear();
  return true;
}

// A trial's cell in axis order: its key must match the grid's cell key even if the trial stored its
// parameters in another order or lacks an axis added later.
static std::string KeyInAxisOrder(const Cell& cell, const std::vector<GridAxis>& axes) {
  Cell ordered;
  for (const auto& axis : axes) {
    auto it = std::find_if(cell.begin(), cell.end(), [&](const auto& p) { return p.first == axis.name; });
    if (it != cell.end()) ordered.push_back(*it);
  }
  return CellKey(ordered);
}

std::vector<CellCounts> AggregateCells(const RunRecord& run, const std::vector<TrialGroup>& groups,
                                       const std::string& signature) {
  std::vector<GridAxis> axes = TrialAxes(run, groups);
  std::vector<CellCounts> out;
  std::unordered_map<std::string, size_t> index;
  for (auto& cell : ExpandGrid(axes)) {
    CellCounts c;
    c.key = CellKey(cell);
    c.cell = std::move(cell);
    index.emplace(c.key, out.size());
    out.push_back(std::move(c));
  }
  for (const auto& g : groups) {
    auto it = index.find(KeyInAxisOrder(g.cell, axes));
    if (it == index.end()) continue;  // only a group lacking one of the axes; nothing to lay it out on
    CellCounts& c = out[it->second];
    const int64_t n = g.count;
    const TrialResult r = GroupResult(g);
    c.trials += n;
    if (g.outcome == Outcome::kCouldNotStart) {
      c.could_not_start += n;
      c.exit_codes[SeedExitCode(r)] += n;
      continue;
    }
    c.ran += n;
    c.iterations += g.iterations;
    switch (g.outcome) {
      case Outcome::kClean: c.clean += n; break;
      case Outcome::kCrashed: c.crashed += n; break;
      case Outcome::kHung: c.hung += n; break;
      case Outcome::kFailed: c.failed += n; break;
      case Outcome::kOverran: c.overran += n; break;
      case Outcome::kCouldNotStart: break;
    }
    int code = SeedExitCode(r);
    const Evidence evidence = OutcomeEvidence(g.outcome);
    if (evidence == Evidence::kNeither) {
      c.exit_codes[code] += n;
      continue;
    }
    c.n += n;
    if (evidence == Evidence::kCrash) {
      c.signatures[g.signature] += n;
      if (signature.empty() || g.signature == signature) {
        c.crashes += n;
      } else {
        c.other_crashes += n;
        code = 0;
      }
    }
    c.exit_codes[code] += n;
    c.exposure_s += g.exposure_s;  // TrialExposureSeconds, summed in SQL
  }
  return out;
}

CellShown ShowCell(const RunRecord& run, const std::string& key, int64_t k, int64_t n, bool subset, int64_t failed) {
  CellShown s;
  s.k = k, s.n = n;
  if (n <= 0) return s;
  s.rate = static_cast<double>(k) / static_cast<double>(n);
  const StoppingSettings settings = RunStoppingSettings(run);
  const CellVerdict* stored = nullptr;
  if (!subset) {
    for (const CellVerdict& v : run.verdicts)
      if (v.cell_key == key && v.rule == "sprt") stored = &v;
  }
  if (stored) {
    s.verdict = stored->verdict;
    s.verdict_stored = true;
    s.verdict_k = stored->crashes, s.verdict_n = stored->evidence;
    s.stopped_early = stored->verdict != VerdictName(Verdict::kUndecided);
    // A failed trial is never evidence of safety (CellSprtVerdict): one after the SAFE decision withdraws it.
    if (failed > 0 && s.verdict == VerdictName(Verdict::kSafe)) s.verdict = VerdictName(Verdict::kUndecided);
  } else {
    Verdict v = CellSprtVerdict(k, n, failed, settings.sprt);
    s.verdict = VerdictName(v);
    s.verdict_k = k, s.verdict_n = n;
    s.stopped_early = settings.decides() && !subset && v != Verdict::kUndecided;
  }
  if (!settings.decides()) {
    s.stop = StopKind::kFixed;
  } else if (subset || settings.refine || s.later_evidence()) {
    s.stop = StopKind::kAdaptive;  // runs chosen from the data beyond the SPRT's own rule
  } else {
    s.stop = SprtDecide(k, n, settings.sprt) == Verdict::kUndecided ? StopKind::kSprtCap : StopKind::kSprtBoundary;
  }
  // Counts the SPRT's rule cannot stop at (its settings changed on a resume; a cell that kept running) were
  // stopped by something else: the always-valid interval holds for any stopping.
  if ((s.stop == StopKind::kSprtBoundary || s.stop == StopKind::kSprtCap) &&
      !SprtExactInterval(k, n, settings.sprt, 0.05, &s.ci))
    s.stop = StopKind::kAdaptive;
  if (s.stop == StopKind::kFixed || s.stop == StopKind::kAdaptive) s.ci = StoppedInterval(k, n, s.stop, settings.sprt);
  if (s.stop == StopKind::kFixed && k == 0) s.upper_bound = ZeroCrashUpperBound(n);
  if (s.stop == StopKind::kSprtBoundary || s.stop == StopKind::kSprtCap)
    s.has_median_unbiased = SprtMedianUnbiased(k, n, settings.sprt, &s.median_unbiased);
  return s;
}

const char* IntervalMethodName(StopKind stop) {
  switch (stop) {
    case StopKind::kFixed: return "wilson";
    case StopKind::kSprtBoundary:
    case StopKind::kSprtCap: return "sprt-exact";
    case StopKind::kAdaptive: break;
  }
  return "always-valid";
}

std::vector<std::string> ShownCellsLegend(const RunRecord& run) {
  const StoppingSettings settings = RunStoppingSettings(run);
  if (!settings.decides()) return {};
  std::vector<std::string> lines;
  if (settings.refine) {
    lines.push_back("intervals: always-valid 95% (--refine chose further runs from the results, so n is not "
                    "fixed; this interval holds at any stopping time, a fixed-n one would not)");
  } else {
    lines.push_back("intervals: 95%, exact for the SPRT's stopping rule (--until decided ends a cell when the SPRT "
                    "decides, so n is not fixed and k/n is biased; the interval is not)");
  }
  lines.push_back("*: the SPRT stopped the cell at this n; \"CRASHES at 2/12; now 2/30\": its verdict where it "
                  "stopped, and the counts since");
  return lines;
}

bool ResolveSignature(const std::string& wanted, const std::vector<TrialGroup>& groups, std::string* full,
                      std::string* err) {
  std::vector<std::string> known;
  for (const auto& g : groups) {
    if (OutcomeEvidence(g.outcome) != Evidence::kCrash || g.signature.empty()) continue;
    if (std::find(known.begin(), known.end(), g.signature) == known.end()) known.push_back(g.signature);
  }
  std::sort(known.begin(), known.end());
  if (std::find(known.begin(), known.end(), wanted) != known.end()) {
    *full = wanted;
    return true;
  }
  std::vector<std::string> matches;
  for (const auto& s : known)
    if (StartsWith(s, wanted)) matches.push_back(s);
  if (matches.size() == 1) {
    *full = matches[0];
    return true;
  }
  if (known.empty()) {
    *err = fmt::format("--signature '{}': this run has no crash with a signature (drop --signature)", wanted);
  } else if (matches.empty()) {
    *err = fmt::format("--signature '{}' matches no crash of this run{} (signatures: '{}')", wanted,
                       DidYouMean(wanted, known), Join(known, "', '"));
  } else {
    *err = fmt::format("--signature '{}' is ambiguous: it starts {} signatures ('{}'); give more of it", wanted,
                       matches.size(), Join(matches, "', '"));
  }
  return false;
}

}  // namespace cg

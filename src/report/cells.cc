#include "report/cells.h"

#include <algorithm>
#include <unordered_map>

#include <fmt/format.h>

#include "util/strings.h"

namespace cg {

std::vector<GridAxis> TrialAxes(const RunRecord& run, const std::vector<StoredTrial>& trials) {
  std::vector<GridAxis> axes = run.grid;
  for (const auto& t : trials) {
    for (const auto& [name, value] : t.cell) {
      auto axis = std::find_if(axes.begin(), axes.end(), [&](const GridAxis& a) { return a.name == name; });
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

std::vector<CellCounts> AggregateCells(const RunRecord& run, const std::vector<StoredTrial>& trials,
                                       const std::string& signature) {
  std::vector<GridAxis> axes = TrialAxes(run, trials);
  std::vector<CellCounts> out;
  std::unordered_map<std::string, size_t> index;
  for (auto& cell : ExpandGrid(axes)) {
    CellCounts c;
    c.key = CellKey(cell);
    c.cell = std::move(cell);
    index.emplace(c.key, out.size());
    out.push_back(std::move(c));
  }
  for (const auto& t : trials) {
    auto it = index.find(KeyInAxisOrder(t.cell, axes));
    if (it == index.end()) continue;  // only a trial lacking one of the axes; nothing to lay it out on
    CellCounts& c = out[it->second];
    const TrialResult& r = t.result;
    ++c.trials;
    if (r.outcome == Outcome::kCouldNotStart) {
      ++c.could_not_start;
      ++c.exit_codes[SeedExitCode(r)];
      continue;
    }
    ++c.ran;
    c.iterations += r.iterations;
    switch (r.outcome) {
      case Outcome::kClean: ++c.clean; break;
      case Outcome::kCrashed: ++c.crashed; break;
      case Outcome::kHung: ++c.hung; break;
      case Outcome::kFailed: ++c.failed; break;
      case Outcome::kOverran: ++c.overran; break;
      case Outcome::kCouldNotStart: break;
    }
    int code = SeedExitCode(r);
    const Evidence evidence = OutcomeEvidence(r.outcome);
    if (evidence == Evidence::kNeither) {
      ++c.exit_codes[code];
      continue;
    }
    ++c.n;
    if (evidence == Evidence::kCrash) {
      ++c.signatures[r.signature];
      if (signature.empty() || r.signature == signature) {
        ++c.crashes;
      } else {
        ++c.other_crashes;
        code = 0;
      }
    }
    ++c.exit_codes[code];
    double t_s = r.time_to_outcome_s;
    if (run.duration_s > 0) t_s = std::min(t_s, run.duration_s);
    c.exposure_s += std::max(0.0, t_s);
  }
  return out;
}

bool ResolveSignature(const std::string& wanted, const std::vector<StoredTrial>& trials, std::string* full,
                      std::string* err) {
  std::vector<std::string> known;
  for (const auto& t : trials) {
    if (OutcomeEvidence(t.result.outcome) != Evidence::kCrash || t.result.signature.empty()) continue;
    if (std::find(known.begin(), known.end(), t.result.signature) == known.end())
      known.push_back(t.result.signature);
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

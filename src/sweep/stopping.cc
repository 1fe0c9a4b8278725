#include "sweep/stopping.h"

#include <fmt/format.h>

namespace cg {

void CountTrial(const TrialResult& r, double exposure_s, CellProgress* c) {
  switch (OutcomeEvidence(r.outcome)) {
    case Evidence::kCrash:
      ++c->crashes;
      [[fallthrough]];
    case Evidence::kSafe:
      ++c->n;
      c->exposure_s += exposure_s;
      break;
    case Evidence::kNeither:
      if (r.outcome == Outcome::kFailed) ++c->failed;
      if (r.outcome == Outcome::kOverran) ++c->overran;
      break;  // could-not-start: it never ran
  }
}

std::string RunsCapWarning(const StoppingSettings& s, int64_t runs) {
  if (!s.decides()) return "";
  int64_t needed = SprtCleanRunsToSafe(0, 0, s.sprt);  // the fewest runs after which SAFE can be reached
  if (runs >= needed) return "";
  return fmt::format("--until decided with --runs {} can never call a cell SAFE: the SPRT (p0={:g} p1={:g} "
                     "alpha={:g} beta={:g}) needs at least {} clean runs for SAFE{} (use --runs {} or more)",
                     runs, s.sprt.p0, s.sprt.p1, s.sprt.alpha, s.sprt.beta, needed,
                     s.refine ? "; only --refine's extra trials could reach it" : "", needed);
}

namespace {

class FlatRule : public StoppingRule {
 public:
  explicit FlatRule(int64_t runs) : runs_(runs) {}
  std::vector<size_t> NextRound(const std::vector<CellProgress>& cells) override {
    std::vector<size_t> out;
    for (size_t i = 0; i < cells.size(); ++i)
      if (cells[i].ran() < runs_) out.push_back(i);
    return out;
  }
  std::string name() const override { return "flat"; }
  int64_t RemainingEstimate(const std::vector<CellProgress>& cells) const override {
    int64_t left = 0;
    for (const auto& c : cells) left += std::max<int64_t>(0, runs_ - c.ran());
    return left;
  }

 private:
  int64_t runs_;
};

}  // namespace

std::unique_ptr<StoppingRule> NewFlatRule(int64_t runs) { return std::make_unique<FlatRule>(runs); }

}  // namespace cg

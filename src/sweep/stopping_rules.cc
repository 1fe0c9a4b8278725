#include <algorithm>

#include <fmt/format.h>

#include "stats/apt.h"
#include "stats/stats.h"
#include "sweep/stopping.h"

namespace cg {
namespace {

// The verdict counts the evidence trials only; the cap counts every trial that ran.
bool Open(const CellProgress& c, int64_t cap, const SprtParams& sprt) {
  return c.ran() < cap && SprtDecide(c.crashes, c.n, sprt) == Verdict::kUndecided;
}

// Trials a still-open cell may take: the clean runs that would reach SAFE from here (the common ending),
// never more than the cap allows. Cells heading for CRASHES end sooner, so this rarely under-estimates.
int64_t DecidedRemaining(const std::vector<CellProgress>& cells, int64_t cap, const SprtParams& sprt) {
  int64_t left = 0;
  for (const auto& c : cells) {
    if (!Open(c, cap, sprt)) continue;
    left += std::min(cap - c.ran(), SprtCleanRunsToSafe(c.crashes, c.n, sprt));
  }
  return left;
}

class DecidedRule : public StoppingRule {
 public:
  DecidedRule(int64_t cap, const SprtParams& sprt) : cap_(cap), sprt_(sprt) {}
  std::vector<size_t> NextRound(const std::vector<CellProgress>& cells) override {
    std::vector<size_t> out;
    for (size_t i = 0; i < cells.size(); ++i)
      if (Open(cells[i], cap_, sprt_)) out.push_back(i);
    return out;
  }
  std::string name() const override { return "decided"; }
  int64_t RemainingEstimate(const std::vector<CellProgress>& cells) const override {
    return DecidedRemaining(cells, cap_, sprt_);
  }

 private:
  int64_t cap_;
  SprtParams sprt_;
};

class RefineRule : public StoppingRule {
 public:
  RefineRule(int64_t cap, const SprtParams& sprt, const RefineParams& refine)
      : decided_(cap, sprt), cap_(cap), sprt_(sprt), refine_(refine) {
    refine_.batch = std::max<size_t>(1, refine_.batch);
  }

  std::vector<size_t> NextRound(const std::vector<CellProgress>& cells) override {
    if (!refining_) {
      std::vector<size_t> out = decided_.NextRound(cells);
      if (!out.empty()) return out;
      refining_ = true;
      start_total_ = Total(cells);
    }
    int64_t spent = Total(cells) - start_total_;
    int64_t left = Budget(cells) - spent;
    if (left <= 0) return {};
    // A cell whose trials all failed or overran has no estimate to refine, and more of the same would not
    // give it one.
    std::vector<size_t> eligible;
    std::vector<AptArm> arms;
    for (size_t i = 0; i < cells.size(); ++i) {
      if (cells[i].n == 0 && cells[i].ran() > 0) continue;
      eligible.push_back(i);
      arms.push_back({cells[i].crashes, cells[i].n});
    }
    std::vector<size_t> out;
    for (size_t a : AptSelect(arms, refine_.apt, std::min<size_t>(refine_.batch, static_cast<size_t>(left))))
      out.push_back(eligible[a]);
    return out;
  }

  std::string name() const override { return refining_ ? "refine" : "decided"; }

  int64_t RemainingEstimate(const std::vector<CellProgress>& cells) const override {
    int64_t budget_left = Budget(cells) - (refining_ ? Total(cells) - start_total_ : 0);
    return DecidedRemaining(cells, cap_, sprt_) + std::max<int64_t>(0, budget_left);
  }

 private:
  static int64_t Total(const std::vector<CellProgress>& cells) {
    int64_t t = 0;
    for (const auto& c : cells) t += c.ran();  // the budget is spent by every trial that ran
    return t;
  }
  int64_t Budget(const std::vector<CellProgress>& cells) const {
    if (refine_.budget > 0) return refine_.budget;
    return kDefaultRefineBudgetPerCell * static_cast<int64_t>(cells.size());
  }
  DecidedRule decided_;
  int64_t cap_;
  SprtParams sprt_;
  RefineParams refine_;
  bool refining_ = false;
  int64_t start_total_ = 0;
};

}  // namespace

std::unique_ptr<StoppingRule> NewDecidedRule(int64_t cap, const SprtParams& sprt) {
  return std::make_unique<DecidedRule>(cap, sprt);
}

std::unique_ptr<StoppingRule> NewRefineRule(int64_t cap, const SprtParams& sprt, const RefineParams& refine) {
  return std::make_unique<RefineRule>(cap, sprt, refine);
}

std::unique_ptr<StoppingRule> NewStoppingRule(const StoppingSettings& s, int64_t runs, int jobs) {
  if (!s.decides()) return NewFlatRule(runs);
  if (!s.refine) return NewDecidedRule(runs, s.sprt);
  RefineParams rp;
  rp.apt = s.apt;
  rp.budget = s.refine_budget;
  rp.batch = static_cast<size_t>(std::max(1, jobs));
  return NewRefineRule(runs, s.sprt, rp);
}

bool StoppingRuleFromSettings(const nlohmann::json& settings, int64_t runs, int jobs,
                              std::unique_ptr<StoppingRule>* rule, std::string* err) {
  StoppingSettings s;
  if (!ParseStoppingSettings(settings, &s, err)) return false;
  *rule = NewStoppingRule(s, runs, jobs);
  return true;
}

}  // namespace cg

#include "sweep/stopping.h"

namespace cg {
namespace {

class FlatRule : public StoppingRule {
 public:
  explicit FlatRule(int64_t runs) : runs_(runs) {}
  std::vector<size_t> NextRound(const std::vector<CellProgress>& cells) override {
    std::vector<size_t> out;
    for (size_t i = 0; i < cells.size(); ++i)
      if (cells[i].n < runs_) out.push_back(i);
    return out;
  }
  std::string name() const override { return "flat"; }
  int64_t RemainingEstimate(const std::vector<CellProgress>& cells) const override {
    int64_t left = 0;
    for (const auto& c : cells) left += std::max<int64_t>(0, runs_ - c.n);
    return left;
  }

 private:
  int64_t runs_;
};

}  // namespace

std::unique_ptr<StoppingRule> NewFlatRule(int64_t runs) { return std::make_unique<FlatRule>(runs); }

}  // namespace cg

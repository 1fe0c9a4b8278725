#include "trial/run.h"

namespace cg {

std::vector<Cell> ExpandGrid(const std::vector<GridAxis>& axes) {
  std::vector<Cell> cells(1);
  for (const auto& axis : axes) {
    std::vector<Cell> next;
    next.reserve(cells.size() * axis.values.size());
    for (const auto& c : cells) {
      for (const auto& v : axis.values) {
        Cell grown = c;
        grown.emplace_back(axis.name, v);
        next.push_back(std::move(grown));
      }
    }
    cells = std::move(next);
  }
  return cells;
}

}  // namespace cg

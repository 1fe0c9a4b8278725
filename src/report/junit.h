// JUnit XML for CI systems (`crashgrid sweep --junit FILE`): one test case per grid cell; a cell whose
// trials crashed or hung is a failure of type "crash" whose message is the commonest crash signature; a cell
// without crashes whose trials overran (killed past their bound while still making progress) is a failure of
// type "overran".
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "store/store.h"
#include "trial/run.h"

namespace cg {

// The whole XML document. Cells with only could-not-start trials (or none) are <skipped>; cells where a
// program exited non-zero without crashing or overrunning get an <error> of type "exit".
std::string RenderJunit(const RunRecord& run, const std::vector<StoredTrial>& trials);

// RenderJunit one trial at a time (Store::ForEachTrial): memory grows with the cells, not the trials.
class JunitBuilder {
 public:
  void Add(const StoredTrial& trial);
  std::string Render(const RunRecord& run) const;

 private:
  static constexpr size_t kShownExitCodes = 10;  // a failing cell's <error> lists its first exit codes
  struct CellAgg {
    int64_t ran = 0, n = 0, crashes = 0, failed = 0, overran = 0, not_started = 0;  // n: crashed, hung, clean
    double seconds = 0;
    std::map<std::string, int64_t> sigs;
    std::string not_started_detail;
    std::vector<int> exit_codes;  // of the first kShownExitCodes failed trials
  };
  std::map<std::string, CellAgg> agg_;
  std::vector<std::string> order_;  // cell keys in the order their first trial came
};

}  // namespace cg

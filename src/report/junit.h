// JUnit XML for CI systems (`crashgrid sweep --junit FILE`): one test case per grid cell; a cell whose
// trials crashed or hung is a failure of type "crash" whose message is the commonest crash signature; a cell
// without crashes whose trials overran (killed past their bound while still making progress) is a failure of
// type "overran".
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "store/store.h"
#include "trial/run.h"

namespace cg {

// The whole XML document. Cells with only could-not-start trials (or none) are <skipped>; cells where a
// program exited non-zero without crashing or overrunning get an <error> of type "exit".
std::string RenderJunit(const RunRecord& run, const std::vector<StoredTrial>& trials);

// Loads the run's trials from `store` and writes RenderJunit to `path`. On failure *err names the file or
// the database problem.
bool WriteJunitFile(Store& store, int64_t run_id, const std::string& path, std::string* err);

}  // namespace cg

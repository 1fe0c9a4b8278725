// `crashgrid merge OUT.db IN.db...`: shards and files from several machines into one file. The store owns the
// SQL; what makes two runs "the same sweep" is the caller's (sweep/options.h BaseSweepKey and the run identity
// without the machine), given as a MergePolicy.
//
// What a merge keeps and what it recognises:
//   - Runs are renumbered in OUT; every run keeps its sweep key, identity, labels, environment, shard, origin and
//     cell verdicts. Trials keep their uid (trials.uid), outcome, stacks and GPU.
//   - A run is recognised by its origin (runs.origin, kept by every merge), so merging an input again adds only
//     what it has gained since (a resumed sweep's new trials), and otherwise nothing.
//   - Shards of one sweep (`--shard K/N`, same base key, N and identity apart from host and GPUs) become one run
//     holding every shard's trials, with the shards it came from in run_sources. A second shard K of the same
//     sweep (the array run again) starts another merged run, so no cell is counted twice in one run.
//   - Anything else stays its own run: other sweeps, other machines' whole sweeps, --new-run runs.
//   - Each input is read through a read-only connection (never modified) and merged in one transaction of OUT:
//     a failed or killed merge leaves OUT as it was before that input.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "store/store.h"

namespace cg {

struct MergePolicy {
  // The key of the whole sweep a run belongs to: shards of one sweep share it.
  std::function<std::string(const RunRecord&)> base_key;
  // What must agree for shards of one sweep to become one run (a fleet's shards run on different hosts/GPUs).
  std::function<std::string(const RunRecord&)> fleet_identity;
};

struct MergeStats {
  int64_t runs_created = 0;    // runs OUT did not have before
  int64_t runs_extended = 0;   // runs OUT had that gained trials (or a shard) from the input
  int64_t trials_added = 0;
  int64_t trials_present = 0;  // already in OUT (same uid): not added again
  int64_t verdicts_added = 0;
};

// Adds `in`'s runs, trials and verdicts to `out` (see above). `out` must be writable (at the current schema);
// `in` may be of any schema version this build reads.
[[nodiscard]] bool MergeStore(Store* out, Store* in, const MergePolicy& policy, MergeStats* stats, std::string* err);

}  // namespace cg

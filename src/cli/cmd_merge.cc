// crashgrid merge: shards and databases from several machines into one file (store/merge.h says what is kept).
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "store/merge.h"
#include "store/store.h"
#include "sweep/fingerprint.h"
#include "sweep/options.h"
#include "util/error.h"

namespace cg {
namespace {

const char kMergeUsage[] = R"(Combines databases into OUT (created if missing): shards of one sweep (--shard K/N, e.g. the
tasks of a Slurm job array) and files from several machines.

  crashgrid merge all.db shard-0.db shard-1.db shard-2.db shard-3.db
  crashgrid merge fleet.db gpu-node-*.db

Runs are renumbered in OUT and keep their sweep key, identity, labels, environment and cell verdicts. Shards of
one sweep (same sweep, shard count and identity apart from host and GPUs) become one run; other sweeps, other
machines' whole sweeps and --new-run runs stay runs of their own. Merging an input again adds only trials it
has gained since (each trial has a stable id). Inputs are opened read-only and never modified; each input is
added in one transaction, so a failure leaves OUT as it was before that input.)";

// The run identity without the machine: shards of one sweep run on a fleet of hosts and GPUs, and must agree on
// everything else (driver, crashgrid version, the program's build, cwd, labels, --env).
std::string FleetIdentity(const RunRecord& run) {
  std::string joined;
  for (const auto& [part, value] : RunIdentityParts(run)) {
    if (part == "host" || part == "GPUs") continue;
    joined += part + "=" + value + "\n";
  }
  return fmt::format("{:016x}", Fnv1a64(joined));
}

bool SameFile(const std::string& a, const std::string& b) {
  struct stat sa, sb;
  return stat(a.c_str(), &sa) == 0 && stat(b.c_str(), &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

}  // namespace

int CmdMerge(const Args& args) {
  CLI::App app{kMergeUsage, "crashgrid merge"};
  std::string out_path;
  std::vector<std::string> inputs;
  bool quiet = false;
  app.add_option("out", out_path, "the database to merge into (created if missing)")->required();
  app.add_option("inputs", inputs, "databases to merge (read-only)")->required();
  app.add_flag("-q,--quiet", quiet, "no summary line");
  if (int rc = ParseCli(app, args); rc >= 0) return rc;
  for (const std::string& in : inputs) {
    if (SameFile(in, out_path)) {
      PrintError(fmt::format("'{}' is both OUT and an input (merge into a new file)", in));
      return kExitUsage;
    }
  }
  // Every input is checked before OUT is created or touched.
  std::vector<std::unique_ptr<Store>> stores;
  std::string err;
  int code = 0;
  for (const std::string& in : inputs) {
    auto s = Store::Open(in, Store::Mode::kReadOnly, &err, &code);
    if (!s) {
      PrintError(err);
      return code;
    }
    stores.push_back(std::move(s));
  }
  auto out = Store::Open(out_path, Store::Mode::kCreate, &err, &code);
  if (!out) {
    PrintError(err);
    return code;
  }
  MergePolicy policy;
  policy.base_key = [](const RunRecord& r) { return BaseSweepKey(r.sweep_key); };
  policy.fleet_identity = FleetIdentity;
  MergeStats total;
  for (auto& in : stores) {
    if (!MergeStore(out.get(), in.get(), policy, &total, &err)) {
      PrintError(err);
      return kExitDatabase;
    }
  }
  if (!out->SyncNow(&err)) {
    PrintError(err);
    return kExitFailure;
  }
  if (!quiet) {
    std::fprintf(stderr,
                 "crashgrid: merged %zu file(s) into '%s': %lld trial(s) added, %lld already there; %lld run(s) "
                 "created, %lld extended\n",
                 inputs.size(), out_path.c_str(), static_cast<long long>(total.trials_added),
                 static_cast<long long>(total.trials_present), static_cast<long long>(total.runs_created),
                 static_cast<long long>(total.runs_extended));
  }
  return kExitOk;
}

}  // namespace cg

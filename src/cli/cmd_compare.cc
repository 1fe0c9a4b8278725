// crashgrid compare: two runs (or one run split by a parameter) cell by cell, with an exact test per cell and
// Holm's correction over the cells.
#include <algorithm>
#include <cstdio>
#include <map>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cli/common.h"
#include "report/cells.h"
#include "report/compare.h"
#include "report/reproduce.h"
#include "util/error.h"
#include "util/strings.h"

namespace cg {
namespace {

const char kCompareUsage[] =
    "Compare crash probabilities cell by cell: two databases (their latest runs, or --run twice), two runs\n"
    "of one database (--run ID --run ID), or one run split by a grid axis (--by AXIS). Per cell: both k/n,\n"
    "the difference, Boschloo's exact test (Fisher's past 40000 tables), Holm-adjusted over every cell of\n"
    "every comparison printed (with --by: all values against the baseline); then the crash rates per minute\n"
    "of workload and the signatures seen on one side only. When the two sides' trials ran for different\n"
    "lengths (--duration, or clean trials' workload time differing by more than 20%), cells are compared by\n"
    "crashes per minute of workload instead, with the exact conditional test for two Poisson rates.\n\n"
    "  crashgrid compare A.db B.db\n"
    "  crashgrid compare DB --run 3 --run 5\n"
    "  crashgrid compare DB --by serialize [--run ID] [--baseline none]\n"
    "  crashgrid compare DB --by label:driver [--baseline 550]   (runs swept with --label driver=...)\n"
    "  crashgrid compare DB --by gpu [--baseline 0]   (sweep --gpus: each GPU against the baseline GPU)\n"
    "  crashgrid compare A.db B.db --by gpu           (cells matched per grid cell and GPU)\n";

std::string Describe(const RunRecord& run, const std::string& db) {
  std::string axes;
  for (const auto& a : run.grid) axes += (axes.empty() ? "" : ",") + a.name;
  return fmt::format("run {} of {} ({}{}{}{})", run.id, db, run.workload, run.reference_target ? ", reference target" : "",
                     axes.empty() ? "" : ", grid " + axes,
                     run.labels.empty() ? "" : ", labels " + LabelsText(run.labels));
}

// `--by gpu`: the GPU each trial ran on as one more axis of rr's grid (rr's groups were loaded per cell and GPU).
bool AddGpu(ReportRun* rr, int* exit_code) {
  std::string err;
  if (AddGpuAxis(&rr->run, &rr->groups, &err)) return true;
  PrintError(err);
  *exit_code = kExitUsage;
  return false;
}

CompareArm ArmOf(const std::string& label, const std::string& db, ReportRun rr) {
  CompareArm arm;
  arm.label = label;
  arm.description = Describe(rr.run, db);
  arm.run = std::move(rr.run);
  arm.groups = std::move(rr.groups);
  return arm;
}

// `--by label:KEY`: the runs of one database (or those --run names) that carry label KEY, one arm per value
// (labelled KEY=VALUE, oldest run first); each is compared with the baseline (--baseline VALUE, else the
// oldest). Runs without the label are left out; two runs with the same value are refused (name one).
bool LabelArms(const std::vector<std::string>& dbs, const std::vector<int64_t>& ids, const std::string& key,
               const std::string& baseline, std::vector<std::pair<CompareArm, CompareArm>>* pairs, int* exit_code) {
  *exit_code = kExitUsage;
  if (key.empty() || dbs.size() != 1) {
    PrintError("--by label:KEY compares the runs of one database by their --label KEY=VALUE (e.g. crashgrid compare "
               "DB --by label:driver)");
    return false;
  }
  std::vector<ReportRun> loaded;
  if (!OpenRuns(dbs[0], ids, RunPick::kAll, &loaded, exit_code)) return false;
  std::vector<CompareArm> arms;
  std::vector<std::string> values;
  std::map<std::string, int64_t> run_of;
  for (ReportRun& rr : loaded) {
    auto it = rr.run.labels.find(key);
    if (it == rr.run.labels.end()) continue;
    std::string value = it->second;
    if (auto [seen, fresh] = run_of.emplace(value, rr.run.id); !fresh) {
      PrintError(fmt::format("runs {} and {} of '{}' both have label {}={} (name the runs to compare with --run)",
                             seen->second, rr.run.id, dbs[0], key, value));
      *exit_code = kExitUsage;
      return false;
    }
    values.push_back(value);
    arms.push_back(ArmOf(key + "=" + value, dbs[0], std::move(rr)));
  }
  if (arms.size() < 2) {
    PrintError(fmt::format("{} run(s) of '{}' have label '{}'{}; --by label:{} needs two values (sweep with --label "
                           "{}=VALUE)",
                           arms.size(), dbs[0], key, values.empty() ? "" : " (" + Join(values, ", ") + ")", key, key));
    *exit_code = kExitUsage;
    return false;
  }
  size_t base = 0;
  if (!baseline.empty()) {
    base = std::find(values.begin(), values.end(), baseline) - values.begin();
    if (base == values.size()) {
      PrintError(fmt::format("--baseline '{}' is not a value of label '{}'{} (values: {})", baseline, key,
                             DidYouMean(baseline, values), Join(values, ", ")));
      *exit_code = kExitUsage;
      return false;
    }
  }
  for (size_t i = 0; i < arms.size(); ++i)
    if (i != base) pairs->emplace_back(arms[base], arms[i]);
  return true;
}

}  // namespace

int CmdCompare(const Args& args) {
  CLI::App app{kCompareUsage, "crashgrid compare"};
  std::vector<std::string> dbs;
  std::vector<int64_t> runs;
  std::string by, baseline;
  double alpha = 0.05;
  bool json = false;
  app.add_option("db", dbs, "one database, or two to compare their runs")->required()->expected(1, 2);
  app.add_option("--run", runs, "run id; twice with one database (A then B), or once per database")
      ->check(CLI::PositiveNumber);
  app.add_option("--by", by, "split one run by this grid axis: each value becomes an arm (e.g. serialize); "
                             "label:KEY: compare the runs of one database by their --label KEY=VALUE; or gpu: the "
                             "GPU each trial ran on (sweep --gpus), one arm per GPU of one run, or with two runs "
                             "cells matched per grid cell and GPU");
  app.add_option("--baseline", baseline,
                 "with --by: the value the others are compared against (default: none if present, else the "
                 "first value)");
  app.add_option("--alpha", alpha, "family-wise significance level after Holm's correction over every cell compared (default 0.05)")
      ->check(CLI::Range(1e-9, 0.5));
  app.add_flag("--json", json, "print JSON (schema_version 3) instead of text");
  if (int rc = ParseCli(app, args); rc >= 0) return rc;

  std::string err;
  int exit_code = kExitUsage;
  std::vector<std::pair<CompareArm, CompareArm>> pairs;
  // --by gpu: the store groups trials per cell and GPU. One run is split into one arm per GPU, as by a grid axis;
  // two runs are compared with the GPU as one more axis of each, so cells match per grid cell and GPU.
  const bool by_gpu = by == "gpu";
  const bool two_runs = dbs.size() == 2 || runs.size() == 2;
  const GroupBy group_by = by_gpu ? GroupBy::kCellAndGpu : GroupBy::kCell;
  if (by_gpu && two_runs && !baseline.empty()) {
    PrintError("--baseline picks the GPU the others are compared against within one run; with two runs --by gpu "
               "compares each GPU's cells of A with the same GPU's of B (drop --baseline)");
    return kExitUsage;
  }
  if (StartsWith(by, "label:")) {
    if (!LabelArms(dbs, runs, by.substr(6), baseline, &pairs, &exit_code)) return exit_code;
  } else if (!by.empty() && !(by_gpu && two_runs)) {
    if (dbs.size() != 1 || runs.size() > 1) {
      PrintError("--by splits one run: give one database and at most one --run (e.g. crashgrid compare DB --by "
                 "serialize --run 3)");
      return kExitUsage;
    }
    std::vector<ReportRun> loaded;
    if (!OpenRuns(dbs[0], runs, RunPick::kLatest, &loaded, &exit_code, group_by)) return exit_code;
    if (by_gpu && !AddGpu(&loaded[0], &exit_code)) return exit_code;
    std::vector<CompareArm> arms;
    if (!SplitRunByAxis(loaded[0].run, loaded[0].groups, by, &arms, &err)) {
      // The gpu axis is always there: what is missing is a second GPU.
      if (by_gpu)
        err = fmt::format("run {} of '{}' has trials on {} GPU(s); --by gpu needs two (sweep with --gpus all or "
                          "--gpus 0,1)",
                          loaded[0].run.id, dbs[0], arms.size());
      PrintError(err);
      return kExitUsage;
    }
    size_t base = BaselineArm(arms, by);
    if (!baseline.empty()) {
      std::vector<std::string> values;
      base = arms.size();
      for (size_t i = 0; i < arms.size(); ++i) {
        values.push_back(arms[i].label.substr(by.size() + 1));
        if (values.back() == baseline) base = i;
      }
      if (base == arms.size()) {
        PrintError(fmt::format("--baseline '{}' is not a value of '{}' with trials{} (values: {})", baseline, by,
                               DidYouMean(baseline, values), fmt::join(values, ", ")));
        return kExitUsage;
      }
    }
    for (size_t i = 0; i < arms.size(); ++i)
      if (i != base) pairs.emplace_back(arms[base], arms[i]);
  } else if (dbs.size() == 2) {
    if (runs.size() != 0 && runs.size() != 2) {
      PrintError("with two databases give --run twice (A's run, then B's) or not at all (the latest of each)");
      return kExitUsage;
    }
    std::vector<CompareArm> arms;
    for (size_t i = 0; i < 2; ++i) {
      std::vector<int64_t> ids;
      if (!runs.empty()) ids.push_back(runs[i]);
      std::vector<ReportRun> loaded;
      if (!OpenRuns(dbs[i], ids, RunPick::kLatest, &loaded, &exit_code, group_by)) return exit_code;
      if (by_gpu && !AddGpu(&loaded[0], &exit_code)) return exit_code;
      arms.push_back(ArmOf(i == 0 ? "A" : "B", dbs[i], std::move(loaded[0])));
    }
    pairs.emplace_back(arms[0], arms[1]);
  } else {
    if (runs.size() != 2) {
      PrintError("with one database give two runs (--run A --run B) or split one run with --by AXIS");
      return kExitUsage;
    }
    std::vector<ReportRun> loaded;
    if (!OpenRuns(dbs[0], runs, RunPick::kAll, &loaded, &exit_code, group_by)) return exit_code;
    for (ReportRun& rr : loaded)
      if (by_gpu && !AddGpu(&rr, &exit_code)) return exit_code;
    pairs.emplace_back(ArmOf("A", dbs[0], std::move(loaded[0])), ArmOf("B", dbs[0], std::move(loaded[1])));
  }

  CompareOptions options;
  options.alpha = alpha;
  std::string out;
  nlohmann::json comparisons = nlohmann::json::array();
  // One family: with --by, every value against the baseline, Holm-corrected over all of their cells.
  for (const CompareResult& r : CompareFamily(pairs, options)) {
    if (json) {
      comparisons.push_back(CompareToJson(r));
    } else {
      if (!out.empty()) out += "\n";
      out += RenderCompareText(r);
    }
  }
  if (json)
    out = nlohmann::json{{"schema_version", kCompareJsonSchemaVersion}, {"comparisons", comparisons}}.dump(2) + "\n";
  std::fputs(out.c_str(), stdout);
  return kExitOk;
}

}  // namespace cg

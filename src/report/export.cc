#include "report/export.h"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "report/escape.h"
#include "trial/trial_json.h"

namespace cg {
namespace {

std::string Dump(const nlohmann::json& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

nlohmann::json CellObject(const Cell& cell) {
  nlohmann::json o = nlohmann::json::object();
  for (const auto& [k, v] : cell) o[k] = v;
  return o;
}

std::string Num(double v) { return fmt::format("{}", v); }

// What the trial counts as in every table and statistic: "crash" (crashed, hung), "safe" (clean) or
// "neither" (failed, overran, could not start).
const char* EvidenceName(Evidence e) {
  switch (e) {
    case Evidence::kCrash: return "crash";
    case Evidence::kSafe: return "safe";
    case Evidence::kNeither: break;
  }
  return "neither";
}

}  // namespace

std::string JsonlLine(const StoredTrial& t) {
  nlohmann::json j;
  j["trial_id"] = t.id;
  j["run_id"] = t.run_id;
  j["trial_uid"] = t.uid;
  j["cell_key"] = CellKey(t.cell);
  j["cell"] = CellObject(t.cell);
  j["repetition"] = t.repetition;
  j["seed_exit_code"] = SeedExitCode(t.result);
  j["evidence"] = EvidenceName(OutcomeEvidence(t.result.outcome));
  nlohmann::json r = t.result;
  for (auto it = r.begin(); it != r.end(); ++it) j[it.key()] = it.value();
  j["gpu_index"] = t.result.gpu_index;
  j["gpu_uuid"] = t.result.gpu_uuid;
  return Dump(j) + "\n";
}

std::string RenderJsonl(const std::vector<StoredTrial>& trials) {
  std::string out;
  for (const auto& t : trials) out += JsonlLine(t);
  return out;
}

std::vector<std::string> CsvAxes(const std::vector<RunRecord>& runs, const std::vector<std::vector<TrialGroup>>& groups) {
  std::vector<std::string> axes;
  for (const auto& run : runs) {
    for (const auto& a : run.grid)
      if (std::find(axes.begin(), axes.end(), a.name) == axes.end()) axes.push_back(a.name);
  }
  // Axes no grid names, ordered by the first trial that has them (what a pass over the trials would find).
  std::map<std::string, int64_t> extra;
  for (const auto& run_groups : groups) {
    for (const auto& g : run_groups) {
      for (const auto& [k, v] : g.cell) {
        if (std::find(axes.begin(), axes.end(), k) != axes.end()) continue;
        auto [it, inserted] = extra.emplace(k, g.first_trial_id);
        if (!inserted) it->second = std::min(it->second, g.first_trial_id);
      }
    }
  }
  std::vector<std::pair<int64_t, std::string>> order;
  for (const auto& [k, id] : extra) order.emplace_back(id, k);
  std::sort(order.begin(), order.end());
  for (const auto& [id, k] : order) axes.push_back(k);
  return axes;
}

namespace {

std::string CsvLine(const std::vector<std::string>& fields) {
  std::string out;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i) out += ',';
    out += CsvField(fields[i]);
  }
  return out + "\r\n";  // RFC 4180 line break
}

}  // namespace

std::string CsvHeader(const std::vector<std::string>& axes) {
  std::vector<std::string> header = {"trial_id", "run_id", "cell_key"};
  for (const auto& a : axes) header.push_back(TerminalText(a));
  for (const char* c : {"repetition", "outcome", "evidence", "seed_exit_code", "exit_code", "signal", "via_shell",
                        "detail", "started_at", "duration_s", "time_to_outcome_s", "setup_s", "teardown_s",
                        "iterations", "successes", "errors", "units", "units_name", "workload_seconds",
                        "capture_method", "signature", "stdout_tail", "stderr_tail", "error_buckets", "phases",
                        "threads", "report", "trial_uid", "gpu_index", "gpu_uuid"}) {
    header.push_back(c);
  }
  return CsvLine(header);
}

std::string CsvRow(const std::vector<std::string>& axes, const StoredTrial& t) {
  const TrialResult& r = t.result;
  std::vector<std::string> f = {std::to_string(t.id), std::to_string(t.run_id), TerminalText(CellKey(t.cell))};
  for (const auto& a : axes) {
    std::string v;
    for (const auto& [k, val] : t.cell) {
      if (k == a) v = val;
    }
    f.push_back(TerminalText(v));
  }
  nlohmann::json buckets = r.error_buckets, phases = r.phases, threads = r.threads;
  f.insert(f.end(), {std::to_string(t.repetition), OutcomeName(r.outcome), EvidenceName(OutcomeEvidence(r.outcome)),
                     std::to_string(SeedExitCode(r)), std::to_string(r.exit_code), std::to_string(r.signal),
                     r.via_shell ? "true" : "false", SanitizeText(r.detail), Num(r.started_at), Num(r.duration_s),
                     Num(r.time_to_outcome_s), Num(r.setup_s), Num(r.teardown_s), std::to_string(r.iterations),
                     std::to_string(r.successes), std::to_string(r.errors), std::to_string(r.units),
                     TerminalText(r.units_name),
                     Num(r.workload_seconds), r.capture_method, SanitizeText(r.signature),
                     SanitizeText(r.stdout_tail), SanitizeText(r.stderr_tail), Dump(buckets), Dump(phases),
                     Dump(threads), r.report ? Dump(nlohmann::json(*r.report)) : std::string(),
                     TerminalText(t.uid), std::to_string(r.gpu_index), TerminalText(r.gpu_uuid)});
  return CsvLine(f);
}

std::string RenderCsv(const std::vector<RunRecord>& runs, const std::vector<StoredTrial>& trials) {
  std::vector<std::vector<TrialGroup>> groups;
  for (const auto& run : runs) {
    std::vector<StoredTrial> mine;
    for (const auto& t : trials)
      if (t.run_id == run.id) mine.push_back(t);
    groups.push_back(GroupTrials(mine, run.duration_s));
  }
  // Trials of no listed run still name their axes.
  std::vector<StoredTrial> orphans;
  for (const auto& t : trials)
    if (std::none_of(runs.begin(), runs.end(), [&](const RunRecord& r) { return r.id == t.run_id; }))
      orphans.push_back(t);
  groups.push_back(GroupTrials(orphans, 0));
  std::vector<std::string> axes = CsvAxes(runs, groups);
  std::string out = CsvHeader(axes);
  for (const auto& t : trials) out += CsvRow(axes, t);
  return out;
}

}  // namespace cg

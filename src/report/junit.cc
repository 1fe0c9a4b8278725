#include "report/junit.h"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "report/escape.h"
#include "report/heatmap.h"
#include "report/output.h"
#include "report/reproduce.h"
#include "stats/stats.h"

namespace cg {
namespace {

// Grid cells in grid order (first axis slowest), then any recorded cell the grid does not list.
std::vector<std::string> CellKeysInOrder(const RunRecord& run, const std::vector<std::string>& recorded) {
  std::vector<Cell> cells{Cell{}};
  for (const auto& axis : run.grid) {
    std::vector<Cell> next;
    for (const auto& prefix : cells) {
      for (const auto& v : axis.values) {
        Cell c = prefix;
        c.emplace_back(axis.name, v);
        next.push_back(std::move(c));
      }
    }
    cells = std::move(next);
  }
  std::vector<std::string> keys;
  for (const auto& c : cells) keys.push_back(CellKey(c));
  for (const auto& k : recorded) {
    if (std::find(keys.begin(), keys.end(), k) == keys.end()) keys.push_back(k);
  }
  return keys;
}

}  // namespace

void JunitBuilder::Add(const StoredTrial& t) {
  std::string key = CellKey(t.cell);
  auto [it, inserted] = agg_.try_emplace(key);
  if (inserted) order_.push_back(key);
  CellAgg& a = it->second;
  const TrialResult& r = t.result;
  a.seconds += r.duration_s;
  if (r.outcome == Outcome::kCouldNotStart) {
    ++a.not_started;
    if (a.not_started_detail.empty()) a.not_started_detail = r.detail;
    return;
  }
  ++a.ran;
  switch (OutcomeEvidence(r.outcome)) {
    case Evidence::kCrash:
      ++a.crashes;
      ++a.sigs[EffectiveSignature(r)];
      [[fallthrough]];
    case Evidence::kSafe: ++a.n; break;
    case Evidence::kNeither:
      if (r.outcome == Outcome::kFailed) {
        ++a.failed;
        if (a.exit_codes.size() < kShownExitCodes) a.exit_codes.push_back(r.exit_code);
      }
      if (r.outcome == Outcome::kOverran) ++a.overran;
      break;
  }
}

std::string JunitBuilder::Render(const RunRecord& run) const {
  std::map<std::string, CellAgg> agg = agg_;
  std::vector<std::string> keys = CellKeysInOrder(run, order_);
  std::string classname = "crashgrid." + (run.workload.empty() ? std::string("run") : run.workload);
  std::string cases;
  int64_t failures = 0, errors = 0, skipped = 0;
  double total_s = 0;
  for (const auto& key : keys) {
    const CellAgg& a = agg[key];
    total_s += a.seconds;
    std::string name = key.empty() ? "(single cell)" : key;
    cases += fmt::format("    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3f}\">", XmlEscape(classname),
                         XmlEscape(name), a.seconds);
    // Besides a crash: how many trials were neither crashes nor clean runs (in no count above).
    std::string neither;
    Cell cell;
    if (!ParseCellKey(key, &cell)) cell.clear();
    // What one trial of the cell ran, for /bin/sh: the first thing to try when CI reports the failure.
    std::string repro = "reproduce: " + ReproductionCommand(run, cell) + "\n";
    if (a.failed > 0) neither += fmt::format("{} failed (exited non-zero)\n", a.failed);
    if (a.overran > 0) neither += fmt::format("{} overran (killed past the bound while still making progress)\n", a.overran);
    if (a.crashes > 0) {
      ++failures;
      std::vector<std::pair<std::string, int64_t>> sigs(a.sigs.begin(), a.sigs.end());
      std::stable_sort(sigs.begin(), sigs.end(), [](const auto& x, const auto& y) { return x.second > y.second; });
      std::string body = fmt::format("{}/{} trials crashed or hung in {}\n", a.crashes, a.n, name);
      for (const auto& [sig, n] : sigs) body += fmt::format("{} x {}\n", n, sig);
      body += neither + repro;
      cases += fmt::format("\n      <failure message=\"{}\" type=\"crash\">{}</failure>\n    ", XmlEscape(sigs[0].first),
                           XmlEscape(body));
    } else if (a.overran > 0) {
      // Too slow is a failure of the test (it did not finish in time), but not a crash and not a hang: its own
      // type, so CI can tell them apart.
      ++failures;
      cases += fmt::format("\n      <failure message=\"{}\" type=\"overran\">{}</failure>\n    ",
                           XmlEscape(fmt::format("{}/{} trials overran: still making progress past their bound, "
                                                 "killed (not a hang)",
                                                 a.overran, a.ran)),
                           XmlEscape(neither + repro));
    } else if (a.failed > 0) {
      ++errors;
      std::string codes;
      for (size_t i = 0; i < a.exit_codes.size() && i < kShownExitCodes; ++i) codes += (i ? ", " : "") + std::to_string(a.exit_codes[i]);
      cases += fmt::format("\n      <error message=\"{}\" type=\"exit\">exit codes: {}\n{}</error>\n    ",
                           XmlEscape(fmt::format("{}/{} trials exited non-zero", a.failed, a.ran)), codes,
                           XmlEscape(repro));
    } else if (a.ran == 0) {
      ++skipped;
      std::string why = a.not_started > 0 ? "could not start: " + a.not_started_detail : "no trials recorded";
      cases += fmt::format("\n      <skipped message=\"{}\"/>\n    ", XmlEscape(why));
    }
    cases += "</testcase>\n";
  }
  std::string props;
  props += fmt::format("      <property name=\"command_line\" value=\"{}\"/>\n",
                       XmlEscape(CdPrefix(run) + RunCommandLine(run)));
  for (const auto& [k, v] : run.labels)
    props += fmt::format("      <property name=\"label.{}\" value=\"{}\"/>\n", XmlEscape(k), XmlEscape(v));
  props += fmt::format("      <property name=\"workload\" value=\"{}\"/>\n", XmlEscape(run.workload));
  props += fmt::format("      <property name=\"reference_target\" value=\"{}\"/>\n",
                       run.reference_target ? "true (crashes are deliberate)" : "false");
  props += fmt::format("      <property name=\"crashgrid_version\" value=\"{}\"/>\n", XmlEscape(run.crashgrid_version));
  std::string suite = fmt::format("{} run {}", classname, run.id);
  size_t tests = keys.size();
  return fmt::format(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<testsuites name=\"crashgrid\" tests=\"{0}\" failures=\"{1}\" errors=\"{2}\" skipped=\"{3}\" time=\"{4:.3f}\">\n"
      "  <testsuite name=\"{5}\" tests=\"{0}\" failures=\"{1}\" errors=\"{2}\" skipped=\"{3}\" time=\"{4:.3f}\">\n"
      "    <properties>\n{6}    </properties>\n{7}  </testsuite>\n</testsuites>\n",
      tests, failures, errors, skipped, total_s, XmlEscape(suite), props, cases);
}

std::string RenderJunit(const RunRecord& run, const std::vector<StoredTrial>& trials) {
  JunitBuilder junit;
  for (const auto& t : trials) junit.Add(t);
  return junit.Render(run);
}

}  // namespace cg

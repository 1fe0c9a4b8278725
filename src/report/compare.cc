#include "report/compare.h"

#include <algorithm>
#include <cmath>
#include <set>

#include <fmt/format.h>

#include "report/cells.h"
#include "report/number_format.h"
#include "stats/exact.h"
#include "stats/poisson_rates.h"
#include "util/strings.h"

namespace cg {
namespace {

// A side's counts per cell of the shared axes (cells of other axes pooled).
struct Pooled {
  std::vector<std::string> order;  // keys in first-seen (grid) order
  std::map<std::string, CellCounts> cells;
  int64_t failed = 0, overran = 0;  // over every cell: ran, but neither crashes nor clean runs
};

Pooled Pool(const CompareArm& arm, const std::vector<std::string>& shared) {
  Pooled out;
  for (const CellCounts& c : AggregateCells(arm.run, arm.groups)) {
    out.failed += c.failed;
    out.overran += c.overran;
    // A cell nobody ran, that could not start, or whose trials all failed or overran is not evidence.
    if (c.n == 0) continue;
    Cell projected;
    for (const auto& [name, value] : c.cell)
      if (std::find(shared.begin(), shared.end(), name) != shared.end()) projected.emplace_back(name, value);
    std::string key = CellKey(projected);
    auto [it, inserted] = out.cells.try_emplace(key);
    if (inserted) {
      out.order.push_back(key);
      it->second.cell = projected;
      it->second.key = key;
    }
    CellCounts& p = it->second;
    p.n += c.n;
    p.crashes += c.crashes;
    p.exposure_s += c.exposure_s;
    for (const auto& [sig, count] : c.signatures) p.signatures[sig] += count;
  }
  return out;
}

std::vector<std::string> AxisNames(const CompareArm& arm) {
  std::vector<std::string> names;
  for (const GridAxis& axis : TrialAxes(arm.run, arm.groups)) names.push_back(axis.name);
  return names;
}

std::vector<std::pair<std::string, int64_t>> OnlyIn(const std::map<std::string, int64_t>& mine,
                                                    const std::map<std::string, int64_t>& theirs) {
  std::vector<std::pair<std::string, int64_t>> out;
  for (const auto& [sig, count] : mine)
    if (!sig.empty() && count > 0 && !theirs.count(sig)) out.emplace_back(sig, count);
  std::stable_sort(out.begin(), out.end(), [](const auto& x, const auto& y) { return x.second > y.second; });
  return out;
}

double Ratio(int64_t k, int64_t n) { return n > 0 ? static_cast<double>(k) / static_cast<double>(n) : 0; }
double PerMinute(int64_t k, double exposure_s) { return exposure_s > 0 ? static_cast<double>(k) * 60 / exposure_s : 0; }

// Mean exposure of a side's clean trials: how long its workload runs when nothing crashes.
double CleanExposure(const CompareArm& arm) {
  double seconds = 0;
  int64_t count = 0;
  for (const TrialGroup& g : arm.groups) {
    if (g.outcome != Outcome::kClean) continue;
    seconds += g.exposure_s;
    count += g.count;
  }
  return count > 0 ? seconds / static_cast<double>(count) : 0;
}

// One comparison's cells with their raw p-values; Holm's correction is applied over the family afterwards.
CompareResult CompareUnadjusted(const CompareArm& a, const CompareArm& b, const CompareOptions& options) {
  CompareResult r;
  r.label_a = a.label;
  r.label_b = b.label;
  r.description_a = a.description;
  r.description_b = b.description;
  r.alpha = options.alpha;
  std::vector<std::string> axes_a = AxisNames(a), axes_b = AxisNames(b);
  for (const auto& name : axes_a) {
    if (std::find(axes_b.begin(), axes_b.end(), name) != axes_b.end())
      r.shared_axes.push_back(name);
    else
      r.only_axes_a.push_back(name);
  }
  for (const auto& name : axes_b)
    if (std::find(axes_a.begin(), axes_a.end(), name) == axes_a.end()) r.only_axes_b.push_back(name);

  r.per_minute = TrialLengthsDiffer(a, b, &r.basis_reason);
  Pooled pa = Pool(a, r.shared_axes), pb = Pool(b, r.shared_axes);
  r.failed_a = pa.failed, r.overran_a = pa.overran, r.failed_b = pb.failed, r.overran_b = pb.overran;
  std::map<std::string, int64_t> sig_a, sig_b;
  double exposure_a = 0, exposure_b = 0;
  for (const std::string& key : pa.order) {
    auto it = pb.cells.find(key);
    if (it == pb.cells.end()) {
      r.unmatched_a.push_back(key);
      continue;
    }
    const CellCounts& ca = pa.cells.at(key);
    const CellCounts& cb = it->second;
    CellComparison c;
    c.key = key;
    c.ka = ca.crashes, c.na = ca.n, c.kb = cb.crashes, c.nb = cb.n;
    c.pa = Ratio(c.ka, c.na), c.pb = Ratio(c.kb, c.nb);
    c.ia = Wilson(c.ka, c.na), c.ib = Wilson(c.kb, c.nb);
    c.exposure_a = ca.exposure_s, c.exposure_b = cb.exposure_s;
    c.rate_a = PerMinute(c.ka, c.exposure_a), c.rate_b = PerMinute(c.kb, c.exposure_b);
    if (r.per_minute) {
      c.test = c.exposure_a > 0 && c.exposure_b > 0 ? "poisson" : "";
      c.p_value = PoissonRatesTwoSided(c.ka, c.exposure_a, c.kb, c.exposure_b);
    } else if ((c.na + 1) * (c.nb + 1) <= kBoschlooMaxTables) {
      c.test = "boschloo";
      c.p_value = BoschlooTwoSided(c.ka, c.na, c.kb, c.nb);
    } else {
      c.test = "fisher";
      c.p_value = FisherExactTwoSided(c.ka, c.na, c.kb, c.nb);
    }
    r.cells.push_back(c);
    r.ka += c.ka, r.na += c.na, r.kb += c.kb, r.nb += c.nb;
    exposure_a += ca.exposure_s;
    exposure_b += cb.exposure_s;
    for (const auto& [sig, n] : ca.signatures) sig_a[sig] += n;
    for (const auto& [sig, n] : cb.signatures) sig_b[sig] += n;
  }
  for (const std::string& key : pb.order)
    if (!pa.cells.count(key)) r.unmatched_b.push_back(key);

  r.rate_a = CrashRateFromExposure(r.ka, exposure_a);
  r.rate_b = CrashRateFromExposure(r.kb, exposure_b);
  r.signatures_only_a = OnlyIn(sig_a, sig_b);
  r.signatures_only_b = OnlyIn(sig_b, sig_a);
  return r;
}

}  // namespace

bool TrialLengthsDiffer(const CompareArm& a, const CompareArm& b, std::string* reason) {
  const double da = a.run.duration_s, db = b.run.duration_s;
  if (da > 0 && db > 0 && std::abs(da - db) > 0.01 * std::max(da, db)) {
    *reason = fmt::format("the runs' --duration differ (A {:g} s, B {:g} s)", da, db);
    return true;
  }
  const double ea = CleanExposure(a), eb = CleanExposure(b);
  if (ea > 0 && eb > 0 && std::max(ea, eb) > kExposureRatioLimit * std::min(ea, eb)) {
    *reason = fmt::format("clean trials ran for different lengths (A {:.3g} s, B {:.3g} s of workload on average)",
                          ea, eb);
    return true;
  }
  reason->clear();
  return false;
}

std::vector<CompareResult> CompareFamily(const std::vector<std::pair<CompareArm, CompareArm>>& pairs,
                                         const CompareOptions& options) {
  std::vector<CompareResult> out;
  std::vector<double> p;
  for (const auto& [a, b] : pairs) {
    out.push_back(CompareUnadjusted(a, b, options));
    for (const auto& c : out.back().cells) p.push_back(c.p_value);
  }
  std::vector<double> adjusted = HolmAdjust(p);
  size_t i = 0;
  for (CompareResult& r : out) {
    r.family = p.size();
    r.comparisons = out.size();
    for (CellComparison& c : r.cells) {
      c.p_adjusted = adjusted[i++];
      double ea = r.per_minute ? c.rate_a : c.pa, eb = r.per_minute ? c.rate_b : c.pb;
      if (c.p_adjusted < options.alpha && eb != ea) c.direction = eb > ea ? 1 : -1;
      if (c.direction > 0) r.more++;
      if (c.direction < 0) r.fewer++;
    }
  }
  return out;
}

CompareResult Compare(const CompareArm& a, const CompareArm& b, const CompareOptions& options) {
  return CompareFamily({{a, b}}, options)[0];
}

bool SplitRunByAxis(const RunRecord& run, const std::vector<TrialGroup>& groups, const std::string& axis,
                    std::vector<CompareArm>* arms, std::string* err) {
  std::vector<GridAxis> axes = TrialAxes(run, groups);
  auto found = std::find_if(axes.begin(), axes.end(), [&](const GridAxis& a) { return a.name == axis; });
  if (found == axes.end()) {
    std::vector<std::string> names;
    for (const auto& a : axes) names.push_back(a.name);
    *err = fmt::format("run {} has no grid axis '{}'{} (its axes: {}; sweep with --grid {}=A,B to compare values)",
                       run.id, axis, DidYouMean(axis, names), names.empty() ? "none" : Join(names, ", "), axis);
    return false;
  }
  arms->clear();
  for (const std::string& value : found->values) {
    CompareArm arm;
    arm.label = axis + "=" + value;
    arm.description = fmt::format("run {} with {}={}", run.id, axis, value);
    arm.run = run;
    arm.run.grid.erase(std::remove_if(arm.run.grid.begin(), arm.run.grid.end(),
                                      [&](const GridAxis& a) { return a.name == axis; }),
                       arm.run.grid.end());
    for (const TrialGroup& g : groups) {
      auto at = std::find_if(g.cell.begin(), g.cell.end(), [&](const auto& kv) { return kv.first == axis; });
      if (at == g.cell.end() || at->second != value) continue;
      TrialGroup copy = g;
      copy.cell.erase(copy.cell.begin() + (at - g.cell.begin()));
      copy.cell_key = CellKey(copy.cell);
      arm.groups.push_back(std::move(copy));
    }
    if (!arm.groups.empty()) arms->push_back(std::move(arm));
  }
  if (arms->size() < 2) {
    *err = fmt::format("run {} has trials for {} value(s) of '{}'; compare needs two (sweep with --grid {}=A,B)",
                       run.id, arms->size(), axis, axis);
    return false;
  }
  return true;
}

size_t BaselineArm(const std::vector<CompareArm>& arms, const std::string& axis) {
  for (size_t i = 0; i < arms.size(); ++i)
    if (arms[i].label == axis + "=none") return i;
  return 0;
}

namespace {

std::string Prob(int64_t k, int64_t n) { return n > 0 ? fmt::format("{:.2f}", Ratio(k, n)) : "-"; }

std::string PValue(double p) { return PValueText(p); }

}  // namespace

std::string RenderCompareText(const CompareResult& r) {
  std::string out;
  out += fmt::format("A = {}: {}\n", r.label_a, r.description_a);
  out += fmt::format("B = {}: {}\n", r.label_b, r.description_b);
  out += fmt::format("cells matched on {}: {}", r.shared_axes.empty() ? "(no axes)" : Join(r.shared_axes, ","),
                     r.cells.size());
  if (!r.only_axes_a.empty()) out += fmt::format("; A pooled over {}", Join(r.only_axes_a, ","));
  if (!r.only_axes_b.empty()) out += fmt::format("; B pooled over {}", Join(r.only_axes_b, ","));
  out += "\n\n";

  if (r.per_minute) {
    out += fmt::format("{}: cells compared by crashes per minute of workload (exact conditional test for two "
                       "Poisson rates), not per trial\n\n",
                       r.basis_reason);
  }
  size_t width = 4;
  for (const auto& c : r.cells) width = std::max(width, DisplayCellKey(c.key).size());
  out += "k/n: trials that crashed or hung / trials that crashed, hung or exited 0\n";
  if (r.per_minute) {
    out += fmt::format("{:<{}}  {:>9} {:>7}  {:>9} {:>7}  {:>7}  {:>8} {:>8}\n", "cell", width, "A k/n", "A /min",
                       "B k/n", "B /min", "B-A", "p", "Holm p");
  } else {
    out += fmt::format("{:<{}}  {:>9} {:>5}  {:>9} {:>5}  {:>6}  {:>8} {:>8}\n", "cell", width, "A k/n", "A p",
                       "B k/n", "B p", "B-A", "p", "Holm p");
  }
  for (const auto& c : r.cells) {
    const char* mark = c.direction > 0 ? "B more" : c.direction < 0 ? "B fewer" : "";
    std::string line;
    if (r.per_minute) {
      line = fmt::format("{:<{}}  {:>9} {:>7.3g}  {:>9} {:>7.3g}  {:>+7.3g}  {:>8} {:>8}  {}", DisplayCellKey(c.key), width,
                         fmt::format("{}/{}", c.ka, c.na), c.rate_a, fmt::format("{}/{}", c.kb, c.nb), c.rate_b,
                         c.rate_b - c.rate_a, PValue(c.p_value), PValue(c.p_adjusted), mark);
    } else {
      line = fmt::format("{:<{}}  {:>9} {:>5}  {:>9} {:>5}  {:>+6.2f}  {:>8} {:>8}  {}", DisplayCellKey(c.key), width,
                         fmt::format("{}/{}", c.ka, c.na), Prob(c.ka, c.na), fmt::format("{}/{}", c.kb, c.nb),
                         Prob(c.kb, c.nb), c.pb - c.pa, PValue(c.p_value), PValue(c.p_adjusted), mark);
    }
    out += std::string(Trim(line)) + "\n";
  }
  std::set<std::string> tests;
  for (const auto& c : r.cells)
    if (!c.test.empty()) tests.insert(c.test);
  std::string holm = "Holm-adjusted";
  if (r.comparisons > 1)
    holm = fmt::format("Holm-adjusted over all {} cells of the {} comparisons", r.family, r.comparisons);
  out += fmt::format("\nB crashes {}more in {} of {} cells, fewer in {} ({} exact test, {} p < {:g}).\n",
                     r.per_minute ? "per minute " : "", r.more, r.cells.size(), r.fewer,
                     tests.empty() ? "no" : Join(std::vector<std::string>(tests.begin(), tests.end()), "/"), holm,
                     r.alpha);
  out += fmt::format("Over the matched cells: A {}/{} crashed, {}; B {}/{} crashed, {}.\n", r.ka, r.na,
                     FormatCrashRate(r.rate_a), r.kb, r.nb, FormatCrashRate(r.rate_b));
  if (r.failed_a + r.overran_a + r.failed_b + r.overran_b > 0) {
    out += fmt::format("Not counted (neither crashes nor clean runs): A {} failed, {} overran; B {} failed, {} "
                       "overran.\n",
                       r.failed_a, r.overran_a, r.failed_b, r.overran_b);
  }
  if (!r.unmatched_a.empty() || !r.unmatched_b.empty()) {
    out += fmt::format("Unmatched cells: {} only in A, {} only in B.\n", r.unmatched_a.size(), r.unmatched_b.size());
    for (const auto& k : r.unmatched_a) out += "  only in A: " + k + "\n";
    for (const auto& k : r.unmatched_b) out += "  only in B: " + k + "\n";
  }
  auto sigs = [&](const char* side, const std::vector<std::pair<std::string, int64_t>>& list) {
    if (list.empty()) {
      out += fmt::format("Signatures only in {}: none\n", side);
      return;
    }
    out += fmt::format("Signatures only in {}:\n", side);
    for (const auto& [sig, n] : list) out += fmt::format("  {:>4}x {}\n", n, sig);
  };
  sigs("A", r.signatures_only_a);
  sigs("B", r.signatures_only_b);
  return out;
}

nlohmann::json CompareToJson(const CompareResult& r) {
  using nlohmann::json;
  auto rate = [](const CrashRate& c) {
    return json{{"crashes", c.crashes},
                {"exposure_s", c.exposure_s},
                {"per_minute", c.per_minute},
                {"per_minute_ci", {c.per_minute_ci.lo, c.per_minute_ci.hi}}};
  };
  json cells = json::array();
  for (const auto& c : r.cells) {
    cells.push_back({{"cell", c.key},
                     {"a", {{"crashes", c.ka}, {"n", c.na}, {"p", c.pa}, {"wilson95", {c.ia.lo, c.ia.hi}},
                            {"exposure_s", c.exposure_a}, {"per_minute", c.rate_a}}},
                     {"b", {{"crashes", c.kb}, {"n", c.nb}, {"p", c.pb}, {"wilson95", {c.ib.lo, c.ib.hi}},
                            {"exposure_s", c.exposure_b}, {"per_minute", c.rate_b}}},
                     {"difference", c.pb - c.pa},
                     {"test", c.test},
                     {"p_value", c.p_value},
                     {"p_holm", c.p_adjusted},
                     {"direction", c.direction > 0 ? "more" : c.direction < 0 ? "fewer" : "same"}});
  }
  auto sigs = [](const std::vector<std::pair<std::string, int64_t>>& list) {
    json out = json::array();
    for (const auto& [sig, n] : list) out.push_back({{"signature", sig}, {"crashes", n}});
    return out;
  };
  return json{{"schema_version", kCompareJsonSchemaVersion},
              {"a", {{"label", r.label_a}, {"description", r.description_a}, {"only_axes", r.only_axes_a},
                     {"crashes", r.ka}, {"n", r.na}, {"failed", r.failed_a}, {"overran", r.overran_a},
                     {"rate", rate(r.rate_a)}}},
              {"b", {{"label", r.label_b}, {"description", r.description_b}, {"only_axes", r.only_axes_b},
                     {"crashes", r.kb}, {"n", r.nb}, {"failed", r.failed_b}, {"overran", r.overran_b},
                     {"rate", rate(r.rate_b)}}},
              {"shared_axes", r.shared_axes},
              {"alpha", r.alpha},
              {"basis", r.per_minute ? "per_minute_of_workload" : "per_trial"},
              {"basis_reason", r.basis_reason},
              {"correction", "holm"},
              {"family", {{"tests", r.family}, {"comparisons", r.comparisons}}},
              {"cells", cells},
              {"summary", {{"cells", r.cells.size()}, {"b_more", r.more}, {"b_fewer", r.fewer}}},
              {"unmatched", {{"only_a", r.unmatched_a}, {"only_b", r.unmatched_b}}},
              {"signatures_only_a", sigs(r.signatures_only_a)},
              {"signatures_only_b", sigs(r.signatures_only_b)}};
}

}  // namespace cg

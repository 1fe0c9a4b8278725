#include "runtime/run_summary.h"

#include <fmt/format.h>

#include "util/strings.h"

namespace cg {

std::string RenderRunSummary(const std::string& workload, const std::string& detail, const RunOptions& options,
                             const TrialResult& m) {
  std::string out;
  std::vector<std::string> params;
  for (const auto& [k, v] : options.params.values()) params.push_back(k + "=" + v);
  out += fmt::format("{}: {} thread{}, {}, serialize {}{}\n", workload, options.threads,
                     options.threads == 1 ? "" : "s", FormatDuration(options.duration_s),
                     options.serialize.empty() ? "none" : options.serialize,
                     params.empty() ? "" : ", " + Join(params, " "));
  if (!detail.empty()) out += fmt::format("  {}\n", detail);
  out += fmt::format("\n  {:<8} {:>8} {:>12} {:>12} {:>10}\n", "thread", "tid", "iterations", "successes", "errors");
  for (const auto& t : m.threads)
    out += fmt::format("  {:<8} {:>8} {:>12} {:>12} {:>10}\n", fmt::format("cg-w{}", t.index), t.tid, t.iterations,
                       t.successes, t.errors);
  double secs = m.workload_seconds > 0 ? m.workload_seconds : 1;
  out += fmt::format("  {:<8} {:>8} {:>12} {:>12} {:>10}   {:.1f} iterations/s", "total", "", m.iterations,
                     m.successes, m.errors, static_cast<double>(m.iterations) / secs);
  if (!m.units_name.empty())
    out += fmt::format(", {} {} ({:.1f}/s)", m.units, m.units_name, static_cast<double>(m.units) / secs);
  out += "\n\n";
  out += fmt::format("  {:<12} {:>10} {:>10} {:>10} {:>10}\n", "phase", "count", "p50 ms", "p99 ms", "max ms");
  for (const auto& p : m.phases)
    out += fmt::format("  {:<12} {:>10} {:>10.3f} {:>10.3f} {:>10.3f}\n", p.name, p.count, p.p50_ms, p.p99_ms,
                       p.max_ms);
  if (!m.error_buckets.empty()) {
    out += "\n  errors (not crashes):\n";
    for (const auto& b : m.error_buckets) {
      out += fmt::format("  {:>10} x [{}] {}\n", b.count, b.phase, b.message);
      if (b.example != b.message) out += fmt::format("  {:>10}   e.g. {}\n", "", b.example);
    }
  }
  return out;
}

}  // namespace cg

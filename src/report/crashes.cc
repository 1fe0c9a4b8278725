#include "report/crashes.h"

#include <ctime>
#include <map>
#include <set>

#include <fmt/format.h>

#include "capture/signature.h"
#include "report/cells.h"
#include "report/heatmap.h"
#include "report/reproduce.h"
#include "trial/trial_json.h"
#include "util/strings.h"

namespace cg {
namespace {

constexpr size_t kSummaryFrames = 6;  // frames of the representative thread in `crashes`
constexpr size_t kSummaryCells = 8;

// The same key the heatmap and HTML report group by, so a signature reads alike everywhere.
std::string GroupKey(const TrialGroup& g, bool* captured) {
  *captured = !g.signature.empty();
  return EffectiveSignature(GroupResult(g));
}

const ThreadStack* FaultingThread(const CrashReport& r) {
  for (const auto& t : r.threads) {
    if (t.faulting) return &t;
  }
  return r.threads.empty() ? nullptr : &r.threads.front();
}

// The phase of a captured thread: the supervisor's copy, or the workload status of the same tid.
std::string PhaseOf(const ThreadStack& stack, const TrialResult& result) {
  if (!stack.phase.empty()) return stack.phase;
  for (const auto& s : result.threads) {
    if (s.tid == stack.tid) return s.phase.empty() ? "idle" : s.phase;
  }
  return "";
}

// The thread `crashes` shows for a trial: the faulting thread of a crash, the representative of a hang.
const ThreadStack* ShownThread(const TrialResult& result) {
  const CrashReport& r = *result.report;
  if (result.outcome == Outcome::kHung && r.representative_tid != 0) {
    for (const auto& t : r.threads) {
      if (t.tid == r.representative_tid) return &t;
    }
  }
  return FaultingThread(r);
}

// A hang's representative first (records written before AnnotateReport did it may have it elsewhere), the
// rest in capture order.
std::vector<const ThreadStack*> ThreadsInOrder(const TrialResult& result) {
  std::vector<const ThreadStack*> out;
  const CrashReport& r = *result.report;
  const ThreadStack* first = result.outcome == Outcome::kHung ? ShownThread(result) : nullptr;
  if (first != nullptr) out.push_back(first);
  for (const auto& t : r.threads) {
    if (&t != first) out.push_back(&t);
  }
  return out;
}

std::string DescribeOutcome(const TrialResult& r) {
  const CrashReport* rep = r.report ? &*r.report : nullptr;
  switch (r.outcome) {
    case Outcome::kCrashed: {
      int sig = rep && rep->signal ? rep->signal : r.signal;
      std::string s = fmt::format("crashed: {}", SignalMacroName(sig));
      if (rep && rep->signal) {
        s += fmt::format(" ({})", SiCodeName(rep->signal, rep->si_code));
        if (rep->has_fault_address) s += fmt::format(" at {:#018x}", rep->fault_address);
      }
      if (r.via_shell) s += fmt::format(" (reported by a shell as exit status {})", 128 + r.signal);
      return s;
    }
    case Outcome::kHung:
      return "hung: killed by the watchdog" + (r.detail.empty() ? "" : " (" + TerminalLine(r.detail) + ")");
    case Outcome::kFailed:
      return fmt::format("failed: exit status {}", r.exit_code);
    case Outcome::kClean:
      return "clean: exit status 0";
    case Outcome::kCouldNotStart:
      return "could not start" + (r.detail.empty() ? "" : ": " + TerminalLine(r.detail));
    case Outcome::kOverran:
      return "overran: still making progress past its bound, killed" +
             (r.detail.empty() ? "" : " (" + TerminalLine(r.detail) + ")");
  }
  return OutcomeName(r.outcome);
}

std::string Indent(const std::string& text, const std::string& prefix) {
  std::string out;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    size_t end = nl == std::string::npos ? text.size() : nl;
    out += prefix + text.substr(start, end - start) + "\n";
    start = end + 1;
  }
  return out;
}

nlohmann::json RefJson(const TrialRef& r) { return {{"trial", r.id}, {"started_at", r.started_at}}; }

}  // namespace

std::string ThreadHeading(const ThreadStack& t, const TrialResult& result) {
  std::vector<std::string> notes;
  int representative = result.report ? result.report->representative_tid : 0;
  if (result.outcome == Outcome::kHung && representative != 0) {
    if (t.tid == representative) notes.push_back("representative");
  } else if (t.faulting) {
    notes.push_back(result.outcome == Outcome::kHung ? "first thread" : "faulting thread");
  }
  std::string phase = PhaseOf(t, result);
  if (!phase.empty()) notes.push_back("phase " + phase);
  std::string api = t.api.empty() ? ThreadApi(t) : t.api;
  // What the agent tracked: "in cuvidDestroyDecoder, under gst_element_set_state(NULL) from churn_once".
  // Names, API entries and phases come from the program: each stays on its line, controls made visible.
  std::string where = api.empty() ? "" : " in " + api;
  if (!t.api_outer.empty()) {
    if (t.api_outer.rfind(api + "(", 0) == 0) where = " in " + t.api_outer;
    else where += ", under " + t.api_outer;
  }
  if (!t.api_caller.empty()) where += " from " + t.api_caller;
  if (t.api_calls > 0) notes.push_back(fmt::format("{} API call{}", t.api_calls, t.api_calls == 1 ? "" : "s"));
  return fmt::format("Thread {} \"{}\"{}{}", t.tid, TerminalLine(t.name), TerminalLine(where),
                     notes.empty() ? "" : " (" + TerminalLine(Join(notes, ", ")) + ")");
}

std::string TrialSummary(const TrialResult& result) {
  if (!result.report) return "";
  CrashReport r = *result.report;
  for (ThreadStack& t : r.threads) t.phase = PhaseOf(t, result);
  return CrashSummary(r);
}

CrashSite TrialCrashSite(const TrialResult& result) {
  CrashSite site;
  if (!result.report) return site;
  const ThreadStack* t = ShownThread(result);
  if (!t) return site;
  site.api = t->api.empty() ? ThreadApi(*t) : t->api;
  site.phase = PhaseOf(*t, result);
  return site;
}

std::string FormatUtc(double unix_seconds) {
  // A damaged database can hold any double (fuzz_db: 1.2e248): out of time_t's range the cast is undefined.
  if (!(unix_seconds > -1e15 && unix_seconds < 1e15)) return "(no valid time)";
  time_t t = static_cast<time_t>(unix_seconds);
  struct tm tm;
  if (gmtime_r(&t, &tm) == nullptr) return "(no valid time)";
  char buf[32];
  strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

std::string FormatGdbFrame(size_t index, const Frame& f) {
  std::string where = f.symbol.empty() ? "??" : fmt::format("{}+{:#x}", TerminalLine(f.symbol), f.symbol_offset);
  std::string s = fmt::format("#{:<2} {:#018x} in {} ()", index, f.pc, where);
  // gdb's "at FILE:LINE" for code built with -g; the module stays named (gdb drops it), so that a line reads
  // the same with and without debug information up to here.
  if (!f.file.empty()) s += fmt::format(" at {}:{}", TerminalLine(f.file), f.line);
  if (!f.module.empty()) s += " from " + TerminalLine(f.module);
  // Without a symbol, the module offset is what a later symbolization (or the vendor) needs.
  if (f.symbol.empty() && !f.module.empty()) s += fmt::format(" [+{:#x}]", f.offset);
  return s;
}

SignatureGroup GroupOverran(const std::vector<TrialGroup>& groups) {
  SignatureGroup g;
  g.signature = kOverranSection;
  g.captured = false;
  std::map<std::string, int64_t> cells;
  for (const auto& t : groups) {
    if (t.outcome != Outcome::kOverran) continue;
    if (g.count == 0 || t.first_trial_id < g.first.id) g.first = TrialRef{t.first_trial_id, 0};
    if (g.count == 0 || t.last_trial_id > g.last.id) g.last = TrialRef{t.last_trial_id, 0};
    g.count += t.count;
    cells[t.cell_key] += t.count;
  }
  for (const auto& [cell, n] : cells) g.cells.emplace_back(cell, n);
  std::stable_sort(g.cells.begin(), g.cells.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  return g;
}

std::vector<SignatureGroup> GroupCrashes(const std::vector<TrialGroup>& trial_groups) {
  std::map<std::string, SignatureGroup> by_key;
  std::map<std::string, std::map<std::string, int64_t>> cells;
  for (const auto& t : trial_groups) {
    if (!IsCrash(t.outcome)) continue;
    bool captured = false;
    std::string key = GroupKey(t, &captured);
    SignatureGroup& g = by_key[key];
    if (g.count == 0) {
      g.signature = key;
      g.captured = captured;
      g.first = TrialRef{t.first_trial_id, 0};
      g.last = TrialRef{t.last_trial_id, 0};
    }
    if (t.first_trial_id < g.first.id) g.first = TrialRef{t.first_trial_id, 0};
    if (t.last_trial_id > g.last.id) g.last = TrialRef{t.last_trial_id, 0};
    g.count += t.count;
    cells[key][t.cell_key] += t.count;
  }
  std::vector<SignatureGroup> groups;
  for (auto& [key, g] : by_key) {
    for (const auto& [cell, n] : cells[key]) g.cells.emplace_back(cell, n);
    std::stable_sort(g.cells.begin(), g.cells.end(),
                     [](const auto& a, const auto& b) { return a.second > b.second; });
    groups.push_back(std::move(g));
  }
  std::sort(groups.begin(), groups.end(), [](const SignatureGroup& a, const SignatureGroup& b) {
    if (a.count != b.count) return a.count > b.count;
    return a.first.id < b.first.id;
  });
  return groups;
}

CrashesSummary SummarizeCrashes(const RunRecord& run, const std::vector<TrialGroup>& groups) {
  CrashesSummary s;
  s.run_id = run.id;
  s.workload = run.workload;
  s.reference_target = run.reference_target;
  s.labels = run.labels;
  for (const auto& g : groups) {
    s.trials += g.count;
    if (IsCrash(g.outcome)) s.crashes += g.count;
  }
  s.groups = GroupCrashes(groups);
  s.overran = GroupOverran(groups);
  return s;
}

namespace {

std::string CellsLine(const SignatureGroup& g) {
  std::vector<std::string> cells;
  for (size_t c = 0; c < g.cells.size() && c < kSummaryCells; ++c)
    cells.push_back(
        fmt::format("{} ({})", g.cells[c].first.empty() ? "-" : TerminalLine(g.cells[c].first), g.cells[c].second));
  if (g.cells.size() > kSummaryCells) cells.push_back(fmt::format("and {} more", g.cells.size() - kSummaryCells));
  return fmt::format("   cells: {}\n", Join(cells, ", "));
}

std::string FirstLastLine(const SignatureGroup& g) {
  return fmt::format("   first: trial {} at {}   last: trial {} at {}\n", g.first.id, FormatUtc(g.first.started_at),
                     g.last.id, FormatUtc(g.last.started_at));
}

}  // namespace

std::string RenderCrashes(const CrashesSummary& s, const std::string& db_path) {
  std::string out = fmt::format("run {}{}: {}{}, {} trials, {} crashed or hung", s.run_id,
                                s.labels.empty() ? "" : " [" + TerminalLine(LabelsText(s.labels)) + "]",
                                TerminalLine(s.workload),
                                s.reference_target ? " (reference target)" : "", s.trials, s.crashes);
  if (s.overran.count > 0) out += fmt::format(", {} overran", s.overran.count);
  if (s.crashes == 0 && s.overran.count == 0) return out + "\n";
  if (s.crashes > 0) out += fmt::format(", {} signature{}", s.groups.size(), s.groups.size() == 1 ? "" : "s");
  out += "\n";
  for (size_t i = 0; i < s.groups.size(); ++i) {
    const SignatureGroup& g = s.groups[i];
    out += fmt::format("\n#{} {} trial{} ({:.0f}% of crashes)  {}\n", i + 1, g.count, g.count == 1 ? "" : "s",
                       100.0 * static_cast<double>(g.count) / static_cast<double>(s.crashes),
                       TerminalLine(g.signature));
    out += CellsLine(g);
    out += FirstLastLine(g);
    if (!g.representative) continue;
    const TrialResult& r = g.representative->result;
    if (!r.report || r.report->threads.empty()) {
      out += fmt::format("   trial {}: no stack ({})\n", g.representative->id,
                         r.report && !r.report->error.empty() ? TerminalLine(r.report->error)
                                                               : "capture " + (r.capture_method.empty() ? std::string("none") : r.capture_method));
      continue;
    }
    out += fmt::format("   summary: {}\n", TerminalLine(TrialSummary(r)));
    const ThreadStack* t = ShownThread(r);
    out += fmt::format("   trial {}, {}:\n", g.representative->id, ThreadHeading(*t, r));
    for (size_t f = 0; f < t->frames.size() && f < kSummaryFrames; ++f)
      out += "     " + FormatGdbFrame(f, t->frames[f]) + "\n";
    if (t->frames.size() > kSummaryFrames) out += fmt::format("     ... {} more\n", t->frames.size() - kSummaryFrames);
  }
  if (s.overran.count > 0) {
    // Killed while still making progress: a slow cell, not a stuck one, and no evidence either way.
    out += fmt::format("\n{}: {} trial{}, not counted as crashes\n", kOverranSection, s.overran.count,
                       s.overran.count == 1 ? "" : "s");
    out += CellsLine(s.overran);
    out += FirstLastLine(s.overran);
  }
  out += fmt::format("\nWhole report of a trial: crashgrid show {} TRIAL\n", ShellQuote(TerminalLine(db_path)));
  // Every piece from a program or a user went through TerminalLine above; this keeps it so for any added later.
  return TerminalText(out);
}

nlohmann::json CrashesJson(const CrashesSummary& s) {
  nlohmann::json groups = nlohmann::json::array();
  for (const auto& g : s.groups) {
    nlohmann::json cells = nlohmann::json::array();
    for (const auto& [cell, n] : g.cells) cells.push_back({{"cell", cell}, {"count", n}});
    nlohmann::json j = {{"signature", g.signature}, {"captured", g.captured}, {"count", g.count},
                        {"cells", cells},         {"first", RefJson(g.first)}, {"last", RefJson(g.last)}};
    if (g.representative && g.representative->result.report) {
      const TrialResult& r = g.representative->result;
      nlohmann::json rj = {{"trial", g.representative->id}, {"summary", TrialSummary(r)}};
      if (const ThreadStack* t = ShownThread(r)) rj["thread"] = *t;
      j["representative"] = rj;
    }
    groups.push_back(j);
  }
  nlohmann::json overran_cells = nlohmann::json::array();
  for (const auto& [cell, n] : s.overran.cells) overran_cells.push_back({{"cell", cell}, {"count", n}});
  nlohmann::json overran = {{"count", s.overran.count}, {"cells", overran_cells}};
  if (s.overran.count > 0) {
    overran["first"] = RefJson(s.overran.first);
    overran["last"] = RefJson(s.overran.last);
  }
  return {{"schema_version", kCrashesJsonSchemaVersion},
          {"run_id", s.run_id},
          {"workload", s.workload},
          {"labels", s.labels},
          {"reference_target", s.reference_target},
          {"trials", s.trials},
          {"crashes", s.crashes},
          {"signatures", groups},
          {"overran", overran}};
}

std::string RenderTrialReport(const StoredTrial& t) {
  const TrialResult& r = t.result;
  std::string out = fmt::format("trial {} (run {}, cell {}, repetition {})\n", t.id, t.run_id,
                                t.cell_key.empty() ? "-" : TerminalLine(t.cell_key), t.repetition);
  out += fmt::format("outcome:   {}\n", DescribeOutcome(r));
  out += fmt::format("exit code: {} (as a shell script would see it)\n", SeedExitCode(r));
  out += fmt::format("started:   {}, outcome after {}, ran {}\n", FormatUtc(r.started_at),
                     FormatDuration(r.time_to_outcome_s), FormatDuration(r.duration_s));
  if (!r.signature.empty()) out += fmt::format("signature: {}\n", TerminalLine(r.signature));
  if (r.report && !r.report->threads.empty()) out += fmt::format("summary:   {}\n", TerminalLine(TrialSummary(r)));
  std::string method = r.capture_method.empty() ? "none" : r.capture_method;
  if (r.report) {
    out += fmt::format("capture:   {}, {} threads in {:.1f} ms\n", r.report->method.empty() ? method : r.report->method,
                       r.report->threads.size(), r.report->capture_ms);
    if (!r.report->error.empty()) out += fmt::format("capture problem: {}\n", TerminalLine(r.report->error));
  } else {
    out += fmt::format("capture:   {}\n", method);
  }
  if (r.iterations || r.errors)
    out += fmt::format("workload:  {} iterations, {} successes, {} errors{}\n", r.iterations, r.successes, r.errors,
                       r.units_name.empty() ? "" : fmt::format(", {} {}", r.units, TerminalLine(r.units_name)));
  if (!r.detail.empty() && r.outcome != Outcome::kHung && r.outcome != Outcome::kCouldNotStart)
    out += fmt::format("detail:    {}\n", TerminalLine(r.detail));

  if (r.report && !r.report->threads.empty()) {
    // Path and build-id of every module on a stack, in order of first appearance: what re-symbolizing the
    // report elsewhere (or by the vendor) needs.
    std::vector<std::pair<std::string, std::string>> modules;
    std::set<std::string> seen;
    for (const ThreadStack* thp : ThreadsInOrder(r)) {
      const ThreadStack& th = *thp;
      out += "\n" + ThreadHeading(th, r) + ":\n";
      for (size_t i = 0; i < th.frames.size(); ++i) {
        const Frame& f = th.frames[i];
        out += FormatGdbFrame(i, f) + "\n";
        if (!f.module.empty() && seen.insert(f.module).second) modules.emplace_back(f.module, f.build_id);
      }
      if (th.frames.empty()) out += "(no frames)\n";
      if (!th.error.empty()) out += fmt::format("({})\n", TerminalLine(th.error));
    }
    out += "\nmodules:\n";
    for (const auto& [path, id] : modules)
      out += fmt::format("  {}  {}\n", id.empty() ? "(no build-id)" : TerminalLine(id), TerminalLine(path));
  } else if (IsCrash(r.outcome)) {
    out += "\nno stacks captured";
    out += method == "none" ? " (sweep with --capture ptrace to get them)\n" : "\n";
  }
  if (!r.report || r.report->threads.empty()) {
    // Without stacks, what each workload thread was doing is the best clue.
    bool any = false;
    for (const auto& s : r.threads) {
      if (!any) out += "\nworkload threads:\n";
      any = true;
      out += fmt::format("  #{} tid {}: phase {}, {} iterations, {} errors\n", s.index, s.tid,
                         s.phase.empty() ? "idle" : TerminalLine(s.phase), s.iterations, s.errors);
    }
  }
  for (const auto& [name, tail] : {std::pair<const char*, const std::string*>{"stdout", &r.stdout_tail},
                                   std::pair<const char*, const std::string*>{"stderr", &r.stderr_tail}}) {
    if (tail->empty()) {
      out += fmt::format("\n{}: (empty)\n", name);
    } else {
      // The program's own bytes: its lines kept, every control character (NUL too) and invalid byte visible.
      out += fmt::format("\n{} (last {} bytes):\n", name, tail->size());
      out += Indent(TerminalText(*tail), "  ");
    }
  }
  return TerminalText(out);
}

nlohmann::json TrialReportJson(const StoredTrial& t) {
  return {{"schema_version", kCrashesJsonSchemaVersion},
          {"trial", t.id},
          {"run_id", t.run_id},
          {"cell", t.cell_key},
          {"repetition", t.repetition},
          {"result", t.result}};
}

}  // namespace cg

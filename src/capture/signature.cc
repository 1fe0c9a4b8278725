#include "capture/signature.h"
#include "util/strings.h"

#include <signal.h>

#include <algorithm>
#include <cstring>
#include <set>
#include <string_view>

#include <fmt/format.h>

namespace cg {
namespace {

constexpr uint64_t kNullPageEnd = 64 * 1024;
constexpr size_t kSignatureFrames = 3;
constexpr size_t kHangFrames = 4;
constexpr size_t kMaxSiteChars = 120;
constexpr const char* kRuntimeToken = "crashgrid";

bool IsCrashgridExecutable(const Frame& f) { return Basename(f.module) == "crashgrid"; }

// crashgrid's own machinery inside a trial: the preloaded agent and the crash handler. Neither is the
// program nor a library it called.
bool IsCrashgridLibraryFrame(const Frame& f) {
  std::string_view base = Basename(f.module);
  return StartsWith(base, "libcrashgrid_agent.so") || StartsWith(base, "libcrashgrid_handler.so");
}

bool IsSharedLibraryModule(std::string_view module) {
  return Basename(module).find(".so") != std::string_view::npos;
}

// Frames that say nothing about what the program was doing: runtime libraries and the crashgrid runtime.
bool IsRuntimeFrame(const Frame& f) { return IsRuntimeLibraryFrame(f) || IsCrashgridExecutable(f); }

bool IsMainMarker(const Frame& f) {
  return f.symbol == "__libc_start_main" || f.symbol == "__libc_start_call_main" ||
         StartsWith(f.symbol, "__libc_start_main@") || f.symbol == "_start";
}

// A thread waiting for other threads to end: never the cause of a stall.
bool IsJoinFrame(const Frame& f) {
  return f.symbol.find("pthread_join") != std::string::npos ||
         f.symbol.find("pthread_clockjoin") != std::string::npos ||
         f.symbol.find("pthread_timedjoin") != std::string::npos || StartsWith(f.symbol, "std::thread::join");
}

std::string Bounded(std::string s) {
  if (s.size() > kMaxSiteChars) s.resize(kMaxSiteChars);
  return s;
}

// Signals whose si_addr is the faulting data address (for SIGILL/SIGFPE it is the instruction, which the
// frames already name).
bool HasDataAddress(int sig) { return sig == SIGSEGV || sig == SIGBUS; }

const char* GenericCodeName(int code) {
  switch (code) {
    case SI_USER: return "SI_USER";
    case SI_KERNEL: return "SI_KERNEL";
    case SI_QUEUE: return "SI_QUEUE";
    case SI_TIMER: return "SI_TIMER";
    case SI_MESGQ: return "SI_MESGQ";
    case SI_ASYNCIO: return "SI_ASYNCIO";
    case SI_SIGIO: return "SI_SIGIO";
    case SI_TKILL: return "SI_TKILL";
    default: return nullptr;
  }
}

const char* SpecificCodeName(int sig, int code) {
  static const char* const kSegv[] = {"SEGV_MAPERR", "SEGV_ACCERR", "SEGV_BNDERR", "SEGV_PKUERR",
                                      "SEGV_ACCADI", "SEGV_ADIDERR", "SEGV_ADIPERR", "SEGV_MTEAERR",
                                      "SEGV_MTESERR"};
  static const char* const kBus[] = {"BUS_ADRALN", "BUS_ADRERR", "BUS_OBJERR", "BUS_MCEERR_AR",
                                     "BUS_MCEERR_AO"};
  static const char* const kIll[] = {"ILL_ILLOPC", "ILL_ILLOPN", "ILL_ILLADR", "ILL_ILLTRP",
                                     "ILL_PRVOPC", "ILL_PRVREG", "ILL_COPROC", "ILL_BADSTK"};
  static const char* const kFpe[] = {"FPE_INTDIV", "FPE_INTOVF", "FPE_FLTDIV", "FPE_FLTOVF",
                                     "FPE_FLTUND", "FPE_FLTRES", "FPE_FLTINV", "FPE_FLTSUB"};
  static const char* const kTrap[] = {"TRAP_BRKPT", "TRAP_TRACE", "TRAP_BRANCH", "TRAP_HWBKPT"};
  static const char* const kChld[] = {"CLD_EXITED", "CLD_KILLED", "CLD_DUMPED",
                                      "CLD_TRAPPED", "CLD_STOPPED", "CLD_CONTINUED"};
  auto pick = [code](const auto& table) -> const char* {
    size_t n = sizeof(table) / sizeof(table[0]);
    return code >= 1 && static_cast<size_t>(code) <= n ? table[code - 1] : nullptr;
  };
  switch (sig) {
    case SIGSEGV: return pick(kSegv);
    case SIGBUS: return pick(kBus);
    case SIGILL: return pick(kIll);
    case SIGFPE: return pick(kFpe);
    case SIGTRAP: return pick(kTrap);
    case SIGCHLD: return pick(kChld);
    default: return nullptr;
  }
}

std::string FrameToken(const Frame& f) {
  if (IsCrashgridExecutable(f)) return kRuntimeToken;
  if (!f.symbol.empty()) return f.symbol;
  if (f.module.empty()) return "??";
  return fmt::format("{}@{:#x}", Basename(f.module), f.offset);
}

std::string ApiOf(const ThreadStack& t) { return t.api.empty() ? ThreadApi(t) : t.api; }

// Index of the first frame that is neither a runtime library's nor crashgrid's agent/handler, or npos.
size_t FirstProgramFrame(const ThreadStack& t) {
  for (size_t i = 0; i < t.frames.size(); ++i) {
    if (!IsRuntimeLibraryFrame(t.frames[i])) return i;
  }
  return std::string::npos;
}

enum class SiteTier { kProgram = 0, kLibraryOwn = 1, kRuntime = 2 };

struct Site {
  std::string text;  // "" for a thread with runtime frames only
  SiteTier tier = SiteTier::kRuntime;
  bool foreign = false;  // the wait site is inside a foreign library
};

Site ClassifySite(const ThreadStack& t) {
  Site site;
  size_t first = FirstProgramFrame(t);
  if (first == std::string::npos) return site;
  const Frame& f = t.frames[first];
  bool joining = false;
  for (size_t i = 0; i < first; ++i) joining = joining || IsJoinFrame(t.frames[i]);
  if (!IsForeignLibraryFrame(f)) {
    site.text = Bounded(FrameToken(f));
    site.tier = joining || site.text == kRuntimeToken ? SiteTier::kRuntime : SiteTier::kProgram;
    return site;
  }
  site.foreign = true;
  std::string base(Basename(f.module));
  std::string api = ApiOf(t);
  // The first frame outside this library that is not a runtime library's: who called into it.
  const Frame* caller = nullptr;
  for (size_t i = first + 1; i < t.frames.size() && caller == nullptr; ++i) {
    const Frame& g = t.frames[i];
    if (g.module != f.module && !IsRuntimeLibraryFrame(g)) caller = &g;
  }
  site.tier = caller != nullptr ? SiteTier::kProgram : SiteTier::kLibraryOwn;
  if (!api.empty()) {
    site.text = base + " via " + api;
  } else if (caller != nullptr) {
    site.text = base + " from " + FrameToken(*caller);
  } else {
    site.text = base;
  }
  site.text = Bounded(std::move(site.text));
  return site;
}

const ThreadStack* FaultingThread(const CrashReport& report) {
  for (const auto& t : report.threads) {
    if (t.faulting) return &t;
  }
  for (const auto& t : report.threads) {
    if (report.faulting_tid != 0 && t.tid == report.faulting_tid) return &t;
  }
  return report.threads.empty() ? nullptr : &report.threads.front();
}

}  // namespace

std::string SignalMacroName(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  if (abbrev != nullptr) return fmt::format("SIG{}", abbrev);
  return fmt::format("SIG{}", sig);
}

std::string SiCodeName(int sig, int si_code) {
  // Positive codes are per signal and come from the kernel; zero and below are how the signal was sent.
  const char* name = si_code > 0 && si_code != SI_KERNEL ? SpecificCodeName(sig, si_code) : GenericCodeName(si_code);
  return name != nullptr ? name : std::to_string(si_code);
}

bool IsRuntimeLibraryFrame(const Frame& f) {
  if (f.symbol == "__restore_rt") return true;  // the signal trampoline, wherever it lives
  if (IsCrashgridLibraryFrame(f)) return true;
  std::string_view base = Basename(f.module);
  if (base.empty()) return false;
  if (base.front() == '[') return true;  // [vdso], [vsyscall]
  static const std::string_view kPrefixes[] = {
      "libc.so",      "libc-",      "libpthread.so", "libpthread-", "libdl.so",   "libdl-",
      "ld-linux",     "ld.so",      "ld64.so",       "linux-vdso",  "libstdc++.so", "libgcc_s.so",
      "libasan.so",   "libtsan.so", "libubsan.so",   "liblsan.so",
  };
  for (std::string_view p : kPrefixes) {
    if (base.substr(0, p.size()) == p) return true;
  }
  return false;
}

std::vector<std::string> SignatureFrames(const ThreadStack& thread) {
  std::vector<std::string> tokens;
  for (const Frame& f : thread.frames) {
    if (IsRuntimeLibraryFrame(f)) continue;
    std::string token = FrameToken(f);
    if (token == kRuntimeToken && !tokens.empty() && tokens.back() == kRuntimeToken) continue;
    tokens.push_back(std::move(token));
  }
  return tokens;
}

std::string CrashSignature(const CrashReport& report) {
  if (report.signal == 0) return "";
  std::string sig = SignalMacroName(report.signal) + "/" + SiCodeName(report.signal, report.si_code);
  // si_addr is only the faulting address when the kernel raised the signal (si_code > 0); sent with
  // kill/tgkill it is pid and uid instead.
  // SI_KERNEL (0x80) is positive too, but it is a general protection fault: si_addr is 0, not the address.
  if (HasDataAddress(report.signal) && report.has_fault_address && report.si_code > 0 &&
      report.si_code != SI_KERNEL) {
    sig += report.fault_address < kNullPageEnd ? " null" : " wild";
  }
  if (const ThreadStack* t = FaultingThread(report)) {
    std::vector<std::string> tokens = SignatureFrames(*t);
    for (size_t i = 0; i < tokens.size() && i < kSignatureFrames; ++i) sig += " | " + tokens[i];
    std::string api = ApiOf(*t);
    if (!api.empty()) sig += " via " + api;
  }
  return sig;
}

std::string HangSignature(const CrashReport& report) {
  bool any_blocked = false;
  for (const auto& t : report.threads) any_blocked = any_blocked || IsBlocked(t);
  std::set<std::string> tiers[3];
  for (const auto& t : report.threads) {
    if (any_blocked && !IsBlocked(t)) continue;
    Site site = ClassifySite(t);
    if (!site.text.empty()) tiers[static_cast<int>(site.tier)].insert(site.text);
  }
  std::string sig = "hang";
  for (const auto& sites : tiers) {
    if (sites.empty()) continue;
    size_t n = 0;
    for (const auto& b : sites) {
      if (n++ == kHangFrames) break;
      sig += " | " + b;
    }
    break;
  }
  return sig;
}

bool IsForeignLibraryFrame(const Frame& f) {
  return IsSharedLibraryModule(f.module) && !IsRuntimeLibraryFrame(f) && !IsCrashgridExecutable(f);
}

bool IsBlocked(const ThreadStack& t) {
  return t.state == 'S' || t.state == 'D' || t.state == 0 || t.state == 't' || t.state == 'T';
}

std::string ThreadApi(const ThreadStack& t) {
  const std::vector<Frame>& frames = t.frames;
  size_t i = 0;
  while (i < frames.size() && !IsForeignLibraryFrame(frames[i])) ++i;
  if (i == frames.size()) return "";
  const std::string& module = frames[i].module;
  std::string api;
  for (; i < frames.size(); ++i) {
    const Frame& f = frames[i];
    if (f.module == module) {
      if (f.exported && !f.symbol.empty()) api = f.symbol;
    } else if (!IsRuntimeLibraryFrame(f)) {
      break;
    }
  }
  if (!api.empty()) return api;
  for (; i < frames.size(); ++i) {
    if (frames[i].module == module && frames[i].exported && !frames[i].symbol.empty()) return frames[i].symbol;
  }
  return "";
}

std::string WaitSite(const ThreadStack& t) { return ClassifySite(t).text; }

namespace {

std::string OuterText(const AgentThreadCall& c) {
  if (c.outer != "gst_element_set_state") return c.outer;
  static const char* const kStates[] = {"VOID_PENDING", "NULL", "READY", "PAUSED", "PLAYING"};
  if (c.outer_arg < std::size(kStates)) return c.outer + "(" + kStates[c.outer_arg] + ")";
  return c.outer;
}

bool IsAgentFrame(const Frame& f) { return f.module.find("libcrashgrid_agent") != std::string::npos; }

// The frame that made the outermost tracked call: the first one outside the agent, outward of its last frame.
std::string ApiCaller(const ThreadStack& t) {
  for (size_t i = t.frames.size(); i-- > 0;) {
    if (!IsAgentFrame(t.frames[i])) continue;
    for (size_t k = i + 1; k < t.frames.size(); ++k) {
      const Frame& f = t.frames[k];
      if (IsAgentFrame(f)) continue;
      if (!f.symbol.empty()) return f.symbol;
      if (!f.module.empty()) return fmt::format("{}@{:#x}", Basename(f.module), f.offset);
      return "";
    }
    return "";
  }
  return "";
}

}  // namespace

bool AnnotateApiCalls(const std::vector<AgentThreadCall>& calls, int64_t stopped_mono_ns, CrashReport* report) {
  bool any = false;
  for (ThreadStack& t : report->threads) {
    for (const AgentThreadCall& c : calls) {
      if (c.tid != t.tid) continue;
      any = true;
      t.api_calls = c.calls;
      if (c.depth <= 0 || c.call.empty()) break;
      t.api_call = c.call;
      t.api = c.call;
      std::string outer = OuterText(c);
      if (!outer.empty() && (c.depth > 1 || outer != c.call)) t.api_outer = outer;
      if (c.call_mono_ns > 0 && stopped_mono_ns > c.call_mono_ns) {
        t.api_call_s = static_cast<double>(stopped_mono_ns - c.call_mono_ns) / 1e9;
      }
      t.api_caller = ApiCaller(t);
      break;
    }
  }
  return any;
}

void AnnotateReport(CrashReport* report, bool hang) {
  for (ThreadStack& t : report->threads) t.api = ThreadApi(t);
  if (!hang || report->threads.empty()) return;
  std::vector<bool> is_main(report->threads.size(), false);
  bool marked = false;
  for (size_t i = 0; i < report->threads.size(); ++i) {
    for (const Frame& f : report->threads[i].frames) {
      if (IsMainMarker(f)) {
        is_main[i] = true;
        marked = true;
        break;
      }
    }
  }
  if (!marked) {
    size_t smallest = 0;
    for (size_t i = 1; i < report->threads.size(); ++i) {
      if (report->threads[i].tid < report->threads[smallest].tid) smallest = i;
    }
    is_main[smallest] = true;
  }
  // Lower rank wins; ties keep the report's order.
  constexpr int kNone = 6;
  auto rank = [&](size_t i) {
    const ThreadStack& t = report->threads[i];
    Site site = ClassifySite(t);
    bool blocked = IsBlocked(t);
    bool worker = !is_main[i];
    if (blocked && site.foreign && site.tier == SiteTier::kProgram) return worker ? 0 : 1;
    if (blocked && worker && !site.foreign && site.tier == SiteTier::kProgram) return 2;
    if (blocked && worker && site.foreign) return 3;
    bool program_frame = false;
    for (const Frame& f : t.frames) program_frame = program_frame || !IsRuntimeFrame(f);
    if (worker && program_frame) return 4;
    return kNone;
  };
  size_t best = 0;
  int best_rank = kNone + 1;
  for (size_t i = 0; i < report->threads.size(); ++i) {
    int r = rank(i);
    if (r < best_rank) {
      best = i;
      best_rank = r;
    }
  }
  report->representative_tid = report->threads[best].tid;
  std::rotate(report->threads.begin(), report->threads.begin() + static_cast<std::ptrdiff_t>(best),
              report->threads.begin() + static_cast<std::ptrdiff_t>(best) + 1);
}

std::string CrashSummary(const CrashReport& report) {
  if (report.signal != 0) {
    const ThreadStack* t = FaultingThread(report);
    if (t == nullptr) return SignalMacroName(report.signal);
    std::vector<std::string> tokens = SignatureFrames(*t);
    std::string s = tokens.empty() ? SignalMacroName(report.signal) : tokens.front();
    std::string api = ApiOf(*t);
    if (!api.empty()) s += " via " + api;
    if (!t->phase.empty()) s += ", phase " + t->phase;
    return s;
  }
  const ThreadStack* rep = nullptr;
  for (const auto& t : report.threads) {
    if (report.representative_tid != 0 && t.tid == report.representative_tid) rep = &t;
  }
  if (rep == nullptr && !report.threads.empty()) rep = &report.threads.front();
  if (rep == nullptr) return "hang";
  std::string site = WaitSite(*rep);
  std::string s = site.empty() ? "blocked in the runtime" : "blocked in " + site;
  if (!rep->phase.empty()) s += ", phase " + rep->phase;
  return s;
}

}  // namespace cg

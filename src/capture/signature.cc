#include "capture/signature.h"

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
constexpr const char* kRuntimeToken = "crashgrid";

std::string_view Basename(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

bool IsCrashgridExecutable(const Frame& f) { return Basename(f.module) == "crashgrid"; }

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
  if (HasDataAddress(report.signal) && report.has_fault_address && report.si_code > 0) {
    sig += report.fault_address < kNullPageEnd ? " null" : " wild";
  }
  if (const ThreadStack* t = FaultingThread(report)) {
    std::vector<std::string> tokens = SignatureFrames(*t);
    for (size_t i = 0; i < tokens.size() && i < kSignatureFrames; ++i) sig += " | " + tokens[i];
  }
  return sig;
}

std::string HangSignature(const CrashReport& report) {
  std::set<std::string> blocked;
  bool runtime_seen = false;
  for (const auto& t : report.threads) {
    std::vector<std::string> tokens = SignatureFrames(t);
    if (tokens.empty()) continue;
    if (tokens.front() == kRuntimeToken) {
      runtime_seen = true;
    } else {
      blocked.insert(tokens.front());
    }
  }
  if (blocked.empty() && runtime_seen) blocked.insert(kRuntimeToken);
  std::string sig = "hang";
  size_t n = 0;
  for (const auto& b : blocked) {
    if (n++ == kHangFrames) break;
    sig += " | " + b;
  }
  return sig;
}

}  // namespace cg

// Captures of real crashed and deadlocked fixture processes, stopped by the TestTracee harness as the
// supervisor stops trials.
#include "capture/unwind.h"

#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <signal.h>
#include <sys/stat.h>

#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

#include "capture/signature.h"
#include "capture/test_tracee.h"

namespace cg {
namespace {

const std::string kFixtures = std::string(CRASHGRID_BINARY_DIR) + "/fixtures/";
const std::string kStrippedLib = kFixtures + "libcapture_victim.so";
const std::string kUnstrippedLib = kFixtures + "unstripped/libcapture_victim.so";
const std::string kCgfxLib = kFixtures + "libcgfx.so";
const std::string kUnstrippedCgfxLib = kFixtures + "unstripped/libcgfx.so";

struct SymbolRange {
  uint64_t value = 0;
  uint64_t size = 0;
};

// The oracle for offsets: the symbol as the linker wrote it into the unstripped copy's .symtab, read with
// libelf directly rather than through the code under test.
bool LookupSymtab(const std::string& path, const std::string& name, SymbolRange* out) {
  elf_version(EV_CURRENT);
  ScopedFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.is_open()) return false;
  Elf* elf = elf_begin(fd.get(), ELF_C_READ, nullptr);
  if (!elf) return false;
  bool found = false;
  Elf_Scn* scn = nullptr;
  while (!found && (scn = elf_nextscn(elf, scn)) != nullptr) {
    GElf_Shdr shdr;
    if (!gelf_getshdr(scn, &shdr) || shdr.sh_type != SHT_SYMTAB) continue;
    Elf_Data* data = elf_getdata(scn, nullptr);
    size_t count = shdr.sh_size / shdr.sh_entsize;
    for (size_t i = 0; i < count; ++i) {
      GElf_Sym sym;
      if (!gelf_getsym(data, static_cast<int>(i), &sym)) continue;
      const char* n = elf_strptr(elf, shdr.sh_link, sym.st_name);
      if (n && name == n) {
        *out = {sym.st_value, sym.st_size};
        found = true;
        break;
      }
    }
  }
  elf_end(elf);
  return found;
}

bool ProcessGone(pid_t pid) {
  struct stat st;
  return stat(("/proc/" + std::to_string(pid)).c_str(), &st) != 0;
}

struct Capture {
  pid_t pid = 0;
  pid_t fault_tid = 0;
  long printed_tid = 0;  // what the fixture said its crashing thread was
  siginfo_t info{};
  CrashReport report;
  std::string signature;
};

// Runs capture_crasher to its fatal signal, stops every thread, unwinds them (faulting thread first) and
// kills and reaps the process.
void CaptureCrash(const std::string& lib, const std::string& site, int thread, Capture* c) {
  TestTracee t;
  std::string err;
  ASSERT_TRUE(t.Start({kFixtures + "capture_crasher", lib, site, std::to_string(thread)}, &err)) << err;
  c->pid = t.pid();
  t.Go();
  ASSERT_EQ(t.Pump(60, nullptr, &c->fault_tid, &c->info), TestTracee::Stop::kFatalSignal) << t.output();
  ASSERT_TRUE(t.StopAll(c->fault_tid, &err)) << err;
  std::istringstream out(t.output());
  std::string word;
  out >> word >> c->printed_tid;
  ASSERT_EQ(word, "crash-tid") << t.output();
  c->report.signal = c->info.si_signo;
  c->report.si_code = c->info.si_code;
  c->report.fault_address = reinterpret_cast<uint64_t>(c->info.si_addr);
  c->report.has_fault_address = c->info.si_signo == SIGSEGV || c->info.si_signo == SIGBUS;
  c->report.faulting_tid = c->fault_tid;
  c->report.method = "ptrace";
  ASSERT_TRUE(UnwindStoppedThreads(t.pid(), t.Threads(c->fault_tid), &c->report, &err)) << err;
  c->signature = CrashSignature(c->report);
  t.Kill();
  EXPECT_TRUE(ProcessGone(c->pid)) << "tracee " << c->pid << " left behind";
}

// /proc/PID/task/TID/stat's state letter, 0 when unreadable.
char TaskState(pid_t pid, long tid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/task/" + std::to_string(tid) + "/stat");
  std::string line;
  std::getline(stat, line);
  size_t paren = line.rfind(')');
  return paren != std::string::npos && paren + 2 < line.size() ? line[paren + 2] : 0;
}

std::vector<long> WorkerTids(const std::string& output) {
  std::istringstream out(output);
  std::vector<long> tids;
  std::string word;
  long tid;
  while (out >> word >> tid) {
    if (word == "worker-tid") tids.push_back(tid);
  }
  return tids;
}

// capture_cgfx's crash below cgfx_api_entry, captured and annotated as the supervisor does.
void CaptureCgfxCrash(const std::string& lib, Capture* c) {
  TestTracee t;
  std::string err;
  ASSERT_TRUE(t.Start({kFixtures + "capture_cgfx", lib, "crash"}, &err)) << err;
  c->pid = t.pid();
  t.Go();
  ASSERT_EQ(t.Pump(60, nullptr, &c->fault_tid, &c->info), TestTracee::Stop::kFatalSignal) << t.output();
  ASSERT_TRUE(t.StopAll(c->fault_tid, &err)) << err;
  c->report.signal = c->info.si_signo;
  c->report.si_code = c->info.si_code;
  c->report.fault_address = reinterpret_cast<uint64_t>(c->info.si_addr);
  c->report.has_fault_address = true;
  c->report.faulting_tid = c->fault_tid;
  ASSERT_TRUE(UnwindStoppedThreads(t.pid(), t.Threads(c->fault_tid), &c->report, &err)) << err;
  AnnotateReport(&c->report, /*hang=*/false);
  c->signature = CrashSignature(c->report);
  t.Kill();
  EXPECT_TRUE(ProcessGone(c->pid));
}

struct HangCapture {
  pid_t pid = 0;
  std::vector<long> workers;
  CrashReport report;
  std::string signature;
};

// capture_cgfx with main holding libcgfx's lock and one worker per entry of `points` ("a" or "b") blocked
// on it inside cgfx_api_entry; thread states are read before the threads are stopped, as a capture does.
void CaptureCgfxHang(const std::vector<std::string>& points, HangCapture* c) {
  TestTracee t;
  std::string err;
  std::vector<std::string> argv = {kFixtures + "capture_cgfx", kCgfxLib};
  argv.insert(argv.end(), points.begin(), points.end());
  ASSERT_TRUE(t.Start(argv, &err)) << err;
  c->pid = t.pid();
  t.Go();
  pid_t pid = c->pid;
  auto all_blocked = [&] {
    c->workers = WorkerTids(t.output());
    if (c->workers.size() != points.size()) return false;
    for (long tid : c->workers) {
      if (TaskState(pid, tid) != 'S') return false;
    }
    return true;
  };
  ASSERT_EQ(t.Pump(60, all_blocked), TestTracee::Stop::kCondition) << t.output();
  std::map<pid_t, char> states;
  for (pid_t tid : t.Threads()) states[tid] = TaskState(pid, tid);
  ASSERT_TRUE(t.StopAll(0, &err)) << err;
  ASSERT_TRUE(UnwindStoppedThreads(pid, t.Threads(), &c->report, &err)) << err;
  for (ThreadStack& th : c->report.threads) th.state = states[th.tid];
  AnnotateReport(&c->report, /*hang=*/true);
  c->signature = HangSignature(c->report);
  t.Kill();
  EXPECT_TRUE(ProcessGone(pid));
}

// Offset of the innermost libcgfx frame of a thread, 0 if it has none.
uint64_t InnermostCgfxOffset(const ThreadStack& t) {
  for (const Frame& f : t.frames) {
    if (f.module == kCgfxLib) return f.offset;
  }
  return 0;
}

bool EndsWithDeadlock(const std::string& path) {
  const std::string tail = "/capture_deadlock";
  return path.size() >= tail.size() && path.compare(path.size() - tail.size(), tail.size(), tail) == 0;
}

bool StackHasSymbol(const ThreadStack& t, const std::string& needle) {
  for (const auto& f : t.frames) {
    if (f.symbol.find(needle) != std::string::npos) return true;
  }
  return false;
}

TEST(Unwind, CrashInStrippedLibraryIsNamedByModuleAndOffset) {
  Capture c;
  ASSERT_NO_FATAL_FAILURE(CaptureCrash(kStrippedLib, "call_hidden", 5, &c));
  EXPECT_EQ(c.info.si_signo, SIGSEGV);
  EXPECT_EQ(c.fault_tid, c.printed_tid);
  ASSERT_EQ(c.report.threads.size(), 17u);  // 16 workers and main
  const ThreadStack& f = c.report.threads[0];
  EXPECT_TRUE(f.faulting);
  EXPECT_EQ(f.tid, c.printed_tid);
  EXPECT_EQ(f.name, "capture_crasher");
  EXPECT_EQ(c.report.faulting_thread_name, "capture_crasher");
  ASSERT_GE(f.frames.size(), 4u);
  EXPECT_EQ(f.error, "");

  SymbolRange hidden;
  ASSERT_TRUE(LookupSymtab(kUnstrippedLib, "victim_hidden_fault", &hidden));
  const Frame& top = f.frames[0];
  EXPECT_EQ(top.module, kStrippedLib);
  EXPECT_EQ(top.symbol, "");  // static function: no .dynsym entry, .symtab stripped
  EXPECT_GE(top.offset, hidden.value);
  EXPECT_LT(top.offset, hidden.value + hidden.size);
  EXPECT_EQ(top.build_id.size(), 40u);
  EXPECT_FALSE(top.exported);
  EXPECT_EQ(f.frames[1].symbol, "victim_call_hidden");  // exported: still in .dynsym
  EXPECT_TRUE(f.frames[1].exported);
  EXPECT_EQ(f.frames[2].symbol, "crasher_enter_library");
  EXPECT_FALSE(f.frames[2].exported);  // static in the executable
  EXPECT_EQ(f.frames[3].symbol, "worker");

  char expected_top[64];
  snprintf(expected_top, sizeof expected_top, "libcapture_victim.so@%#lx", static_cast<unsigned long>(top.offset));
  EXPECT_EQ(c.signature, std::string("SIGSEGV/SEGV_MAPERR null | ") + expected_top +
                             " | victim_call_hidden | crasher_enter_library via victim_call_hidden");
  for (size_t i = 1; i < c.report.threads.size(); ++i) {
    const ThreadStack& other = c.report.threads[i];
    EXPECT_FALSE(other.faulting);
    EXPECT_FALSE(other.frames.empty()) << other.error;
    EXPECT_FALSE(StackHasSymbol(other, "victim_")) << "thread " << other.tid;
  }
}

TEST(Unwind, UnstrippedLibraryGivesTheStaticFunctionsName) {
  Capture c;
  ASSERT_NO_FATAL_FAILURE(CaptureCrash(kUnstrippedLib, "call_hidden", 9, &c));
  EXPECT_EQ(c.fault_tid, c.printed_tid);
  const Frame& top = c.report.threads.at(0).frames.at(0);
  EXPECT_EQ(top.symbol, "victim_hidden_fault");
  EXPECT_FALSE(top.exported);  // named through .symtab, absent from .dynsym
  EXPECT_TRUE(c.report.threads.at(0).frames.at(1).exported);
  SymbolRange hidden;
  ASSERT_TRUE(LookupSymtab(kUnstrippedLib, "victim_hidden_fault", &hidden));
  EXPECT_EQ(top.offset, hidden.value + top.symbol_offset);
  EXPECT_EQ(c.signature,
            "SIGSEGV/SEGV_MAPERR null | victim_hidden_fault | victim_call_hidden | crasher_enter_library"
            " via victim_call_hidden");
}

TEST(Unwind, SameSiteFromDifferentThreadsGivesOneSignature) {
  Capture a, b;
  ASSERT_NO_FATAL_FAILURE(CaptureCrash(kStrippedLib, "null_read", 2, &a));
  ASSERT_NO_FATAL_FAILURE(CaptureCrash(kStrippedLib, "null_read", 13, &b));
  EXPECT_EQ(a.fault_tid, a.printed_tid);
  EXPECT_EQ(b.fault_tid, b.printed_tid);
  EXPECT_EQ(a.signature, b.signature);
  EXPECT_EQ(a.signature,
            "SIGSEGV/SEGV_MAPERR null | victim_null_read | crasher_enter_library | worker via victim_null_read");
}

TEST(Unwind, TwoCrashSitesGiveTwoSignatures) {
  Capture a, b;
  ASSERT_NO_FATAL_FAILURE(CaptureCrash(kStrippedLib, "null_read", 4, &a));
  ASSERT_NO_FATAL_FAILURE(CaptureCrash(kStrippedLib, "null_write", 4, &b));
  EXPECT_NE(a.signature, b.signature);
  EXPECT_EQ(b.signature,
            "SIGSEGV/SEGV_MAPERR null | victim_null_write | crasher_enter_library | worker via victim_null_write");
}

TEST(Unwind, NullPageAndWildAddressFaultsAreToldApart) {
  Capture null_fault, wild_fault;
  ASSERT_NO_FATAL_FAILURE(CaptureCrash(kStrippedLib, "null_write", 1, &null_fault));
  ASSERT_NO_FATAL_FAILURE(CaptureCrash(kStrippedLib, "wild_write", 1, &wild_fault));
  EXPECT_EQ(null_fault.report.fault_address, 0x20u);
  EXPECT_EQ(wild_fault.report.fault_address, 0x100000000000u);
  EXPECT_EQ(wild_fault.signature,
            "SIGSEGV/SEGV_MAPERR wild | victim_wild_write | crasher_enter_library | worker via victim_wild_write");
  EXPECT_NE(null_fault.signature.find(" null |"), std::string::npos) << null_fault.signature;
}

TEST(Unwind, AbortGivesSigabrtSignatureWithoutAbortFrames) {
  Capture c;
  ASSERT_NO_FATAL_FAILURE(CaptureCrash(kStrippedLib, "abort", 7, &c));
  EXPECT_EQ(c.info.si_signo, SIGABRT);
  EXPECT_EQ(c.fault_tid, c.printed_tid);
  // The full stack keeps libc's abort path; the signature starts at the code that called abort().
  EXPECT_TRUE(StackHasSymbol(c.report.threads.at(0), "abort"));
  EXPECT_EQ(c.signature, "SIGABRT/SI_TKILL | victim_abort | crasher_enter_library | worker via victim_abort");
}

TEST(Unwind, DeadlockedThreadsAreShownInsideTheirLockingFunctions) {
  TestTracee t;
  std::string err;
  ASSERT_TRUE(t.Start({kFixtures + "capture_deadlock"}, &err)) << err;
  pid_t pid = t.pid();
  t.Go();
  long a_tid = 0, b_tid = 0;
  // Both announced and then asleep: blocked in the futex of their second lock.
  auto asleep = [pid](long tid) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/task/" + std::to_string(tid) + "/stat");
    std::string line;
    std::getline(stat, line);
    size_t paren = line.rfind(')');
    return paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] == 'S';
  };
  auto deadlocked = [&] {
    std::istringstream out(t.output());
    std::string word;
    long tid;
    while (out >> word >> tid) {
      if (word == "a-tid") a_tid = tid;
      if (word == "b-tid") b_tid = tid;
    }
    return a_tid && b_tid && asleep(a_tid) && asleep(b_tid);
  };
  ASSERT_EQ(t.Pump(60, deadlocked), TestTracee::Stop::kCondition) << t.output();
  ASSERT_TRUE(t.StopAll(0, &err)) << err;
  CrashReport report;
  report.method = "ptrace";
  ASSERT_TRUE(UnwindStoppedThreads(pid, t.Threads(), &report, &err)) << err;
  t.Kill();
  EXPECT_TRUE(ProcessGone(pid));

  ASSERT_EQ(report.threads.size(), 3u);
  for (const ThreadStack& th : report.threads) {
    if (th.tid != a_tid && th.tid != b_tid) continue;
    const char* fn = th.tid == a_tid ? "lock_a_then_b" : "lock_b_then_a";
    EXPECT_TRUE(StackHasSymbol(th, "pthread_mutex_lock")) << fn;
    std::vector<std::string> tokens = SignatureFrames(th);
    ASSERT_FALSE(tokens.empty());
    EXPECT_EQ(tokens.front(), fn);
  }
  // main waits in pthread_join: a consequence of the deadlock, left out of its signature.
  EXPECT_EQ(HangSignature(report), "hang | lock_a_then_b | lock_b_then_a");
}

TEST(Unwind, CrashBelowAnApiEntryOfAStrippedLibraryIsSignedViaTheEntry) {
  Capture c;
  ASSERT_NO_FATAL_FAILURE(CaptureCgfxCrash(kCgfxLib, &c));
  ASSERT_EQ(c.info.si_signo, SIGSEGV);
  const ThreadStack& f = c.report.threads.at(0);
  ASSERT_TRUE(f.faulting);
  ASSERT_GE(f.frames.size(), 4u);
  SymbolRange fault, dispatch;
  ASSERT_TRUE(LookupSymtab(kUnstrippedCgfxLib, "cgfx_fault", &fault));
  ASSERT_TRUE(LookupSymtab(kUnstrippedCgfxLib, "cgfx_dispatch", &dispatch));
  const Frame& top = f.frames[0];
  EXPECT_EQ(top.module, kCgfxLib);
  EXPECT_EQ(top.symbol, "");
  EXPECT_FALSE(top.exported);
  EXPECT_GE(top.offset, fault.value);
  EXPECT_LT(top.offset, fault.value + fault.size);
  EXPECT_EQ(f.frames[1].symbol, "");  // hidden: never in .dynsym
  EXPECT_GE(f.frames[1].offset, dispatch.value);
  EXPECT_LT(f.frames[1].offset, dispatch.value + dispatch.size);
  EXPECT_EQ(f.frames[2].symbol, "cgfx_api_entry");
  EXPECT_TRUE(f.frames[2].exported);
  EXPECT_EQ(f.frames[3].symbol, "call_library");
  EXPECT_EQ(f.api, "cgfx_api_entry");
  char expected[160];
  snprintf(expected, sizeof expected,
           "SIGSEGV/SEGV_MAPERR null | libcgfx.so@%#lx | libcgfx.so@%#lx | cgfx_api_entry via cgfx_api_entry",
           static_cast<unsigned long>(top.offset), static_cast<unsigned long>(f.frames[1].offset));
  EXPECT_EQ(c.signature, expected);
  snprintf(expected, sizeof expected, "libcgfx.so@%#lx via cgfx_api_entry", static_cast<unsigned long>(top.offset));
  EXPECT_EQ(CrashSummary(c.report), expected);
  // Threads that never entered the library have no API entry.
  for (size_t i = 1; i < c.report.threads.size(); ++i) EXPECT_EQ(c.report.threads[i].api, "");
}

TEST(Unwind, LocalAndHiddenFunctionsOfALibraryWithSymtabAreNotExported) {
  Capture c;
  ASSERT_NO_FATAL_FAILURE(CaptureCgfxCrash(kUnstrippedCgfxLib, &c));
  const ThreadStack& f = c.report.threads.at(0);
  ASSERT_GE(f.frames.size(), 3u);
  EXPECT_EQ(f.frames[0].symbol, "cgfx_fault");  // static
  EXPECT_FALSE(f.frames[0].exported);
  EXPECT_EQ(f.frames[1].symbol, "cgfx_dispatch");  // global but hidden
  EXPECT_FALSE(f.frames[1].exported);
  EXPECT_EQ(f.frames[2].symbol, "cgfx_api_entry");
  EXPECT_TRUE(f.frames[2].exported);
  EXPECT_EQ(c.signature, "SIGSEGV/SEGV_MAPERR null | cgfx_fault | cgfx_dispatch | cgfx_api_entry via cgfx_api_entry");
}

TEST(Unwind, OneStallUnderOneApiEntryGivesOneHangSignatureWhereverEachThreadWaits) {
  HangCapture same, mixed;
  ASSERT_NO_FATAL_FAILURE(CaptureCgfxHang({"a", "a"}, &same));
  ASSERT_NO_FATAL_FAILURE(CaptureCgfxHang({"a", "b"}, &mixed));
  // The blocked threads sit at different raw offsets inside the library: a signature built from them would
  // differ between the two trials.
  auto offsets = [](const HangCapture& h) {
    std::set<uint64_t> out;
    for (const ThreadStack& t : h.report.threads) {
      for (long w : h.workers) {
        if (t.tid == w) out.insert(InnermostCgfxOffset(t));
      }
    }
    return out;
  };
  EXPECT_EQ(offsets(same).size(), 1u);
  EXPECT_EQ(offsets(mixed).size(), 2u);
  EXPECT_EQ(offsets(same).count(0), 0u);
  EXPECT_EQ(same.signature, "hang | libcgfx.so via cgfx_api_entry");
  EXPECT_EQ(mixed.signature, same.signature);
  for (const HangCapture* h : {&same, &mixed}) {
    ASSERT_EQ(h->report.threads.size(), 3u);
    // The representative is a worker blocked inside the library, not main (waiting in pthread_join).
    const ThreadStack& rep = h->report.threads[0];
    EXPECT_EQ(rep.tid, h->report.representative_tid);
    EXPECT_NE(rep.tid, h->pid);
    EXPECT_TRUE(rep.tid == h->workers[0] || rep.tid == h->workers[1]) << rep.tid;
    EXPECT_EQ(rep.api, "cgfx_api_entry");
    EXPECT_EQ(WaitSite(rep), "libcgfx.so via cgfx_api_entry");
    EXPECT_EQ(CrashSummary(h->report), "blocked in libcgfx.so via cgfx_api_entry");
    for (const ThreadStack& t : h->report.threads) {
      if (t.tid == h->pid) {
        EXPECT_EQ(t.api, "");  // main took the lock earlier but has returned
      }
    }
  }
}

TEST(Unwind, ReportsAThreadThatCannotBeUnwound) {
  TestTracee t;
  std::string err;
  ASSERT_TRUE(t.Start({kFixtures + "capture_deadlock"}, &err)) << err;
  pid_t pid = t.pid();
  // Past exec and waiting for its start byte.
  auto waiting = [pid] {
    char exe[4096] = {};
    ssize_t n = readlink(("/proc/" + std::to_string(pid) + "/exe").c_str(), exe, sizeof exe - 1);
    return n > 0 && EndsWithDeadlock(exe);
  };
  ASSERT_EQ(t.Pump(60, waiting), TestTracee::Stop::kCondition);
  ASSERT_TRUE(t.StopAll(0, &err)) << err;
  CrashReport report;
  // A tid that is not a thread of the process: recorded with an error, the others still unwound.
  ASSERT_TRUE(UnwindStoppedThreads(pid, {pid, 999999999}, &report, &err)) << err;
  t.Kill();
  ASSERT_EQ(report.threads.size(), 2u);
  EXPECT_FALSE(report.threads[0].frames.empty()) << report.threads[0].error;
  EXPECT_TRUE(report.threads[1].frames.empty());
  EXPECT_NE(report.threads[1].error, "");
  EXPECT_TRUE(ProcessGone(pid));
}

TEST(Unwind, FailsWithAReasonForAProcessThatDoesNotExist) {
  CrashReport report;
  std::string err;
  EXPECT_FALSE(UnwindStoppedThreads(999999999, {999999999}, &report, &err));
  EXPECT_NE(err.find("999999999"), std::string::npos) << err;
  EXPECT_TRUE(report.threads.empty());
}

TEST(SymbolizeOffline, FillsSymbolsAndBuildIdFromModuleAndOffset) {
  SymbolRange hidden, exported;
  ASSERT_TRUE(LookupSymtab(kUnstrippedLib, "victim_hidden_fault", &hidden));
  ASSERT_TRUE(LookupSymtab(kUnstrippedLib, "victim_call_hidden", &exported));
  std::vector<Frame> frames(4);
  frames[0].module = kUnstrippedLib;  // the interrupted instruction
  frames[0].offset = hidden.value + 4;
  frames[1].module = kStrippedLib;  // a return address one past a call
  frames[1].offset = exported.value + 9;
  frames[2].module = kStrippedLib;
  frames[2].offset = hidden.value + 4;
  frames[3].module = "/nonexistent/libgone.so.1";
  frames[3].offset = 0x1234;
  SymbolizeOffline(&frames);
  EXPECT_EQ(frames[0].symbol, "victim_hidden_fault");
  EXPECT_EQ(frames[0].symbol_offset, 4u);
  EXPECT_EQ(frames[0].build_id.size(), 40u);
  EXPECT_FALSE(frames[0].exported);
  EXPECT_EQ(frames[1].symbol, "victim_call_hidden");
  EXPECT_EQ(frames[1].symbol_offset, 9u);
  EXPECT_TRUE(frames[1].exported);
  // strip keeps the build-id note: both copies are the same build.
  EXPECT_EQ(frames[1].build_id, frames[0].build_id);
  EXPECT_EQ(frames[2].symbol, "");
  EXPECT_EQ(frames[3].symbol, "");
  EXPECT_EQ(frames[3].build_id, "");
  EXPECT_EQ(frames[3].offset, 0x1234u);
}

}  // namespace
}  // namespace cg

#include "capture/signature.h"

#include <signal.h>

#include <gtest/gtest.h>

namespace cg {
namespace {

Frame Sym(const std::string& module, const std::string& symbol, uint64_t offset = 0x100) {
  Frame f;
  f.module = module;
  f.symbol = symbol;
  f.offset = offset;
  return f;
}

const char* kLibc = "/usr/lib/x86_64-linux-gnu/libc.so.6";
const char* kLd = "/lib64/ld-linux-x86-64.so.2";
const char* kVendor = "/usr/lib/x86_64-linux-gnu/libnvcuvid.so.1";
const char* kRefrace = "/opt/crashgrid/lib/libcrashgrid_refrace.so";
const char* kCrashgrid = "/opt/crashgrid/bin/crashgrid";

CrashReport Segv(uint64_t address, std::vector<Frame> frames) {
  CrashReport r;
  r.signal = SIGSEGV;
  r.si_code = SEGV_MAPERR;
  r.fault_address = address;
  r.has_fault_address = true;
  r.faulting_tid = 42;
  ThreadStack other;
  other.tid = 41;
  other.frames = {Sym(kVendor, "other_thread_fn")};
  ThreadStack t;
  t.tid = 42;
  t.faulting = true;
  t.frames = std::move(frames);
  r.threads = {other, t};  // the faulting thread is found by its flag, not its place
  return r;
}

TEST(Signature, NamesSymbolsAndCollapsesCrashgridRuntimeFrames) {
  CrashReport r = Segv(0x18, {Sym(kLibc, "__restore_rt"), Sym(kRefrace, "refrace_table_lookup"),
                              Sym(kRefrace, "refrace_session_open"), Sym(kCrashgrid, "cg::RunIteration"),
                              Sym(kCrashgrid, "cg::WorkerMain"), Sym(kLibc, "start_thread")});
  EXPECT_EQ(CrashSignature(r),
            "SIGSEGV/SEGV_MAPERR null | refrace_table_lookup | refrace_session_open | crashgrid");
}

TEST(Signature, FrameWithoutSymbolIsModuleBasenameAtOffset) {
  CrashReport r = Segv(0x7f0000001000, {Sym(kVendor, "", 0x1a2b), Sym(kVendor, "cuvidCreateDecoder"),
                                        Sym(kLd, "_dl_runtime_resolve"), Sym("/app/bin/player", "decode")});
  EXPECT_EQ(CrashSignature(r), "SIGSEGV/SEGV_MAPERR wild | libnvcuvid.so.1@0x1a2b | cuvidCreateDecoder | decode");
}

TEST(Signature, NullPageEndsAt64KiB) {
  std::vector<Frame> frames = {Sym(kVendor, "f")};
  EXPECT_EQ(CrashSignature(Segv(0, frames)), "SIGSEGV/SEGV_MAPERR null | f");
  EXPECT_EQ(CrashSignature(Segv(0xffff, frames)), "SIGSEGV/SEGV_MAPERR null | f");
  EXPECT_EQ(CrashSignature(Segv(0x10000, frames)), "SIGSEGV/SEGV_MAPERR wild | f");
}

TEST(Signature, SignalsWithoutAnAddressHaveNoAddressClass) {
  CrashReport r = Segv(0, {Sym(kLibc, "__pthread_kill_implementation"), Sym(kLibc, "raise"),
                           Sym(kLibc, "abort"), Sym(kVendor, "nvAssertFailed"), Sym("/app/p", "main")});
  r.signal = SIGABRT;
  r.si_code = SI_TKILL;
  EXPECT_EQ(CrashSignature(r), "SIGABRT/SI_TKILL | nvAssertFailed | main");
  // A SIGSEGV sent with kill(1) carries the sender's pid where the address would be.
  r.signal = SIGSEGV;
  r.si_code = SI_USER;
  r.fault_address = 0x1234;
  EXPECT_EQ(CrashSignature(r), "SIGSEGV/SI_USER | nvAssertFailed | main");
}

TEST(Signature, CppExceptionPathIsDroppedLikeLibc) {
  CrashReport r = Segv(0, {Sym(kLibc, "abort"), Sym("/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "std::terminate()"),
                           Sym("/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "__cxa_throw"),
                           Sym(kVendor, "Session::Open(int)"), Sym(kVendor, "", 0x40)});
  r.signal = SIGABRT;
  r.si_code = SI_TKILL;
  EXPECT_EQ(CrashSignature(r), "SIGABRT/SI_TKILL | Session::Open(int) | libnvcuvid.so.1@0x40");
}

TEST(Signature, CrashInsideTheRuntimeStillHasFrames) {
  CrashReport r = Segv(0x8, {Sym(kCrashgrid, "cg::Bug"), Sym(kCrashgrid, "cg::WorkerMain"), Sym(kLibc, "start_thread")});
  EXPECT_EQ(CrashSignature(r), "SIGSEGV/SEGV_MAPERR null | crashgrid");
}

TEST(Signature, NoSignalNoSignatureAndNoStackJustTheSignal) {
  CrashReport none;
  EXPECT_EQ(CrashSignature(none), "");
  CrashReport bare = Segv(0x8, {});
  bare.threads.clear();
  EXPECT_EQ(CrashSignature(bare), "SIGSEGV/SEGV_MAPERR null");
}

TEST(Signature, CodeNamesPerSignal) {
  EXPECT_EQ(SignalMacroName(SIGSEGV), "SIGSEGV");
  EXPECT_EQ(SignalMacroName(SIGBUS), "SIGBUS");
  EXPECT_EQ(SiCodeName(SIGSEGV, SEGV_ACCERR), "SEGV_ACCERR");
  EXPECT_EQ(SiCodeName(SIGBUS, BUS_ADRERR), "BUS_ADRERR");
  EXPECT_EQ(SiCodeName(SIGFPE, FPE_INTDIV), "FPE_INTDIV");
  EXPECT_EQ(SiCodeName(SIGILL, ILL_ILLOPN), "ILL_ILLOPN");
  EXPECT_EQ(SiCodeName(SIGABRT, SI_TKILL), "SI_TKILL");
  EXPECT_EQ(SiCodeName(SIGABRT, SI_USER), "SI_USER");
  EXPECT_EQ(SiCodeName(SIGSEGV, SI_KERNEL), "SI_KERNEL");
  EXPECT_EQ(SiCodeName(SIGSEGV, 77), "77");
}

TEST(HangSignature, DistinctTopFramesSortedAndCapped) {
  CrashReport r;
  auto thread = [](std::vector<Frame> frames) {
    ThreadStack t;
    t.frames = std::move(frames);
    return t;
  };
  r.threads = {
      thread({Sym(kLibc, "__futex_abstimed_wait"), Sym(kLibc, "pthread_join"), Sym(kCrashgrid, "cg::Run")}),
      thread({Sym(kLibc, "__lll_lock_wait"), Sym(kVendor, "zeta_lock"), Sym(kCrashgrid, "cg::WorkerMain")}),
      thread({Sym(kLibc, "__lll_lock_wait"), Sym(kVendor, "alpha_lock"), Sym(kCrashgrid, "cg::WorkerMain")}),
      thread({Sym(kLibc, "__lll_lock_wait"), Sym(kVendor, "alpha_lock"), Sym(kCrashgrid, "cg::WorkerMain")}),
  };
  EXPECT_EQ(HangSignature(r), "hang | alpha_lock | zeta_lock");
  for (const char* fn : {"b_fn", "c_fn", "d_fn", "e_fn"}) r.threads.push_back(thread({Sym(kVendor, fn)}));
  EXPECT_EQ(HangSignature(r), "hang | alpha_lock | b_fn | c_fn | d_fn");
}

TEST(HangSignature, OnlyRuntimeThreadsGiveCrashgrid) {
  CrashReport r;
  ThreadStack t;
  t.frames = {Sym(kLibc, "read"), Sym(kCrashgrid, "cg::Run")};
  r.threads = {t};
  EXPECT_EQ(HangSignature(r), "hang | crashgrid");
  EXPECT_EQ(HangSignature(CrashReport{}), "hang");
}

}  // namespace
}  // namespace cg

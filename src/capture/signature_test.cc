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

Frame Api(const std::string& module, const std::string& symbol, uint64_t offset = 0x200) {
  Frame f = Sym(module, symbol, offset);
  f.exported = true;
  return f;
}

const char* kCuda = "/usr/lib/x86_64-linux-gnu/libcuda.so.1";
const char* kApp = "/app/bin/player";
const char* kStdcxx = "/usr/lib/x86_64-linux-gnu/libstdc++.so.6";
const char* kAgent = "/opt/crashgrid/lib/libcrashgrid_agent.so";

ThreadStack Thread(int tid, char state, std::vector<Frame> frames) {
  ThreadStack t;
  t.tid = tid;
  t.state = state;
  t.frames = std::move(frames);
  return t;
}

// main of a C program: joined on its workers.
ThreadStack AppMainInJoin(int tid) {
  return Thread(tid, 'S', {Sym(kLibc, "__futex_abstimed_wait_common"), Sym(kLibc, "__pthread_clockjoin_ex"),
                           Sym(kApp, "main"), Sym(kLibc, "__libc_start_call_main"), Sym(kApp, "_start")});
}

// A worker blocked in libcuda under cuCtxCreate_v2, at an internal point given by its offset.
ThreadStack InCtxCreate(int tid, uint64_t offset) {
  return Thread(tid, 'S', {Sym(kLibc, "__lll_lock_wait"), Sym(kLibc, "pthread_mutex_lock"), Sym(kCuda, "", offset),
                           Sym(kCuda, "", offset + 0x300), Api(kCuda, "cuCtxCreate_v2"), Sym(kApp, "open_context"),
                           Sym(kLibc, "start_thread")});
}

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

TEST(Signature, GeneralProtectionFaultIsNeverANullDereference) {
  // SI_KERNEL (a non-canonical pointer): the kernel reports si_addr 0, which is no address at all.
  for (bool has_address : {false, true}) {
    CrashReport r = Segv(0, {Sym(kVendor, "f")});
    r.si_code = SI_KERNEL;
    r.has_fault_address = has_address;
    EXPECT_EQ(CrashSignature(r), "SIGSEGV/SI_KERNEL | f") << has_address;
  }
}

TEST(Signature, AppendsTheApiEntryOfTheFaultingThread) {
  CrashReport r = Segv(0x8, {Sym(kVendor, "", 0x17941), Sym(kVendor, "", 0x2000), Api(kVendor, "cuvidDestroyDecoder"),
                             Sym(kApp, "stop_decoder"), Sym(kApp, "worker")});
  EXPECT_EQ(CrashSignature(r),
            "SIGSEGV/SEGV_MAPERR null | libnvcuvid.so.1@0x17941 | libnvcuvid.so.1@0x2000 | cuvidDestroyDecoder"
            " via cuvidDestroyDecoder");
  r.threads[1].phase = "stop";
  EXPECT_EQ(CrashSummary(r), "libnvcuvid.so.1@0x17941 via cuvidDestroyDecoder, phase stop");
  // An annotated thread's api is used as it is.
  r.threads[1].api = "cuvidOther";
  EXPECT_EQ(CrashSummary(r), "libnvcuvid.so.1@0x17941 via cuvidOther, phase stop");
  // Without frames, the summary is the signal.
  CrashReport bare = Segv(0x8, {});
  bare.threads.clear();
  EXPECT_EQ(CrashSummary(bare), "SIGSEGV");
}

// The agent's table (AgentThreadCall) names the call each thread is in, the outer call with its state, and the
// frame below the agent's outermost wrapper; the signature then says `via` the call the agent saw, also where
// the stack alone shows no exported frame (a stripped library called back into the program).
TEST(ApiCalls, AnnotatesThreadsFromTheAgentTable) {
  CrashReport r = Segv(0x8, {Sym(kVendor, "", 0x17941), Sym(kAgent, "tracked_call"), Sym(kAgent, "tramp_003"),
                             Sym(kApp, "on_sync"), Sym(kLibc, "g_signal_emit"), Sym(kAgent, "tracked_call"),
                             Sym(kAgent, "gst_element_set_state"), Sym(kApp, "churn_once"), Sym(kApp, "main")});
  AgentThreadCall c;
  c.tid = 42;
  c.call = "cuvidDestroyDecoder";
  c.outer = "gst_element_set_state";
  c.outer_arg = 1;
  c.depth = 2;
  c.calls = 17;
  c.call_mono_ns = 1'000'000'000;
  AgentThreadCall idle;
  idle.tid = 41;
  idle.calls = 3;
  AgentThreadCall other_process;
  other_process.tid = 99;
  other_process.call = "cuInit";
  other_process.depth = 1;
  EXPECT_TRUE(AnnotateApiCalls({idle, c, other_process}, 3'500'000'000, &r));
  const ThreadStack& f = r.threads[1];
  EXPECT_EQ(f.api_call, "cuvidDestroyDecoder");
  EXPECT_EQ(f.api, "cuvidDestroyDecoder");
  EXPECT_EQ(f.api_outer, "gst_element_set_state(NULL)");
  EXPECT_EQ(f.api_caller, "churn_once");
  EXPECT_EQ(f.api_calls, 17);
  EXPECT_DOUBLE_EQ(f.api_call_s, 2.5);
  EXPECT_EQ(r.threads[0].api_call, "") << "in no call";
  EXPECT_EQ(r.threads[0].api_calls, 3);
  EXPECT_EQ(r.threads[0].api_outer, "");
  EXPECT_NE(CrashSignature(r).find(" via cuvidDestroyDecoder"), std::string::npos) << CrashSignature(r);
  // A call that is its own outer call: no "under" text.
  CrashReport one = Segv(0x8, {Sym(kVendor, "", 0x10), Sym(kAgent, "tracked_call"), Sym(kApp, "teardown")});
  c.outer = c.call;
  c.depth = 1;
  EXPECT_TRUE(AnnotateApiCalls({c}, 0, &one));
  EXPECT_EQ(one.threads[1].api_outer, "");
  EXPECT_EQ(one.threads[1].api_caller, "teardown");
  EXPECT_EQ(one.threads[1].api_call_s, 0) << "no stop time given";
  EXPECT_FALSE(AnnotateApiCalls({}, 0, &one));
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

TEST(ThreadApi, OutermostExportedFrameOfTheInnermostForeignRun) {
  ThreadStack t = Thread(1, 'S', {Sym(kLibc, "read"), Sym(kCuda, "", 0x10), Api(kCuda, "cuInternalExported"),
                                  Sym(kCuda, "", 0x20), Api(kCuda, "cuCtxCreate_v2"), Sym(kApp, "main")});
  EXPECT_EQ(ThreadApi(t), "cuCtxCreate_v2");
  // libnvcuvid calling into libcuda: the innermost library is the one the thread is in.
  t = Thread(1, 'S', {Sym(kCuda, "", 0x10), Api(kCuda, "cuCtxSynchronize"), Sym(kVendor, "", 0x30),
                      Api(kVendor, "cuvidDestroyDecoder"), Sym(kApp, "stop")});
  EXPECT_EQ(ThreadApi(t), "cuCtxSynchronize");
}

TEST(ThreadApi, RunWithoutAnExportedFrameTakesTheNearestOneFurtherOutInTheSameModule) {
  // A callback into the program from inside libcuda, the program blocked back in libcuda without a name.
  ThreadStack t = Thread(1, 'S', {Sym(kCuda, "", 0x10), Sym(kApp, "on_event"), Sym(kCuda, "", 0x40),
                                  Api(kCuda, "cuStreamSynchronize"), Api(kCuda, "cuOuter"), Sym(kApp, "main")});
  EXPECT_EQ(ThreadApi(t), "cuStreamSynchronize");
  // No exported frame of the module anywhere: no API (NVENC-style function tables).
  t = Thread(1, 'S', {Sym(kCuda, "", 0x10), Sym(kCuda, "", 0x20), Sym(kApp, "encode"), Sym(kLibc, "start_thread")});
  EXPECT_EQ(ThreadApi(t), "");
}

TEST(ThreadApi, RuntimeLibrariesExecutablesAndCrashgridAreNeverTheApi) {
  // Exported libc and libstdc++ functions at the top are skipped; an exported executable symbol
  // (-rdynamic) and the crashgrid runtime are not foreign libraries.
  ThreadStack t = Thread(1, 'S', {Api(kLibc, "pthread_cond_wait"), Api(kStdcxx, "std::condition_variable::wait"),
                                  Api(kApp, "player_api"), Api(kCrashgrid, "cg::WorkerMain"),
                                  Api(kLibc, "start_thread")});
  EXPECT_EQ(ThreadApi(t), "");
  t.frames.insert(t.frames.begin() + 2, Api(kVendor, "cuvidDecodePicture"));
  EXPECT_EQ(ThreadApi(t), "cuvidDecodePicture");
  // The preloaded agent's interposer between the program and the library is crashgrid's, not the API.
  t = Thread(1, 'S', {Api(kAgent, "pthread_mutex_lock"), Sym(kVendor, "", 0x10), Api(kVendor, "cuvidCreateDecoder"),
                      Sym(kApp, "open")});
  EXPECT_EQ(ThreadApi(t), "cuvidCreateDecoder");
  // qsort calling back into the library does not end the library's run.
  t = Thread(1, 'R', {Sym(kVendor, "", 0x10), Sym(kLibc, "qsort"), Sym(kVendor, "", 0x50),
                      Api(kVendor, "cuvidParseVideoData"), Sym(kApp, "parse")});
  EXPECT_EQ(ThreadApi(t), "cuvidParseVideoData");
}

TEST(AnnotateReport, FillsEveryThreadsApiAndLeavesACrashInItsOrder) {
  CrashReport r = Segv(0x8, {Sym(kVendor, "", 0x17941), Api(kVendor, "cuvidDestroyDecoder"), Sym(kApp, "stop")});
  AnnotateReport(&r, /*hang=*/false);
  EXPECT_EQ(r.threads[0].tid, 41);
  EXPECT_EQ(r.threads[0].api, "");  // other_thread_fn is not exported
  EXPECT_EQ(r.threads[1].api, "cuvidDestroyDecoder");
  EXPECT_EQ(r.representative_tid, 0);
}

TEST(AnnotateReport, HangRepresentativeIsABlockedWorkerInsideAForeignLibraryPutFirst) {
  CrashReport r;
  ThreadStack spinning = InCtxCreate(101, 0x1000);
  spinning.state = 'R';
  ThreadStack app_lock =
      Thread(102, 'S', {Sym(kLibc, "__lll_lock_wait"), Sym(kApp, "lock_b"), Sym(kLibc, "start_thread")});
  r.threads = {AppMainInJoin(100), spinning, app_lock, InCtxCreate(103, 0x2000), InCtxCreate(104, 0x3000)};
  AnnotateReport(&r, /*hang=*/true);
  EXPECT_EQ(r.representative_tid, 103);
  ASSERT_EQ(r.threads.size(), 5u);
  EXPECT_EQ(r.threads[0].tid, 103);
  EXPECT_EQ(r.threads[0].api, "cuCtxCreate_v2");
  // The others keep their order.
  EXPECT_EQ(r.threads[1].tid, 100);
  EXPECT_EQ(r.threads[2].tid, 101);
  EXPECT_EQ(r.threads[3].tid, 102);
  EXPECT_EQ(r.threads[4].tid, 104);
  EXPECT_EQ(CrashSummary(r), "blocked in libcuda.so.1 via cuCtxCreate_v2");
  r.threads[0].phase = "open";
  EXPECT_EQ(CrashSummary(r), "blocked in libcuda.so.1 via cuCtxCreate_v2, phase open");
}

TEST(AnnotateReport, MainInsideALibraryBeatsAnApplicationLockButNotAWorkerInALibrary) {
  ThreadStack main_in_cuda = InCtxCreate(100, 0x1000);
  main_in_cuda.frames.push_back(Sym(kLibc, "__libc_start_call_main"));
  ThreadStack app_lock =
      Thread(102, 'S', {Sym(kLibc, "__lll_lock_wait"), Sym(kApp, "lock_b"), Sym(kLibc, "start_thread")});
  CrashReport r;
  r.threads = {app_lock, main_in_cuda};
  AnnotateReport(&r, true);
  EXPECT_EQ(r.representative_tid, 100);
  r.threads.push_back(InCtxCreate(105, 0x2000));
  AnnotateReport(&r, true);
  EXPECT_EQ(r.representative_tid, 105);
  // Without a worker inside a library, an application deadlock's worker beats main in join.
  CrashReport deadlock;
  deadlock.threads = {AppMainInJoin(100), app_lock};
  AnnotateReport(&deadlock, true);
  EXPECT_EQ(deadlock.representative_tid, 102);
  EXPECT_EQ(CrashSummary(deadlock), "blocked in lock_b");
}

TEST(AnnotateReport, WithoutStartFramesTheSmallestTidIsMain) {
  // Truncated stacks: no __libc_start_call_main anywhere. Both threads blocked in libcuda; 200 is main.
  ThreadStack a = InCtxCreate(200, 0x1000), b = InCtxCreate(201, 0x2000);
  CrashReport r;
  r.threads = {a, b};
  AnnotateReport(&r, true);
  EXPECT_EQ(r.representative_tid, 201);
  EXPECT_EQ(r.threads[0].tid, 201);
}

TEST(AnnotateReport, RuntimeOnlyThreadsFallBackToTheFirstThread) {
  CrashReport r;
  r.threads = {Thread(7, 'S', {Sym(kLibc, "read"), Sym(kCrashgrid, "cg::Run")}),
               Thread(8, 'S', {Sym(kLibc, "__futex_abstimed_wait_common"), Sym(kCrashgrid, "cg::WorkerMain")})};
  AnnotateReport(&r, true);
  EXPECT_EQ(r.representative_tid, 7);
  EXPECT_EQ(CrashSummary(r), "blocked in crashgrid");
  CrashReport empty;
  AnnotateReport(&empty, true);
  EXPECT_EQ(empty.representative_tid, 0);
  EXPECT_EQ(CrashSummary(empty), "hang");
}

TEST(HangSignature, OneStallAtDifferentRawOffsetsGivesOneSignature) {
  CrashReport a, b;
  a.threads = {AppMainInJoin(100), InCtxCreate(101, 0x1000), InCtxCreate(102, 0x1000)};
  b.threads = {AppMainInJoin(300), InCtxCreate(301, 0x2000), InCtxCreate(302, 0x5000), InCtxCreate(303, 0x7000)};
  EXPECT_EQ(HangSignature(a), "hang | libcuda.so.1 via cuCtxCreate_v2");
  EXPECT_EQ(HangSignature(b), HangSignature(a));
  AnnotateReport(&b, true);  // annotated or not, the same
  EXPECT_EQ(HangSignature(b), HangSignature(a));
}

TEST(HangSignature, WaitSitesSortedDedupedAndBounded) {
  CrashReport r;
  r.threads = {
      Thread(1, 'S', {Sym(kLibc, "__lll_lock_wait"), Sym(kApp, "zeta_lock"), Sym(kLibc, "start_thread")}),
      Thread(2, 'D', {Sym(kVendor, "", 0x10), Api(kVendor, "cuvidDestroyDecoder"), Sym(kCrashgrid, "cg::WorkerMain")}),
      InCtxCreate(3, 0x100),
      Thread(4, 'S', {Sym(kCuda, "", 0x10), Sym(kApp, "encode")}),  // no API entry: named by its caller
      // Running threads are not waiting anywhere.
      Thread(5, 'R', {Sym(kApp, "busy_loop")}),
  };
  EXPECT_EQ(HangSignature(r),
            "hang | libcuda.so.1 from encode | libcuda.so.1 via cuCtxCreate_v2 | libnvcuvid.so.1 via "
            "cuvidDestroyDecoder | zeta_lock");
  r.threads.push_back(Thread(6, 0, {Sym(kApp, std::string(300, 'x'))}));  // state unknown counts as blocked
  std::string sig = HangSignature(r);
  EXPECT_EQ(sig, "hang | libcuda.so.1 from encode | libcuda.so.1 via cuCtxCreate_v2 | libnvcuvid.so.1 via "
                 "cuvidDestroyDecoder | " + std::string(120, 'x'));
  // Only running threads: they are what there is.
  CrashReport spin;
  spin.threads = {Thread(5, 'R', {Sym(kApp, "busy_loop")})};
  EXPECT_EQ(HangSignature(spin), "hang | busy_loop");
}

TEST(HangSignature, LibraryOwnAndRuntimeThreadsOnlyWhenNothingElseWaits) {
  // A driver's idle worker (no program frame) and main in join are there in every hang.
  ThreadStack driver =
      Thread(9, 'S', {Sym(kLibc, "pthread_cond_wait"), Sym(kCuda, "", 0x900), Sym(kLibc, "start_thread")});
  ThreadStack runtime_main =
      Thread(1, 'S', {Sym(kLibc, "__futex_abstimed_wait_common"), Sym(kStdcxx, "std::thread::join()"),
                      Sym(kCrashgrid, "cg::RunWorkload"), Sym(kLibc, "__libc_start_call_main")});
  CrashReport r;
  r.threads = {runtime_main, driver,
               Thread(2, 'S', {Sym(kLibc, "__lll_lock_wait"), Sym(kApp, "lock_b"), Sym(kLibc, "start_thread")})};
  EXPECT_EQ(HangSignature(r), "hang | lock_b");
  r.threads.pop_back();
  EXPECT_EQ(HangSignature(r), "hang | libcuda.so.1");
  r.threads.pop_back();
  EXPECT_EQ(HangSignature(r), "hang | crashgrid");
  // A C program's main in pthread_join is runtime-only too.
  r.threads = {AppMainInJoin(1)};
  EXPECT_EQ(HangSignature(r), "hang | main");
  r.threads.push_back(InCtxCreate(2, 0x10));
  EXPECT_EQ(HangSignature(r), "hang | libcuda.so.1 via cuCtxCreate_v2");
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

// The agent's API-call tracking, end to end: the call each thread was in reaches the stored report, the
// signature and `show`, for the three ways programs reach the NVIDIA libraries (direct binding, dlopen/dlsym,
// cuGetProcAddress and the NVENC table: a fake library with the same entry points) and for real GStreamer.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "harness.h"
#include "store/store.h"
#include "trial/trial.h"

namespace cg::test {
namespace {

std::string FakeCuda() { return std::string(CRASHGRID_BINARY_DIR) + "/fixtures/fakecuda/libcuda.so.1"; }

// One --exec trial of `program` with `env`; its stored result.
TrialResult RunOne(const std::string& name, const std::vector<std::string>& program, const Env& env,
                   std::string* db_out = nullptr) {
  std::string db = TestDir() + "/" + name + ".db";
  std::vector<std::string> args = {"sweep", "--runs", "1", "--duration", "2s", "--grace", "1s",
                                   "--db", db, "--no-live", "--format", "none", "--exec", "--"};
  args.insert(args.end(), program.begin(), program.end());
  CmdResult r = RunCrashgrid(args, 240, env);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto trials = LoadNewestRunTrials(db);
  if (db_out) *db_out = db;
  if (trials.size() != 1u) {
    ADD_FAILURE() << "expected one trial in " << db;
    return {};
  }
  return trials[0].result;
}

const ThreadStack* ThreadNamed(const CrashReport& r, const std::string& name) {
  for (const ThreadStack& t : r.threads) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

// A crash in one decoder thread while the other threads are inside their calls: every thread's call is named,
// whichever way the program reached it.
TEST(ApiCalls, CrashReportNamesTheCallEachThreadIsIn) {
  TrialResult t = RunOne("crash", {FixturePath("api_fake_cuda"), FakeCuda(), "30"},
                         {{"FAKECUDA_HANG_IN", "cuCtxSynchronize,nvEncEncodePicture"},
                          {"FAKECUDA_CRASH_IN", "cuvidDecodePicture"},
                          {"FAKECUDA_CRASH_AFTER_HANGING", "2"}});
  ASSERT_EQ(t.outcome, Outcome::kCrashed) << t.detail;
  ASSERT_TRUE(t.report.has_value()) << t.detail;
  const CrashReport& r = *t.report;
  ASSERT_FALSE(r.threads.empty());
  EXPECT_TRUE(r.threads[0].faulting);
  EXPECT_EQ(r.threads[0].api_call, "cuvidDecodePicture") << "dlsym'd";
  EXPECT_EQ(r.threads[0].api_caller, "decoder");
  EXPECT_GE(r.threads[0].api_calls, 2) << "cuvidCreateDecoder, then cuvidDecodePicture";
  const ThreadStack* ctx = ThreadNamed(r, "ctx");
  ASSERT_NE(ctx, nullptr);
  EXPECT_EQ(ctx->api_call, "cuCtxSynchronize") << "reached through cuGetProcAddress";
  EXPECT_EQ(ctx->api_caller, "ctx");
  const ThreadStack* enc = ThreadNamed(r, "enc");
  ASSERT_NE(enc, nullptr);
  EXPECT_EQ(enc->api_call, "nvEncEncodePicture") << "reached through the NVENC function table";
  const ThreadStack* main = ThreadNamed(r, "api_fake_cuda");
  ASSERT_NE(main, nullptr);
  EXPECT_EQ(main->api_call, "") << "main waits in pthread_join, in no call";
  EXPECT_EQ(main->api_calls, 1) << "cuInit";
  EXPECT_NE(t.signature.find("via cuvidDecodePicture"), std::string::npos) << t.signature;
}

// A hang: the stalled threads are each in their call, read after the trial was killed.
TEST(ApiCalls, HangReportNamesTheCallEachThreadIsIn) {
  TrialResult t = RunOne("hang", {FixturePath("api_fake_cuda"), FakeCuda(), "30"},
                         {{"FAKECUDA_HANG_IN", "cuCtxSynchronize,nvEncEncodePicture,cuvidDestroyDecoder"}});
  ASSERT_EQ(t.outcome, Outcome::kHung) << t.detail;
  ASSERT_TRUE(t.report.has_value()) << t.detail;
  const CrashReport& r = *t.report;
  int decoders = 0;
  for (const ThreadStack& th : r.threads) {
    if (th.name == "dec0" || th.name == "dec1") {
      ++decoders;
      EXPECT_EQ(th.api_call, "cuvidDestroyDecoder") << th.name;
      EXPECT_GT(th.api_call_s, 0) << th.name;
    }
  }
  EXPECT_EQ(decoders, 2);
  ASSERT_NE(ThreadNamed(r, "ctx"), nullptr);
  EXPECT_EQ(ThreadNamed(r, "ctx")->api_call, "cuCtxSynchronize");
  ASSERT_NE(ThreadNamed(r, "enc"), nullptr);
  EXPECT_EQ(ThreadNamed(r, "enc")->api_call, "nvEncEncodePicture");
}

// A program linked against the library: its PLT calls reach the agent's exports first.
TEST(ApiCalls, DirectlyBoundCallsAreTracked) {
  TrialResult t = RunOne("linked", {FixturePath("api_fake_cuda_linked")},
                         {{"FAKECUDA_CRASH_IN", "cuvidDestroyDecoder"}});
  ASSERT_EQ(t.outcome, Outcome::kCrashed) << t.detail;
  ASSERT_TRUE(t.report.has_value());
  ASSERT_FALSE(t.report->threads.empty());
  EXPECT_EQ(t.report->threads[0].api_call, "cuvidDestroyDecoder");
  EXPECT_EQ(t.report->threads[0].api_caller, "teardown");
  EXPECT_EQ(t.report->threads[0].api_calls, 2) << "cuInit and cuvidDestroyDecoder";
}

// A tracked call that takes a struct larger than the register arguments by value (CUeglFrame, 64 bytes, passed
// on the stack): the wrappers hand it on intact on every path a program reaches the call by, and under
// --serialize too. With a wrapper that forwarded too few words (the agent before 2026-12-04), the real
// driver refused every frame (cuEGLStreamProducerPresentFrame: CUDA_ERROR_INVALID_VALUE, the eglstream
// workload on the H200) and the fake here returns 1 the same way.
TEST(ApiCalls, AStructPassedByValueReachesTheLibraryIntact) {
  for (const std::string serialize : {"none", "egl-stream"}) {
    std::string db = TestDir() + "/eglframe-" + serialize + ".db";
    CmdResult r = RunCrashgrid({"sweep", "--runs", "1", "--duration", "5s", "--db", db, "--no-live", "--format",
                                "none", "--serialize", serialize, "--progress-api", "cuEGLStreamProducerPresentFrame",
                                "--exec", "--", FixturePath("api_egl_frame"), FakeCuda()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto trials = LoadNewestRunTrials(db);
    ASSERT_EQ(trials.size(), 1u);
    const TrialResult& t = trials[0].result;
    EXPECT_EQ(t.outcome, Outcome::kClean) << serialize << ": " << t.detail << t.stderr_tail;
    EXPECT_EQ(t.iterations, 3) << serialize << ": all three calls went through the agent's wrappers";
  }
}

// Real GStreamer: the crash inside a call made from a state change reads "in X, under
// gst_element_set_state(NULL) from the program's function", in the stored report and in `show`.
TEST(ApiCalls, GStreamerStateChangeIsTheOuterCall) {
  std::string db;
  TrialResult t = RunOne("gst", {FixturePath("api_gst_churn"), "6", FakeCuda()},
                         {{"CHURN_CRASH_AT", "3"}, {"FAKECUDA_CRASH_IN", "cuvidDestroyDecoder"}}, &db);
  ASSERT_EQ(t.outcome, Outcome::kCrashed) << t.detail;
  ASSERT_TRUE(t.report.has_value());
  const ThreadStack& f = t.report->threads.at(0);
  EXPECT_EQ(f.api_call, "cuvidDestroyDecoder");
  EXPECT_EQ(f.api_outer, "gst_element_set_state(NULL)");
  EXPECT_EQ(f.api_caller, "churn_once");
  // Three churns before: gst_parse_launch, the set_state and get_state calls, the pipeline's unref.
  EXPECT_GT(f.api_calls, 3 * 4);
  CmdResult show = RunCrashgrid({"show", db, "1"});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_NE(show.out.find(" in cuvidDestroyDecoder, under gst_element_set_state(NULL) from churn_once ("),
            std::string::npos)
      << show.out;
}

// The agent's dlsym keeps dlsym's meaning (RTLD_NEXT relative to the caller; a name only the agent exports is
// not found), and a clean program stays clean.
TEST(ApiCalls, DlsymKeepsItsMeaning) {
  TrialResult t = RunOne("dlsym", {FixturePath("api_dlsym_probe")}, {});
  EXPECT_EQ(t.outcome, Outcome::kClean) << t.stdout_tail << t.detail;
}

// The program's stdout is line-buffered in the trial: lines printed (without fflush) before a crash are kept.
TEST(ApiCalls, OutputBeforeACrashIsKept) {
  TrialResult t = RunOne("stdout", {FixturePath("exec_print_then_crash")}, {});
  ASSERT_EQ(t.outcome, Outcome::kCrashed) << t.detail;
  EXPECT_NE(t.stdout_tail.find("first line before the crash\nsecond line before the crash\n"), std::string::npos)
      << t.stdout_tail;
}

// --progress-api: an --exec program's iterations are its calls of the chosen function.
TEST(ApiCalls, ProgressApiCountsTheChosenCall) {
  std::string db = TestDir() + "/progress.db";
  CmdResult r = RunCrashgrid({"sweep", "--runs", "1", "--duration", "5s", "--db", db, "--no-live", "--format",
                              "none", "--progress-api", "gst_element_set_state", "--exec", "--",
                              FixturePath("api_gst_churn"), "7"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto trials = LoadNewestRunTrials(db);
  ASSERT_EQ(trials.size(), 1u);
  const TrialResult& t = trials[0].result;
  ASSERT_EQ(t.outcome, Outcome::kClean) << t.detail << t.stderr_tail;
  // Two per churn on the pipeline (PLAYING, NULL), and at least as many again for its elements when the bin
  // reaches them through the exported symbol.
  EXPECT_GE(t.iterations, 14);
  EXPECT_EQ(t.iterations % 7, 0) << t.iterations;
  EXPECT_GT(t.workload_seconds, 0);
}

// Outcomes by the cell's `serialize` value, for one sweep of the racing fake with --grid serialize=...
std::map<std::string, std::vector<Outcome>> SerializeSweep(const std::string& name, const std::string& race,
                                                           const std::string& grid) {
  std::string db = TestDir() + "/" + name + ".db";
  CmdResult r = RunCrashgrid({"sweep", "--grid", grid, "--runs", "3", "--duration", "1s", "--grace", "2s", "--db",
                              db, "--no-live", "--format", "none", "--exec", "--", FixturePath("api_fake_cuda"),
                              FakeCuda(), "1"},
                             240, {{"FAKECUDA_RACE", race}});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::map<std::string, std::vector<Outcome>> by_value;
  for (const StoredTrial& t : LoadNewestRunTrials(db)) {
    for (const auto& [k, v] : t.cell) {
      if (k == "serialize") by_value[v].push_back(t.result.outcome);
    }
  }
  return by_value;
}

int Count(const std::vector<Outcome>& v, Outcome o) { return static_cast<int>(std::count(v.begin(), v.end(), o)); }

// A lock around cuvid* removes a race between two cuvid calls, on the unmodified program.
TEST(Serialize, ApiGroupLockRemovesARaceInsideTheGroup) {
  auto by = SerializeSweep("decode", "decode", "serialize=none,cuvid");
  ASSERT_EQ(by["none"].size(), 3u);
  ASSERT_EQ(by["cuvid"].size(), 3u);
  EXPECT_GE(Count(by["none"], Outcome::kCrashed), 2) << "the race shows without a lock";
  EXPECT_EQ(Count(by["cuvid"], Outcome::kClean), 3) << "and never under the cuvid lock";
}

// ... and not one between a cuvid call and an NVENC call, which a lock around both groups removes.
TEST(Serialize, ApiGroupLockLeavesARaceAcrossGroups) {
  auto by = SerializeSweep("encode", "encode", "serialize=cuvid,cuvid+nvenc");
  ASSERT_EQ(by["cuvid"].size(), 3u);
  ASSERT_EQ(by["cuvid+nvenc"].size(), 3u);
  EXPECT_GE(Count(by["cuvid"], Outcome::kCrashed), 2) << "cuvidDestroyDecoder still races nvEncEncodePicture";
  EXPECT_EQ(Count(by["cuvid+nvenc"], Outcome::kClean), 3);
}


// A misspelt group would run a sweep that serializes nothing: refused before anything is created, naming the
// value and the groups, for --serialize and for a grid axis alike.
TEST(Serialize, UnknownApiGroupIsRefusedBeforeTheSweep) {
  for (const std::vector<std::string>& how :
       {std::vector<std::string>{"--serialize", "cuvd"}, std::vector<std::string>{"--grid", "serialize=none,cuvd"},
        std::vector<std::string>{"--grid", "serialize=cuvid+cuvd"}, std::vector<std::string>{"--serialize", "foo*"}}) {
    std::string db = TestDir() + "/refused.db";
    CmdResult r = RunRefusedSweep(db, how);
    EXPECT_EQ(r.exit_code, 2) << how[1] << ": " << r.err;
    std::string bad = how[1] == "foo*" ? "foo*" : "cuvd";
    EXPECT_EQ(r.err.rfind("crashgrid: error: ", 0), 0u) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one line: " << r.err;
    EXPECT_NE(r.err.find("unknown group '" + bad + "'"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("none, all, cuvid, nvenc, ctx, egl-stream, gst-state"), std::string::npos) << r.err;
    if (bad == "cuvd") {
      EXPECT_NE(r.err.find("did you mean 'cuvid'?"), std::string::npos) << r.err;
    }
    EXPECT_NE(r.err.find(how[0] == "--grid" ? "--grid serialize:" : "--serialize:"), std::string::npos) << r.err;
    EXPECT_EQ(access(db.c_str(), F_OK), -1) << "nothing created: " << db;
  }
}

// Groups, globs that can match a tracked call and exact names all start the sweep.
TEST(Serialize, KnownApiGroupsAndGlobsAreAccepted) {
  std::string db = TestDir() + "/accepted.db";
  CmdResult r = RunCrashgrid({"sweep", "--runs", "1", "--duration", "1s", "--capture", "none", "--db", db,
                              "--no-live", "--format", "none", "--grid",
                              "serialize=none,all,cuvid,nvenc+ctx,egl-stream,gst-state,cuvidCreate*,cuMemGetInfo_v2,"
                              "gst_element_set_state,*Decoder",
                              "--exec", "--", "/bin/true"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(LoadNewestRunTrials(db).size(), 10u);
}

}  // namespace
}  // namespace cg::test

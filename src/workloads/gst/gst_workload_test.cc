#include <cstdlib>
#include <map>

#include <gtest/gtest.h>

#include "runtime/runner.h"
#include "runtime/workload.h"

namespace cg {
namespace {

// Named explicitly so the test means the same thing on a machine that has NVIDIA elements.
const char* kCpuBranch =
    "videotestsrc ! video/x-raw,width=160,height=120,framerate=30/1 ! x264enc speed-preset=ultrafast "
    "tune=zerolatency ! fakesink";

RunOptions Options(int threads, double duration_s, Params params) {
  RunOptions o;
  o.threads = threads;
  o.duration_s = duration_s;
  o.params = std::move(params);
  return o;
}

TEST(GstWorkload, CpuBranchRunsIterationsWithoutErrors) {
  auto w = CreateWorkload("gst");
  ASSERT_NE(w, nullptr);
  Params params(std::map<std::string, std::string>{{"branch", kCpuBranch}, {"branches", "2"}});
  std::string err;
  ASSERT_TRUE(w->Validate(params, 2, &err)) << err;
  ASSERT_TRUE(w->Init(params, 2, &err)) << err;
  TrialResult m;
  ASSERT_TRUE(RunWorkload(*w, Options(2, 1.0, params), nullptr, &m, &err)) << err;
  w->Shutdown();
  EXPECT_GT(m.iterations, 0);
  EXPECT_EQ(m.errors, 0) << (m.error_buckets.empty() ? "" : m.error_buckets[0].example);
  ASSERT_EQ(m.phases.size(), 6u);
  EXPECT_EQ(m.phases.front().name, "setup");
  EXPECT_EQ(m.phases.back().name, "teardown");
  EXPECT_EQ(m.phases.front().count, 2);  // once per thread
  EXPECT_EQ(m.phases.back().count, 2);
  for (size_t i = 1; i + 1 < m.phases.size(); ++i) EXPECT_EQ(m.phases[i].count, m.iterations) << m.phases[i].name;
  EXPECT_EQ(m.phases[4].name, "unref");  // the per-iteration unref is not the thread's teardown
  EXPECT_NE(w->Detail().find("2 x [videotestsrc"), std::string::npos) << w->Detail();
}

TEST(GstWorkload, MissingElementInUserBranchCannotStart) {
  auto w = CreateWorkload("gst");
  Params params(std::map<std::string, std::string>{{"branch", "videotestsrc ! nvnosuchenc ! fakesink"}});
  std::string err;
  ASSERT_TRUE(w->Validate(params, 1, &err)) << err;
  EXPECT_FALSE(w->Init(params, 1, &err));
  EXPECT_NE(err.find("nvnosuchenc"), std::string::npos) << err;
  EXPECT_NE(err.find("gst-inspect-1.0"), std::string::npos) << err;
}

TEST(GstWorkload, MalformedBranchIsACountedBuildError) {
  auto w = CreateWorkload("gst");
  Params params(std::map<std::string, std::string>{{"branch", "videotestsrc ! ! fakesink"}});
  std::string err;
  ASSERT_TRUE(w->Init(params, 1, &err)) << err;
  TrialResult m;
  ASSERT_TRUE(RunWorkload(*w, Options(1, 0.3, params), nullptr, &m, &err)) << err;
  ASSERT_GT(m.iterations, 0);
  EXPECT_EQ(m.errors, m.iterations);
  EXPECT_EQ(m.successes, 0);
  ASSERT_EQ(m.error_buckets.size(), 1u);
  EXPECT_EQ(m.error_buckets[0].phase, "build");
  EXPECT_NE(m.error_buckets[0].message.find("syntax error"), std::string::npos) << m.error_buckets[0].message;
  ASSERT_EQ(m.phases[2].name, "start");
  EXPECT_EQ(m.phases[2].count, 0);  // never started
}

TEST(GstWorkload, BranchCountDefaultsFromEncodersPerPipeline) {
  ::setenv("ENCODERS_PER_PIPELINE", "3", 1);
  auto w = CreateWorkload("gst");
  Params params(std::map<std::string, std::string>{{"branch", "videotestsrc ! fakesink"}});
  std::string err;
  bool ok = w->Init(params, 1, &err);
  ::setenv("ENCODERS_PER_PIPELINE", "zero", 1);
  std::string bad_err;
  bool bad_ok = CreateWorkload("gst")->Validate(Params(), 1, &bad_err);
  ::unsetenv("ENCODERS_PER_PIPELINE");
  ASSERT_TRUE(ok) << err;
  EXPECT_EQ(w->Detail().rfind("3 x [", 0), 0u) << w->Detail();
  EXPECT_FALSE(bad_ok);
  EXPECT_NE(bad_err.find("ENCODERS_PER_PIPELINE"), std::string::npos) << bad_err;
}

TEST(GstWorkload, RejectsBadParameters) {
  auto w = CreateWorkload("gst");
  std::string err;
  EXPECT_FALSE(w->Validate(Params(std::map<std::string, std::string>{{"branches", "0"}}), 1, &err));
  EXPECT_NE(err.find("branches"), std::string::npos) << err;
  EXPECT_FALSE(w->Validate(Params(std::map<std::string, std::string>{{"start-timeout", "soon"}}), 1, &err));
  EXPECT_NE(err.find("start-timeout"), std::string::npos) << err;
}

}  // namespace
}  // namespace cg

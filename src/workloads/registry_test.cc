#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "runtime/workload.h"

namespace cg {
namespace {

TEST(Registry, EveryWorkloadRunsSetupFirstAndTeardownLast) {
  for (const std::string& name : WorkloadNames()) {
    auto w = CreateWorkload(name);
    ASSERT_TRUE(w) << name;
    const std::vector<std::string>& phases = w->info().phases;
    ASSERT_GE(phases.size(), 3u) << name;
    EXPECT_EQ(phases.front(), kSetupPhase) << name;
    EXPECT_EQ(phases.back(), kTeardownPhase) << name;
    // An iteration phase of the same name would make `--serialize teardown` and "phase teardown" ambiguous.
    EXPECT_EQ(std::count(phases.begin(), phases.end(), kSetupPhase), 1) << name;
    EXPECT_EQ(std::count(phases.begin(), phases.end(), kTeardownPhase), 1) << name;
  }
}

TEST(Registry, GstCallsItsPerIterationUnrefUnref) {
  auto w = CreateWorkload("gst");
  ASSERT_TRUE(w);
  EXPECT_EQ(w->info().phases, (std::vector<std::string>{"setup", "build", "start", "stop", "unref", "teardown"}));
}

}  // namespace
}  // namespace cg

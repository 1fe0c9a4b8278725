#include "runtime/run_summary.h"

#include <gtest/gtest.h>

namespace cg {
namespace {

TEST(RunSummary, ShowsThreadsPhasesErrorsAndDetail) {
  RunOptions o;
  o.threads = 2;
  o.duration_s = 2;
  o.serialize = "open";
  o.params.Set("sessions", "4");
  TrialResult m;
  m.iterations = 30;
  m.successes = 27;
  m.errors = 3;
  m.workload_seconds = 2;
  m.threads = {{0, 101, "done", 10, 9, 1}, {1, 102, "done", 20, 18, 2}};
  m.phases = {{"open", 30, 0.5, 1.25, 2.0}};
  m.error_buckets = {{"open", "session # failed", 3, "session 7 failed"}};
  std::string s = RenderRunSummary("reference-race", "sessions=4", o, m);
  EXPECT_NE(s.find("reference-race: 2 threads, 2s, serialize open, sessions=4"), std::string::npos) << s;
  EXPECT_NE(s.find("cg-w1"), std::string::npos) << s;
  EXPECT_NE(s.find("15.0 iterations/s"), std::string::npos) << s;
  EXPECT_NE(s.find("1.250"), std::string::npos) << s;
  EXPECT_NE(s.find("3 x [open] session # failed"), std::string::npos) << s;
  EXPECT_NE(s.find("e.g. session 7 failed"), std::string::npos) << s;
}

}  // namespace
}  // namespace cg

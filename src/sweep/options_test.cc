// What makes two sweeps the same one (SweepKey): each part of it has its own assertion, so dropping a part
// from the key fails a test; and what must not split a sweep (more --runs, --jobs, a seed) has one too.
#include <gtest/gtest.h>

#include "sweep/options.h"

namespace cg {
namespace {

SweepOptions BaseOptions() {
  SweepOptions o;
  o.exec_argv = {"/bin/prog", "--n", "{N}"};
  o.grid = {{"N", {"1", "2"}}, {"M", {"a", "b"}}};
  o.params = {{"MODE", "fast"}};
  o.duration_s = 2;
  o.grace_s = 3;
  return o;
}

TEST(SweepKey, TheWorkloadIsPartOfTheKey) {
  SweepOptions a = BaseOptions(), b = BaseOptions();
  a.exec_argv.clear();
  b.exec_argv.clear();
  a.workload = "reference-race";
  b.workload = "gst";
  EXPECT_NE(SweepKey(a), SweepKey(b));
}

TEST(SweepKey, TheExecArgvIsPartOfTheKey) {
  SweepOptions b = BaseOptions();
  b.exec_argv[2] = "{M}";
  EXPECT_NE(SweepKey(BaseOptions()), SweepKey(b));
  SweepOptions c = BaseOptions();
  c.exec_argv[0] = "/bin/other";
  EXPECT_NE(SweepKey(BaseOptions()), SweepKey(c));
}

TEST(SweepKey, TheGridValuesAndNamesArePartOfTheKey) {
  SweepOptions values = BaseOptions();
  values.grid[0].values.push_back("3");
  EXPECT_NE(SweepKey(BaseOptions()), SweepKey(values));
  SweepOptions names = BaseOptions();
  names.grid[1].name = "K";
  EXPECT_NE(SweepKey(BaseOptions()), SweepKey(names));
}

TEST(SweepKey, TheFixedParametersArePartOfTheKey) {
  SweepOptions value = BaseOptions();
  value.params["MODE"] = "slow";
  EXPECT_NE(SweepKey(BaseOptions()), SweepKey(value));
  SweepOptions extra = BaseOptions();
  extra.params["OTHER"] = "1";
  EXPECT_NE(SweepKey(BaseOptions()), SweepKey(extra));
}

TEST(SweepKey, TheDurationIsPartOfTheKey) {
  SweepOptions b = BaseOptions();
  b.duration_s = 2.5;
  EXPECT_NE(SweepKey(BaseOptions()), SweepKey(b));
}

TEST(SweepKey, TheGraceIsPartOfTheKey) {
  SweepOptions b = BaseOptions();
  b.grace_s = 4;
  EXPECT_NE(SweepKey(BaseOptions()), SweepKey(b));
}

TEST(SweepKey, RunsJobsSeedStoppingAndCommandLineDoNotChangeTheKey) {
  const std::string key = SweepKey(BaseOptions());
  SweepOptions runs = BaseOptions();
  runs.runs = 1000;  // re-running with a larger --runs extends the same sweep
  EXPECT_EQ(SweepKey(runs), key);
  SweepOptions jobs = BaseOptions();
  jobs.jobs = 8;
  EXPECT_EQ(SweepKey(jobs), key);
  SweepOptions seed = BaseOptions();
  seed.seed = 12345;
  EXPECT_EQ(SweepKey(seed), key);
  SweepOptions stopping = BaseOptions();
  stopping.stopping.until = StoppingSettings::Until::kDecided;
  EXPECT_EQ(SweepKey(stopping), key);
  SweepOptions argv = BaseOptions();
  argv.argv = {"crashgrid", "sweep", "--jobs", "8"};
  EXPECT_EQ(SweepKey(argv), key);
}

TEST(SweepKey, AShardIsItsOwnSweepWhoseBaseIsTheWholeSweepsKey) {
  SweepOptions shard0 = BaseOptions(), shard1 = BaseOptions();
  shard0.shard = Shard{0, 4};
  shard1.shard = Shard{1, 4};
  EXPECT_NE(SweepKey(shard0), SweepKey(BaseOptions()));  // never continues the unsharded run (or another shard's)
  EXPECT_NE(SweepKey(shard0), SweepKey(shard1));
  EXPECT_EQ(BaseSweepKey(SweepKey(shard0)), SweepKey(BaseOptions()));
  EXPECT_EQ(BaseSweepKey(SweepKey(shard1)), SweepKey(BaseOptions()));
  EXPECT_EQ(BaseSweepKey(SweepKey(BaseOptions())), SweepKey(BaseOptions()));
  SweepOptions whole = BaseOptions();
  whole.shard = Shard{0, 1};  // --shard 0/1 is the whole grid: the same sweep as no --shard
  EXPECT_EQ(SweepKey(whole), SweepKey(BaseOptions()));
}

}  // namespace
}  // namespace cg

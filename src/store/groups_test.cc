// The grouped reads against the per-trial ones they replace: every count, sum and id a group carries must be
// what folding the run's trials one by one gives.
#include <unistd.h>

#include <filesystem>
#include <map>
#include <random>
#include <tuple>

#include <gtest/gtest.h>

#include "stats/rate.h"
#include "store/store.h"

namespace cg {
namespace {

namespace fs = std::filesystem;

class GroupsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("cg_groups_test_" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    std::string err;
    int code = 0;
    store_ = Store::Open((dir_ / "g.db").string(), Store::Mode::kCreate, &err, &code);
    ASSERT_TRUE(store_) << err;
    run_.workload = "exec";
    run_.duration_s = 2;
    ASSERT_TRUE(store_->InsertRun(&run_, &err)) << err;
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }
  fs::path dir_;
  std::unique_ptr<Store> store_;
  RunRecord run_;
};

// Random trials over 3 cells, every outcome, a few signatures, with and without the workload's own clock,
// times past the duration cap and unknown times.
std::vector<StoredTrial> RandomTrials(int n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  const Outcome outcomes[] = {Outcome::kClean,  Outcome::kCrashed,       Outcome::kHung,
                              Outcome::kFailed, Outcome::kCouldNotStart, Outcome::kOverran};
  const char* sigs[] = {"", "SIGSEGV|a", "SIGABRT|b"};
  std::map<std::string, int> rep;
  std::vector<StoredTrial> out;
  for (int i = 0; i < n; ++i) {
    StoredTrial t;
    t.cell = {{"threads", std::to_string(1 << (rng() % 3))}};
    t.repetition = rep[CellKey(t.cell)]++;
    TrialResult& r = t.result;
    r.outcome = outcomes[rng() % 6];
    r.signal = r.outcome == Outcome::kCrashed ? 11 : 0;
    r.exit_code = r.outcome == Outcome::kFailed ? 1 + static_cast<int>(rng() % 2) : 0;
    if (IsCrash(r.outcome)) r.signature = sigs[rng() % 3];
    r.duration_s = 0.1 * static_cast<double>(rng() % 40);
    r.time_to_outcome_s = rng() % 4 == 0 ? 0 : 0.1 * static_cast<double>(rng() % 40);
    r.workload_seconds = rng() % 3 == 0 ? 0.05 * static_cast<double>(rng() % 40) : 0;
    r.iterations = static_cast<int64_t>(rng() % 100);
    if (r.outcome == Outcome::kCrashed && rng() % 2) r.report = CrashReport();
    r.units = static_cast<int64_t>(rng() % 50);
    r.units_name = rng() % 4 == 0 ? "" : "frames";
    out.push_back(std::move(t));
  }
  return out;
}

TEST_F(GroupsTest, GroupsAgreeWithFoldingEveryTrial) {
  std::string err;
  auto trials = RandomTrials(600, 7);
  ASSERT_TRUE(store_->InsertTrials(run_.id, trials, &err)) << err;
  std::vector<StoredTrial> loaded;
  ASSERT_TRUE(store_->LoadTrials(run_.id, /*full=*/true, &loaded, &err)) << err;
  ASSERT_EQ(loaded.size(), trials.size());

  using Key = std::tuple<std::string, Outcome, int, int, bool, std::string>;
  std::map<Key, TrialGroup> want;
  for (const auto& t : loaded) {
    const TrialResult& r = t.result;
    TrialGroup& g = want[{t.cell_key, r.outcome, r.exit_code, r.signal, r.via_shell, r.signature}];
    if (g.count == 0) g.first_trial_id = t.id;
    g.count++;
    g.exposure_s += TrialExposureSeconds(r, run_.duration_s);
    g.iterations += r.iterations;
    g.workload_seconds += r.workload_seconds;
    g.max_repetition = std::max<int64_t>(g.max_repetition, t.repetition);
    if (r.report && g.first_report_trial_id == 0) g.first_report_trial_id = t.id;
  }
  std::vector<TrialGroup> groups;
  ASSERT_TRUE(store_->LoadTrialGroups(run_.id, run_.duration_s, &groups, &err)) << err;
  ASSERT_EQ(groups.size(), want.size());
  int64_t total = 0;
  for (const auto& g : groups) {
    auto it = want.find({g.cell_key, g.outcome, g.exit_code, g.signal, g.via_shell, g.signature});
    ASSERT_NE(it, want.end()) << g.cell_key << " " << OutcomeName(g.outcome);
    EXPECT_EQ(g.count, it->second.count);
    EXPECT_NEAR(g.exposure_s, it->second.exposure_s, 1e-9) << g.cell_key << " " << OutcomeName(g.outcome);
    EXPECT_EQ(g.iterations, it->second.iterations);
    EXPECT_NEAR(g.workload_seconds, it->second.workload_seconds, 1e-9);
    EXPECT_EQ(g.max_repetition, it->second.max_repetition);
    EXPECT_EQ(g.first_trial_id, it->second.first_trial_id);
    EXPECT_EQ(g.first_report_trial_id, it->second.first_report_trial_id);
    EXPECT_EQ(CellKey(g.cell), g.cell_key);
    total += g.count;
  }
  EXPECT_EQ(total, 600);
}

// GroupTrials is the in-memory twin of the SQL: same groups, same order, same sums, same ids.
TEST_F(GroupsTest, GroupTrialsInMemoryMatchesTheSqlGroups) {
  std::string err;
  ASSERT_TRUE(store_->InsertTrials(run_.id, RandomTrials(400, 11), &err)) << err;
  std::vector<StoredTrial> loaded;
  ASSERT_TRUE(store_->LoadTrials(run_.id, /*full=*/true, &loaded, &err)) << err;
  std::vector<TrialGroup> sql;
  ASSERT_TRUE(store_->LoadTrialGroups(run_.id, run_.duration_s, &sql, &err)) << err;
  std::vector<TrialGroup> mem = GroupTrials(loaded, run_.duration_s);
  ASSERT_EQ(mem.size(), sql.size());
  for (size_t i = 0; i < sql.size(); ++i) {
    const TrialGroup &a = sql[i], &b = mem[i];
    SCOPED_TRACE(a.cell_key + " " + OutcomeName(a.outcome) + " " + a.signature);
    EXPECT_EQ(a.cell_key, b.cell_key);
    EXPECT_EQ(a.outcome, b.outcome);
    EXPECT_EQ(a.exit_code, b.exit_code);
    EXPECT_EQ(a.signal, b.signal);
    EXPECT_EQ(a.signature, b.signature);
    EXPECT_EQ(a.count, b.count);
    EXPECT_NEAR(a.exposure_s, b.exposure_s, 1e-9);
    EXPECT_EQ(a.iterations, b.iterations);
    EXPECT_EQ(a.max_repetition, b.max_repetition);
    EXPECT_EQ(a.first_trial_id, b.first_trial_id);
    EXPECT_EQ(a.last_trial_id, b.last_trial_id);
    EXPECT_EQ(a.first_report_trial_id, b.first_report_trial_id);
    EXPECT_EQ(a.units, b.units);
    EXPECT_EQ(a.units_name, b.units_name);
    EXPECT_EQ(a.timed_iterations, b.timed_iterations);
    EXPECT_EQ(a.timed_units, b.timed_units);
  }
  // The throughput sums leave out the trials that did not measure their workload.
  int64_t timed = 0, all = 0;
  for (const auto& g : sql) timed += g.timed_iterations, all += g.iterations;
  EXPECT_LT(timed, all);
  EXPECT_GT(timed, 0);
}

TEST_F(GroupsTest, ForEachTrialStreamsInIdOrderAndStopsWhenAsked) {
  std::string err;
  ASSERT_TRUE(store_->InsertTrials(run_.id, RandomTrials(50, 3), &err)) << err;
  int64_t last = 0, seen = 0;
  ASSERT_TRUE(store_->ForEachTrial(run_.id, /*full=*/false, [&](const StoredTrial& t) {
    EXPECT_GT(t.id, last);
    last = t.id;
    return ++seen < 20;
  }, &err)) << err;
  EXPECT_EQ(seen, 20);
}

TEST_F(GroupsTest, HasTrialTellsAMissingIdFromAnExistingOne) {
  std::string err;
  ASSERT_TRUE(store_->InsertTrials(run_.id, RandomTrials(3, 9), &err)) << err;
  std::vector<StoredTrial> loaded;
  ASSERT_TRUE(store_->LoadTrials(run_.id, false, &loaded, &err)) << err;
  bool found = false;
  ASSERT_TRUE(store_->HasTrial(loaded[1].id, &found, &err)) << err;
  EXPECT_TRUE(found);
  ASSERT_TRUE(store_->HasTrial(loaded.back().id + 100, &found, &err)) << err;
  EXPECT_FALSE(found);
}

TEST_F(GroupsTest, InsertTrialsIsAllOrNothing) {
  std::string err;
  auto trials = RandomTrials(10, 5);
  trials.push_back(trials[3]);  // same cell and repetition: refused by the unique index
  EXPECT_FALSE(store_->InsertTrials(run_.id, trials, &err));
  EXPECT_NE(err.find("none was recorded"), std::string::npos) << err;
  std::vector<StoredTrial> loaded;
  ASSERT_TRUE(store_->LoadTrials(run_.id, false, &loaded, &err)) << err;
  EXPECT_TRUE(loaded.empty());
}

// --by gpu: the store groups per cell and GPU (index and UUID), so table and compare read a GPU's counts without
// loading every trial; grouped per cell only, the GPUs are pooled and the GPU fields stay unset.
TEST_F(GroupsTest, GroupsPerCellAndGpuKeepEachGpusCounts) {
  std::string err;
  // Two cells x three GPUs (1 and 1' share an index: a run merged from two machines) x 4 repetitions; GPU 1
  // crashes in every trial, GPU 0 in one of cell threads=2, GPU 1' never.
  struct Gpu {
    int index;
    const char* uuid;
  };
  const Gpu gpus[] = {{0, "GPU-a"}, {1, "GPU-b"}, {1, "GPU-c"}};
  std::vector<StoredTrial> trials;
  int rep = 0;
  for (const char* threads : {"1", "2"}) {
    for (const Gpu& gpu : gpus) {
      for (int i = 0; i < 4; ++i) {
        StoredTrial t;
        t.cell = {{"threads", threads}};
        t.repetition = rep++;
        t.result.gpu_index = gpu.index;
        t.result.gpu_uuid = gpu.uuid;
        bool crash = std::string(gpu.uuid) == "GPU-b" || (gpu.index == 0 && threads[0] == '2' && i == 0);
        t.result.outcome = crash ? Outcome::kCrashed : Outcome::kClean;
        t.result.signal = crash ? 11 : 0;
        t.result.iterations = 10;
        trials.push_back(std::move(t));
      }
    }
  }
  ASSERT_TRUE(store_->InsertTrials(run_.id, trials, &err)) << err;

  std::vector<TrialGroup> groups;
  ASSERT_TRUE(store_->LoadTrialGroups(run_.id, run_.duration_s, &groups, &err, GroupBy::kCellAndGpu)) << err;
  // (cell, uuid) -> {crashes, clean}
  std::map<std::pair<std::string, std::string>, std::pair<int64_t, int64_t>> counts;
  for (const auto& g : groups) {
    auto& c = counts[{g.cell_key, g.gpu_uuid}];
    (g.outcome == Outcome::kCrashed ? c.first : c.second) += g.count;
    EXPECT_EQ(g.iterations, 10 * g.count);
    EXPECT_EQ(g.gpu_index, g.gpu_uuid == "GPU-a" ? 0 : 1) << g.gpu_uuid;
  }
  using P = std::pair<int64_t, int64_t>;
  const std::string t1 = CellKey({{"threads", "1"}}), t2 = CellKey({{"threads", "2"}});
  EXPECT_EQ(counts.size(), 6u);
  EXPECT_EQ((counts[{t1, "GPU-a"}]), P(0, 4));
  EXPECT_EQ((counts[{t2, "GPU-a"}]), P(1, 3));
  EXPECT_EQ((counts[{t1, "GPU-b"}]), P(4, 0));
  EXPECT_EQ((counts[{t2, "GPU-b"}]), P(4, 0));
  EXPECT_EQ((counts[{t1, "GPU-c"}]), P(0, 4));
  EXPECT_EQ((counts[{t2, "GPU-c"}]), P(0, 4));
  // Ordered by cell, then GPU index and UUID, then outcome.
  for (size_t i = 1; i < groups.size(); ++i) {
    const TrialGroup &a = groups[i - 1], &b = groups[i];
    EXPECT_LE(std::tie(a.cell_key, a.gpu_index, a.gpu_uuid), std::tie(b.cell_key, b.gpu_index, b.gpu_uuid)) << i;
  }
  // The in-memory twin gives the same groups in the same order.
  std::vector<StoredTrial> loaded;
  ASSERT_TRUE(store_->LoadTrials(run_.id, /*full=*/false, &loaded, &err)) << err;
  std::vector<TrialGroup> mem = GroupTrials(loaded, run_.duration_s, GroupBy::kCellAndGpu);
  ASSERT_EQ(mem.size(), groups.size());
  for (size_t i = 0; i < mem.size(); ++i) {
    EXPECT_EQ(mem[i].cell_key, groups[i].cell_key) << i;
    EXPECT_EQ(mem[i].gpu_index, groups[i].gpu_index) << i;
    EXPECT_EQ(mem[i].gpu_uuid, groups[i].gpu_uuid) << i;
    EXPECT_EQ(mem[i].outcome, groups[i].outcome) << i;
    EXPECT_EQ(mem[i].count, groups[i].count) << i;
  }

  // Per cell only: the GPUs pooled, no GPU named.
  ASSERT_TRUE(store_->LoadTrialGroups(run_.id, run_.duration_s, &groups, &err)) << err;
  ASSERT_EQ(groups.size(), 4u);  // each cell: crashed, clean
  for (const auto& g : groups) {
    EXPECT_EQ(g.gpu_index, -1);
    EXPECT_EQ(g.gpu_uuid, "");
  }
  std::map<std::pair<std::string, Outcome>, int64_t> pooled;
  for (const auto& g : groups) pooled[{g.cell_key, g.outcome}] += g.count;
  EXPECT_EQ((pooled[{t1, Outcome::kCrashed}]), 4);
  EXPECT_EQ((pooled[{t1, Outcome::kClean}]), 8);
  EXPECT_EQ((pooled[{t2, Outcome::kCrashed}]), 5);
  EXPECT_EQ((pooled[{t2, Outcome::kClean}]), 7);
}

}  // namespace
}  // namespace cg

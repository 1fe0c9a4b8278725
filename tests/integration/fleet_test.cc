// Fleets through the real binary (issue 14): --shard K/N runs a deterministic part of the grid, `crashgrid merge`
// makes the shards one run equal in cells and counts to the sweep run on one machine, and --gpus runs every cell
// on every GPU in every round with the GPU's CUDA_VISIBLE_DEVICES (the fake NVML reports the GPUs).
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <algorithm>
#include <set>

#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "harness.h"
#include "store/store.h"

namespace cg::test {
namespace {

std::vector<RunRecord> Runs(const std::string& db) {
  std::string err;
  int code = 0;
  auto store = Store::Open(db, Store::Mode::kReadOnly, &err, &code);
  EXPECT_TRUE(store) << err;
  std::vector<RunRecord> runs;
  if (store) {
    EXPECT_TRUE(store->LoadRuns(&runs, &err)) << err;
  }
  return runs;
}

std::vector<StoredTrial> Trials(const std::string& db, int64_t run_id) {
  std::string err;
  int code = 0;
  auto store = Store::Open(db, Store::Mode::kReadOnly, &err, &code);
  std::vector<StoredTrial> trials;
  if (store) {
    EXPECT_TRUE(store->LoadTrials(run_id, true, &trials, &err)) << err;
  }
  return trials;
}

// cell key -> trials of that cell, over the run's trials.
std::map<std::string, int> PerCell(const std::vector<StoredTrial>& trials) {
  std::map<std::string, int> n;
  for (const auto& t : trials) n[t.cell_key]++;
  return n;
}

std::vector<std::string> Sweep(const std::string& db, std::vector<std::string> extra) {
  std::vector<std::string> args = {"sweep", "--grid", "X=1..5", "--grid", "Y=a,b", "--runs", "2", "--duration",
                                   "200ms", "--grace", "2s", "--capture", "none", "--db", db, "--no-live",
                                   "--format", "none", "--seed", "3"};
  args.insert(args.end(), extra.begin(), extra.end());
  for (const char* a : {"--exec", "--", "/bin/true"}) args.push_back(a);
  return args;
}

TEST(Fleet, ShardsRunDisjointWholeCellsAndMergeIntoTheOneMachineSweep) {
  std::string dir = TestDir();
  CmdResult whole = RunCrashgrid(Sweep(dir + "/whole.db", {}));
  ASSERT_EQ(whole.exit_code, 0) << whole.err;
  std::vector<std::string> shards;
  std::set<std::string> seen;
  for (int k = 0; k < 3; ++k) {
    std::string db = dir + "/shard" + std::to_string(k) + ".db";
    CmdResult r = RunCrashgrid(Sweep(db, {"--shard", std::to_string(k) + "/3"}));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::vector<RunRecord> runs = Runs(db);
    ASSERT_EQ(runs.size(), 1u);
    EXPECT_EQ(runs[0].shard, std::to_string(k) + "/3");
    for (const auto& [cell, n] : PerCell(Trials(db, runs[0].id))) {
      EXPECT_TRUE(seen.insert(cell).second) << cell << " ran in two shards";
      EXPECT_EQ(n, 2) << cell;
    }
    shards.push_back(db);
  }
  EXPECT_EQ(seen.size(), 10u);

  std::vector<std::string> merge = {"merge", dir + "/all.db"};
  merge.insert(merge.end(), shards.begin(), shards.end());
  CmdResult m = RunCrashgrid(merge);
  ASSERT_EQ(m.exit_code, 0) << m.err;
  EXPECT_NE(m.err.find("20 trial(s) added"), std::string::npos) << m.err;
  std::vector<RunRecord> merged = Runs(dir + "/all.db");
  ASSERT_EQ(merged.size(), 1u);
  std::vector<RunRecord> one = Runs(dir + "/whole.db");
  EXPECT_EQ(merged[0].sweep_key, one[0].sweep_key);  // the whole sweep's key
  EXPECT_EQ(PerCell(Trials(dir + "/all.db", merged[0].id)), PerCell(Trials(dir + "/whole.db", one[0].id)));

  // Again: nothing added, nothing changed in the inputs' runs.
  CmdResult again = RunCrashgrid(merge);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.err.find("0 trial(s) added, 20 already there"), std::string::npos) << again.err;
  EXPECT_EQ(Runs(dir + "/all.db").size(), 1u);

  // The merged table reads like the one-machine sweep's.
  CmdResult t1 = RunCrashgrid({"table", dir + "/all.db", "--format", "seed"});
  CmdResult t2 = RunCrashgrid({"table", dir + "/whole.db", "--format", "seed"});
  ASSERT_EQ(t1.exit_code, 0) << t1.err;
  auto body = [](const std::string& s) { return s.substr(s.find('\n') + 1); };  // after the run's header line
  EXPECT_EQ(body(t1.out), body(t2.out));
  EXPECT_NE(body(t1.out).find("{0: 2}"), std::string::npos) << t1.out;
}

TEST(Fleet, MergeRefusesOutAmongItsInputsAndABadShard) {
  std::string dir = TestDir();
  CmdResult r = RunCrashgrid(Sweep(dir + "/a.db", {"--shard", "0/2"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  CmdResult self = RunCrashgrid({"merge", dir + "/a.db", dir + "/a.db"});
  EXPECT_EQ(self.exit_code, 2);
  EXPECT_NE(self.err.find("crashgrid: error: '" + dir + "/a.db' is both OUT and an input"), std::string::npos)
      << self.err;
  CmdResult missing = RunCrashgrid({"merge", dir + "/out.db", dir + "/nope.db"});
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_FALSE(std::filesystem::exists(dir + "/out.db"));  // inputs are checked before OUT is created
  CmdResult bad = RunCrashgrid(Sweep(dir + "/b.db", {"--shard", "2/2"}));
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("crashgrid: error: --shard '2/2' is not K/N"), std::string::npos) << bad.err;
}

// The fake NVML (tests/fixtures/fake_nvml) reporting `count` GPUs.
Env FakeGpus(int count) {
  return {{"LD_LIBRARY_PATH", std::string(CRASHGRID_BINARY_DIR) + "/fixtures/fake_nvml"},
          {"CG_FAKE_NVML_COUNT", std::to_string(count)}};
}

TEST(Fleet, GpusRunEveryCellOnEveryGpuInEveryRoundWithThatGpusEnvironment) {
  std::string dir = TestDir();
  std::string db = dir + "/gpus.db";
  CmdResult r = RunCrashgrid({"sweep", "--grid", "X=1,2,3", "--runs", "3", "--duration", "200ms", "--grace", "2s",
                              "--capture", "none", "--db", db, "--no-live", "--format", "none", "--gpus", "0,1",
                              "--exec", "--", "/bin/sh", "-c",
                              "echo \"$CUDA_VISIBLE_DEVICES $CUDA_DEVICE_ORDER $CRASHGRID_GPU_UUID\""},
                             240, FakeGpus(2));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("crashgrid: warning: --runs 3 rounded up to 4"), std::string::npos) << r.err;
  std::vector<RunRecord> runs = Runs(db);
  ASSERT_EQ(runs.size(), 1u);
  std::vector<StoredTrial> trials = Trials(db, runs[0].id);
  ASSERT_EQ(trials.size(), 12u);  // 3 cells x 4
  const std::string uuid[] = {"GPU-00000000-0000-0000-0000-000000000000", "GPU-00000000-0000-0000-0000-000000000001"};
  for (const auto& t : trials) {
    ASSERT_TRUE(t.result.gpu_index == 0 || t.result.gpu_index == 1) << t.result.gpu_index;
    EXPECT_EQ(t.result.gpu_uuid, uuid[t.result.gpu_index]);
    // The trial saw its own GPU.
    EXPECT_EQ(t.result.stdout_tail,
              std::to_string(t.result.gpu_index) + " PCI_BUS_ID " + uuid[t.result.gpu_index] + "\n");
  }
  // Rounds follow one another (the next starts when the last trial of this one ended): in start order, each
  // block of 6 trials is one round, and holds every (cell, GPU) once.
  std::sort(trials.begin(), trials.end(),
            [](const StoredTrial& a, const StoredTrial& b) { return a.result.started_at < b.result.started_at; });
  for (size_t round = 0; round < 2; ++round) {
    std::set<std::pair<std::string, int>> seen;
    for (size_t i = round * 6; i < round * 6 + 6; ++i)
      seen.insert({trials[i].cell_key, trials[i].result.gpu_index});
    EXPECT_EQ(seen.size(), 6u) << "round " << round;
  }
  // table --by gpu: a row per GPU.
  CmdResult t = RunCrashgrid({"table", db, "--by", "gpu", "--format", "seed"});
  ASSERT_EQ(t.exit_code, 0) << t.err;
  EXPECT_NE(t.out.find("gpu"), std::string::npos) << t.out;
  EXPECT_NE(t.out.find("{0: 2}"), std::string::npos) << t.out;
}

// compare --by gpu and export's GPU fields: GPU 1 of the fake two crashes in every trial, GPU 0 never, so each
// cell's arm for gpu=1 has every trial crashed and gpu=0's none; export names each trial's GPU and uid.
TEST(Fleet, CompareByGpuSplitsEachCellPerGpuAndExportNamesTheGpu) {
  std::string dir = TestDir();
  std::string db = dir + "/bygpu.db";
  CmdResult r = RunCrashgrid({"sweep", "--grid", "X=1,2", "--runs", "4", "--duration", "200ms", "--grace", "2s",
                              "--capture", "none", "--db", db, "--no-live", "--format", "none", "--gpus", "0,1",
                              "--exec", "--", "/bin/sh", "-c",
                              "if [ \"$CRASHGRID_GPU_INDEX\" = 1 ]; then kill -SEGV $$; fi; exit 0"},
                             240, FakeGpus(2));
  ASSERT_EQ(r.exit_code, 0) << r.err;

  CmdResult c = RunCrashgrid({"compare", db, "--by", "gpu", "--json"});
  ASSERT_EQ(c.exit_code, 0) << c.err;
  nlohmann::json j = nlohmann::json::parse(c.out);
  ASSERT_EQ(j["comparisons"].size(), 1u) << c.out;
  const nlohmann::json& cmp = j["comparisons"][0];
  EXPECT_EQ(cmp["a"]["label"], "gpu=0");
  EXPECT_EQ(cmp["b"]["label"], "gpu=1");
  EXPECT_EQ(cmp["shared_axes"], nlohmann::json::array({"X"}));
  ASSERT_EQ(cmp["cells"].size(), 2u) << c.out;
  for (const auto& cell : cmp["cells"]) {
    EXPECT_EQ(cell["a"]["crashes"], 0) << cell;
    EXPECT_EQ(cell["a"]["n"], 2) << cell;
    EXPECT_EQ(cell["b"]["crashes"], 2) << cell;
    EXPECT_EQ(cell["b"]["n"], 2) << cell;
  }
  // The text form names the arms too, and --baseline picks the other GPU.
  CmdResult text = RunCrashgrid({"compare", db, "--by", "gpu", "--baseline", "1"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("A = gpu=1"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("B = gpu=0"), std::string::npos) << text.out;
  CmdResult bad = RunCrashgrid({"compare", db, "--by", "gpu", "--baseline", "5"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("--baseline '5' is not a value of 'gpu'"), std::string::npos) << bad.err;

  // table --by gpu: GPU 1's rows crashed (139) in every trial, GPU 0's exited 0.
  CmdResult t = RunCrashgrid({"table", db, "--by", "gpu", "--format", "seed"});
  ASSERT_EQ(t.exit_code, 0) << t.err;
  EXPECT_NE(t.out.find("{0: 2}"), std::string::npos) << t.out;
  EXPECT_NE(t.out.find("{0: 0, 139: 2}"), std::string::npos) << t.out;  // the seed format always shows exit 0
  EXPECT_EQ(t.out.find("{0: 2, 139: 2}"), std::string::npos) << t.out;  // not pooled over the GPUs

  CmdResult e = RunCrashgrid({"export", db});
  ASSERT_EQ(e.exit_code, 0) << e.err;
  std::istringstream lines(e.out);
  std::string line;
  std::set<std::string> uids;
  int n = 0;
  const std::string uuid[] = {"GPU-00000000-0000-0000-0000-000000000000", "GPU-00000000-0000-0000-0000-000000000001"};
  while (std::getline(lines, line)) {
    nlohmann::json trial = nlohmann::json::parse(line);
    ++n;
    ASSERT_TRUE(trial["gpu_index"] == 0 || trial["gpu_index"] == 1) << line;
    int gpu = trial["gpu_index"].get<int>();
    EXPECT_EQ(trial["gpu_uuid"], uuid[gpu]) << line;
    EXPECT_EQ(trial["outcome"], gpu == 1 ? "crashed" : "clean") << line;
    ASSERT_TRUE(trial["trial_uid"].is_string()) << line;
    EXPECT_FALSE(trial["trial_uid"].get<std::string>().empty()) << line;
    uids.insert(trial["trial_uid"].get<std::string>());
  }
  EXPECT_EQ(n, 8);
  EXPECT_EQ(uids.size(), 8u);  // one uid per trial
  // The uids are the stored ones.
  std::vector<RunRecord> runs = Runs(db);
  ASSERT_EQ(runs.size(), 1u);
  for (const auto& st : Trials(db, runs[0].id)) EXPECT_EQ(uids.count(st.uid), 1u) << st.uid;
}

// compare --by gpu on a run without --gpus: one arm only, and the error says how to get two.
TEST(Fleet, CompareByGpuWithoutGpusSaysToSweepWithGpus) {
  std::string dir = TestDir();
  std::string db = dir + "/nogpu.db";
  CmdResult r = RunCrashgrid(Sweep(db, {}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  CmdResult c = RunCrashgrid({"compare", db, "--by", "gpu"});
  EXPECT_EQ(c.exit_code, 2);
  EXPECT_NE(c.err.find("has trials on 1 GPU(s); --by gpu needs two (sweep with --gpus"), std::string::npos) << c.err;
}

TEST(Fleet, GpusRefusesAnIndexTheMachineHasNotAndAMachineWithoutGpus) {
  std::string dir = TestDir();
  std::vector<std::string> args = {"sweep", "--grid", "X=1", "--runs", "1", "--duration", "200ms", "--capture", "none",
                                   "--db", dir + "/x.db", "--no-live", "--format", "none", "--gpus", "0,2",
                                   "--exec", "--", "/bin/true"};
  CmdResult bad = RunCrashgrid(args, 120, FakeGpus(2));
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("crashgrid: error: --gpus '0,2': '2' is not a GPU index of this machine (it has 2"),
            std::string::npos) << bad.err;
  args[15] = "all";
  CmdResult none = RunCrashgrid(args, 120, {{"LD_LIBRARY_PATH", "/nonexistent"}});
  if (access("/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.1", F_OK) != 0) {  // a machine without a driver
    EXPECT_EQ(none.exit_code, 4) << none.err;
    EXPECT_NE(none.err.find("crashgrid: error: --gpus all: this machine has no NVIDIA GPU"), std::string::npos)
        << none.err;
  }
}

TEST(Fleet, AConfigFileHoldsTheSweepAndTheCommandLineOverridesIt) {
  std::string dir = TestDir();
  {
    std::ofstream toml(dir + "/sweep.toml");
    toml << "grid = [\"X=1,2\", \"Y=a\"]\nruns = 3\nduration = \"200ms\"\ngrace = \"2s\"\ncapture = \"none\"\n"
            "label = [\"from=config\"]\nformat = \"none\"\nno-live = true\nexec = [\"/bin/sh\", \"-c\", \"echo $X$Y\"]\n"
            "db = \"" << dir << "/ignored.db\"\n";
  }
  CmdResult r = RunCrashgrid({"sweep", "--config", dir + "/sweep.toml", "--runs", "2", "--db", dir + "/c.db"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<RunRecord> runs = Runs(dir + "/c.db");
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].runs, 2);  // the command line over the file
  EXPECT_EQ(runs[0].labels.at("from"), "config");
  EXPECT_EQ(runs[0].exec_argv, (std::vector<std::string>{"/bin/sh", "-c", "echo $X$Y"}));
  std::vector<StoredTrial> trials = Trials(dir + "/c.db", runs[0].id);
  ASSERT_EQ(trials.size(), 4u);
  for (const auto& t : trials) EXPECT_TRUE(t.result.stdout_tail == "1a\n" || t.result.stdout_tail == "2a\n");
  EXPECT_FALSE(std::filesystem::exists(dir + "/ignored.db"));

  // The example file parses (a typo in it would make every user's first try fail).
  CmdResult example = RunCrashgrid({"sweep", "--config", std::string(CRASHGRID_SOURCE_DIR) + "/contrib/sweep.toml",
                                    "--runs", "1", "--until", "runs", "--duration", "100ms", "--format", "none",
                                    "--db", dir + "/example.db"});
  ASSERT_EQ(example.exit_code, 0) << example.err;
  std::vector<RunRecord> ex = Runs(dir + "/example.db");
  ASSERT_EQ(ex.size(), 1u);
  EXPECT_EQ(ex[0].workload, "reference-race");
  EXPECT_EQ(Trials(dir + "/example.db", ex[0].id).size(), 6u);  // threads=1,2,4 x sessions=1,4
  CmdResult bad = RunCrashgrid({"sweep", "--config", dir + "/missing.toml"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("crashgrid: error:"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace cg::test

// Which run a sweep command continues (Recorder::OpenRun): the newest run of the same sweep key whose identity
// matches; a changed identity starts a new run and says what differs; --new-run always starts one; --resume
// never does.
#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "sweep/fingerprint.h"
#include "sweep/recorder.h"

namespace cg {
namespace {

namespace fs = std::filesystem;

nlohmann::json Machine(const std::string& driver) {
  return {{"host", "box"}, {"nvidia", {{"driver_version", driver}, {"gpus", nlohmann::json::array()}}}};
}

class RecorderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() / (std::string("cg_recorder_test_") + std::to_string(getpid()) + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    std::string err;
    int code = 0;
    store_ = Store::Open((dir_ / "r.db").string(), Store::Mode::kCreate, &err, &code);
    ASSERT_TRUE(store_) << err;
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }
  static SweepOptions Options() {
    SweepOptions o;
    o.argv = {"crashgrid", "sweep", "--grid", "X=1,2", "--exec", "--", "./prog", "a b"};
    o.exec_argv = {"./prog", "a b"};
    o.grid = {{"X", {"1", "2"}}};
    o.duration_s = 1;
    o.cwd = "/w";
    return o;
  }
  // Opens the run as one invocation would on a machine with `driver`.
  bool Open(const SweepOptions& o, const std::string& driver, Recorder* rec, std::string* err) {
    return rec->OpenRun(o, [&] { return Machine(driver); }, err);
  }

  fs::path dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(RecorderTest, TheSameCommandOnTheSameMachineContinuesTheRun) {
  std::string err;
  Recorder first(store_.get()), second(store_.get());
  ASSERT_TRUE(Open(Options(), "550.54", &first, &err)) << err;
  EXPECT_FALSE(first.resumed());
  EXPECT_EQ(first.note(), "");
  EXPECT_EQ(first.run().identity, RunIdentity(first.run()));
  EXPECT_EQ(first.run().cwd, "/w");
  EXPECT_EQ(first.run().command_line, "crashgrid sweep --grid X=1,2 --exec -- ./prog 'a b'");
  ASSERT_TRUE(Open(Options(), "550.54", &second, &err)) << err;
  EXPECT_TRUE(second.resumed());
  EXPECT_EQ(second.run().id, first.run().id);
  EXPECT_EQ(second.note().rfind("continuing run 1 ", 0), 0u) << second.note();
}

TEST_F(RecorderTest, AnotherDriverStartsANewRunAndSaysWhatDiffers) {
  std::string err;
  Recorder first(store_.get()), second(store_.get()), back(store_.get());
  ASSERT_TRUE(Open(Options(), "550.54", &first, &err)) << err;
  ASSERT_TRUE(Open(Options(), "570.86", &second, &err)) << err;
  EXPECT_FALSE(second.resumed());
  EXPECT_EQ(second.run().id, 2);
  EXPECT_EQ(second.run().sweep_key, first.run().sweep_key);
  EXPECT_EQ(second.note().rfind("new run 2: driver 570.86 differs from run 1's 550.54 (same sweep otherwise", 0), 0u)
      << second.note();
  // Back on the first driver: its own run continues, not the newest one.
  ASSERT_TRUE(Open(Options(), "550.54", &back, &err)) << err;
  EXPECT_TRUE(back.resumed());
  EXPECT_EQ(back.run().id, 1);
}

TEST_F(RecorderTest, ALabelStartsItsOwnRun) {
  std::string err;
  Recorder first(store_.get()), second(store_.get());
  ASSERT_TRUE(Open(Options(), "550.54", &first, &err)) << err;
  SweepOptions labelled = Options();
  labelled.labels = {{"fix", "mutex"}};
  ASSERT_TRUE(Open(labelled, "550.54", &second, &err)) << err;
  EXPECT_FALSE(second.resumed());
  EXPECT_EQ(second.run().labels, labelled.labels);
  EXPECT_NE(second.note().find("label fix=mutex differs from run 1's (none)"), std::string::npos) << second.note();
}

TEST_F(RecorderTest, NewRunNeverContinues) {
  std::string err;
  Recorder first(store_.get()), second(store_.get());
  ASSERT_TRUE(Open(Options(), "550.54", &first, &err)) << err;
  SweepOptions o = Options();
  o.new_run = true;
  ASSERT_TRUE(Open(o, "550.54", &second, &err)) << err;
  EXPECT_FALSE(second.resumed());
  EXPECT_EQ(second.run().id, 2);
  EXPECT_EQ(second.note().rfind("new run 2 (--new-run", 0), 0u) << second.note();
}

TEST_F(RecorderTest, ResumeRefusesToStartARunOrToMixDrivers) {
  std::string err;
  SweepOptions o = Options();
  o.resume = true;
  Recorder none(store_.get());
  EXPECT_FALSE(Open(o, "550.54", &none, &err));
  EXPECT_TRUE(none.refused());
  EXPECT_NE(err.find("no sweep with these settings"), std::string::npos) << err;

  Recorder first(store_.get()), other(store_.get()), same(store_.get());
  ASSERT_TRUE(Open(Options(), "550.54", &first, &err)) << err;
  err.clear();
  EXPECT_FALSE(Open(o, "570.86", &other, &err));
  EXPECT_TRUE(other.refused());
  EXPECT_NE(err.find("driver 570.86 differs from run 1's 550.54"), std::string::npos) << err;
  std::vector<RunRecord> runs;
  ASSERT_TRUE(store_->LoadRuns(&runs, &err)) << err;
  EXPECT_EQ(runs.size(), 1u) << "a refused --resume records nothing";
  ASSERT_TRUE(Open(o, "550.54", &same, &err)) << err;
  EXPECT_TRUE(same.resumed());
}

TEST_F(RecorderTest, ARunStoredBeforeV4ContinuesOnTheSameMachine) {
  std::string err;
  Recorder first(store_.get());
  ASSERT_TRUE(Open(Options(), "550.54", &first, &err)) << err;
  // As a v3 file migrated to v4 reads: no identity, cwd, labels, env or program fingerprint.
  RunRecord old = first.run();
  old.identity = "";
  old.cwd = "";
  old.environment.erase("program");
  ASSERT_TRUE(store_->UpdateRun(old, &err)) << err;
  Recorder again(store_.get()), other(store_.get());
  ASSERT_TRUE(Open(Options(), "550.54", &again, &err)) << err;
  EXPECT_TRUE(again.resumed());
  ASSERT_TRUE(Open(Options(), "570.86", &other, &err)) << err;
  EXPECT_FALSE(other.resumed());
}

}  // namespace
}  // namespace cg

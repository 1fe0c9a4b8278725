// How the store treats the files on disk: a new database appears whole, a damaged one is refused untouched,
// readers leave the directory as they found it, and one sweep at a time records into a file.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>

#include <gtest/gtest.h>

#include "store/create.h"
#include "store/store.h"
#include "util/error.h"
#include "util/test_util.h"

namespace cg {
namespace {

using test_util::Slurp;

namespace fs = std::filesystem;


std::set<std::string> Listing(const fs::path& dir) {
  std::set<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.insert(e.path().filename().string());
  return names;
}

RunRecord SmallRun() {
  RunRecord r;
  r.argv = {"crashgrid", "sweep"};
  r.workload = "exec";
  r.exec_argv = {"/bin/true"};
  r.grid = {{"X", {"1", "2"}}};
  r.runs = 3;
  r.duration_s = 1;
  r.sweep_key = "k";
  return r;
}

class StoreFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("cg_store_files_test_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

  std::unique_ptr<Store> Open(const std::string& path, Store::Mode mode, std::string* err, int* code) {
    return Store::Open(path, mode, err, code);
  }
  std::unique_ptr<Store> MustOpen(const std::string& path, Store::Mode mode) {
    std::string err;
    int code = 0;
    auto store = Store::Open(path, mode, &err, &code);
    EXPECT_TRUE(store) << err;
    return store;
  }
  // A database with one run of `trials` trials, closed.
  void Fill(const std::string& path, int trials) {
    auto store = MustOpen(path, Store::Mode::kCreate);
    ASSERT_TRUE(store);
    RunRecord run = SmallRun();
    std::string err;
    ASSERT_TRUE(store->InsertRun(&run, &err)) << err;
    std::vector<StoredTrial> batch;
    for (int i = 0; i < trials; ++i) {
      StoredTrial t;
      t.cell = {{"X", std::to_string(i % 2 + 1)}};
      t.repetition = i / 2;
      t.result.outcome = Outcome::kClean;
      t.result.stdout_tail = std::string(300, static_cast<char>('a' + i % 26));
      batch.push_back(std::move(t));
    }
    ASSERT_TRUE(store->InsertTrials(run.id, batch, &err)) << err;
  }

  fs::path dir_;
};

TEST_F(StoreFilesTest, ANewDatabaseLeavesOnlyItsFileAndNoTemporary) {
  std::string path = Path("new.db");
  { auto store = MustOpen(path, Store::Mode::kCreate); }
  EXPECT_EQ(Listing(dir_), std::set<std::string>{"new.db"});
  auto again = MustOpen(path, Store::Mode::kReadOnly);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->schema_version(), kStoreSchemaVersion);
}

TEST_F(StoreFilesTest, AnEmptyFileIsReplacedByACompleteDatabase) {
  std::string path = Path("empty.db");
  std::ofstream(path).close();
  { auto store = MustOpen(path, Store::Mode::kCreate); }
  EXPECT_GT(fs::file_size(path), 0u);
  EXPECT_EQ(Listing(dir_), std::set<std::string>{"empty.db"});
}

// What a crashgrid killed while it built a database leaves: the temporary file and its journal, lock free.
// The next creation removes them; a temporary still locked (its creator alive) is left alone.
TEST_F(StoreFilesTest, ATemporaryOfAKilledCreationIsRemovedAndALiveOneIsNot) {
  std::string path = Path("s.db");
  std::string dead = path + store_create::kTempInfix + "abc123";
  std::string live = path + store_create::kTempInfix + "xyz789";
  std::ofstream(dead) << "half";
  std::ofstream(dead + "-journal") << "journal";
  std::ofstream(live) << "busy";
  int live_fd = ::open(live.c_str(), O_RDONLY);
  ASSERT_GE(live_fd, 0);
  ASSERT_EQ(::flock(live_fd, LOCK_EX), 0);
  { auto store = MustOpen(path, Store::Mode::kCreate); }
  ::close(live_fd);
  EXPECT_EQ(Listing(dir_), (std::set<std::string>{"s.db", "s.db.crashgrid-new-xyz789"}));
}

// An older crashgrid created the file in place; killed midway it left the file and a hot journal. Opening
// that through SQLite would roll the journal back into it (a rewrite): it is refused untouched instead.
TEST_F(StoreFilesTest, AnInterruptedInPlaceCreationIsNamedAndLeftUntouched) {
  std::string path = Path("old.db");
  { auto store = MustOpen(path, Store::Mode::kCreate); }
  std::ofstream(path + "-journal") << std::string(512, 'j');
  std::string before = Slurp(path);
  for (Store::Mode mode : {Store::Mode::kCreate, Store::Mode::kReadOnly}) {
    std::string err;
    int code = 0;
    EXPECT_FALSE(Open(path, mode, &err, &code));
    EXPECT_EQ(code, kExitDatabase);
    EXPECT_NE(err.find("whose creation was interrupted"), std::string::npos) << err;
    EXPECT_NE(err.find("delete both files"), std::string::npos) << err;
  }
  EXPECT_EQ(Slurp(path), before);
  EXPECT_EQ(Listing(dir_), (std::set<std::string>{"old.db", "old.db-journal"}));
}

// Pages in the middle overwritten (a bad disk, a stray dd): every mode refuses it with exit 3 and the
// file is not modified, not even by a sweep's run row.
TEST_F(StoreFilesTest, ADatabaseWithOverwrittenPagesIsRefusedInEveryModeAndNotModified) {
  std::string path = Path("bad.db");
  Fill(path, 400);
  std::string bytes = Slurp(path);
  ASSERT_GT(bytes.size(), 16u * 4096u) << "too small to damage its middle";
  for (size_t off = 4 * 4096; off < 12 * 4096; ++off) bytes[off] = static_cast<char>(0x5a ^ (off * 131));
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  for (Store::Mode mode : {Store::Mode::kCreate, Store::Mode::kReadWrite, Store::Mode::kReadOnly}) {
    std::string err;
    int code = 0;
    EXPECT_FALSE(Open(path, mode, &err, &code)) << static_cast<int>(mode);
    EXPECT_EQ(code, kExitDatabase);
    EXPECT_NE(err.find("database '" + path + "' is damaged"), std::string::npos) << err;
    EXPECT_NE(err.find(".recover"), std::string::npos) << err;
  }
  EXPECT_EQ(Slurp(path), bytes) << "the damaged file was modified";
  EXPECT_EQ(Listing(dir_), std::set<std::string>{"bad.db"});
}

TEST_F(StoreFilesTest, AnUndamagedDatabasePassesTheCheck) {
  std::string path = Path("good.db");
  Fill(path, 400);
  EXPECT_TRUE(MustOpen(path, Store::Mode::kReadWrite));
  EXPECT_TRUE(MustOpen(path, Store::Mode::kReadOnly));
}

TEST_F(StoreFilesTest, AReaderLeavesTheDirectoryAsItFoundIt) {
  std::string path = Path("r.db");
  Fill(path, 10);
  std::set<std::string> before = Listing(dir_);
  ASSERT_EQ(before, std::set<std::string>{"r.db"});
  std::string bytes = Slurp(path);
  {
    auto reader = MustOpen(path, Store::Mode::kReadOnly);
    ASSERT_TRUE(reader);
    std::vector<RunRecord> runs;
    std::string err;
    ASSERT_TRUE(reader->LoadRuns(&runs, &err)) << err;
    ASSERT_EQ(runs.size(), 1u);
    std::vector<StoredTrial> trials;
    ASSERT_TRUE(reader->LoadTrials(runs[0].id, true, &trials, &err)) << err;
    EXPECT_EQ(trials.size(), 10u);
    // It reads, and writes nothing.
    RunRecord extra = SmallRun();
    EXPECT_FALSE(reader->InsertRun(&extra, &err));
  }
  EXPECT_EQ(Listing(dir_), before);
  EXPECT_EQ(Slurp(path), bytes);
}

// A reader beside a live writer: it sees what the writer commits, and the writer's -wal/-shm stay while the
// writer is open; once both closed, the directory holds the database alone.
TEST_F(StoreFilesTest, AReaderBesideAWriterSeesItsCommitsAndLeavesItsFilesAlone) {
  std::string path = Path("w.db");
  Fill(path, 4);
  auto reader = MustOpen(path, Store::Mode::kReadOnly);  // opened first: it made the -wal/-shm
  auto writer = MustOpen(path, Store::Mode::kReadWrite);
  ASSERT_TRUE(reader && writer);
  std::string err;
  RunRecord run = SmallRun();
  run.sweep_key = "second";
  ASSERT_TRUE(writer->InsertRun(&run, &err)) << err;
  TrialResult r;
  r.outcome = Outcome::kCrashed;
  ASSERT_TRUE(writer->InsertTrial(run.id, {{"X", "1"}}, 0, r, nullptr, &err)) << err;
  reader.reset();  // not the last connection: the writer's files stay
  EXPECT_TRUE(fs::exists(path + "-wal"));
  auto late_reader = MustOpen(path, Store::Mode::kReadOnly);
  ASSERT_TRUE(late_reader);
  std::vector<StoredTrial> trials;
  ASSERT_TRUE(late_reader->LoadTrials(run.id, false, &trials, &err)) << err;
  ASSERT_EQ(trials.size(), 1u);
  EXPECT_EQ(trials[0].result.outcome, Outcome::kCrashed);
  late_reader.reset();
  ASSERT_TRUE(writer->InsertTrial(run.id, {{"X", "2"}}, 0, r, nullptr, &err)) << err << ": the writer broke";
  writer.reset();
  EXPECT_EQ(Listing(dir_), std::set<std::string>{"w.db"});
}

TEST_F(StoreFilesTest, OneSweepAtATimeHoldsTheFile) {
  std::string path = Path("l.db");
  auto first = MustOpen(path, Store::Mode::kCreate);
  auto second = MustOpen(path, Store::Mode::kCreate);
  ASSERT_TRUE(first && second);
  std::string err;
  int code = 0;
  ASSERT_TRUE(first->LockForSweep(&err, &code)) << err;
  EXPECT_FALSE(second->LockForSweep(&err, &code));
  EXPECT_EQ(code, kExitDatabase);
  EXPECT_NE(err.find("another crashgrid sweep is recording into '" + path + "' now"), std::string::npos) << err;
  // A reader is not held up by it.
  EXPECT_TRUE(MustOpen(path, Store::Mode::kReadOnly));
  first.reset();
  EXPECT_TRUE(second->LockForSweep(&err, &code)) << err;
}

}  // namespace
}  // namespace cg

// End-to-end: the database file and the files commands write, at hostile moments. A kill while the database
// is created, two sweeps on one --db, readers that must leave the directory as they found it, and an output file
// killed midway.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "harness.h"
#include "store/store.h"
#include "util/error.h"
#include "util/strings.h"

namespace cg::test {
namespace {

namespace fs = std::filesystem;

std::set<std::string> Listing(const std::string& dir) {
  std::set<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.insert(e.path().filename().string());
  return names;
}

int64_t TrialCount(const std::string& db) {
  std::string err;
  int code = 0;
  auto store = Store::Open(db, Store::Mode::kReadOnly, &err, &code);
  std::vector<RunRecord> runs;
  if (!store || !store->LoadRuns(&runs, &err)) return -1;
  int64_t n = 0;
  for (const auto& r : runs) {
    std::vector<StoredTrial> trials;
    if (!store->LoadTrials(r.id, false, &trials, &err)) return -1;
    n += static_cast<int64_t>(trials.size());
  }
  return n;
}

// The 5-in-127 half-made files: SIGKILL at 0..30 ms after start, over and over. Every time, the next
// sweep on that --db works, and what is left beside it is the database alone.
TEST(Database, AKillWhileItIsCreatedLeavesNothingTheNextSweepCannotUse) {
  std::string dir = TestDir();
  std::string db = dir + "/k.db";
  std::vector<std::string> sweep = {"sweep", "--runs", "1", "--duration", "1s", "--db", db, "--no-live",
                                    "--format", "none", "--exec", "--", "/bin/true"};
  int leftovers_seen = 0;
  for (int i = 0; i < 40; ++i) {
    fs::remove(db);
    pid_t pid = StartCrashgrid(sweep, dir + "/log");
    ASSERT_GT(pid, 0);
    usleep(static_cast<useconds_t>(i * 750));
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    std::set<std::string> after_kill = Listing(dir);
    after_kill.erase("log");
    if (after_kill.size() > 1 || (after_kill.size() == 1 && !after_kill.count("k.db"))) leftovers_seen++;
    CmdResult next = RunCrashgrid(sweep, 120);
    ASSERT_EQ(next.exit_code, 0) << "after a kill at " << i * 0.75 << " ms (left: " << Join({after_kill.begin(), after_kill.end()}, ", ")
                                 << "): " << next.err;
    std::set<std::string> listing = Listing(dir);
    listing.erase("log");
    ASSERT_EQ(listing, std::set<std::string>{"k.db"}) << "after a kill at " << i * 0.75 << " ms";
    ASSERT_EQ(TrialCount(db), 1);
  }
  // How many kills left something to clean up (a temporary, a -wal): informative, it depends on the load.
  std::printf("kills that left files beside the database: %d of 40\n", leftovers_seen);
}

// Two sweeps of the same 36 trials on one --db at once: one records, the other refuses at once (exit 3, a
// message that says what to do) or, started after the first ended, finds nothing left to run.
TEST(Database, TwoSweepsAtOnceOnOneDbRecordEachTrialOnce) {
  std::string dir = TestDir();
  std::string db = dir + "/two.db";
  std::vector<std::string> sweep = {"sweep", "--grid", "X=1..6", "--grid", "Y=1..6", "--runs", "1", "--jobs", "2",
                                    "--duration", "5s", "--db", db, "--no-live", "--format", "none", "--exec",
                                    "--", "sh", "-c", "sleep 0.05"};
  CmdResult a, b;
  std::thread first([&] { a = RunCrashgrid(sweep, 240); });
  std::thread second([&] { b = RunCrashgrid(sweep, 240); });
  first.join();
  second.join();
  EXPECT_EQ(TrialCount(db), 36) << a.err << "\n---\n" << b.err;
  for (const CmdResult* r : {&a, &b}) {
    EXPECT_TRUE(r->exit_code == 0 || r->exit_code == kExitDatabase) << r->exit_code << ": " << r->err;
    if (r->exit_code == kExitDatabase) {
      EXPECT_NE(r->err.find("another crashgrid sweep is recording into '" + db + "' now"), std::string::npos)
          << r->err;
    }
  }
  EXPECT_TRUE(a.exit_code == 0 || b.exit_code == 0) << a.err << "\n---\n" << b.err;
}

// Reading a finished sweep's database: the directory is exactly as it was, file for file, byte for byte.
TEST(Database, ReadingCommandsLeaveTheDirectoryAsTheyFoundIt) {
  std::string dir = TestDir() + "/db";
  fs::create_directories(dir);
  std::string db = dir + "/r.db";
  CmdResult sweep = RunCrashgrid({"sweep", "--grid", "X=1,2", "--runs", "2", "--duration", "1s", "--db", db,
                                  "--no-live", "--format", "none", "--exec", "--", "sh", "-c", "exit 3"});
  ASSERT_EQ(sweep.exit_code, 0) << sweep.err;
  ASSERT_EQ(Listing(dir), std::set<std::string>{"r.db"});
  auto mtime = fs::last_write_time(db);
  auto size = fs::file_size(db);
  for (const std::vector<std::string>& cmd :
       {std::vector<std::string>{"table", db}, {"crashes", db}, {"show", db, "1"}, {"compare", db},
        {"export", db}, {"mitigations", db}}) {
    CmdResult r = RunCrashgrid(cmd, 120);
    EXPECT_NE(r.exit_code, -1) << cmd[0];
    EXPECT_EQ(Listing(dir), std::set<std::string>{"r.db"}) << cmd[0] << " (exit " << r.exit_code << "): " << r.err;
    EXPECT_EQ(fs::last_write_time(db), mtime) << cmd[0];
    EXPECT_EQ(fs::file_size(db), size) << cmd[0];
  }
}

// A damaged database is refused by a sweep (exit 3, no run row added) and by a reader (exit 3).
TEST(Database, ADamagedDatabaseIsRefusedByASweepAndByReadsAndNotModified) {
  std::string dir = TestDir();
  std::string db = dir + "/bad.db";
  {
    std::string err;
    int code = 0;
    auto store = Store::Open(db, Store::Mode::kCreate, &err, &code);
    ASSERT_TRUE(store) << err;
    RunRecord run;
    run.argv = {"crashgrid", "sweep"};
    run.workload = "exec";
    run.sweep_key = "k";
    ASSERT_TRUE(store->InsertRun(&run, &err)) << err;
    std::vector<StoredTrial> trials(2000);
    for (size_t i = 0; i < trials.size(); ++i) {
      trials[i].cell = {{"X", "1"}};
      trials[i].repetition = static_cast<int>(i);
      trials[i].result.outcome = Outcome::kClean;
      trials[i].result.stdout_tail = std::string(200, 'o');
    }
    ASSERT_TRUE(store->InsertTrials(run.id, trials, &err)) << err;
  }
  std::string bytes = ReadFile(db);
  ASSERT_GT(bytes.size(), 64u * 4096u);
  for (size_t off = 32 * 4096; off < 40 * 4096; ++off) bytes[off] = static_cast<char>(off * 7);
  {
    FILE* f = std::fopen(db.c_str(), "wb");
    ASSERT_TRUE(f);
    std::fwrite(bytes.data(), 1, bytes.size(), f);
    std::fclose(f);
  }
  CmdResult sweep = RunCrashgrid({"sweep", "--runs", "1", "--duration", "1s", "--db", db, "--no-live", "--exec",
                                  "--", "/bin/true"});
  EXPECT_EQ(sweep.exit_code, kExitDatabase) << sweep.err;
  EXPECT_NE(sweep.err.find("crashgrid: error: database '" + db + "' is damaged"), std::string::npos) << sweep.err;
  CmdResult table = RunCrashgrid({"table", db});
  EXPECT_EQ(table.exit_code, kExitDatabase) << table.err;
  EXPECT_NE(table.err.find("is damaged"), std::string::npos) << table.err;
  EXPECT_EQ(ReadFile(db), bytes) << "the damaged database was modified";
  EXPECT_EQ(Listing(dir), std::set<std::string>{"bad.db"});
}

// `export -o` of a large run killed at many moments: the output is either absent or whole, and no temporary
// file is ever left beside it.
TEST(Database, AnOutputFileKilledMidwayLeavesNoTemporary) {
  std::string dir = TestDir();
  std::string db = dir + "/big.db";
  {
    std::string err;
    int code = 0;
    auto store = Store::Open(db, Store::Mode::kCreate, &err, &code);
    ASSERT_TRUE(store) << err;
    RunRecord run;
    run.argv = {"crashgrid", "sweep"};
    run.workload = "exec";
    run.grid = {{"X", {"1", "2", "3", "4"}}};
    run.duration_s = 1;
    run.sweep_key = "k";
    ASSERT_TRUE(store->InsertRun(&run, &err)) << err;
    std::vector<StoredTrial> trials(20000);
    for (size_t i = 0; i < trials.size(); ++i) {
      trials[i].cell = {{"X", std::to_string(i % 4 + 1)}};
      trials[i].repetition = static_cast<int>(i / 4);
      trials[i].result.outcome = i % 7 ? Outcome::kClean : Outcome::kCrashed;
      trials[i].result.signal = i % 7 ? 0 : 11;
      trials[i].result.detail = "trial " + std::to_string(i);
    }
    ASSERT_TRUE(store->InsertTrials(run.id, trials, &err)) << err;
  }
  std::string out = dir + "/out.csv";
  for (int i = 0; i < 20; ++i) {
    pid_t pid = StartCrashgrid({"export", db, "-o", out}, dir + "/log");
    ASSERT_GT(pid, 0);
    usleep(static_cast<useconds_t>(i * 10000));  // 0..190 ms: before, during and after the write
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    // A killed reader may leave SQLite's -wal/-shm (the next command removes them); never a file of ours.
    for (const std::string& name : Listing(dir))
      EXPECT_TRUE(name == "log" || name == "out.csv" || name.rfind("big.db", 0) == 0) << name << ", killed at "
                                                                                     << i * 10 << " ms";
  }
  CmdResult whole = RunCrashgrid({"export", db, "-o", out}, 120);
  ASSERT_EQ(whole.exit_code, 0) << whole.err;
  EXPECT_GT(fs::file_size(out), 20000u);
  std::set<std::string> listing = Listing(dir);
  listing.erase("log");
  EXPECT_EQ(listing, (std::set<std::string>{"big.db", "out.csv"}));
}

}  // namespace
}  // namespace cg::test

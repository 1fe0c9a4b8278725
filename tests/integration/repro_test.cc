// `crashgrid repro` through the real binary: the exported reference-race reproduction builds with cmake and
// make from its directory alone and crashes in the cell crashgrid recorded; an --exec program's run.sh runs
// it with the recorded environment and arguments and counts its crashes; bad input is refused.
#include <sys/stat.h>

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "harness.h"
#include "store/store.h"
#include "util/error.h"
#include "util/strings.h"

namespace cg::test {
namespace {

namespace fs = std::filesystem;

// The most frequent stored signature of a database's first run.
std::string TopSignature(const std::string& db) {
  std::string err;
  int code = 0;
  auto store = Store::Open(db, Store::Mode::kReadOnly, &err, &code);
  EXPECT_TRUE(store) << err;
  if (!store) return "";
  std::vector<RunRecord> runs;
  EXPECT_TRUE(store->LoadRuns(&runs, &err)) << err;
  if (runs.empty()) return "";
  std::vector<StoredTrial> trials;
  EXPECT_TRUE(store->LoadTrials(runs.front().id, false, &trials, &err)) << err;
  std::map<std::string, int> count;
  for (const auto& t : trials)
    if (!t.result.signature.empty()) ++count[t.result.signature];
  std::string best;
  for (const auto& [s, n] : count)
    if (best.empty() || n > count[best]) best = s;
  return best;
}

// Runs a /bin/sh command line in `dir` under timeout(1); its output is read back from files.
CmdResult Shell(const std::string& dir, const std::string& line, double timeout_s, const Env& env = {}) {
  CmdResult r;
  std::string out = dir + "/.shell.out", err = dir + "/.shell.err";
  std::string cmd = "timeout -k 5 " + std::to_string(static_cast<int>(timeout_s)) + " sh -c " + ShellQuote("cd " + ShellQuote(dir) + " && " + line) +
                    " >" + ShellQuote(out) + " 2>" + ShellQuote(err);
  for (const auto& [k, v] : env) cmd = k + "=" + ShellQuote(v) + " " + cmd;
  int status = std::system(cmd.c_str());
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.timed_out = r.exit_code == 124;
  r.out = ReadFile(out);
  r.err = ReadFile(err);
  return r;
}

// A hostile parameter value (a quote, a backslash, a trigraph, a newline, a comment's end) and the C string
// literal every C port's repro_cell.h must hold it as.
constexpr const char* kHostileValue = "a\"b\\c\?\?=\n*/";
constexpr const char* kHostileEntry = "{\"note\", \"a\\\"b\\\\c\\077\\077=\\012*/\"}";

// Writes `db` through the store as a GPU sweep of `workload` would have left it: one run over `grid` with
// `params`, a trial that crashed with `signature` in cell `crashed` and a clean one in cell `clean`.
void WriteOneCrash(const std::string& db, const std::string& workload, std::vector<GridAxis> grid,
                   std::map<std::string, std::string> params, double duration_s, const Cell& crashed,
                   const Cell& clean, const std::string& signature) {
  std::string err;
  int code = 0;
  auto store = Store::Open(db, Store::Mode::kCreate, &err, &code);
  ASSERT_TRUE(store) << err;
  RunRecord run;
  run.workload = workload;
  run.grid = std::move(grid);
  run.params = std::move(params);
  run.runs = 1;
  run.duration_s = duration_s;
  run.capture = "attach";
  ASSERT_TRUE(store->InsertRun(&run, &err)) << err;
  TrialResult crash;
  crash.outcome = Outcome::kCrashed;
  crash.signal = 11;
  crash.signature = signature;
  TrialResult ok;
  ok.outcome = Outcome::kClean;
  int64_t id = 0;
  ASSERT_TRUE(store->InsertTrial(run.id, crashed, 0, crash, &id, &err)) << err;
  ASSERT_TRUE(store->InsertTrial(run.id, clean, 0, ok, &id, &err)) << err;
}

// Each of `files` in the export `out` is the tree's file of that name under src/workloads/`tree_dir`.
void ExpectExportedAsInTree(const std::string& out, const std::string& tree_dir,
                            std::initializer_list<const char*> files) {
  for (const char* f : files)
    EXPECT_EQ(ReadFile(out + "/" + f),
              ReadFile(std::string(CRASHGRID_SOURCE_DIR) + "/src/workloads/" + tree_dir + "/" + f))
        << f;
}

// Copies the export `out` to `copy` (a user's vendored directory) and builds it there both ways its README
// says: cmake, and make with every warning an error.
void BuildVendored(const std::string& out, const std::string& copy) {
  fs::copy(out, copy, fs::copy_options::recursive);
  CmdResult b = Shell(copy, "cmake -S . -B build >/dev/null && cmake --build build", 240);
  ASSERT_EQ(b.exit_code, 0) << b.out << b.err;
  CmdResult w = Shell(copy, "make CFLAGS='-O2 -Wall -Wextra -Werror'", 240);
  ASSERT_EQ(w.exit_code, 0) << w.out << w.err;
}

TEST(Repro, ReferenceRaceReproBuildsAndCrashesInItsCell) {
  std::string dir = TestDir();
  std::string db = dir + "/ref.db";
  // threads=1 never crashes; threads=4 with 4 sessions crashes in nearly every trial.
  CmdResult s = RunCrashgrid({"sweep", "reference-race", "--grid", "threads=1,4", "--param", "sessions=4", "--runs",
                              "3", "--duration", "1s", "--db", db, "--no-live", "--format", "none"});
  ASSERT_EQ(s.exit_code, 0) << s.err;
  std::string sig = TopSignature(db);
  ASSERT_FALSE(sig.empty()) << "the sweep recorded no crash";

  std::string out = dir + "/repro";
  CmdResult r = RunCrashgrid({"repro", db, "--signature", sig, "-o", out, "--runs", "6"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // The workload's own sources, byte for byte as crashgrid compiled them.
  for (const char* f : {"lib/refrace.c", "lib/refrace.h", "lib/refrace_iteration.h"}) {
    std::string name = fs::path(f).filename().string();
    EXPECT_EQ(ReadFile(out + "/" + name),
              ReadFile(std::string(CRASHGRID_SOURCE_DIR) + "/src/workloads/reference_race/" + f))
        << name;
  }
  std::string cell = ReadFile(out + "/repro_cell.h");
  EXPECT_NE(cell.find("#define REPRO_THREADS 4\n"), std::string::npos) << cell;
  EXPECT_NE(cell.find("{\"sessions\", \"4\"}"), std::string::npos) << cell;
  std::string readme = ReadFile(out + "/README.md");
  EXPECT_NE(readme.find("threads=4"), std::string::npos);
  EXPECT_NE(readme.find("Reference target"), std::string::npos);
  EXPECT_NE(readme.find("Representative report (all threads)"), std::string::npos);
  EXPECT_NE(readme.find("refrace_session_open"), std::string::npos) << "the all-threads report is missing";

  // Built with CMake from the directory alone (a copy elsewhere: nothing of crashgrid's tree is reachable).
  std::string copy = dir + "/vendor";
  fs::copy(out, copy, fs::copy_options::recursive);
  CmdResult b = Shell(copy, "cmake -S . -B build >/dev/null && cmake --build build", 240);
  ASSERT_EQ(b.exit_code, 0) << b.out << b.err;
  // 6 runs of the crashing cell (4 threads, 4 sessions, 1 s): each run crashed in every one of the 3 trials
  // crashgrid ran there; at least one of 6 must.
  CmdResult run = Shell(copy, "./build/repro", 240);
  EXPECT_EQ(run.exit_code, 1) << run.out << run.err;
  EXPECT_NE(run.out.find("reference-race: 4 threads, 1000 ms per run, serialize none"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("of 6 runs"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("crashed: "), std::string::npos) << run.out;
  EXPECT_EQ(run.out.find("crashed 0 of"), std::string::npos) << run.out;
  // The cell's mitigation holds in the reproduction too: with `open` serialized nothing can crash.
  CmdResult safe = Shell(copy, "SERIALIZE=open RUNS=2 DURATION_MS=300 ./build/repro", 120);
  EXPECT_EQ(safe.exit_code, 0) << safe.out << safe.err;
  EXPECT_NE(safe.out.find("crashed 0 of 2 runs"), std::string::npos) << safe.out;

  // And with the Makefile.
  std::string copy2 = dir + "/vendor-make";
  fs::copy(out, copy2, fs::copy_options::recursive);
  CmdResult m = Shell(copy2, "make && RUNS=3 ./repro", 240);
  EXPECT_EQ(m.exit_code, 1) << m.out << m.err;
  EXPECT_NE(m.out.find("of 3 runs"), std::string::npos) << m.out;
}

TEST(Repro, ExecRunShRunsTheRecordedCommandAndCountsCrashes) {
  std::string dir = TestDir();
  std::string db = dir + "/exec.db";
  std::string fixture = FixturePath("repro_exec");
  CmdResult s = RunCrashgrid({"sweep", "--grid", "MODE=crash,clean", "--runs", "2", "--duration", "2s", "--env",
                              "REPRO_EXTRA=x y", "--db", db, "--no-live", "--format", "none", "--exec", "--",
                              fixture, "it's \"quoted\""});
  ASSERT_EQ(s.exit_code, 0) << s.err;
  std::string sig = TopSignature(db);
  ASSERT_FALSE(sig.empty()) << "the fixture did not crash under crashgrid";
  std::string out = dir + "/repro";
  CmdResult r = RunCrashgrid({"repro", db, "--signature", sig, "-o", out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  struct stat st {};
  ASSERT_EQ(stat((out + "/run.sh").c_str(), &st), 0);
  EXPECT_TRUE(st.st_mode & S_IXUSR);
  std::string readme = ReadFile(out + "/README.md");
  EXPECT_NE(readme.find("MODE=crash"), std::string::npos) << readme;
  EXPECT_NE(readme.find("REPRO_EXTRA='x y'"), std::string::npos) << readme;
  EXPECT_NE(readme.find("Modules in the crash stacks"), std::string::npos);
  EXPECT_NE(readme.find("repro_exec` |"), std::string::npos) << "the fixture's module is not in the table\n" << readme;
  EXPECT_NE(readme.find("libc.so"), std::string::npos) << readme;

  CmdResult run = Shell(dir, ShellQuote(out + "/run.sh") + " 3", 120);
  EXPECT_EQ(run.exit_code, 1) << run.out << run.err;
  EXPECT_NE(run.out.find("crashed 3 of 3 runs (0 hung, 0 clean, 0 failed)"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("{139: 3}"), std::string::npos) << run.out;
}

TEST(Repro, RefusesUnknownSignatureNonEmptyDirAndBadDatabase) {
  std::string dir = TestDir();
  std::string db = dir + "/exec.db";
  CmdResult s = RunCrashgrid({"sweep", "--grid", "MODE=crash", "--runs", "1", "--duration", "2s", "--env",
                              "REPRO_EXTRA=x y", "--db", db, "--no-live", "--format", "none", "--exec", "--",
                              FixturePath("repro_exec"), "it's \"quoted\""});
  ASSERT_EQ(s.exit_code, 0) << s.err;
  std::string sig = TopSignature(db);
  ASSERT_FALSE(sig.empty());

  CmdResult unknown = RunCrashgrid({"repro", db, "--signature", "SIGBUS-nothing-like-it", "-o", dir + "/a"});
  EXPECT_EQ(unknown.exit_code, kExitUsage);
  EXPECT_NE(unknown.err.find("crashgrid: error: run 1: unknown signature 'SIGBUS-nothing-like-it'"),
            std::string::npos)
      << unknown.err;
  EXPECT_NE(unknown.err.find(sig), std::string::npos) << "the known signatures are not listed: " << unknown.err;
  EXPECT_FALSE(fs::exists(dir + "/a"));

  fs::create_directories(dir + "/full");
  { std::ofstream(dir + "/full/keep.txt") << "mine\n"; }
  CmdResult full = RunCrashgrid({"repro", db, "--signature", sig, "-o", dir + "/full"});
  EXPECT_EQ(full.exit_code, kExitUsage);
  EXPECT_NE(full.err.find("crashgrid: error: output directory '" + dir + "/full' is not empty"), std::string::npos)
      << full.err;
  EXPECT_FALSE(fs::exists(dir + "/full/run.sh"));
  CmdResult forced = RunCrashgrid({"repro", db, "--signature", sig, "-o", dir + "/full", "--force"});
  EXPECT_EQ(forced.exit_code, 0) << forced.err;
  EXPECT_TRUE(fs::exists(dir + "/full/run.sh"));
  EXPECT_EQ(ReadFile(dir + "/full/keep.txt"), "mine\n");

  { std::ofstream(dir + "/junk.db") << "not a database at all, just text\n"; }
  CmdResult bad = RunCrashgrid({"repro", dir + "/junk.db", "--signature", sig, "-o", dir + "/b"});
  EXPECT_EQ(bad.exit_code, kExitDatabase) << bad.err;
  EXPECT_NE(bad.err.find("crashgrid: error:"), std::string::npos);
}

// examples/gst_churn, the GPU run's --exec program, with its software pipeline: every trial is clean under
// crashgrid, and it builds alone with cc and pkg-config as its header says.
TEST(GstChurnExample, RunsCleanUnderSweepExecWithSoftwareElementsAndBuildsAlone) {
  std::string dir = TestDir();
  std::string db = dir + "/churn.db";
  std::string prog = std::string(CRASHGRID_BINARY_DIR) + "/examples/gst_churn";
  CmdResult s = RunCrashgrid({"sweep", "--grid", "THREAD_COUNT=1,2", "--param", "ENCODERS_PER_PIPELINE=2", "--param",
                              "DURATION=1", "--env", "EXAMPLE_ELEMENTS=software", "--runs", "2", "--duration", "1s",
                              "--grace", "30s", "--db", db, "--no-live", "--format", "none", "--exec", "--", prog});
  ASSERT_EQ(s.exit_code, 0) << s.err;
  std::string err;
  int code = 0;
  auto store = Store::Open(db, Store::Mode::kReadOnly, &err, &code);
  ASSERT_TRUE(store) << err;
  std::vector<RunRecord> runs;
  ASSERT_TRUE(store->LoadRuns(&runs, &err)) << err;
  ASSERT_EQ(runs.size(), 1u);
  std::vector<StoredTrial> trials;
  ASSERT_TRUE(store->LoadTrials(runs[0].id, true, &trials, &err)) << err;
  ASSERT_EQ(trials.size(), 4u);
  for (const auto& t : trials) {
    EXPECT_EQ(t.result.outcome, Outcome::kClean) << CellKey(t.cell) << ": " << t.result.stderr_tail;
    EXPECT_NE(t.result.stdout_tail.find("videotestsrc (software) branches"), std::string::npos) << t.result.stdout_tail;
    EXPECT_NE(t.result.stdout_tail.find(" started, 0 failed to start"), std::string::npos) << t.result.stdout_tail;
    // crashgrid.h: one iteration per pipeline cycle, over the workload's own clock, so mitigations has a rate.
    EXPECT_GT(t.result.iterations, 0) << CellKey(t.cell);
    EXPECT_GT(t.result.workload_seconds, 0) << CellKey(t.cell);
  }
  CmdResult m = RunCrashgrid({"mitigations", db, "--axis", "THREAD_COUNT", "--json"});
  ASSERT_EQ(m.exit_code, 0) << m.err;
  nlohmann::json mj = nlohmann::json::parse(m.out);
  ASSERT_EQ(mj["policies"].size(), 2u) << m.out;
  for (const auto& p : mj["policies"]) EXPECT_GT(p["throughput"].get<double>(), 0) << m.out;
  CmdResult b = Shell(dir, "cc -O2 -o gst_churn " + ShellQuote(std::string(CRASHGRID_SOURCE_DIR) + "/examples/gst_churn.c") +
                               " -I" + ShellQuote(std::string(CRASHGRID_SOURCE_DIR) + "/src/workloads/nvdec") +
                               " -I" + ShellQuote(std::string(CRASHGRID_SOURCE_DIR) + "/include") +
                               " $(pkg-config --cflags --libs gstreamer-1.0) -pthread && "
                               "EXAMPLE_ELEMENTS=nvidia DURATION=1 ./gst_churn",
                      240);
  // Built; and asked for the NVIDIA elements on a machine without them, it says so and exits 4.
  EXPECT_TRUE(b.exit_code == 4 || b.exit_code == 0) << b.out << b.err;
  if (b.exit_code == 4) {
    EXPECT_NE(b.err.find("GStreamer has no nvh264dec"), std::string::npos) << b.err;
  }
}

// The nvdec reproduction builds here against the CUDA toolkit's headers (no GPU: compile only; run, it says
// the driver is missing and exits 2). The database is written through the store, as a GPU sweep would have
// left it: one crashed nvdec trial in cell threads=4.
TEST(Repro, NvdecReproBuildsAgainstTheCudaHeaders) {
  if (!fs::exists("/usr/local/cuda/include/cuda.h")) GTEST_SKIP() << "no /usr/local/cuda/include/cuda.h";
  std::string dir = TestDir();
  std::string db = dir + "/nvdec.db";
  ASSERT_NO_FATAL_FAILURE(WriteOneCrash(db, "nvdec", {GridAxis{"threads", {"1", "4"}}},
                                        {{"repeat", "2"}, {"context", "shared"}}, 2, Cell{{"threads", "4"}},
                                        Cell{{"threads", "1"}},
                                        "SIGSEGV/SEGV_MAPERR libnvcuvid.so.1@0x17941 via cuvidDestroyDecoder"));
  std::string out = dir + "/repro";
  CmdResult r = RunCrashgrid({"repro", db, "--signature", "SIGSEGV/SEGV_MAPERR libnvcuvid", "-o", out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ExpectExportedAsInTree(out, "nvdec", {"tiny_h264.inc"});
  ExpectExportedAsInTree(out, "nvdec/repro", {"workload.c", "CMakeLists.txt", "Makefile"});
  ExpectExportedAsInTree(out, "repro", {"repro_main.c", "repro.h"});
  std::string cell = ReadFile(out + "/repro_cell.h");
  EXPECT_NE(cell.find("#define REPRO_THREADS 4\n"), std::string::npos) << cell;
  EXPECT_NE(cell.find("{\"repeat\", \"2\"}"), std::string::npos) << cell;
  EXPECT_NE(ReadFile(out + "/README.md").find("C port"), std::string::npos);

  std::string copy = dir + "/vendor";
  ASSERT_NO_FATAL_FAILURE(BuildVendored(out, copy));
  CmdResult run = Shell(copy, "./repro once", 60);
  if (!fs::exists("/dev/nvidiactl")) {
    EXPECT_EQ(run.exit_code, 2) << run.out << run.err;
    EXPECT_NE(run.err.find("could not start: cannot load libcuda.so.1"), std::string::npos) << run.err;
  }
}

// eglstream's export is a C port too: its cell's settings (fanout layout, two streams a consumer) land in
// repro_cell.h, a hostile parameter value stays a C string literal, and the directory builds with cmake and
// with make -Wall -Wextra -Werror; a value out of its range is refused in crashgrid's words, and without the
// driver `./repro once` says it could not start (exit 2).
TEST(Repro, EglstreamReproBuildsAgainstTheCudaAndEglHeaders) {
  if (!fs::exists("/usr/local/cuda/include/cuda.h")) GTEST_SKIP() << "no /usr/local/cuda/include/cuda.h";
  std::string dir = TestDir();
  std::string db = dir + "/eglstream.db";
  const std::string sig = "SIGSEGV/SEGV_MAPERR libcuda.so.1@0x2f1a3c via cuEGLStreamProducerPresentFrame";
  ASSERT_NO_FATAL_FAILURE(WriteOneCrash(db, "eglstream",
                                        {GridAxis{"threads", {"1", "4"}}, GridAxis{"layout", {"paired", "fanout"}}},
                                        {{"streams", "2"}, {"context", "shared"}, {"note", kHostileValue}}, 2,
                                        Cell{{"threads", "4"}, {"layout", "fanout"}},
                                        Cell{{"threads", "1"}, {"layout", "paired"}}, sig));
  std::string out = dir + "/repro";
  CmdResult r = RunCrashgrid({"repro", db, "--signature", sig, "-o", out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ExpectExportedAsInTree(out, "eglstream/repro", {"workload.c", "CMakeLists.txt", "Makefile"});
  ExpectExportedAsInTree(out, "repro", {"repro_main.c", "repro.h", "repro_cuda.h"});
  std::string cell = ReadFile(out + "/repro_cell.h");
  EXPECT_NE(cell.find("#define REPRO_WORKLOAD \"eglstream\"\n"), std::string::npos) << cell;
  EXPECT_NE(cell.find("#define REPRO_THREADS 4\n"), std::string::npos) << cell;
  EXPECT_NE(cell.find("{\"layout\", \"fanout\"}"), std::string::npos) << cell;
  EXPECT_NE(cell.find("{\"streams\", \"2\"}"), std::string::npos) << cell;
  EXPECT_NE(cell.find(kHostileEntry), std::string::npos) << cell;
  std::string readme = ReadFile(out + "/README.md");
  EXPECT_NE(readme.find("C port"), std::string::npos);
  EXPECT_NE(readme.find("eglstream"), std::string::npos);

  std::string copy = dir + "/vendor";
  ASSERT_NO_FATAL_FAILURE(BuildVendored(out, copy));
  CmdResult bad = Shell(copy, "STREAMS=0 ./repro once", 60);
  EXPECT_EQ(bad.exit_code, 2) << bad.out << bad.err;
  EXPECT_NE(bad.err.find("could not start: parameter 'streams' must be an integer from 1 to 64, not '0'"),
            std::string::npos)
      << bad.err;
  CmdResult run = Shell(copy, "./repro once", 60);
  if (!fs::exists("/dev/nvidiactl")) {
    EXPECT_EQ(run.exit_code, 2) << run.out << run.err;
    EXPECT_NE(run.err.find("could not start: cannot load libcuda.so.1"), std::string::npos) << run.err;
  }
}

// cuda's export is a C port as well: a shared-context cell with non-default allocations, streams and sync
// lands in repro_cell.h (a hostile value as a C string literal), the exported workload.c is the tree's, and
// the directory builds with cmake and with make -Wall -Wextra -Werror against cuda.h alone; a choice outside
// its two values is refused in crashgrid's words, and without the driver `./repro once` says it could not
// start (exit 2).
TEST(Repro, CudaReproBuildsAgainstTheCudaHeader) {
  if (!fs::exists("/usr/local/cuda/include/cuda.h")) GTEST_SKIP() << "no /usr/local/cuda/include/cuda.h";
  std::string dir = TestDir();
  std::string db = dir + "/cuda.db";
  const std::string sig = "SIGSEGV/SEGV_MAPERR libcuda.so.1@0x1c4e8f via cuCtxCreate_v2";
  ASSERT_NO_FATAL_FAILURE(
      WriteOneCrash(db, "cuda", {GridAxis{"threads", {"1", "8"}}, GridAxis{"context", {"per-thread", "shared"}}},
                    {{"allocs", "16"}, {"alloc_kb", "64"}, {"streams", "4"}, {"sync", "off"}, {"note", kHostileValue}},
                    3, Cell{{"threads", "8"}, {"context", "shared"}}, Cell{{"threads", "1"}, {"context", "per-thread"}},
                    sig));
  std::string out = dir + "/repro";
  CmdResult r = RunCrashgrid({"repro", db, "--signature", sig, "-o", out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ExpectExportedAsInTree(out, "cuda/repro", {"workload.c", "CMakeLists.txt", "Makefile"});
  ExpectExportedAsInTree(out, "repro", {"repro_main.c", "repro.h", "repro_cuda.h"});
  std::string cell = ReadFile(out + "/repro_cell.h");
  EXPECT_NE(cell.find("#define REPRO_WORKLOAD \"cuda\"\n"), std::string::npos) << cell;
  EXPECT_NE(cell.find("#define REPRO_THREADS 8\n"), std::string::npos) << cell;
  EXPECT_NE(cell.find("#define REPRO_DURATION_MS 3000\n"), std::string::npos) << cell;
  EXPECT_NE(cell.find("{\"context\", \"shared\"}"), std::string::npos) << cell;
  EXPECT_NE(cell.find("{\"allocs\", \"16\"}"), std::string::npos) << cell;
  EXPECT_NE(cell.find("{\"alloc_kb\", \"64\"}"), std::string::npos) << cell;
  EXPECT_NE(cell.find("{\"streams\", \"4\"}"), std::string::npos) << cell;
  EXPECT_NE(cell.find("{\"sync\", \"off\"}"), std::string::npos) << cell;
  EXPECT_NE(cell.find(kHostileEntry), std::string::npos) << cell;
  std::string readme = ReadFile(out + "/README.md");
  EXPECT_NE(readme.find("C port"), std::string::npos);
  EXPECT_NE(readme.find("cuda"), std::string::npos);
  EXPECT_NE(readme.find("src/workloads/cuda/repro/workload.c"), std::string::npos) << readme;

  std::string copy = dir + "/vendor";
  ASSERT_NO_FATAL_FAILURE(BuildVendored(out, copy));
  CmdResult bad = Shell(copy, "SYNC=maybe ./repro once", 60);
  EXPECT_EQ(bad.exit_code, 2) << bad.out << bad.err;
  EXPECT_NE(bad.err.find("could not start: parameter 'sync' cannot be 'maybe' (use one of: on, off)"),
            std::string::npos)
      << bad.err;
  if (!fs::exists("/dev/nvidiactl")) {
    for (const char* prog : {"./repro once", "./build/repro once"}) {
      CmdResult run = Shell(copy, prog, 60);
      EXPECT_EQ(run.exit_code, 2) << prog << "\n" << run.out << run.err;
      EXPECT_NE(run.out.find("cuda: 8 threads, 3000 ms per run, serialize none"), std::string::npos) << run.out;
      EXPECT_NE(run.err.find("could not start: cannot load libcuda.so.1"), std::string::npos) << run.err;
    }
  }
}

// nvenc's export is a C port as well, built against cuda.h and nv-codec-headers' ffnvcodec/nvEncodeAPI.h: its
// cell's settings (per-thread contexts, a larger frame, more frames a session) land in repro_cell.h, a hostile
// parameter value stays a C string literal, the workload source is the tree's byte for byte, and the directory
// builds with cmake and with make -Wall -Wextra -Werror; without the driver `./repro once` says it could not
// start (exit 2).
TEST(Repro, NvencReproBuildsAgainstTheCudaAndNvencHeaders) {
  if (!fs::exists("/usr/local/cuda/include/cuda.h")) GTEST_SKIP() << "no /usr/local/cuda/include/cuda.h";
  if (!fs::exists("/usr/include/ffnvcodec/nvEncodeAPI.h"))
    GTEST_SKIP() << "no /usr/include/ffnvcodec/nvEncodeAPI.h (nv-codec-headers: libffmpeg-nvenc-dev)";
  std::string dir = TestDir();
  std::string db = dir + "/nvenc.db";
  const std::string sig = "SIGSEGV/SEGV_MAPERR libnvidia-encode.so.1@0x8c2f1 via nvEncDestroyEncoder";
  ASSERT_NO_FATAL_FAILURE(
      WriteOneCrash(db, "nvenc", {GridAxis{"threads", {"1", "8"}}, GridAxis{"context", {"shared", "per-thread"}}},
                    {{"width", "1280"}, {"height", "720"}, {"frames", "16"}, {"note", kHostileValue}}, 2,
                    Cell{{"threads", "8"}, {"context", "per-thread"}}, Cell{{"threads", "1"}, {"context", "shared"}},
                    sig));
  std::string out = dir + "/repro";
  CmdResult r = RunCrashgrid({"repro", db, "--signature", sig, "-o", out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ExpectExportedAsInTree(out, "nvenc/repro", {"workload.c", "CMakeLists.txt", "Makefile"});
  ExpectExportedAsInTree(out, "repro", {"repro_main.c", "repro.h", "repro_cuda.h"});
  std::string cell = ReadFile(out + "/repro_cell.h");
  EXPECT_NE(cell.find("#define REPRO_WORKLOAD \"nvenc\"\n"), std::string::npos) << cell;
  EXPECT_NE(cell.find("#define REPRO_THREADS 8\n"), std::string::npos) << cell;
  EXPECT_NE(cell.find("{\"context\", \"per-thread\"}"), std::string::npos) << cell;
  EXPECT_NE(cell.find("{\"width\", \"1280\"}"), std::string::npos) << cell;
  EXPECT_NE(cell.find("{\"height\", \"720\"}"), std::string::npos) << cell;
  EXPECT_NE(cell.find("{\"frames\", \"16\"}"), std::string::npos) << cell;
  EXPECT_NE(cell.find(kHostileEntry), std::string::npos) << cell;
  std::string readme = ReadFile(out + "/README.md");
  EXPECT_NE(readme.find("C port"), std::string::npos);
  EXPECT_NE(readme.find("nvenc"), std::string::npos);
  EXPECT_NE(readme.find("src/workloads/nvenc/repro/workload.c"), std::string::npos);

  std::string copy = dir + "/vendor";
  ASSERT_NO_FATAL_FAILURE(BuildVendored(out, copy));
  for (const std::string bin : {"./repro", "./build/repro"}) {
    CmdResult run = Shell(copy, bin + " once", 60);
    if (!fs::exists("/dev/nvidiactl")) {
      EXPECT_EQ(run.exit_code, 2) << bin << ": " << run.out << run.err;
      EXPECT_NE(run.err.find("could not start: cannot load libcuda.so.1"), std::string::npos) << bin << ": "
                                                                                               << run.err;
    }
  }
  if (fs::exists("/dev/nvidiactl")) return;
  // Without the GPU, stand-in libraries show the two other ways it cannot start: a driver without
  // libnvidia-encode.so.1, and a GPU without NVENC (the H100/H200: nvEncOpenEncodeSessionEx returns 2).
  std::ofstream(copy + "/stub_cuda.c") << R"(#include <string.h>
int cuInit(unsigned f) { (void)f; return 0; }
int cuGetErrorName(int r, const char** s) { (void)r; *s = "CUDA_ERROR_STUB"; return 0; }
int cuDeviceGetCount(int* n) { *n = 1; return 0; }
int cuDeviceGet(int* d, int i) { *d = i; return 0; }
int cuDeviceGetName(char* s, int n, int d) { (void)d; strncpy(s, "Stub H200", (size_t)n); return 0; }
int cuCtxCreate_v2(void** c, unsigned f, int d) { static int x; (void)f; (void)d; *c = &x; return 0; }
int cuCtxDestroy_v2(void* c) { (void)c; return 0; }
int cuCtxSetCurrent(void* c) { (void)c; return 0; }
int cuCtxPopCurrent_v2(void** c) { *c = 0; return 0; }
)";
  std::ofstream(copy + "/stub_nvenc.c") << R"(#include <ffnvcodec/nvEncodeAPI.h>
static NVENCSTATUS open_session(NV_ENC_OPEN_ENCODE_SESSION_EX_PARAMS* p, void** e) {
  (void)p; *e = 0; return NV_ENC_ERR_UNSUPPORTED_DEVICE;
}
static NVENCSTATUS destroy(void* e) { (void)e; return NV_ENC_SUCCESS; }
NVENCSTATUS NvEncodeAPIGetMaxSupportedVersion(uint32_t* v) { *v = (12 << 4) | 2; return NV_ENC_SUCCESS; }
NVENCSTATUS NvEncodeAPICreateInstance(NV_ENCODE_API_FUNCTION_LIST* f) {
  f->nvEncOpenEncodeSessionEx = open_session;
  f->nvEncDestroyEncoder = destroy;
  return NV_ENC_SUCCESS;
}
)";
  CmdResult s = Shell(copy, "mkdir -p cuda_only hopper && cc -shared -fPIC -o cuda_only/libcuda.so.1 stub_cuda.c && "
                      "cp cuda_only/libcuda.so.1 hopper/ && "
                      "cc -shared -fPIC -o hopper/libnvidia-encode.so.1 stub_nvenc.c", 120);
  ASSERT_EQ(s.exit_code, 0) << s.out << s.err;
  CmdResult no_encode = Shell(copy, "LD_LIBRARY_PATH=$PWD/cuda_only ./repro once", 60);
  EXPECT_EQ(no_encode.exit_code, 2) << no_encode.out << no_encode.err;
  EXPECT_NE(no_encode.err.find("could not start: cannot load libnvidia-encode.so.1"), std::string::npos)
      << no_encode.err;
  CmdResult hopper = Shell(copy, "LD_LIBRARY_PATH=$PWD/hopper ./repro once", 60);
  EXPECT_EQ(hopper.exit_code, 2) << hopper.out << hopper.err;
  EXPECT_NE(hopper.err.find("could not start: nvEncOpenEncodeSessionEx: NV_ENC_ERR_UNSUPPORTED_DEVICE (2): this "
                            "GPU (Stub H200) has no NVENC encoder"),
            std::string::npos)
      << hopper.err;
}

// gst's export is a C port linked against GStreamer (pkg-config gstreamer-1.0): its cell's settings (4 threads,
// 4 branches, a start timeout) land in repro_cell.h, a hostile parameter value stays a C string literal, and
// the directory builds with cmake and with make -Wall -Wextra -Werror. With no GStreamer plugin to load it
// says it could not start (exit 2), as it does for a pinned branch naming a missing element; with the plugins
// here (no NVIDIA elements: the x264enc fallback, said on stdout) its runs are clean.
TEST(Repro, GstReproBuildsAgainstGStreamerAndRunsItsFallback) {
  std::string dir = TestDir();
  if (Shell(dir, "pkg-config --exists gstreamer-1.0", 30).exit_code != 0)
    GTEST_SKIP() << "pkg-config has no gstreamer-1.0 (libgstreamer1.0-dev)";
  std::string db = dir + "/gst.db";
  const std::string sig = "SIGSEGV/SEGV_MAPERR libnvidia-encode.so.1@0x4b2c1 via gst_element_set_state";
  ASSERT_NO_FATAL_FAILURE(
      WriteOneCrash(db, "gst", {GridAxis{"threads", {"1", "4"}}, GridAxis{"branches", {"1", "4"}}},
                    {{"start-timeout", "20s"}, {"note", kHostileValue}}, 2, Cell{{"threads", "4"}, {"branches", "4"}},
                    Cell{{"threads", "1"}, {"branches", "1"}}, sig));
  std::string out = dir + "/repro";
  CmdResult r = RunCrashgrid({"repro", db, "--signature", sig, "-o", out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ExpectExportedAsInTree(out, "gst/repro", {"workload.c", "CMakeLists.txt", "Makefile"});
  ExpectExportedAsInTree(out, "repro", {"repro_main.c", "repro.h"});
  std::string cell = ReadFile(out + "/repro_cell.h");
  EXPECT_NE(cell.find("#define REPRO_WORKLOAD \"gst\"\n"), std::string::npos) << cell;
  EXPECT_NE(cell.find("#define REPRO_THREADS 4\n"), std::string::npos) << cell;
  EXPECT_NE(cell.find("{\"branches\", \"4\"}"), std::string::npos) << cell;
  EXPECT_NE(cell.find("{\"start-timeout\", \"20s\"}"), std::string::npos) << cell;
  EXPECT_NE(cell.find(kHostileEntry), std::string::npos) << cell;
  std::string readme = ReadFile(out + "/README.md");
  EXPECT_NE(readme.find("C port"), std::string::npos);
  EXPECT_NE(readme.find("gst"), std::string::npos);

  std::string copy = dir + "/vendor";
  ASSERT_NO_FATAL_FAILURE(BuildVendored(out, copy));

  // No plugin GStreamer can load (an empty plugin path and a fresh registry): nothing to run, exit 2.
  fs::create_directories(copy + "/no-plugins");
  Env none = {{"GST_PLUGIN_SYSTEM_PATH_1_0", copy + "/no-plugins"},
              {"GST_PLUGIN_PATH_1_0", copy + "/no-plugins"},
              {"GST_REGISTRY_1_0", copy + "/no-plugins/registry.bin"}};
  CmdResult bare = Shell(copy, "./repro once", 60, none);
  EXPECT_EQ(bare.exit_code, 2) << bare.out << bare.err;
  EXPECT_NE(bare.err.find("could not start: no usable GStreamer branch"), std::string::npos) << bare.err;
  CmdResult bare_cmake = Shell(copy, "./build/repro once", 60, none);
  EXPECT_EQ(bare_cmake.exit_code, 2) << bare_cmake.out << bare_cmake.err;
  // A pinned branch (the parameter `branch`, as BRANCH=) with an element that is not installed: exit 2 too.
  CmdResult pinned = Shell(copy, "BRANCH='videotestsrc ! nvnosuchenc ! fakesink' ./repro once", 60);
  EXPECT_EQ(pinned.exit_code, 2) << pinned.out << pinned.err;
  EXPECT_NE(pinned.err.find("could not start: branch 'videotestsrc ! nvnosuchenc ! fakesink' cannot be built"),
            std::string::npos)
      << pinned.err;

  // With the plugins installed here it runs the first candidate that exists (on a machine without NVIDIA
  // elements the CPU fallback, said on stdout), and the runs are clean.
  if (Shell(copy, "gst-inspect-1.0 --exists x264enc && gst-inspect-1.0 --exists videotestsrc", 30).exit_code != 0)
    return;
  CmdResult run = Shell(copy, "RUNS=2 DURATION_MS=500 ./repro", 180);
  EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_NE(run.out.find("gst: 4 threads, 500 ms per run, serialize none"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("gst: 4 x ["), std::string::npos) << run.out;
  if (Shell(copy, "gst-inspect-1.0 --exists nvh264enc || gst-inspect-1.0 --exists nvv4l2h264enc || "
                  "gst-inspect-1.0 --exists nvcudah264enc || gst-inspect-1.0 --exists cudaupload", 30).exit_code != 0) {
    EXPECT_NE(run.out.find("(CPU encoder (no NVIDIA elements found))"), std::string::npos) << run.out;
  }
  EXPECT_NE(run.out.find("crashed 0 of 2 runs"), std::string::npos) << run.out;
  CmdResult once = Shell(copy, "THREADS=2 DURATION_MS=500 ./repro once", 120);
  EXPECT_EQ(once.exit_code, 0) << once.out << once.err;
  EXPECT_NE(once.out.find(" iterations, 0 with errors"), std::string::npos) << once.out;
}

}  // namespace
}  // namespace cg::test

// Run identity and reproduction through the real binary (issue 11): a sweep command continues its run only on
// the same machine, driver and program build, otherwise starts a new run and says so on the first line;
// --new-run; --label (stored, shown, compare --by label:KEY); --env and the cwd reach the program and are
// recorded; every printed reproduction is shell-quoted and, run by /bin/sh, gives the program the same argv.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "harness.h"
#include "store/store.h"
#include "util/error.h"

namespace cg::test {
namespace {

namespace fs = std::filesystem;

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

std::string FirstLine(const std::string& s) { return s.substr(0, s.find('\n')); }

// The fake NVML (tests/fixtures/fake_nvml) first in the library path, reporting `driver`: the fingerprint's
// real input, as a driver update changes it.
Env Driver(const std::string& driver) {
  return {{"LD_LIBRARY_PATH", std::string(CRASHGRID_BINARY_DIR) + "/fixtures/fake_nvml"},
          {"CG_FAKE_NVML_DRIVER", driver}};
}

std::vector<std::string> Sweep(const std::string& db, std::vector<std::string> extra, std::vector<std::string> exec,
                               const std::string& runs = "1") {
  std::vector<std::string> args = {"sweep", "--grid", "X=1,2", "--runs", runs, "--duration", "200ms", "--grace",
                                   "2s", "--capture", "none", "--db", db, "--no-live", "--format", "none"};
  args.insert(args.end(), extra.begin(), extra.end());
  args.insert(args.end(), {"--exec", "--"});
  args.insert(args.end(), exec.begin(), exec.end());
  return args;
}

TEST(Identity, TheSameCommandTwiceContinuesTheRunAndAnotherDriverStartsANewOne) {
  std::string db = TestDir() + "/d.db";
  auto args = Sweep(db, {}, {"/bin/true"});
  CmdResult first = RunCrashgrid(args, 240, Driver("550.54.15"));
  ASSERT_EQ(first.exit_code, 0) << first.err;
  CmdResult again = RunCrashgrid(args, 240, Driver("550.54.15"));
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(FirstLine(again.err).rfind("crashgrid: continuing run 1 ", 0), 0u) << again.err;
  ASSERT_EQ(Runs(db).size(), 1u);
  EXPECT_EQ(Runs(db)[0].environment["nvidia"]["driver_version"], "550.54.15") << Runs(db)[0].environment.dump();

  CmdResult updated = RunCrashgrid(args, 240, Driver("570.86.10"));
  ASSERT_EQ(updated.exit_code, 0) << updated.err;
  EXPECT_EQ(FirstLine(updated.err).rfind("crashgrid: new run 2: driver 570.86.10 differs from run 1's 550.54.15 "
                                         "(same sweep otherwise",
                                         0),
            0u)
      << updated.err;
  auto runs = Runs(db);
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[1].sweep_key, runs[0].sweep_key);
  EXPECT_NE(runs[1].identity, runs[0].identity);
  EXPECT_EQ(Trials(db, 2).size(), 2u) << "the new run runs its own trials";
  EXPECT_EQ(Trials(db, 1).size(), 2u) << "the old run is left as it was";

  // --resume never mixes: it refuses the other driver's run and records nothing.
  CmdResult resume = RunCrashgrid({"sweep", "--resume", "--db", db, "--no-live"}, 240, Driver("535.10"));
  EXPECT_EQ(resume.exit_code, kExitUsage) << resume.err;
  EXPECT_NE(resume.err.find("crashgrid: error: --resume: run 2 cannot be continued here: driver 535.10 differs"),
            std::string::npos)
      << resume.err;
  EXPECT_EQ(Runs(db).size(), 2u);
}

TEST(Identity, ARebuiltProgramStartsANewRunAndNewRunForcesOne) {
  std::string dir = TestDir();
  std::string db = dir + "/p.db", prog = dir + "/prog";
  fs::copy_file("/bin/true", prog);
  auto args = Sweep(db, {}, {prog});
  ASSERT_EQ(RunCrashgrid(args).exit_code, 0);
  // Another build at the same path: the same sweep key, another build-id.
  fs::copy_file("/bin/false", prog, fs::copy_options::overwrite_existing);
  CmdResult rebuilt = RunCrashgrid(args);
  ASSERT_EQ(rebuilt.exit_code, 0) << rebuilt.err;
  EXPECT_EQ(FirstLine(rebuilt.err).rfind("crashgrid: new run 2: program build-id ", 0), 0u) << rebuilt.err;
  auto runs = Runs(db);
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[1].environment["program"]["path"], prog);
  EXPECT_NE(runs[1].environment["program"]["build_id"], runs[0].environment["program"]["build_id"]);

  auto forced = args;
  forced.insert(forced.begin() + 1, "--new-run");
  CmdResult n = RunCrashgrid(forced);
  ASSERT_EQ(n.exit_code, 0) << n.err;
  EXPECT_EQ(FirstLine(n.err).rfind("crashgrid: new run 3 (--new-run; run 2 has the same sweep", 0), 0u) << n.err;
  EXPECT_EQ(Runs(db).size(), 3u);
}

TEST(Identity, LabelsAreStoredShownAndComparable) {
  std::string db = TestDir() + "/l.db";
  // The "driver=550" runs crash in cell X=2, the "driver=570" runs never: compare by label sees the difference.
  CmdResult a = RunCrashgrid(Sweep(db, {"--label", "driver=550", "--label", "rack=b 7"},
                                   {"/bin/sh", "-c", "test \"$X\" = 2 && kill -SEGV $$; exit 0"}, "8"));
  ASSERT_EQ(a.exit_code, 0) << a.err;
  CmdResult b = RunCrashgrid(Sweep(db, {"--label", "driver=570", "--label", "rack=b 7"},
                                   {"/bin/sh", "-c", "test \"$X\" = 2 && kill -SEGV $$; exit 0"}, "8"));
  ASSERT_EQ(b.exit_code, 0) << b.err;
  EXPECT_EQ(FirstLine(b.err).rfind("crashgrid: new run 2: label driver=570 differs from run 1's driver=550", 0), 0u)
      << b.err;
  auto runs = Runs(db);
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].labels, (std::map<std::string, std::string>{{"driver", "550"}, {"rack", "b 7"}}));

  CmdResult table = RunCrashgrid({"table", db, "--run", "1"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("labels: driver=550 rack='b 7'"), std::string::npos) << table.out;
  CmdResult json = RunCrashgrid({"table", db, "--run", "2", "--format", "json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  EXPECT_EQ(nlohmann::json::parse(json.out)["run"]["labels"], (nlohmann::json{{"driver", "570"}, {"rack", "b 7"}}));
  CmdResult crashes = RunCrashgrid({"crashes", db, "--run", "1"});
  EXPECT_NE(crashes.out.find("run 1 [driver=550 rack='b 7']"), std::string::npos) << crashes.out;

  CmdResult cmp = RunCrashgrid({"compare", db, "--by", "label:driver", "--json"});
  ASSERT_EQ(cmp.exit_code, 0) << cmp.err;
  auto j = nlohmann::json::parse(cmp.out);
  ASSERT_EQ(j["comparisons"].size(), 1u) << cmp.out;
  std::string dump = j["comparisons"][0].dump();
  EXPECT_NE(dump.find("driver=550"), std::string::npos) << dump;
  EXPECT_NE(dump.find("driver=570"), std::string::npos) << dump;
  CmdResult text = RunCrashgrid({"compare", db, "--by", "label:driver"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("X=2"), std::string::npos) << text.out;
  CmdResult unknown = RunCrashgrid({"compare", db, "--by", "label:gpu"});
  EXPECT_EQ(unknown.exit_code, kExitUsage);
  EXPECT_EQ(FirstLine(unknown.err).rfind("crashgrid: error: 0 run(s)", 0), 0u) << unknown.err;

  CmdResult bad = RunCrashgrid(Sweep(db, {"--label", "dri ver=1"}, {"/bin/true"}));
  EXPECT_EQ(bad.exit_code, kExitUsage);
  EXPECT_EQ(FirstLine(bad.err).rfind("crashgrid: error: --label 'dri ver=1' is not KEY=VALUE", 0), 0u) << bad.err;
}

TEST(Identity, EnvAndTheWorkingDirectoryReachTheProgramAndAreRecorded) {
  std::string dir = TestDir() + "/my dir";
  fs::create_directories(dir);
  std::string db = dir + "/e.db";
  // The program fails (exit 7) unless it sees both variables and runs in the sweep's working directory.
  std::string check = "test \"$CG_A\" = 'x y' && test \"$CG_B\" = from-env && test \"$X\" -ge 1 && test \"$PWD\" = \"$1\" || exit 7";
  auto args = Sweep(db, {"--env", "CG_A=x y", "--env", "CG_B"}, {"/bin/sh", "-c", check, "sh", fs::current_path().string()});
  CmdResult r = RunCrashgrid(args, 240, {{"CG_B", "from-env"}});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto runs = Runs(db);
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].env, (std::map<std::string, std::string>{{"CG_A", "x y"}, {"CG_B", "from-env"}}));
  EXPECT_EQ(runs[0].cwd, fs::current_path().string());
  for (const auto& t : Trials(db, 1)) EXPECT_EQ(t.result.outcome, Outcome::kClean) << t.result.exit_code;

  CmdResult unset = RunCrashgrid(Sweep(db, {"--env", "CG_SURELY_UNSET_VAR"}, {"/bin/true"}));
  EXPECT_EQ(unset.exit_code, kExitUsage);
  EXPECT_EQ(FirstLine(unset.err), "crashgrid: error: --env CG_SURELY_UNSET_VAR: CG_SURELY_UNSET_VAR is not set in "
                                  "crashgrid's environment (set it, or give --env CG_SURELY_UNSET_VAR=VALUE)")
      << unset.err;
  CmdResult help = RunCrashgrid({"sweep", "--help"});
  EXPECT_NE(help.out.find("--param MODE=fast sets MODE=fast"), std::string::npos) << help.out;
}

std::string XmlUnescape(std::string s) {
  for (auto [from, to] : {std::pair{"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&#39;", "'"}, {"&amp;", "&"}}) {
    for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + 1)) s.replace(p, strlen(from), to);
  }
  return s;
}

// The line after `marker` up to the end of that line.
std::string LineAfter(const std::string& text, const std::string& marker) {
  size_t at = text.find(marker);
  if (at == std::string::npos) return "";
  at += marker.size();
  return text.substr(at, text.find('\n', at) - at);
}

// Runs `line` with /bin/sh -c in `dir` (a fresh shell, as a user would paste it) and returns what the program
// wrote to args.out.
std::string RunRepro(const std::string& line, const std::string& out_file) {
  fs::remove(out_file);
  pid_t pid = fork();
  if (pid == 0) {
    if (chdir("/") != 0) _exit(126);
    execl("/bin/sh", "sh", "-c", line.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return ReadFile(out_file);
}

TEST(Identity, EveryReproductionGivesTheProgramTheSameArgvEnvAndDirectory) {
  std::string dir = TestDir() + "/repro dir";
  fs::create_directories(dir);
  std::string db = dir + "/r.db", junit = dir + "/junit.xml";
  // The program writes its argv, X, the --env variable and its directory to args.out, then crashes.
  std::string script =
      "printf '[%s]\\n' \"$0\" \"$@\" \"X=$X\" \"E=$CG_E\" \"$PWD\" > \"$OUT_DIR/args.out\"; kill -SEGV $$";
  std::vector<std::string> exec = {"/bin/sh", "-c", script, "name", "a b", "it's", "$HOME", "x;y", "p|q", "{X}", ""};
  auto args = Sweep(db, {"--env", "CG_E=\"q\" $v", "--env", "OUT_DIR=" + dir, "--junit", junit}, exec);
  args[2] = "X=1";  // one cell
  CmdResult r = RunCrashgrid(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string trial = ReadFile(dir + "/args.out");
  ASSERT_NE(trial.find("[a b]\n[it's]\n[$HOME]\n[x;y]\n[p|q]\n[1]\n[]\n[X=1]\n[E=\"q\" $v]\n"), std::string::npos)
      << trial;
  std::string out = dir + "/args.out";

  ASSERT_EQ(RunCrashgrid({"bugreport", db, "--signature", "SIGSEGV", "-o", dir + "/bug"}).exit_code, 0);
  std::string md = ReadFile(dir + "/bug/README.md");
  std::string from_md = LineAfter(md, "(its working directory, environment and arguments):\n\n```sh\n");
  ASSERT_FALSE(from_md.empty()) << md;
  EXPECT_EQ(from_md.rfind("cd ", 0), 0u) << from_md;
  EXPECT_EQ(RunRepro(from_md, out), trial) << from_md;

  std::string xml = ReadFile(junit);
  std::string from_junit = XmlUnescape(LineAfter(xml, "reproduce: "));
  EXPECT_EQ(from_junit, from_md) << xml;

  CmdResult show = RunCrashgrid({"show", db, std::to_string(Trials(db, 1).at(0).id)});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_EQ(LineAfter(show.out, "reproduce (one trial of this cell, without crashgrid):\n  "), from_md) << show.out;

  ASSERT_EQ(RunCrashgrid({"report", db, "-o", dir + "/r.html"}).exit_code, 0);
  std::string html = ReadFile(dir + "/r.html");
  std::string from_html = LineAfter(html, "<code class=\"repro\">");
  from_html = XmlUnescape(from_html.substr(0, from_html.find("</code>")));
  EXPECT_EQ(from_html, from_md) << html.substr(0, 4000);

  // The sweep's own command line, as printed, parses back into the argv it was given.
  std::string from_table = LineAfter(RunCrashgrid({"table", db}).out, "): ");
  std::string words = dir + "/words.out";
  RunRepro("set -- " + from_table + "; printf '[%s]\\n' \"$@\" > '" + words + "'", words);
  std::string expected;
  expected += "[crashgrid]\n[sweep]\n";
  for (size_t i = 1; i < args.size(); ++i) expected += "[" + args[i] + "]\n";
  EXPECT_EQ(ReadFile(words), expected) << from_table;
}

}  // namespace
}  // namespace cg::test

// Grid values that hold shell syntax (; | > $( ) and newlines) reach every printed reproduction quoted: each
// command, pasted into /bin/sh, runs the same argv and environment as the trial (issue 12).
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "harness.h"
#include "store/store.h"
#include "util/strings.h"

namespace cg::test {
namespace {

namespace fs = std::filesystem;

// Text between `from` and the next `to` after it (or the end); "" when `from` is missing.
std::string Between(const std::string& text, const std::string& from, const std::string& to) {
  size_t at = text.find(from);
  if (at == std::string::npos) return "";
  at += from.size();
  size_t end = text.find(to, at);
  return text.substr(at, end == std::string::npos ? std::string::npos : end - at);
}

// Runs `line` with /bin/sh -c from / and returns what it wrote to `out_file`.
std::string RunSh(const std::string& line, const std::string& out_file) {
  fs::remove(out_file);
  pid_t pid = fork();
  if (pid == 0) {
    if (chdir("/") != 0) _exit(126);
    execl("/bin/sh", "sh", "-c", line.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return fs::exists(out_file) ? ReadFile(out_file) : "";
}

TEST(ReproQuoting, ShellSyntaxInGridValuesRunsTheSameArgvFromEveryPrintedCommand) {
  std::string dir = TestDir();
  std::string db = dir + "/q.db", out = dir + "/args.out";
  const std::string hostile = "x;y|z>w$(echo pwned)`echo tick`&&a";
  const std::string two_lines = "two\nlines 'q'";
  // The program writes $V and its argument to args.out, then crashes (so bugreport has a signature).
  std::string script = "printf '[%s]\\n' \"$V\" \"$1\" > \"$OUT_DIR/args.out\"; kill -SEGV $$";
  CmdResult sweep = RunCrashgrid({"sweep", "--grid", "V=" + hostile + "," + two_lines, "--runs", "1", "--duration",
                                  "1s", "--db", db, "--no-live", "--env", "OUT_DIR=" + dir, "--exec", "--", "/bin/sh",
                                  "-c", script, "name", "{V}"});
  ASSERT_EQ(sweep.exit_code, 0) << sweep.err;
  EXPECT_FALSE(fs::exists(dir + "/w$(echo pwned)`echo tick`&&a")) << "a value ran as shell syntax in the trial";

  std::string err;
  int code = 0;
  auto store = Store::Open(db, Store::Mode::kReadOnly, &err, &code);
  ASSERT_TRUE(store) << err;
  std::vector<RunRecord> runs;
  ASSERT_TRUE(store->LoadRuns(&runs, &err)) << err;
  std::vector<StoredTrial> trials;
  ASSERT_TRUE(store->LoadTrials(runs.back().id, false, &trials, &err)) << err;
  ASSERT_EQ(trials.size(), 2u);
  for (const StoredTrial& t : trials) {
    std::string v = t.cell.at(0).second;
    std::string expected = "[" + v + "]\n[" + v + "]\n";
    CmdResult show = RunCrashgrid({"show", db, std::to_string(t.id)});
    ASSERT_EQ(show.exit_code, 0) << show.err;
    // The last thing show prints; a quoted newline keeps the command on two lines.
    const std::string marker = "reproduce (one trial of this cell, without crashgrid):\n  ";
    ASSERT_NE(show.out.find(marker), std::string::npos) << show.out;
    std::string repro = show.out.substr(show.out.find(marker) + marker.size());
    ASSERT_FALSE(repro.empty()) << show.out;
    repro.pop_back();  // its final newline
    EXPECT_EQ(RunSh(repro, out), expected) << repro;
  }

  // bugreport: the sweep command for the worst cell parses back into its words; the one-trial command runs.
  CmdResult bug = RunCrashgrid({"bugreport", db, "--signature", "SIGSEGV", "-o", dir + "/bug"});
  ASSERT_EQ(bug.exit_code, 0) << bug.err;
  std::string md = ReadFile(dir + "/bug/README.md");
  std::string one = Between(md, "(its working directory, environment and arguments):\n\n```sh\n", "\n```");
  ASSERT_FALSE(one.empty()) << md;
  std::string ran = RunSh(one, out);
  EXPECT_TRUE(ran == "[" + hostile + "]\n[" + hostile + "]\n" || ran == "[" + two_lines + "]\n[" + two_lines + "]\n")
      << one << "\n" << ran;
  std::string sweep_line = Between(md, "To reproduce:\n\n```sh\n", "\n```");
  ASSERT_FALSE(sweep_line.empty()) << md;
  std::string words = dir + "/words.out";
  // Drop the `cd DIR && ` prefix, then let the shell split the rest into words.
  std::string cmd = sweep_line.substr(sweep_line.find("&& ") + 3);
  std::string printed = RunSh("set -- " + cmd + "; printf '[%s]\\n' \"$@\" > '" + words + "'", words);
  EXPECT_TRUE(printed.find("[--grid]\n[V=" + hostile + "]\n") != std::string::npos ||
              printed.find("[--grid]\n[V=" + two_lines + "]\n") != std::string::npos)
      << sweep_line << "\n" << printed;
  EXPECT_NE(printed.find("[" + script + "]\n[name]\n[{V}]\n"), std::string::npos) << printed;
}

}  // namespace
}  // namespace cg::test

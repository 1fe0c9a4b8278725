// The reproductions reports print (report/reproduce.h): shell-quoted so that /bin/sh gives the program exactly
// the recorded argv, environment and directory.
#include <cstdio>

#include <gtest/gtest.h>

#include "report/escape.h"
#include "report/reproduce.h"

namespace cg {
namespace {

RunRecord ExecRun() {
  RunRecord run;
  run.workload = "exec";
  run.exec_argv = {"./prog", "a b", "it's", "$HOME", "x;y", "p|q", "--n={N}", ""};
  run.grid = {{"N", {"1", "4"}}};
  run.params = {{"MODE", "fast path"}};
  run.env = {{"GST_DEBUG", "3"}, {"QUOTED", "\"q\" $v"}};
  run.cwd = "/my dir";
  run.duration_s = 2;
  return run;
}

// What /bin/sh makes of `line`: one [word] per argument of `printf` put in place of the program.
std::string ShellWords(const std::string& line) {
  FILE* p = popen(("/bin/sh -c " + ShellQuote(line)).c_str(), "r");
  std::string out;
  char buf[256];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  pclose(p);
  return out;
}

TEST(Reproduction, AnExecTrialIsItsDirectoryEnvironmentAndArgvQuoted) {
  EXPECT_EQ(ReproductionCommand(ExecRun(), {{"N", "4"}}),
            "cd '/my dir' && GST_DEBUG=3 QUOTED='\"q\" $v' MODE='fast path' N=4 ./prog 'a b' 'it'\\''s' '$HOME' "
            "'x;y' 'p|q' --n=4 ''");
}

TEST(Reproduction, ShellRunsExactlyTheRecordedArgvAndEnvironment) {
  RunRecord run = ExecRun();
  run.cwd = "/";
  run.exec_argv[0] = "printf";
  run.exec_argv.insert(run.exec_argv.begin() + 1, "[%s]\\n");
  std::string line = ReproductionCommand(run, {{"N", "1"}});
  EXPECT_EQ(ShellWords(line), "[a b]\n[it's]\n[$HOME]\n[x;y]\n[p|q]\n[--n=1]\n[]\n") << line;
  // The variables are assignments the program sees, not words.
  run.exec_argv = {"sh", "-c", "printf '[%s]\\n' \"$GST_DEBUG\" \"$QUOTED\" \"$MODE\" \"$N\" \"$PWD\""};
  line = ReproductionCommand(run, {{"N", "1"}});
  EXPECT_EQ(ShellWords(line), "[3]\n[\"q\" $v]\n[fast path]\n[1]\n[/]\n") << line;
}

TEST(Reproduction, AProgramNamedLikeAnAssignmentIsQuoted) {
  RunRecord run = ExecRun();
  run.cwd.clear();
  run.env.clear();
  run.params.clear();
  run.grid.clear();
  run.exec_argv = {"A=b", "x"};
  EXPECT_EQ(ReproductionCommand(run, {}), "'A=b' x");
}

TEST(Reproduction, ABuiltInTrialIsCrashgridRun) {
  RunRecord run;
  run.workload = "reference-race";
  run.params = {{"threads", "4"}, {"mode", "race"}};
  run.grid = {{"sessions", {"1", "4"}}};
  run.duration_s = 0.3;
  run.env = {{"GST_DEBUG", "2"}};
  run.cwd = "/w";
  EXPECT_EQ(ReproductionCommand(run, {{"sessions", "4"}}),
            "cd /w && GST_DEBUG=2 crashgrid run reference-race --duration 300ms --param mode=race --param sessions=4 "
            "--threads 4");
}

TEST(Reproduction, TheRunsCommandLineIsItsArgvQuoted) {
  RunRecord run;
  run.argv = {"crashgrid", "sweep", "--label", "rack=b 7", "--exec", "--", "./prog", "it's"};
  run.command_line = "crashgrid sweep --label rack=b 7 --exec -- ./prog it's";  // as runs before v4 stored it
  EXPECT_EQ(RunCommandLine(run), "crashgrid sweep --label 'rack=b 7' --exec -- ./prog 'it'\\''s'");
  run.argv.clear();
  EXPECT_EQ(RunCommandLine(run), run.command_line);
}

TEST(Reproduction, LabelsReadAsTheyAreGiven) {
  EXPECT_EQ(LabelsText({{"rack", "b 7"}, {"driver", "570"}}), "driver=570 rack='b 7'");
  EXPECT_EQ(LabelsText({}), "");
}

}  // namespace
}  // namespace cg

// Regressions the fuzz targets (fuzz/) found in util/strings; each input is also in fuzz/corpus/.
#include <cstdio>
#include <string>
#include <sys/wait.h>

#include <gtest/gtest.h>

#include "util/strings.h"

namespace cg {
namespace {

// Runs `line` with /bin/sh -c; returns its stdout, *status its exit status.
std::string RunShell(const std::string& line, int* status) {
  FILE* p = popen(("/bin/sh -c " + ShellQuote(line) + " 2>/dev/null").c_str(), "r");
  if (p == nullptr) return "popen failed";
  std::string out;
  char buf[256];
  for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  int st = pclose(p);
  *status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return out;
}

// fuzz/corpus/fuzz_escape/assign: argv {"THREADS=4", "./prog", "--flag=1"} was joined as `THREADS=4 ./prog ...`,
// which a shell runs as ./prog with THREADS=4 in its environment.
TEST(ShellJoin, QuotesAFirstWordThatLooksLikeAnAssignment) {
  EXPECT_EQ(ShellJoin({"THREADS=4", "./prog", "--flag=1"}), "'THREADS=4' ./prog --flag=1");
  int status = 0;
  // Were CG_FUZZ_T=1 an assignment, the shell would run printenv and print 1.
  EXPECT_EQ(RunShell(ShellJoin({"CG_FUZZ_T=1", "printenv", "CG_FUZZ_T"}), &status), "");
  EXPECT_EQ(status, 127);  // "command not found": the program named CG_FUZZ_T=1
  // Only the first word: later words are arguments, assignments or not.
  EXPECT_EQ(ShellJoin({"env", "A=1", "printenv", "A"}), "env A=1 printenv A");
  EXPECT_EQ(RunShell(ShellJoin({"env", "CG_FUZZ_T=1", "printenv", "CG_FUZZ_T"}), &status), "1\n");
}

}  // namespace
}  // namespace cg

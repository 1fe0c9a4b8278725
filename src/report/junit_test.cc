#include "report/junit.h"

#include <gtest/gtest.h>

#include "../../tests/browser/report_fixture.h"
#include "util/test_util.h"

namespace cg {
namespace {

using test_util::Count;


TEST(Junit, OneTestCasePerCellAndCrashingCellsFail) {
  auto runs = testing::ComparisonFixture();
  std::string xml = RenderJunit(runs[0].run, runs[0].trials);
  EXPECT_EQ(Count(xml, "<testcase "), 6u);
  // Cells crash 2,0,3,1,4,2 times: five fail.
  EXPECT_EQ(Count(xml, "<failure "), 5u);
  EXPECT_NE(xml.find("<testsuites name=\"crashgrid\" tests=\"6\" failures=\"5\" errors=\"0\" skipped=\"0\""),
            std::string::npos);
  EXPECT_NE(xml.find("name=\"threads=1,sessions=4\" time=\"1.400\"></testcase>"), std::string::npos);
  // The message is the commonest signature of the cell.
  EXPECT_NE(xml.find("<failure message=\"SIGSEGV/SEGV_MAPERR null | librefrace.so@0x1234 | refrace_step | "
                     "worker_main\" type=\"crash\">4/4 trials crashed or hung in threads=4,sessions=1\n2 x SIGSEGV"),
            std::string::npos)
      << xml;
}

TEST(Junit, EscapesSignaturesAndCommandLine) {
  auto runs = testing::ComparisonFixture();
  std::string xml = RenderJunit(runs[0].run, runs[0].trials);
  EXPECT_EQ(xml.find("<b>"), std::string::npos);
  EXPECT_NE(xml.find("&lt;b&gt;injected&lt;/b&gt;"), std::string::npos);
  EXPECT_NE(xml.find("value=\"crashgrid sweep reference-race"), std::string::npos);
  EXPECT_NE(xml.find("&#39;ref&lt;1&gt;.db&#39;"), std::string::npos);
}

TEST(Junit, NonZeroExitIsAnErrorAndCouldNotStartIsSkipped) {
  RunRecord run;
  run.workload = "exec";
  run.grid = {{"n", {"1", "2", "3"}}};
  run.exec_argv = {"./prog", "{n}", "a b"};
  run.cwd = "/w d";
  std::vector<StoredTrial> trials(2);
  trials[0].cell = {{"n", "1"}};
  trials[0].result.outcome = Outcome::kFailed;
  trials[0].result.exit_code = 3;
  trials[1].cell = {{"n", "2"}};
  trials[1].result.outcome = Outcome::kCouldNotStart;
  trials[1].result.detail = "no GPU <here>";
  std::string xml = RenderJunit(run, trials);
  EXPECT_NE(xml.find("<error message=\"1/1 trials exited non-zero\" type=\"exit\">exit codes: 3\nreproduce: cd &#39;/w d&#39; "
                     "&amp;&amp; n=1 ./prog 1 &#39;a b&#39;\n</error>"),
            std::string::npos)
      << xml;
  EXPECT_NE(xml.find("<skipped message=\"could not start: no GPU &lt;here&gt;\"/>"), std::string::npos);
  EXPECT_NE(xml.find("name=\"n=3\" time=\"0.000\">\n      <skipped message=\"no trials recorded\"/>"), std::string::npos);
  EXPECT_NE(xml.find("tests=\"3\" failures=\"0\" errors=\"1\" skipped=\"2\""), std::string::npos);
}

TEST(Junit, OverranIsAFailureOfItsOwnTypeNotACrashNorAnError) {
  RunRecord run;
  run.workload = "exec";
  run.grid = {{"n", {"1", "2", "3"}}};
  std::vector<StoredTrial> trials(6);
  for (auto& t : trials) t.result.outcome = Outcome::kClean;
  trials[0].cell = {{"n", "1"}};
  trials[0].result.outcome = Outcome::kOverran;
  trials[1].cell = {{"n", "1"}};
  trials[2].cell = {{"n", "2"}};
  trials[2].result.outcome = Outcome::kCrashed;
  trials[2].result.signal = 11;
  trials[3].cell = {{"n", "2"}};
  trials[3].result.outcome = Outcome::kOverran;
  trials[4].cell = {{"n", "3"}};
  trials[4].result.outcome = Outcome::kFailed;
  trials[4].result.exit_code = 1;
  trials[5].cell = {{"n", "3"}};
  std::string xml = RenderJunit(run, trials);
  EXPECT_NE(xml.find("name=\"n=1\" time=\"0.000\">\n      <failure message=\"1/2 trials overran: still making "
                     "progress past their bound, killed (not a hang)\" type=\"overran\">1 overran"),
            std::string::npos)
      << xml;
  // A crash outranks an overrun in the same cell; its counts leave the overran trial out of k/n.
  EXPECT_NE(xml.find("type=\"crash\">1/1 trials crashed or hung in n=2\n1 x SIGSEGV (no stack)\n1 overran"),
            std::string::npos)
      << xml;
  EXPECT_NE(xml.find("<error message=\"1/2 trials exited non-zero\" type=\"exit\">"), std::string::npos) << xml;
  EXPECT_NE(xml.find("tests=\"3\" failures=\"2\" errors=\"1\" skipped=\"0\""), std::string::npos) << xml;
}

}  // namespace
}  // namespace cg

#include "report/bugreport.h"

#include <gtest/gtest.h>

#include "../../tests/browser/report_fixture.h"
#include "report/golden_test_util.h"
#include "util/strings.h"

namespace cg {
namespace {

std::vector<SignatureCount> Sigs() { return {{"SIGSEGV/SEGV_MAPERR null | a", 5}, {"SIGSEGV/SEGV_MAPERR wild | b", 2}, {"hang | c", 1}}; }

TEST(BugReport, MatchesExactSignatureOrUniquePrefix) {
  std::string m, err;
  EXPECT_TRUE(MatchSignature(Sigs(), "hang | c", &m, &err));
  EXPECT_EQ(m, "hang | c");
  EXPECT_TRUE(MatchSignature(Sigs(), "SIGSEGV/SEGV_MAPERR w", &m, &err));
  EXPECT_EQ(m, "SIGSEGV/SEGV_MAPERR wild | b");
}

TEST(BugReport, AmbiguousOrUnknownSignatureListsTheCandidates) {
  std::string m, err;
  EXPECT_FALSE(MatchSignature(Sigs(), "SIGSEGV", &m, &err));
  EXPECT_NE(err.find("ambiguous"), std::string::npos) << err;
  EXPECT_NE(err.find("'SIGSEGV/SEGV_MAPERR null | a' (5)"), std::string::npos) << err;
  EXPECT_EQ(err.find("hang"), std::string::npos) << err;
  EXPECT_FALSE(MatchSignature(Sigs(), "SIGBUS", &m, &err));
  EXPECT_NE(err.find("unknown signature 'SIGBUS'"), std::string::npos) << err;
  EXPECT_NE(err.find("'hang | c' (1)"), std::string::npos) << err;
  EXPECT_FALSE(MatchSignature({}, "x", &m, &err));
  EXPECT_NE(err.find("no crashes"), std::string::npos) << err;
}

TEST(BugReport, ReproCommandIsTheSweepRestrictedToOneCell) {
  auto runs = testing::ComparisonFixture();
  Cell cell = {{"threads", "4"}, {"sessions", "1"}};
  EXPECT_EQ(Join(ReproArgv(runs[0].run, cell, 20, "repro.db"), " "),
            "crashgrid sweep reference-race --duration 300ms --grid threads=4 --grid sessions=1 --runs 20 --db repro.db");
  RunRecord exec;
  exec.argv = {"crashgrid", "sweep", "--grid=N=1..8", "--runs=69", "--db", "seed.db", "--resume", "--junit", "j.xml",
               "--exec", "--", "./run.sh", "--grid"};
  EXPECT_EQ(Join(ReproArgv(exec, {{"N", "7"}}, 20, "repro.db"), " "),
            "crashgrid sweep --grid N=7 --runs 20 --db repro.db --exec -- ./run.sh --grid");
}

TEST(BugReport, BundleNamesTheWorstCellAndEscapesCapturedText) {
  auto runs = testing::ComparisonFixture();
  BugReport b = RenderBugReport(runs[0].report(), testing::kSigAbort);
  // SIGABRT happens at repetition 2: cells with 3 and 4 crashes (threads=2,sessions=1 and threads=4,sessions=1),
  // one each; the tie goes to the first in key order with the same rate.
  EXPECT_NE(b.markdown.find("crashgrid sweep reference-race --duration 300ms --grid threads=2 --grid sessions=1 "
                            "--runs 20 --db repro.db"),
            std::string::npos)
      << b.markdown;
  EXPECT_NE(b.markdown.find("| `threads \\ sessions` | `1` | `4` |\n|---|---|---|\n| `1` | 0/4 | 0/4 |\n| `2` | 1/4 | 0/4 |\n| `4` | 1/4 | 0/4 |"),
            std::string::npos)
      << b.markdown;
  EXPECT_NE(b.markdown.find("NVIDIA driver: `550.120`"), std::string::npos) << b.markdown;
  EXPECT_NE(b.markdown.find("> **Reference target: crashes are deliberate.**"), std::string::npos);
  EXPECT_NE(b.threads.find("<b>injected</b>+0x10"), std::string::npos);  // plain text file: kept verbatim
  EXPECT_NE(b.markdown.find("<b>injected</b>+0x10"), std::string::npos);   // inside a fenced code block
  EXPECT_NE(b.markdown.find("```\n"), std::string::npos);
  EXPECT_EQ(b.svg.find("<b>"), std::string::npos);
  EXPECT_EQ(b.markdown.find('\x1b'), std::string::npos);
}

TEST(BugReport, MarkdownMatchesGolden) {
  auto runs = testing::ComparisonFixture();
  BugReport b = RenderBugReport(runs[0].report(), testing::kSigSegv);
  testing::ExpectGolden("report_bugreport.md", b.markdown);
}

}  // namespace
}  // namespace cg

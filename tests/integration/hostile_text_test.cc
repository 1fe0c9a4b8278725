// A program under test is untrusted input: its output, its threads' names and the grid values given to it
// reach every text crashgrid writes, and none of it may reach a terminal raw (issue 12).
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "harness.h"
#include "util/strings.h"

namespace cg::test {
namespace {

// What a terminal would obey or mangle: a C0 control other than newline, tab (and CR, which CSV and the HTTP-ish
// line ends of JUnit may use: `allow_cr`), DEL, a C1 control, invalid UTF-8. Returns "" when there is none, else
// where the first one is, with some context.
std::string FirstRawByte(const std::string& s, bool allow_cr = false) {
  for (size_t i = 0; i < s.size();) {
    uint32_t cp = 0;
    size_t len = DecodeUtf8(s, i, &cp);
    bool bad = len == 0 || (cp < 0x20 && cp != '\n' && cp != '\t' && !(allow_cr && cp == '\r')) || cp == 0x7F ||
               (cp >= 0x80 && cp <= 0x9F);
    if (bad) {
      size_t from = i < 40 ? 0 : i - 40;
      return "byte " + std::to_string(i) + " (" + std::to_string(static_cast<unsigned char>(s[i])) + ") after '" +
             TerminalText(s.substr(from, i - from)) + "'";
    }
    i += len;
  }
  return "";
}

class HostileText : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = TestDir();
    db_ = dir_ + "/hostile.db";
    // A grid value and a label that carry a screen clear, and a value a spreadsheet would evaluate.
    CmdResult r = RunCrashgrid({"sweep", "--grid", "MODE=a\x1b[2Jb,=1+1", "--label", "who=x\x1b]0;t\x07y",
                                "--runs", "1", "--duration", "2s", "--db", db_, "--no-live", "--junit",
                                dir_ + "/junit.xml", "--exec", "--", FixturePath("hostile_text"), "{MODE}"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    sweep_ = r;
  }
  std::string dir_, db_;
  CmdResult sweep_;
};

TEST_F(HostileText, NoRawControlByteOrInvalidUtf8InAnyOutput) {
  EXPECT_EQ(FirstRawByte(sweep_.out), "") << "sweep stdout";
  EXPECT_EQ(FirstRawByte(sweep_.err), "") << "sweep stderr";

  CmdResult crashes = RunCrashgrid({"crashes", db_, "--json"});
  ASSERT_EQ(crashes.exit_code, 0) << crashes.err;
  auto j = nlohmann::json::parse(crashes.out);
  ASSERT_FALSE(j["signatures"].empty()) << crashes.out;
  std::string signature = j["signatures"][0]["signature"];
  int64_t trial = j["signatures"][0]["first"]["trial"];

  std::vector<std::vector<std::string>> commands = {
      {"show", db_, std::to_string(trial)},
      {"show", db_, std::to_string(trial), "--json"},
      {"show", db_, "1"},
      {"show", db_, "2"},
      {"crashes", db_},
      {"crashes", db_, "--json"},
      {"export", db_, "--format", "jsonl"},
  };
  for (const char* format : {"seed", "percent", "verdict", "markdown", "json"})
    commands.push_back({"table", db_, "--format", format});
  for (const auto& args : commands) {
    CmdResult r = RunCrashgrid(args);
    std::string cmd = Join(args, " ");
    EXPECT_EQ(r.exit_code, 0) << cmd << "\n" << r.err;
    EXPECT_EQ(FirstRawByte(r.out), "") << TerminalText(cmd);
    EXPECT_EQ(FirstRawByte(r.err), "") << TerminalText(cmd);
  }
  // CSV ends its lines with CRLF (RFC 4180); nothing else raw.
  for (const std::vector<std::string>& args : {std::vector<std::string>{"table", db_, "--format", "csv"},
                                               std::vector<std::string>{"export", db_, "--format", "csv"}}) {
    CmdResult r = RunCrashgrid(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(FirstRawByte(r.out, /*allow_cr=*/true), "") << Join(args, " ");
  }

  CmdResult bug = RunCrashgrid({"bugreport", db_, "--signature", signature, "-o", dir_ + "/bug"});
  ASSERT_EQ(bug.exit_code, 0) << bug.err;
  EXPECT_EQ(FirstRawByte(bug.out), "");
  for (const char* f : {"/bug/README.md", "/bug/report.txt", "/bug/heatmap.svg"})
    EXPECT_EQ(FirstRawByte(ReadFile(dir_ + f)), "") << f;
  ASSERT_EQ(RunCrashgrid({"report", db_, "-o", dir_ + "/r.html"}).exit_code, 0);
  EXPECT_EQ(FirstRawByte(ReadFile(dir_ + "/r.html")), "") << "report";
  EXPECT_EQ(FirstRawByte(ReadFile(dir_ + "/junit.xml")), "") << "junit";
}

TEST_F(HostileText, ShowPrintsEverythingAfterANulAndTheEscapesVisibly) {
  // Both trials (one per cell, in random order): each prints the whole output, one has the escaped value.
  std::string out;
  for (int trial : {1, 2}) {
    CmdResult show = RunCrashgrid({"show", db_, std::to_string(trial)});
    ASSERT_EQ(show.exit_code, 0) << show.err;
    EXPECT_NE(show.out.find("nul-next:\\x00after-nul-marker"), std::string::npos) << show.out;
    out += show.out;
  }
  // The rest of stdout after the NUL, and all of stderr.
  EXPECT_NE(out.find("nul-next:\\x00after-nul-marker"), std::string::npos) << out;
  EXPECT_NE(out.find("stderr-marker \\x1b[31mred\\x1b[0m \\x9b2J"), std::string::npos) << out;
  // Each attack is shown as text.
  EXPECT_NE(out.find("\\x1b]0;pwned-title\\x07"), std::string::npos) << out;
  EXPECT_NE(out.find("\\x1b[2J"), std::string::npos) << out;
  EXPECT_NE(out.find("\\x1b]52;c;cHduZWQ=\\x07"), std::string::npos) << out;
  EXPECT_NE(out.find("bad-utf8:\\xff\\xfe\\xc3("), std::string::npos) << out;
  // The crashing thread's name (an escape and a byte that is not UTF-8, which the stored report already holds
  // as U+FFFD) on its own heading line.
  EXPECT_NE(out.find("\"w\\x1b[2J\xEF\xBF\xBD" "evil\""), std::string::npos) << out;
  // The grid value and the label, visible.
  EXPECT_NE(out.find("a\\x1b[2Jb"), std::string::npos) << out;
  EXPECT_NE(out.find("x\\x1b]0;t\\x07y"), std::string::npos) << out;

  CmdResult json = RunCrashgrid({"show", db_, "1", "--json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  auto t = nlohmann::json::parse(json.out);
  std::string tail = t["result"]["stdout_tail"];
  EXPECT_NE(tail.find("after-nul-marker"), std::string::npos) << json.out;
}

TEST_F(HostileText, CsvGuardsFormulaCellsAndKeepsNumbers) {
  CmdResult table = RunCrashgrid({"table", db_, "--format", "csv"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  // The grid value "=1+1" is text to a spreadsheet; run_id and the counts stay bare numbers.
  EXPECT_NE(table.out.find(",\"'=1+1\","), std::string::npos) << table.out;
  EXPECT_EQ(table.out.find(",=1+1"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("\n1,false,"), std::string::npos) << table.out;
  CmdResult exported = RunCrashgrid({"export", db_, "--format", "csv"});
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  EXPECT_NE(exported.out.find(",\"'=1+1\","), std::string::npos) << exported.out;
  EXPECT_EQ(exported.out.find(",=1+1"), std::string::npos) << exported.out;
}

}  // namespace
}  // namespace cg::test

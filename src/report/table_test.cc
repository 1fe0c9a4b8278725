#include "report/table.h"

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <cmath>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "report/cells.h"
#include "stats/stats.h"
#include "util/strings.h"

namespace cg {
namespace {

using ::testing::HasSubstr;

std::string GoldenPath(const std::string& name) { return std::string(CRASHGRID_SOURCE_DIR) + "/tests/golden/" + name; }

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Compares with a golden file written by this renderer and reviewed by hand. CRASHGRID_UPDATE_GOLDEN=1
// rewrites it (then review the diff). The tabulate goldens come from tests/golden/table_gen.py instead.
void ExpectGolden(const std::string& name, const std::string& actual) {
  std::string path = GoldenPath(name);
  if (const char* u = std::getenv("CRASHGRID_UPDATE_GOLDEN"); u && std::string(u) == "1") {
    std::ofstream(path, std::ios::binary) << actual;
  }
  EXPECT_EQ(actual, ReadFile(path)) << "golden " << path << " differs (CRASHGRID_UPDATE_GOLDEN=1 rewrites it)";
}

StoredTrial MakeTrial(const Cell& cell, Outcome outcome, int signal_or_code = 0, const std::string& signature = "",
                      double t = 5) {
  StoredTrial s;
  s.cell = cell;
  s.cell_key = CellKey(cell);
  s.result.outcome = outcome;
  if (outcome == Outcome::kCrashed) s.result.signal = signal_or_code;
  if (outcome == Outcome::kFailed) s.result.exit_code = signal_or_code;
  s.result.signature = signature;
  s.result.time_to_outcome_s = t;
  s.result.iterations = 100;
  return s;
}

void Add(std::vector<StoredTrial>* trials, int count, const Cell& cell, Outcome outcome, int code = 0,
         const std::string& signature = "", double t = 5) {
  for (int i = 0; i < count; ++i) {
    trials->push_back(MakeTrial(cell, outcome, code, signature, t));
    trials->back().repetition = i;
    trials->back().id = static_cast<int64_t>(trials->size());
  }
}

// --- The tabulate emulation, against the real python-tabulate -------------------------------------------------

TEST(Tabulate, MatchesPythonTabulateGridAndPipeByteForByte) {
  auto doc = nlohmann::json::parse(ReadFile(GoldenPath("table_tabulate_cases.json")));
  ASSERT_GE(doc["cases"].size(), 10u);
  for (const auto& c : doc["cases"]) {
    auto headers = c["headers"].get<std::vector<std::string>>();
    auto rows = c["rows"].get<std::vector<std::vector<std::string>>>();
    EXPECT_EQ(TabulateGrid(headers, rows), c["grid"].get<std::string>()) << "case " << c["name"];
    EXPECT_EQ(TabulatePipe(headers, rows), c["pipe"].get<std::string>()) << "case " << c["name"];
  }
}

// --- The seed report's table, end to end ------------------------------------------------------------------

// seeds/000: (exit 0, exit 139) counts per (THREAD_COUNT, ENCODERS_PER_PIPELINE); tests/golden/table_gen.py
// holds the same numbers.
const int kSeed[12][12][2] = {
    {{69, 0}, {69, 0}, {69, 0}, {69, 0}, {69, 0}, {69, 0}, {69, 0}, {69, 0}, {69, 0}, {9, 0}, {69, 0}, {69, 0}},
    {{69, 0}, {69, 0}, {66, 3}, {67, 2}, {69, 0}, {50, 19}, {61, 8}, {59, 10}, {56, 13}, {0, 9}, {52, 17}, {45, 24}},
    {{55, 14}, {67, 2}, {51, 18}, {37, 32}, {26, 43}, {37, 32}, {31, 38}, {33, 36}, {33, 36}, {1, 38}, {30, 39}, {27, 42}},
    {{59, 10}, {63, 6}, {28, 41}, {18, 51}, {21, 48}, {18, 51}, {13, 56}, {26, 43}, {23, 46}, {2, 37}, {26, 43}, {31, 38}},
    {{65, 4}, {21, 48}, {12, 57}, {24, 45}, {16, 53}, {22, 47}, {21, 48}, {47, 22}, {41, 28}, {7, 42}, {56, 13}, {68, 1}},
    {{66, 3}, {16, 53}, {19, 50}, {18, 51}, {29, 40}, {32, 37}, {44, 25}, {42, 27}, {56, 13}, {8, 1}, {65, 3}, {68, 0}},
    {{62, 6}, {11, 57}, {25, 43}, {24, 44}, {33, 35}, {38, 30}, {46, 22}, {65, 3}, {66, 2}, {8, 0}, {68, 0}, {68, 0}},
    {{68, 0}, {7, 61}, {22, 46}, {31, 37}, {40, 28}, {46, 22}, {68, 0}, {66, 2}, {68, 0}, {8, 0}, {68, 0}, {68, 0}},
    {{46, 22}, {18, 50}, {34, 34}, {33, 35}, {41, 27}, {41, 27}, {67, 1}, {68, 0}, {68, 0}, {8, 0}, {68, 0}, {68, 0}},
    {{53, 15}, {20, 48}, {29, 39}, {48, 20}, {46, 22}, {67, 1}, {68, 0}, {67, 1}, {68, 0}, {8, 0}, {68, 0}, {68, 0}},
    {{43, 25}, {21, 47}, {39, 29}, {43, 25}, {60, 8}, {68, 0}, {68, 0}, {68, 0}, {68, 0}, {8, 0}, {68, 0}, {67, 1}},
    {{44, 24}, {41, 27}, {42, 26}, {48, 20}, {65, 3}, {68, 0}, {68, 0}, {68, 0}, {68, 0}, {8, 0}, {67, 1}, {66, 2}},
};

struct Fixture {
  RunRecord run;
  std::vector<StoredTrial> trials;
};

Fixture SeedFixture() {
  Fixture f;
  f.run.id = 1;
  f.run.created_at = 1763776000;
  f.run.workload = "exec";
  f.run.command_line =
      "crashgrid sweep --grid THREAD_COUNT=1..12 --grid ENCODERS_PER_PIPELINE=1..12 --runs 69 --db seed.db "
      "--exec ./run.sh";
  f.run.finished = true;
  GridAxis threads{"THREAD_COUNT", {}}, encoders{"ENCODERS_PER_PIPELINE", {}};
  for (int i = 1; i <= 12; ++i) {
    threads.values.push_back(std::to_string(i));
    encoders.values.push_back(std::to_string(i));
  }
  f.run.grid = {threads, encoders};
  // Interleave outcomes the way a sweep records them, so nothing depends on trial order.
  for (int round = 0; round < 69; ++round) {
    for (int t = 0; t < 12; ++t) {
      for (int e = 0; e < 12; ++e) {
        Cell cell = {{"THREAD_COUNT", std::to_string(t + 1)}, {"ENCODERS_PER_PIPELINE", std::to_string(e + 1)}};
        const int clean = kSeed[t][e][0], crashed = kSeed[t][e][1];
        if (round < crashed) {
          f.trials.push_back(MakeTrial(cell, Outcome::kCrashed, 11, "SIGSEGV|wild|libnvcuvid.so.1@0x17941"));
        } else if (round < crashed + clean) {
          f.trials.push_back(MakeTrial(cell, Outcome::kClean));
        }
      }
    }
  }
  return f;
}

TEST(Table, SeedFormatReproducesTablePyOutputByteForByte) {
  Fixture f = SeedFixture();
  TableOptions o;
  o.format = TableFormat::kSeed;
  std::string out, err;
  ASSERT_TRUE(RenderTable(f.run, GroupTrials(f.trials, f.run.duration_s), o, &out, &err)) << err;
  EXPECT_EQ(out, ReadFile(GoldenPath("table_seed.txt")));  // generated by the real tabulate
}

// --- A small run with every outcome, for the other formats ------------------------------------------------

const char kSigA[] = "SIGSEGV/SEGV_MAPERR|wild|libnvcuvid.so.1@0x17941|libnvcuvid.so.1@0x17a7a";
const char kSigB[] = "SIGSEGV/SEGV_MAPERR|null|libnvidia-encode.so.1@0x1234";
const char kSigHang[] = "hang|futex_wait|libcuda.so.1@0x5555";

Fixture MixedFixture() {
  Fixture f;
  f.run.id = 7;
  f.run.created_at = 1763779600.5;
  f.run.workload = "reference-race";
  f.run.command_line = "crashgrid sweep reference-race --grid threads=1,2,4 --grid sessions=1,8 --until decided";
  f.run.reference_target = true;
  f.run.grid = {{"threads", {"1", "2", "4"}}, {"sessions", {"1", "8"}}};
  f.run.duration_s = 5;
  f.run.settings = {{"until", "decided"}, {"sprt", {{"p0", 0.01}, {"p1", 0.1}, {"alpha", 0.05}, {"beta", 0.05}}}};
  f.run.finished = false;
  auto& t = f.trials;
  Cell c11 = {{"threads", "1"}, {"sessions", "1"}}, c18 = {{"threads", "1"}, {"sessions", "8"}};
  Cell c21 = {{"threads", "2"}, {"sessions", "1"}}, c28 = {{"threads", "2"}, {"sessions", "8"}};
  Cell c48 = {{"threads", "4"}, {"sessions", "8"}};
  Add(&t, 31, c11, Outcome::kClean);
  Add(&t, 20, c18, Outcome::kClean);
  Add(&t, 1, c18, Outcome::kCrashed, 11, kSigA, 1.5);
  Add(&t, 2, c18, Outcome::kOverran, 0, "", 6.5);  // slow, not stuck: neither a crash nor a clean run
  Add(&t, 5, c21, Outcome::kClean);
  Add(&t, 3, c21, Outcome::kCrashed, 11, kSigA, 2);
  Add(&t, 1, c21, Outcome::kHung, 0, kSigHang, 7.5);  // past the duration: exposure capped at 5 s
  Add(&t, 10, c28, Outcome::kClean);
  Add(&t, 2, c28, Outcome::kFailed, 3);
  Add(&t, 1, c28, Outcome::kCrashed, 6, kSigB, 0.5);
  Add(&t, 2, c28, Outcome::kCouldNotStart);
  Add(&t, 2, c48, Outcome::kCouldNotStart);
  for (size_t i = 0; i < t.size(); ++i) t[i].id = static_cast<int64_t>(i + 1);
  return f;
}

std::string Render(const Fixture& f, TableFormat format, const std::string& rows = "", const std::string& cols = "",
                   const std::string& signature = "") {
  TableOptions o;
  o.format = format;
  o.rows = rows;
  o.cols = cols;
  o.signature = signature;
  std::string out, err;
  EXPECT_TRUE(RenderTable(f.run, GroupTrials(f.trials, f.run.duration_s), o, &out, &err)) << err;
  return out;
}

// Grid names and values are the user's: an escape, a pipe, backticks and a formula.
Fixture HostileFixture() {
  Fixture f;
  f.run.id = 3;
  f.run.workload = "exec";
  f.run.command_line = "crashgrid sweep --grid 'M=a\x1b[2Jb|`x`,=1+1' --label who=\x1b]0;t\x07";
  f.run.labels = {{"who", "\x1b]0;t\x07"}};
  f.run.grid = {{"M", {"a\x1b[2Jb|`x`_*", "=1+1"}}, {"N\xff", {"-2", "x\ny"}}};
  f.run.duration_s = 1;
  for (const auto& m : f.run.grid[0].values)
    for (const auto& n : f.run.grid[1].values) Add(&f.trials, 2, {{"M", m}, {"N\xff", n}}, Outcome::kCrashed, 11);
  return f;
}

TEST(Table, HostileNamesAndValuesAreVisibleAndStayInTheirCells) {
  Fixture f = HostileFixture();
  for (auto format : {TableFormat::kSeed, TableFormat::kPercent, TableFormat::kVerdict, TableFormat::kMarkdown}) {
    std::string out = Render(f, format);
    EXPECT_EQ(out.find('\x1b'), std::string::npos) << out;
    EXPECT_EQ(out.find('\x07'), std::string::npos) << out;
    EXPECT_EQ(out.find("\xff"), std::string::npos) << out;
    if (format == TableFormat::kMarkdown) continue;
    EXPECT_THAT(out, HasSubstr("a\\x1b[2Jb|`x`_*")) << out;
    EXPECT_THAT(out, HasSubstr("N\\xff")) << out;
    EXPECT_THAT(out, HasSubstr("x\\x0ay")) << out;  // a value's newline does not start a row
    EXPECT_THAT(out, HasSubstr("who='\\x1b]0;t\\x07'")) << out;
  }
  std::string md = Render(f, TableFormat::kMarkdown);
  // Markdown punctuation in a value is literal: the pipe does not split the cell, the backticks open no span.
  EXPECT_THAT(md, HasSubstr("a\\\\x1b\\[2Jb\\|\\`x\\`\\_\\*")) << md;
  EXPECT_THAT(md, HasSubstr("N\\\\xff")) << md;
  EXPECT_THAT(md, HasSubstr("x\\\\x0ay")) << md;
  EXPECT_THAT(md, HasSubstr("who='\\\\x1b\\]0;t\\\\x07'")) << md;
}

// A damaged database can hold any double as a run's start (fuzz_db found -2.0e126): the header says it is not a
// time instead of casting it to time_t (undefined; UBSan stops there in make test-asan).
TEST(Table, ARunStartOutOfRangeIsNoValidTime) {
  for (double when : {-2.0109e126, 1e300, std::nan("")}) {
    Fixture f = MixedFixture();
    f.run.created_at = when;
    std::string text = Render(f, TableFormat::kPercent);
    EXPECT_NE(text.find("(no valid time)"), std::string::npos) << when << "\n" << text;
  }
}

TEST(Table, CsvGuardsFormulaValuesAndKeepsNegativeNumbers) {
  std::string csv = Render(HostileFixture(), TableFormat::kCsv);
  EXPECT_THAT(csv, HasSubstr("\n3,false,\"'=1+1\",-2,"));
  EXPECT_EQ(csv.find(",=1+1"), std::string::npos) << csv;
  EXPECT_EQ(csv.find('\x1b'), std::string::npos) << csv;
  EXPECT_THAT(csv, HasSubstr("N\\xff")) << csv;
}

TEST(Table, PercentFormatMatchesGolden) { ExpectGolden("table_percent.txt", Render(MixedFixture(), TableFormat::kPercent)); }
TEST(Table, MarkdownFormatMatchesGolden) {
  ExpectGolden("table_markdown.md", Render(MixedFixture(), TableFormat::kMarkdown));
}
TEST(Table, VerdictFormatMatchesGolden) { ExpectGolden("table_verdict.txt", Render(MixedFixture(), TableFormat::kVerdict)); }
TEST(Table, CsvFormatMatchesGolden) { ExpectGolden("table_cells.csv", Render(MixedFixture(), TableFormat::kCsv)); }
TEST(Table, JsonFormatMatchesGolden) { ExpectGolden("table_cells.json", Render(MixedFixture(), TableFormat::kJson)); }
TEST(Table, SeedFormatOfMixedOutcomesMatchesGolden) {
  ExpectGolden("table_seed_mixed.txt", Render(MixedFixture(), TableFormat::kSeed));
}
TEST(Table, SignatureFilterMatchesGolden) {
  // A prefix of kSigA that no other signature shares.
  ExpectGolden("table_signature.txt", Render(MixedFixture(), TableFormat::kPercent, "", "", "SIGSEGV/SEGV_MAPERR|w"));
}

Fixture ThreeAxisFixture() {
  Fixture f;
  f.run.id = 3;
  f.run.created_at = 1763780000;
  f.run.workload = "gst";
  f.run.command_line = "crashgrid sweep gst --grid threads=1,2 --grid sessions=1,2 --grid serialize=none,global";
  f.run.finished = true;
  f.run.grid = {{"threads", {"1", "2"}}, {"sessions", {"1", "2"}}, {"serialize", {"none", "global"}}};
  int k = 0;
  for (const auto& th : f.run.grid[0].values)
    for (const auto& se : f.run.grid[1].values)
      for (const auto& sz : f.run.grid[2].values) {
        Cell cell = {{"threads", th}, {"sessions", se}, {"serialize", sz}};
        int crashes = sz == "none" ? ++k : 0;
        Add(&f.trials, 10 - crashes, cell, Outcome::kClean);
        Add(&f.trials, crashes, cell, Outcome::kCrashed, 11, kSigA, 1);
      }
  return f;
}

TEST(Table, ThreeAxesGiveOneTablePerValueOfTheThird) {
  ExpectGolden("table_three_axes.txt", Render(ThreeAxisFixture(), TableFormat::kPercent));
}

TEST(Table, RowsAndColsPickTheAxes) {
  ExpectGolden("table_three_axes_rows_cols.txt",
               Render(ThreeAxisFixture(), TableFormat::kPercent, "serialize", "threads"));
}

TEST(Table, RowsOnlyFillsColumnsWithTheFirstOtherAxis) {
  // --rows sessions alone: columns are threads (the first other axis), tables per serialize.
  std::string out = Render(ThreeAxisFixture(), TableFormat::kPercent, "sessions");
  EXPECT_THAT(out, HasSubstr("sessions \\ threads"));
  EXPECT_THAT(out, HasSubstr("\nserialize=none\n"));
  EXPECT_THAT(out, HasSubstr("\nserialize=global\n"));
}

TEST(Table, TransposingSwapsRowsAndColumns) {
  Fixture f = MixedFixture();
  std::string normal = Render(f, TableFormat::kPercent);
  std::string swapped = Render(f, TableFormat::kPercent, "sessions", "threads");
  EXPECT_THAT(normal, HasSubstr("threads \\ sessions"));
  EXPECT_THAT(swapped, HasSubstr("sessions \\ threads"));
  EXPECT_NE(normal, swapped);
  // The same cell text in both: threads=2,sessions=1 has 4 crashes in 9 runs (stopped there by the SPRT).
  EXPECT_THAT(normal, HasSubstr("4/9* 44%"));
  EXPECT_THAT(swapped, HasSubstr("4/9* 44%"));
}

TEST(Table, OneAxisGivesASingleColumnAndNoAxisASingleCell) {
  Fixture f;
  f.run.id = 2;
  f.run.workload = "exec";
  f.run.grid = {{"threads", {"1", "2"}}};
  Add(&f.trials, 3, {{"threads", "1"}}, Outcome::kClean);
  Add(&f.trials, 1, {{"threads", "2"}}, Outcome::kCrashed, 11);
  std::string one = Render(f, TableFormat::kSeed);
  EXPECT_THAT(one, HasSubstr("|   threads | exit codes     |\n"));
  EXPECT_THAT(one, HasSubstr("|         2 | {0: 0, 139: 1} |\n"));

  Fixture g;
  g.run.id = 4;
  g.run.workload = "exec";
  Add(&g.trials, 2, {}, Outcome::kClean);
  Add(&g.trials, 1, {}, Outcome::kHung);
  std::string none = Render(g, TableFormat::kSeed);
  EXPECT_THAT(none, HasSubstr("| all | {0: 2, 124: 1} |\n"));
}

TEST(Table, ReferenceTargetIsSaidInEveryFormat) {
  Fixture f = MixedFixture();
  for (auto format : {TableFormat::kSeed, TableFormat::kPercent, TableFormat::kMarkdown, TableFormat::kVerdict,
                      TableFormat::kJson}) {
    EXPECT_THAT(Render(f, format), HasSubstr("reference target: crashes are deliberate, for checking crashgrid itself"));
  }
  EXPECT_THAT(Render(f, TableFormat::kCsv), HasSubstr("\n7,true,"));
  f.run.reference_target = false;
  EXPECT_THAT(Render(f, TableFormat::kPercent), ::testing::Not(HasSubstr("reference target")));
}

TEST(Table, RejectsUnknownAxisWithASuggestion) {
  Fixture f = MixedFixture();
  TableOptions o;
  o.rows = "thread";
  std::string out, err;
  EXPECT_FALSE(RenderTable(f.run, GroupTrials(f.trials, f.run.duration_s), o, &out, &err));
  EXPECT_EQ(err, "--rows 'thread' is not an axis of this run, did you mean 'threads'? (axes: threads, sessions)");
  o.rows = "threads";
  o.cols = "threads";
  EXPECT_FALSE(RenderTable(f.run, GroupTrials(f.trials, f.run.duration_s), o, &out, &err));
  EXPECT_THAT(err, HasSubstr("both name 'threads'"));
}

TEST(Table, RejectsAmbiguousOrUnknownSignature) {
  Fixture f = MixedFixture();
  TableOptions o;
  o.signature = "SIGSEGV";  // starts both kSigA and kSigB
  std::string out, err;
  EXPECT_FALSE(RenderTable(f.run, GroupTrials(f.trials, f.run.duration_s), o, &out, &err));
  EXPECT_THAT(err, HasSubstr("ambiguous"));
  EXPECT_THAT(err, HasSubstr(kSigA));
  EXPECT_THAT(err, HasSubstr(kSigB));
  o.signature = "SIGBUS";
  EXPECT_FALSE(RenderTable(f.run, GroupTrials(f.trials, f.run.duration_s), o, &out, &err));
  EXPECT_THAT(err, HasSubstr("matches no crash"));
  o.signature = kSigHang;  // exact
  EXPECT_TRUE(RenderTable(f.run, GroupTrials(f.trials, f.run.duration_s), o, &out, &err)) << err;
  EXPECT_THAT(out, HasSubstr("1/9 11%"));
}

TEST(Table, ParsesFormatsAndSuggestsTheNearest) {
  TableFormat f;
  std::string err;
  ASSERT_TRUE(ParseTableFormat("verdict", &f, &err));
  EXPECT_EQ(f, TableFormat::kVerdict);
  EXPECT_FALSE(ParseTableFormat("precent", &f, &err));
  EXPECT_EQ(err, "unknown table format 'precent', did you mean 'percent'? (use one of: seed, percent, markdown, "
                 "verdict, csv, json)");
}

TEST(Table, PercentCellsShowWilsonIntervalOrZeroCrashBound) {
  EXPECT_EQ(PercentCellText(57, 68), "57/68 84% [73-91]");
  EXPECT_EQ(PercentCellText(0, 69), "0/69 <4.3%");  // 4.25% rounded up: a bound must not shrink
  EXPECT_EQ(PercentCellText(0, 31), "0/31 <9.3%");  // 9.21% rounded up
  EXPECT_EQ(PercentCellText(0, 1), "0/1 <95%");
  EXPECT_EQ(PercentCellText(9, 9), "9/9 100% [70-100]");
  EXPECT_EQ(PercentCellText(1, 300), "1/300 0.3% [0.058-1.9]");  // a lower bound above 0 never reads "0"
  EXPECT_EQ(PercentCellText(0, 0), "");
  // The printed interval contains the computed one.
  Interval iv = Wilson(2, 5);
  EXPECT_EQ(PercentCellText(2, 5), "2/5 40% [11-77]");
  EXPECT_LT(iv.lo, 0.12);
  EXPECT_GT(iv.lo, 0.11);
}

// --- What counts as a crash, and what counts at all --------------------------------------------------------

// 31 trials of a program that always exits 1 next to 31 clean ones.
Fixture AllFailedFixture() {
  Fixture f;
  f.run.id = 9;
  f.run.workload = "exec";
  f.run.duration_s = 5;
  f.run.grid = {{"mode", {"broken", "fine"}}};
  f.run.settings = {{"until", "decided"}};
  Add(&f.trials, 31, {{"mode", "broken"}}, Outcome::kFailed, 1);
  Add(&f.trials, 31, {{"mode", "fine"}}, Outcome::kClean);
  return f;
}

TEST(Table, ACellWhoseTrialsAllFailedIsNeverSafe) {
  Fixture f = AllFailedFixture();
  std::string verdict = Render(f, TableFormat::kVerdict);
  EXPECT_THAT(verdict, HasSubstr("| broken | 31 failed  |\n")) << verdict;
  EXPECT_THAT(verdict, HasSubstr("| fine   | SAFE 0/31* |\n")) << verdict;  // * stopped there by the SPRT
  EXPECT_EQ(verdict.find("SAFE"), verdict.rfind("SAFE")) << "only the clean cell is SAFE:\n" << verdict;
  // No rate, no bound: 31 failures say nothing about crashing.
  std::string percent = Render(f, TableFormat::kPercent);
  EXPECT_THAT(percent, HasSubstr("| broken | 31 failed       |\n")) << percent;
  // --until decided: the interval exact for the SPRT's rule, two-sided also with no crash.
  EXPECT_THAT(percent, HasSubstr("| fine   | 0/31* 0% [0-12] |\n")) << percent;
  auto j = nlohmann::json::parse(Render(f, TableFormat::kJson));
  EXPECT_EQ(j["schema_version"], kTableJsonSchemaVersion);
  const auto& broken = j["cells"][0];
  EXPECT_EQ(broken["key"], "mode=broken");
  EXPECT_EQ(broken["failed"], 31);
  EXPECT_EQ(broken["ran"], 31);
  EXPECT_EQ(broken["n"], 0);
  EXPECT_TRUE(broken["verdict"].is_null()) << broken.dump();
  EXPECT_TRUE(broken["rate"].is_null()) << broken.dump();
  EXPECT_TRUE(broken["upper_bound95"].is_null()) << broken.dump();
  EXPECT_EQ(j["cells"][1]["verdict"], "SAFE");
  // table.py's exit codes are what they always were.
  EXPECT_THAT(Render(f, TableFormat::kSeed), HasSubstr("| broken | {0: 0, 1: 31} |"));
}

TEST(Table, OverranTrialsAreNeitherCrashesNorCleanRunsInEveryFormat) {
  Fixture f;
  f.run.id = 5;
  f.run.workload = "reference-race";
  f.run.duration_s = 5;
  f.run.grid = {{"threads", {"8"}}};
  Cell c = {{"threads", "8"}};
  Add(&f.trials, 10, c, Outcome::kClean);
  Add(&f.trials, 5, c, Outcome::kCrashed, 11, kSigA, 1);
  Add(&f.trials, 4, c, Outcome::kOverran, 0, "", 7);

  // 5 of 15, not 5 of 19 (overran as clean) nor 9 of 19 (overran as crashes).
  std::string percent = Render(f, TableFormat::kPercent);
  EXPECT_THAT(percent, HasSubstr("| 5/15 33% [15-59] +4 overran |")) << percent;
  EXPECT_THAT(percent, HasSubstr("crashes: crashed or hung; runs: crashed, hung or exited 0;"));
  EXPECT_THAT(Render(f, TableFormat::kMarkdown), HasSubstr("5/15 33% [15-59] +4 overran"));
  std::string verdict = Render(f, TableFormat::kVerdict);
  EXPECT_THAT(verdict, HasSubstr("| CRASHES 5/15 +4 overran |")) << verdict;

  auto j = nlohmann::json::parse(Render(f, TableFormat::kJson));
  const auto& cell = j["cells"][0];
  EXPECT_EQ(cell["n"], 15);
  EXPECT_EQ(cell["ran"], 19);
  EXPECT_EQ(cell["crashes"], 5);
  EXPECT_EQ(cell["clean"], 10);
  EXPECT_EQ(cell["overran"], 4);
  EXPECT_EQ(cell["hung"], 0);
  EXPECT_DOUBLE_EQ(cell["rate"].get<double>(), 5.0 / 15);
  EXPECT_EQ(cell["exit_codes"]["124"], 4);
  EXPECT_EQ(j["counting"]["crash"], (nlohmann::json{"crashed", "hung"}));

  std::string csv = Render(f, TableFormat::kCsv);
  auto lines = Split(csv, '\n');
  ASSERT_GE(lines.size(), 2u);
  auto header = Split(lines[0], ',');
  auto row = Split(lines[1], ',');
  ASSERT_EQ(header.size(), row.size()) << csv;
  std::map<std::string, std::string> by_name;
  for (size_t i = 0; i < header.size(); ++i) by_name[header[i]] = row[i];
  EXPECT_EQ(by_name["n"], "15");
  EXPECT_EQ(by_name["crashes"], "5");
  EXPECT_EQ(by_name["clean"], "10");
  EXPECT_EQ(by_name["overran"], "4");
  EXPECT_EQ(by_name["hung"], "0");
  EXPECT_EQ(by_name["wilson_lo"], fmt::format("{:.4f}", Wilson(5, 15).lo));
}

// --- Cells aggregation --------------------------------------------------------------------------------------

TEST(Cells, CountsEveryOutcomeAndKeepsCouldNotStartOutOfN) {
  Fixture f = MixedFixture();
  auto cells = AggregateCells(f.run, GroupTrials(f.trials, f.run.duration_s));
  ASSERT_EQ(cells.size(), 6u);
  EXPECT_EQ(cells[0].key, "threads=1,sessions=1");
  EXPECT_EQ(cells[1].key, "threads=1,sessions=8");
  const CellCounts& c21 = cells[2];
  EXPECT_EQ(c21.key, "threads=2,sessions=1");
  EXPECT_EQ(c21.n, 9);
  EXPECT_EQ(c21.crashes, 4);
  EXPECT_EQ(c21.crashed, 3);
  EXPECT_EQ(c21.hung, 1);
  EXPECT_EQ((std::map<int, int64_t>{{0, 5}, {124, 1}, {139, 3}}), c21.exit_codes);
  EXPECT_DOUBLE_EQ(c21.exposure_s, 5 * 5 + 3 * 2 + 5);  // the hang's 7.5 s capped at the 5 s duration
  EXPECT_EQ(c21.iterations, 900);
  EXPECT_EQ((std::map<std::string, int64_t>{{kSigA, 3}, {kSigHang, 1}}), c21.signatures);
  const CellCounts& c18 = cells[1];
  EXPECT_EQ(c18.trials, 23);
  EXPECT_EQ(c18.ran, 23);
  EXPECT_EQ(c18.n, 21);  // the two overran trials are in no rate
  EXPECT_EQ(c18.overran, 2);
  EXPECT_EQ(c18.crashes, 1);
  EXPECT_EQ(c18.clean, 20);
  EXPECT_DOUBLE_EQ(c18.exposure_s, 20 * 5 + 1.5);  // nor in the exposure
  EXPECT_EQ((std::map<int, int64_t>{{0, 20}, {124, 2}, {139, 1}}), c18.exit_codes);  // as timeout(1) reports
  const CellCounts& c28 = cells[3];
  EXPECT_EQ(c28.trials, 15);
  EXPECT_EQ(c28.ran, 13);
  EXPECT_EQ(c28.n, 11);  // 10 clean and 1 crash: the 2 failed trials are neither
  EXPECT_EQ(c28.could_not_start, 2);
  EXPECT_EQ(c28.failed, 2);
  EXPECT_EQ(c28.crashes, 1);
  EXPECT_EQ((std::map<int, int64_t>{{0, 10}, {3, 2}, {127, 2}, {134, 1}}), c28.exit_codes);
  EXPECT_EQ(cells[4].trials, 0);  // threads=4,sessions=1: no trial
  EXPECT_EQ(cells[5].n, 0);
  EXPECT_EQ(cells[5].could_not_start, 2);
}

TEST(Cells, SignatureFilterCountsOtherCrashesAsNonCrashes) {
  Fixture f = MixedFixture();
  auto cells = AggregateCells(f.run, GroupTrials(f.trials, f.run.duration_s), kSigHang);
  const CellCounts& c21 = cells[2];
  EXPECT_EQ(c21.n, 9);
  EXPECT_EQ(c21.crashes, 1);
  EXPECT_EQ(c21.other_crashes, 3);
  EXPECT_EQ((std::map<int, int64_t>{{0, 8}, {124, 1}}), c21.exit_codes);
  EXPECT_EQ(cells[1].crashes, 0);
}

TEST(Cells, MatchesTrialsWhoseCellListsAxesInAnotherOrder) {
  RunRecord run;
  run.grid = {{"a", {"1"}}, {"b", {"x", "y"}}};
  std::vector<StoredTrial> trials;
  Add(&trials, 2, {{"b", "y"}, {"a", "1"}}, Outcome::kCrashed, 11);
  Add(&trials, 1, {{"a", "1"}, {"b", "z"}}, Outcome::kClean);  // a value missing from the grid
  auto cells = AggregateCells(run, GroupTrials(trials, run.duration_s));
  ASSERT_EQ(cells.size(), 3u);
  EXPECT_EQ(cells[1].key, "a=1,b=y");
  EXPECT_EQ(cells[1].crashes, 2);
  EXPECT_EQ(cells[2].key, "a=1,b=z");
  EXPECT_EQ(cells[2].n, 1);
}

TEST(Cells, ResolvesSignaturePrefixes) {
  Fixture f = MixedFixture();
  std::string full, err;
  ASSERT_TRUE(ResolveSignature("hang", GroupTrials(f.trials, 0), &full, &err)) << err;
  EXPECT_EQ(full, kSigHang);
  EXPECT_FALSE(ResolveSignature("SIGSEGV/SEGV_MAPERR|", GroupTrials(f.trials, 0), &full, &err));
  EXPECT_THAT(err, HasSubstr("ambiguous"));
}

}  // namespace
// A cell that stopped CRASHES at 2/12 and was then refined to 2/30: the verdict recomputed from 2/30 is
// UNDECIDED, which the SPRT never said. The stored verdict is shown, with the later counts beside it.
Fixture RefinedFixture(bool with_stored_verdict) {
  Fixture f;
  f.run.id = 3;
  f.run.workload = "reference-race";
  f.run.duration_s = 5;
  f.run.grid = {{"threads", {"4"}}};
  f.run.settings = {{"until", "decided"}, {"refine", {{"width", 0.2}}}};
  Cell c = {{"threads", "4"}};
  Add(&f.trials, 2, c, Outcome::kCrashed, 11, kSigA, 1);
  Add(&f.trials, 28, c, Outcome::kClean);
  if (with_stored_verdict) f.run.verdicts = {{"threads=4", "sprt", "CRASHES", 2, 12, 12}};
  return f;
}

TEST(Table, ShowsTheVerdictStoredWhereTheSprtStoppedWithTheLaterEvidenceBesideIt) {
  std::string verdict = Render(RefinedFixture(true), TableFormat::kVerdict);
  EXPECT_THAT(verdict, HasSubstr("| CRASHES at 2/12; now 2/30 |")) << verdict;
  EXPECT_EQ(verdict.find("UNDECIDED"), std::string::npos) << verdict;
  auto j = nlohmann::json::parse(Render(RefinedFixture(true), TableFormat::kJson));
  const auto& cell = j["cells"][0];
  EXPECT_EQ(cell["verdict"], "CRASHES");
  EXPECT_EQ(cell["verdict_at"]["n"], 12);
  EXPECT_EQ(cell["verdict_at"]["stored"], true);
  EXPECT_EQ(cell["stopped_early"], true);
  // --refine chose the later runs from the data: the always-valid interval, not Wilson.
  EXPECT_EQ(cell["interval95"]["method"], "always-valid");
  Interval av = AlwaysValidInterval(2, 30);
  EXPECT_DOUBLE_EQ(cell["interval95"]["hi"].get<double>(), av.hi);
  EXPECT_GT(av.hi, cell["wilson95"]["hi"].get<double>());
  // A run stored before verdicts were (schema v3): recomputed from the final counts, as before.
  std::string old = Render(RefinedFixture(false), TableFormat::kVerdict);
  EXPECT_THAT(old, HasSubstr("| UNDECIDED 2/30 |")) << old;
}

TEST(Table, DecidedCellsShowTheIntervalOfTheStoppingRuleAndAMark) {
  Fixture f;
  f.run.id = 4;
  f.run.workload = "reference-race";
  f.run.duration_s = 5;
  f.run.grid = {{"threads", {"4"}}};
  f.run.settings = {{"until", "decided"}};
  Cell c = {{"threads", "4"}};
  Add(&f.trials, 2, c, Outcome::kCrashed, 11, kSigA, 1);  // CRASHES at 2/2
  std::string percent = Render(f, TableFormat::kPercent);
  // Wilson would say [34-100]; the exact interval for the SPRT's stopping rule is [15.8-100].
  Interval iv;
  ASSERT_TRUE(SprtExactInterval(2, 2, SprtParams{}, 0.05, &iv));
  EXPECT_THAT(percent, HasSubstr("| 2/2* 100% [15-100] |")) << percent;
  EXPECT_THAT(percent, HasSubstr("exact for the SPRT's stopping rule")) << percent;
  EXPECT_THAT(percent, HasSubstr("*: the SPRT stopped the cell at this n")) << percent;
  auto j = nlohmann::json::parse(Render(f, TableFormat::kJson));
  EXPECT_EQ(j["cells"][0]["interval95"]["method"], "sprt-exact");
  EXPECT_DOUBLE_EQ(j["cells"][0]["interval95"]["lo"].get<double>(), iv.lo);
  EXPECT_EQ(j["cells"][0]["stop"], "sprt-boundary");
  EXPECT_LT(j["cells"][0]["median_unbiased"].get<double>(), 1.0);
  // The same counts from a sweep of fixed n read as always: Wilson, no mark, no legend.
  f.run.settings = {{"until", "runs"}};
  std::string fixed = Render(f, TableFormat::kPercent);
  EXPECT_THAT(fixed, HasSubstr("| 2/2 100% [34-100] |")) << fixed;
  EXPECT_EQ(fixed.find('*'), std::string::npos) << fixed;
}

}  // namespace cg

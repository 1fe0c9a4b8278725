#include "report/export.h"

#include <algorithm>

#include <gtest/gtest.h>

#include "../../tests/browser/report_fixture.h"
#include "trial/trial_json.h"
#include "util/strings.h"

namespace cg {
namespace {

// RFC 4180 reader for the test: quoted fields may hold commas, quotes and line breaks.
std::vector<std::vector<std::string>> ParseCsv(const std::string& s) {
  std::vector<std::vector<std::string>> rows(1);
  std::string field;
  bool quoted = false, in_quotes = false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (in_quotes) {
      if (c == '"' && i + 1 < s.size() && s[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        in_quotes = false;
      } else {
        field += c;
      }
    } else if (c == '"' && field.empty() && !quoted) {
      in_quotes = quoted = true;
    } else if (c == ',') {
      rows.back().push_back(field);
      field.clear();
      quoted = false;
    } else if (c == '\r' && i + 1 < s.size() && s[i + 1] == '\n') {
      rows.back().push_back(field);
      field.clear();
      quoted = false;
      rows.emplace_back();
      ++i;
    } else {
      field += c;
    }
  }
  if (rows.back().empty() && field.empty()) rows.pop_back();
  return rows;
}

TEST(Export, JsonlHasOneObjectPerTrialThatRoundTrips) {
  auto runs = testing::ComparisonFixture();
  std::string out = RenderJsonl(runs[0].trials);
  auto lines = Split(out, '\n');
  ASSERT_EQ(lines.back(), "");
  lines.pop_back();
  ASSERT_EQ(lines.size(), runs[0].trials.size());
  for (size_t i = 0; i < lines.size(); ++i) {
    auto j = nlohmann::json::parse(lines[i]);
    const StoredTrial& t = runs[0].trials[i];
    EXPECT_EQ(j["trial_id"], t.id);
    EXPECT_EQ(j["cell_key"], CellKey(t.cell));
    EXPECT_EQ(j["cell"]["threads"], t.cell[0].second);
    EXPECT_EQ(j["seed_exit_code"], SeedExitCode(t.result));
    TrialResult back = j.get<TrialResult>();
    EXPECT_EQ(back.outcome, t.result.outcome);
    EXPECT_EQ(back.signature, t.result.signature);
    EXPECT_EQ(back.report.has_value(), t.result.report.has_value());
  }
}

TEST(Export, JsonlReplacesInvalidUtf8InsteadOfFailing) {
  std::vector<StoredTrial> trials(1);
  trials[0].result.stdout_tail = "ok \xff\xfe";
  auto j = nlohmann::json::parse(RenderJsonl(trials));
  EXPECT_EQ(j["stdout_tail"], "ok \xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST(Export, CsvHasEveryColumnAndQuotesCapturedText) {
  auto runs = testing::ComparisonFixture();
  std::vector<RunRecord> rr = {runs[0].run};
  auto rows = ParseCsv(RenderCsv(rr, runs[0].trials));
  ASSERT_EQ(rows.size(), runs[0].trials.size() + 1);
  const auto& h = rows[0];
  auto col = [&](const std::string& name) {
    auto it = std::find(h.begin(), h.end(), name);
    EXPECT_NE(it, h.end()) << name;
    return static_cast<size_t>(it - h.begin());
  };
  for (const auto& r : rows) ASSERT_EQ(r.size(), h.size());
  size_t threads = col("threads"), sessions = col("sessions"), outcome = col("outcome"), seed = col("seed_exit_code"),
         out = col("stdout_tail"), report = col("report"), sig = col("signature");
  for (size_t i = 0; i < runs[0].trials.size(); ++i) {
    const StoredTrial& t = runs[0].trials[i];
    const auto& r = rows[i + 1];
    EXPECT_EQ(r[threads], t.cell[0].second);
    EXPECT_EQ(r[sessions], t.cell[1].second);
    EXPECT_EQ(r[outcome], OutcomeName(t.result.outcome));
    EXPECT_EQ(r[seed], std::to_string(SeedExitCode(t.result)));
    EXPECT_EQ(r[sig], t.result.signature);
    if (t.result.report) {
      // The multi-line, quote-laden output survives the round trip (control characters made visible).
      EXPECT_NE(r[out].find("<script>document.title='pwned'</script>\n<img src=x onerror=\"document.title"),
                std::string::npos);
      EXPECT_EQ(nlohmann::json::parse(r[report])["faulting_tid"], 4242);
    } else {
      EXPECT_EQ(r[report], "");
    }
  }
}

TEST(Export, SaysWhatEachTrialCountsAsAndKeepsSetUpAndTearDownTimes) {
  std::vector<StoredTrial> trials(4);
  const Outcome outcomes[] = {Outcome::kOverran, Outcome::kFailed, Outcome::kHung, Outcome::kClean};
  for (size_t i = 0; i < 4; ++i) {
    trials[i].id = static_cast<int64_t>(i + 1);
    trials[i].cell = {{"threads", "1"}};
    trials[i].result.outcome = outcomes[i];
  }
  trials[0].result.setup_s = 0.25;
  trials[0].result.teardown_s = 3.5;
  auto lines = Split(RenderJsonl(trials), '\n');
  ASSERT_EQ(lines.size(), 5u);
  auto first = nlohmann::json::parse(lines[0]);
  EXPECT_EQ(first["outcome"], "overran");
  EXPECT_EQ(first["evidence"], "neither");
  EXPECT_EQ(first["seed_exit_code"], 124);
  EXPECT_EQ(first["setup_s"], 0.25);
  EXPECT_EQ(first["teardown_s"], 3.5);
  EXPECT_EQ(nlohmann::json::parse(lines[1])["evidence"], "neither");
  EXPECT_EQ(nlohmann::json::parse(lines[2])["evidence"], "crash");
  EXPECT_EQ(nlohmann::json::parse(lines[3])["evidence"], "safe");

  RunRecord run;
  run.grid = {{"threads", {"1"}}};
  auto rows = ParseCsv(RenderCsv({run}, trials));
  ASSERT_EQ(rows.size(), 5u);
  const auto& h = rows[0];
  auto col = [&](const std::string& name) { return static_cast<size_t>(std::find(h.begin(), h.end(), name) - h.begin()); };
  ASSERT_LT(col("evidence"), h.size());
  ASSERT_LT(col("setup_s"), h.size());
  ASSERT_LT(col("teardown_s"), h.size());
  EXPECT_EQ(rows[1][col("outcome")], "overran");
  EXPECT_EQ(rows[1][col("evidence")], "neither");
  EXPECT_EQ(rows[1][col("setup_s")], "0.25");
  EXPECT_EQ(rows[1][col("teardown_s")], "3.5");
  EXPECT_EQ(rows[2][col("evidence")], "neither");
  EXPECT_EQ(rows[3][col("evidence")], "crash");
  EXPECT_EQ(rows[4][col("evidence")], "safe");
}

TEST(Export, NamesEachTrialsUidAndGpu) {
  std::vector<StoredTrial> trials(2);
  for (size_t i = 0; i < 2; ++i) {
    trials[i].id = static_cast<int64_t>(i + 1);
    trials[i].cell = {{"threads", "1"}};
  }
  trials[0].uid = "u-1";
  trials[0].result.gpu_index = 3;
  trials[0].result.gpu_uuid = "GPU-3";
  trials[1].uid = "u-2";  // ran without --gpus
  auto lines = Split(RenderJsonl(trials), '\n');
  ASSERT_EQ(lines.size(), 3u);
  auto a = nlohmann::json::parse(lines[0]), b = nlohmann::json::parse(lines[1]);
  EXPECT_EQ(a["trial_uid"], "u-1");
  EXPECT_EQ(a["gpu_index"], 3);
  EXPECT_EQ(a["gpu_uuid"], "GPU-3");
  EXPECT_EQ(b["trial_uid"], "u-2");
  EXPECT_EQ(b["gpu_index"], -1);
  EXPECT_EQ(b["gpu_uuid"], "");

  RunRecord run;
  run.grid = {{"threads", {"1"}}};
  auto rows = ParseCsv(RenderCsv({run}, trials));
  ASSERT_EQ(rows.size(), 3u);
  const auto& h = rows[0];
  auto col = [&](const std::string& name) { return static_cast<size_t>(std::find(h.begin(), h.end(), name) - h.begin()); };
  ASSERT_LT(col("trial_uid"), h.size());
  ASSERT_LT(col("gpu_index"), h.size());
  ASSERT_LT(col("gpu_uuid"), h.size());
  EXPECT_EQ(rows[1][col("trial_uid")], "u-1");
  EXPECT_EQ(rows[1][col("gpu_index")], "3");
  EXPECT_EQ(rows[1][col("gpu_uuid")], "GPU-3");
  EXPECT_EQ(rows[2][col("gpu_index")], "-1");
  EXPECT_EQ(rows[2][col("gpu_uuid")], "");
}

}  // namespace
}  // namespace cg

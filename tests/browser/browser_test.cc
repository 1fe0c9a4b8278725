// The HTML report in a real browser: Debian's chromium, headless, with a throwaway profile. Checks that the
// page loads without console errors, that every heatmap cell is in the DOM after loading, that hostile
// captured text created no element and ran nothing (the title is unchanged), and writes a screenshot to
// build/browser/report.png for people to look at.
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "report/html.h"
#include "report_fixture.h"
#include "util/test_util.h"

namespace cg {
namespace {

using test_util::Count;

const char kChromium[] = "/usr/bin/chromium";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}


class Browser : public ::testing::Test {
 protected:
  void SetUp() override {
    if (access(kChromium, X_OK) != 0) {
      GTEST_SKIP() << kChromium << " is not installed (scripts/install-deps.sh installs it); browser test skipped";
    }
    dir_ = std::string(CRASHGRID_BINARY_DIR) + "/browser";
    mkdir(dir_.c_str(), 0777);
    char tmpl[] = "/tmp/crashgrid-chromium-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    profile_ = tmpl;
  }
  void TearDown() override {
    if (!profile_.empty()) std::system(("rm -rf '" + profile_ + "'").c_str());
  }

  // Runs chromium on `page` with `args`; stdout and stderr go to files under dir_. Returns the exit status.
  int Chromium(const std::string& page, const std::string& args, const std::string& tag) {
    std::string cmd = "timeout -k 5 60 " + std::string(kChromium) +
                      " --headless --no-sandbox --disable-gpu --disable-quic --no-first-run"
                      " --disable-background-networking --disable-component-update --disable-sync"
                      " --disable-dev-shm-usage --enable-logging=stderr --v=0 --user-data-dir='" +
                      profile_ + "' " + args + " 'file://" + page + "' > '" + dir_ + "/" + tag + ".out' 2> '" +
                      dir_ + "/" + tag + ".err'";
    return std::system(cmd.c_str());
  }

  std::string dir_;
  std::string profile_;
};

TEST_F(Browser, ReportLoadsCleanlyShowsEveryCellAndRunsNoCapturedScript) {
  auto runs = testing::ComparisonFixture();
  std::string page = dir_ + "/report.html";
  std::ofstream(page) << RenderHtmlReport(testing::Reports(runs), {"fixture"});

  ASSERT_EQ(Chromium(page, "--dump-dom", "dom"), 0) << ReadFile(dir_ + "/dom.err");
  std::string dom = ReadFile(dir_ + "/dom.out");
  std::string log = ReadFile(dir_ + "/dom.err");
  ASSERT_NE(dom.find("</html>"), std::string::npos) << "no DOM dumped; chromium said:\n" << log;

  // Per run: crash map, throughput map and one map per signature (3 in each run), 3 x 2 cells each.
  EXPECT_EQ(Count(dom, "class=\"hm-cell"), 2u * 6u * (2u + 3u));
  // The captured <script> and <img onerror> stayed text: no element from them, title unchanged.
  EXPECT_NE(dom.find("<title>crashgrid report</title>"), std::string::npos);
  EXPECT_EQ(dom.find("pwned</title>"), std::string::npos);
  EXPECT_EQ(Count(dom, "<script"), 0u);
  EXPECT_EQ(Count(dom, "<img"), 0u);
  EXPECT_EQ(Count(dom, "<b>injected"), 0u);
  EXPECT_NE(dom.find("&lt;script&gt;document.title='pwned'&lt;/script&gt;"), std::string::npos);
  // No console message at all (an error, a CSP violation from something that tried to run or load).
  EXPECT_EQ(log.find("CONSOLE"), std::string::npos) << log;
  EXPECT_EQ(log.find("Content Security Policy"), std::string::npos) << log;
  EXPECT_EQ(log.find("Uncaught"), std::string::npos) << log;

  std::string png = dir_ + "/report.png";
  unlink(png.c_str());
  ASSERT_EQ(Chromium(page, "--hide-scrollbars --window-size=1280,1600 --screenshot='" + png + "'", "shot"), 0)
      << ReadFile(dir_ + "/shot.err");
  std::string image = ReadFile(png);
  ASSERT_GT(image.size(), 1000u) << "no screenshot written; chromium said:\n" << ReadFile(dir_ + "/shot.err");
  EXPECT_EQ(image.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
}

}  // namespace
}  // namespace cg

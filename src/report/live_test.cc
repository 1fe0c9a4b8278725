#include "report/live.h"

#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "util/strings.h"

namespace cg {
namespace {

SweepProgress SampleProgress() {
  SweepProgress p;
  for (const char* t : {"1", "2", "8"}) {
    for (const char* s : {"1", "4"}) p.cells.push_back({{"threads", t}, {"sessions", s}});
  }
  p.cell_n = {3, 3, 3, 2, 0, 0};
  p.cell_crashes = {0, 1, 3, 0, 0, 0};
  p.cell_verdict = {"", "", "", "", "", ""};
  p.done = 11;
  p.total = 18;
  p.crashes = 4;
  p.elapsed_s = 21;
  p.eta_s = 90;
  p.current = "threads=8,sessions=1";
  p.rule = "flat";
  return p;
}

std::string StripAnsi(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\x1b' && i + 1 < s.size() && s[i + 1] == '[') {
      i += 2;
      while (i < s.size() && !(s[i] >= '@' && s[i] <= '~')) ++i;
      continue;
    }
    out += s[i];
  }
  return out;
}

TEST(LiveFrame, ShowsProgressLineAndGridOfCounts) {
  std::string frame = RenderLiveFrame(SampleProgress(), 80, false);
  EXPECT_EQ(frame,
            "[11/18] 0m21s eta 1m30s 4 crashes (36%) (flat) | threads=8,sessions=1\n"
            "threads\\sessions    1    4\n"
            "               1  0/3 1/3!\n"
            "               2 3/3!  0/2\n"
            "               8    .    .\n"
            "k/n: crashed or hung / crashed, hung or clean; . no trial yet; ! crashed\n"
            "S SAFE, C CRASHES: decided by the SPRT (0 of 6 cells)");
}

TEST(LiveFrame, MarksCellsWithTheirVerdict) {
  SweepProgress p = SampleProgress();
  p.cell_verdict = {"SAFE", "", "CRASHES", "UNDECIDED", "", ""};
  std::string frame = RenderLiveFrame(p, 80, false);
  EXPECT_EQ(frame,
            "[11/18] 0m21s eta 1m30s 4 crashes (36%) (flat) | threads=8,sessions=1\n"
            "threads\\sessions     1     4\n"
            "               1  0/3S  1/3!\n"
            "               2 3/3!C   0/2\n"
            "               8     .     .\n"
            "k/n: crashed or hung / crashed, hung or clean; . no trial yet; ! crashed\n"
            "S SAFE, C CRASHES: decided by the SPRT (2 of 6 cells)");
}

TEST(LiveFrame, ColoursCellsByCrashRate) {
  std::string frame = RenderLiveFrame(SampleProgress(), 80, true);
  EXPECT_NE(frame.find("\x1b[48;5;28m\x1b[38;5;15m 0/3\x1b[0m"), std::string::npos);   // clean: green
  EXPECT_NE(frame.find("\x1b[48;5;160m\x1b[38;5;15m 1/3\x1b[0m"), std::string::npos);  // 33%
  EXPECT_NE(frame.find("\x1b[48;5;124m\x1b[38;5;15m 3/3\x1b[0m"), std::string::npos);  // 100%: dark red
  EXPECT_EQ(frame.find("!"), std::string::npos);  // colour replaces the marker
  EXPECT_NE(StripAnsi(frame).find("               8    .    .\n"), std::string::npos);  // no trial yet: uncoloured
  EXPECT_NE(frame.find("\n               8    .    .\n"), std::string::npos);
}

TEST(LiveFrame, FallsBackToCompactFormWhenNarrow) {
  SweepProgress p = SampleProgress();
  std::string frame = RenderLiveFrame(p, 22, false);
  auto lines = Split(frame, '\n');
  ASSERT_GE(lines.size(), 4u) << frame;
  EXPECT_EQ(lines[1], "               1 o3");
  EXPECT_EQ(lines[2], "               2 #o");
  EXPECT_EQ(lines[3], "               8 ..");
  for (const auto& l : lines) EXPECT_LE(l.size(), 22u) << l;
}

TEST(LiveFrame, NoLineIsWiderThanTheTerminal) {
  SweepProgress p;
  for (int t = 1; t <= 12; ++t) {
    for (int e = 1; e <= 12; ++e) p.cells.push_back({{"threads", std::to_string(t)}, {"encoders", std::to_string(e)}});
  }
  p.cell_n.assign(144, 69);
  p.cell_crashes.assign(144, 57);
  p.total = 144 * 69;
  p.current = "threads=12,encoders=12";
  for (int width : {10, 20, 40, 60, 80, 120, 200}) {
    for (bool color : {false, true}) {
      for (const auto& line : Split(RenderLiveFrame(p, width, color), '\n')) {
        EXPECT_LE(static_cast<int>(StripAnsi(line).size()), width) << width << ": " << line;
      }
    }
  }
  // 12 columns of "57/69" need 87 columns; at 80 the compact form shows the crash rate in tenths (57/69 -> 8).
  std::string compact = RenderLiveFrame(p, 80, false);
  EXPECT_NE(compact.find("      1 888888888888"), std::string::npos) << compact;
  EXPECT_NE(RenderLiveFrame(p, 100, false).find("57/69"), std::string::npos);
  EXPECT_NE(RenderLiveFrame(p, 12, false).find("144 cells"), std::string::npos);
}

TEST(LiveFrame, HeightCapsTheGridRows) {
  SweepProgress p = SampleProgress();
  auto lines = Split(RenderLiveFrame(p, 80, false, 4), '\n');
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[3], "... 2 more rows (enlarge the terminal)");
}

// The legend says what every mark and colour on screen means, in both forms of the grid.
TEST(LiveFrame, LegendSaysWhatEachMarkAndColourMeans) {
  SweepProgress p = SampleProgress();
  std::string plain = RenderLiveFrame(p, 200, false);
  EXPECT_NE(plain.find("k/n: crashed or hung / crashed, hung or clean"), std::string::npos) << plain;
  EXPECT_NE(plain.find(". no trial yet"), std::string::npos);
  EXPECT_NE(plain.find("! crashed"), std::string::npos);
  EXPECT_NE(plain.find("S SAFE, C CRASHES: decided by the SPRT (0 of 6 cells)"), std::string::npos);
  EXPECT_EQ(plain.find("green"), std::string::npos);  // no colour on screen, none explained
  std::string colour = StripAnsi(RenderLiveFrame(p, 200, true));
  EXPECT_NE(colour.find("green: no crash; yellow to dark red: rising crash rate"), std::string::npos) << colour;
  EXPECT_EQ(colour.find("! crashed"), std::string::npos);  // colour replaces the marker
  EXPECT_EQ(colour.find("grey"), std::string::npos);       // no cell is grey yet
  p.cell_neither = {0, 0, 0, 0, 2, 0};
  colour = StripAnsi(RenderLiveFrame(p, 200, true));
  EXPECT_NE(colour.find("grey: only failed or overran"), std::string::npos) << colour;
  EXPECT_NE(colour.find("? failed or overran, not counted"), std::string::npos) << colour;
  std::string compact = RenderLiveFrame(p, 22, false);
  EXPECT_NE(compact.find("o clean"), std::string::npos) << compact;
  EXPECT_NE(compact.find("# all crashed"), std::string::npos) << compact;
  for (const auto& l : Split(compact, '\n')) EXPECT_LE(l.size(), 22u) << l;
}

// A decided cell shows its verdict in every form: a letter after its counts, the letter in place of the
// compact form's character, and the count of decided cells in the summary.
TEST(LiveFrame, ShowsWhichCellsAreDecidedInEveryForm) {
  SweepProgress p = SampleProgress();
  p.cell_verdict = {"SAFE", "", "CRASHES", "UNDECIDED", "", ""};
  auto compact = Split(RenderLiveFrame(p, 22, false), '\n');
  ASSERT_GE(compact.size(), 4u);
  EXPECT_EQ(compact[1], "               1 S3");
  EXPECT_EQ(compact[2], "               2 Co");  // UNDECIDED: still the rate's character
  std::string joined = RenderLiveFrame(p, 60, false);
  EXPECT_NE(joined.find("S SAFE, C CRASHES: decided by the SPRT (2 of 6 cells)"), std::string::npos) << joined;
  SweepProgress wide;  // 100 columns: too wide for the compact form on 90 columns
  for (int e = 0; e < 100; ++e) wide.cells.push_back({{"threads", "1"}, {"encoders", std::to_string(e)}});
  wide.cell_n.assign(100, 0);
  wide.cell_crashes.assign(100, 0);
  wide.cell_verdict.assign(100, "");
  wide.cell_n[0] = wide.cell_n[1] = 31;
  wide.cell_verdict[0] = wide.cell_verdict[1] = "SAFE";
  EXPECT_NE(RenderLiveFrame(wide, 90, false).find("100 cells (2 started, 0 crashing, 2 decided)"), std::string::npos)
      << RenderLiveFrame(wide, 90, false);
}

// On a short terminal the grid rows come first; the legend takes only the lines left over.
TEST(LiveFrame, LegendGetsTheLinesTheGridLeaves) {
  SweepProgress p = SampleProgress();
  auto lines = Split(RenderLiveFrame(p, 80, false, 6), '\n');
  ASSERT_EQ(lines.size(), 6u);
  EXPECT_EQ(lines[4], "               8    .    .");
  EXPECT_EQ(lines[5], "k/n: crashed or hung / crashed, hung or clean; . no trial yet; ! crashed");
  EXPECT_EQ(Split(RenderLiveFrame(p, 80, false, 7), '\n').size(), 7u);
  EXPECT_EQ(Split(RenderLiveFrame(p, 80, false, 0), '\n').size(), 7u);
}

TEST(PlainProgress, LineNamesCellOutcomeAndSignal) {
  SweepProgress p = SampleProgress();
  p.done = 12;
  p.total = 64;
  p.crashes = 5;
  p.cells[3] = {{"threads", "4"}, {"sessions", "4"}};
  TrialResult r;
  r.outcome = Outcome::kCrashed;
  r.signal = 11;
  EXPECT_EQ(RenderPlainLine(p, 3, r), "[12/64] 0m21s eta 1m30s 5 crashes (42%) threads=4,sessions=4 crashed SIGSEGV");
  r.outcome = Outcome::kFailed;
  r.exit_code = 3;
  EXPECT_EQ(RenderPlainLine(p, 0, r), "[12/64] 0m21s eta 1m30s 5 crashes (42%) threads=1,sessions=1 failed exit 3");
  p.eta_s = -1;
  r.outcome = Outcome::kHung;
  EXPECT_EQ(RenderPlainLine(p, 0, r), "[12/64] 0m21s 5 crashes (42%) threads=1,sessions=1 hung");
}

TEST(LiveFrame, KeepsFailedAndOverranTrialsApartFromCrashesAndCleanRuns) {
  SweepProgress p = SampleProgress();
  // threads=2,sessions=4: 2 clean and 1 failed; threads=8,sessions=1: 3 trials that all overran.
  p.cell_neither = {0, 0, 0, 1, 3, 0};
  p.failed = 1;
  p.overran = 3;
  p.done = 15;
  std::string frame = RenderLiveFrame(p, 100, false);
  EXPECT_EQ(frame,
            "[15/18] 0m21s eta 1m30s 4 crashes (36%), 1 failed, 3 overran (flat) | threads=8,sessions=1\n"
            "threads\\sessions     1     4\n"
            "               1   0/3  1/3!\n"
            "               2  3/3!  0/2?\n"
            "               8  0/0?     .\n"
            "k/n: crashed or hung / crashed, hung or clean; . no trial yet; ! crashed\n"
            "? failed or overran, not counted; S SAFE, C CRASHES: decided by the SPRT (0 of 6 cells)");
  // In colour, a cell that only overran is grey: it ran, but it is neither clean (green) nor crashing.
  EXPECT_NE(RenderLiveFrame(p, 100, true).find("\x1b[48;5;244m\x1b[38;5;15m 0/0?\x1b[0m"), std::string::npos);
  auto compact = Split(RenderLiveFrame(p, 22, false), '\n');
  ASSERT_GE(compact.size(), 4u);
  EXPECT_EQ(compact[3], "               8 ?.");

  TrialResult r;
  r.outcome = Outcome::kOverran;
  EXPECT_EQ(RenderPlainLine(p, 4, r),
            "[15/18] 0m21s eta 1m30s 4 crashes (36%), 1 failed, 3 overran threads=8,sessions=1 overran (still making "
            "progress, killed)");
}

// Go's `stress` prints "3 failures (2.5%)"; crashgrid the same of its crashes, out of the trials that are
// evidence (crashed, hung or clean), as every k/n it prints: failed and overran trials are in no share.
TEST(PlainProgress, GivesTheCrashPercentageLikeStress) {
  SweepProgress p = SampleProgress();
  p.eta_s = -1;
  TrialResult r;
  r.outcome = Outcome::kCrashed;
  r.signal = 11;
  p.done = 120;
  p.crashes = 3;
  EXPECT_EQ(RenderPlainLine(p, 0, r), "[120/18] 0m21s 3 crashes (2.5%) threads=1,sessions=1 crashed SIGSEGV");
  p.done = 12;
  p.failed = 1;
  p.overran = 1;  // 3 of the 10 evidence trials, not 3 of 12
  EXPECT_NE(RenderPlainLine(p, 0, r).find(" 3 crashes (30%), 1 failed, 1 overran "), std::string::npos);
  p.failed = p.overran = 0;
  p.done = 5000;
  p.crashes = 1;  // 0.02%: never "0%" while something crashed
  EXPECT_NE(RenderPlainLine(p, 0, r).find(" 1 crash (0.02%) "), std::string::npos) << RenderPlainLine(p, 0, r);
  p.done = 200;
  p.crashes = 199;  // never "100%" while one trial ran clean
  EXPECT_NE(RenderPlainLine(p, 0, r).find(" 199 crashes (99.5%) "), std::string::npos) << RenderPlainLine(p, 0, r);
  p.crashes = 200;
  EXPECT_NE(RenderPlainLine(p, 0, r).find(" 200 crashes (100%) "), std::string::npos);
  p.crashes = 0;
  EXPECT_NE(RenderPlainLine(p, 0, r).find(" 0 crashes threads="), std::string::npos);
  // The live view's progress line says the same.
  p.crashes = 3;
  p.done = 120;
  p.cell_n.assign(6, 20);
  EXPECT_EQ(Split(RenderLiveFrame(p, 200, false), '\n')[0],
            "[120/18] 0m21s 3 crashes (2.5%) (flat) | threads=8,sessions=1");
}

TEST(PlainProgress, RateLimitsCleanTrialsButNeverCrashes) {
  char* buf = nullptr;
  size_t len = 0;
  FILE* f = open_memstream(&buf, &len);
  ASSERT_NE(f, nullptr);
  {
    auto obs = NewPlainObserver(f, 3600);
    SweepProgress p = SampleProgress();
    TrialResult clean;
    clean.outcome = Outcome::kClean;
    TrialResult crash;
    crash.outcome = Outcome::kCrashed;
    crash.signal = 6;
    p.crashes = 0;
    p.done = 1;
    obs->OnTrialFinished(p, 0, clean);  // printed: the first line
    p.done = 2;
    obs->OnTrialFinished(p, 0, clean);  // suppressed
    p.done = 3;
    p.crashes = 1;
    obs->OnTrialFinished(p, 1, crash);  // printed
    p.done = 4;
    obs->OnTrialFinished(p, 0, clean);  // suppressed
    obs->OnFinish(p, false);
  }
  fclose(f);
  std::string out(buf, len);
  free(buf);
  EXPECT_EQ(out,
            "[1/18] 0m21s eta 1m30s 0 crashes threads=1,sessions=1 clean\n"
            "[3/18] 0m21s eta 1m30s 1 crash (33%) threads=1,sessions=4 crashed SIGABRT\n"
            "[4/18] 0m21s 1 crash (25%) done\n");
}

// A tiny terminal: enough of VT100 to replay what the live view writes (text, CR, LF, cursor up, erase line,
// erase below, colours ignored) and to know whether the cursor was left visible.
struct Screen {
  std::vector<std::string> rows{""};
  size_t row = 0, col = 0;
  bool cursor_visible = true;

  void Put(char c) {
    while (rows.size() <= row) rows.push_back("");
    std::string& r = rows[row];
    if (r.size() < col) r.resize(col, ' ');
    if (col < r.size()) {
      r[col] = c;
    } else {
      r += c;
    }
    ++col;
  }
  void Feed(const std::string& s) {
    for (size_t i = 0; i < s.size(); ++i) {
      char c = s[i];
      if (c == '\r') {
        col = 0;
      } else if (c == '\n') {
        ++row;
        while (rows.size() <= row) rows.push_back("");
      } else if (c == '\x1b' && i + 1 < s.size() && s[i + 1] == '[') {
        size_t j = i + 2;
        std::string params;
        while (j < s.size() && !(s[j] >= '@' && s[j] <= '~')) params += s[j++];
        char cmd = j < s.size() ? s[j] : 0;
        i = j;
        int n = params.empty() || params[0] == '?' ? 1 : std::atoi(params.c_str());
        if (cmd == 'A') {
          row = row >= static_cast<size_t>(n) ? row - n : 0;
        } else if (cmd == 'K') {
          if (row < rows.size() && rows[row].size() > col) rows[row].resize(col);
        } else if (cmd == 'J') {
          if (row < rows.size() && rows[row].size() > col) rows[row].resize(col);
          rows.resize(std::min(rows.size(), row + 1));
        } else if (cmd == 'l' && params == "?25") {
          cursor_visible = false;
        } else if (cmd == 'h' && params == "?25") {
          cursor_visible = true;
        }
      } else {
        Put(c);
      }
    }
  }
  std::string Text() const {
    std::string s;
    for (const auto& r : rows) s += r + "\n";
    return s;
  }
};

std::string ReadAll(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    struct pollfd pfd = {fd, POLLIN, 0};
    if (poll(&pfd, 1, 20000) <= 0) break;
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) break;  // EIO once the child has exited and closed the slave
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

TEST(LiveObserver, RedrawsInPlaceUnderAPtyAndRestoresTheCursorWhenInterrupted) {
  struct winsize ws = {};
  ws.ws_col = 80;
  ws.ws_row = 24;
  struct termios tio = {};  // every flag cfmakeraw leaves alone must be zero, not stack garbage (OLCUC...)
  cfmakeraw(&tio);
  tio.c_oflag = OPOST | ONLCR;
  tio.c_cflag |= CS8 | CREAD;
  tio.c_cc[VMIN] = 1;
  tio.c_cc[VTIME] = 0;
  int master = -1;
  // gtest's pending stdout would otherwise be flushed by the child into the pty.
  std::fflush(stdout);
  std::fflush(stderr);
  pid_t pid = forkpty(&master, nullptr, &tio, &ws);
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // The child is the "sweep": draw, wait for the parent to resize the terminal, finish interrupted.
    auto obs = NewLiveObserver(stdout);
    SweepProgress p = SampleProgress();
    p.cell_n.assign(6, 0);
    p.cell_crashes.assign(6, 0);
    p.done = 0;
    obs->OnStart(p);
    for (size_t i = 0; i < 4; ++i) {
      p.cell_n[i] = 2;
      p.cell_crashes[i] = static_cast<int64_t>(i % 3);
      p.done += 2;
      obs->OnTrialFinished(p, i, TrialResult{});
      usleep(120 * 1000);  // past the redraw rate limit, so every trial redraws
    }
    char go;
    if (read(STDIN_FILENO, &go, 1) != 1) _exit(3);
    obs->OnFinish(p, true);
    _exit(0);
  }
  // Wait for the first frames before resizing: the child blocks on stdin until then.
  std::string out;
  char buf[4096];
  // Until the whole frame with all four trials is in: each frame ends with "erase below".
  auto have_frame = [&] {
    size_t at = out.find("8/18");
    return at != std::string::npos && out.find("\x1b[J", at) != std::string::npos;
  };
  while (!have_frame()) {
    struct pollfd pfd = {master, POLLIN, 0};
    ASSERT_GT(poll(&pfd, 1, 20000), 0) << "no frame from the child; got: " << out;
    ssize_t n = read(master, buf, sizeof buf);
    ASSERT_GT(n, 0);
    out.append(buf, static_cast<size_t>(n));
  }
  Screen before;
  before.Feed(out);
  // Redrawn in place: the grid header appears once on screen although several frames were written.
  std::string text = before.Text();
  EXPECT_EQ(text.find("threads\\sessions"), text.rfind("threads\\sessions")) << text;
  EXPECT_NE(text.find("               1  0/2  1/2\n               2  2/2  0/2\n"), std::string::npos) << text;
  EXPECT_FALSE(before.cursor_visible);

  ws.ws_col = 20;  // the kernel sends the child SIGWINCH
  ASSERT_EQ(ioctl(master, TIOCSWINSZ, &ws), 0);
  ASSERT_EQ(write(master, "g", 1), 1);
  out += ReadAll(master);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  close(master);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;

  Screen after;
  after.Feed(out);
  text = after.Text();
  EXPECT_TRUE(after.cursor_visible) << "cursor left hidden";
  EXPECT_NE(text.find("interrupted after 8 trials"), std::string::npos) << text;
  // After the resize the last frame is the compact form (19 columns), and no stale wide line survives.
  EXPECT_NE(text.find("               1 o5\n               2 #o\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("1/2"), std::string::npos) << text;
  EXPECT_EQ(out.substr(out.size() - std::string("\x1b[0m\x1b[?25h").size()), "\x1b[0m\x1b[?25h");
}

}  // namespace
}  // namespace cg

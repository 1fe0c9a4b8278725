#include "report/live.h"

#include <signal.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <map>

#include <fmt/format.h>

#include "report/heatmap.h"
#include "util/clock.h"
#include "util/strings.h"

namespace cg {
namespace {

// "0m21s", "12m05s", "1h02m03s": fixed shape so the progress line does not jitter as it updates.
std::string Clock(double s) {
  if (s < 0) s = 0;
  long long t = static_cast<long long>(s + 0.5);
  if (t >= 3600) return fmt::format("{}h{:02}m{:02}s", t / 3600, (t % 3600) / 60, t % 60);
  return fmt::format("{}m{:02}s", t / 60, t % 60);
}

// k of n as a percentage for the progress line: two significant digits below 1%, so that one crash in
// thousands of trials never reads "0%", and never "100%" while some trial did not crash.
std::string Share(int64_t k, int64_t n) {
  double pct = 100.0 * static_cast<double>(k) / static_cast<double>(n);
  std::string s = pct >= 10 ? fmt::format("{:.0f}", pct) : pct >= 1 ? fmt::format("{:.1f}", pct)
                                                                      : fmt::format("{:.2g}", pct);
  if (k < n && s == "100") s = fmt::format("{:.1f}", std::min(pct, 99.9));
  return s + "%";
}

// "3 crashes (2.5%)" as Go's `stress` prints its failures: crashed or hung out of the trials that crashed,
// hung or ran clean (the k/n of every table); then "2 failed" / "1 overran" when there are any: those trials
// are neither crashes nor clean runs, so they are never folded into either count.
std::string Counts(const SweepProgress& p) {
  std::string s = fmt::format("{} {}", p.crashes, p.crashes == 1 ? "crash" : "crashes");
  int64_t evidence = p.done - p.failed - p.overran;
  if (p.crashes > 0 && p.crashes <= evidence) s += " (" + Share(p.crashes, evidence) + ")";
  if (p.failed > 0) s += fmt::format(", {} failed", p.failed);
  if (p.overran > 0) s += fmt::format(", {} overran", p.overran);
  return s;
}

std::string ProgressLine(const SweepProgress& p) {
  std::string s = fmt::format("[{}/{}] {}", p.done, p.total, Clock(p.elapsed_s));
  if (p.eta_s >= 0) s += " eta " + Clock(p.eta_s);
  s += " " + Counts(p);
  if (!p.rule.empty()) s += " (" + p.rule + ")";
  if (!p.current.empty()) s += " | " + p.current;
  return s;
}

// Cuts plain text (no escape sequences) to `width` columns, marking the cut. Counts UTF-8 code points as one
// column each, which holds for everything crashgrid itself prints.
std::string Fit(const std::string& s, int width) {
  if (width <= 0) return "";
  size_t cols = 0, i = 0;
  std::vector<size_t> starts;
  for (; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
      starts.push_back(i);
      ++cols;
    }
  }
  if (cols <= static_cast<size_t>(width)) return s;
  size_t keep = static_cast<size_t>(width) - 1;
  return s.substr(0, starts[keep]) + "~";
}

// Legend items joined with "; " into lines of at most `width` columns, breaking between items; an item too
// long for a line of its own is broken at spaces (a word wider than the line is cut, as Fit cuts).
std::vector<std::string> Wrap(const std::vector<std::string>& items, int width) {
  auto fits = [&](const std::string& s) { return Fit(s, width) == s; };
  std::vector<std::string> out;
  std::string line;
  for (const auto& item : items) {
    if (!line.empty() && fits(line + "; " + item)) {
      line += "; " + item;
      continue;
    }
    if (!line.empty()) out.push_back(line);
    line.clear();
    for (const auto& word : Split(item, ' ')) {
      if (!line.empty() && !fits(line + " " + word)) {
        out.push_back(line);
        line.clear();
      }
      line = Fit(line.empty() ? word : line + " " + word, width);
    }
  }
  if (!line.empty()) out.push_back(line);
  return out;
}

// 256-colour background for a crash rate: green when clean, then orange through dark red; grey for a cell
// whose trials all failed or overran (it ran, but says nothing about crashing).
int Bg(int64_t k, int64_t n, int64_t neither) {
  if (n == 0) return neither > 0 ? 244 : -1;
  if (k == 0) return 28;
  double p = static_cast<double>(k) / static_cast<double>(n);
  if (p < 0.1) return 178;
  if (p < 0.3) return 166;
  if (p < 0.6) return 160;
  return 124;
}

std::string Paint(const std::string& text, int bg, bool color) {
  if (!color || bg < 0) return text;
  return fmt::format("\x1b[48;5;{}m\x1b[38;5;15m{}\x1b[0m", bg, text);
}

std::string PadLeft(const std::string& s, size_t w) { return s.size() >= w ? s : std::string(w - s.size(), ' ') + s; }
std::string PadRight(const std::string& s, size_t w) { return s.size() >= w ? s : s + std::string(w - s.size(), ' '); }

// Rows: values of the first axis. Columns: combinations of the other axes, in grid order.
struct GridShape {
  std::string row_axis;
  std::string col_title;
  std::vector<std::string> rows;
  std::vector<std::string> cols;
  std::vector<int> cell_row, cell_col;  // per p.cells index
};

GridShape Shape(const SweepProgress& p) {
  GridShape g;
  std::map<std::string, int> row_index, col_index;
  for (const Cell& cell : p.cells) {
    std::string row = cell.empty() ? "" : cell[0].second;
    std::string col;
    for (size_t i = 1; i < cell.size(); ++i) {
      if (i > 1) col += ',';
      col += cell.size() > 2 ? cell[i].first + "=" + cell[i].second : cell[i].second;
    }
    // Grid values are the user's text: shown with controls visible, on one line, before any width is measured.
    auto r = row_index.emplace(row, static_cast<int>(g.rows.size()));
    if (r.second) g.rows.push_back(TerminalLine(row));
    auto c = col_index.emplace(col, static_cast<int>(g.cols.size()));
    if (c.second) g.cols.push_back(TerminalLine(col));
    g.cell_row.push_back(r.first->second);
    g.cell_col.push_back(c.first->second);
  }
  if (!p.cells.empty() && !p.cells[0].empty()) {
    g.row_axis = TerminalLine(p.cells[0][0].first);
    if (p.cells[0].size() == 2) g.col_title = TerminalLine(p.cells[0][1].first);
  }
  return g;
}

}  // namespace

std::string RenderLiveFrame(const SweepProgress& p, int width, bool color, int height) {
  width = std::max(width, 10);
  std::vector<std::string> lines;
  lines.push_back(Fit(ProgressLine(p), width));
  GridShape g = Shape(p);
  size_t nr = g.rows.size(), nc = g.cols.size();
  // index of the cell at (row, col), -1 when the grid has no such cell
  std::vector<int> at(nr * nc, -1);
  for (size_t i = 0; i < p.cells.size(); ++i) at[g.cell_row[i] * nc + g.cell_col[i]] = static_cast<int>(i);
  auto n_of = [&](int i) { return i >= 0 && static_cast<size_t>(i) < p.cell_n.size() ? p.cell_n[i] : 0; };
  auto k_of = [&](int i) { return i >= 0 && static_cast<size_t>(i) < p.cell_crashes.size() ? p.cell_crashes[i] : 0; };
  auto x_of = [&](int i) { return i >= 0 && static_cast<size_t>(i) < p.cell_neither.size() ? p.cell_neither[i] : 0; };
  // The SPRT verdict once a cell has one: S (SAFE) or C (CRASHES) after its counts.
  auto verdict_of = [&](int i) -> const char* {
    if (i < 0 || static_cast<size_t>(i) >= p.cell_verdict.size()) return "";
    const std::string& v = p.cell_verdict[i];
    return v == "SAFE" ? "S" : v == "CRASHES" ? "C" : "";
  };
  bool any_neither = false;
  int64_t decided = 0, started = 0, crashing = 0;

  size_t label_w = g.row_axis.size() + (g.col_title.empty() ? 0 : g.col_title.size() + 1);
  for (const auto& r : g.rows) label_w = std::max(label_w, r.size());
  size_t cell_w = 3;
  for (const auto& c : g.cols) cell_w = std::max(cell_w, c.size());
  for (size_t i = 0; i < p.cells.size(); ++i) {
    int c = static_cast<int>(i);
    size_t mark = *verdict_of(c) ? 1 : 0;
    cell_w = std::max(cell_w, fmt::format("{}/{}", k_of(c), n_of(c)).size() + 1 + (x_of(c) > 0 ? 1 : 0) + mark);
    any_neither |= x_of(c) > 0;
    decided += static_cast<int64_t>(mark);
    if (n_of(c) + x_of(c) > 0) ++started;
    if (k_of(c) > 0) ++crashing;
  }
  // What each mark and colour means, and how many cells are decided: the same words in both grid forms.
  std::string decided_note =
      fmt::format("S SAFE, C CRASHES: decided by the SPRT ({} of {} cells)", decided, p.cells.size());
  std::vector<std::string> colours;
  if (color) {
    colours = {"green: no crash", "yellow to dark red: rising crash rate"};
    if (any_neither) colours.push_back("grey: only failed or overran");
  }
  size_t full_w = label_w + nc * (cell_w + 1);
  size_t compact_w = label_w + 1 + nc;
  bool full = full_w <= static_cast<size_t>(width);
  std::vector<std::string> marks;
  if (full) {
    marks = {"k/n: crashed or hung / crashed, hung or clean", ". no trial yet"};
    if (!color) marks.push_back("! crashed");
    if (any_neither) marks.push_back("? failed or overran, not counted");
  } else {
    marks = {"compact: . no trial yet", "o clean", "1-9 crash rate in tenths", "# all crashed"};
    if (any_neither) marks.push_back("? only failed or overran");
  }
  marks.push_back(decided_note);
  std::vector<std::string> legend = Wrap(marks, width);
  for (const auto& l : Wrap(colours, width)) legend.push_back(l);
  // The grid rows come first (besides the progress line, the header and the "more rows" note); the legend
  // gets the lines left over.
  size_t room = height > 0 ? static_cast<size_t>(std::max(height - 3, 1)) : nr;

  auto add_rows_note = [&](size_t shown) {
    if (shown < nr) lines.push_back(Fit(fmt::format("... {} more rows (enlarge the terminal)", nr - shown), width));
  };
  if (full) {
    std::string corner = g.row_axis + (g.col_title.empty() ? "" : "\\" + g.col_title);
    std::string header = PadRight(corner, label_w);
    for (const auto& c : g.cols) header += " " + PadLeft(c, cell_w);
    lines.push_back(header);
    size_t shown = std::min(nr, room);
    for (size_t r = 0; r < shown; ++r) {
      std::string line = PadLeft(g.rows[r], label_w);
      for (size_t c = 0; c < nc; ++c) {
        int i = at[r * nc + c];
        line += " ";
        if (i < 0) {
          line += std::string(cell_w, ' ');
          continue;
        }
        int64_t n = n_of(i), k = k_of(i), x = x_of(i);
        std::string text = n == 0 && x == 0 ? "." : fmt::format("{}/{}", k, n);
        if (x > 0) text += "?";
        if (!color && k > 0) text += "!";
        text += verdict_of(i);
        line += Paint(PadLeft(text, cell_w), Bg(k, n, x), color);
      }
      lines.push_back(line);
    }
    add_rows_note(shown);
    lines.insert(lines.end(), legend.begin(), legend.end());
  } else if (compact_w <= static_cast<size_t>(width)) {
    size_t shown = std::min(nr, room);
    for (size_t r = 0; r < shown; ++r) {
      std::string line = PadLeft(g.rows[r], label_w) + " ";
      for (size_t c = 0; c < nc; ++c) {
        int i = at[r * nc + c];
        if (i < 0) {
          line += " ";
          continue;
        }
        int64_t n = n_of(i), k = k_of(i), x = x_of(i);
        std::string ch = verdict_of(i);
        if (!ch.empty()) {
          // decided: the verdict says more than the rate (the colour still shows the rate)
        } else if (n == 0) {
          ch = x > 0 ? "?" : ".";
        } else if (k == 0) {
          ch = "o";
        } else if (k == n) {
          ch = "#";
        } else {
          ch = std::to_string(std::clamp<int64_t>((k * 20 + n) / (2 * n), 1, 9));  // nearest tenth
        }
        line += Paint(ch, Bg(k, n, x), color);
      }
      lines.push_back(line);
    }
    add_rows_note(shown);
    lines.insert(lines.end(), legend.begin(), legend.end());
  } else {
    lines.push_back(Fit(fmt::format("{} cells ({} started, {} crashing, {} decided); widen the terminal to see the grid",
                                    p.cells.size(), started, crashing, decided),
                        width));
  }
  if (height > 0 && lines.size() > static_cast<size_t>(height)) lines.resize(static_cast<size_t>(height));
  std::string out;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (i) out += '\n';
    out += lines[i];
  }
  return out;
}

std::string RenderPlainLine(const SweepProgress& p, size_t cell, const TrialResult& trial) {
  std::string s = fmt::format("[{}/{}] {}", p.done, p.total, Clock(p.elapsed_s));
  if (p.eta_s >= 0) s += " eta " + Clock(p.eta_s);
  s += " " + Counts(p);
  if (cell < p.cells.size()) s += " " + TerminalLine(CellKey(p.cells[cell]));
  switch (trial.outcome) {
    case Outcome::kCrashed: s += " crashed " + SignalName(trial.signal); break;
    case Outcome::kHung: s += " hung"; break;
    case Outcome::kFailed: s += fmt::format(" failed exit {}", trial.exit_code); break;
    case Outcome::kCouldNotStart: s += " could-not-start"; break;
    case Outcome::kOverran: s += " overran (still making progress, killed)"; break;
    case Outcome::kClean: s += " clean"; break;
  }
  if (!trial.detail.empty() && trial.outcome == Outcome::kCouldNotStart) s += ": " + TerminalLine(trial.detail);
  return s;
}

namespace {

std::atomic<bool> g_winch{false};
void OnWinch(int) { g_winch.store(true, std::memory_order_relaxed); }

class LiveObserver : public ProgressObserver {
 public:
  explicit LiveObserver(FILE* tty) : out_(tty), fd_(fileno(tty)) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = OnWinch;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;  // a resize must not make the sweep's blocking calls fail with EINTR
    installed_ = sigaction(SIGWINCH, &sa, &old_winch_) == 0;
    ReadSize();
  }
  ~LiveObserver() override { Restore(); }

  void OnStart(const SweepProgress& p) override {
    std::fputs("\x1b[?25l", out_);
    Draw(p, true);
  }
  void OnTrialStarted(const SweepProgress& p) override { Draw(p, false); }
  void OnTrialFinished(const SweepProgress& p, size_t, const TrialResult&) override { Draw(p, false); }
  void OnFinish(const SweepProgress& p, bool interrupted) override {
    Draw(p, true);
    if (interrupted) std::fprintf(out_, "interrupted after %lld trials\n", static_cast<long long>(p.done));
    Restore();
  }

 private:
  void ReadSize() {
    struct winsize ws;
    if (ioctl(fd_, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) {
      width_ = ws.ws_col;
      height_ = ws.ws_row;
    }
  }

  void Draw(const SweepProgress& p, bool force) {
    if (finished_) return;
    double now = MonotonicSeconds();
    if (!force && now - last_draw_ < 0.1) return;
    last_draw_ = now;
    if (g_winch.exchange(false, std::memory_order_relaxed)) ReadSize();
    // One column short of the width: writing the last column leaves some terminals in a pending-wrap state
    // that throws the cursor arithmetic off by a line.
    std::string frame = RenderLiveFrame(p, width_ - 1, true, height_ > 1 ? height_ - 1 : 0);
    std::string out;
    if (lines_ > 0) out += fmt::format("\r\x1b[{}A", lines_);
    int count = 0;
    size_t pos = 0;
    while (pos <= frame.size()) {
      size_t nl = frame.find('\n', pos);
      if (nl == std::string::npos) nl = frame.size();
      out.append(frame, pos, nl - pos);
      out += "\x1b[K\r\n";  // \r too: the terminal may be in a mode without ONLCR
      ++count;
      pos = nl + 1;
    }
    out += "\x1b[J";  // a frame shorter than the last one (after a resize) leaves no stale lines below
    lines_ = count;
    std::fwrite(out.data(), 1, out.size(), out_);
    std::fflush(out_);
  }

  void Restore() {
    if (finished_) return;
    finished_ = true;
    std::fputs("\x1b[0m\x1b[?25h", out_);
    std::fflush(out_);
    if (installed_) sigaction(SIGWINCH, &old_winch_, nullptr);
    installed_ = false;
  }

  FILE* out_;
  int fd_;
  int width_ = 80;
  int height_ = 24;
  int lines_ = 0;
  double last_draw_ = -1e9;
  bool finished_ = false;
  bool installed_ = false;
  struct sigaction old_winch_;
};

class PlainObserver : public ProgressObserver {
 public:
  PlainObserver(FILE* out, double min_interval_s) : out_(out), min_interval_s_(min_interval_s) {}
  void OnTrialFinished(const SweepProgress& p, size_t cell, const TrialResult& trial) override {
    double now = MonotonicSeconds();
    bool notable = trial.outcome != Outcome::kClean;
    if (!notable && printed_any_ && now - last_ < min_interval_s_ && p.done != p.total) return;
    last_ = now;
    printed_any_ = true;
    Print(RenderPlainLine(p, cell, trial));
    last_done_ = p.done;
  }
  void OnFinish(const SweepProgress& p, bool interrupted) override {
    if (interrupted) {
      Print(fmt::format("[{}/{}] {} {} interrupted", p.done, p.total, Clock(p.elapsed_s), Counts(p)));
    } else if (p.done != last_done_) {
      Print(fmt::format("[{}/{}] {} {} done", p.done, p.total, Clock(p.elapsed_s), Counts(p)));
    }
  }

 private:
  void Print(const std::string& line) {
    std::fprintf(out_, "%s\n", line.c_str());
    std::fflush(out_);
  }
  FILE* out_;
  double min_interval_s_;
  double last_ = 0;
  bool printed_any_ = false;
  int64_t last_done_ = -1;
};

}  // namespace

std::unique_ptr<ProgressObserver> NewLiveObserver(FILE* tty) { return std::make_unique<LiveObserver>(tty); }

std::unique_ptr<ProgressObserver> NewPlainObserver(FILE* out, double min_interval_s) {
  return std::make_unique<PlainObserver>(out, min_interval_s);
}

std::unique_ptr<ProgressObserver> NewProgressObserver(FILE* out, bool no_live) {
  const char* term = std::getenv("TERM");
  bool dumb = term == nullptr || std::strcmp(term, "dumb") == 0;
  if (!no_live && isatty(fileno(out)) && !dumb) return NewLiveObserver(out);
  return NewPlainObserver(out);
}

}  // namespace cg

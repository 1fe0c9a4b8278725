// Progress of a running sweep, for people watching it: on a terminal the crash table fills in live (cells
// coloured by crash rate, `k/n` per cell, under a progress line), redrawn in place; elsewhere (a pipe, a CI
// log, `--no-live`) one plain line per finished trial.
#pragma once

#include <cstdio>
#include <memory>
#include <string>

#include "sweep/progress.h"

namespace cg {

// One frame of the live view as text lines separated by '\n' (no trailing newline). No line is wider than
// `width` columns (ANSI colour sequences take no columns). When the grid does not fit it falls back to a
// compact form (one character per cell), then to a summary. `height` > 0 caps the number of lines.
// `color`: ANSI 256-colour backgrounds; without it crashing cells are marked with '!'. Under the grid a legend
// says what each mark (and colour) means and how many cells the SPRT has decided (S SAFE, C CRASHES after a
// cell's counts; in the compact form the letter replaces the cell's character).
std::string RenderLiveFrame(const SweepProgress& p, int width, bool color, int height = 0);

// "[12/64] 0m21s eta 1m30s 5 crashes (8.1%) threads=4,sessions=4 crashed SIGSEGV": the plain line for one
// finished trial (`cell` indexes p.cells). The percentage, as Go's `stress` prints it, is crashed or hung out
// of the trials that crashed, hung or ran clean; ", 2 failed, 1 overran" follow when there are any.
std::string RenderPlainLine(const SweepProgress& p, size_t cell, const TrialResult& trial);

// Live view on a terminal: hides the cursor, redraws in place at most every 100 ms (and always at the end),
// re-reads the terminal size on SIGWINCH, and leaves the final frame and a visible cursor on OnFinish, also
// when interrupted. `tty` must be a terminal.
std::unique_ptr<ProgressObserver> NewLiveObserver(FILE* tty);
// One line per trial that did not end clean, and clean ones at most every `min_interval_s`; a final line.
std::unique_ptr<ProgressObserver> NewPlainObserver(FILE* out, double min_interval_s = 1.0);
// The live view when `out` is a terminal (and TERM is not "dumb") and `no_live` is false, else plain lines.
std::unique_ptr<ProgressObserver> NewProgressObserver(FILE* out, bool no_live);

}  // namespace cg

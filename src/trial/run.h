// The plain record of one run: one `crashgrid sweep` command over a grid, as stored in the database.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "trial/trial.h"

namespace cg {

// One axis of the grid: `--grid threads=1..12` is {"threads", {"1", ..., "12"}}.
struct GridAxis {
  std::string name;
  std::vector<std::string> values;
};

// All cells of the grid, first axis varying slowest. One empty cell for an empty grid.
std::vector<Cell> ExpandGrid(const std::vector<GridAxis>& axes);

// The verdict a stopping rule reached for a cell, kept as it was when the rule stopped: later trials (a
// `--refine` pass, a resumed run with a higher cap) are evidence shown beside it, not a new verdict.
struct CellVerdict {
  std::string cell_key;
  std::string rule;          // "sprt" (--until decided) or "refine"
  std::string verdict;       // VerdictName(): "SAFE", "CRASHES", "UNDECIDED"
  int64_t crashes = 0;       // crash evidence when the rule stopped
  int64_t evidence = 0;      // crash + safe evidence (the rule's n) when it stopped
  int64_t last_trial_id = 0; // the trial whose outcome decided it
};

struct RunRecord {
  int64_t id = 0;
  double created_at = 0;            // Unix seconds
  std::vector<std::string> argv;    // the sweep's command line, as typed (re-parsed by --resume)
  std::string command_line;         // argv joined for display, shell-quoted
  std::string workload;             // "gst", "reference-race", ... or "exec"
  std::vector<std::string> exec_argv;  // for --exec
  bool reference_target = false;    // tables and reports must say so
  std::vector<GridAxis> grid;
  std::map<std::string, std::string> params;  // fixed workload parameters (not axes), threads included
  int runs = 0;                     // runs per cell (the cap with --until decided)
  double duration_s = 0;
  double grace_s = 0;
  std::string capture;              // "ptrace", "handler", "none"
  std::string crashgrid_version;
  std::string crashgrid_commit;
  nlohmann::json environment;       // fingerprint: host, kernel, cpu, gstreamer, nvidia, ...
  std::string workload_detail;      // e.g. the chosen gst pipeline branch
  std::string sweep_key;            // identity of the sweep for resuming (hash of what defines it)
  nlohmann::json settings = nlohmann::json::object();  // stopping rule and other sweep options
  bool finished = false;
  std::map<std::string, std::string> labels;  // `--label KEY=VALUE`: stored, shown, `compare --by label:KEY`
  std::string cwd;                            // the working directory --exec programs ran in
  std::map<std::string, std::string> env;     // `--env NAME[=VALUE]` as passed to the program
  std::string identity;  // hash of what must match for a sweep command to resume this run (sweep/fingerprint.h)
  // Schema v5: "K/N" for a run of `--shard K/N` ("" otherwise), and the run's stable id across files (set when the
  // run is first stored; `crashgrid merge` keeps it, so merging a file again finds the run it made before).
  std::string shard;
  std::string origin;
  // The stored verdicts of its cells (Store::LoadCellVerdicts, the cell_verdicts table): not read by
  // Store::LoadRun; the report commands' loader (cli/common.h OpenRuns) and cmd_sweep.cc RenderStoredTable fill it. Empty
  // for a run stored before schema v4, whose verdicts are recomputed from the final counts.
  std::vector<CellVerdict> verdicts;
};

}  // namespace cg

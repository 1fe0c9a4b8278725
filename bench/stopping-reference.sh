#!/usr/bin/env bash
# Ground truth vs sequential stopping on the reference target (issue: verdicts in a fraction of the time).
# usage: bench/stopping-reference.sh BUILD_DIR [OUT_DIR]
# 1. a flat sweep: 69 runs in every cell of a 6x6 grid (the seed report's practice) = ground truth;
# 2. the same grid with --until decided (SPRT, defaults p0=0.01 p1=0.10 alpha=beta=0.05, cap 69);
# 3. bench/stopping-compare.py: trial-seconds of each and the cells whose verdicts disagree.
set -euo pipefail
build=${1:-build}
out=${2:-$build/bench-stopping}
cg="$build/crashgrid"
mkdir -p "$out"
rm -f "$out"/flat.db* "$out"/decided.db*
grid=(--grid threads=1..6 --grid sessions=1..6)
common=(--duration 500ms --runs 69 --no-live --format none)
"$cg" sweep reference-race "${grid[@]}" "${common[@]}" --seed 1 --db "$out/flat.db" 2>"$out/flat.log"
"$cg" sweep reference-race "${grid[@]}" "${common[@]}" --seed 2 --until decided --db "$out/decided.db" 2>"$out/decided.log"
python3 "$(dirname "$0")/stopping-compare.py" "$out/flat.db" "$out/decided.db"

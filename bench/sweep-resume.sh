#!/bin/sh
# Cost per trial of `crashgrid sweep --exec -- /bin/true` (12x12 grid, 1,440 trials) extending a small sweep and
# extending a resumed one whose database already holds ~100k trials (made with `sweep_core_bench fill`, not by
# running them), against a plain fork/exec/wait loop; interleaved, for one or two crashgrid binaries.
# Prints wall-clock trials/s and CPU per trial (user + sys of crashgrid and its children, from /usr/bin/time):
# on a loaded machine the CPU figure is the steadier one. The "empty" line is the same command with nothing left
# to run: the cost of opening and reading the recorded trials, included in the resumed figures.
# usage: bench/sweep-resume.sh [BUILD_DIR] [REPEATS] [OTHER_CRASHGRID]   results: bench/results/sweep-core.md
set -eu
BUILD=${1:-build}
REPEATS=${2:-3}
OTHER=${3:-}
PER_CELL=${PER_CELL:-693}
DIR=${DIR:-$BUILD/bench-sweep-resume}
ninja -C "$BUILD" crashgrid bench_sweep_core bench_forkexec_loop >/dev/null
mkdir -p "$DIR"
echo "# $(uname -srm), $(nproc) cores, load: $(cut -d' ' -f1-3 /proc/loadavg), $(date -u '+%Y-%m-%d %H:%M UTC'), db in $DIR"
sweep() {  # BIN DB RUNS
  "$1" sweep --grid A=1..12 --grid B=1..12 --runs "$3" --duration 1s --db "$2" --no-live -q --format none \
    --exec -- /bin/true
}
timed() {  # OUT BIN DB RUNS: "wall user sys" into OUT
  /usr/bin/time -f "%e %U %S" -o "$1" "$2" sweep --grid A=1..12 --grid B=1..12 --runs "$4" --duration 1s --db "$3" \
    --no-live -q --format none --exec -- /bin/true
}
report() {  # LABEL TIMEFILE TRIALS
  awk -v l="$1" -v n="$3" '{ printf "  %-28s wall %6.0f trials/s   cpu %6.3f ms/trial\n", l, n / $1, ($2 + $3) * 1000 / n }' "$2"
}
run_one() {  # LABEL BIN
  echo "$1:"
  rm -f "$DIR/small.db" "$DIR/big.db"
  sweep "$2" "$DIR/small.db" 1
  timed "$DIR/t.small" "$2" "$DIR/small.db" 11
  sweep "$2" "$DIR/big.db" 1
  "$BUILD/bench/sweep_core_bench" fill "$DIR/big.db" "$PER_CELL"
  timed "$DIR/t.big" "$2" "$DIR/big.db" $((PER_CELL + 1 + 10))
  timed "$DIR/t.empty" "$2" "$DIR/big.db" $((PER_CELL + 1 + 10))
  report "small db" "$DIR/t.small" 1440
  report "resumed on $(((PER_CELL + 1) * 144)) trials" "$DIR/t.big" 1440
  awk '{ printf "  %-28s %.2f s wall, %.2f s cpu\n", "empty (open + read counts)", $1, $2 + $3 }' "$DIR/t.empty"
}
for i in $(seq "$REPEATS"); do
  "$BUILD/bench/forkexec_loop" 1440 /bin/true
  run_one "this build ($BUILD/crashgrid)" "$BUILD/crashgrid"
  if [ -n "$OTHER" ]; then run_one "other ($OTHER)" "$OTHER"; fi
done
rm -rf "$DIR"

#!/bin/sh
# Trials/s of `crashgrid sweep --exec -- /bin/true` (12x12 grid, 1,440 trials) extending a small sweep and
# extending a resumed one whose database already holds ~100k trials (made with `sweep_core_bench fill`, not by
# running them), against a plain fork/exec/wait loop; interleaved, for one or two crashgrid binaries.
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
now() { date +%s.%N; }
sweep() {  # BIN DB RUNS
  "$1" sweep --grid A=1..12 --grid B=1..12 --runs "$3" --duration 1s --db "$2" --no-live -q --format none \
    --exec -- /bin/true
}
run_one() {  # LABEL BIN
  rm -f "$DIR/small.db" "$DIR/big.db"
  sweep "$2" "$DIR/small.db" 1
  t0=$(now); sweep "$2" "$DIR/small.db" 11; t1=$(now)
  sweep "$2" "$DIR/big.db" 1
  "$BUILD/bench/sweep_core_bench" fill "$DIR/big.db" "$PER_CELL"
  t2=$(now); sweep "$2" "$DIR/big.db" $((PER_CELL + 1 + 10)); t3=$(now)
  awk -v l="$1" -v a="$t0" -v b="$t1" -v c="$t2" -v d="$t3" -v n=$((PER_CELL + 1)) 'BEGIN {
    printf "%s: small db %.0f trials/s; resumed on %d trials %.0f trials/s; resumed/small %.2f\n",
      l, 1440 / (b - a), n * 144, 1440 / (d - c), (b - a) / (d - c) }'
}
for i in $(seq "$REPEATS"); do
  "$BUILD/bench/forkexec_loop" 1440 /bin/true
  run_one "this build ($BUILD/crashgrid)" "$BUILD/crashgrid"
  if [ -n "$OTHER" ]; then run_one "other ($OTHER)" "$OTHER"; fi
done
rm -rf "$DIR"

#!/bin/sh
# Wall time and max RSS of the read commands on generated databases (bench/gen_db): a million trials (one run,
# 12x12 grid, 7,000 trials a cell) and two runs of 144 cells at 199 trials a cell (compare's Boschloo worst
# case: (n+1)^2 tables at most 40,000).
#
# usage: bench/reads.sh [BUILD_DIR] [CRASHGRID] [REPEATS]     results go in bench/results/reads.md
#   CRASHGRID defaults to BUILD_DIR/crashgrid; pass another binary (e.g. a copy of main's) to compare.
#   The databases are generated once into $READS_DIR (default /tmp/crashgrid-reads) and reused.
set -eu
BUILD=${1:-build}
BIN=${2:-$BUILD/crashgrid}
REPEATS=${3:-1}
DIR=${READS_DIR:-/tmp/crashgrid-reads}
mkdir -p "$DIR"
ninja -C "$BUILD" bench_gen_db >/dev/null
if [ ! -f "$DIR/1m.db" ]; then
  /usr/bin/time -f 'gen_db 1m: %e s, %M KB' "$BUILD/bench/gen_db" "$DIR/1m.db" --cells 144 --runs-per-cell 7000
fi
if [ ! -f "$DIR/199.db" ]; then
  /usr/bin/time -f 'gen_db 199: %e s, %M KB' "$BUILD/bench/gen_db" "$DIR/199.db" --cells 144 --runs-per-cell 199 --runs 2
fi
echo "# $BIN on $(uname -srm), $(nproc) cores, load: $(cut -d' ' -f1-3 /proc/loadavg), $(date -u '+%Y-%m-%d %H:%M UTC')"
measure() {
  name=$1
  shift
  i=0
  while [ "$i" -lt "$REPEATS" ]; do
    # Past 120 s or 4 GB of address space (ulimit -v) a command counts as failed; its line says so.
    if (ulimit -v 4000000; /usr/bin/time -o "$DIR/time.txt" -f '%e %M' timeout 120 "$@" >/dev/null 2>"$DIR/err.txt"); then
      awk -v n="$name" '{printf "%-20s %8.2f s %8.1f MB\n", n, $1, $2 / 1024}' "$DIR/time.txt"
    else
      echo "$name failed: $(tail -1 "$DIR/time.txt") $(head -c 200 "$DIR/err.txt")"
    fi
    i=$((i + 1))
  done
}
M=$DIR/1m.db
S=$DIR/199.db
measure table-1m "$BIN" table "$M"
measure table-json-1m "$BIN" table "$M" --format json
measure crashes-1m "$BIN" crashes "$M"
measure report-1m "$BIN" report "$M" -o "$DIR/report.html"
measure compare-by-1m "$BIN" compare "$M" --by serialize
measure compare-2runs-199 "$BIN" compare "$S" --run 1 --run 2
measure report-2runs-199 "$BIN" report "$S" -o "$DIR/report.html"
measure export-csv-1m "$BIN" export "$M" --format csv -o "$DIR/export.csv"
measure export-jsonl-1m "$BIN" export "$M" --format jsonl -o "$DIR/export.jsonl"

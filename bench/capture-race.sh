#!/usr/bin/env bash
# Does watching a trial change its crash probability? The start-up race fixture (tests/fixtures/startup_race.c:
# threads created back to back race in a lazy global init) run plainly from a shell loop, and through
# `crashgrid sweep --exec` under every capture method, interleaved in rounds so that load drifts hit all alike.
# Prints k/n per arm and the two-sided Fisher exact test of each arm against the plain runs.
# usage: bench/capture-race.sh [BUILD_DIR] [TRIALS_PER_ARM] [OUT_DIR]
#   STARTUP_RACE_THREADS / STARTUP_RACE_SPIN set the fixture's threads and init window (see the fixture).
set -euo pipefail
BUILD=${1:-build}
N=${2:-200}
OUT=${3:-$(mktemp -d)}
ROUND=${ROUND:-20}
METHODS=${METHODS:-"none attach handler trace"}
CG=$(realpath "$BUILD/crashgrid")
FX=$(realpath "$BUILD/fixtures/startup_race")
export STARTUP_RACE_THREADS=${STARTUP_RACE_THREADS:-4} STARTUP_RACE_SPIN=${STARTUP_RACE_SPIN:-20000}
mkdir -p "$OUT"
rm -f "$OUT"/*.db
echo "# $(uname -srm), $(nproc) cores, load at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# fixture: $FX threads=$STARTUP_RACE_THREADS spin=$STARTUP_RACE_SPIN; $N trials per arm, rounds of $ROUND"
plain_k=0
plain_n=0
done_n=0
while [ "$done_n" -lt "$N" ]; do
  step=$(( N - done_n < ROUND ? N - done_n : ROUND ))
  for ((i = 0; i < step; i++)); do
    rc=0
    "$FX" >/dev/null 2>&1 || rc=$?
    plain_n=$((plain_n + 1))
    [ "$rc" -ge 128 ] && plain_k=$((plain_k + 1))
  done
  done_n=$((done_n + step))
  for m in $METHODS; do
    "$CG" sweep --capture "$m" --runs "$done_n" --duration 5s --db "$OUT/$m.db" --quiet --format none \
      --exec -- "$FX" >/dev/null
  done
done
echo "# load at end: $(cut -d' ' -f1-3 /proc/loadavg)"
{
  echo "plain $plain_k $plain_n"
  for m in $METHODS; do
    k=$(sqlite3 "$OUT/$m.db" "SELECT count(*) FROM trials WHERE outcome IN ('crashed','hung')")
    n=$(sqlite3 "$OUT/$m.db" "SELECT count(*) FROM trials WHERE outcome IN ('crashed','hung','clean')")
    traced=$(sqlite3 "$OUT/$m.db" "SELECT count(*) FROM trials WHERE outcome='crashed' AND report IS NOT NULL")
    echo "$m $k $n $traced"
  done
} | python3 "$(dirname "$0")/fisher.py"

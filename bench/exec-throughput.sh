#!/usr/bin/env bash
# Supervisor throughput: `crashgrid sweep --exec -- /bin/true` against a plain C fork/exec/wait loop
# (bench/forkexec_loop.c) running the same number of processes, interleaved: every round runs each arm once, in
# a random order, so that load drifts hit all arms alike. Each arm is timed from outside (process start to exit,
# so crashgrid's own start-up, database creation and final commit count).
#   plain  forkexec_loop N /bin/true
#   disk   crashgrid sweep --exec with --db on the normal disk (next to the build dir), as users have it
#   shm    the same with --db on /dev/shm (no disk flushes at all)
# Prints trials/s per arm per round, the ratio crashgrid/plain per round and the medians.
# usage: bench/exec-throughput.sh BUILD_DIR [ROUNDS] [TRIALS]      (defaults: 5 rounds of 1000 trials)
#   CAPTURE=none|attach|handler|trace adds --capture (default: crashgrid's default capture)
#   DB_DIR=DIR puts the disk arm's databases in DIR (default: BUILD_DIR/exec-throughput)
set -euo pipefail
BUILD=${1:?usage: bench/exec-throughput.sh BUILD_DIR [ROUNDS] [TRIALS]}
ROUNDS=${2:-5}
N=${3:-1000}
CELLS=10
if [ $((N % CELLS)) -ne 0 ]; then
  echo "exec-throughput.sh: TRIALS must be a multiple of $CELLS" >&2
  exit 2
fi
RUNS=$((N / CELLS))
ninja -C "$BUILD" crashgrid bench_forkexec_loop >/dev/null
CG=$(realpath "$BUILD/crashgrid")
LOOP=$(realpath "$BUILD/bench/forkexec_loop")
DISK=${DB_DIR:-$(realpath "$BUILD")/exec-throughput}
SHM=$(mktemp -d /dev/shm/exec-throughput.XXXXXX)
mkdir -p "$DISK"
trap 'rm -rf "$SHM"' EXIT
CAPTURE_ARGS=()
[ -n "${CAPTURE:-}" ] && CAPTURE_ARGS=(--capture "$CAPTURE")

echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -srm), nproc $(nproc), uptime:$(uptime | sed 's/.*up/ up/')"
echo "# $ROUNDS rounds, $N trials per arm ($CELLS cells x $RUNS runs), capture ${CAPTURE:-default}"
echo "# disk db: $DISK ($(df --output=fstype "$DISK" | tail -1)), shm db: $SHM"

now() { date +%s.%N; }
# Runs one arm, prints its trials/s.
arm() {
  local t0 t1
  case "$1" in
    plain)
      t0=$(now)
      "$LOOP" "$N" /bin/true >/dev/null
      t1=$(now)
      ;;
    disk | shm)
      local dir=$DISK
      [ "$1" = shm ] && dir=$SHM
      rm -f "$dir/t.db" "$dir/t.db-wal" "$dir/t.db-shm"
      t0=$(now)
      "$CG" sweep --grid "i=1..$CELLS" --runs "$RUNS" --db "$dir/t.db" --quiet --format none \
        "${CAPTURE_ARGS[@]}" --exec -- /bin/true >/dev/null
      t1=$(now)
      local got
      got=$(sqlite3 "$dir/t.db" "SELECT count(*) FROM trials WHERE outcome='clean'")
      if [ "$got" -ne "$N" ]; then
        echo "exec-throughput.sh: $1 arm recorded $got clean trials, expected $N" >&2
        exit 1
      fi
      ;;
  esac
  python3 -c "print(f'{$N / ($t1 - $t0):.1f}')"
}

declare -a R_PLAIN R_DISK R_SHM
printf '%-6s %10s %10s %10s %11s %11s   %s\n' round plain/s disk/s shm/s disk/plain shm/plain order
for ((r = 1; r <= ROUNDS; r++)); do
  order=$(printf 'plain\ndisk\nshm\n' | shuf | tr '\n' ' ')
  declare -A rate=()
  for a in $order; do rate[$a]=$(arm "$a"); done
  R_PLAIN+=("${rate[plain]}")
  R_DISK+=("${rate[disk]}")
  R_SHM+=("${rate[shm]}")
  python3 - "$r" "${rate[plain]}" "${rate[disk]}" "${rate[shm]}" "$order" <<'EOF'
import sys
r, p, d, s, order = sys.argv[1], *map(float, sys.argv[2:5]), sys.argv[5]
print(f"{r:<6} {p:10.1f} {d:10.1f} {s:10.1f} {d / p:10.1%} {s / p:10.1%}   {order}")
EOF
  unset rate
done
python3 - "${R_PLAIN[*]}" "${R_DISK[*]}" "${R_SHM[*]}" <<'EOF'
import statistics, sys
p, d, s = ([float(x) for x in a.split()] for a in sys.argv[1:4])
med = statistics.median
print(f"median {med(p):10.1f} {med(d):10.1f} {med(s):10.1f} "
      f"{med([b / a for a, b in zip(p, d)]):10.1%} {med([b / a for a, b in zip(p, s)]):10.1%}   (ratios: median of per-round ratios)")
EOF
echo "# load at end: $(cut -d' ' -f1-3 /proc/loadavg)"

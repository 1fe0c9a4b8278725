#!/usr/bin/env bash
# Supervisor throughput: `crashgrid sweep --exec -- /bin/true` against a plain C fork/exec/wait loop
# (bench/forkexec_loop.c) running the same number of processes, interleaved: every round runs each arm once, in
# a random order, so that load drifts hit all arms alike. Each arm is timed from outside (process start to exit,
# so crashgrid's own start-up, database creation and final commit count).
#   plain  forkexec_loop N /bin/true
#   disk   crashgrid sweep --exec with --db on the normal disk (next to the build dir), as users have it
#   shm    the same with --db on /dev/shm (no disk flushes at all)
#   fork   the disk arm with CRASHGRID_SPAWN=fork (the supervisor's old full-fork spawn path), if in ARMS
#   none   the disk arm with --capture none (whatever CAPTURE says), if in ARMS
#   base, basenone  the disk and none arms with another crashgrid binary (BASE=path, its agent BASE_AGENT=path):
#          a before/after comparison inside one interleaved run
# Prints trials/s per arm per round, the ratio crashgrid/plain per round and the medians.
# usage: bench/exec-throughput.sh BUILD_DIR [ROUNDS] [TRIALS]      (defaults: 5 rounds of 1000 trials)
#   CAPTURE=none|attach|handler|trace adds --capture (default: crashgrid's default capture)
#   DB_DIR=DIR puts the disk arm's databases in DIR (default: BUILD_DIR/exec-throughput)
#   ARMS="plain disk shm fork none base basenone" picks the arms (default "plain disk shm"; plain is always run)
#   NO_BUILD=1 uses BUILD_DIR/crashgrid and BUILD_DIR/bench/forkexec_loop as they are (e.g. a device bundle whose
#   BUILD_DIR holds them); CRASHGRID_AGENT_LIB=path names the agent if it is not next to crashgrid
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
[ -n "${NO_BUILD:-}" ] || ninja -C "$BUILD" crashgrid bench_forkexec_loop >/dev/null
CG=$(realpath "$BUILD/crashgrid")
BASE_CG=${BASE:+$(realpath "$BASE")}
AGENT=${CRASHGRID_AGENT_LIB:-}
LOOP=$(realpath "$BUILD/bench/forkexec_loop")
DISK=${DB_DIR:-$(realpath "$BUILD")/exec-throughput}
SHM=$(mktemp -d /dev/shm/exec-throughput.XXXXXX)
mkdir -p "$DISK"
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
    disk | shm | fork | none | base | basenone)
      local dir=$DISK spawn=${CRASHGRID_SPAWN:-} cg=$CG agent=$AGENT capture=("${CAPTURE_ARGS[@]}")
      [ "$1" = shm ] && dir=$SHM
      [ "$1" = fork ] && spawn=fork
      case "$1" in none | basenone) capture=(--capture none) ;; esac
      case "$1" in base | basenone) cg=${BASE_CG:?arm $1 needs BASE=path/to/crashgrid} agent=${BASE_AGENT:-} ;; esac
      rm -f "$dir/t.db" "$dir/t.db-wal" "$dir/t.db-shm"
      t0=$(now)
      CRASHGRID_AGENT_LIB=$agent CRASHGRID_SPAWN=$spawn "$cg" sweep --grid "i=1..$CELLS" --runs "$RUNS" \
        --db "$dir/t.db" --quiet --format none "${capture[@]}" --exec -- /bin/true >/dev/null
      t1=$(now)
      local got
      got=$(python3 -c "import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute(
        \"SELECT count(*) FROM trials WHERE outcome='clean'\").fetchone()[0])" "$dir/t.db")
      if [ "$got" -ne "$N" ]; then
        echo "exec-throughput.sh: $1 arm recorded $got clean trials, expected $N" >&2
        exit 1
      fi
      ;;
  esac
  python3 -c "print(f'{$N / ($t1 - $t0):.1f}')"
}

ARMS=${ARMS:-plain disk shm}
[[ " $ARMS " == *" plain "* ]] || ARMS="plain $ARMS"
RESULTS=$(mktemp)
trap 'rm -rf "$SHM" "$RESULTS"' EXIT
for ((r = 1; r <= ROUNDS; r++)); do
  order=$(printf '%s\n' $ARMS | shuf | tr '\n' ' ')
  line="$r"
  for a in $order; do line="$line $a=$(arm "$a")"; done
  echo "$line" >>"$RESULTS"
  python3 - "$r" "$ARMS" "$line" <<'EOF'
import sys
header, arms, line = sys.argv[1] == "1", sys.argv[2].split(), sys.argv[3].split()
rate = {k: float(v) for k, v in (kv.split("=") for kv in line[1:])}
others = [a for a in arms if a != "plain"]
if header:
    print(f"{'round':<6}" + "".join(f"{a + '/s':>10}" for a in arms) + "".join(f"{a + '/plain':>12}" for a in others)
          + "   order")
print(f"{line[0]:<6}" + "".join(f"{rate[a]:10.1f}" for a in arms)
      + "".join(f"{rate[a] / rate['plain']:12.1%}" for a in others) + "   " + " ".join(kv.split("=")[0] for kv in line[1:]))
EOF
done
python3 - "$ARMS" "$RESULTS" <<'EOF'
import statistics, sys
arms = sys.argv[1].split()
rounds = [{k: float(v) for k, v in (kv.split("=") for kv in l.split()[1:])} for l in open(sys.argv[2])]
others = [a for a in arms if a != "plain"]
med = statistics.median
print(f"{'median':<6}" + "".join(f"{med(r[a] for r in rounds):10.1f}" for a in arms)
      + "".join(f"{med(r[a] / r['plain'] for r in rounds):12.1%}" for a in others)
      + "   (ratios: median of per-round ratios)")
EOF
echo "# load at end: $(cut -d' ' -f1-3 /proc/loadavg)"

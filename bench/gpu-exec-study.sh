#!/usr/bin/env bash
# The first report's program on the GPU machine, through `crashgrid sweep --exec` (issue 13, "On a real GPU"):
# examples/gst_churn with GStreamer's NVIDIA elements (nvh264dec + cudaupload), a small THREAD_COUNT x
# ENCODERS_PER_PIPELINE grid, then, when this crashgrid's `sweep --help` lists serialize API groups for
# --exec programs, a `--grid serialize=none,cuvid,gst-state` study with throughput. Prints the tables, the
# signatures and the mitigations, and writes everything under OUT_DIR (log.txt, *.db, tables, a repro/ of
# the most frequent signature when there is one). About 4-5 minutes on a 16-core H200 machine.
# usage: bench/gpu-exec-study.sh OUT_DIR [BUILD_DIR]      (BUILD_DIR default: build)
#   RUNS=N runs per cell (default 4), JOBS=N trials at once (default 4), EXAMPLE_ELEMENTS=software for a dry
#   run without a GPU (the program's software pipeline), NO_BUILD=1 to use BUILD_DIR as it is.
set -euo pipefail
OUT=${1:?usage: bench/gpu-exec-study.sh OUT_DIR [BUILD_DIR]}
BUILD=${2:-build}
RUNS=${RUNS:-4}
JOBS=${JOBS:-4}
ELEMENTS=${EXAMPLE_ELEMENTS:-nvidia}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
[ -n "${NO_BUILD:-}" ] || ninja -C "$BUILD" crashgrid gst_churn >/dev/null
CG=$(cd "$BUILD" && pwd)/crashgrid
PROG=$(cd "$BUILD" && pwd)/examples/gst_churn
exec > >(tee "$OUT/log.txt") 2>&1

say() { printf '\n== %s\n' "$*"; }
say "machine"
date -u
uname -a
nproc
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || echo "no nvidia-smi"
gst-inspect-1.0 --version 2>/dev/null | head -2 || true
for e in nvh264dec cudaupload nvh264enc; do
  if gst-inspect-1.0 "$e" >/dev/null 2>&1; then echo "element $e: present"; else echo "element $e: MISSING"; fi
done
"$CG" --version
"$CG" doctor > "$OUT/doctor.txt" 2>&1 || true
cat "$OUT/doctor.txt"

say "one run of the program alone (THREAD_COUNT=2 ENCODERS_PER_PIPELINE=2 DURATION=2, EXAMPLE_ELEMENTS=$ELEMENTS)"
status=0
THREAD_COUNT=2 ENCODERS_PER_PIPELINE=2 DURATION=2 EXAMPLE_ELEMENTS=$ELEMENTS "$PROG" || status=$?
echo "exit status $status"
if [ "$status" -eq 4 ]; then
  echo "gpu-exec-study.sh: the NVIDIA elements are missing (see above); EXAMPLE_ELEMENTS=software for a dry run" >&2
  exit 4
fi

# The program runs DURATION (5 s) on its own; crashgrid's bound is --duration + --grace from its start.
COMMON=(--runs "$RUNS" --jobs "$JOBS" --duration 5s --grace 20s --no-live --env "EXAMPLE_ELEMENTS=$ELEMENTS")

say "sweep: THREAD_COUNT=1,2,4,8 x ENCODERS_PER_PIPELINE=1,2,4, $RUNS runs a cell, $JOBS at once"
start=$(date +%s)
"$CG" sweep --grid THREAD_COUNT=1,2,4,8 --grid ENCODERS_PER_PIPELINE=1,2,4 "${COMMON[@]}" \
  --db "$OUT/grid.db" --exec -- "$PROG"
echo "sweep took $(( $(date +%s) - start )) s"
"$CG" table "$OUT/grid.db" --format seed | tee "$OUT/grid-seed.txt"
"$CG" table "$OUT/grid.db" --format percent | tee "$OUT/grid-percent.txt"
"$CG" crashes "$OUT/grid.db" | tee "$OUT/grid-crashes.txt"
"$CG" mitigations "$OUT/grid.db" | tee "$OUT/grid-mitigations.txt" || true

# The serialize arm needs API groups for --exec (issue 13 section 2): only when this crashgrid lists them.
if "$CG" sweep --help 2>&1 | grep -q 'gst-state'; then
  say "serialize study: serialize=none,cuvid,gst-state x THREAD_COUNT=4,8, ENCODERS_PER_PIPELINE=2"
  start=$(date +%s)
  "$CG" sweep --grid serialize=none,cuvid,gst-state --grid THREAD_COUNT=4,8 --param ENCODERS_PER_PIPELINE=2 \
    "${COMMON[@]}" --db "$OUT/serialize.db" --exec -- "$PROG"
  echo "sweep took $(( $(date +%s) - start )) s"
  "$CG" table "$OUT/serialize.db" --format percent | tee "$OUT/serialize-percent.txt"
  "$CG" mitigations "$OUT/serialize.db" | tee "$OUT/serialize-mitigations.txt" || true
  "$CG" compare "$OUT/serialize.db" --by serialize | tee "$OUT/serialize-compare.txt" || true
  "$CG" crashes "$OUT/serialize.db" | tee "$OUT/serialize-crashes.txt"
else
  say "serialize study skipped: this crashgrid's sweep --help lists no serialize API groups (cuvid, gst-state) for --exec"
fi

# A vendor's reproduction of the most frequent signature, if any trial crashed or hung.
sig=$("$CG" export "$OUT/grid.db" --format jsonl | python3 -c '
import collections, json, sys
c = collections.Counter()
for line in sys.stdin:
    t = json.loads(line)
    s = t.get("signature") or ""
    if s: c[s] += 1
print(c.most_common(1)[0][0] if c else "")' 2>/dev/null || true)
if [ -n "$sig" ]; then
  say "repro of the most frequent signature: $sig"
  rm -rf "$OUT/repro"
  "$CG" repro "$OUT/grid.db" --signature "$sig" -o "$OUT/repro" || true
  "$CG" bugreport "$OUT/grid.db" --signature "$sig" -o "$OUT/bugreport" || true
else
  say "no crash or hang signature in grid.db: no repro written"
fi
say "done: outputs in $OUT"
ls -la "$OUT"

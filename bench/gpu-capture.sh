#!/usr/bin/env bash
# The GPU half of the capture issue, run on the device machine (docs/gpu-validation.md has the results):
# per-thread CUDA contexts at 16-64 threads and GStreamer NVDEC decoding at 8-16 threads, each swept under the
# default capture and under --capture none, so that slow set-up/tear-down, overruns, hangs and the capture's
# effect on crash and error counts can be read off.
# usage: bench/gpu-capture.sh PART OUT_DIR      PART: cuda | nvdec | egl | gst | summary
#   RUNS (default 3) trials per cell, DURATION (default 3s).
set -uo pipefail
part=$1
out=$2
runs=${RUNS:-3}
dur=${DURATION:-3s}
mkdir -p "$out"
sweep() {  # NAME CAPTURE ARGS...
  local name=$1 capture=$2
  shift 2
  local t0=$SECONDS
  crashgrid sweep "$@" --runs "$runs" --duration "$dur" --capture "$capture" --jobs 1 --no-live --quiet \
    --format none --db "$out/$name-$capture.db"
  echo "$name --capture $capture: $((SECONDS - t0)) s wall"
}
case "$part" in
  cuda)
    for c in attach none; do sweep cuda "$c" cuda --grid threads=16,32,64 --param context=per-thread; done ;;
  nvdec)
    for c in attach none; do sweep nvdec "$c" nvdec --grid threads=16,32,64 --param context=per-thread; done ;;
  egl)
    for c in attach none; do sweep egl "$c" eglstream --grid threads=16,32,64 --param context=per-thread; done ;;
  gst)
    clip=$(realpath "${CLIP:-.device-bundle/clip.h264}")
    for c in attach none; do
      sweep gst "$c" gst --grid threads=8,16 --param branches=1 \
        --param "branch=filesrc location=$clip ! h264parse ! nvh264dec ! fakesink"
    done ;;
  summary)
    for db in "$out"/*.db; do
      echo "== $(basename "$db")"
      sqlite3 -header -column "$db" "
        SELECT cell_key AS cell, count(*) AS n,
               sum(outcome='clean') AS clean, sum(outcome='crashed') AS crashed, sum(outcome='hung') AS hung,
               sum(outcome='overran') AS overran, sum(outcome='failed') AS failed,
               sum(outcome='could-not-start') AS cns, sum(errors) AS errors, sum(iterations) AS iters,
               printf('%.1f', avg(setup_s)) AS setup_s, printf('%.1f', max(setup_s)) AS setup_max,
               printf('%.1f', avg(teardown_s)) AS teardown_s, printf('%.1f', max(teardown_s)) AS teardown_max,
               printf('%.1f', avg(duration_s)) AS wall_s
        FROM trials GROUP BY cell_key ORDER BY min(id)"
      sqlite3 "$db" "SELECT DISTINCT outcome || ': ' || signature FROM trials WHERE signature != ''" | head -5
      sqlite3 "$db" "SELECT DISTINCT substr(detail, 1, 300) FROM trials WHERE outcome IN ('hung','overran','could-not-start','failed')" | head -3
    done ;;
esac

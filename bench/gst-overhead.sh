#!/bin/sh
# What crashgrid's workload runtime costs: the same gst pipeline lifecycle, the same branch, threads and
# duration, once as a bare C program (bench/gst_minimal.c) and once as `crashgrid run gst`.
# usage: bench/gst-overhead.sh [BUILD_DIR] [THREADS] [SECONDS] [COPIES]
set -eu
build=${1:-build}
threads=${2:-2}
seconds=${3:-10}
copies=${4:-1}
branch='videotestsrc ! video/x-raw,width=160,height=120,framerate=30/1 ! x264enc speed-preset=ultrafast tune=zerolatency ! fakesink'

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "branch: $copies x [$branch], $threads threads, ${seconds}s"
bare=$("$build/bench/gst_minimal" "$threads" "$seconds" "$copies" "$branch")
echo "$bare"
cg=$("$build/crashgrid" run gst --threads "$threads" --duration "${seconds}s" --param branches="$copies" \
       --param "branch=$branch" --json)
echo "$cg" | python3 -c '
import json, sys
r = json.load(sys.stdin)
print("crashgrid run gst: %d iterations, %d errors, %.1f iterations/s" %
      (r["iterations"], r["errors"], r["iterations"] / r["workload_seconds"]))'

#!/usr/bin/env bash
# make bench: every benchmark under bench/, in turn, against the build in BUILD_DIR. Results are printed; the
# recorded ones (with the machine they ran on) are in bench/results/. FULL=1 adds the 15-minute flat-vs-decided
# sweep on the reference target (bench/stopping-reference.sh).
set -euo pipefail
build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
echo "# $(uname -srm), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo; echo "## supervisor cost per trial";            sh "$here/supervisor-overhead.sh" "$build" 500
echo; echo "## --exec /bin/true vs a plain loop";      bash "$here/exec-throughput.sh" "$build" 3 1000
echo; echo "## reads on a million trials";            sh "$here/reads.sh" "$build"
echo; echo "## tracing cost on a workload";           sh "$here/capture-overhead.sh" "$build" 3
echo; echo "## capture latency (64 threads)";         "$build/bench/capture_bench" 10
echo; echo "## gst workload vs a minimal C program";  bash "$here/gst-overhead.sh" "$build" 2 5 1
echo; echo "## sequential stopping, simulated";       "$build/bench/stopping_sim"
if [ "${FULL:-0}" = 1 ]; then
  echo; echo "## sequential stopping on the reference target"; bash "$here/stopping-reference.sh" "$build"
fi

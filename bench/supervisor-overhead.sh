#!/bin/sh
# Supervisor cost per trial: RunTrial on /bin/true (per capture method) against a plain fork/exec/wait loop.
# usage: bench/supervisor-overhead.sh [BUILD_DIR] [N]     results go in bench/results/supervisor-overhead.md
set -eu
BUILD=${1:-build}
N=${2:-1000}
ninja -C "$BUILD" bench_forkexec_loop bench_supervisor >/dev/null
echo "# $(uname -srm), $(nproc) cores, load: $(cut -d' ' -f1-3 /proc/loadavg)"
"$BUILD/bench/forkexec_loop" "$N" /bin/true
"$BUILD/bench/supervisor_bench" spawn "$N" /bin/true

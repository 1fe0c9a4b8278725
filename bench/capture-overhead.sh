#!/bin/sh
# Tracing cost: iterations/s of a built-in workload run under RunTrial with --capture none vs ptrace
# (ptrace traces every thread from exec on) vs handler.
# usage: bench/capture-overhead.sh [BUILD_DIR] [REPEAT] [-- WORKLOAD ARGS]
#   default workload: reference-race --threads 4 --param sessions=1 --serialize open --duration 3s
set -eu
BUILD=${1:-build}
REPEAT=${2:-5}
shift 2 2>/dev/null || shift $#
[ "${1:-}" = "--" ] && shift
if [ $# -eq 0 ]; then
  set -- reference-race --threads 4 --param sessions=1 --serialize open --duration 3s
fi
ninja -C "$BUILD" crashgrid bench_supervisor >/dev/null
echo "# $(uname -srm), $(nproc) cores, load: $(cut -d' ' -f1-3 /proc/loadavg)"
for capture in none ptrace handler; do
  "$BUILD/bench/supervisor_bench" workload "$capture" "$REPEAT" -- "$(realpath "$BUILD/crashgrid")" run "$@"
done

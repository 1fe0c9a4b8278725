#!/bin/sh
# Capture cost: iterations/s of a built-in workload run under RunTrial with --capture none vs attach (the
# default) vs trace
# (every thread traced from exec on) vs handler, interleaved so that machine load drifts hit all alike.
# usage: bench/capture-overhead.sh [BUILD_DIR] [REPEAT] [-- WORKLOAD ARGS]
#   CRASHGRID=path/to/crashgrid overrides $BUILD_DIR/crashgrid
#   default workload: reference-race --threads 4 --param sessions=1 --serialize open --duration 3s
set -eu
BUILD=${1:-build}
REPEAT=${2:-5}
shift 2 2>/dev/null || shift $#
[ "${1:-}" = "--" ] && shift
if [ $# -eq 0 ]; then
  set -- reference-race --threads 4 --param sessions=1 --serialize open --duration 3s
fi
CG=${CRASHGRID:-$BUILD/crashgrid}
[ -n "${CRASHGRID:-}" ] || ninja -C "$BUILD" crashgrid >/dev/null
ninja -C "$BUILD" bench_supervisor >/dev/null
echo "# $(uname -srm), $(nproc) cores, load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# workload: crashgrid run $*"
i=0
while [ $i -lt "$REPEAT" ]; do
  for capture in ${METHODS:-none attach trace handler}; do
    "$BUILD/bench/supervisor_bench" workload "$capture" 1 -- "$(realpath "$CG")" run "$@" | sed "s/run=0/run=$i/"
  done
  i=$((i + 1))
done

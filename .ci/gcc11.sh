#!/usr/bin/env bash
# CI: the whole tree with GCC 11, Ubuntu 22.04's compiler (the users' floor, docs/building.md), besides the
# default compiler's `make test`. Runs the unit-test binaries; the integration tests, which measure real
# races and throughput, ran once already with the default compiler.
#   .ci/gcc11.sh                 (BUILD_GCC11=dir to build elsewhere; CRASHGRID_DEPS_PREFIX=prefix to build
#                                 against other library versions, e.g. Ubuntu 22.04's fmt/json/CLI11/gtest)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_GCC11:-build-gcc11}
command -v g++-11 >/dev/null || bash scripts/install-deps.sh
start=$(date +%s)
CC=gcc-11 CXX=g++-11 cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  ${CRASHGRID_DEPS_PREFIX:+-DCMAKE_PREFIX_PATH="$CRASHGRID_DEPS_PREFIX"} >/dev/null
cmake --build "$build" -j"$(nproc)"
echo "gcc11: built in $(( $(date +%s) - start )) s"
failed=0
for t in "$build"/src/*_test; do
  "$t" --gtest_brief=1 >"$build/$(basename "$t").log" 2>&1 || { failed=1; echo "gcc11: FAILED $(basename "$t")"; tail -40 "$build/$(basename "$t").log"; }
done
echo "gcc11: unit tests $([ $failed = 0 ] && echo passed || echo FAILED) in $(( $(date +%s) - start )) s total"
exit $failed

#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan+UBSan, in their own build directory) and runs each for a bounded
# time on a copy of its seed corpus: `make fuzz` (FUZZ_SECONDS=N per target, FUZZ_TARGETS="fuzz_grid ...").
# The corpus in the tree (fuzz/corpus/NAME) is only read; what a run learns is left in BUILD/corpus/NAME, a
# crash in BUILD/artifacts/NAME/. Exit 1 when any target crashed or broke a property, 2 when it could not build.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${FUZZ_BUILD:-build-fuzz}
seconds=${FUZZ_SECONDS:-60}
jobs=${JOBS:-$(nproc)}
all=(fuzz_grid fuzz_duration fuzz_escape fuzz_signature fuzz_sweep_flags fuzz_db)
read -r -a targets <<< "${FUZZ_TARGETS:-${all[*]}}"

if ! command -v clang++ >/dev/null; then
  echo "crashgrid: error: make fuzz needs clang++ (apt-get install clang libclang-rt-14-dev)" >&2
  exit 2
fi
CC=clang CXX=clang++ cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Sanitize -DCRASHGRID_FUZZ=ON \
  -DCRASHGRID_SANITIZE=address,undefined -DCRASHGRID_WERROR=OFF ${SAN_CMAKE_FLAGS--DCMAKE_UNITY_BUILD=ON} ${CMAKE_FLAGS:-} >/dev/null
cmake --build "$build" -j"$jobs" --target "${targets[@]}" || exit 2

# Leaks are findings too; a crash input is kept for the report below.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
failed=()
for t in "${targets[@]}"; do
  corpus="$build/corpus/$t" artifacts="$build/artifacts/$t"
  mkdir -p "$corpus" "$artifacts"
  cp -n fuzz/corpus/"$t"/* "$corpus"/ 2>/dev/null || true
  log="$build/fuzz-$t.log"
  # -max_len: the database seeds are ~30 KB; the text targets ignore anything past their own bound.
  max_len=4096
  [ "$t" = fuzz_db ] && max_len=65536
  echo "fuzz: $t for ${seconds}s"
  if "$build/fuzz/$t" -max_total_time="$seconds" -max_len="$max_len" -timeout=25 -rss_limit_mb=2048 \
       -print_final_stats=1 -artifact_prefix="$artifacts/" "$corpus" >"$log" 2>&1; then
    grep -E '^(stat::number_of_executed_units|stat::average_exec_per_sec|stat::peak_rss_mb)' "$log" | tr '\n' ' '
    grep -E '^#[0-9]+.*(DONE|pulse)' "$log" | tail -1 || true
    echo
  else
    echo "fuzz: $t FAILED (log: $log; inputs: $artifacts/)"
    grep -E 'ERROR|property failed|SUMMARY' "$log" | head -5 || true
    failed+=("$t")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: failures in ${failed[*]} (reproduce: $build/fuzz/NAME INPUT)" >&2
  exit 1
fi

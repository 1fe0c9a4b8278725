#!/usr/bin/env bash
# --amplify against plain runs (issue 13, section 3): time to the first crash and trials to a CRASHES verdict
# (--until decided: SPRT p0=0.01 p1=0.10 alpha=beta=0.05, cap CAP), on two targets, plain and amplified
# interleaved (the order alternates per repetition), the sweep's --seed fixed per repetition:
#   ref   the built-in reference target, reference-race --threads 2 --param sessions=1, 500 ms trials
#   race  tests/fixtures/amp_grace_race (a time-based grace period, a check and a use around cuCtxSynchronize
#         of the fake CUDA library), 1 s trials
#   start tests/fixtures/amp_start_race (the creator sets up what the new thread needs after pthread_create)
# Then, because plain sweeps of the race mostly end SAFE after 31 clean trials (the SPRT's minimum), a flat
# sweep of FLAT trials per mode of the race (--grid amplify=off,on, one run, cells interleaved by round) for
# the crash rate and the trial-seconds per crash.
# usage: bench/amplify.sh BUILD_DIR [OUT_DIR] [REPS] [CAP] [FLAT]; bench/amplify.py OUT_DIR prints the tables.
set -euo pipefail
build=${1:-build}
out=${2:-$build/bench-amplify}
reps=${3:-5}
cap=${4:-69}
flat=${5:-100}
cg="$build/crashgrid"
mkdir -p "$out"
rm -f "$out"/*.db* "$out"/*.log
common=(--until decided --runs "$cap" --no-live --format none)
sweep() {  # target mode rep
  local target=$1 mode=$2 rep=$3 db="$out/$1-$2-$3.db" amp=()
  [[ $mode == on ]] && amp=(--amplify on)
  local t0 t1
  t0=$(date +%s.%N)
  if [[ $target == ref ]]; then
    "$cg" sweep reference-race --threads 2 --param sessions=1 --duration 500ms "${amp[@]}" "${common[@]}" \
      --seed "$rep" --db "$db" 2>"$out/$target-$mode-$rep.log"
  elif [[ $target == start ]]; then
    "$cg" sweep --duration 1s --grace 2s "${amp[@]}" "${common[@]}" --seed "$rep" --db "$db" \
      --exec -- "$build/fixtures/amp_start_race" 2>"$out/$target-$mode-$rep.log"
  else
    "$cg" sweep --duration 1s --grace 2s "${amp[@]}" "${common[@]}" --seed "$rep" --db "$db" \
      --exec -- "$build/fixtures/amp_grace_race" 1 2>"$out/$target-$mode-$rep.log"
  fi
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" -v t="$target" -v m="$mode" -v r="$rep" 'BEGIN { printf "%s %s %s %.3f\n", t, m, r, b - a }' >>"$out/wall.txt"
}
: >"$out/wall.txt"
for rep in $(seq 1 "$reps"); do
  for target in race start ref; do
    if ((rep % 2)); then sweep "$target" off "$rep"; sweep "$target" on "$rep"
    else sweep "$target" on "$rep"; sweep "$target" off "$rep"; fi
  done
done
"$cg" sweep --grid amplify=off,on --runs "$flat" --duration 1s --grace 2s --seed 1 --db "$out/flat.db" --no-live \
  --format none --exec -- "$build/fixtures/amp_grace_race" 1 2>"$out/flat.log"
python3 "$(dirname "$0")/amplify.py" "$out"

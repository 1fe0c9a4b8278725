#!/usr/bin/env bash
# What a fleet buys for the first report's table (12x12 cells x 69 runs = 9,936 trials at 5 s a trial): the GPU
# time is arithmetic (the busiest shard's cells x 69 x 5 s); this measures what the fleet adds, the merge of its
# N shard files into one, for N = 1, 8 and 64 (gen_db makes each shard's file: 144/N cells' worth of trials).
#   bench/fleet.sh [BUILD_DIR]   -> a Markdown table on stdout
set -euo pipefail
BUILD=${1:-build}
[[ ${NO_BUILD:-} == 1 ]] || ninja -C "$BUILD" crashgrid bench_gen_db > /dev/null
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
echo "| GPUs (shards) | cells in the busiest shard | GPU wall time at 5 s a trial | merge of the shard files | trials merged |"
echo "|---|---|---|---|---|"
for n in 1 8 64; do
  busiest=$(( (144 + n - 1) / n ))
  files=()
  for k in $(seq 0 $((n - 1))); do
    cells=$(( 144 / n + (k < 144 % n ? 1 : 0) ))
    "$BUILD/bench/gen_db" "$DIR/s$n-$k.db" --cells "$cells" --runs-per-cell 69 --seed $((k + 1)) > /dev/null
    files+=("$DIR/s$n-$k.db")
  done
  start=$(date +%s.%N)
  "$BUILD/crashgrid" merge -q "$DIR/m$n.db" "${files[@]}"
  took=$(echo "$(date +%s.%N) - $start" | bc)
  trials=$(sqlite3 "$DIR/m$n.db" 'SELECT count(*) FROM trials')
  gpu_s=$(( busiest * 69 * 5 ))
  printf '| %d | %d | %d s (%.1f h) | %.2f s | %d |\n' "$n" "$busiest" "$gpu_s" "$(echo "$gpu_s / 3600" | bc -l)" "$took" "$trials"
done

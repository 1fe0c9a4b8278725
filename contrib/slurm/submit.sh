#!/bin/bash
# Queues a sharded crashgrid sweep on Slurm: N array tasks (one GPU each), then the merge once all succeeded.
#   contrib/slurm/submit.sh N [sbatch options...]
#   SWEEP_ARGS="gst --grid threads=1..12 --grid branches=1..12 --runs 69" OUT_DIR=/shared/run1 contrib/slurm/submit.sh 64
# CG_NO_GPU=1 submits without --gres (CPU-only clusters, the test in tests/slurm/).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
n=${1:?usage: submit.sh N [sbatch options...]}
shift
gres=()
[[ ${CG_NO_GPU:-} == 1 ]] && gres=(--gres=none)
array=$(sbatch --parsable --export=ALL "${gres[@]}" --array="0-$((n - 1))" "$@" "$here/crashgrid-array.sbatch")
array=${array%%;*}
merge=$(sbatch --parsable --export=ALL --dependency="afterok:$array" "$@" "$here/crashgrid-merge.sbatch")
echo "array job $array ($n shards), merge job ${merge%%;*}"

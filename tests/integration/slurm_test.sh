#!/bin/bash
# A real Slurm on localhost (Debian's slurm-wlm and munge): slurmctld, slurmd and munged started here with their
# own configuration in a temporary directory, and stopped at the end. A job array of 4 tasks runs the shards of
# a reference-target sweep through contrib/slurm/ (CPU-only: CG_NO_GPU=1), the merge job runs after them
# (--dependency=afterok), and the merged table must equal the same sweep run on one machine: every cell with
# the full count. Exit 77 (ctest: skipped) when slurm-wlm or munge is not installed.
#   slurm_test.sh CRASHGRID_BINARY SOURCE_DIR
set -euo pipefail
crashgrid=${1:?crashgrid binary}
src=${2:?source dir}
for tool in slurmctld slurmd munged sbatch squeue; do
  command -v "$tool" > /dev/null || { echo "SKIP: $tool not installed (apt-get install slurm-wlm munge)"; exit 77; }
done
[[ $(id -u) == 0 ]] || { echo "SKIP: slurmd must run as root here"; exit 77; }

work=$(mktemp -d /tmp/cg_slurm.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2> /dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2> /dev/null || true; done
  [[ ${KEEP:-} == 1 ]] || rm -rf "$work"
}
trap cleanup EXIT
host=$(hostname -s)
port=$(( 20000 + RANDOM % 20000 ))
mkdir -p "$work"/{state,spool,log,out}
chmod 755 "$work"

# munge: its own key and socket.
dd if=/dev/urandom of="$work/munge.key" bs=1024 count=1 status=none
chmod 400 "$work/munge.key"
munged --force --key-file="$work/munge.key" --socket="$work/munge.sock" --pid-file="$work/munged.pid" \
    --log-file="$work/log/munged.log" --seed-file="$work/munge.seed" --foreground > /dev/null 2>&1 &
pids+=($!)

cat > "$work/slurm.conf" <<CONF
ClusterName=cgtest
SlurmctldHost=$host
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$work/munge.sock
CredType=cred/munge
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/log/slurmctld.log
SlurmdLogFile=$work/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
NodeName=$host CPUs=$(nproc) State=UNKNOWN
PartitionName=cg Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$work/slurm.conf
for i in $(seq 50); do [[ -S $work/munge.sock ]] && break; sleep 0.2; done
slurmctld -D -f "$SLURM_CONF" > "$work/log/slurmctld.out" 2>&1 &
pids+=($!)
slurmd -D -f "$SLURM_CONF" -N "$host" > "$work/log/slurmd.out" 2>&1 &
pids+=($!)
ok=0
for i in $(seq 150); do
  if sinfo -h -o '%T' 2> /dev/null | grep -qE '^(idle|mixed)'; then ok=1; break; fi
  sleep 0.4
done
(( ok )) || { echo "FAIL: the Slurm node did not come up"; tail -20 "$work"/log/*.log; exit 1; }

sweep="reference-race --grid threads=1,2 --grid sessions=1,4 --runs 4 --duration 300ms --capture none --seed 5"
export CRASHGRID=$crashgrid OUT_DIR=$work/out SWEEP_ARGS=$sweep CG_NO_GPU=1
cd "$work/out"
submitted=$("$src/contrib/slurm/submit.sh" 4 --cpus-per-task=1)
echo "$submitted"
merge_job=$(sed -n 's/.*merge job \([0-9]*\).*/\1/p' <<< "$submitted")
# Done when the merge job has left the queue and merged.db exists.
for i in $(seq 450); do
  state=$(squeue -h -j "$merge_job" -o '%T %r' 2> /dev/null || true)
  [[ -z $state ]] && break
  [[ $state == *DependencyNeverSatisfied* ]] && { echo "FAIL: a shard failed"; cat "$work"/out/*.out; exit 1; }
  sleep 0.4
done
[[ -f $work/out/merged.db ]] || { echo "FAIL: no merged.db"; cat "$work"/out/*.out 2> /dev/null; tail -20 "$work"/log/*.log; exit 1; }

# The same sweep on one machine.
"$crashgrid" sweep $sweep --db "$work/one.db" --no-live --format none -q
"$crashgrid" table "$work/out/merged.db" --format seed > "$work/merged.txt"
"$crashgrid" table "$work/one.db" --format seed > "$work/one.txt"
counts() { "$crashgrid" export "$1" --format jsonl | python3 -c '
import json, sys, collections
c = collections.Counter(json.loads(l)["cell_key"] for l in sys.stdin)
print(sorted(c.items()))'; }
merged_counts=$(counts "$work/out/merged.db")
one_counts=$(counts "$work/one.db")
echo "merged: $merged_counts"
echo "one:    $one_counts"
[[ $merged_counts == "$one_counts" ]] || { echo "FAIL: cells or counts differ"; exit 1; }
[[ $(grep -c "'" <<< "$merged_counts") -ge 1 ]] || { echo "FAIL: no cells"; exit 1; }
n_shards=$(ls "$work"/out/shard-*.db | wc -l)
[[ $n_shards == 4 ]] || { echo "FAIL: $n_shards shard files, expected 4"; exit 1; }
runs=$("$crashgrid" export "$work/out/merged.db" --format jsonl | python3 -c '
import json, sys; print(len({json.loads(l)["run_id"] for l in sys.stdin}))')
[[ $runs == 1 ]] || { echo "FAIL: the merged file has $runs runs, expected 1"; exit 1; }
# The merged table: every cell of the grid with the full count (reference-race is racy: the crash counts
# themselves differ from run to run, the cells and trial counts must not).
python3 - "$work/merged.txt" <<'PY' || { echo "FAIL: the merged table lacks a cell or a trial"; cat "$work/merged.txt"; exit 1; }
import re, sys
cells = re.findall(r"\{([^}]*)\}", open(sys.argv[1]).read())
totals = [sum(int(n) for n in re.findall(r":\s*(\d+)", c)) for c in cells]
assert len(totals) == 4 and all(t == 4 for t in totals), totals
PY
echo "PASS: 4 Slurm array tasks merged into one run equal to the one-machine sweep"

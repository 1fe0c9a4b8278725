#!/usr/bin/env bash
# make demo: a small sweep of the default GStreamer workload and of the reference target, printing both tables.
# Under 3 minutes on a 2-core machine with no GPU (the build before it excepted).
set -euo pipefail
build=${1:-build}
cg="$build/crashgrid"
out="$build/demo"
mkdir -p "$out"
rm -f "$out"/*.db "$out"/*.db-wal "$out"/*.db-shm

echo "== What this machine can run (crashgrid doctor)"
"$cg" doctor || true

echo
echo "== The first report's workload: threads x branches of the default GStreamer pipeline"
"$cg" sweep gst --grid threads=1,2 --grid branches=1,2 --runs 3 --duration 1s --db "$out/gst.db" --format seed

echo
echo "== The reference target (a deliberate race, to show what a crash map looks like)"
"$cg" sweep reference-race --grid threads=1,2,4 --grid sessions=1,4 --runs 6 --duration 1s \
  --db "$out/reference.db" --format percent
echo
"$cg" table "$out/reference.db" --format seed
echo
"$cg" crashes "$out/reference.db" || true
if "$cg" report "$out/reference.db" -o "$out/reference.html" 2>/dev/null; then
  echo
  echo "HTML report: $out/reference.html"
fi
echo "Databases: $out/gst.db $out/reference.db (crashgrid table / crashes / show / report read them)"

#!/bin/bash
# Builds ablated copies of libcrashgrid_agent.so for `supervisor_bench race N plain,attach,attach@LIB ...`
# (which part of the agent moves a start-up race's crash rate; bench/results/capture-race.md).
#   bench/agent-variants.sh OUTDIR     -> OUTDIR/{base,noalt,nowrap,inert}/libcrashgrid_agent.so
# base: the sources as they are; noalt: new threads get no alternate stack; nowrap: pthread_create is not
# interposed (so no start thunk either); inert: the constructor returns at once (loaded, never active).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:?usage: bench/agent-variants.sh OUTDIR}
build() {
  local name=$1; shift
  local d=$out/$name
  rm -rf "$d"; mkdir -p "$d/agent"
  cp "$root"/src/agent/*.c "$root"/src/agent/*.h "$d/agent/"
  local e
  for e in "$@"; do sed -i "$e" "$d/agent/crashgrid_agent.c"; done
  if [ $# -gt 0 ] && cmp -s "$root/src/agent/crashgrid_agent.c" "$d/agent/crashgrid_agent.c"; then
    echo "agent-variants.sh: error: variant $name changed nothing: the agent's source moved, update its sed" >&2
    exit 1
  fi
  local objs=() f
  for f in crashgrid_agent api_track program_phases amplify; do
    cc -I"$d" -I"$root/src" -O2 -g -DNDEBUG -fPIC -fvisibility=hidden -Wall -Wno-unused-parameter \
      -Wno-unused-function -foptimize-sibling-calls -c "$d/agent/$f.c" -o "$d/$f.o"
    objs+=("$d/$f.o")
  done
  cc -fPIC -O2 -shared -static-libgcc -Wl,-z,noseparate-code -Wl,-z,norelro -Wl,-soname,libcrashgrid_agent.so \
    -o "$d/libcrashgrid_agent.so" "${objs[@]}" -ldl
  echo "$d/libcrashgrid_agent.so"
}
build base
build noalt '/^static void\* start_thunk/,/^}/{s/^  setup_altstack();/  \/\/ ablated: no alternate stack/}'
build nowrap 's/^EXPORT int pthread_create(/__attribute__((unused)) static int cg_ablated_pthread_create(/'
build inert 's/^  resolve_real();$/  return; resolve_real();/'

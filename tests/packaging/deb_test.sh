#!/usr/bin/env bash
# The packaging test: builds the .deb with cpack from a configured and built tree, checks what it declares and
# holds, unpacks it into a fresh prefix (dpkg-deb -x: no root, no dpkg database) and runs the installed
# binary from there: doctor, a reference-target sweep (the installed libcrashgrid_refrace.so must be the one
# that crashes) and an --exec sweep (the installed agent must be preloaded: a captured stack, not "outcome
# only"). Then bash loads the installed completion script and completes a workload name.
#   deb_test.sh BUILD_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/crashgrid-deb.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "--- $*"; }
# Nothing may point the installed binary back at the build tree.
unset CRASHGRID_AGENT_LIB LD_LIBRARY_PATH LD_PRELOAD

step "cpack"
(cd "$tmp" && cpack -G DEB --config "$build/CPackConfig.cmake" -B "$tmp/pkg" >"$tmp/cpack.log" 2>&1) ||
  { cat "$tmp/cpack.log" >&2; fail "cpack failed"; }
deb=$(ls "$tmp"/pkg/crashgrid_*.deb 2>/dev/null | head -1)
[ -f "$deb" ] || fail "no crashgrid_*.deb in $tmp/pkg"
echo "$deb"

step "declared dependencies"
depends=$(dpkg-deb -f "$deb" Depends)
echo "Depends: $depends"
names=$(printf '%s\n' "$depends" | tr ',|' '\n\n' | sed 's/^ *//; s/[ (].*//')
for lib in libc6 libstdc++6 libgstreamer1.0-0 libdw1 libsqlite3-0; do
  grep -qxF "$lib" <<<"$names" || fail "Depends lacks $lib: $depends"
done
[ "$(dpkg-deb -f "$deb" Package)" = crashgrid ] || fail "Package is not crashgrid"

step "contents"
dpkg-deb -c "$deb" | awk '{print $6}' >"$tmp/contents"
for f in ./usr/bin/crashgrid ./usr/lib/crashgrid/libcrashgrid_agent.so ./usr/lib/crashgrid/libcrashgrid_refrace.so \
         ./usr/include/crashgrid.h \
         ./usr/share/bash-completion/completions/crashgrid ./usr/share/zsh/vendor-completions/_crashgrid; do
  grep -qxF "$f" "$tmp/contents" || fail "the package lacks $f"
done
if command -v help2man >/dev/null; then
  grep -qE '^\./usr/share/man/man1/crashgrid\.1(\.gz)?$' "$tmp/contents" || fail "the package lacks the man page"
fi

step "unpack into a fresh prefix"
root="$tmp/root"
dpkg-deb -x "$deb" "$root"
cg="$root/usr/bin/crashgrid"
"$cg" --version
runpath=$(readelf -d "$cg" | sed -n 's/.*(RUNPATH).*\[\(.*\)\]/\1/p; s/.*(RPATH).*\[\(.*\)\]/\1/p')
[ "$runpath" = '$ORIGIN/../lib/crashgrid' ] || fail "crashgrid's RUNPATH is '$runpath', not \$ORIGIN/../lib/crashgrid"
loaded=$(ldd "$cg" | awk '$1 == "libcrashgrid_refrace.so" {print $3}')
[ -n "$loaded" ] && [ "$(realpath "$loaded")" = "$(realpath "$root/usr/lib/crashgrid/libcrashgrid_refrace.so")" ] ||
  { ldd "$cg" >&2; fail "the installed binary loads libcrashgrid_refrace.so from '$loaded', not the installed one"; }

step "doctor"
"$cg" doctor --json --timeout 30 >"$tmp/doctor.json"
grep -q '"schema_version": 1' "$tmp/doctor.json" || fail "doctor --json has no schema_version 1"
grep -q '"container"' "$tmp/doctor.json" || fail "doctor --json does not say whether it runs in a container"
"$cg" doctor --timeout 30 | tee "$tmp/doctor.txt" | grep -E '^(capture|  reference-race)'
grep -qE '^  reference-race +runnable' "$tmp/doctor.txt" || fail "doctor does not find reference-race runnable"

step "reference-target sweep from the installed tree"
cd "$tmp"
"$cg" sweep reference-race --grid threads=4 --grid sessions=8 --runs 3 --duration 1s --db "$tmp/ref.db" -q --format none ||
  fail "the reference sweep failed (exit $?)"
"$cg" crashes "$tmp/ref.db" --json >"$tmp/crashes.json"
grep -q "$root/usr/lib/crashgrid/libcrashgrid_refrace.so" "$tmp/crashes.json" ||
  { head -c 2000 "$tmp/crashes.json" >&2; fail "no crash stack in the installed libcrashgrid_refrace.so"; }

step "--exec sweep: the installed agent is preloaded"
victim="$build/fixtures/exec_segv_thread"
[ -x "$victim" ] || fail "missing fixture $victim (build the tree first)"
"$cg" sweep --grid N=1 --runs 1 --duration 5s --db "$tmp/exec.db" -q --format none --exec -- "$victim" || true
"$cg" show "$tmp/exec.db" 1 --json >"$tmp/show.json"
grep -q '"outcome": "crashed"' "$tmp/show.json" || { cat "$tmp/show.json" >&2; fail "the --exec trial did not crash"; }
grep -q 'libcrashgrid_agent.so not found' "$tmp/show.json" && fail "the installed binary did not find its agent"
grep -qE '"capture_method": "(attach|handler)"' "$tmp/show.json" ||
  { grep capture_method "$tmp/show.json" >&2; fail "the --exec trial was not captured through the agent"; }

step "crashgrid.h from the installed tree"
printf '#include <crashgrid.h>\nint main(void) { CRASHGRID_PHASE("x"); CRASHGRID_ITERATION(); return CRASHGRID_ACTIVE(); }\n' \
  >"$tmp/header.c"
cc -Wall -Wextra -Werror -I"$root/usr/include" "$tmp/header.c" -o "$tmp/header" && "$tmp/header" ||
  fail "a program using the installed crashgrid.h does not build or run"

step "bash completion from the installed script"
bash --norc --noprofile -c '
  set -e
  source "$1"
  complete -p crashgrid | grep -q -- "-F _crashgrid"
  COMP_WORDS=(crashgrid sweep refer); COMP_CWORD=2; _crashgrid
  [ "${COMPREPLY[*]}" = reference-race ] || { echo "sweep refer<TAB> gave: ${COMPREPLY[*]}"; exit 1; }
  COMP_WORDS=(crashgrid sweep --capture ha); COMP_CWORD=3; _crashgrid
  [ "${COMPREPLY[*]}" = handler ] || { echo "--capture ha<TAB> gave: ${COMPREPLY[*]}"; exit 1; }
  COMP_WORDS=(crashgrid mit); COMP_CWORD=1; _crashgrid
  [ "${COMPREPLY[*]}" = mitigations ] || { echo "mit<TAB> gave: ${COMPREPLY[*]}"; exit 1; }
' _ "$root/usr/share/bash-completion/completions/crashgrid" || fail "bash completion"
if command -v zsh >/dev/null; then
  zsh -n "$root/usr/share/zsh/vendor-completions/_crashgrid" || fail "the zsh completion does not parse"
  # Outside a completion widget compadd does not exist: a stub prints what the script offers.
  offered=$(zsh -fc 'compadd() { print -r -- "$*" }; _files() { print _files }
                     words=(crashgrid sweep refer); CURRENT=3; PREFIX=refer; source "$1"' _ \
            "$root/usr/share/zsh/vendor-completions/_crashgrid")
  [[ " $offered " == *" reference-race "* ]] || fail "zsh: 'sweep refer<TAB>' offers no reference-race: $offered"
fi
echo "packaging test passed"

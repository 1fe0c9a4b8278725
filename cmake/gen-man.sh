#!/usr/bin/env bash
# Writes crashgrid.1 from the built binary: help2man turns `crashgrid --help`/`--version` into the page, and
# every command's own --help goes into a COMMANDS section, so the page says what the binary says.
#   gen-man.sh CRASHGRID OUT.1
set -euo pipefail
bin=$1 out=$2
export LC_ALL=C
inc=$(mktemp)
trap 'rm -f "$inc"' EXIT
roff() { sed -e 's/\\/\\e/g' -e "s/^\([.']\)/\\\\\&\1/"; }   # help text as literal roff lines
{
  echo "[COMMANDS]"
  for c in $("$bin" --help | sed -n '/^commands:/,/^$/p' | awk 'NR > 1 && /^  [a-z]/ {print $1}'); do
    echo ".SS \"crashgrid $c\""
    echo ".nf"
    "$bin" "$c" --help | roff
    echo ".fi"
  done
  cat <<'ROFF'
[FILES]
.TP
.I $prefix/lib/crashgrid/libcrashgrid_agent.so
preloaded into every process of an \-\-exec trial (crash notifier, status block); found next to the binary, in
\&../lib/crashgrid/ or ../lib/ relative to it, or at $CRASHGRID_AGENT_LIB.
.TP
.I $prefix/lib/crashgrid/libcrashgrid_refrace.so
the reference target's deliberately racy library (found through the binary's RPATH).
[CONTAINERS]
Capture needs ptrace: run the container with
.B \-\-cap\-add SYS_PTRACE
or sweep with
.BR "\-\-capture handler" .
.B crashgrid doctor
says which capture methods this machine permits.
ROFF
} > "$inc"
help2man --no-info --no-discard-stderr --section=1 --source="crashgrid" \
  --name="map the crash probability of multi-threaded workloads over a grid of settings" \
  --include="$inc" --output="$out.tmp" "$bin"
mv "$out.tmp" "$out"

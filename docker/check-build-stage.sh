#!/usr/bin/env bash
# Checks the Dockerfiles' build stage without docker (none runs here, and neither image can be pulled): every
# package it installs exists in this machine's apt, and its build step (docker/build-deb.sh) makes a .deb
# from a clean copy of the tree (what `COPY . /src` sees: the committed files).
#   docker/check-build-stage.sh [WORKDIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-$(mktemp -d)}
missing=0
while read -r p; do
  [[ -z $p || $p == \#* ]] && continue
  if ! apt-cache show "$p" >/dev/null 2>&1; then echo "no package '$p' in this machine's apt"; missing=1; fi
done <"$root/docker/packages-build.txt"
[ "$missing" = 0 ] || exit 1
git -C "$root" archive --format=tar --prefix=src/ HEAD | tar -x -C "$work"
bash "$root/docker/build-deb.sh" "$work/src" "$work/build"

#!/usr/bin/env bash
# Installs the Debian packages crashgrid needs to build, test and run its demo.
# Called by the make targets; safe to run again (it only installs what is missing).
# As root it runs apt-get; otherwise it prints the exact command to run.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  libcli11-dev libfmt-dev nlohmann-json3-dev libsqlite3-dev sqlite3
  libgtest-dev libgmock-dev libbenchmark-dev
  libdw-dev libelf-dev elfutils
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev gstreamer1.0-tools
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly
  libegl-dev libffmpeg-nvenc-dev
  gdb procps
  clang libclang-rt-14-dev
  g++-11 help2man zsh
  chromium
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# The real-Slurm test (tests/integration/slurm_test.sh, ctest label `slurm`) needs slurm-wlm and munge. Optional:
# when they cannot be installed the test skips itself and says so.
if [ "${CG_SKIP_SLURM:-}" != 1 ] && [ "$(id -u)" -eq 0 ]; then
  for p in slurm-wlm munge; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' && continue
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$p" >/dev/null ||
      echo "install-deps: warning: cannot install $p: the Slurm test will be skipped" >&2
  done
fi
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "crashgrid: error: missing Debian packages: ${missing[*]}" >&2
  echo "crashgrid: run: sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
echo "install-deps: installing ${missing[*]}"
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null


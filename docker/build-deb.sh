#!/usr/bin/env bash
# The build stage of docker/Dockerfile.*: configure, build what the package holds, make the .deb.
# Also runnable on a host (docker/check-build-stage.sh does, to check the stage where no image can be pulled).
#   build-deb.sh SRC_DIR BUILD_DIR
set -euo pipefail
src=$1 build=$2
cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCRASHGRID_WERROR=OFF
# The package's targets only: the test binaries are not packaged (and are CI's business).
# crashgrid_man needs help2man (docker/packages-build.txt installs it).
cmake --build "$build" --target crashgrid crashgrid_agent crashgrid_refrace crashgrid_completions crashgrid_man
(cd "$build" && cpack -G DEB)
ls "$build"/crashgrid_*.deb

#!/usr/bin/env bash
# Builds the portable .deb: ember_<version>_amd64.deb in build-package/,
# compiled for x86-64-v3 (-DEMBER_NATIVE=OFF), not for the build host's CPU,
# so that it runs on any AVX2 machine.
#   scripts/package.sh && sudo apt install ./build-package/ember_*_amd64.deb
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake -S . -B build-package -G Ninja -DCMAKE_BUILD_TYPE=Release -DEMBER_NATIVE=OFF -DCMAKE_INSTALL_PREFIX=/usr >/dev/null
cmake --build build-package --target ember_runtime ember_tracer ember_compiler ember-opt ember-compile ember-bench
(cd build-package && cpack -G DEB)
ls build-package/ember_*_amd64.deb

#!/usr/bin/env bash
# Configures and builds ember into build/ (or build-asan/ with --sanitize).
# Usage: scripts/build.sh [--sanitize] [extra cmake args...]
# With --sanitize only the tests of the layers below MLIR are built (the
# MLIR layers link Debian's uninstrumented libMLIR).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=build
args=(-DCMAKE_BUILD_TYPE=Release)
if [ "${1:-}" = "--sanitize" ]; then
  shift
  dir=build-asan
  args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DEMBER_SANITIZE=ON)
fi
cmake -S . -B "$dir" -G Ninja "${args[@]}" "$@" >/dev/null
if [ "$dir" = build-asan ]; then
  cmake --build "$dir" --target runtime_tests nn_tests tracer_tests num_threads_env_test
else
  cmake --build "$dir"
fi

#!/usr/bin/env bash
# Configures and builds ember into build/ (or build-asan/ with --sanitize,
# build-tsan/ with --tsan, build-fuzz/ with --fuzz, build-eager/ with
# --no-compiler: the runtime and tracer without any LLVM/MLIR package).
# Usage: scripts/build.sh [--sanitize | --tsan | --fuzz | --no-compiler] [extra cmake args...]
# With --sanitize the tests of every layer are built (ember's own compiler
# code instrumented; Debian's libMLIR/libLLVM are not); with --tsan, the
# concurrency tests (ember's own code instrumented, libMLIR not); with
# --fuzz, the libFuzzer harnesses, built by clang.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=build
args=(-DCMAKE_BUILD_TYPE=Release)
if [ "${1:-}" = "--sanitize" ]; then
  shift
  dir=build-asan
  args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DEMBER_SANITIZE=ON)
elif [ "${1:-}" = "--tsan" ]; then
  shift
  dir=build-tsan
  args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DEMBER_TSAN=ON)
elif [ "${1:-}" = "--no-compiler" ]; then
  shift
  dir=build-eager
  args=(-DCMAKE_BUILD_TYPE=Release -DEMBER_COMPILER=OFF)
elif [ "${1:-}" = "--fuzz" ]; then
  shift
  dir=build-fuzz
  args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DEMBER_FUZZ=ON -DCMAKE_C_COMPILER=clang-19 -DCMAKE_CXX_COMPILER=clang++-19)
fi
cmake -S . -B "$dir" -G Ninja "${args[@]}" "$@" >/dev/null
if [ "$dir" = build-asan ]; then
  cmake --build "$dir" --target runtime_tests nn_tests tracer_tests num_threads_env_test compiler_tests ember-opt \
    ember-compile fuzz_regression_tests
elif [ "$dir" = build-tsan ]; then
  cmake --build "$dir" --target concurrency_tests
elif [ "$dir" = build-fuzz ]; then
  cmake --build "$dir" --target fuzz_safetensors fuzz_export fuzz_ember_text
else
  cmake --build "$dir"
fi

#!/usr/bin/env bash
# Runs each libFuzzer harness of tests/fuzz for SECONDS (default 30), each
# from the seeds ember makes, in build-fuzz/corpus/<target>; fails on any
# crash, leak or sanitizer report, leaving the input in
# build-fuzz/crashes/<target>-crash-<hash>. Such an input goes into
# tests/fuzz/regressions/<target>/ once fixed, where the normal suite replays it.
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]
# A long campaign: scripts/fuzz.sh 3600 ember_text (the corpus it grows stays
# in build-fuzz/corpus; rerun with -e KEEP_CORPUS=1 to start from it again).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(safetensors export ember_text)
scripts/build.sh --fuzz
mkdir -p build-fuzz/crashes
# Leaks are checked; one OpenMP thread; a slow input (a lowering gone
# quadratic) is a failure after 20 s, a memory hog after 4 GB.
export ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export EMBER_NUM_THREADS=1 OMP_NUM_THREADS=1
for t in "${targets[@]}"; do
  corpus=build-fuzz/corpus/$t
  if [ "${KEEP_CORPUS:-0}" != 1 ]; then rm -rf "$corpus"; fi
  mkdir -p "$corpus"
  EMBER_FUZZ_WRITE_SEEDS=$corpus build-fuzz/tests/fuzz/fuzz_$t
  echo "fuzz: $t for ${seconds} s from $(ls "$corpus" | wc -l) inputs" >&2
  build-fuzz/tests/fuzz/fuzz_$t -max_total_time="$seconds" -timeout=20 -rss_limit_mb=4096 -print_final_stats=1 \
    -dict=tests/fuzz/$t.dict -artifact_prefix=build-fuzz/crashes/$t- "$corpus" 2>build-fuzz/$t.log || {
    tail -60 build-fuzz/$t.log >&2
    echo "fuzz: $t found a crash; the input is in build-fuzz/crashes/" >&2
    exit 1
  }
  grep -E "stat::number_of_executed_runs|stat::peak_rss_mb|Done" build-fuzz/$t.log | sed "s/^/fuzz: $t: /" >&2
done

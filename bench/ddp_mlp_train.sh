#!/usr/bin/env bash
# WORKLOADS.md's ddp_mlp_train, side by side in one run: 1 process and 2
# processes (1 compute thread each), eager and compiled; prints each JSON
# line and the speed-ups.
#   bench/ddp_mlp_train.sh [build dir] [--iters N]
set -euo pipefail
build=${1:-build}
shift || true
bench=$build/distributed/ember-bench-ddp
export OMPI_MCA_btl_vader_single_copy_mechanism=none EMBER_NUM_THREADS=1
lines=()
for mode in eager compiled; do
  lines+=("$("$bench" --mode $mode "$@")")
  lines+=("$(mpirun --oversubscribe --allow-run-as-root --bind-to none -np 2 "$bench" --mode $mode "$@")")
done
printf '%s\n' "${lines[@]}"
python3 - "${lines[@]}" <<'PY'
import json, sys
runs = [json.loads(l) for l in sys.argv[1:]]
for mode in ("eager", "compiled"):
    one = next(r for r in runs if r["mode"] == mode and r["processes"] == 1)
    two = next(r for r in runs if r["mode"] == mode and r["processes"] == 2)
    print(f"{mode}: 2 processes / 1 = {two['samples_per_s'] / one['samples_per_s']:.2f}x samples/s "
          f"({one['median_ms']:.2f} -> {two['median_ms']:.2f} ms per global step); "
          f"in all-reduces {two['allreduce_wait_ms']:.2f} ms of the step; one all-reduce alone "
          f"{two['allreduce_alone_ms']:.2f} ms")
PY

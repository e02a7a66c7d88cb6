#!/usr/bin/env bash
# WORKLOADS.md's ddp_mlp_train, side by side: 1 process and 2 processes (1
# compute thread each) in one run; prints each JSON line and the speed-up.
#   bench/ddp_mlp_train.sh [build dir] [--iters N]
set -euo pipefail
build=${1:-build}
shift || true
bench=$build/distributed/ember-bench-ddp
export OMPI_MCA_btl_vader_single_copy_mechanism=none EMBER_NUM_THREADS=1
one=$("$bench" "$@")
two=$(mpirun --oversubscribe --allow-run-as-root --bind-to none -np 2 "$bench" "$@")
echo "$one"
echo "$two"
python3 - "$one" "$two" <<'PY'
import json, sys
one, two = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(f"2 processes / 1: {two['samples_per_s'] / one['samples_per_s']:.2f}x samples/s; "
      f"waiting on all-reduces {two['allreduce_wait_ms']:.2f} ms of a {two['median_ms']:.2f} ms step")
PY

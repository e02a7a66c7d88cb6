"""Per-op cost from Python, ember against PyTorch when it is installed (WORKLOADS.md's dispatch: y = x + x
on a [16] float32 tensor, 100,000 times), side by side in one run; medians of 5 rounds, microseconds per op.

    PYTHONPATH=build/python /usr/bin/python3 bench/python_dispatch.py
"""

import json
import statistics
import sys
import time

import ember

N, ROUNDS = 100_000, 5


def per_op_us(fn, x):
    times = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for _ in range(N):
            fn(x)
        times.append((time.perf_counter() - start) / N * 1e6)
    return statistics.median(times)


def main():
    ember_x = ember.randn(16)
    rows = [{"framework": "ember", "op": "x + x", "us_per_op": per_op_us(lambda x: x + x, ember_x)},
            {"framework": "ember", "op": "x.relu()", "us_per_op": per_op_us(lambda x: x.relu(), ember_x)}]
    try:
        import torch

        torch.set_num_threads(1)
        torch_x = torch.randn(16)
        rows += [{"framework": "pytorch", "op": "x + x", "us_per_op": per_op_us(lambda x: x + x, torch_x)},
                 {"framework": "pytorch", "op": "x.relu()", "us_per_op": per_op_us(lambda x: x.relu(), torch_x)}]
    except ImportError:
        print("(PyTorch is not installed: ember's figures only)", file=sys.stderr)
    for r in rows:
        print(json.dumps(r))


if __name__ == "__main__":
    main()

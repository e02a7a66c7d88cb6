#!/usr/bin/python3
"""ember-bench's workloads from Python (shared/bench/WORKLOADS.md), side by side with C++ and PyTorch.

Prints ember-bench's JSON lines with "frontend": "python" for the workloads
written through `import ember`: dispatch (eager; also `us_per_op`) and
mlp_train (eager, and compiled with ember.jit.compile over the whole step).

    PYTHONPATH=build/python /usr/bin/python3 bench/python_bench.py \\
        --against build/bench/ember-bench --pytorch --rounds 3

--against runs ember-bench (C++) on the same workload and mode in every
round, right after the Python run, and --pytorch runs bench/pytorch_reference.py
likewise (dispatch only: PyTorch 1.13 has no compiled training step); their
lines carry "frontend": "cpp" / "framework": "pytorch". Rounds interleave the
programs so that load on a noisy machine falls on all of them alike; standard
error ends with the ratios of the medians of the rounds.
"""

import argparse
import json
import os
import pathlib
import resource
import statistics
import subprocess
import sys
import time

import ember
import ember.jit
import ember.nn.functional as F
from ember import nn

DISPATCH_OPS = 100_000
BATCH = 128


def uniform(*shape):
    return ember.rand(*shape) * 2 - 1


def mlp():
    return nn.Sequential(nn.Linear(784, 1024), nn.ReLU(), nn.Linear(1024, 1024), nn.ReLU(), nn.Linear(1024, 10))


def prepare(workload, mode):
    """The workload's iteration as a function of nothing, and the compile time (ms) of compiled modes."""
    if workload == "dispatch":
        if mode != "eager":
            return None, None
        x = uniform(16)

        def run():
            with ember.no_grad():
                for _ in range(DISPATCH_OPS):
                    x + x

        return run, None
    if workload == "mlp_train":
        model, x, labels = mlp(), uniform(BATCH, 784), ember.randint(0, 10, (BATCH,))
        opt = ember.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

        def step(x, labels):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), labels)
            loss.backward()
            opt.step()
            return loss

        if mode == "eager":
            return (lambda: step(x, labels)), None
        compiled = ember.jit.compile(step)
        start = time.perf_counter()
        compiled(x, labels)  # traces and compiles
        compile_ms = (time.perf_counter() - start) * 1e3
        return (lambda: compiled(x, labels)), compile_ms
    raise SystemExit(f"python_bench: unknown workload {workload}")


def time_python(workload, mode, threads, iters):
    ember.set_num_threads(threads)
    run, compile_ms = prepare(workload, mode)
    if run is None:
        return None
    for _ in range(3):  # WORKLOADS.md's warm-up
        run()
    times = []
    for _ in range(iters):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1e3)
    line = {"workload": workload, "mode": mode, "threads": threads, "median_ms": statistics.median(times),
            "min_ms": min(times), "max_ms": max(times), "iters": iters, "frontend": "python",
            "framework": "ember", "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    if compile_ms is not None:
        line["compile_ms"] = compile_ms
    if workload == "dispatch":
        line["us_per_op"] = line["median_ms"] * 1e3 / DISPATCH_OPS
    return line


def lines_of(command, **extra):
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    lines = [json.loads(l) for l in out.splitlines() if l.startswith("{")]
    for line in lines:
        line.update(extra)
    return lines


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--workloads", default="dispatch,mlp_train")
    p.add_argument("--modes", default="eager,compiled")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--iters", type=int, default=20)
    p.add_argument("--rounds", type=int, default=1)
    p.add_argument("--against", help="ember-bench to run beside (C++ frontend)")
    p.add_argument("--pytorch", action="store_true", help="run bench/pytorch_reference.py beside (dispatch)")
    args = p.parse_args()

    results = []
    for _ in range(args.rounds):
        for workload in args.workloads.split(","):
            for mode in args.modes.split(","):
                line = time_python(workload, mode, args.threads, args.iters)
                if line is None:
                    continue
                results.append(line)
                print(json.dumps(line), flush=True)
                common = ["--workloads", workload, "--modes", mode, "--threads", str(args.threads),
                          "--iters", str(args.iters)]
                beside = []
                if args.against:
                    beside += lines_of([args.against] + common, frontend="cpp", framework="ember")
                if args.pytorch and workload == "dispatch":
                    script = pathlib.Path(__file__).with_name("pytorch_reference.py")
                    beside += lines_of(["/usr/bin/python3", str(script)] + common, frontend="python",
                                       framework="pytorch")
                for other in beside:
                    results.append(other)
                    print(json.dumps(other), flush=True)
    summarize(results)


def summarize(results):
    """Ratios of the medians over rounds: Python against C++, ember against PyTorch."""
    def median_of(workload, mode, frontend, framework):
        values = [r["median_ms"] for r in results if (r["workload"], r["mode"], r.get("frontend"),
                                                       r.get("framework", "ember")) ==
                  (workload, mode, frontend, framework)]
        return statistics.median(values) if values else None

    for workload, mode in sorted({(r["workload"], r["mode"]) for r in results}):
        python = median_of(workload, mode, "python", "ember")
        cpp = median_of(workload, mode, "cpp", "ember")
        torch = median_of(workload, mode, "python", "pytorch")
        if python and cpp:
            print(f"{workload} {mode}: Python {python:.3f} ms, C++ {cpp:.3f} ms: {python / cpp:.3f}x", file=sys.stderr)
        if python and torch:
            print(f"{workload} {mode}: ember {python:.3f} ms, PyTorch {torch:.3f} ms: {python / torch:.3f}x",
                  file=sys.stderr)


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    main()

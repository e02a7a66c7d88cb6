#!/usr/bin/python3
"""The workloads of shared/bench/WORKLOADS.md in PyTorch, for side-by-side runs.

Prints the same JSON lines as ember-bench (with "framework": "pytorch"), so
the two can be compared in one run on the same machine:

    /usr/bin/python3 bench/pytorch_reference.py --threads 1,2 > pytorch.jsonl
    build/bench/ember-bench --threads 1,2 > ember.jsonl

Modes: "eager", and "compiled" as the issues' reference figures were taken:
torch.jit.trace, then torch.jit.freeze (TorchScript replays its kernels; on
CPU it does not fuse them). mlp_train and gpt_train have no compiled mode
here (a traced optimizer step is not something TorchScript offers). The GPT's
attention is written out (matmul, masked_fill, softmax, matmul): PyTorch
1.13 has no fused attention.

PyTorch is never a dependency of ember: this script needs Debian's
python3-torch, installed by hand (apt-get install python3-torch).
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

import torch


def uniform(*shape, scale=1.0):
    return (torch.rand(*shape) * 2 - 1) * scale


def mlp():
    return torch.nn.Sequential(torch.nn.Linear(784, 1024), torch.nn.ReLU(), torch.nn.Linear(1024, 1024),
                               torch.nn.ReLU(), torch.nn.Linear(1024, 10))


class Block(torch.nn.Module):
    """WORKLOADS.md's pre-norm block; attention written out (PyTorch 1.13 has no fused attention)."""

    def __init__(self, c=256, heads=4):
        super().__init__()
        self.heads = heads
        self.ln1, self.ln2 = torch.nn.LayerNorm(c), torch.nn.LayerNorm(c)
        self.qkv, self.proj = torch.nn.Linear(c, 3 * c), torch.nn.Linear(c, c)
        self.fc, self.out = torch.nn.Linear(c, 4 * c), torch.nn.Linear(4 * c, c)

    def attention(self, x):
        b, t, c = x.shape
        q, k, v = self.qkv(x).view(b, t, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        future = torch.ones(t, t, dtype=torch.bool).triu(1)
        scores = (q @ k.transpose(-2, -1) / 8).masked_fill(future, float("-inf"))
        return self.proj((scores.softmax(-1) @ v).transpose(1, 2).reshape(b, t, c))

    def forward(self, x):
        h = x + self.attention(self.ln1(x))
        return h + self.out(torch.nn.functional.gelu(self.fc(self.ln2(h))))


class GPT(torch.nn.Module):
    def __init__(self, vocab=64, block=128, c=256, layers=2):
        super().__init__()
        self.token, self.position = torch.nn.Embedding(vocab, c), torch.nn.Embedding(block, c)
        self.blocks = torch.nn.Sequential(*[Block(c) for _ in range(layers)])
        self.ln, self.head = torch.nn.LayerNorm(c), torch.nn.Linear(c, vocab)

    def forward(self, tokens):
        x = self.token(tokens) + self.position(torch.arange(tokens.shape[1]))
        return self.head(self.ln(self.blocks(x)))


def attention_written(q, k, v):
    t = q.shape[2]
    future = torch.ones(t, t, dtype=torch.bool).triu(1)
    return ((q @ k.transpose(-2, -1)) * 0.125).masked_fill(future, float("-inf")).softmax(-1) @ v


def attention_inputs():
    t = int(os.environ.get("EMBER_BENCH_ATTENTION_T", "1024"))
    return uniform(1, 4, t, 64), uniform(1, 4, t, 64), uniform(1, 4, t, 64)


class Traced(torch.nn.Module):
    """A function of some tensors as a module, so that torch.jit.freeze takes it."""

    def __init__(self, fn, params=()):
        super().__init__()
        self.fn = fn
        self.params = torch.nn.ParameterList([torch.nn.Parameter(p, requires_grad=False) for p in params])

    def forward(self, *xs):
        return self.fn(*xs, *self.params)


def freeze(module, *example):
    with torch.no_grad():
        return torch.jit.freeze(torch.jit.trace(module.eval(), example))


def prepare_compiled(name):
    """The workload through torch.jit.trace + freeze, or None where there is none."""
    if name == "dispatch":
        x = uniform(16)
        f = freeze(Traced(lambda a: a + a), x)

        def run():
            with torch.no_grad():
                for _ in range(100000):
                    f(x)
        return run
    if name == "ew_chain":
        x = uniform(4194304)
        f = freeze(Traced(lambda a: torch.tanh(a * 1.5 + 0.5) * torch.sigmoid(a) + a), x)
    elif name == "norm_softmax":
        x, w, b = uniform(4096, 1024), uniform(1024), uniform(1024)
        f = freeze(Traced(lambda a, w, b: torch.softmax(torch.nn.functional.layer_norm(a, (1024,), w, b), -1), (w, b)), x)
    elif name == "matmul":
        a, b = uniform(1024, 1024), uniform(1024, 1024)
        f, x = freeze(Traced(lambda p, q: p @ q), a, b), (a, b)
    elif name == "mlp_infer":
        x = uniform(128, 784)
        f = freeze(mlp(), x)
    elif name == "gpt_infer":
        x = torch.randint(0, 64, (16, 128))
        f = freeze(GPT(), x)
    elif name == "attention_written":
        x = attention_inputs()
        f = freeze(Traced(attention_written), *x)
    else:
        return None
    args = x if isinstance(x, tuple) else (x,)

    def run():
        with torch.no_grad():
            f(*args)
    return run


def prepare(name):
    if name == "dispatch":
        x = uniform(16)

        def run():
            with torch.no_grad():
                for _ in range(100000):
                    x + x
        return run
    if name == "ew_chain":
        x = uniform(4194304)
        return lambda: torch.tanh(x * 1.5 + 0.5) * torch.sigmoid(x) + x
    if name == "norm_softmax":
        x, w, b = uniform(4096, 1024), uniform(1024), uniform(1024)
        return lambda: torch.softmax(torch.nn.functional.layer_norm(x, (1024,), w, b), -1)
    if name == "matmul":
        a, b = uniform(1024, 1024), uniform(1024, 1024)
        return lambda: a @ b
    if name == "mlp_infer":
        model, x = mlp(), uniform(128, 784)

        def run():
            with torch.no_grad():
                model(x)
        return run
    if name == "gpt_infer":
        model, x = GPT(), torch.randint(0, 64, (16, 128))

        def run():
            with torch.no_grad():
                model(x)
        return run
    if name == "gpt_train":
        model, x, y = GPT(), torch.randint(0, 64, (16, 128)), torch.randint(0, 64, (16, 128))
        opt = torch.optim.AdamW(model.parameters(), lr=3e-4, weight_decay=0.01)

        def run():
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(x).view(-1, 64), y.view(-1)).backward()
            opt.step()
        return run
    if name == "attention_written":
        q, k, v = attention_inputs()

        def run():
            with torch.no_grad():
                attention_written(q, k, v)
        return run
    if name == "mlp_train":
        model, x, y = mlp(), uniform(128, 784), torch.randint(0, 10, (128,))
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

        def run():
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
        return run
    raise SystemExit(f"unknown workload {name}")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--workloads", default="dispatch,ew_chain,norm_softmax,matmul,mlp_infer,mlp_train,"
                                          "gpt_infer,gpt_train,attention_written")
    p.add_argument("--threads", default="1,2")
    p.add_argument("--modes", default="eager,compiled")
    p.add_argument("--iters", type=int, default=20)
    p.add_argument("--one", action="store_true", help="run one workload in this process (internal)")
    args = p.parse_args()
    if not args.one:
        # One process per (workload, threads), as ember-bench does, so that
        # peak_rss_mb is the workload's own. Set up fairly, as the issues'
        # reference figures were: BLAS limited to the same threads (Debian's
        # torch otherwise runs OpenBLAS on every core whatever
        # set_num_threads says), the OpenMP build of OpenBLAS (one pool), and
        # glibc told to keep freed 16 MiB buffers instead of unmapping them
        # (PyTorch has no caching CPU allocator).
        for name in args.workloads.split(","):
            for threads in args.threads.split(","):
                env = dict(os.environ, OPENBLAS_NUM_THREADS=threads, OMP_NUM_THREADS=threads,
                           LD_LIBRARY_PATH="/usr/lib/x86_64-linux-gnu/openblas-openmp",
                           MALLOC_MMAP_THRESHOLD_="33554432", MALLOC_TRIM_THRESHOLD_="1073741824")
                subprocess.run([sys.executable, __file__, "--one", "--workloads", name, "--threads", threads,
                                "--modes", args.modes, "--iters", str(args.iters)], check=True, env=env)
        return
    torch.manual_seed(0)
    for name in args.workloads.split(","):
        for threads, mode in [(int(t), m) for t in args.threads.split(",") for m in args.modes.split(",")]:
            torch.set_num_threads(threads)
            run = prepare(name) if mode == "eager" else prepare_compiled(name)
            if run is None:
                continue
            for _ in range(3):
                run()
            times = []
            for _ in range(args.iters):
                start = time.perf_counter()
                run()
                times.append((time.perf_counter() - start) * 1000)
            line = {"workload": name, "mode": mode, "framework": "pytorch", "threads": threads,
                    "median_ms": statistics.median(times), "min_ms": min(times), "max_ms": max(times),
                    "iters": args.iters, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
            if name == "dispatch":
                line["us_per_op"] = line["median_ms"] * 1000 / 100000
            print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()

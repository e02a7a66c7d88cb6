#!/usr/bin/python3
"""What ember is for, from Python, in one run on the UCI 8x8 digits (the C++ demo's twin):

  1. prototype eagerly: train an MLP define-by-run;
  2. compile the same training step with ember.jit.compile and train a twin
     of the model from the same weights on the same batches: same accuracy,
     the speed-up and the compile time;
  3. compile inference, compare it with eager;
  4. export it as native code with a C entry point, and print the command
     that builds and runs a C program classifying one test image.

    PYTHONPATH=build/python /usr/bin/python3 examples/python/demo.py [--epochs 10] [--export build/demo-py]

Exits non-zero if the compiled run does not reproduce the eager one.
"""

import argparse
import pathlib
import shutil
import time

import numpy as np

import ember
import ember.jit
from ember import nn

from digits import accuracy, fit, load_split, training_step

# The C program both demos print the command for.
CLASSIFY_DIGIT_C = pathlib.Path(__file__).resolve().parents[1] / "common" / "classify_digit.c"


def per_call_us(fn, x, calls):
    start = time.perf_counter()
    for _ in range(calls):
        fn(x)
    return (time.perf_counter() - start) / calls * 1e6


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--export", default="build/demo-py")
    args = p.parse_args()
    ember.manual_seed(0)
    split = load_split((64,))
    test_x, test_y = split[2], split[3]
    eager = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
    model.load_state_dict(eager.state_dict())
    print(eager)

    print("1. eager training (define-by-run: every op runs as it is called)")
    eager_s = fit(training_step(eager, ember.optim.SGD(eager.parameters(), lr=0.05, momentum=0.9)), eager, split,
                  args.epochs, "eager")

    print("2. the same training step through ember.jit.compile (traced once, fused native code after)")
    step = ember.jit.compile(training_step(model, ember.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)))
    compiled_s = fit(step, model, split, args.epochs, "compiled")
    stats = step.stats()
    max_diff = max(float((a - b).abs().max()) for a, b in zip(eager.parameters(), model.parameters()))
    eager_acc, compiled_acc = accuracy(eager, test_x, test_y), accuracy(model, test_x, test_y)
    print(f"   test accuracy: eager {100 * eager_acc:.2f}%, compiled {100 * compiled_acc:.2f}%; "
          f"largest parameter difference {max_diff:.2g}")
    print(f"   training: eager {eager_s:.3f} s, compiled {compiled_s:.3f} s including the compile; "
          f"compiled once in {stats['compile_ms']:.0f} ms; {stats['hits']} of {stats['hits'] + stats['eager_calls']} "
          f"calls native")

    print("3. inference, compiled")
    infer = ember.jit.compile(lambda x: model(x))
    infer_diff = 0.0
    with ember.no_grad():
        for x, calls in ((test_x, 300), (test_x[0:1].contiguous(), 3000)):
            for _ in range(4):
                infer(x)  # warm-up, trace and compile
            eager_us, compiled_us = per_call_us(model, x, calls), per_call_us(infer, x, calls)
            diff = float((infer(x) - model(x)).abs().max())
            infer_diff = max(infer_diff, diff)
            print(f"   {len(x)} image{'s' if len(x) > 1 else ''} per call: eager {eager_us:.2f} us, compiled "
                  f"{compiled_us:.2f} us ({eager_us / compiled_us:.2f}x); largest difference {diff:.2g}")

    print("4. export for one image at a time")
    out = pathlib.Path(args.export)
    image = test_x[0:1].contiguous()
    for path in ember.jit.export(lambda x: model(x), [image], out):
        print(f"   {path}")
    image.numpy().astype(np.float32).tofile(out / "digit.bin")
    shutil.copyfile(CLASSIFY_DIGIT_C, out / "main.c")
    with ember.no_grad():
        predicted = int(model(image).argmax(dim=1))
    print(f"   ember predicts {predicted} for {out}/digit.bin (label {int(test_y[0])}). Build and run the C program:")
    print(f"   cc -O2 -o {out}/classify {out}/main.c {out}/model.o -lopenblas -lm && {out}/classify {out}/digit.bin")
    same = abs(eager_acc - compiled_acc) < 0.01 and max_diff < 1e-3 and infer_diff < 1e-4
    if not same:
        print("the compiled run does not reproduce the eager one")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())

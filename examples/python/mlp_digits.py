#!/usr/bin/python3
"""An MLP on the UCI 8x8 digits from Python: trained eagerly, then the same training compiled.

Linear(64, 128)-ReLU-Linear(128, 10), SGD with momentum, batches of 32. The
compiled twin starts from the same weights and sees the same batches, so it
reaches the same accuracy; exits non-zero below 95% or if the two differ.

    PYTHONPATH=build/python /usr/bin/python3 examples/python/mlp_digits.py [--epochs 10]
"""

import argparse

import ember
import ember.jit
from ember import nn

from digits import accuracy, fit, load_split, training_step


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--epochs", type=int, default=10)
    args = p.parse_args()
    ember.manual_seed(0)
    split = load_split((64,))

    eager = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
    compiled = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
    compiled.load_state_dict(eager.state_dict())  # the same initial weights
    print(eager)

    eager_opt = ember.optim.SGD(eager.parameters(), lr=0.05, momentum=0.9)
    eager_s = fit(training_step(eager, eager_opt), eager, split, args.epochs, "eager")

    compiled_opt = ember.optim.SGD(compiled.parameters(), lr=0.05, momentum=0.9)
    step = ember.jit.compile(training_step(compiled, compiled_opt))
    compiled_s = fit(step, compiled, split, args.epochs, "compiled")

    eager_acc, compiled_acc = (accuracy(m, split[2], split[3]) for m in (eager, compiled))
    print(f"test accuracy: eager {100 * eager_acc:.2f}%, compiled {100 * compiled_acc:.2f}%; "
          f"training {eager_s:.2f} s eager, {compiled_s:.2f} s compiled (compiled once: {step.stats()})")
    return 0 if min(eager_acc, compiled_acc) >= 0.95 and abs(eager_acc - compiled_acc) < 0.01 else 1


if __name__ == "__main__":
    raise SystemExit(main())

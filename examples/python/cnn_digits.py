#!/usr/bin/python3
"""A small CNN on the UCI 8x8 digits from Python, with a Python module of C++ layers.

Two 3x3 convolutions with max pooling, then a linear classifier; Adam.
Exits non-zero below 95% test accuracy.

    PYTHONPATH=build/python /usr/bin/python3 examples/python/cnn_digits.py [--epochs 8]
"""

import argparse

import ember
from ember import nn

from digits import accuracy, fit, load_split, training_step


class DigitsCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                      nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
        self.classify = nn.Linear(32 * 2 * 2, 10)

    def forward(self, x):
        return self.classify(self.features(x).flatten(1))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--epochs", type=int, default=8)
    args = p.parse_args()
    ember.manual_seed(0)
    split = load_split((1, 8, 8))
    model = DigitsCNN()
    print(model)
    opt = ember.optim.Adam(model.parameters(), lr=3e-3)
    seconds = fit(training_step(model, opt), model, split, args.epochs, "cnn")
    acc = accuracy(model, split[2], split[3])
    print(f"cnn_digits: test accuracy {100 * acc:.2f}% after {args.epochs} epochs, {seconds:.2f} s")
    return 0 if acc >= 0.95 else 1


if __name__ == "__main__":
    raise SystemExit(main())

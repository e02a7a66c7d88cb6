#!/usr/bin/python3
"""A character-level LSTM language model over English words, from Python.

Words from /usr/share/dict/words in batches of 64, each batch padded only to
its own longest word (a new shape every step: what define-by-run handles for
free). Embedding(27, 32)-LSTM(32, 128)-Linear(128, 27), Adam. A Python
Dataset with a collate function makes the batches. Prints the loss falling
and a few sampled words; exits non-zero unless the loss fell below 2.5 nats
per character (uniform: 3.30).

    PYTHONPATH=build/python /usr/bin/python3 examples/python/char_lstm.py [--steps 300]
"""

import argparse
import math
import random

import ember
import ember.nn.functional as F
from ember import nn

VOCAB, BOUNDARY, IGNORE = 27, 0, -100  # a-z are 1..26; the boundary starts and ends a word


class Words(ember.data.Dataset):
    def __init__(self):
        self.words = ember.data.load_words()

    def __len__(self):
        return len(self.words)

    def __getitem__(self, i):
        return self.words[i]


def encode(words):
    """inputs [T, B]: boundary then the letters; targets [T, B]: the letters then the boundary (padding ignored)."""
    length = max(len(w) for w in words) + 1
    inputs = [[BOUNDARY] * len(words) for _ in range(length)]
    targets = [[IGNORE] * len(words) for _ in range(length)]
    for b, word in enumerate(words):
        ids = [ord(c) - ord("a") + 1 for c in word]
        for t, token in enumerate([BOUNDARY] + ids):
            inputs[t][b] = token
        for t, token in enumerate(ids + [BOUNDARY]):
            targets[t][b] = token
    return ember.tensor(inputs), ember.tensor(targets)


class CharModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, 32)
        self.lstm = nn.LSTM(32, 128)
        self.head = nn.Linear(128, VOCAB)

    def forward(self, tokens, state=None):
        out, state = self.lstm(self.embed(tokens), state)
        return self.head(out), state


def sample(model, rng, max_len=14):
    word, state, token = "", None, BOUNDARY
    with ember.no_grad():
        while len(word) < max_len:
            logits, state = model(ember.tensor([[token]]), state)
            probs = logits.view(VOCAB).softmax(dim=0).tolist()
            token = rng.choices(range(VOCAB), weights=probs)[0]
            if token == BOUNDARY:
                break
            word += chr(ord("a") + token - 1)
    return word


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--steps", type=int, default=300)
    args = p.parse_args()
    ember.manual_seed(0)
    loader = ember.data.DataLoader(Words(), batch_size=64, shuffle=True, seed=0, drop_last=True, collate_fn=encode)
    model = CharModel()
    print(model)
    opt = ember.optim.Adam(model.parameters(), lr=5e-3)
    smoothed, step = math.log(VOCAB), 0
    while step < args.steps:
        for inputs, targets in loader:
            step += 1
            opt.zero_grad()
            logits, _ = model(inputs)
            loss = F.cross_entropy(logits.view(-1, VOCAB), targets.view(-1))
            loss.backward()
            opt.step()
            smoothed = 0.95 * smoothed + 0.05 * float(loss)
            if step % 50 == 0:
                print(f"step {step:4d}/{args.steps}  loss {smoothed:.3f} nats/char  batch length {len(inputs)}")
            if step == args.steps:
                break
    rng = random.Random(0)
    print("samples:", " ".join(sample(model, rng) for _ in range(8)))
    print(f"char_lstm: loss {smoothed:.3f} nats/char after {args.steps} steps (uniform {math.log(VOCAB):.3f})")
    return 0 if smoothed < 2.5 else 1


if __name__ == "__main__":
    raise SystemExit(main())

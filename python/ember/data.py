"""ember.data: Dataset, TensorDataset and DataLoader shaped as PyTorch's, and the bundled data sets.

    loader = ember.data.DataLoader(ember.data.TensorDataset(x, y), batch_size=64, shuffle=True, seed=0)
    for xb, yb in loader: ...

A Dataset is anything with __len__ and __getitem__ (an index -> a tensor or
a tuple of tensors); batches stack the examples. With shuffle, epoch e's
order is a permutation drawn from (seed, e), so runs repeat exactly.
"""

import random

from . import _ember


class Dataset:
    def __len__(self):
        raise NotImplementedError

    def __getitem__(self, index):
        raise NotImplementedError


class TensorDataset(Dataset):
    """Rows of tensors with the same first dim."""

    def __init__(self, *tensors):
        if not tensors or any(len(t) != len(tensors[0]) for t in tensors):
            raise _ember.Error("TensorDataset: the tensors must have the same first dim")
        self.tensors = tensors

    def __len__(self):
        return len(self.tensors[0])

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)


def _collate(examples):
    first = examples[0]
    if isinstance(first, _ember.Tensor):
        return _ember.stack(list(examples))
    if isinstance(first, (tuple, list)):
        return tuple(_collate([e[i] for e in examples]) for i in range(len(first)))
    if isinstance(first, (int, float, bool)):
        return _ember.tensor(list(examples))
    raise TypeError(f"DataLoader: cannot batch examples of type {type(first).__name__}")


class DataLoader:
    def __init__(self, dataset, batch_size=1, shuffle=False, seed=0, drop_last=False, collate_fn=None):
        if batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be positive, not {batch_size}")
        self.dataset, self.batch_size, self.shuffle = dataset, batch_size, shuffle
        self.seed, self.drop_last, self.epoch = seed, drop_last, 0
        self.collate_fn = collate_fn or _collate

    def __len__(self):
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self):
        order = list(range(len(self.dataset)))
        if self.shuffle:
            random.Random(self.seed * 1000003 + self.epoch).shuffle(order)
        self.epoch += 1
        for start in range(0, len(order), self.batch_size):
            indices = order[start:start + self.batch_size]
            if self.drop_last and len(indices) < self.batch_size:
                break
            yield self.collate_fn([self.dataset[i] for i in indices])


def load_digits():
    """The UCI 8x8 digits (from Debian's python3-sklearn): images [1797, 64] in [0, 1], labels [1797]."""
    return _ember._load_digits()


def load_words(min_len=2, max_len=12):
    """Lower-case words from /usr/share/dict/words (Debian's wamerican)."""
    return _ember._load_words(min_len, max_len)

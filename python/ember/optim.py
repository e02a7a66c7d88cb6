"""ember.optim: the C++ optimizers over parameters of Python modules."""

from ._ember import _optim

Optimizer = _optim.Optimizer
SGD = _optim.SGD
Adam = _optim.Adam
AdamW = _optim.AdamW

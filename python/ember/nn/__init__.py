"""ember.nn: Module, Parameter and layers, shaped as PyTorch's.

    class Net(ember.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = ember.nn.Linear(784, 128)     # sub-modules register themselves
            self.scale = ember.nn.Parameter(ember.ones(1))
        def forward(self, x):
            return self.fc1(x).relu() * self.scale

The layers compute with ember's C++ ops (ember.nn.functional), so a model
written here runs the same kernels, autograd and compiler as a C++ one.
"""

from . import functional  # noqa: F401  (ember.nn.functional)
from .layers import *  # noqa: F401,F403
from .module import Module, Parameter, watch_layers  # noqa: F401

"""The layers of ember.nn: Python modules computing with ember's C++ ops (ember.nn.functional), and
C++ layers whose forward is more than one op (LSTM, GRUCell, ...) wrapped as modules."""

import math

from .. import _ember
from . import functional
from .module import Module, Parameter, _shared_parameter

__all__ = ["Linear", "LayerNorm", "Conv2d", "MaxPool2d", "AvgPool2d", "Embedding", "Flatten", "LSTM", "LSTMCell", "GRU",
           "GRUCell", "MultiheadAttention", "BatchNorm1d", "BatchNorm2d", "ReLU", "Tanh", "Sigmoid", "GELU",
           "Dropout", "Sequential", "ModuleList", "CrossEntropyLoss", "MSELoss"]


class Linear(Module):
    """y = x W^T + b, initialized as PyTorch's (uniform in +-1/sqrt(in_features))."""

    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        bound = 1.0 / math.sqrt(in_features)
        self.weight = Parameter(_ember.rand(out_features, in_features) * (2 * bound) - bound)
        self.bias = Parameter(_ember.rand(out_features) * (2 * bound) - bound) if bias else None

    def forward(self, x):
        return functional.linear(x, self.weight, self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class LayerNorm(Module):
    def __init__(self, normalized_shape, eps=1e-5):
        super().__init__()
        shape = [normalized_shape] if isinstance(normalized_shape, int) else list(normalized_shape)
        self.normalized_shape, self.eps = shape, eps
        self.weight = Parameter(_ember.ones(shape))
        self.bias = Parameter(_ember.zeros(shape))

    def forward(self, x):
        return functional.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return f"{self.normalized_shape}, eps={self.eps}"


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


class Conv2d(Module):
    """2-D convolution over [N, C, H, W], initialized as PyTorch's."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, bias=True):
        super().__init__()
        kh, kw = _pair(kernel_size)
        self.stride, self.padding, self.dilation = _pair(stride), _pair(padding), _pair(dilation)
        self.in_channels, self.out_channels, self.kernel_size = in_channels, out_channels, (kh, kw)
        bound = 1.0 / math.sqrt(in_channels * kh * kw)
        self.weight = Parameter(_ember.rand(out_channels, in_channels, kh, kw) * (2 * bound) - bound)
        self.bias = Parameter(_ember.rand(out_channels) * (2 * bound) - bound) if bias else None

    def forward(self, x):
        return functional.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation)

    def extra_repr(self):
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding}")


class MaxPool2d(Module):
    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size, self.stride, self.padding = _pair(kernel_size), stride, _pair(padding)

    def forward(self, x):
        stride = None if self.stride is None else _pair(self.stride)
        return functional.max_pool2d(x, self.kernel_size, stride, self.padding)


class AvgPool2d(MaxPool2d):
    def forward(self, x):
        stride = None if self.stride is None else _pair(self.stride)
        return functional.avg_pool2d(x, self.kernel_size, stride, self.padding)


class Embedding(Module):
    """Rows of a [num_embeddings, embedding_dim] table, N(0, 1) at first as PyTorch's."""

    def __init__(self, num_embeddings, embedding_dim):
        super().__init__()
        self.weight = Parameter(_ember.randn(num_embeddings, embedding_dim))

    def forward(self, indices):
        return functional.embedding(indices, self.weight)


class Flatten(Module):
    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        return x.flatten(self.start_dim, self.end_dim)


class _CppLayer(Module):
    """A C++ layer inside a Python model: its parameters and buffers (the tensors its forward uses and
    updates) register under the C++ names, e.g. layer0.weight_ih; train()/eval() reach it."""

    def __init__(self, cpp):
        super().__init__()
        object.__setattr__(self, "_cpp", cpp)
        for name, t in cpp.named_parameters():
            self._parameters[name] = _shared_parameter(t)
        for name, t in cpp.named_buffers():
            self._buffers[name] = t

    def train(self, mode=True):
        self._cpp.train(mode)
        return super().train(mode)

    def extra_repr(self):
        text = repr(self._cpp)
        return text[text.find("(") + 1:text.rfind(")")] if "(" in text else ""


class LSTM(_CppLayer):
    """LSTM over x [T, B, input_size] (PyTorch's layout and gates); returns out, (h, c)."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True):
        super().__init__(_ember._layers.LSTM(input_size, hidden_size, num_layers, bias))

    def forward(self, x, hx=None):
        h, c = hx if hx is not None else (None, None)
        return self._cpp.forward(x, h, c)


class LSTMCell(_CppLayer):
    """One LSTM step: x [B, input_size] and (h, c) (zeros when None) -> the next (h, c)."""

    def __init__(self, input_size, hidden_size, bias=True):
        super().__init__(_ember._layers.LSTMCell(input_size, hidden_size, bias))

    def forward(self, x, hx=None):
        h, c = hx if hx is not None else (None, None)
        return self._cpp.forward(x, h, c)


class GRU(_CppLayer):
    """GRU over x [T, B, input_size] (PyTorch's layout and gates); returns out and h [num_layers, B, hidden]."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True):
        super().__init__(_ember._layers.GRU(input_size, hidden_size, num_layers, bias))

    def forward(self, x, hx=None):
        return self._cpp.forward(x, hx)


class GRUCell(_CppLayer):
    def __init__(self, input_size, hidden_size, bias=True):
        super().__init__(_ember._layers.GRUCell(input_size, hidden_size, bias))

    def forward(self, x, h=None):
        return self._cpp.forward(x, h)


class MultiheadAttention(_CppLayer):
    """Attention over [B, T, C] (batch first), through ember's tiled attention kernel; returns the output."""

    def __init__(self, embed_dim, num_heads, bias=True, causal=False):
        super().__init__(_ember._layers.MultiheadAttention(embed_dim, num_heads, bias, causal))

    def forward(self, query, key=None, value=None, attn_mask=None):
        key = query if key is None else key
        value = key if value is None else value
        return self._cpp.forward(query, key, value, attn_mask)


class _BatchNorm(_CppLayer):
    def __init__(self, num_features, eps=1e-5, momentum=0.1):
        super().__init__(getattr(_ember._layers, type(self).__name__)(num_features, eps, momentum))

    def forward(self, x):
        return self._cpp.forward(x)


class BatchNorm1d(_BatchNorm):
    """Batch normalization over dim 1 of [N, C] or [N, C, L]: batch statistics while training (running
    statistics updated with momentum), the running statistics in eval()."""


class BatchNorm2d(_BatchNorm):
    """BatchNorm1d's normalization over the channels of [N, C, H, W]."""


class ReLU(Module):
    def forward(self, x):
        return x.relu()


class Tanh(Module):
    def forward(self, x):
        return x.tanh()


class Sigmoid(Module):
    def forward(self, x):
        return functional.sigmoid(x)


class GELU(Module):
    def forward(self, x):
        return functional.gelu(x)


class Dropout(Module):
    def __init__(self, p=0.5):
        super().__init__()
        self.p = p

    def forward(self, x):
        return functional.dropout(x, self.p, self.training)


class Sequential(Module):
    def __init__(self, *layers):
        super().__init__()
        for i, layer in enumerate(layers):
            setattr(self, str(i), layer)

    def forward(self, x):
        for m in self._modules.values():
            x = m(x)
        return x

    def __getitem__(self, i):
        return list(self._modules.values())[i]

    def __len__(self):
        return len(self._modules)


class ModuleList(Module):
    """Modules held in a list, registered as 0, 1, ... (their parameters are the list's)."""

    def __init__(self, modules=()):
        super().__init__()
        for m in modules:
            self.append(m)

    def append(self, module):
        setattr(self, str(len(self._modules)), module)
        return self

    def __getitem__(self, i):
        return list(self._modules.values())[i]

    def __iter__(self):
        return iter(self._modules.values())

    def __len__(self):
        return len(self._modules)


class CrossEntropyLoss(Module):
    def __init__(self, reduction="mean", ignore_index=-100, label_smoothing=0.0):
        super().__init__()
        self.reduction, self.ignore_index, self.label_smoothing = reduction, ignore_index, label_smoothing

    def forward(self, input, target):
        return functional.cross_entropy(input, target, self.reduction, self.ignore_index, self.label_smoothing)


class MSELoss(Module):
    def __init__(self, reduction="mean"):
        super().__init__()
        self.reduction = reduction

    def forward(self, input, target):
        return functional.mse_loss(input, target, self.reduction)

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

import collections
import math

from .. import _ember
from . import functional  # noqa: F401  (ember.nn.functional)


class Parameter(_ember.Tensor):
    """A tensor a Module registers as a parameter: a leaf that requires grad, with its own memory."""

    def __init__(self, data, requires_grad=True):
        super().__init__(data.detach().clone())
        self.requires_grad_(requires_grad)


def _shared_parameter(tensor):
    """A Parameter that is `tensor` itself (a C++ layer's weight), not a copy."""
    p = Parameter.__new__(Parameter)
    _ember.Tensor.__init__(p, tensor)
    return p


class Module:
    """Base class of models: parameters and sub-modules assigned in __init__ register themselves."""

    def __init__(self):
        object.__setattr__(self, "_parameters", collections.OrderedDict())
        object.__setattr__(self, "_modules", collections.OrderedDict())
        object.__setattr__(self, "_forward_hooks", [])
        object.__setattr__(self, "training", True)

    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise AttributeError("call super().__init__() before assigning attributes of a Module")
        if isinstance(value, Parameter):
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._modules[name] = value
        object.__setattr__(self, name, value)

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} has no forward()")

    def __call__(self, *args, **kwargs):
        out = self.forward(*args, **kwargs)
        for hook in self._forward_hooks:
            result = hook(self, args, out)
            if result is not None:
                out = result
        return out

    def register_forward_hook(self, hook):
        """hook(module, inputs, output) after each forward; returns a handle whose remove() detaches it."""
        self._forward_hooks.append(hook)
        return _HookHandle(self._forward_hooks, hook)

    def named_parameters(self, prefix=""):
        for name, p in self._parameters.items():
            yield prefix + name, p
        for name, m in self._modules.items():
            yield from m.named_parameters(prefix + name + ".")

    def parameters(self):
        return [p for _, p in self.named_parameters()]

    def named_modules(self, prefix=""):
        yield prefix, self
        for name, m in self._modules.items():
            yield from m.named_modules(prefix + ("." if prefix else "") + name)

    def children(self):
        return list(self._modules.values())

    def state_dict(self):
        return collections.OrderedDict((n, p.detach()) for n, p in self.named_parameters())

    def load_state_dict(self, state):
        mine = dict(self.named_parameters())
        missing = sorted(set(mine) - set(state))
        unexpected = sorted(set(state) - set(mine))
        if missing or unexpected:
            raise _ember.Error(f"load_state_dict: missing {missing}, unexpected {unexpected}")
        for name, value in state.items():
            if tuple(value.shape) != tuple(mine[name].shape):
                raise _ember.Error(f"load_state_dict: {name} is {tuple(mine[name].shape)}, the state has "
                                   f"{tuple(value.shape)}")
        with _no_grad():
            for name, value in state.items():
                mine[name].zero_()
                mine[name] += value

    def train(self, mode=True):
        for _, m in self.named_modules():
            object.__setattr__(m, "training", mode)
        return self

    def eval(self):
        return self.train(False)

    def zero_grad(self):
        for p in self.parameters():
            p.grad = None

    def num_parameters(self):
        return sum(p.numel() for p in self.parameters())

    def extra_repr(self):
        return ""

    def __repr__(self):
        lines = [f"{type(self).__name__}({self.extra_repr()}" + (")" if not self._modules else "")]
        for name, m in self._modules.items():
            child = repr(m).replace("\n", "\n  ")
            lines.append(f"  ({name}): {child}")
        if self._modules:
            lines.append(f")  # {self.num_parameters():,} parameters")
        return "\n".join(lines)


class _HookHandle:
    def __init__(self, hooks, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self):
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


class watch_layers:
    """Prints every layer's output shape and statistics during forward passes, one line per layer (the
    C++ nn::watch_layers' format), while in a `with` block or until remove(); rows are kept in .rows."""

    def __init__(self, model, file=None):
        import sys

        self.file = sys.stdout if file is None else file
        self.rows = []
        self._handles = [m.register_forward_hook(self._hook(name or "(model)"))
                         for name, m in model.named_modules()]
        print(functional._f._stats_header(), file=self.file)

    def _hook(self, name):
        def hook(module, inputs, output):
            if isinstance(output, _ember.Tensor) and output.dtype in (_ember.dtype.float32, _ember.dtype.float64):
                line = functional._f._stats_line(name, type(module).__name__, output)
                self.rows.append(line)
                print(line, file=self.file)

        return hook

    def remove(self):
        for h in self._handles:
            h.remove()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()
        return False


class _no_grad:
    def __enter__(self):
        self.previous = _ember.is_grad_enabled()
        _ember._set_grad_enabled(False)

    def __exit__(self, *exc):
        _ember._set_grad_enabled(self.previous)


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
    """A C++ layer inside a Python model: its parameters (the tensors its forward uses) register under
    the C++ names, e.g. layer0.weight_ih."""

    def __init__(self, cpp):
        super().__init__()
        object.__setattr__(self, "_cpp", cpp)
        for name, t in cpp.named_parameters():
            self._parameters[name] = _shared_parameter(t)

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


class ReLU(Module):
    def forward(self, x):
        return x.relu()


class Tanh(Module):
    def forward(self, x):
        return x.tanh()


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

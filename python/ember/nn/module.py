"""Module and Parameter, shaped as PyTorch's: what every model in ember.nn is built from."""

import collections

from .. import _ember
from .._scopes import no_grad
from . import functional


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
    """Base class of models: parameters and sub-modules assigned in __init__ register themselves;
    register_buffer adds state that is saved but not trained (running statistics)."""

    def __init__(self):
        object.__setattr__(self, "_parameters", collections.OrderedDict())
        object.__setattr__(self, "_buffers", collections.OrderedDict())
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

    def register_buffer(self, name, tensor):
        """A tensor of the module's state that is not a parameter: in state_dict, not in parameters()."""
        self._buffers[name] = tensor
        object.__setattr__(self, name, tensor)

    def _named(self, table, prefix):
        """The tensors of `table` (_parameters or _buffers) here and in every sub-module, by dotted name."""
        for name, t in getattr(self, table).items():
            yield prefix + name, t
        for name, m in self._modules.items():
            yield from m._named(table, prefix + name + ".")

    def named_buffers(self, prefix=""):
        return self._named("_buffers", prefix)

    def buffers(self):
        return [b for _, b in self.named_buffers()]

    def named_parameters(self, prefix=""):
        return self._named("_parameters", prefix)

    def parameters(self):
        return [p for _, p in self.named_parameters()]

    def named_modules(self, prefix=""):
        yield prefix, self
        for name, m in self._modules.items():
            yield from m.named_modules(prefix + ("." if prefix else "") + name)

    def children(self):
        return list(self._modules.values())

    def state_dict(self):
        """Parameters, then buffers, by dotted name (detached; the module's own memory)."""
        return collections.OrderedDict([(n, p.detach()) for n, p in self.named_parameters()] +
                                       [(n, b.detach()) for n, b in self.named_buffers()])

    def load_state_dict(self, state):
        mine = dict(self.named_parameters())
        mine.update(self.named_buffers())
        missing = sorted(set(mine) - set(state))
        unexpected = sorted(set(state) - set(mine))
        if missing or unexpected:
            raise _ember.Error(f"load_state_dict: missing {missing}, unexpected {unexpected}")
        for name, value in state.items():
            if tuple(value.shape) != tuple(mine[name].shape):
                raise _ember.Error(f"load_state_dict: {name} is {tuple(mine[name].shape)}, the state has "
                                   f"{tuple(value.shape)}")
        with no_grad():
            for name, value in state.items():
                mine[name].zero_()
                mine[name] += value

    def train(self, mode=True):
        object.__setattr__(self, "training", mode)
        for m in self._modules.values():
            m.train(mode)
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

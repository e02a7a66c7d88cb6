"""ember.autograd: gradients returned instead of accumulated, and custom Functions.

    class Square(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 2 * x

    y = Square.apply(x)
"""

from . import _ember


def grad(outputs, inputs, grad_outputs=None):
    """The gradients of `outputs` with respect to the leaves `inputs`, as a tuple (None where none flows)."""
    single = lambda v: [v] if isinstance(v, _ember.Tensor) else list(v)  # noqa: E731
    seeds = None if grad_outputs is None else single(grad_outputs)
    return _ember._grad(single(outputs), single(inputs), seeds)


class FunctionCtx:
    """What forward leaves for backward."""

    def __init__(self):
        self._saved, self._versions = (), ()
        self.needs_input_grad = ()

    def save_for_backward(self, *tensors):
        self._saved = tensors
        self._versions = tuple(_ember._version(t) for t in tensors)

    @property
    def saved_tensors(self):
        for i, (t, v) in enumerate(zip(self._saved, self._versions)):
            if _ember._version(t) != v:
                raise _ember.Error(f"saved tensor {i} was modified in place after save_for_backward "
                                   f"(version {v} -> {_ember._version(t)}); its gradient would be wrong")
        return self._saved


class Function:
    """Subclass with static forward(ctx, *args) and backward(ctx, grad); call as Cls.apply(*args).

    backward returns one gradient per tensor argument of forward (None where there is none)."""

    @classmethod
    def apply(cls, *args):
        ctx = FunctionCtx()
        tensors = [a for a in args if isinstance(a, _ember.Tensor)]
        ctx.needs_input_grad = tuple(isinstance(a, _ember.Tensor) and a.requires_grad for a in args)
        previous = _ember.is_grad_enabled()
        _ember._set_grad_enabled(False)
        try:
            out = cls.forward(ctx, *args)
        finally:
            _ember._set_grad_enabled(previous)
        if not isinstance(out, _ember.Tensor):
            raise TypeError(f"{cls.__name__}.forward must return one tensor")
        if previous and any(t.requires_grad for t in tensors):
            out = _ember._connect(cls.__name__, cls.backward, ctx, tensors, out)
        return out

"""ember.autograd: gradients returned instead of accumulated."""

from . import _ember


def grad(outputs, inputs, grad_outputs=None):
    """The gradients of `outputs` with respect to the leaves `inputs`, as a tuple (None where none flows)."""
    single = lambda v: [v] if isinstance(v, _ember.Tensor) else list(v)  # noqa: E731
    seeds = None if grad_outputs is None else single(grad_outputs)
    return _ember._grad(single(outputs), single(inputs), seeds)

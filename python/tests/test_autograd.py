"""Autograd from Python: backward, .grad, detach, no_grad, hooks, autograd.grad."""

import numpy as np
import pytest

import ember


def test_backward_fills_grad_of_leaves():
    x = ember.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = (x * x).sum()
    assert y.grad_fn is not None and x.is_leaf and x.grad is None
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0, 6.0])
    x.grad = None
    assert x.grad is None
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0, 3.0])


def test_gradients_match_finite_differences():
    ember.manual_seed(0)
    w = ember.randn(3, 2, dtype=ember.float64, requires_grad=True)
    x = ember.randn(4, 3, dtype=ember.float64)

    def loss_of(wv):
        return float(np.tanh(x.numpy() @ wv).sum())

    (x @ w).tanh().sum().backward()
    base, eps = w.detach().numpy().copy(), 1e-6
    for i in range(3):
        for j in range(2):
            plus, minus = base.copy(), base.copy()
            plus[i, j] += eps
            minus[i, j] -= eps
            numeric = (loss_of(plus) - loss_of(minus)) / (2 * eps)
            assert abs(w.grad.numpy()[i, j] - numeric) < 1e-6


def test_no_grad_as_context_and_decorator():
    x = ember.ones(2, requires_grad=True)
    with ember.no_grad():
        assert not ember.is_grad_enabled()
        assert not (x * 2).requires_grad
    assert ember.is_grad_enabled()

    @ember.no_grad()
    def double(t):
        return t * 2

    assert not double(x).requires_grad
    assert (x * 2).requires_grad


def test_hooks_and_autograd_grad():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    y = x * 3
    y.register_hook(lambda g: seen.append(g.tolist()))
    (gx,) = ember.autograd.grad(y.sum(), x)
    np.testing.assert_allclose(gx.numpy(), [3.0, 3.0])
    assert seen == [[1.0, 1.0]]
    assert x.grad is None  # returned, not accumulated
    z = x * 1
    z.register_hook(lambda g: g * 10)  # a hook may replace the gradient
    z.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [10.0, 10.0])


def test_numpy_of_a_tensor_that_requires_grad_is_an_error():
    x = ember.ones(2, requires_grad=True)
    with pytest.raises(ember.Error, match="detach"):
        x.numpy()
    assert x.detach().numpy().tolist() == [1.0, 1.0]


class Cube(ember.autograd.Function):
    @staticmethod
    def forward(ctx, x, scale):
        ctx.save_for_backward(x)
        ctx.scale = scale
        return x * x * x * scale

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3 * x * x * ctx.scale


def test_autograd_function_subclasses_join_the_graph():
    x = ember.tensor([1.0, -2.0], requires_grad=True)
    y = Cube.apply(x, 2.0)
    assert y.grad_fn == "Cube"
    (y.sin()).sum().backward()  # the custom node inside a larger graph
    want = np.cos(2.0 * np.array([1.0, -8.0])) * 3 * np.array([1.0, 4.0]) * 2.0
    np.testing.assert_allclose(x.grad.numpy(), want, rtol=1e-5)
    with ember.no_grad():
        assert Cube.apply(x, 1.0).grad_fn is None


def test_autograd_function_errors_are_clear():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = Cube.apply(x, 1.0)
    x.detach().zero_()  # modifies what forward saved: the gradient would be wrong
    with pytest.raises(ember.Error, match="modified in place"):
        y.sum().backward()

    class TwoGrads(ember.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, grad):
            return grad, grad

    with pytest.raises(ember.Error, match="2 gradients for 1 tensor inputs"):
        TwoGrads.apply(ember.ones(2, requires_grad=True)).sum().backward()

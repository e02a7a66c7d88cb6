"""Python threads around ember's C++ work (Note [The GIL around C++ work]): backward, optimizer steps
and large matmuls run without the GIL and take it back for Python hooks; several threads at once give
each its own right answer (compiled calls from threads: test_jit.py)."""

import numpy as np

import ember
from conftest import run_in_threads


def test_threads_train_at_once():
    results = {}

    def worker(k):
        ember.manual_seed(k)
        w = ember.randn(64, 64, requires_grad=True)
        x = ember.randn(256, 64)
        seen = []
        w.register_hook(lambda g: seen.append(g.shape))  # runs inside backward, with the GIL taken back
        opt = ember.optim.SGD([w], lr=0.01)
        for _ in range(5):
            opt.zero_grad()
            (x @ w).tanh().sum().backward()
            opt.step()
        y = (x @ w.detach()).relu()
        results[k] = (x.numpy() @ w.detach().numpy(), y.numpy(), seen)

    run_in_threads(worker, 3)
    assert sorted(results) == [0, 1, 2]
    for xw, y, seen in results.values():
        np.testing.assert_allclose(y, np.maximum(xw, 0), rtol=1e-4, atol=1e-4)
        assert seen == [(64, 64)] * 5

"""help() on every public function and Tensor member shows what it does and an example."""

import inspect

import ember
import ember.jit
import ember.nn.functional as F


def public_callables():
    for owner, namespace in (("ember", ember), ("ember.nn.functional", F), ("ember.jit", ember.jit)):
        for name in dir(namespace):
            obj = getattr(namespace, name)
            if name.startswith("_") or inspect.ismodule(obj) or isinstance(obj, type) or not callable(obj):
                continue
            yield f"{owner}.{name}", obj
    for name in dir(ember.Tensor):
        if not name.startswith("_"):
            yield f"ember.Tensor.{name}", getattr(ember.Tensor, name)


def test_every_public_function_has_a_docstring_with_an_example():
    missing = [name for name, obj in public_callables() if ">>>" not in (obj.__doc__ or "")]
    assert not missing, f"no docstring with an example: {', '.join(missing)}"


def test_the_op_table_docstrings_state_shapes():
    assert "[..., n, k] @ [..., k, m]" in ember.Tensor.matmul.__doc__
    assert "broadcast" in ember.add.__doc__
    assert "input's shape" in ember.exp.__doc__

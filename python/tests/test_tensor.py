"""ember from Python: tensors, operators, indexing, numpy both ways, errors at the caller's line."""

import os

import numpy as np
import pytest

import ember


def test_creation_takes_sizes_as_pytorch_does():
    assert ember.zeros(2, 3).shape == (2, 3)
    assert ember.zeros((2, 3)).shape == (2, 3)
    assert ember.ones([4]).tolist() == [1.0, 1.0, 1.0, 1.0]
    assert ember.randn(2, 3, dtype=ember.float64).dtype == ember.float64
    assert ember.arange(5).tolist() == [0, 1, 2, 3, 4]
    assert ember.arange(1, 2, 0.25).tolist() == [1.0, 1.25, 1.5, 1.75]
    assert ember.full((2,), 7).tolist() == [7.0, 7.0]
    t = ember.tensor([[1.5, 2.0], [3.0, 4.0]])
    assert t.dtype == ember.float32 and t.shape == (2, 2) and len(t) == 2
    assert ember.tensor([1, 2]).dtype == ember.int64
    assert ember.tensor([1, 2], dtype=ember.float64).dtype == ember.float64
    assert ember.tensor(3.5).item() == 3.5
    assert repr(ember.tensor([1.0, 2.0])).startswith("tensor(")


def test_operators_with_tensors_and_numbers():
    a = ember.tensor([1.0, 2.0, 3.0])
    b = ember.tensor([4.0, 5.0, 6.0])
    assert (a + b).tolist() == [5.0, 7.0, 9.0]
    assert (2 * a - 1).tolist() == [1.0, 3.0, 5.0]
    assert (1 - a).tolist() == [0.0, -1.0, -2.0]
    assert (a / 2).tolist() == [0.5, 1.0, 1.5]
    assert (6 / a).tolist() == [6.0, 3.0, 2.0]
    assert (a**2).tolist() == [1.0, 4.0, 9.0]
    assert (-a).tolist() == [-1.0, -2.0, -3.0]
    assert (a < b).tolist() == [True, True, True]
    assert (a == 2).tolist() == [False, True, False]
    m = ember.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert (m @ m).tolist() == [[7.0, 10.0], [15.0, 22.0]]
    c = a.clone()
    c += 1
    assert c.tolist() == [2.0, 3.0, 4.0]


def test_methods_take_pytorchs_keywords():
    x = ember.arange(6, dtype=ember.float32).reshape(2, 3)
    assert x.sum(dim=1, keepdim=True).tolist() == [[3.0], [12.0]]
    assert x.sum().item() == 15.0
    assert x.mean(dim=0).tolist() == [1.5, 2.5, 3.5]
    assert x.transpose(0, 1).shape == (3, 2)
    assert x.permute(1, 0).shape == (3, 2)
    assert x.view((3, 2)).shape == (3, 2)
    assert x.unsqueeze(0).shape == (1, 2, 3)
    s = x.softmax(dim=-1)
    np.testing.assert_allclose(s.sum(dim=-1).numpy(), [1.0, 1.0], rtol=1e-6)


def test_indexing_and_slicing():
    x = ember.arange(24).reshape(2, 3, 4)
    ref = np.arange(24).reshape(2, 3, 4)
    for key in [0, -1, (1, 2), (slice(None), slice(1, 3)), (Ellipsis, -1), (None,), (0, slice(0, 4, 2)),
                (slice(None), None, 1)]:
        np.testing.assert_array_equal(np.asarray(x[key]), ref[key], err_msg=str(key))
    rows = [r.tolist() for r in ember.tensor([[1, 2], [3, 4]])]
    assert rows == [[1, 2], [3, 4]]


def test_numpy_both_ways_without_copies():
    x = ember.zeros(3)
    view = x.numpy()
    view[1] = 5.0  # the same memory
    assert x.tolist() == [0.0, 5.0, 0.0]
    a = np.arange(6, dtype=np.float64).reshape(2, 3)
    t = ember.from_numpy(a)
    a[0, 0] = 42.0
    assert t.dtype == ember.float64 and t[0, 0].item() == 42.0
    del a  # the tensor keeps the array's memory alive
    assert t.sum().item() == 42.0 + 1 + 2 + 3 + 4 + 5
    np.testing.assert_array_equal(np.asarray(ember.tensor([[1, 2]])), [[1, 2]])  # buffer protocol
    with pytest.raises(ember.Error, match="not C-contiguous"):
        ember.from_numpy(np.arange(6.0).reshape(2, 3).T)
    with pytest.raises(ember.Error, match="no ember dtype"):
        ember.from_numpy(np.zeros(3, dtype=np.complex64))
    # ember.tensor copies, whatever the layout.
    assert ember.tensor(np.arange(6.0).reshape(2, 3).T).tolist() == [[0.0, 3.0], [1.0, 4.0], [2.0, 5.0]]


def test_errors_name_the_callers_python_line():
    a, b = ember.ones(64, 10), ember.ones(5, 1)
    line = test_errors_name_the_callers_python_line.__code__.co_firstlineno + 4
    with pytest.raises(ember.Error) as info:
        a @ b
    message = str(info.value)
    assert "matmul" in message and "[64, 10]" in message and "[5, 1]" in message
    assert message.endswith(f"({os.path.basename(__file__)}:{line})"), message
    assert isinstance(info.value, RuntimeError)


def test_dlpack_both_ways_without_copies():
    x = ember.arange(6, dtype=ember.float32).reshape(2, 3)
    a = np.from_dlpack(x)  # numpy 1.24 through __dlpack__ / __dlpack_device__ (numpy makes it read-only)
    x += 1  # the same memory: numpy sees ember's write
    assert a.tolist() == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]] and a.dtype == np.float32
    b = np.arange(4, dtype=np.int64)
    t = ember.from_dlpack(b)
    b[3] = 30
    assert t.tolist() == [0, 1, 2, 30] and t.dtype == ember.int64
    del b
    assert t.sum().item() == 33
    with pytest.raises(ember.Error, match="not contiguous"):
        ember.from_dlpack(np.arange(6.0).reshape(2, 3).T)
    with pytest.raises(ember.Error, match="no bool"):
        np.from_dlpack(ember.tensor([True]))
    with pytest.raises(ember.Error, match="detach"):
        np.from_dlpack(ember.ones(2, requires_grad=True))


def test_tril_and_triu_follow_numpy():
    x = ember.randn(2, 4, 5)
    for diagonal in (-1, 0, 2):
        np.testing.assert_array_equal(ember.tril(x, diagonal).numpy(), np.tril(x.numpy(), diagonal))
        np.testing.assert_array_equal(x.triu(diagonal=diagonal).numpy(), np.triu(x.numpy(), diagonal))
    assert "lower triangle" in ember.tril.__doc__

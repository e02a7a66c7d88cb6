"""Every op of the table from Python, driven by the op schema.

For each row of runtime/ember/ops.yaml: the sample call the C++ sweeps use,
through every Python spelling of the op (`python: calls` / `also`, or the
ember.name / Tensor.name pair of a generated API), against the row's float64
numpy reference (`python: numpy`), and, for differentiable rows, gradients
against central finite differences in float64. A new row gets these tests
from its schema entry alone; a row Python cannot reach must say why
(`unbound`) or name the op whose gradient reaches it (`gradient_of`).
"""

import pathlib
import re

import numpy as np
import pytest
import yaml

import ember
import numpy_reference as ref

SCHEMA = pathlib.Path(__file__).resolve().parents[2] / "runtime" / "ember" / "ops.yaml"
ROWS = {row["name"]: row for row in yaml.safe_load(SCHEMA.read_text())["ops"]}
INPUT = re.compile(r"^(\w+)\[([^\]]*)\]$")
DEFAULT_TOL = (1e-7, 3e-7)  # float32 results against float64, as the C++ sweep's elementwise ops
ATTR_DEFAULTS = {"int": 0, "int[]": [], "float": 0.0, "float?": None, "bool": False}


def sample_arrays(row, rng):
    """The row's sample inputs as numpy arrays (x: uniform in [-1, 1), pos: in [0.5, 2), cond: x > 0, int)."""
    arrays = []
    for text in row.get("sample", {}).get("inputs", []):
        kind, body = INPUT.match(text).groups()
        values = [int(v) for v in body.split(",") if v.strip()]
        if kind == "int":
            arrays.append(np.array(values, dtype=np.int64))
        elif kind == "cond":
            arrays.append(rng.uniform(-1, 1, values) > 0)
        else:
            lo, hi = (0.5, 2.0) if kind == "pos" else (-1.0, 1.0)
            arrays.append(rng.uniform(lo, hi, values).astype(np.float32))
    return arrays


def attr_values(row):
    """Every attribute of the row: the sample's value, else the row's default, else the type's."""
    given = row.get("sample", {}).get("attrs") or {}
    values = {}
    for name, spec in (row.get("attrs") or {}).items():
        value = given.get(name, spec.get("default", ATTR_DEFAULTS.get(spec["type"])))
        if spec["type"] == "dtype":
            value = getattr(ember, value.lower())
        elif spec["type"] == "Reduction":
            value = value.lower()
        values[name] = value
    return values


def bind(row, tensors):
    """Names for an expression: the inputs by their schema names (a variadic list as `inputs`)."""
    if any(name.endswith("*") for name in row["inputs"]):
        return {"inputs": list(tensors)}
    return dict(zip(row["inputs"], tensors))


def calls_of(row):
    """The row's Python spellings: its own, or ember.name(...) and first.name(...) of a generated API."""
    python, api = row["python"], row.get("api") or {}
    calls = list(python.get("calls", []))
    if not calls and (api.get("function") or api.get("method")):
        name = api.get("function") or api.get("method")
        inputs = row["inputs"]
        attrs = [f"{a}={a}" for a in (row.get("attrs") or {})]
        calls.append(f"ember.{name}({', '.join(inputs + attrs)})")
        if row["family"] != "Ternary" and inputs[0] != "weight":
            calls.append(f"{inputs[0]}.{name}({', '.join(inputs[1:] + attrs)})")
    return calls + list(python.get("also", []))


def to_numpy(out):
    if isinstance(out, (tuple, list)):
        return tuple(to_numpy(o) for o in out)
    assert isinstance(out, ember.Tensor), f"expected a tensor, got {type(out)}"
    return np.array(out.detach().numpy(), copy=True)


def reachable(name):
    python = ROWS[name]["python"]
    return "unbound" not in python and "gradient_of" not in python


def evaluate(expression, row, tensors):
    return eval(expression, {"ember": ember, "np": np, "ref": ref, **attr_values(row), **bind(row, tensors)})


def expect_close(got, want, tol, what):
    if isinstance(want, tuple):
        assert isinstance(got, tuple) and len(got) == len(want), f"{what}: {len(want)} outputs expected"
        for g, w in zip(got, want):
            expect_close(g, w, tol, what)
        return
    want = np.asarray(want)
    assert got.shape == want.shape, f"{what}: shape {got.shape}, numpy's {want.shape}"
    if want.dtype.kind in "biu":
        np.testing.assert_array_equal(got, want, err_msg=what)
    else:
        np.testing.assert_allclose(got.astype(np.float64), want, atol=tol[0], rtol=tol[1], err_msg=what)


@pytest.mark.parametrize("name", [n for n in ROWS if reachable(n)])
def test_forward_against_numpy(name):
    row = ROWS[name]
    calls = calls_of(row)
    assert calls, f"{name}: no Python spelling"
    arrays = sample_arrays(row, np.random.default_rng(7))
    tensors = [ember.tensor(a) for a in arrays]
    float64 = [a.astype(np.float64) if a.dtype == np.float32 else a for a in arrays]
    python = row["python"]
    tol = tuple(python.get("tol", DEFAULT_TOL))
    for call in calls:
        out = to_numpy(evaluate(call, row, tensors))
        if "check" in python:
            assert eval(python["check"], {"np": np, "out": out, **attr_values(row)}), f"{name}: {call} -> {out}"
        else:
            want = eval(python["numpy"], {"np": np, "ref": ref, **attr_values(row), **bind(row, float64)})
            expect_close(out, want, tol, f"{name}: {call}")


def numeric_gradient(f, inputs, index, eps=1e-6):
    x = inputs[index].numpy()
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        saved = x[i]
        x[i] = saved + eps
        up = f()
        x[i] = saved - eps
        down = f()
        x[i] = saved
        grad[i] = (up - down) / (2 * eps)
    return grad


@pytest.mark.parametrize("name", [n for n in ROWS if reachable(n) and ROWS[n]["grad"] == "Diff"])
def test_gradient_against_finite_differences(name):
    row = ROWS[name]
    arrays = sample_arrays(row, np.random.default_rng(11))
    tensors = [ember.tensor(a.astype(np.float64) if a.dtype == np.float32 else a) for a in arrays]
    differentiable = [i for i, a in enumerate(arrays) if a.dtype == np.float32]
    call = calls_of(row)[0]

    def first_output():
        out = evaluate(call, row, tensors)
        return out[0] if isinstance(out, tuple) else out

    weights = ember.tensor(np.random.default_rng(3).uniform(-1, 1, to_numpy(first_output()).shape))

    def loss():
        with ember.no_grad():
            return float((first_output() * weights).sum())

    for i in differentiable:
        tensors[i].requires_grad_()
    (first_output() * weights).sum().backward()
    for i in differentiable:
        got = tensors[i].grad
        assert got is not None, f"{name}: no gradient reached input {i}"
        for t in tensors:
            t.requires_grad_(False)
        want = numeric_gradient(loss, tensors, i)
        np.testing.assert_allclose(got.numpy(), want, atol=1e-6, rtol=1e-5, err_msg=f"{name}: input {i} of {call}")
        for j in differentiable:
            tensors[j].requires_grad_()


def test_every_row_is_reached_or_says_why():
    for name, row in ROWS.items():
        python = row["python"]
        if "gradient_of" in python:
            forward = ROWS[python["gradient_of"]]
            assert forward["grad"] == "Diff" and reachable(forward["name"]), (
                f"{name}: reached through {forward['name']}'s gradient, which Python does not check")
        elif "unbound" in python:
            assert len(python["unbound"]) > 20, f"{name}: say why Python does not reach it"
        else:
            assert calls_of(row), f"{name}: no Python spelling"

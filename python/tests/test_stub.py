"""The typing stub (ember/_ember.pyi, written at build time) parses and names what the module has."""

import ast
import pathlib

import ember
import ember._ember


def stub():
    path = pathlib.Path(ember._ember.__file__).with_name("_ember.pyi")
    assert path.exists(), f"no typing stub beside {ember._ember.__file__}"
    assert path.with_name("py.typed").exists(), "no py.typed marker: editors would ignore the stub"
    return ast.parse(path.read_text())


def test_the_stub_names_every_tensor_member_and_function():
    tree = stub()
    functions = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    classes = {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}
    tensor_members = {n.name for n in classes["Tensor"].body if isinstance(n, ast.FunctionDef)}
    wanted_members = {m for m in dir(ember.Tensor) if not m.startswith("_")}
    assert not wanted_members - tensor_members, f"missing from Tensor's stub: {wanted_members - tensor_members}"
    wanted_functions = {n for n, v in vars(ember._ember).items()
                        if not n.startswith("_") and callable(v) and not isinstance(v, type)}
    assert not wanted_functions - functions, f"missing from the stub: {wanted_functions - functions}"


def test_stub_signatures_keep_argument_names_and_help():
    tree = stub()
    full = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "full")
    assert [a.arg for a in full.args.args] == ["size", "fill_value"]
    assert [a.arg for a in full.args.kwonlyargs] == ["dtype", "requires_grad"]
    assert ">>>" in ast.get_docstring(full)

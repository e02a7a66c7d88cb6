#!/usr/bin/python3
"""python_stub - writes ember/_ember.pyi, the typing stub editors read for the extension module.

    PYTHONPATH=build/python python_stub.py OUT.pyi

pybind11 puts each binding's signature on the first line of its docstring
(`full(size: List[int], fill_value: object, *, ...) -> ember._ember.Tensor`);
this reads them from the built module and writes them as stub definitions
with their docstrings, so that editors complete `ember.Tensor` methods and
ember's functions with argument names, types and help. A signature that does
not parse as Python (pybind11 writes some types as C++ would) falls back to
`(*args, **kwargs)`, so the stub always parses.
"""

import ast
import inspect
import pathlib
import re
import sys

import ember._ember as module

HEADER = '''"""Typing stub of ember's extension module (written by tools/python_stub.py at build time)."""

from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple, Union

import numpy
'''

DEFAULT = re.compile(r"=\s*(<[^>]*>|[^,\[\]()]+?)(?=\s*(,|\)$|\)\s*->))")


def clean(signature):
    """A pybind11 signature as Python stub syntax: ember's own names unqualified, defaults elided."""
    signature = signature.replace("ember._ember.", "").replace("ember._ember", "")
    signature = re.sub(r"numpy\.ndarray\[[^\]]*\]", "numpy.ndarray", signature)
    return DEFAULT.sub("= ...", signature)


def definition(name, obj, indent="", method=False):
    doc = (obj.__doc__ or "").strip("\n")
    lines = doc.splitlines()
    signature = lines[0] if lines and lines[0].startswith(name + "(") else ""
    body = "\n".join(l for l in lines[1:]).strip() if signature else doc
    text = None
    if signature:
        text = f"def {clean(signature)}: ..."
        try:
            ast.parse(text)
        except SyntaxError:
            text = None
    if text is None:
        text = f"def {name}({'self, ' if method else ''}*args: Any, **kwargs: Any) -> Any: ..."
    if body:
        quoted = body.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
        text = text[:-len(" ...")] + f'\n    """{quoted}\n    """'
    return "\n".join(indent + line if line else line for line in text.splitlines())


def stub_of_class(name, cls):
    if issubclass(cls, BaseException):
        return f"class {name}({cls.__base__.__name__}): ..."
    out = [f"class {name}:"]
    for member, value in sorted(vars(cls).items()):
        if member.startswith("__") and member not in ("__init__", "__getitem__", "__len__", "__iter__", "__array__") \
                and not (member.startswith("__") and member.endswith("__") and callable(value) and
                         member[2:-2] in OPERATORS):
            continue
        if isinstance(value, property):
            doc = (value.__doc__ or "").strip().replace('"""', "'''")
            out.append(f'    @property\n    def {member}(self) -> Any:\n        """{doc}\n        """')
        elif callable(value):
            out.append(definition(member, value, indent="    ", method=True))
        elif member.isidentifier() and not member.startswith("_"):
            out.append(f"    {member}: {name}")  # enum values
    return "\n".join(out if len(out) > 1 else out + ["    ..."])


OPERATORS = {"add", "radd", "sub", "rsub", "mul", "rmul", "truediv", "rtruediv", "pow", "rpow", "matmul", "neg",
             "abs", "eq", "ne", "lt", "le", "gt", "ge", "iadd", "isub", "imul", "itruediv", "bool", "float", "int"}


def main():
    parts = [HEADER]
    for name, value in sorted(vars(module).items()):
        if name.startswith("__"):
            continue
        if inspect.isclass(value):
            parts.append(stub_of_class(name, value))
        elif inspect.ismodule(value):
            continue
        elif callable(value):
            parts.append(definition(name, value))
    text = "\n\n".join(parts) + "\n"
    ast.parse(text)  # the stub must parse whatever the bindings say
    path = pathlib.Path(sys.argv[1])
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main()

"""ember.jit: compile a Python function of tensors to native code.

    @ember.jit.compile
    def step(x, labels):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), labels)
        loss.backward()
        opt.step()
        return loss

    step(x, labels)     # eager, then traced and compiled, then native

The function is called exactly like the original with tensor arguments and
returns what it returned (a tensor, or a tuple or list of tensors).
"""

import functools
import inspect


class CompiledFunction:
    def __init__(self, fn, automatic_dynamic=True, dynamic_dims=()):
        from . import _jit  # loads the compiler (libMLIR) on first use

        functools.update_wrapper(self, fn)
        self._fn = fn
        try:
            self._signature = inspect.signature(fn)
        except (TypeError, ValueError):  # a builtin: positional only
            self._signature = None
        self._kind = None  # what fn returned: "tensor", "tuple" or "list"

        def traced(*tensors):
            result = fn(*tensors)
            self._kind = "tuple" if isinstance(result, tuple) else "list" if isinstance(result, list) else "tensor"
            return result

        self._compiled = _jit.compile(traced, automatic_dynamic, list(dynamic_dims))

    def __call__(self, *args, **kwargs):
        if kwargs:  # keyword tensors go in the order of fn's parameters
            if self._signature is None:
                raise TypeError("ember.jit: this function takes its tensors positionally")
            bound = self._signature.bind(*args, **kwargs)
            bound.apply_defaults()
            args = tuple(bound.arguments.values())
        out = self._compiled(list(args))
        if self._kind == "tensor":
            return out[0]
        return tuple(out) if self._kind == "tuple" else list(out)

    def explain(self):
        return self._compiled.explain()

    def stage(self, name):
        return self._compiled.stage(name)

    def graph(self):
        """The traced graph, one op per line with the Python line that called it."""
        return self._compiled.graph()

    def stats(self):
        return self._compiled.stats()


def compile(fn=None, *, automatic_dynamic=True, dynamic_dims=()):  # noqa: A001  (as torch.compile)
    """Returns `fn` compiled: usable as a decorator (with or without arguments) or called on a function.

    A new batch size of a compiled signature compiles once with that dim dynamic, and later sizes run
    that code (automatic_dynamic); dynamic_dims=[(input, dim), ...] makes dims dynamic from the first
    compile on. Either way a new size is first checked by one eager trace, so an answer is never wrong.

    Example::

        >>> f = ember.jit.compile(lambda x: (x * 2).relu().sum())
        >>> f(ember.randn(8, 8)).shape
        ()
    """
    if fn is None:
        return lambda f: CompiledFunction(f, automatic_dynamic, dynamic_dims)
    return CompiledFunction(fn, automatic_dynamic, dynamic_dims)


def export(fn, inputs, directory, name="model", dynamic_dims=()):
    """Compiles `fn` for `inputs` and writes it as files that run without ember (model.o, model.h with a C
    entry point, model.mlir, model.json, model.safetensors); returns the paths written. dynamic_dims=[(0, 0)]
    makes input 0 dim 0 a size n the C entry takes first: int model_run(int64_t n, ...); a name as third item
    names the size, and dims of one name are one size: [(0, 0, "batch"), (0, 1, "length")] makes
    int model_run(int64_t batch, int64_t length, ...).

    Example::

        >>> ember.jit.export(lambda x: model(x), [ember.rand(1, 64)], "out/")
    """
    from . import _jit

    compiled = fn if isinstance(fn, CompiledFunction) else CompiledFunction(fn)
    return _jit.export_graph(compiled._compiled, list(inputs), str(directory), name, list(dynamic_dims))


class LoadedExport:
    """An export read back (every file checked) and compiled: call it with the tensors it was exported for."""

    def __init__(self, loaded):
        self._loaded = loaded

    def __call__(self, *inputs):
        out = self._loaded.run(list(inputs))
        return out[0] if len(out) == 1 else tuple(out)


def load_export(directory, name="model"):
    """An export read back into ember (every file checked, compiled again); call it like the function.

    Example::

        >>> classify = ember.jit.load_export("out/")
        >>> classify(ember.rand(1, 64)).shape
    """
    from . import _jit

    return LoadedExport(_jit.load_export(str(directory), name))

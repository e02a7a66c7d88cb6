"""ember: tensors, autograd and compiled code from Python, over ember's C++ core.

    import ember
    x = ember.randn(3, 4, requires_grad=True)
    (x * x).sum().backward()
    x.grad.numpy()            # a numpy view of the gradient, no copy

The C++ core (the op table, allocator, generator and thread pool) is the one
C++ programs use: the extension module links ember's shared libraries.
"""

# The functions of the op table and the creation functions: the extension's
# public names (ember.exp, ember.add, ember.zeros, ...).
from ._ember import *  # noqa: F401,F403
from ._ember import Error, Tensor, dtype  # noqa: F401  (named for readers and linters)
from . import _ember
from ._scopes import detect_anomaly, no_grad  # noqa: F401
from . import autograd  # noqa: F401
from . import data  # noqa: F401
from . import nn  # noqa: F401
from . import optim  # noqa: F401

bool = dtype.bool  # noqa: A001  (ember.bool, as torch.bool)
int32 = dtype.int32
int64 = dtype.int64
float32 = dtype.float32
float64 = dtype.float64
long = int64
float = float32  # noqa: A001
double = float64


def save(obj, path):
    """Writes a Module's state (parameters and buffers), or a dict of tensors, as safetensors (to a temporary, then renamed).

    Example::

        >>> ember.save({"w": ember.ones(2)}, "w.safetensors")
        >>> ember.load("w.safetensors")["w"].tolist()
        [1.0, 1.0]
    """
    items = obj.state_dict().items() if isinstance(obj, nn.Module) else obj.items()
    _ember._save_safetensors([(name, t.detach()) for name, t in items], str(path))


def load(path):
    """The tensors of a safetensors file, as a dict in the file's order (Module.load_state_dict takes it).

    Example::

        >>> model.load_state_dict(ember.load("model.safetensors"))
    """
    return dict(_ember._load_safetensors(str(path)))

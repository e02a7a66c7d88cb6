"""Scopes that switch one of the runtime's modes and put it back: no_grad and detect_anomaly."""

import functools

from . import _ember


class _ModeScope:
    """Sets a mode for the `with` block (or the decorated function) and restores what it was."""

    _get = _set = None  # the mode's getter and setter, set by each subclass
    _value = None  # what the mode is inside

    def __enter__(self):
        self._previous = type(self)._get()
        type(self)._set(self._value)
        return self

    def __exit__(self, *exc):
        type(self)._set(self._previous)
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with type(self)():
                return fn(*args, **kwargs)

        return wrapper


class no_grad(_ModeScope):
    """Gradients off inside: a context manager (`with ember.no_grad():`) and a decorator."""

    _get, _set, _value = staticmethod(_ember.is_grad_enabled), staticmethod(_ember._set_grad_enabled), False


class detect_anomaly(_ModeScope):
    """Anomaly mode inside: a NaN or inf in backward is an error naming the forward op and its line."""

    _get, _set, _value = staticmethod(_ember.is_anomaly_enabled), staticmethod(_ember._set_detect_anomaly), True

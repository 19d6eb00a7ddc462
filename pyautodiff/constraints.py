"""Weight constraints, as Keras 3 defines them: a constraint maps a weight to its projection (non-negative,
norm-bounded, ...). A layer's `kernel_constraint=` (and the like) puts it on the weight (`variable.constraint`);
optimizers apply it after each update, `variable.assign(variable.constraint(variable))`, as Keras 3 does."""

import math

from . import ops
from .losses import snake_case
from .tensor import Tensor

EPSILON = 1e-7  # keras.config.epsilon(), which Keras' norm constraints add to the norms they divide by


def _number(where: str, what: str, value, low: float | None = None) -> float:
    if isinstance(value, (bool, str)) or not isinstance(value, (int, float)) or not math.isfinite(value) or \
            (low is not None and value < low):
        raise ValueError(f"{where}: {what} must be a finite number" + ("" if low is None else f" >= {low}") +
                         f", got {value!r}")
    return value


def _axis(where: str, axis):
    """An int, or a list/tuple of ints (Keras' Conv2D kernels take [0, 1, 2]); kept as given for get_config."""
    items = axis if isinstance(axis, (list, tuple)) else (axis,)
    if not items or any(isinstance(a, bool) or not isinstance(a, int) for a in items):
        raise ValueError(f"{where}: axis must be an int or a list of ints, got {axis!r}")
    return list(axis) if isinstance(axis, (list, tuple)) else axis


class Constraint:
    """The base, which leaves weights as they are: subclass it with __call__(w) -> the projected w (and
    get_config for saving)."""

    def __call__(self, w: Tensor) -> Tensor:
        return w

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)


def _norms(w: Tensor, axis) -> Tensor:
    """sqrt(sum(w**2)) along axis, kept as size-1 axes so that it broadcasts against w."""
    return ops.sqrt(ops.reduce_sum(ops.square(w), tuple(axis) if isinstance(axis, list) else axis, keepdims=True))


def _rescale(w: Tensor, norms: Tensor, desired: Tensor) -> Tensor:
    """w * desired / (epsilon + norms), Keras' rescaling of each slice to its desired norm."""
    return ops.multiply(w, ops.divide(desired, ops.increment(norms, EPSILON)))


class MaxNorm(Constraint):
    """Each slice along axis rescaled to a norm of at most max_value: w * clip(n, 0, max) / (eps + n)."""

    def __init__(self, max_value=2, axis=0):
        self.max_value = _number("MaxNorm", "max_value", max_value, 0)
        self.axis = _axis("MaxNorm", axis)

    def __call__(self, w):
        norms = _norms(w, self.axis)
        return _rescale(w, norms, ops.clip_by_value(norms, 0, self.max_value))

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


class NonNeg(Constraint):
    """max(w, 0)."""

    def __call__(self, w):
        return ops.maximum(w, ops.zeros((), w.dtype))


class UnitNorm(Constraint):
    """Each slice along axis divided by its norm: w / (eps + n)."""

    def __init__(self, axis=0):
        self.axis = _axis("UnitNorm", axis)

    def __call__(self, w):
        return ops.divide(w, ops.increment(_norms(w, self.axis), EPSILON))

    def get_config(self):
        return {"axis": self.axis}


class MinMaxNorm(Constraint):
    """Each slice's norm n moved to rate * clip(n, min_value, max_value) + (1 - rate) * n: w * that / (eps + n)."""

    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        self.min_value = _number("MinMaxNorm", "min_value", min_value, 0)
        self.max_value = _number("MinMaxNorm", "max_value", max_value, 0)
        if self.min_value > self.max_value:
            raise ValueError(f"MinMaxNorm: min_value {min_value!r} is above max_value {max_value!r}")
        self.rate = _number("MinMaxNorm", "rate", rate)
        self.axis = _axis("MinMaxNorm", axis)

    def __call__(self, w):
        norms = _norms(w, self.axis)
        desired = ops.add(ops.scale(self.rate, ops.clip_by_value(norms, self.min_value, self.max_value)),
                          ops.scale(1.0 - self.rate, norms))
        return _rescale(w, norms, desired)

    def get_config(self):
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate, "axis": self.axis}


max_norm, min_max_norm, non_neg, unit_norm = MaxNorm, MinMaxNorm, NonNeg, UnitNorm  # Keras' shortcut names
_CLASSES = (Constraint, MaxNorm, MinMaxNorm, NonNeg, UnitNorm)
ALIASES = {**{c.__name__: c for c in _CLASSES}, **{snake_case(c.__name__): c for c in _CLASSES}}


def serialize(constraint) -> dict | None:
    """{"module": "constraints", "class_name", "config"} for a built-in constraint, as ad.saving.serialize writes
    it (a user's class: use ad.saving.serialize, which names registered classes)."""
    if constraint is None:
        return None
    return {"module": "constraints" if ALIASES.get(type(constraint).__name__) is type(constraint) else None,
            "class_name": type(constraint).__name__, "config": constraint.get_config()}


def deserialize(config: dict, custom_objects: dict | None = None) -> Constraint:
    """The constraint a serialize() dict (or Keras' {"class_name", "config"}) describes: class_name is looked up
    among the built-in names and custom_objects only."""
    if not isinstance(config, dict) or not isinstance(config.get("class_name"), str):
        raise ValueError(f"constraints.deserialize: expects a dict with a class_name, got {config!r}")
    cls = (custom_objects or {}).get(config["class_name"]) or ALIASES.get(config["class_name"])
    if cls is None:
        raise ValueError(f"constraints.deserialize: unknown constraint {config['class_name']!r}; one of "
                         f"{sorted(ALIASES)} or pass it in custom_objects")
    return cls.from_config(dict(config.get("config") or {}))


def get(identifier):
    """None as is; a Constraint or a callable as is; a name ("max_norm", "non_neg", "unit_norm", "min_max_norm",
    a class name) or a class a new one with its defaults; a serialized dict the constraint it describes."""
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        return deserialize(identifier)
    found = ALIASES.get(identifier) if isinstance(identifier, str) else identifier
    if isinstance(found, type) and issubclass(found, Constraint):
        return found()
    if callable(found) and not isinstance(found, type):
        return found
    raise ValueError(f"unknown constraint {identifier!r}; one of {sorted(ALIASES)}, a Constraint or a callable")


__all__ = ["Constraint", "MaxNorm", "MinMaxNorm", "NonNeg", "UnitNorm", "deserialize", "get", "max_norm",
           "min_max_norm", "non_neg", "serialize", "unit_norm"]

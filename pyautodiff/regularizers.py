"""Weight and activity regularizers, as Keras 3 defines them: a regularizer maps a tensor to a scalar penalty
that fit adds to the loss (a layer's `kernel_regularizer=`, `bias_regularizer=`, `activity_regularizer=`; the
penalties of a model's layers are `model.losses`)."""

import math

from . import ops
from .losses import l2_normalize
from .tensor import Tensor


def _factor(where: str, what: str, value) -> float:
    """Keras' validate_float_arg: a finite number >= 0 (None means 0, as Keras reads it)."""
    value = 0.0 if value is None else value
    if isinstance(value, (bool, str)) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise ValueError(f"{where}: {what} must be a finite number >= 0, got {value!r}")
    return float(value)


class Regularizer:
    """Subclass it and write __call__(x) -> scalar Tensor (and get_config for saving)."""

    def __call__(self, x: Tensor) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__}: a Regularizer implements __call__(x)")

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)


class L1L2(Regularizer):
    """l1 * sum(|x|) + l2 * sum(x**2)."""

    def __init__(self, l1: float = 0.0, l2: float = 0.0):
        self.l1, self.l2 = _factor(type(self).__name__, "l1", l1), _factor(type(self).__name__, "l2", l2)

    def __call__(self, x):
        terms = [ops.scale(self.l1, ops.reduce_sum(ops.abs(x)))] if self.l1 else []
        terms += [ops.scale(self.l2, ops.reduce_sum(ops.square(x)))] if self.l2 else []
        return ops.add(*terms) if len(terms) == 2 else terms[0] if terms else ops.zeros((), x.dtype)

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class L1(L1L2):
    """l1 * sum(|x|)."""

    def __init__(self, l1: float = 0.01):
        super().__init__(l1=0.01 if l1 is None else l1)

    def get_config(self):
        return {"l1": self.l1}


class L2(L1L2):
    """l2 * sum(x**2)."""

    def __init__(self, l2: float = 0.01):
        super().__init__(l2=0.01 if l2 is None else l2)

    def get_config(self):
        return {"l2": self.l2}


class OrthogonalRegularizer(Regularizer):
    """Keras' OrthogonalRegularizer for a rank-2 x: with its rows (mode="rows") or columns l2-normalized, factor
    * 0.5 * the sum of |off-diagonal entries| of their Gram matrix over the number of pairs n (n - 1) / 2."""

    def __init__(self, factor: float = 0.01, mode: str = "rows"):
        self.factor = _factor("OrthogonalRegularizer", "factor", factor)
        if mode not in ("rows", "columns"):
            raise ValueError(f"OrthogonalRegularizer: mode must be 'rows' or 'columns', got {mode!r}")
        self.mode = mode

    def __call__(self, x):
        if x.ndim != 2:
            raise ValueError(f"OrthogonalRegularizer: expects a rank-2 tensor, got shape {x.shape}")
        rows = self.mode == "rows"
        unit = l2_normalize(x, 1 if rows else 0)
        gram = ops.matmul(unit, unit, transpose_a=not rows, transpose_b=rows)
        size = x.shape[0 if rows else 1]
        # the diagonal of the Gram matrix is each vector's squared norm: subtracted rather than masked out
        off_diagonal = ops.subtract(ops.reduce_sum(ops.abs(gram)), ops.reduce_sum(ops.square(unit)))
        return ops.scale(self.factor * 0.5 / (size * (size - 1) / 2.0), off_diagonal) if size > 1 else \
            ops.zeros((), x.dtype)

    def get_config(self):
        return {"factor": self.factor, "mode": self.mode}


_CLASSES = (L1, L2, L1L2, OrthogonalRegularizer)
ALIASES = {**{c.__name__: c for c in _CLASSES}, "l1": L1, "l2": L2, "l1_l2": L1L2,
           "orthogonal_regularizer": OrthogonalRegularizer}


def get(identifier):
    """None, a Regularizer or a callable as given; a name ('l1', 'l2', 'l1_l2', a class name) a new one."""
    if identifier is None or isinstance(identifier, Regularizer):
        return identifier
    if isinstance(identifier, str):
        if identifier in ALIASES:
            return ALIASES[identifier]()
    elif callable(identifier) and not isinstance(identifier, type):
        return identifier
    raise ValueError(f"unknown regularizer {identifier!r}; one of {sorted(ALIASES)}, a Regularizer or a callable")


__all__ = ["L1", "L1L2", "L2", "OrthogonalRegularizer", "Regularizer", "get"]

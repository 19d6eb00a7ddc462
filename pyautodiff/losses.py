"""Losses, called as loss(y_true, y_pred) and reduced to the mean over the batch.

The cross-entropies run as fused C kernels on logits. Given probabilities instead (from_logits=False)
they are clipped to [epsilon, 1 - epsilon] as Keras does and turned into logits: log p for the softmax
forms (softmax(log p) = p / sum p) and log(p / (1 - p)) for the sigmoid form, where the stable
kernel then gives exactly -z log p - (1 - z) log(1 - p).
"""

from . import ops
from .dtypes import FLOATS, INT32
from .ops import nn as fused
from .ops._core import broadcast_shape
from .tensor import Tensor, as_tensor

EPSILON = 1e-7


class Loss:
    def __init__(self, name: str | None = None):
        self.name = name or type(self).__name__

    def __call__(self, y_true, y_pred) -> Tensor:
        y_pred = as_tensor(y_pred, None, self.name)
        if y_pred.dtype not in FLOATS:
            raise TypeError(f"{self.name}: y_pred must be float32 or float64, got {y_pred.dtype}")
        y_true = as_tensor(y_true, None, self.name)
        if y_pred.ndim == 0 or y_true.ndim == 0 or y_true.shape[0] != y_pred.shape[0]:
            raise ValueError(f"{self.name}: y_true of shape {y_true.shape} and y_pred of shape {y_pred.shape} "
                             f"must have the same batch size")
        return self._batch_mean(y_true, y_pred)

    def _batch_mean(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        """The mean of call()'s losses (the softmax cross-entropies average inside their kernel)."""
        return ops.reduce_mean(self.call(y_true, y_pred))

    def call(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        """The per-sample (or per-element) losses."""
        raise NotImplementedError

    def get_config(self) -> dict:
        return {"name": self.name}


def match_shapes(name: str, y_true: Tensor, y_pred: Tensor) -> tuple:
    """(y_true as y_pred's dtype, y_pred) at one shape: numpy's broadcasting, after Keras' squeeze or expand of
    one trailing 1 ((batch,) targets for (batch, 1) predictions and back). Equal sizes are no match: (4, 2, 3)
    targets reshaped onto (4, 3, 2) predictions would pair the wrong elements."""
    t, p = y_true.shape, y_pred.shape
    if t + (1,) == p or t == p + (1,):
        y_true = ops.reshape(y_true, p)
    elif t != p:
        try:
            shape = broadcast_shape(name, t, p)
        except ValueError:
            raise ValueError(f"{name}: y_true of shape {t} does not match y_pred of shape {p}") from None
        y_true, y_pred = ops.broadcast_to(y_true, shape), ops.broadcast_to(y_pred, shape)
    return ops.cast(y_true, y_pred.dtype), y_pred


def sparse_labels(name: str, y_true: Tensor, y_pred: Tensor) -> Tensor:
    """Class indices for predictions (..., classes) as int32 of shape y_pred.shape[:-1]; y_true must have that
    shape, or it with a trailing 1 (which Keras squeezes)."""
    rows = y_pred.shape[:-1]
    if y_true.shape not in (rows, rows + (1,)):
        raise ValueError(f"{name}: labels of shape {y_true.shape} do not match y_pred of shape {y_pred.shape} "
                         f"(expected one class index per row: {rows} or {rows + (1,)})")
    return ops.reshape(ops.cast(y_true, INT32), rows)


def _clipped_log(p, lo=EPSILON, hi=1.0 - EPSILON):
    return ops.log(ops.clip_by_value(p, lo, hi))


def _rows(name, y_pred):
    """Predictions as (rows, classes): leading axes flattened."""
    if y_pred.ndim < 2:
        raise ValueError(f"{name}: y_pred must have shape (batch, classes), got {y_pred.shape}")
    return ops.reshape(y_pred, (-1, y_pred.shape[-1])) if y_pred.ndim > 2 else y_pred


class _CrossEntropy(Loss):
    """The cross-entropies: given logits (from_logits=True) or probabilities."""

    def __init__(self, from_logits: bool = False, name: str | None = None):
        super().__init__(name)
        self.from_logits = from_logits

    def get_config(self):
        return {**super().get_config(), "from_logits": self.from_logits}


class _AveragedInKernel(_CrossEntropy):
    """A loss whose kernel can also average over the batch in the same pass: _losses(y_true, y_pred, mean)."""

    def call(self, y_true, y_pred):
        return self._losses(y_true, y_pred, mean=False)

    def _batch_mean(self, y_true, y_pred):
        if type(self).call is not _AveragedInKernel.call:  # a subclass's own call() defines the losses
            return super()._batch_mean(y_true, y_pred)
        return self._losses(y_true, y_pred, mean=True)


class SparseCategoricalCrossentropy(_AveragedInKernel):
    def _losses(self, y_true, y_pred, mean: bool):
        logits = _rows(self.name, y_pred)
        classes = logits.shape[1]
        labels = ops.reshape(sparse_labels(self.name, y_true, y_pred), (logits.shape[0],))
        if not self.from_logits:
            logits = _clipped_log(logits)
        try:
            return fused.sparse_softmax_cross_entropy(labels, logits, self.name, mean)
        except ValueError:
            lo, hi = ops.reduce_min(ops.cast(labels, "float64")), ops.reduce_max(ops.cast(labels, "float64"))
            raise ValueError(f"{self.name}: labels must lie in [0, {classes}) for y_pred of shape {y_pred.shape}, "
                             f"got labels from {int(lo)} to {int(hi)}") from None


class CategoricalCrossentropy(_AveragedInKernel):
    def _losses(self, y_true, y_pred, mean: bool):
        y_true, y_pred = match_shapes(self.name, y_true, y_pred)
        logits = _rows(self.name, y_pred)
        labels = ops.reshape(y_true, logits.shape)
        if not self.from_logits:
            logits = _clipped_log(logits)
        return fused.softmax_cross_entropy(labels, logits, self.name, mean)


class BinaryCrossentropy(_CrossEntropy):
    def call(self, y_true, y_pred):
        labels, y_pred = match_shapes(self.name, y_true, y_pred)
        logits = y_pred
        if not self.from_logits:
            logits = ops.subtract(_clipped_log(y_pred), _clipped_log(ops.increment(y_pred, 1.0, -1.0)))
        return fused.sigmoid_cross_entropy(labels, logits, self.name)


class MeanSquaredError(Loss):
    def call(self, y_true, y_pred):
        y_true, y_pred = match_shapes(self.name, y_true, y_pred)
        return ops.square(ops.subtract(y_pred, y_true))


class Huber(Loss):
    """0.5 e^2 where |e| <= delta, else delta (|e| - 0.5 delta)."""

    def __init__(self, delta: float = 1.0, name: str | None = None):
        super().__init__(name)
        if delta <= 0:
            raise ValueError(f"{self.name}: delta must be positive, got {delta!r}")
        self.delta = float(delta)

    def call(self, y_true, y_pred):
        y_true, y_pred = match_shapes(self.name, y_true, y_pred)
        error = ops.abs(ops.subtract(y_pred, y_true))
        quadratic = ops.minimum(error, self.delta)
        return ops.add(ops.scale(0.5, ops.square(quadratic)), ops.scale(self.delta, ops.subtract(error, quadratic)))

    def get_config(self):
        return {**super().get_config(), "delta": self.delta}


ALIASES = {"sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
           "categorical_crossentropy": CategoricalCrossentropy, "binary_crossentropy": BinaryCrossentropy,
           "mean_squared_error": MeanSquaredError, "mse": MeanSquaredError, "huber": Huber}


def get(identifier) -> Loss:
    if isinstance(identifier, Loss) or (callable(identifier) and not isinstance(identifier, (str, type))):
        return identifier
    if isinstance(identifier, str) and identifier in ALIASES:
        return ALIASES[identifier]()
    raise ValueError(f"unknown loss {identifier!r}; one of {sorted(ALIASES)} or a Loss")


__all__ = ["BinaryCrossentropy", "CategoricalCrossentropy", "Huber", "Loss", "MeanSquaredError",
           "SparseCategoricalCrossentropy", "get"]  # (match_shapes and sparse_labels serve metrics too)

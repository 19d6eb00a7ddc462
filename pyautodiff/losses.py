"""Losses, called as loss(y_true, y_pred) and reduced to the mean over the batch.

The cross-entropies run as fused C kernels on logits. Given probabilities instead (from_logits=False)
they are clipped to [epsilon, 1 - epsilon] as Keras does and turned into logits: log p for the softmax
forms (softmax(log p) = p / sum p) and log(p / (1 - p)) for the sigmoid form, where the stable
kernel then gives exactly -z log p - (1 - z) log(1 - p).
"""

import math
import re

from . import ops
from .dtypes import FLOATS, INT32
from .ops import nn as fused
from .ops._core import broadcast_shape
from .tensor import Tensor, array, as_tensor

EPSILON = 1e-7


REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None)  # Keras 3's


class Loss:
    """call() gives the per-sample losses (the mean over the last axis, as Keras); __call__ weighs and reduces
    them."""

    def __init__(self, reduction: str | None = "sum_over_batch_size", name: str | None = None):
        self.name = name or type(self).__name__
        if reduction not in REDUCTIONS:
            raise ValueError(f"{self.name}: reduction must be one of {REDUCTIONS}, got {reduction!r}")
        self.reduction = reduction

    def __call__(self, y_true, y_pred, sample_weight=None) -> Tensor:
        y_pred = as_tensor(y_pred, None, self.name)
        if y_pred.dtype not in FLOATS:
            raise TypeError(f"{self.name}: y_pred must be float32 or float64, got {y_pred.dtype}")
        y_true = as_tensor(y_true, None, self.name)
        if y_pred.ndim == 0 or y_true.ndim == 0 or y_true.shape[0] != y_pred.shape[0]:
            raise ValueError(f"{self.name}: y_true of shape {y_true.shape} and y_pred of shape {y_pred.shape} "
                             f"must have the same batch size")
        if sample_weight is None and self.reduction in ("sum_over_batch_size", "mean", "mean_with_sample_weight"):
            return self._batch_mean(y_true, y_pred)
        return reduce_weighted(self.name, self.call(y_true, y_pred), sample_weight, self.reduction)

    def _batch_mean(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        """The mean of call()'s losses (the softmax cross-entropies average inside their kernel)."""
        return ops.reduce_mean(self.call(y_true, y_pred))

    def call(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        """The per-sample (or per-element) losses."""
        raise NotImplementedError

    def get_config(self) -> dict:
        return {"name": self.name, "reduction": self.reduction}


def reduce_weighted(name: str, values, sample_weight=None, reduction="sum_over_batch_size") -> Tensor:
    """Keras' reduce_weighted_values: values times sample_weight (one trailing 1 squeezed or expanded; weights
    of the leading axes, e.g. one per sequence, apply to each of its values; else broadcast), then summed;
    "sum_over_batch_size" and "mean" divide by the number of values (not by the sum of the weights: that is
    "mean_with_sample_weight"); "none" keeps the weighted values."""
    values = as_tensor(values, None, name)
    if sample_weight is not None:
        weight = ops.cast(as_tensor(sample_weight, None, name), values.dtype)
        if weight.ndim == values.ndim + 1 and weight.shape[-1:] == (1,):
            weight = ops.reshape(weight, weight.shape[:-1])
        elif values.ndim == weight.ndim + 1 and values.shape[-1:] == (1,):
            values = ops.reshape(values, values.shape[:-1])
        elif weight.ndim < values.ndim and weight.shape == values.shape[:weight.ndim]:  # per sample (not Keras)
            weight = ops.reshape(weight, weight.shape + (1,) * (values.ndim - weight.ndim))
        try:
            values = ops.multiply(values, weight)
        except ValueError:
            raise ValueError(f"{name}: sample_weight of shape {weight.shape} must hold one weight per sample "
                             f"(or broadcast to the losses of shape {values.shape})") from None
    if reduction in (None, "none") or values.shape in ((), (0,)):
        return values
    total = ops.reduce_sum(values)
    if reduction == "sum":
        return total
    if reduction == "mean_with_sample_weight" and sample_weight is not None:
        return divide_no_nan(total, ops.reduce_sum(ops.broadcast_to(weight, values.shape)))
    return ops.scale(1.0 / values.size if values.size else 0.0, total)


def divide_no_nan(a, b) -> Tensor:
    """a / b, 0 where b == 0 (Keras' divide_no_nan), with finite gradients."""
    zero = ops.equal(b, 0.0)
    return ops.where(zero, 0.0, ops.divide(a, ops.where(zero, 1.0, b)))


def _per_sample(values: Tensor) -> Tensor:
    """Keras' mean over the last axis (1-D values are one loss per sample already)."""
    return ops.reduce_mean(values, axis=-1) if values.ndim > 1 else values


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
    if type(y_true) is not Tensor or y_true.dtype != INT32:  # (int32 tensors, immutable, are used as they are)
        y_true = array(y_true, INT32, name)  # (NaN or huge float labels: an error naming the loss)
    return y_true if y_true.shape == rows else ops.reshape(y_true, rows)


def _clipped_log(p, lo=EPSILON, hi=1.0 - EPSILON):
    return ops.log(ops.clip_by_value(p, lo, hi))


def _rows(name, y_pred):
    """Predictions as (rows, classes): leading axes flattened."""
    if y_pred.ndim < 2:
        raise ValueError(f"{name}: y_pred must have shape (batch, classes), got {y_pred.shape}")
    return ops.reshape(y_pred, (-1, y_pred.shape[-1])) if y_pred.ndim > 2 else y_pred


class _CrossEntropy(Loss):
    """The cross-entropies: given logits (from_logits=True) or probabilities."""

    def __init__(self, from_logits: bool = False, reduction="sum_over_batch_size", name: str | None = None):
        super().__init__(reduction, name)
        self.from_logits = from_logits

    def get_config(self):
        return {**super().get_config(), "from_logits": self.from_logits}


class _Smoothed(_CrossEntropy):
    """A cross-entropy with Keras' label_smoothing: targets become y (1 - s) + s / classes."""

    def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0, reduction="sum_over_batch_size",
                 name: str | None = None):
        super().__init__(from_logits, reduction, name)
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"{self.name}: label_smoothing must lie in [0, 1], got {label_smoothing!r}")
        self.label_smoothing = float(label_smoothing)

    def smooth(self, y_true: Tensor, classes: int) -> Tensor:
        s = self.label_smoothing
        return ops.increment(y_true, s / classes, 1.0 - s) if s else y_true

    def get_config(self):
        return {**super().get_config(), "label_smoothing": self.label_smoothing}


class _AveragedInKernel(_CrossEntropy):
    """A loss whose kernel can also average over the batch in the same pass: _losses(y_true, y_pred, mean),
    one loss per row of y_pred (..., classes)."""

    def call(self, y_true, y_pred):
        return ops.reshape(self._losses(y_true, y_pred, mean=False), y_pred.shape[:-1])

    def _batch_mean(self, y_true, y_pred):
        if type(self).call is not _AveragedInKernel.call:  # a subclass's own call() defines the losses
            return super()._batch_mean(y_true, y_pred)
        return self._losses(y_true, y_pred, mean=True)


class SparseCategoricalCrossentropy(_AveragedInKernel):
    def _losses(self, y_true, y_pred, mean: bool):
        logits = _rows(self.name, y_pred)
        classes = logits.shape[1]
        labels = sparse_labels(self.name, y_true, y_pred)
        if labels.ndim != 1:  # one per row of the logits, whose leading axes _rows flattened
            labels = ops.reshape(labels, (logits.shape[0],))
        if not self.from_logits:
            logits = _clipped_log(logits)
        try:
            return fused.sparse_softmax_cross_entropy(labels, logits, self.name, mean)
        except ValueError:
            lo, hi = ops.reduce_min(ops.cast(labels, "float64")), ops.reduce_max(ops.cast(labels, "float64"))
            raise ValueError(f"{self.name}: labels must lie in [0, {classes}) for y_pred of shape {y_pred.shape}, "
                             f"got labels from {int(lo)} to {int(hi)}") from None


class CategoricalCrossentropy(_AveragedInKernel, _Smoothed):
    def _losses(self, y_true, y_pred, mean: bool):
        y_true, y_pred = match_shapes(self.name, y_true, y_pred)
        logits = _rows(self.name, y_pred)
        labels = self.smooth(ops.reshape(y_true, logits.shape), logits.shape[1])
        if not self.from_logits:
            logits = _clipped_log(logits)
        return fused.softmax_cross_entropy(labels, logits, self.name, mean)


class BinaryCrossentropy(_Smoothed):
    def call(self, y_true, y_pred):
        labels, y_pred = match_shapes(self.name, y_true, y_pred)
        logits = y_pred
        if not self.from_logits:
            logits = ops.subtract(_clipped_log(y_pred), _clipped_log(ops.increment(y_pred, 1.0, -1.0)))
        return _per_sample(fused.sigmoid_cross_entropy(self.smooth(labels, 2), logits, self.name))


class CategoricalFocalCrossentropy(_Smoothed):
    """sum over classes of -alpha (1 - p)^gamma y log p, p the rows of y_pred normalized to sum 1 (softmax of
    logits) and clipped to [epsilon, 1 - epsilon]."""

    def __init__(self, alpha: float = 0.25, gamma: float = 2.0, from_logits: bool = False,
                 label_smoothing: float = 0.0, reduction="sum_over_batch_size", name: str | None = None):
        super().__init__(from_logits, label_smoothing, reduction, name)
        self.alpha, self.gamma = float(alpha), float(gamma)

    def call(self, y_true, y_pred):
        y_true, y_pred = match_shapes(self.name, y_true, y_pred)
        _rows(self.name, y_pred)
        y_true = self.smooth(y_true, y_pred.shape[-1])
        p = ops.softmax(y_pred) if self.from_logits else ops.divide(y_pred, ops.reduce_sum(y_pred, -1, True))
        p = ops.clip_by_value(p, EPSILON, 1.0 - EPSILON)
        factor = ops.scale(-self.alpha, ops.pow(ops.increment(p, 1.0, -1.0), self.gamma))
        return ops.reduce_sum(ops.multiply(factor, ops.multiply(y_true, ops.log(p))), axis=-1)

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha, "gamma": self.gamma}


class _Regression(Loss):
    """A loss of y_true and y_pred at one shape, elementwise(y_true, y_pred) averaged over the last axis."""

    def call(self, y_true, y_pred):
        return _per_sample(self.elementwise(*match_shapes(self.name, y_true, y_pred)))


class MeanSquaredError(_Regression):
    def elementwise(self, y_true, y_pred):
        return ops.square(ops.subtract(y_pred, y_true))


class MeanAbsoluteError(_Regression):
    def elementwise(self, y_true, y_pred):
        return ops.abs(ops.subtract(y_pred, y_true))


class Huber(_Regression):
    """0.5 e^2 where |e| <= delta, else delta (|e| - 0.5 delta)."""

    def __init__(self, delta: float = 1.0, reduction="sum_over_batch_size", name: str | None = None):
        super().__init__(reduction, name)
        if delta <= 0:
            raise ValueError(f"{self.name}: delta must be positive, got {delta!r}")
        self.delta = float(delta)

    def elementwise(self, y_true, y_pred):
        error = ops.abs(ops.subtract(y_pred, y_true))
        quadratic = ops.minimum(error, self.delta)
        return ops.add(ops.scale(0.5, ops.square(quadratic)), ops.scale(self.delta, ops.subtract(error, quadratic)))

    def get_config(self):
        return {**super().get_config(), "delta": self.delta}


class LogCosh(_Regression):
    """log cosh(e) = e + softplus(-2 e) - log 2, stable for large |e|."""

    def elementwise(self, y_true, y_pred):
        error = ops.subtract(y_pred, y_true)
        return ops.increment(ops.add(error, ops.softplus(ops.scale(-2.0, error))), -math.log(2.0))


class Poisson(_Regression):
    """y_pred - y_true log(y_pred + epsilon)."""

    def elementwise(self, y_true, y_pred):
        return ops.subtract(y_pred, ops.multiply(y_true, ops.log(ops.increment(y_pred, EPSILON))))


def _hinge_labels(y_true: Tensor) -> Tensor:
    """Keras' convert_binary_labels_to_hinge: labels all in {0, 1} become 2 y - 1 (others stay), decided on the
    tensor (no read back, so a traced Function decides per call)."""
    binary = ops.equal(ops.reduce_max(ops.abs(ops.multiply(y_true, ops.increment(y_true, -1.0)))), 0.0)
    return ops.where(binary, ops.increment(y_true, -1.0, 2.0), y_true)


class Hinge(_Regression):
    """max(1 - y_true y_pred, 0), labels -1/1 (or 0/1, converted)."""

    def elementwise(self, y_true, y_pred):
        return ops.relu(ops.increment(ops.multiply(_hinge_labels(y_true), y_pred), 1.0, -1.0))


class SquaredHinge(Hinge):
    def elementwise(self, y_true, y_pred):
        return ops.square(super().elementwise(y_true, y_pred))


class KLDivergence(Loss):
    """sum over the last axis of y_true log(y_true / y_pred), both clipped to [epsilon, 1]."""

    def call(self, y_true, y_pred):
        y_true, y_pred = match_shapes(self.name, y_true, y_pred)
        y_true, y_pred = ops.clip_by_value(y_true, EPSILON, 1.0), ops.clip_by_value(y_pred, EPSILON, 1.0)
        return ops.reduce_sum(ops.multiply(y_true, ops.log(ops.divide(y_true, y_pred))), axis=-1)


class CosineSimilarity(Loss):
    """-sum(l2_normalize(y_true) * l2_normalize(y_pred), axis): -1 for aligned vectors, 0 with a zero vector."""

    def __init__(self, axis: int = -1, reduction="sum_over_batch_size", name: str | None = None):
        super().__init__(reduction, name)
        self.axis = int(axis)

    def call(self, y_true, y_pred):
        y_true, y_pred = match_shapes(self.name, y_true, y_pred)
        if not -y_pred.ndim <= self.axis < y_pred.ndim:
            raise ValueError(f"{self.name}: axis {self.axis} is out of range for y_pred of shape {y_pred.shape}")
        return ops.negative(ops.reduce_sum(ops.multiply(l2_normalize(y_true, self.axis),
                                                        l2_normalize(y_pred, self.axis)), axis=self.axis))

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


def l2_normalize(x: Tensor, axis: int) -> Tensor:
    """x / max(||x||, epsilon) along axis (Keras' ops.normalize)."""
    norm = ops.sqrt(ops.reduce_sum(ops.square(x), axis, True))
    return ops.divide(x, ops.maximum(norm, EPSILON))


_LOSSES = (SparseCategoricalCrossentropy, CategoricalCrossentropy, BinaryCrossentropy, CategoricalFocalCrossentropy,
           MeanSquaredError, MeanAbsoluteError, Huber, LogCosh, Poisson, Hinge, SquaredHinge, KLDivergence,
           CosineSimilarity)


def snake_case(name: str) -> str:
    """Keras' to_snake_case: "KLDivergence" -> "kl_divergence", "LogCosh" -> "log_cosh"."""
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)).lower()


# Rindow NeuralNetworks' spellings of the cross-entropies (the seed's system writes "CrossEntropy")
SparseCategoricalCrossEntropy = SparseCategoricalCrossentropy
CategoricalCrossEntropy = CategoricalCrossentropy
BinaryCrossEntropy = BinaryCrossentropy

# Keras' names: the class names, their snake_case forms and the short aliases
ALIASES = {**{c.__name__: c for c in _LOSSES}, **{snake_case(c.__name__): c for c in _LOSSES},
           "mse": MeanSquaredError, "MSE": MeanSquaredError, "mae": MeanAbsoluteError, "MAE": MeanAbsoluteError,
           "kld": KLDivergence, "KLD": KLDivergence, "kullback_leibler_divergence": KLDivergence,
           "bce": BinaryCrossentropy, "BCE": BinaryCrossentropy}


def get(identifier) -> Loss:
    if isinstance(identifier, Loss) or (callable(identifier) and not isinstance(identifier, (str, type))):
        return identifier
    if isinstance(identifier, str) and identifier in ALIASES:
        return ALIASES[identifier]()
    raise ValueError(f"unknown loss {identifier!r}; one of {sorted(ALIASES)} or a Loss")


__all__ = ["BinaryCrossEntropy", "BinaryCrossentropy", "CategoricalCrossEntropy", "CategoricalCrossentropy",
           "CategoricalFocalCrossentropy", "CosineSimilarity", "Hinge", "Huber", "KLDivergence", "LogCosh", "Loss",
           "MeanAbsoluteError", "MeanSquaredError", "Poisson", "SparseCategoricalCrossEntropy",
           "SparseCategoricalCrossentropy", "SquaredHinge", "get"]  # (match_shapes, sparse_labels, divide_no_nan and
# reduce_weighted serve metrics and models too)

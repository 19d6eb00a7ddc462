"""Metrics: running means over batches, accumulated in float64 variables by kernels."""

from . import losses, ops
from .dtypes import FLOAT64
from .losses import match_shapes, sparse_labels
from .tensor import Variable, as_tensor, zeros


class Mean:
    """The mean of the values given to update_state, weighted by their count."""

    def __init__(self, name: str = "mean"):
        self.name = name
        self.total = Variable(zeros((), FLOAT64), name=f"{name}/total", trainable=False)
        self.count = Variable(zeros((), FLOAT64), name=f"{name}/count", trainable=False)

    def update_state(self, values, sample_weight_count: int | None = None) -> None:
        values = as_tensor(values, None, self.name)
        self.total.assign_add(ops.reduce_sum(ops.cast(values, FLOAT64)))
        self.count.assign_add(float(values.size if sample_weight_count is None else sample_weight_count))

    def result(self) -> float:
        count = self.count.item()
        return self.total.item() / count if count else 0.0

    def reset_state(self) -> None:
        self.total.assign(0.0)
        self.count.assign(0.0)


class MeanMetricWrapper(Mean):
    """A Mean of fn(y_true, y_pred) per sample."""

    def __init__(self, name: str):
        super().__init__(name)

    def update_state(self, y_true, y_pred) -> None:
        y_true, y_pred = as_tensor(y_true, None, self.name), as_tensor(y_pred, None, self.name)
        if y_true.ndim == 0 or y_pred.ndim == 0 or y_true.shape[0] != y_pred.shape[0]:
            raise ValueError(f"{self.name}: y_true of shape {y_true.shape} and y_pred of shape {y_pred.shape} "
                             f"must have the same batch size")
        super().update_state(self.values(y_true, y_pred))


class SparseCategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, name: str = "sparse_categorical_accuracy"):
        super().__init__(name)

    def values(self, y_true, y_pred):
        return ops.equal(ops.argmax(y_pred, -1), sparse_labels(self.name, y_true, y_pred))


class CategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, name: str = "categorical_accuracy"):
        super().__init__(name)

    def values(self, y_true, y_pred):
        if y_true.shape != y_pred.shape:
            raise ValueError(f"{self.name}: y_true of shape {y_true.shape} does not match y_pred of shape "
                             f"{y_pred.shape}")
        return ops.equal(ops.argmax(y_pred, -1), ops.argmax(y_true, -1))


class BinaryAccuracy(MeanMetricWrapper):
    """y_pred > threshold compared with y_true (threshold 0 suits logits)."""

    def __init__(self, name: str = "binary_accuracy", threshold: float = 0.5):
        super().__init__(name)
        self.threshold = float(threshold)

    def values(self, y_true, y_pred):
        y_true, y_pred = match_shapes(self.name, y_true, y_pred)
        return ops.equal(ops.greater(y_pred, self.threshold), y_true)


class MeanSquaredError(MeanMetricWrapper):
    def __init__(self, name: str = "mean_squared_error"):
        super().__init__(name)

    def values(self, y_true, y_pred):
        y_true, y_pred = match_shapes(self.name, y_true, y_pred)
        return ops.square(ops.subtract(y_pred, y_true))


ALIASES = {"sparse_categorical_accuracy": SparseCategoricalAccuracy, "categorical_accuracy": CategoricalAccuracy,
           "binary_accuracy": BinaryAccuracy, "mean_squared_error": MeanSquaredError, "mse": MeanSquaredError}


def get(identifier, loss=None, y_true=None, y_pred=None):
    """A metric object; "accuracy" is resolved from the loss (or else the shapes), as Keras does."""
    if isinstance(identifier, Mean):
        return identifier
    if identifier in ("accuracy", "acc"):
        if isinstance(loss, losses.BinaryCrossentropy):
            return BinaryAccuracy("accuracy", 0.0 if loss.from_logits else 0.5)
        if isinstance(loss, losses.SparseCategoricalCrossentropy):
            return SparseCategoricalAccuracy("accuracy")
        if isinstance(loss, losses.CategoricalCrossentropy):
            return CategoricalAccuracy("accuracy")
        if y_pred is not None and y_pred.shape[-1:] == (1,):
            return BinaryAccuracy("accuracy")
        if y_true is not None and y_pred is not None and y_true.ndim < y_pred.ndim:
            return SparseCategoricalAccuracy("accuracy")
        return CategoricalAccuracy("accuracy")
    if isinstance(identifier, str) and identifier in ALIASES:
        return ALIASES[identifier]()
    raise ValueError(f"unknown metric {identifier!r}; one of {sorted(ALIASES) + ['accuracy']} or a metric")

"""Metrics: running means over batches, accumulated in float64 variables by kernels."""

import inspect

from . import losses, ops
from .dtypes import FLOAT32, FLOAT64, FLOATS
from .losses import EPSILON, divide_no_nan, match_shapes, sparse_labels
from .tensor import Tensor, Variable, as_tensor, zeros


class Metric:
    """State in float64 Variables (zeroed by reset_state), update_state(...) and result(). `direction` is the one
    fact callbacks read for mode="auto": "up" when larger is better, "down" when smaller is, None when unknown."""

    direction = None

    def __init__(self, name: str):
        self.name = name
        self.variables = []

    def add_variable(self, label: str, shape=()) -> Variable:
        v = Variable(zeros(tuple(shape), FLOAT64), name=f"{self.name}/{label}", trainable=False)
        self.variables.append(v)
        return v

    def reset_state(self) -> None:
        for v in self.variables:
            v.assign(0.0)

    def get_config(self) -> dict:
        """The constructor's arguments, read from the attributes of the same names (a saved model's metrics)."""
        return {p: getattr(self, p) for p in inspect.signature(type(self).__init__).parameters if p != "self"}


class Mean(Metric):
    """The mean of the values given to update_state, weighted by their count."""

    def __init__(self, name: str = "mean"):
        super().__init__(name)
        self.total, self.count = self.add_variable("total"), self.add_variable("count")

    def update_state(self, values, sample_weight_count: int | None = None) -> None:
        values = as_tensor(values, None, self.name)
        self.total.assign_add(ops.reduce_sum(ops.cast(values, FLOAT64)))
        self.count.assign_add(float(values.size if sample_weight_count is None else sample_weight_count))

    def result(self) -> float:
        count = self.count.item()
        return self.total.item() / count if count else 0.0


def _batch(name: str, y_true, y_pred) -> tuple:
    y_true, y_pred = as_tensor(y_true, None, name), as_tensor(y_pred, None, name)
    if y_true.ndim == 0 or y_pred.ndim == 0 or y_true.shape[0] != y_pred.shape[0]:
        raise ValueError(f"{name}: y_true of shape {y_true.shape} and y_pred of shape {y_pred.shape} "
                         f"must have the same batch size")
    return y_true, y_pred if y_pred.dtype in FLOATS else ops.cast(y_pred, FLOAT32)  # Keras' metrics cast to float


class MeanMetricWrapper(Mean):
    """A Mean of values(y_true, y_pred) per sample."""

    def __init__(self, name: str):
        super().__init__(name)

    def update_state(self, y_true, y_pred) -> None:
        super().update_state(self.values(*_batch(self.name, y_true, y_pred)))


class SparseCategoricalAccuracy(MeanMetricWrapper):
    direction = "up"

    def __init__(self, name: str = "sparse_categorical_accuracy"):
        super().__init__(name)

    def values(self, y_true, y_pred):
        return ops.equal(ops.argmax(y_pred, -1), sparse_labels(self.name, y_true, y_pred))


class CategoricalAccuracy(MeanMetricWrapper):
    direction = "up"

    def __init__(self, name: str = "categorical_accuracy"):
        super().__init__(name)

    def values(self, y_true, y_pred):
        if y_true.shape != y_pred.shape:
            raise ValueError(f"{self.name}: y_true of shape {y_true.shape} does not match y_pred of shape "
                             f"{y_pred.shape}")
        return ops.equal(ops.argmax(y_pred, -1), ops.argmax(y_true, -1))


class BinaryAccuracy(MeanMetricWrapper):
    direction = "up"

    """y_pred > threshold compared with y_true (threshold 0 suits logits)."""

    def __init__(self, name: str = "binary_accuracy", threshold: float = 0.5):
        super().__init__(name)
        self.threshold = float(threshold)

    def values(self, y_true, y_pred):
        y_true, y_pred = match_shapes(self.name, y_true, y_pred)
        return ops.equal(ops.greater(y_pred, self.threshold), y_true)


class MeanSquaredError(MeanMetricWrapper):
    direction = "down"

    def __init__(self, name: str = "mean_squared_error"):
        super().__init__(name)

    def values(self, y_true, y_pred):
        y_true, y_pred = match_shapes(self.name, y_true, y_pred)
        return ops.square(ops.subtract(y_pred, y_true))


class MeanAbsoluteError(MeanMetricWrapper):
    direction = "down"

    def __init__(self, name: str = "mean_absolute_error"):
        super().__init__(name)

    def values(self, y_true, y_pred):
        y_true, y_pred = match_shapes(self.name, y_true, y_pred)
        return ops.abs(ops.subtract(y_pred, y_true))


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """Whether the true class (argmax of one-hot y_true) is among the k highest scores: fewer than k classes
    score strictly higher (ties count as hits, as Keras' in_top_k)."""

    direction = "up"

    def __init__(self, k: int = 5, name: str = "top_k_categorical_accuracy"):
        super().__init__(name)
        self.k = int(k)

    def values(self, y_true, y_pred):
        if y_true.shape != y_pred.shape or y_pred.ndim != 2:
            raise ValueError(f"{self.name}: y_true of shape {y_true.shape} and y_pred of shape {y_pred.shape} "
                             f"must both be (batch, classes)")
        hot = ops.one_hot(ops.argmax(y_true, -1), y_pred.shape[-1], y_pred.dtype)
        target = ops.reduce_sum(ops.multiply(y_pred, hot), -1, True)
        return ops.less(ops.reduce_sum(ops.cast(ops.greater(y_pred, target), "int32"), -1), self.k)


def _weights(name: str, sample_weight, shape: tuple) -> Tensor:
    """sample_weight (one per sample, or broadcasting) as float64 at `shape`."""
    w = ops.cast(as_tensor(sample_weight, None, name), FLOAT64)
    if w.ndim < len(shape):  # one weight per sample applies to the sample's every value
        w = ops.reshape(w, w.shape + (1,) * (len(shape) - w.ndim))
    try:
        return ops.broadcast_to(w, shape)
    except ValueError:
        raise ValueError(f"{name}: sample_weight of shape {w.shape} does not match y_pred of shape {shape}") from None


class _Confusion(Metric):
    """True/false positives/negatives at each threshold, weighted counts over every value of y_pred (clipped to
    [0, 1]; a value is positive above a threshold, strictly) against y_true != 0."""

    direction = "up"

    def __init__(self, thresholds, name: str):
        super().__init__(name)
        self.thresholds = [float(t) for t in (thresholds if isinstance(thresholds, (list, tuple)) else [thresholds])]
        size = (len(self.thresholds),)
        self.true_positives, self.false_positives = self.add_variable("tp", size), self.add_variable("fp", size)
        self.false_negatives, self.true_negatives = self.add_variable("fn", size), self.add_variable("tn", size)

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        y_true, y_pred = match_shapes(self.name, *_batch(self.name, y_true, y_pred))
        pred = ops.reshape(ops.clip_by_value(self.scores(y_pred), 0.0, 1.0), (-1, 1))
        positive = ops.cast(ops.not_equal(y_true, 0), FLOAT64)
        weight = ops.ones_like(positive) if sample_weight is None else _weights(self.name, sample_weight, y_pred.shape)
        # compared in y_pred's dtype (Keras: the metric's float32), so 0.3 is not above a threshold of 0.3
        above = ops.cast(ops.greater(pred, ops.array([self.thresholds], pred.dtype)), FLOAT64)  # (values, thresholds)
        pos_w = ops.reshape(ops.multiply(positive, weight), (1, -1))
        neg_w = ops.reshape(ops.multiply(ops.increment(positive, 1.0, -1.0), weight), (1, -1))
        tp, fp = ops.reshape(ops.matmul(pos_w, above), (-1,)), ops.reshape(ops.matmul(neg_w, above), (-1,))
        self.true_positives.assign_add(tp)
        self.false_positives.assign_add(fp)
        self.false_negatives.assign_add(ops.subtract(ops.reduce_sum(pos_w), tp))
        self.true_negatives.assign_add(ops.subtract(ops.reduce_sum(neg_w), fp))

    def scores(self, y_pred):
        return y_pred

    def _per_threshold(self, values: Tensor):
        """One float for one threshold, else a list (Keras returns a tensor)."""
        values = values.tolist()
        return values[0] if len(values) == 1 else values


class Precision(_Confusion):
    """tp / (tp + fp) at each threshold (0 when nothing is predicted positive)."""

    def __init__(self, thresholds=0.5, name: str = "precision"):
        super().__init__(thresholds, name)

    def result(self):
        return self._per_threshold(divide_no_nan(self.true_positives, ops.add(self.true_positives,
                                                                              self.false_positives)))


class Recall(_Confusion):
    """tp / (tp + fn) at each threshold (0 when there are no positives)."""

    def __init__(self, thresholds=0.5, name: str = "recall"):
        super().__init__(thresholds, name)

    def result(self):
        return self._per_threshold(divide_no_nan(self.true_positives, ops.add(self.true_positives,
                                                                              self.false_negatives)))


class AUC(_Confusion):
    """The area under the ROC or precision-recall curve, a Riemann sum over num_thresholds thresholds evenly
    spaced in [0, 1] (with -epsilon and 1 + epsilon at the ends), as Keras: "interpolation" takes the mean height
    of each step (for PR, Davis & Goadrich's interpolation of precision), "minoring"/"majoring" the min/max."""

    def __init__(self, num_thresholds: int = 200, curve: str = "ROC", summation_method: str = "interpolation",
                 name: str = "auc", from_logits: bool = False):
        if int(num_thresholds) <= 1:
            raise ValueError(f"{name}: num_thresholds must be > 1, got {num_thresholds!r}")
        if curve.upper() not in ("ROC", "PR"):
            raise ValueError(f"{name}: curve must be 'ROC' or 'PR', got {curve!r}")
        if summation_method not in ("interpolation", "minoring", "majoring"):
            raise ValueError(f"{name}: summation_method must be 'interpolation', 'minoring' or 'majoring', "
                             f"got {summation_method!r}")
        n = int(num_thresholds)
        super().__init__([-EPSILON] + [(i + 1) / (n - 1) for i in range(n - 2)] + [1.0 + EPSILON], name)
        self.num_thresholds, self.curve = n, curve.upper()
        self.summation_method, self.from_logits = summation_method, from_logits

    def scores(self, y_pred):
        return ops.sigmoid(y_pred) if self.from_logits else y_pred

    def result(self) -> float:
        tp, fp, fn, tn = self.true_positives, self.false_positives, self.false_negatives, self.true_negatives
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self._interpolated_pr()
        recall = divide_no_nan(tp, ops.add(tp, fn))
        if self.curve == "ROC":
            x, y = divide_no_nan(fp, ops.add(fp, tn)), recall
        else:
            x, y = recall, divide_no_nan(tp, ops.add(tp, fp))
        first, rest = y[:-1], y[1:]
        heights = {"interpolation": lambda: ops.scale(0.5, ops.add(first, rest)),
                   "minoring": lambda: ops.minimum(first, rest),
                   "majoring": lambda: ops.maximum(first, rest)}[self.summation_method]()
        return ops.reduce_sum(ops.multiply(ops.subtract(x[:-1], x[1:]), heights)).item()

    def _interpolated_pr(self) -> float:
        """Keras' interpolate_pr_auc: precision interpolated linearly in the true positives between thresholds."""
        tp, fp, fn = self.true_positives, self.false_positives, self.false_negatives
        dtp = ops.subtract(tp[:-1], tp[1:])
        p = ops.add(tp, fp)
        slope = divide_no_nan(dtp, ops.relu(ops.subtract(p[:-1], p[1:])))
        intercept = ops.subtract(tp[1:], ops.multiply(slope, p[1:]))
        both = ops.logical_and(ops.greater(p[:-1], 0.0), ops.greater(p[1:], 0.0))
        ratio = ops.where(both, divide_no_nan(p[:-1], ops.relu(p[1:])), 1.0)
        increments = divide_no_nan(ops.multiply(slope, ops.add(dtp, ops.multiply(intercept, ops.log(ratio)))),
                                   ops.relu(ops.add(tp[1:], fn[1:])))
        return ops.reduce_sum(increments).item()

    def get_config(self) -> dict:
        return {"num_thresholds": self.num_thresholds, "curve": self.curve,
                "summation_method": self.summation_method, "name": self.name, "from_logits": self.from_logits}


class F1Score(Metric):
    """Keras' F1Score over classes (y_true, y_pred of shape (batch, classes)): y_pred is positive above threshold,
    or (threshold None) where it is its row's maximum (and nonzero). Per-class F1 2 p r / (p + r) with epsilon
    guards; average None (a list per class), "micro" (from the summed counts), "macro" (their mean) or "weighted"
    (by each class's support)."""

    direction = "up"

    def __init__(self, average: str | None = None, threshold: float | None = None, name: str = "f1_score"):
        super().__init__(name)
        if average not in (None, "micro", "macro", "weighted"):
            raise ValueError(f"{name}: average must be None, 'micro', 'macro' or 'weighted', got {average!r}")
        if threshold is not None and not 0.0 < threshold <= 1.0:
            raise ValueError(f"{name}: threshold must lie in (0, 1], got {threshold!r}")
        self.average, self.threshold = average, threshold
        self._counts = None  # (tp, fp, fn, support), made at the first update (the number of classes)

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        y_true, y_pred = _batch(self.name, y_true, y_pred)
        if y_true.shape != y_pred.shape or y_pred.ndim != 2:
            raise ValueError(f"{self.name}: y_true of shape {y_true.shape} and y_pred of shape {y_pred.shape} "
                             f"must both be (batch, classes)")
        y_pred, y_true = ops.cast(y_pred, FLOAT64), ops.cast(y_true, FLOAT64)
        if self.threshold is None:
            predicted = ops.logical_and(ops.greater_equal(y_pred, ops.reduce_max(y_pred, -1, True)),
                                        ops.greater(ops.abs(y_pred), 1e-9))
        else:
            predicted = ops.greater(y_pred, self.threshold)
        predicted = ops.cast(predicted, FLOAT64)
        if self._counts is None:
            classes = 1 if self.average == "micro" else y_pred.shape[1]
            self._counts = [self.add_variable(n, (classes,)) for n in ("tp", "fp", "fn", "support")]
        axis = None if self.average == "micro" else 0
        weight = None if sample_weight is None else _weights(self.name, sample_weight, y_pred.shape)
        missed = ops.increment(predicted, 1.0, -1.0)
        for count, values in zip(self._counts, (ops.multiply(predicted, y_true),
                                                ops.multiply(predicted, ops.increment(y_true, 1.0, -1.0)),
                                                ops.multiply(missed, y_true), y_true)):
            values = values if weight is None else ops.multiply(values, weight)
            count.assign_add(ops.reshape(ops.reduce_sum(values, axis), count.shape))

    def result(self):
        if self._counts is None:
            return 0.0
        tp, fp, fn, support = self._counts
        precision = ops.divide(tp, ops.increment(ops.add(tp, fp), EPSILON))
        recall = ops.divide(tp, ops.increment(ops.add(tp, fn), EPSILON))
        f1 = ops.scale(2.0, ops.divide(ops.multiply(precision, recall), ops.increment(ops.add(precision, recall),
                                                                                       EPSILON)))
        if self.average == "weighted":
            return ops.reduce_sum(ops.multiply(f1, ops.divide(support, ops.increment(ops.reduce_sum(support),
                                                                                     EPSILON)))).item()
        return f1.tolist() if self.average is None else ops.reduce_mean(f1).item()

    def get_config(self) -> dict:
        return {"average": self.average, "threshold": self.threshold, "name": self.name}


ALIASES = {"sparse_categorical_accuracy": SparseCategoricalAccuracy, "categorical_accuracy": CategoricalAccuracy,
           "binary_accuracy": BinaryAccuracy, "mean_squared_error": MeanSquaredError, "mse": MeanSquaredError,
           "mean_absolute_error": MeanAbsoluteError, "mae": MeanAbsoluteError, "auc": AUC, "precision": Precision,
           "recall": Recall, "top_k_categorical_accuracy": TopKCategoricalAccuracy, "f1_score": F1Score}


def get(identifier, loss=None, y_true=None, y_pred=None):
    """A metric object; "accuracy" is resolved from the loss (or else the shapes), as Keras does."""
    if isinstance(identifier, Metric):
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

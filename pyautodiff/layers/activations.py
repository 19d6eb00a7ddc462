"""The activation layers with arguments, as Keras 3's: LeakyReLU, ELU, ReLU and Softmax (which takes a mask)."""

import numbers
import warnings

from .. import ops
from .base import Layer


def _number(layer: Layer, what: str, value, minimum: float | None = 0.0) -> float:
    """A layer's numeric argument as a float, at least minimum (None: any)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or (minimum is not None and value < minimum):
        raise ValueError(f"{type(layer).__name__} {layer.name!r}: {what} must be a number"
                         f"{f' >= {minimum}' if minimum is not None else ''}, got {value!r}")
    return float(value)


class LeakyReLU(Layer):
    """x where x >= 0, else negative_slope * x (Keras' default slope 0.3; `alpha=` is its deprecated name)."""

    def __init__(self, negative_slope: float = 0.3, **kwargs):
        if "alpha" in kwargs:
            negative_slope = kwargs.pop("alpha")
            warnings.warn("LeakyReLU: argument `alpha` is deprecated, use `negative_slope`", stacklevel=2)
        super().__init__(**kwargs)
        self.negative_slope = _number(self, "negative_slope", negative_slope)

    def call(self, inputs, training=False):
        return ops.leaky_relu(inputs, self.negative_slope)

    def get_config(self):
        return {**super().get_config(), "negative_slope": self.negative_slope}


class ELU(Layer):
    """x where x > 0, else alpha * (exp(x) - 1)."""

    def __init__(self, alpha: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        self.alpha = _number(self, "alpha", alpha, None)

    def call(self, inputs, training=False):
        return ops.elu(inputs, self.alpha)

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha}


class ReLU(Layer):
    """Keras' ReLU: max_value where x >= max_value, x where threshold <= x < max_value, else
    negative_slope * (x - threshold)."""

    def __init__(self, max_value: float | None = None, negative_slope: float = 0.0, threshold: float = 0.0,
                 **kwargs):
        super().__init__(**kwargs)
        self.max_value = None if max_value is None else _number(self, "max_value", max_value)
        self.negative_slope = _number(self, "negative_slope", negative_slope)
        self.threshold = _number(self, "threshold", threshold)

    def call(self, inputs, training=False):
        x, slope, top, threshold = inputs, self.negative_slope, self.max_value, self.threshold
        if top is None and threshold == 0.0:
            return ops.leaky_relu(x, slope) if slope else ops.relu(x)
        kept = ops.where(ops.greater(x, threshold), x, 0.0) if threshold else ops.relu(x)
        if top is not None:
            kept = ops.clip_by_value(kept, 0.0, top)
        return ops.subtract(kept, ops.scale(slope, ops.relu(ops.increment(x, threshold, -1.0)))) if slope else kept

    def get_config(self):
        return {**super().get_config(), "max_value": self.max_value, "negative_slope": self.negative_slope,
                "threshold": self.threshold}


class Softmax(Layer):
    """softmax along axis (an int or a tuple of axes); called with mask= (1 keeps, 0 masks; broadcast to the
    inputs), masked positions get 0, as in Keras."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, (list, tuple)):
            axis = tuple(axis)
            if not axis or not all(isinstance(a, int) and not isinstance(a, bool) for a in axis):
                raise ValueError(f"Softmax {self.name!r}: axis must be an int or a non-empty tuple of ints, "
                                 f"got {axis!r}")
        elif isinstance(axis, bool) or not isinstance(axis, int):
            raise ValueError(f"Softmax {self.name!r}: axis must be an int or a tuple of ints, got {axis!r}")
        self.axis = axis

    def call(self, inputs, mask=None):
        return ops.softmax(inputs, self.axis, mask)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}

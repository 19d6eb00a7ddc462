"""ZeroPadding2D, UpSampling2D and Reshape, as Keras 3 names and configures them (channels-last)."""

import math
import numbers

from .. import ops
from .base import Layer
from .conv import channels_last, check_rank, standardize_tuple


class ZeroPadding2D(Layer):
    """padding: an int (every side), (symmetric_height, symmetric_width) or ((top, bottom), (left, right))."""

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = channels_last(self, data_format)
        if isinstance(padding, numbers.Integral):
            padding = (padding, padding)
        if not isinstance(padding, (list, tuple)) or len(padding) != 2:
            raise ValueError(f"ZeroPadding2D {self.name!r}: padding must be an int, a tuple of 2 ints or a tuple of "
                             f"2 tuples of 2 ints ((top, bottom), (left, right)), got {padding!r}")
        self.padding = tuple(standardize_tuple(self, p, 2, "each entry of padding", low=0) for p in padding)

    def call(self, inputs, training=False):
        check_rank(self, inputs.shape, 2)
        return ops.pad(inputs, ((0, 0),) + self.padding + ((0, 0),))

    def compute_output_shape(self, input_shape):
        check_rank(self, input_shape, 2)
        return (input_shape[0],) + tuple(None if n is None else n + sum(p) for n, p in
                                         zip(input_shape[1:3], self.padding)) + (input_shape[3],)

    def get_config(self):
        return {**super().get_config(), "padding": self.padding, "data_format": self.data_format}


class UpSampling2D(Layer):
    """Each row size[0] times and each column size[1] times (nearest neighbour)."""

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        super().__init__(**kwargs)
        self.data_format = channels_last(self, data_format)
        self.size = standardize_tuple(self, size, 2, "size")
        self.interpolation = interpolation.lower() if isinstance(interpolation, str) else interpolation
        if self.interpolation != "nearest":
            raise ValueError(f"UpSampling2D {self.name!r}: only interpolation='nearest' is supported, got "
                             f"interpolation={interpolation!r}")

    def call(self, inputs, training=False):
        check_rank(self, inputs.shape, 2)
        return ops.upsampling(inputs, self.size)

    def compute_output_shape(self, input_shape):
        check_rank(self, input_shape, 2)
        return (input_shape[0],) + tuple(None if n is None else n * s for n, s in
                                         zip(input_shape[1:3], self.size)) + (input_shape[3],)

    def get_config(self):
        return {**super().get_config(), "size": self.size, "data_format": self.data_format,
                "interpolation": self.interpolation}


class Reshape(Layer):
    """Each sample to target_shape (without the batch axis); one entry may be -1 (inferred)."""

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        try:
            target_shape = tuple(target_shape)
        except TypeError:
            target_shape = None
        if target_shape is None or target_shape.count(-1) > 1 or not all(
                isinstance(d, numbers.Integral) and not isinstance(d, bool) and (d > 0 or d == -1)
                for d in target_shape):
            raise ValueError(f"Reshape {self.name!r}: target_shape must be a tuple of positive ints with at most "
                             f"one -1, got {target_shape!r}")
        self.target_shape = tuple(int(d) for d in target_shape)

    def _resolve(self, shape) -> tuple:
        """target_shape with its -1 worked out for samples of this shape (None when a size is unknown)."""
        if None in shape:
            return tuple(None if d == -1 else d for d in self.target_shape)
        size, known = math.prod(shape), math.prod(d for d in self.target_shape if d != -1)
        if size % known if -1 in self.target_shape else size != known:
            raise ValueError(f"Reshape {self.name!r}: cannot reshape samples of shape {tuple(shape)} ({size} "
                             f"elements) to {self.target_shape}")
        return tuple(size // known if d == -1 else d for d in self.target_shape)

    def call(self, inputs, training=False):
        if inputs.ndim < 1:
            raise ValueError(f"Reshape {self.name!r}: expects a batch of inputs, got a scalar")
        return ops.reshape(inputs, (inputs.shape[0],) + self._resolve(inputs.shape[1:]))

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + self._resolve(tuple(input_shape[1:]))

    def get_config(self):
        return {**super().get_config(), "target_shape": self.target_shape}

"""Pooling layers as Keras 3 names and configures them, channels-last: MaxPooling1D/2D/3D, AveragePooling1D/2D/3D,
GlobalAveragePooling1D/2D/3D, GlobalMaxPooling1D/2D/3D (the pooling ops of ops/pool.py do the math)."""

from .. import ops
from ..tensor import as_tensor
from .base import Layer
from .conv import channels_last, check_rank, standardize_padding, standardize_tuple, window_length


class _Pooling(Layer):
    """Windows of pool_size every strides (pool_size when None); a subclass gives rank and mode."""

    rank, mode = 2, "max"

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.pool_size = standardize_tuple(self, pool_size, self.rank, "pool_size")
        self.strides = self.pool_size if strides is None else standardize_tuple(self, strides, self.rank, "strides")
        self.padding = standardize_padding(self, padding)
        self.data_format = channels_last(self, data_format)

    def call(self, inputs, training=False):
        check_rank(self, inputs.shape, self.rank)
        return getattr(ops, f"{self.mode}_pool{self.rank}d")(inputs, self.pool_size, self.strides, self.padding)

    def compute_output_shape(self, input_shape):
        check_rank(self, input_shape, self.rank)
        return (input_shape[0],) + tuple(window_length(self, n, p, s, self.padding) for n, p, s in
                                         zip(input_shape[1:-1], self.pool_size, self.strides)) + (input_shape[-1],)

    def get_config(self):
        return {**super().get_config(), "pool_size": self.pool_size, "padding": self.padding, "strides": self.strides,
                "data_format": self.data_format}


class MaxPooling1D(_Pooling):
    rank, mode = 1, "max"


class MaxPooling2D(_Pooling):
    rank, mode = 2, "max"


class MaxPooling3D(_Pooling):
    rank, mode = 3, "max"


class AveragePooling1D(_Pooling):
    rank, mode = 1, "avg"


class AveragePooling2D(_Pooling):
    rank, mode = 2, "avg"


class AveragePooling3D(_Pooling):
    rank, mode = 3, "avg"


class _GlobalPooling(Layer):
    """The mean or max over the spatial axes: (batch, channels), or (batch, 1, ..., 1, channels) with keepdims."""

    rank, mode = 2, "max"

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = channels_last(self, data_format)
        self.keepdims = bool(keepdims)

    def call(self, inputs, training=False):
        check_rank(self, inputs.shape, self.rank)
        return getattr(ops, f"global_{self.mode}_pool{self.rank}d")(inputs, self.keepdims)

    def compute_output_shape(self, input_shape):
        check_rank(self, input_shape, self.rank)
        return (input_shape[0],) + ((1,) * self.rank if self.keepdims else ()) + (input_shape[-1],)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format, "keepdims": self.keepdims}


class GlobalMaxPooling1D(_GlobalPooling):
    rank, mode = 1, "max"


class GlobalMaxPooling2D(_GlobalPooling):
    rank, mode = 2, "max"


class GlobalMaxPooling3D(_GlobalPooling):
    rank, mode = 3, "max"


class GlobalAveragePooling1D(_GlobalPooling):
    """With a mask (batch, steps), e.g. from Embedding(mask_zero=True), the mean over the unmasked steps only, as
    Keras (a row with every step masked gives NaN, as there)."""

    rank, mode = 1, "avg"

    def call(self, inputs, training=False, mask=None):
        if mask is None:
            return super().call(inputs)
        check_rank(self, inputs.shape, self.rank)
        mask = ops.cast(as_tensor(mask, None, self.name), inputs.dtype)
        if mask.shape != inputs.shape[:2]:
            raise ValueError(f"GlobalAveragePooling1D {self.name!r}: mask must have shape {inputs.shape[:2]} "
                             f"(batch, steps), got {mask.shape}")
        weights = ops.expand_dims(mask, -1)
        total = ops.reduce_sum(ops.multiply(inputs, weights), axis=1, keepdims=self.keepdims)
        return ops.divide(total, ops.reduce_sum(weights, axis=1, keepdims=self.keepdims))


class GlobalAveragePooling2D(_GlobalPooling):
    rank, mode = 2, "avg"


class GlobalAveragePooling3D(_GlobalPooling):
    rank, mode = 3, "avg"

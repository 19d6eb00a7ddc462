"""ZeroPadding1D/2D/3D, Cropping1D/2D/3D, UpSampling1D/2D/3D and Reshape, as Keras 3 names and configures them
(channels-last)."""

import math
import numbers

from .. import ops
from .base import Layer
from .conv import channels_last, check_rank, standardize_tuple


def side_pairs(layer, value, rank: int, what: str) -> tuple:
    """(before, after) per spatial axis from an int (every side), `rank` ints (both sides of each axis) or `rank`
    pairs; in 1-d from an int or one (before, after) pair, as Keras' ZeroPadding/Cropping take them."""
    if rank == 1:
        return (standardize_tuple(layer, value, 2, what, low=0),)
    if isinstance(value, numbers.Integral):
        value = (value,) * rank
    if not isinstance(value, (list, tuple)) or len(value) != rank:
        raise ValueError(f"{type(layer).__name__} {layer.name!r}: {what} must be an int, a tuple of {rank} ints or a "
                         f"tuple of {rank} (before, after) tuples of ints, got {value!r}")
    return tuple(standardize_tuple(layer, p, 2, f"each entry of {what}", low=0) for p in value)


class _Spatial(Layer):
    """A reshaping of each spatial axis of (batch, *spatial, channels) inputs; a subclass gives rank, the
    constructor argument it keeps (arg: Keras' name; data_format too unless has_data_format is False, as in Keras'
    Cropping1D and UpSampling1D), _length(axis, n) and call."""

    rank, arg, has_data_format = 2, "padding", True

    def __init__(self, data_format, **kwargs):
        super().__init__(**kwargs)
        self.data_format = channels_last(self, data_format)

    def compute_output_shape(self, input_shape):
        check_rank(self, input_shape, self.rank)
        return (input_shape[0],) + tuple(None if n is None else self._length(axis, n)
                                         for axis, n in enumerate(input_shape[1:-1])) + (input_shape[-1],)

    def get_config(self):
        return {**super().get_config(), self.arg: getattr(self, self.arg),
                **({"data_format": self.data_format} if self.has_data_format else {})}


class _Sides(_Spatial):
    """ZeroPadding and Cropping: rows added (sign 1) or removed (sign -1) before and after each spatial axis."""

    sign = 1

    def __init__(self, value, data_format=None, **kwargs):
        super().__init__(data_format, **kwargs)
        self._pairs = side_pairs(self, value, self.rank, self.arg)
        setattr(self, self.arg, self._pairs[0] if self.rank == 1 else self._pairs)

    def _length(self, axis, n):
        length = n + self.sign * sum(self._pairs[axis])
        if length <= 0:
            raise ValueError(f"{type(self).__name__} {self.name!r}: cropping {self._pairs[axis]} leaves nothing of "
                             f"spatial axis {axis + 1} of length {n}")
        return length

    def call(self, inputs, training=False):
        shape = self.compute_output_shape(inputs.shape)
        if self.sign > 0:
            return ops.pad(inputs, ((0, 0),) + self._pairs + ((0, 0),))
        return inputs[(slice(None),) + tuple(slice(b, b + n) for (b, _), n in zip(self._pairs, shape[1:-1]))]


class ZeroPadding1D(_Sides):
    """padding: an int (both sides) or (before, after)."""

    rank = 1

    def __init__(self, padding=1, data_format=None, **kwargs):
        super().__init__(padding, data_format, **kwargs)


class ZeroPadding2D(_Sides):
    """padding: an int (every side), (symmetric_height, symmetric_width) or ((top, bottom), (left, right))."""

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(padding, data_format, **kwargs)


class ZeroPadding3D(_Sides):
    """padding: an int (every side), 3 ints (both sides of each axis) or 3 (before, after) pairs."""

    rank = 3

    def __init__(self, padding=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(padding, data_format, **kwargs)


class Cropping1D(_Sides):
    """cropping: an int (both ends) or (start, end): the rows removed from the spatial axis."""

    rank, arg, sign, has_data_format = 1, "cropping", -1, False

    def __init__(self, cropping=(1, 1), **kwargs):
        super().__init__(cropping, **kwargs)


class Cropping2D(_Sides):
    """cropping: an int (every side), (symmetric_height, symmetric_width) or ((top, bottom), (left, right))."""

    arg, sign = "cropping", -1

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(cropping, data_format, **kwargs)


class Cropping3D(_Sides):
    """cropping: an int (every side), 3 ints (both sides of each axis) or 3 (before, after) pairs."""

    rank, arg, sign = 3, "cropping", -1

    def __init__(self, cropping=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(cropping, data_format, **kwargs)


class _UpSampling(_Spatial):
    """Each element repeated size[i] times along spatial axis i (nearest neighbour)."""

    arg = "size"

    def __init__(self, size, data_format=None, **kwargs):
        super().__init__(data_format, **kwargs)
        self._sizes = standardize_tuple(self, size, self.rank, "size")
        self.size = self._sizes[0] if self.rank == 1 else self._sizes

    def _length(self, axis, n):
        return n * self._sizes[axis]

    def call(self, inputs, training=False):
        check_rank(self, inputs.shape, self.rank)
        return ops.upsampling(inputs, self._sizes)


class UpSampling1D(_UpSampling):
    """size: an int, the repeats of each step."""

    rank, has_data_format = 1, False

    def __init__(self, size=2, **kwargs):
        if not isinstance(size, numbers.Integral) or isinstance(size, bool):
            raise TypeError(f"UpSampling1D: size must be an int, got {size!r}")
        super().__init__(size, **kwargs)


class UpSampling2D(_UpSampling):
    """size: an int or (rows, columns); interpolation 'nearest' only."""

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        super().__init__(size, data_format, **kwargs)
        self.interpolation = interpolation.lower() if isinstance(interpolation, str) else interpolation
        if self.interpolation != "nearest":
            raise ValueError(f"UpSampling2D {self.name!r}: only interpolation='nearest' is supported, got "
                             f"interpolation={interpolation!r}")

    def get_config(self):
        return {**super().get_config(), "interpolation": self.interpolation}


class UpSampling3D(_UpSampling):
    """size: an int or 3 ints."""

    rank = 3

    def __init__(self, size=(2, 2, 2), data_format=None, **kwargs):
        super().__init__(size, data_format, **kwargs)


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

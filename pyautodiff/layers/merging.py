"""Merge layers, as Keras 3 names them: a list of tensors in, one tensor out (Concatenate, Add, Subtract,
Multiply, Average, Maximum, Minimum, Dot). Usable in functional models and called on lists of tensors."""

import numbers

from .. import ops
from .base import Layer


class Merge(Layer):
    """Elementwise merges: inputs of lower rank gain axes after the batch axis (Keras' rule), then the
    sizes broadcast."""

    min_inputs, max_inputs = 1, None

    def _check(self, shapes) -> list:
        if not isinstance(shapes, (list, tuple)) or not all(isinstance(s, tuple) for s in shapes):
            raise ValueError(f"{type(self).__name__} {self.name!r}: expects a list of tensors, got {shapes!r}")
        if not (self.min_inputs <= len(shapes) <= (self.max_inputs or len(shapes))):
            many = self.min_inputs if self.max_inputs is None else self.max_inputs
            raise ValueError(f"{type(self).__name__} {self.name!r}: expects {'at least ' if self.max_inputs is None else ''}"
                             f"{many} inputs, got {len(shapes)}")
        return list(shapes)

    def compute_output_shape(self, input_shape):
        shapes = self._check(input_shape)
        rank = max(len(s) for s in shapes)
        out = []
        for dims in zip(*(s[:1] + (1,) * (rank - len(s)) + s[1:] for s in shapes)):
            known = {d for d in dims if d is not None and d != 1}
            if len(known) > 1:
                raise ValueError(f"{type(self).__name__} {self.name!r}: cannot merge inputs of shapes {shapes}")
            out.append(known.pop() if known else (None if None in dims else 1))
        return tuple(out)

    def call(self, inputs, training=False):
        self.compute_output_shape([x.shape for x in self._check_tensors(inputs)])
        rank = max(x.ndim for x in inputs)
        xs = [ops.reshape(x, x.shape[:1] + (1,) * (rank - x.ndim) + x.shape[1:]) for x in inputs]
        return self._merge(xs)

    def _check_tensors(self, inputs) -> list:
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(f"{type(self).__name__} {self.name!r}: expects a list of tensors, got "
                             f"{type(inputs).__name__}")
        return list(inputs)

    def _merge(self, xs):
        out = xs[0]
        for x in xs[1:]:
            out = self.combine(out, x)
        return out


class Add(Merge):
    combine = staticmethod(ops.add)


class Subtract(Merge):
    min_inputs = max_inputs = 2
    combine = staticmethod(ops.subtract)


class Multiply(Merge):
    combine = staticmethod(ops.multiply)


class Maximum(Merge):
    combine = staticmethod(ops.maximum)


class Minimum(Merge):
    combine = staticmethod(ops.minimum)


class Average(Merge):
    combine = staticmethod(ops.add)

    def _merge(self, xs):
        return ops.scale(1.0 / len(xs), super()._merge(xs))


class Concatenate(Merge):
    """Along axis (-1: the last); the other sizes must agree."""

    def __init__(self, axis: int = -1, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(axis, numbers.Integral) or isinstance(axis, bool):
            raise TypeError(f"Concatenate {self.name!r}: axis must be an int, got {axis!r}")
        self.axis = int(axis)

    def compute_output_shape(self, input_shape):
        shapes = self._check(input_shape)
        rank = len(shapes[0])
        if any(len(s) != rank for s in shapes) or not -rank <= self.axis < rank or self.axis % rank == 0:
            raise ValueError(f"Concatenate {self.name!r}: cannot join inputs of shapes {shapes} along axis "
                             f"{self.axis} (same rank, a non-batch axis)")
        axis = self.axis % rank
        out = []
        for i, dims in enumerate(zip(*shapes)):
            if i == axis:
                out.append(None if None in dims else sum(dims))
                continue
            known = {d for d in dims if d is not None}
            if len(known) > 1:
                raise ValueError(f"Concatenate {self.name!r}: inputs of shapes {shapes} differ along axis {i}, "
                                 f"not only along the joined axis {self.axis}")
            out.append(known.pop() if known else None)
        return tuple(out)

    def call(self, inputs, training=False):
        inputs = self._check_tensors(inputs)
        self.compute_output_shape([x.shape for x in inputs])
        return ops.concat(inputs, self.axis % inputs[0].ndim)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


class Dot(Merge):
    """The dot product of two inputs' samples along axes (one int for both, or one per input); normalize
    makes them unit vectors along those axes first (the cosine). Inputs of rank 2 or 3 (batch first); the
    output is the remaining axes of the first then of the second, (batch, 1) when none remain."""

    min_inputs = max_inputs = 2

    def __init__(self, axes, normalize: bool = False, **kwargs):
        super().__init__(**kwargs)
        pair = (axes, axes) if isinstance(axes, numbers.Integral) else tuple(axes) if isinstance(
            axes, (list, tuple)) else ()
        if len(pair) != 2 or not all(isinstance(a, numbers.Integral) and not isinstance(a, bool) for a in pair):
            raise TypeError(f"Dot {self.name!r}: axes must be an int or a pair of ints, got {axes!r}")
        self.axes = axes if isinstance(axes, numbers.Integral) else tuple(pair)
        self._pair = tuple(int(a) for a in pair)
        self.normalize = bool(normalize)

    def _resolve(self, shapes) -> tuple:
        """The two contracted axes as positive ints, checked."""
        shapes = self._check(shapes)
        if any(len(s) not in (2, 3) for s in shapes):
            raise ValueError(f"Dot {self.name!r}: supports inputs of rank 2 or 3 (batch first), got shapes {shapes}")
        axes = tuple(a % len(s) if -len(s) <= a < len(s) else -1 for a, s in zip(self._pair, shapes))
        if any(a <= 0 for a in axes):
            raise ValueError(f"Dot {self.name!r}: axes {self.axes} must name non-batch axes of inputs of shapes "
                             f"{shapes}")
        (s1, s2), (a1, a2) = shapes, axes
        if None not in (s1[a1], s2[a2]) and s1[a1] != s2[a2] or None not in (s1[0], s2[0]) and s1[0] != s2[0]:
            raise ValueError(f"Dot {self.name!r}: inputs of shapes {shapes} differ in the batch size or along the "
                             f"contracted axes {axes}")
        return axes

    def compute_output_shape(self, input_shape):
        (a1, a2), (s1, s2) = self._resolve(input_shape), input_shape
        out = s1[:a1] + s1[a1 + 1:] + s2[1:a2] + s2[a2 + 1:]
        return out if len(out) > 1 else out + (1,)

    def call(self, inputs, training=False):
        x, y = self._check_tensors(inputs)
        a1, a2 = self._resolve([x.shape, y.shape])
        if self.normalize:
            x, y = _l2_normalize(x, a1), _l2_normalize(y, a2)
        # as a batched matmul: x to (batch, m, k), y to (batch, k, p)
        x3 = ops.expand_dims(x, 1) if x.ndim == 2 else x if a1 == 2 else ops.transpose(x, (0, 2, 1))
        y3 = ops.expand_dims(y, 2) if y.ndim == 2 else y if a2 == 1 else ops.transpose(y, (0, 2, 1))
        out = ops.matmul(x3, y3)
        return ops.reshape(out, (x.shape[0],) + self.compute_output_shape([x.shape, y.shape])[1:])

    def get_config(self):
        return {**super().get_config(), "axes": self.axes, "normalize": self.normalize}


def _l2_normalize(x, axis: int):
    """x / sqrt(max(sum(x^2), 1e-12)) along axis, as Keras' normalize."""
    return ops.div(x, ops.sqrt(ops.maximum(ops.reduce_sum(ops.square(x), axis, keepdims=True), 1e-12)))

"""The op table. Each op is defined once, next to its vjp, in one of the grouped modules."""

# (names imported here and not used are exported through __all__ at the end)
from ..tape import stop_gradient  # noqa: F401
from ..tensor import Tensor, array, as_tensor, full, ones, ones_like, zeros, zeros_like  # noqa: F401
from ._core import ACTIVATIONS, OPS, PUBLIC  # noqa: F401
from .elementwise import *  # noqa: F401,F403 - its rows, exported by name (elementwise.__all__)
from .elementwise import unbroadcast
from .matmul import matmul
from .reduce import argmax, log_softmax, reduce_max, reduce_mean, reduce_min, reduce_sum, softmax
from .shape import (broadcast_to, cast, concat, copy, expand_dims, gather, getitem, one_hot, repeat, reshape,
                    scatter_add, shape, split, squeeze, stack, transpose, write_into)

sub, mul, div = subtract, multiply, divide


def _swap(fn):
    return lambda self, other: fn(other, self)


def _compare(fn):
    def method(self, other):
        try:
            return fn(self, other)
        except (TypeError, ValueError):
            if isinstance(other, (int, float, list, tuple, Tensor)) or hasattr(other, "__array_interface__"):
                raise
            return NotImplemented
    return method


Tensor.__add__, Tensor.__radd__ = add, _swap(add)
Tensor.__sub__, Tensor.__rsub__ = subtract, _swap(subtract)
Tensor.__mul__, Tensor.__rmul__ = multiply, _swap(multiply)
Tensor.__truediv__, Tensor.__rtruediv__ = divide, _swap(divide)
Tensor.__pow__, Tensor.__rpow__ = pow, _swap(pow)
Tensor.__matmul__, Tensor.__rmatmul__ = matmul, _swap(matmul)
Tensor.__neg__ = negative
Tensor.__abs__ = abs
Tensor.__getitem__ = getitem
Tensor.__eq__, Tensor.__ne__ = _compare(equal), _compare(not_equal)
Tensor.__lt__, Tensor.__le__ = _compare(less), _compare(less_equal)
Tensor.__gt__, Tensor.__ge__ = _compare(greater), _compare(greater_equal)

from . import nn  # noqa: E402 - the model layer's fused ops (dense, cross-entropies, dropout) build on the above

NON_DIFFERENTIABLE = {name for name, op in OPS.items() if op.vjp is None}

# what `import pyautodiff` exports (docs/api.md documents each): the rows registered as public, and the ops below
# them that are not rows yet;
# internals (write_into, scatter_add, unbroadcast, the table itself) stay in this package
__all__ = sorted(set(PUBLIC) | {
    "Tensor", "argmax", "array", "broadcast_to", "cast", "concat", "copy", "div", "expand_dims", "full", "gather",
    "log_softmax", "matmul", "mul", "one_hot", "ones", "ones_like", "reduce_max", "reduce_mean", "reduce_min",
    "reduce_sum", "repeat", "reshape", "shape", "softmax", "split", "squeeze", "stack", "stop_gradient", "sub",
    "transpose", "zeros", "zeros_like"})

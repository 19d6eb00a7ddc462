"""The op table. Each op is defined once, next to its vjp, in one of the grouped modules."""

from ..tape import stop_gradient
from ..tensor import Tensor, array, as_tensor, full, ones, ones_like, zeros, zeros_like
from ._core import OPS
from .elementwise import (abs, add, add_n, clip_by_value, divide, equal, exp, greater, greater_equal, increment, less,
                          less_equal, log, maximum, minimum, multiply, negative, not_equal, pow, reciprocal, relu,
                          relu_grad, scale, sigmoid, sigmoid_grad, sign, sqrt, square, subtract, tanh, tanh_grad,
                          unbroadcast, where)
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

# what `import pyautodiff` exports: docs/api.md documents each; internals (write_into, scatter_add,
# unbroadcast, the table itself) stay in this package
__all__ = ["Tensor", "abs", "add", "add_n", "argmax", "array", "broadcast_to", "cast", "clip_by_value", "concat",
           "copy", "div", "divide", "equal", "exp", "expand_dims", "full", "gather", "greater", "greater_equal",
           "increment", "less", "less_equal", "log", "log_softmax", "matmul", "maximum", "minimum", "mul",
           "multiply", "negative", "not_equal", "one_hot", "ones", "ones_like", "pow", "reciprocal", "reduce_max",
           "reduce_mean", "reduce_min", "reduce_sum", "relu", "relu_grad", "repeat", "reshape", "scale", "shape",
           "sigmoid", "sigmoid_grad", "sign", "softmax", "split", "sqrt", "square", "squeeze", "stack",
           "stop_gradient", "sub", "subtract", "tanh", "tanh_grad", "transpose", "where", "zeros", "zeros_like"]

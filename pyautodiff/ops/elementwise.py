"""Elementwise ops: unary maps, broadcasting binary maps, where. Each op sits with its vjp."""

from ..dtypes import FLOATS
from ..tensor import Tensor
from ._core import (C, broadcast_shape, broadcast_strides, code, coerce, defop, emit, i64, lib, need_float,
                    out_like, run)
from ._core import as_tensor


# --- unary -------------------------------------------------------------------------------------

def _unary(op, kernel_op: int, x: Tensor, p0: float = 0.0, p1: float = 0.0, floats_only=True, attrs=None):
    if floats_only:
        need_float(op.name, x)
    y = out_like(x.shape, x.dtype)
    run(op.name, (x,), lib.ad_unary, kernel_op, code(x), x.size, x._ptr, y._ptr, p0, p1)
    return emit(op, (x,), y, attrs)


def _x(node):
    return node.inputs[0]


def _y(node):
    return node.outputs[0]


NEGATIVE = defop("negative", lambda g, n, needs: (negative(g),))
ABS = defop("abs", lambda g, n, needs: (multiply(g, sign(_x(n))),))
SQUARE = defop("square", lambda g, n, needs: (multiply(g, scale(2.0, _x(n))),))
SQRT = defop("sqrt", lambda g, n, needs: (divide(g, scale(2.0, _y(n))),))
EXP = defop("exp", lambda g, n, needs: (multiply(g, _y(n)),))
LOG = defop("log", lambda g, n, needs: (divide(g, _x(n)),))
SIGMOID = defop("sigmoid", lambda g, n, needs: (sigmoid_grad(_y(n), g),))
TANH = defop("tanh", lambda g, n, needs: (tanh_grad(_y(n), g),))
RELU = defop("relu", lambda g, n, needs: (relu_grad(_x(n), g),))
SIGN = defop("sign")
AFFINE = defop("affine", lambda g, n, needs: (scale(n.attrs["alpha"], g),))
CLIP = defop("clip_by_value", lambda g, n, needs: (
    multiply(g, multiply(greater_equal(_x(n), n.attrs["lo"]), less_equal(_x(n), n.attrs["hi"]))),))
RECIPROCAL = defop("reciprocal", lambda g, n, needs: (negative(multiply(g, square(_y(n)))),))


def negative(x):
    return _unary(NEGATIVE, C.AD_NEG, as_tensor(x), floats_only=False)


def abs(x):  # noqa: A001 - the API's name
    return _unary(ABS, C.AD_ABS, as_tensor(x), floats_only=False)


def square(x):
    return _unary(SQUARE, C.AD_SQUARE, as_tensor(x), floats_only=False)


def sqrt(x):
    return _unary(SQRT, C.AD_SQRT, as_tensor(x))


def exp(x):
    return _unary(EXP, C.AD_EXP, as_tensor(x))


def log(x):
    return _unary(LOG, C.AD_LOG, as_tensor(x))


def sigmoid(x):
    return _unary(SIGMOID, C.AD_SIGMOID, as_tensor(x))


def tanh(x):
    return _unary(TANH, C.AD_TANH, as_tensor(x))


def relu(x):
    return _unary(RELU, C.AD_RELU, as_tensor(x), floats_only=False)


def sign(x):
    return _unary(SIGN, C.AD_SIGN, as_tensor(x), floats_only=False)


def reciprocal(x):
    return _unary(RECIPROCAL, C.AD_RECIPROCAL, as_tensor(x))


def scale(alpha, x):
    """alpha * x for a Python number alpha."""
    return increment(x, 0.0, alpha)


def increment(x, beta, alpha=1.0):
    """alpha * x + beta for Python numbers alpha, beta."""
    x = as_tensor(x)
    alpha, beta = float(alpha), float(beta)
    return _unary(AFFINE, C.AD_AFFINE, x, alpha, beta, attrs={"alpha": alpha})


def clip_by_value(x, lo, hi):
    x = as_tensor(x)
    lo, hi = float(lo), float(hi)
    if lo > hi:
        raise ValueError(f"clip_by_value: lo ({lo}) must not exceed hi ({hi})")
    return _unary(CLIP, C.AD_CLIP, x, lo, hi, floats_only=False, attrs={"lo": lo, "hi": hi})


# --- binary ------------------------------------------------------------------------------------

def unbroadcast(g: Tensor, shape: tuple) -> Tensor:
    """Sum a broadcast gradient back to an operand's shape (the one place broadcasting is undone)."""
    if g.shape == shape:
        return g
    from .reduce import reduce_sum
    from .shape import reshape
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, d in enumerate(shape) if d == 1 and g.shape[lead + i] != 1)
    return reshape(reduce_sum(g, axes), shape) if axes else reshape(g, shape)


_UNIT = i64((1,))
_BROADCASTS: dict = {}  # (shape a, shape b) -> (shape, ndim, and the int64 arrays the kernel takes)


def _binary(op, kernel_op: int, a, b, floats_only=False):
    if not (isinstance(a, Tensor) and isinstance(b, Tensor) and a.dtype == b.dtype):
        if isinstance(a, Tensor) and a.dtype in FLOATS and type(b) in (int, float):
            b = as_tensor(b, a.dtype)  # x * 2: the cached constant, no dtype search
        elif isinstance(b, Tensor) and b.dtype in FLOATS and type(a) in (int, float):
            a = as_tensor(a, b.dtype)
        else:
            a, b = coerce(op.name, a, b)
    if floats_only:
        need_float(op.name, a, b)
    if a.shape == b.shape:  # the common case: one flat loop
        y = out_like(a.shape, a.dtype)
        run(op.name, (a, b), lib.ad_binary, kernel_op, code(a), 1, i64((a.size,)), a._ptr, _UNIT, b._ptr, _UNIT,
            y._ptr)
        return emit(op, (a, b), y)
    plan = _BROADCASTS.get((a.shape, b.shape))
    if plan is None:
        shape = broadcast_shape(op.name, a.shape, b.shape)
        plan = _BROADCASTS[(a.shape, b.shape)] = (shape, len(shape), i64(shape), broadcast_strides(a.shape, shape),
                                                  broadcast_strides(b.shape, shape))
        if len(_BROADCASTS) > 4096:
            _BROADCASTS.clear()
    shape, ndim, shape64, astrides, bstrides = plan
    y = out_like(shape, a.dtype)
    run(op.name, (a, b), lib.ad_binary, kernel_op, code(a), ndim, shape64, a._ptr, astrides, b._ptr, bstrides, y._ptr)
    return emit(op, (a, b), y)


def _ab(n):
    return n.inputs


def _pair(n, needs, ga, gb):
    """Unbroadcast the wanted gradients; ga/gb are thunks so unwanted ones are never computed."""
    a, b = n.inputs
    return (unbroadcast(ga(), a.shape) if needs[0] else None,
            unbroadcast(gb(), b.shape) if needs[1] else None)


ADD = defop("add", lambda g, n, needs: _pair(n, needs, lambda: g, lambda: g))
SUBTRACT = defop("subtract", lambda g, n, needs: _pair(n, needs, lambda: g, lambda: negative(g)))
MULTIPLY = defop("multiply", lambda g, n, needs: _pair(
    n, needs, lambda: multiply(g, n.inputs[1]), lambda: multiply(g, n.inputs[0])))
DIVIDE = defop("divide", lambda g, n, needs: _pair(
    n, needs, lambda: divide(g, n.inputs[1]), lambda: negative(divide(multiply(g, _y(n)), n.inputs[1]))))
POW = defop("pow", lambda g, n, needs: _pair(
    n, needs,
    lambda: multiply(g, multiply(n.inputs[1], pow(n.inputs[0], subtract(n.inputs[1], 1.0)))),
    # d/db a**b = a**b log a, taken as 0 where a <= 0 (as TensorFlow does)
    lambda: multiply(g, where(greater(n.inputs[0], 0.0),
                              multiply(_y(n), log(maximum(n.inputs[0], 1e-300 if n.inputs[0].dtype == "float64"
                                                                     else 1e-38))), 0.0))))
MAXIMUM = defop("maximum", lambda g, n, needs: _pair(
    n, needs, lambda: multiply(g, greater_equal(*n.inputs)), lambda: multiply(g, less(*n.inputs))))
MINIMUM = defop("minimum", lambda g, n, needs: _pair(
    n, needs, lambda: multiply(g, less_equal(*n.inputs)), lambda: multiply(g, greater(*n.inputs))))
# fused backward rules (y or x, upstream g), with their own vjps for higher orders
SIGMOID_GRAD = defop("sigmoid_grad", lambda gg, n, needs: (
    multiply(gg, multiply(n.inputs[1], increment(n.inputs[0], 1.0, -2.0))) if needs[0] else None,
    sigmoid_grad(n.inputs[0], gg) if needs[1] else None))
TANH_GRAD = defop("tanh_grad", lambda gg, n, needs: (
    multiply(gg, multiply(n.inputs[1], scale(-2.0, n.inputs[0]))) if needs[0] else None,
    tanh_grad(n.inputs[0], gg) if needs[1] else None))
RELU_GRAD = defop("relu_grad", lambda gg, n, needs: (None, relu_grad(n.inputs[0], gg) if needs[1] else None))
COMPARISONS = {name: defop(name) for name in
               ("equal", "not_equal", "less", "less_equal", "greater", "greater_equal")}


def add(a, b):
    return _binary(ADD, C.AD_ADD, a, b)


def subtract(a, b):
    return _binary(SUBTRACT, C.AD_SUB, a, b)


def multiply(a, b):
    return _binary(MULTIPLY, C.AD_MUL, a, b)


def divide(a, b):
    a, b = coerce("divide", a, b)
    if a.dtype not in FLOATS:  # true division, as Python's / on ints
        from .shape import cast
        a, b = cast(a, "float32"), cast(b, "float32")
    return _binary(DIVIDE, C.AD_DIV, a, b)


def pow(a, b):  # noqa: A001 - the API's name
    a, b = coerce("pow", a, b)
    return _binary(POW, C.AD_POW, a, b, floats_only=True)


def maximum(a, b):
    return _binary(MAXIMUM, C.AD_MAXIMUM, a, b)


def minimum(a, b):
    return _binary(MINIMUM, C.AD_MINIMUM, a, b)


def sigmoid_grad(y, g):
    return _binary(SIGMOID_GRAD, C.AD_SIGMOID_GRAD, y, g, floats_only=True)


def tanh_grad(y, g):
    return _binary(TANH_GRAD, C.AD_TANH_GRAD, y, g, floats_only=True)


def relu_grad(x, g):
    return _binary(RELU_GRAD, C.AD_RELU_GRAD, x, g)


def equal(a, b):
    return _binary(COMPARISONS["equal"], C.AD_EQUAL, a, b)


def not_equal(a, b):
    return _binary(COMPARISONS["not_equal"], C.AD_NOT_EQUAL, a, b)


def less(a, b):
    return _binary(COMPARISONS["less"], C.AD_LESS, a, b)


def less_equal(a, b):
    return _binary(COMPARISONS["less_equal"], C.AD_LESS_EQUAL, a, b)


def greater(a, b):
    return _binary(COMPARISONS["greater"], C.AD_GREATER, a, b)


def greater_equal(a, b):
    return _binary(COMPARISONS["greater_equal"], C.AD_GREATER_EQUAL, a, b)


# --- where -------------------------------------------------------------------------------------

WHERE = defop("where", lambda g, n, needs: (
    None,
    unbroadcast(where(n.inputs[0], g, 0.0), n.inputs[1].shape) if needs[1] else None,
    unbroadcast(where(n.inputs[0], 0.0, g), n.inputs[2].shape) if needs[2] else None))


def where(cond, a, b):
    """Elementwise cond != 0 ? a : b, all three broadcasting."""
    cond = as_tensor(cond, None, "where")
    a, b = coerce("where", a, b)
    shape = broadcast_shape("where", cond.shape, a.shape, b.shape)
    y = out_like(shape, a.dtype)
    run("where", (cond, a, b), lib.ad_where, code(a), code(cond), len(shape), i64(shape),
        cond._ptr, broadcast_strides(cond.shape, shape), a._ptr, broadcast_strides(a.shape, shape),
        b._ptr, broadcast_strides(b.shape, shape), y._ptr)
    return emit(WHERE, (cond, a, b), y)


def add_n(values):
    """The sum of a list of tensors of one shape."""
    values = list(values)
    if not values:
        raise ValueError("add_n: expects a non-empty list of tensors")
    total = values[0]
    for v in values[1:]:
        total = add(total, v)
    return total

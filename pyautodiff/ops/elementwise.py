"""Elementwise ops: unary maps, broadcasting binary maps, where. One row per op, its vjp beside it.

A row names its op as the C row does (csrc/elementwise.c; the activations in csrc/internal.h), and the
kernel id comes from that name: a new elementwise op is its C row and its row here.
"""

import math
import numbers

from .. import _backend as B
from ..dtypes import ALL_FLOATS, BOOL, FLOAT32, FLOATS, INT64, INTS
from ..tensor import Tensor
from ._core import (ACTIVATIONS, EXPORTED, GRAD_DY, as_tensor, broadcast_shape, broadcast_strides, code, defop, emit,
                    i64, lib, need_float, out_like, public, register, run)
from .shape import cast, coerce, unbroadcast


# --- unary -------------------------------------------------------------------------------------

def _apply_unary(op, kid: int, x: Tensor, p0: float = 0.0, p1: float = 0.0, attrs=None):
    y = out_like(x.shape, x.dtype)
    run(op.name, (x,), lib.ad_unary, kid, code(x), x.size, x._ptr, y._ptr, p0, p1)
    return emit(op, (x,), y, attrs)


def unary(name: str, vjp=None):
    """The op `name` of one tensor (vjp None: not differentiable), exported."""
    op, kid = defop(name, vjp), B.UNARY[name]

    def apply(x):
        return _apply_unary(op, kid, as_tensor(x))
    apply.__name__ = apply.__qualname__ = name
    return public(apply)


def _x(node):
    return node.inputs[0]


def _y(node):
    return node.outputs[0]


negative = unary("negative", lambda g, n, needs: (negative(g),))
abs = unary("abs", lambda g, n, needs: (multiply(g, sign(_x(n))),))  # noqa: A001 - the API's name
square = unary("square", lambda g, n, needs: (multiply(g, scale(2.0, _x(n))),))
sqrt = unary("sqrt", lambda g, n, needs: (divide(g, scale(2.0, _y(n))),))
exp = unary("exp", lambda g, n, needs: (multiply(g, _y(n)),))
log = unary("log", lambda g, n, needs: (divide(g, _x(n)),))
log1p = unary("log1p", lambda g, n, needs: (divide(g, increment(_x(n), 1.0)),))
expm1 = unary("expm1", lambda g, n, needs: (multiply(g, increment(_y(n), 1.0)),))
sign = unary("sign")
reciprocal = unary("reciprocal", lambda g, n, needs: (negative(multiply(g, square(_y(n)))),))
sin = unary("sin", lambda g, n, needs: (multiply(g, cos(_x(n))),))
cos = unary("cos", lambda g, n, needs: (negative(multiply(g, sin(_x(n)))),))

AFFINE = defop("affine", lambda g, n, needs: (scale(n.attrs["alpha"], g),))
CLIP = defop("clip_by_value", lambda g, n, needs: (
    where(logical_and(greater_equal(_x(n), n.attrs["lo"]), less_equal(_x(n), n.attrs["hi"])), g, 0.0),))


def _affine(name: str, x, alpha, beta):
    """alpha * x + beta (the affine kernel) for the op `name`, which errors name."""
    x, alpha, beta = as_tensor(x), float(alpha), float(beta)
    need_float(name, x)
    return _apply_unary(AFFINE, B.UNARY["affine"], x, alpha, beta, {"alpha": alpha})


@public
def scale(alpha, x):
    """alpha * x for a Python number alpha."""
    return _affine("scale", x, alpha, 0.0)


@public
def increment(x, beta, alpha=1.0):
    """alpha * x + beta for Python numbers alpha, beta."""
    return _affine("increment", x, alpha, beta)


@public
def clip_by_value(x, lo, hi):
    x = as_tensor(x)
    given = [v.item() if isinstance(v, Tensor) else v for v in (lo, hi)]
    if not all(isinstance(v, numbers.Real) for v in given):
        raise TypeError(f"clip_by_value: lo and hi must be numbers or one-element tensors, got {lo!r} and {hi!r}")
    lo, hi = float(lo), float(hi)
    if lo > hi:
        raise ValueError(f"clip_by_value: lo ({lo}) must not exceed hi ({hi})")
    if x.dtype in INTS and not all(v.is_integer() or math.isinf(v) for v in (lo, hi)):
        x = cast(x, FLOAT32)  # a fractional bound promotes integers, as int32 + 2.5 does (numpy's, PyTorch's)
    elif x.dtype == INT64 and not all(abs(v) <= 2 ** 53 or math.isinf(v) for v in (lo, hi)):
        # the kernel's bounds are doubles, exact up to 2^53: beyond, int64's own maximum and minimum clip exactly
        lo, hi = (min(max(int(g) if math.isfinite(v) else int(math.copysign(2 ** 63, v)), -2 ** 63), 2 ** 63 - 1)
                  for g, v in zip(given, (lo, hi)))
        return minimum(maximum(x, lo), hi)
    return _apply_unary(CLIP, B.UNARY["clip_by_value"], x, lo, hi, {"lo": lo, "hi": hi})


# --- binary ------------------------------------------------------------------------------------

_UNIT = i64((1,))
_BROADCASTS: dict = {}  # (shape a, shape b) -> (shape, ndim, and the int64 arrays the kernel takes)


def _apply_binary(op, kid: int, a, b, out=None):
    """a op b broadcasting; the output has the operands' common dtype, or the dtype out (the predicates' bool)."""
    if not (isinstance(a, Tensor) and isinstance(b, Tensor) and a.dtype == b.dtype):
        if isinstance(a, Tensor) and a.dtype in FLOATS and type(b) in (int, float):
            b = as_tensor(b, a.dtype)  # x * 2: the cached constant, no dtype search
        elif isinstance(b, Tensor) and b.dtype in FLOATS and type(a) in (int, float):
            a = as_tensor(a, b.dtype)
        else:
            a, b = coerce(op.name, a, b)
    if a.shape == b.shape:  # the common case: one flat loop
        y = out_like(a.shape, out or a.dtype)
        run(op.name, (a, b), lib.ad_binary, kid, code(a), 1, i64((a.size,)), a._ptr, _UNIT, b._ptr, _UNIT,
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
    y = out_like(shape, out or a.dtype)
    run(op.name, (a, b), lib.ad_binary, kid, code(a), ndim, shape64, a._ptr, astrides, b._ptr, bstrides, y._ptr)
    return emit(op, (a, b), y)


def binary(name: str, vjp=None, export: bool = True, out=None):
    """The op `name` of two broadcasting tensors (vjp None: not differentiable), exported unless a wrapper
    is; out: the output's dtype when it is not the operands' (a predicate's bool, as its C row says)."""
    op, kid = defop(name, vjp), B.BINARY[name]

    def apply(a, b):
        return _apply_binary(op, kid, a, b, out)
    apply.__name__ = apply.__qualname__ = name
    return public(apply) if export else apply


def _pair(n, needs, ga, gb):
    """Unbroadcast the wanted gradients; ga/gb are thunks so unwanted ones are never computed."""
    a, b = n.inputs
    return (unbroadcast(ga(), a.shape) if needs[0] else None,
            unbroadcast(gb(), b.shape) if needs[1] else None)


add = binary("add", lambda g, n, needs: _pair(n, needs, lambda: g, lambda: g))
subtract = binary("subtract", lambda g, n, needs: _pair(n, needs, lambda: g, lambda: negative(g)))
multiply = binary("multiply", lambda g, n, needs: _pair(
    n, needs, lambda: multiply(g, n.inputs[1]), lambda: multiply(g, n.inputs[0])))
_divide = binary("divide", export=False, vjp=lambda g, n, needs: _pair(
    n, needs, lambda: divide(g, n.inputs[1]), lambda: negative(divide(multiply(g, _y(n)), n.inputs[1]))))
_pow = binary("pow", export=False, vjp=lambda g, n, needs: _pair(
    n, needs,
    lambda: multiply(g, multiply(n.inputs[1], pow(n.inputs[0], subtract(n.inputs[1], 1.0)))),
    # d/db a**b = a**b log a, taken as 0 where a <= 0 (as TensorFlow does)
    lambda: multiply(g, where(greater(n.inputs[0], 0.0),
                              multiply(_y(n), log(maximum(n.inputs[0], 1e-300 if n.inputs[0].dtype == "float64"
                                                                     else 1e-38))), 0.0))))
maximum = binary("maximum", lambda g, n, needs: _pair(
    n, needs, lambda: where(greater_equal(*n.inputs), g, 0.0), lambda: where(less(*n.inputs), g, 0.0)))
minimum = binary("minimum", lambda g, n, needs: _pair(
    n, needs, lambda: where(less_equal(*n.inputs), g, 0.0), lambda: where(greater(*n.inputs), g, 0.0)))
# the predicates: bool from any two numeric tensors (equal and not_equal also from bools)
equal = binary("equal", out=BOOL)
not_equal = binary("not_equal", out=BOOL)
less = binary("less", out=BOOL)
less_equal = binary("less_equal", out=BOOL)
greater = binary("greater", out=BOOL)
greater_equal = binary("greater_equal", out=BOOL)
_logical_and = binary("logical_and", export=False, out=BOOL)
_logical_or = binary("logical_or", export=False, out=BOOL)
_logical_xor = binary("logical_xor", export=False, out=BOOL)


def _truth(x):
    """x as bool: a bool tensor itself, other values tested != 0 (as numpy's logical ops do)."""
    x = as_tensor(x, None, "logical")
    return x if x.dtype == BOOL else cast(x, BOOL)


@public
def logical_and(a, b):
    """Elementwise a and b, broadcasting, as bool (non-bool operands are tested != 0)."""
    return _logical_and(_truth(a), _truth(b))


@public
def logical_or(a, b):
    """Elementwise a or b, as logical_and."""
    return _logical_or(_truth(a), _truth(b))


@public
def logical_xor(a, b):
    """Elementwise a xor b, as logical_and."""
    return _logical_xor(_truth(a), _truth(b))


@public
def logical_not(x):
    """Elementwise not x, as bool."""
    return _logical_xor(_truth(x), True)


@public
def divide(a, b):
    a, b = coerce("divide", a, b)
    if a.dtype not in ALL_FLOATS and a.dtype != BOOL:  # true division, as Python's / on ints (two bools: refused)
        a, b = cast(a, "float32"), cast(b, "float32")
    return _divide(a, b)


@public
def pow(a, b):  # noqa: A001 - the API's name
    return _pow(*coerce("pow", a, b))


# --- activations: the C row gives f and its gradient through y = f(x) (the binary op <name>_grad); the row
# here gives d/dy of that gradient for higher orders (None where it is 0) --------------------------------

def activation(name: str, grad_dy=None):
    """(f, f_grad): the activation `name` and its fused backward f_grad(y, g), both ops, registered by name."""
    def grad_vjp(gg, n, needs):
        y, g = n.inputs
        return (multiply(multiply(gg, g), grad_dy(y)) if needs[0] and grad_dy else None,
                grad(y, gg) if needs[1] else None)
    grad = binary(name + "_grad", grad_vjp)
    f = unary(name, lambda g, n, needs: (grad(_y(n), g),))
    ACTIVATIONS[name] = f
    if grad_dy:
        GRAD_DY[name] = grad_dy
    return f, grad


sigmoid, sigmoid_grad = activation("sigmoid", lambda y: increment(y, 1.0, -2.0))  # d/dy y(1 - y) = 1 - 2y
tanh, tanh_grad = activation("tanh", lambda y: scale(-2.0, y))  # d/dy (1 - y^2) = -2y
relu, relu_grad = activation("relu")
softplus, softplus_grad = activation("softplus", lambda y: exp(negative(y)))  # d/dy (1 - e^-y) = e^-y
selu, selu_grad = activation("selu", lambda y: less_equal(y, 0.0))  # d/dy (y + scale * alpha) = 1 where y <= 0
hard_sigmoid, hard_sigmoid_grad = activation("hard_sigmoid")


# --- smooth ops whose gradient needs x, not only y: the C row gives f(x, p) and f'(x, p) (the unary op
# <name>_derivative), the row here f''(x, p) written with ops, for higher orders (None where it is 0) ---------

def smooth(name: str, second=None):
    """(f, f'): the op `name` of a float tensor x and a number p (its vjp g * f'(x, p)) and its derivative op
    (reachable by name, not exported)."""
    kid, dkid = B.UNARY[name], B.UNARY[name + "_derivative"]
    dop = defop(name + "_derivative", second and (lambda g, n, needs: (multiply(g, second(_x(n), n.attrs["p"])),)))
    op = defop(name, lambda g, n, needs: (multiply(g, derivative(_x(n), n.attrs["p"])),))

    def apply(o, k, x, p):
        x = as_tensor(x)
        need_float(o.name, x)
        return _apply_unary(o, k, x, p, 0.0, {"p": p})

    def f(x, p: float = 0.0):
        return apply(op, kid, x, p)

    def derivative(x, p: float = 0.0):
        return apply(dop, dkid, x, p)
    derivative.__name__ = derivative.__qualname__ = name + "_derivative"
    return f, register(derivative)


def _number(name: str, value, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name}: {what} must be a number, got {type(value).__name__} {value!r}")
    return float(value)


def _gelu_second(x, p):
    if not p:  # (2 - x^2) phi(x), phi(x) = erf'(x / sqrt 2) / (2 sqrt 2) the normal density
        return multiply(increment(square(x), 2.0, -1.0), scale(0.125 ** 0.5, erf_derivative(scale(0.5 ** 0.5, x))))
    # t = tanh(u), u = c (x + k x^3): (1 - t^2) (u' + x (u'' - 2 t u'^2) / 2), u' = c (1 + 3k x^2), u'' = 6 c k x
    c, k = (2 / math.pi) ** 0.5, 0.044715
    t = tanh(scale(c, add(x, scale(k, pow(x, 3.0)))))
    du = increment(square(x), c, 3 * c * k)
    inner = subtract(scale(6 * c * k, x), multiply(scale(2.0, t), square(du)))
    return multiply(increment(square(t), 1.0, -1.0), add(du, multiply(scale(0.5, x), inner)))


def _silu_second(x, p):  # s (1 - s) (2 + x (1 - 2s)), s = sigmoid(x)
    s = sigmoid(x)
    return multiply(sigmoid_grad(s, 1.0), add(multiply(x, increment(s, 1.0, -2.0)), 2.0))


def _mish_second(x, p):  # (1 - t^2) s (2 + x (1 - s - 2 t s)), t = tanh(softplus(x)), s = sigmoid(x)
    t, s = tanh(softplus(x)), sigmoid(x)
    inner = increment(add(s, multiply(scale(2.0, t), s)), 1.0, -1.0)
    return multiply(tanh_grad(t, s), add(multiply(x, inner), 2.0))


_erf, erf_derivative = smooth("erf", lambda x, p: multiply(scale(-2.0, x), erf_derivative(x)))
_gelu, gelu_derivative = smooth("gelu", _gelu_second)
_silu, silu_derivative = smooth("silu", _silu_second)
_mish, mish_derivative = smooth("mish", _mish_second)
_leaky_relu, leaky_relu_derivative = smooth("leaky_relu")
_elu, elu_derivative = smooth("elu", lambda x, p: multiply(elu_derivative(x, p), less_equal(x, 0.0)))


@public
def erf(x):
    """The error function 2/sqrt(pi) * integral of exp(-t^2) from 0 to x."""
    return _erf(x)


@public
def gelu(x, approximate: bool = False):
    """x * Phi(x), Phi the standard normal CDF (Keras' and PyTorch's default); approximate=True: the tanh form
    0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))."""
    return _gelu(x, 1.0 if approximate else 0.0)


@public
def silu(x):
    """x * sigmoid(x) (also called swish)."""
    return _silu(x)


@public
def swish(x):
    """silu's other name."""
    return _silu(x)


@public
def mish(x):
    """x * tanh(softplus(x))."""
    return _mish(x)


@public
def leaky_relu(x, negative_slope: float = 0.2):
    """x where x > 0, else negative_slope * x (Keras 3's default slope 0.2)."""
    return _leaky_relu(x, _number("leaky_relu", negative_slope, "negative_slope"))


@public
def elu(x, alpha: float = 1.0):
    """x where x > 0, else alpha * (exp(x) - 1)."""
    return _elu(x, _number("elu", alpha, "alpha"))


ACTIVATIONS.update(gelu=gelu, silu=silu, swish=silu, mish=mish, leaky_relu=leaky_relu, elu=elu)


def _linear(x):  # (a named function, not a lambda: pickle refers to it by name)
    return x


ACTIVATIONS["linear"] = _linear


# --- where -------------------------------------------------------------------------------------

WHERE = defop("where", lambda g, n, needs: (
    None,
    unbroadcast(where(n.inputs[0], g, 0.0), n.inputs[1].shape) if needs[1] else None,
    unbroadcast(where(n.inputs[0], 0.0, g), n.inputs[2].shape) if needs[2] else None))


@public
def where(cond, a, b):
    """Elementwise cond ? a : b, all three broadcasting; cond is bool, or of any dtype tested != 0."""
    cond = as_tensor(cond, None, "where")
    a, b = coerce("where", a, b)
    shape = broadcast_shape("where", cond.shape, a.shape, b.shape)
    y = out_like(shape, a.dtype)
    run("where", (cond, a, b), lib.ad_where, code(a), code(cond), len(shape), i64(shape),
        cond._ptr, broadcast_strides(cond.shape, shape), a._ptr, broadcast_strides(a.shape, shape),
        b._ptr, broadcast_strides(b.shape, shape), y._ptr)
    return emit(WHERE, (cond, a, b), y)


@public
def add_n(values):
    """The sum of a list of tensors of one shape."""
    values = list(values)
    if not values:
        raise ValueError("add_n: expects a non-empty list of tensors")
    total = values[0]
    for v in values[1:]:
        total = add(total, v)
    return total


__all__ = sorted(n for n in EXPORTED if n in globals())  # the rows above and their wrappers

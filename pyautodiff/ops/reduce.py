"""Reductions over axis sets (sums, means, extremes, products, variances, norms, logsumexp), argmax / argmin,
running sums and products, softmax (with a mask) and log_softmax."""

from ..dtypes import BOOL, INT32
from ..tape import stop_gradient
from ..tensor import shape_size
from ._core import (ACTIVATIONS, C, as_tensor, code, defop, emit, i64, lib, need_float, normalize_axes, normalize_axis,
                    out_like, public, run, view3)
from .elementwise import (_truth, abs, add, divide, equal, exp, greater, less, log, multiply, pow, scale, sqrt,
                          square, subtract, where)
from .shape import _inverse, broadcast_to, cast, reshape, transpose


def _kept(shape, axes):
    return tuple(1 if i in axes else d for i, d in enumerate(shape))


def _grad_to_input(g, node):
    """The upstream gradient of a reduction, broadcast back over the input's shape."""
    x = node.inputs[0]
    return broadcast_to(reshape(g, _kept(x.shape, node.attrs["axes"])), x.shape)


_PLANS: dict = {}  # (op, shape, dtype, axis, keepdims) -> _plan's tuple


def _plan(op, kernel_op: int, x, axis, keepdims: bool, mean: bool):
    """(axes, output shape, count reduced, shape and output strides for the kernel, scale, dtype code): what a call
    with this shape, dtype and axis needs, checked once (kept in _PLANS where the axis is plain ints)"""
    if mean:  # sum, max, min and prod also take int32 (not differentiated)
        need_float(op.name, x)
    axes = normalize_axes(op.name, axis, x)
    kept = _kept(x.shape, axes)
    shape = kept if keepdims else tuple(d for i, d in enumerate(x.shape) if i not in axes)
    count = shape_size([x.shape[a] for a in axes])
    if kernel_op in (C.AD_REDUCE_MAX, C.AD_REDUCE_MIN) and count == 0 and x.size == 0 and shape_size(shape) > 0 \
            and x.dtype != BOOL:  # (any of nothing is False, all of nothing True)
        raise ValueError(f"{op.name}: cannot reduce an empty axis of shape {x.shape}")
    ystrides, step = [0] * x.ndim, 1
    for i in reversed(range(x.ndim)):
        if i not in axes:
            ystrides[i] = step
            step *= x.shape[i]
    factor = (1.0 / count if count else float("nan")) if mean else 1.0  # the mean of nothing is nan
    return axes, shape, count, i64(x.shape), i64(tuple(ystrides)), factor, code(x)


def _reduce(op, kernel_op: int, x, axis, keepdims: bool, mean: bool = False):
    x = as_tensor(x)
    # (an axis of plain ints or None keys the plan: bools, numpy integers and lists are checked on every call)
    plain = axis is None or type(axis) is int or (type(axis) is tuple and all(type(a) is int for a in axis))
    key = (op, x.shape, x.dtype, axis, bool(keepdims)) if plain else None
    plan = _PLANS.get(key) if plain else None
    if plan is None:
        plan = _plan(op, kernel_op, x, axis, keepdims, mean)
        if plain:
            _PLANS[key] = plan
            if len(_PLANS) > 4096:
                _PLANS.clear()
    axes, shape, count, xshape, ystrides, factor, dtype_code = plan
    y = out_like(shape, x.dtype)
    run(op.name, (x,), lib.ad_reduce, kernel_op, dtype_code, x.ndim, xshape, x._ptr, ystrides, y._ptr, factor)
    return emit(op, (x,), y, {"axes": axes, "count": count})


REDUCE_SUM = defop("reduce_sum", lambda g, n, needs: (_grad_to_input(g, n),))
REDUCE_MEAN = defop("reduce_mean", lambda g, n, needs: (
    scale(1.0 / max(n.attrs["count"], 1), _grad_to_input(g, n)),))


def _max_vjp(g, n, needs):
    # the gradient goes to the maximal elements, shared equally between ties (as in TensorFlow)
    x, y = n.inputs[0], n.outputs[0]
    axes = n.attrs["axes"]
    hit = cast(equal(x, broadcast_to(reshape(y, _kept(x.shape, axes)), x.shape)), x.dtype)
    count = reduce_sum(hit, axes, keepdims=True)
    return (multiply(_grad_to_input(g, n), divide(hit, count)),)


REDUCE_MAX = defop("reduce_max", _max_vjp)
REDUCE_MIN = defop("reduce_min", _max_vjp)
REDUCE_ANY = defop("reduce_any")
REDUCE_ALL = defop("reduce_all")


@public
def reduce_any(x, axis=None, keepdims: bool = False):
    """Whether any element along axis is true, as bool (non-bool x is tested != 0, as numpy's any)."""
    return _reduce(REDUCE_ANY, C.AD_REDUCE_MAX, _truth(x), axis, keepdims)


@public
def reduce_all(x, axis=None, keepdims: bool = False):
    """Whether every element along axis is true, as reduce_any."""
    return _reduce(REDUCE_ALL, C.AD_REDUCE_MIN, _truth(x), axis, keepdims)


@public
def reduce_sum(x, axis=None, keepdims: bool = False):
    return _reduce(REDUCE_SUM, C.AD_REDUCE_SUM, x, axis, keepdims)


@public
def reduce_mean(x, axis=None, keepdims: bool = False):
    return _reduce(REDUCE_MEAN, C.AD_REDUCE_SUM, x, axis, keepdims, mean=True)


@public
def reduce_max(x, axis=None, keepdims: bool = False):
    return _reduce(REDUCE_MAX, C.AD_REDUCE_MAX, x, axis, keepdims)


@public
def reduce_min(x, axis=None, keepdims: bool = False):
    return _reduce(REDUCE_MIN, C.AD_REDUCE_MIN, x, axis, keepdims)


def _prod_vjp(g, n, needs):
    # the product of the others, as exclusive running products from both ends: exact where x has zeros
    x, axes = n.inputs[0], n.attrs["axes"]
    perm = tuple(i for i in range(x.ndim) if i not in axes) + axes
    flat = reshape(transpose(x, perm), tuple(x.shape[i] for i in perm[:x.ndim - len(axes)]) + (n.attrs["count"],))
    others = multiply(cumprod(flat, -1, exclusive=True), cumprod(flat, -1, exclusive=True, reverse=True))
    others = transpose(reshape(others, tuple(x.shape[i] for i in perm)), _inverse(perm))
    return (multiply(_grad_to_input(g, n), others),)


REDUCE_PROD = defop("reduce_prod", _prod_vjp)


@public
def reduce_prod(x, axis=None, keepdims: bool = False):
    return _reduce(REDUCE_PROD, C.AD_REDUCE_PROD, x, axis, keepdims)


@public
def reduce_variance(x, axis=None, keepdims: bool = False):
    """The mean squared deviation from the mean (the population variance, as TensorFlow's)."""
    need_float("reduce_variance", as_tensor(x))
    centered = subtract(x, reduce_mean(x, axis, keepdims=True))
    return reduce_mean(square(centered), axis, keepdims)


@public
def reduce_std(x, axis=None, keepdims: bool = False):
    return sqrt(reduce_variance(x, axis, keepdims))


@public
def norm(x, ord="euclidean", axis=None, keepdims: bool = False):  # noqa: A002 - TensorFlow's name
    """tf.norm: a vector norm (axis None: of all the entries; an int: along it) of order "euclidean" (also "fro",
    2), 1, inf or any p > 0; a matrix norm over a pair of axes of order "euclidean"/"fro", 1 (max column sum) or
    inf (max row sum)."""
    x = as_tensor(x)
    need_float("norm", x)
    matrix = isinstance(axis, (list, tuple)) and len(axis) == 2
    if isinstance(axis, (list, tuple)) and not matrix:
        raise ValueError(f"norm: axis must be None, an int or a pair of ints, got {axis!r}")
    axes = normalize_axes("norm", axis, x)
    euclidean = ord in ("euclidean", "fro") or (ord == 2 and not matrix)
    if euclidean:
        return sqrt(reduce_sum(square(x), axes, keepdims))
    if isinstance(ord, str) or isinstance(ord, bool) or not isinstance(ord, (int, float)) or ord <= 0:
        raise ValueError(f"norm: ord must be 'euclidean', 'fro', 1, 2, inf or a number > 0, got {ord!r}")
    if matrix:
        if ord not in (1, float("inf")):
            raise ValueError(f"norm: a matrix norm of ord {ord!r} is not supported (use 'euclidean', 1 or inf)")
        rows, cols = (axis[0] % x.ndim, axis[1] % x.ndim) if x.ndim else axis
        summed, extreme = (rows, cols) if ord == 1 else (cols, rows)
        y = reduce_max(reduce_sum(abs(x), summed, keepdims=True), extreme, keepdims=True)
        return y if keepdims else reshape(y, tuple(d for i, d in enumerate(x.shape) if i not in axes))
    if ord == float("inf"):
        return reduce_max(abs(x), axes, keepdims)
    if ord == 1:
        return reduce_sum(abs(x), axes, keepdims)
    return pow(reduce_sum(pow(abs(x), float(ord)), axes, keepdims), 1.0 / ord)


@public
def logsumexp(x, axis=None, keepdims: bool = False):
    """log(sum(exp(x))) over the axes, computed around the maximum so it neither overflows nor underflows
    (an empty reduction gives -inf, as TensorFlow's)."""
    x = as_tensor(x)
    need_float("logsumexp", x)
    axes = normalize_axes("logsumexp", axis, x)
    if shape_size([x.shape[a] for a in axes]) == 0:
        return log(reduce_sum(exp(x), axes, keepdims))
    # the maximum shifts x and is added back: held constant (its gradient would cancel), and 0 where it is
    # infinite (a row of -inf stays -inf rather than inf - inf)
    top = stop_gradient(reduce_max(x, axes, keepdims=True))
    top = where(less(abs(top), float("inf")), top, 0.0)
    y = add(log(reduce_sum(exp(subtract(x, top)), axes, keepdims=True)), top)
    return y if keepdims else reshape(y, tuple(d for i, d in enumerate(x.shape) if i not in axes))


@public
def reduce_logsumexp(x, axis=None, keepdims: bool = False):
    """logsumexp under TensorFlow's name."""
    return logsumexp(x, axis, keepdims)


def _arg(name: str, kernel, x, axis):
    x = as_tensor(x)
    if x.ndim == 0:
        raise ValueError(f"{name}: expects a tensor of rank >= 1, got a scalar")
    axis = normalize_axis(name, axis, x.ndim, x)
    outer, n, inner = view3(x.shape, axis)
    if n == 0:
        raise ValueError(f"{name}: axis {axis} of shape {x.shape} is empty")
    y = out_like(x.shape[:axis] + x.shape[axis + 1:], INT32)
    run(name, (x,), kernel, code(x), outer, n, inner, x._ptr, y._ptr)
    return y


@public
def argmax(x, axis: int = -1):
    return _arg("argmax", lib.ad_argmax, x, axis)


@public
def argmin(x, axis: int = -1):
    return _arg("argmin", lib.ad_argmin, x, axis)


# --- running sums and products: the vjp of one runs the other way (the product's divides by x, as TensorFlow's)

CUMSUM = defop("cumsum", lambda g, n, needs: (cumsum(g, n.attrs["axis"], n.attrs["exclusive"],
                                                     not n.attrs["reverse"]),))
CUMPROD = defop("cumprod", lambda g, n, needs: (divide(
    cumsum(multiply(g, n.outputs[0]), n.attrs["axis"], n.attrs["exclusive"], not n.attrs["reverse"]),
    n.inputs[0]),))


def _cumulate(op, prod: int, x, axis, exclusive, reverse):
    x = as_tensor(x)
    if x.ndim == 0:
        raise ValueError(f"{op.name}: expects a tensor of rank >= 1, got a scalar")
    axis = normalize_axis(op.name, axis, x.ndim, x)
    exclusive, reverse = bool(exclusive), bool(reverse)
    y = out_like(x.shape, x.dtype)
    run(op.name, (x,), lib.ad_cumulate, prod, int(exclusive), int(reverse), code(x), *view3(x.shape, axis), x._ptr,
        y._ptr)
    return emit(op, (x,), y, {"axis": axis, "exclusive": exclusive, "reverse": reverse})


@public
def cumsum(x, axis: int = 0, exclusive: bool = False, reverse: bool = False):
    """Running sums along axis (tf.math.cumsum): exclusive leaves each entry out, reverse runs from the end."""
    return _cumulate(CUMSUM, 0, x, axis, exclusive, reverse)


@public
def cumprod(x, axis: int = 0, exclusive: bool = False, reverse: bool = False):
    """Running products along axis (tf.math.cumprod), as cumsum."""
    return _cumulate(CUMPROD, 1, x, axis, exclusive, reverse)


def softmax_vjp(y, g, axis: int = -1):
    """The gradient through y = softmax(x) along axis: y * (g - sum(g * y))."""
    return multiply(y, subtract(g, reduce_sum(multiply(g, y), axis, keepdims=True)))


def _softmax_vjp(g, n, needs):
    return (softmax_vjp(n.outputs[0], g, n.attrs["axis"]),)


def _log_softmax_vjp(g, n, needs):
    y, axis = n.outputs[0], n.attrs["axis"]
    return (subtract(g, multiply(exp(y), reduce_sum(g, axis, keepdims=True))),)


SOFTMAX = defop("softmax", _softmax_vjp)
LOG_SOFTMAX = defop("log_softmax", _log_softmax_vjp)


def _softmax(op, log: int, x, axis):
    x = as_tensor(x)
    need_float(op.name, x)
    if x.ndim == 0:
        raise ValueError(f"{op.name}: expects a tensor of rank >= 1, got a scalar")
    axis = normalize_axis(op.name, axis, x.ndim, x)
    outer, n, inner = view3(x.shape, axis)
    y = out_like(x.shape, x.dtype)
    run(op.name, (x,), lib.ad_softmax, log, code(x), outer, n, inner, x._ptr, y._ptr)
    return emit(op, (x,), y, {"axis": axis})


# what masked logits become before a masked softmax (Keras' Softmax layer uses the same)
_MASKED_LOGIT = -1e9


@public
def softmax(x, axis=-1, mask=None):
    """exp(x) / sum(exp(x)) along axis (an int, or a tuple of axes normalized together). Where a mask (broadcast
    to x; 1 or True keeps, 0 or False masks) is given, masked positions get probability 0 and a fully masked slice all zeros, as
    Keras' Softmax layer."""
    if mask is not None:
        x = as_tensor(x)
        keep = _mask_for("softmax", mask, x)
        return where(keep, softmax(where(keep, x, _MASKED_LOGIT), axis), 0.0)
    if isinstance(axis, (list, tuple)) and len(axis) != 1:
        return exp(subtract(x, logsumexp(x, axis, keepdims=True)))
    return _softmax(SOFTMAX, 0, x, axis[0] if isinstance(axis, (list, tuple)) else axis)


def _mask_for(name: str, mask, x):
    """A mask broadcastable to x (each dimension 1 or x's, no more of them) as 1/0 in x's dtype: entries above
    0.5 keep (1 and True do, 0 and False mask), as Keras reads a non-boolean mask."""
    mask = as_tensor(mask, None, name)
    if mask.ndim > x.ndim or any(m not in (1, d) for m, d in zip(reversed(mask.shape), reversed(x.shape))):
        raise ValueError(f"{name}: mask of shape {mask.shape} does not broadcast to the input's shape {x.shape}")
    need_float(name, x)
    return greater(cast(mask, x.dtype), 0.5)


ACTIVATIONS["softmax"] = softmax


@public
def log_softmax(x, axis: int = -1):
    return _softmax(LOG_SOFTMAX, 1, x, axis)

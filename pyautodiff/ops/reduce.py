"""Reductions over axis sets, argmax, softmax and log_softmax."""

from ..dtypes import INT32
from ..tensor import shape_size
from ._core import (ACTIVATIONS, C, as_tensor, code, defop, emit, i64, lib, need_float, normalize_axes, normalize_axis,
                    out_like, public, run, view3)
from .elementwise import divide, equal, exp, multiply, scale, subtract
from .shape import broadcast_to, reshape


def _kept(shape, axes):
    return tuple(1 if i in axes else d for i, d in enumerate(shape))


def _grad_to_input(g, node):
    """The upstream gradient of a reduction, broadcast back over the input's shape."""
    x = node.inputs[0]
    return broadcast_to(reshape(g, _kept(x.shape, node.attrs["axes"])), x.shape)


def _reduce(op, kernel_op: int, x, axis, keepdims: bool, mean: bool = False):
    x = as_tensor(x)
    if mean:  # sum, max and min also take int32 (not differentiated)
        need_float(op.name, x)
    axes = normalize_axes(op.name, axis, x)
    kept = _kept(x.shape, axes)
    shape = kept if keepdims else tuple(d for i, d in enumerate(x.shape) if i not in axes)
    count = shape_size([x.shape[a] for a in axes])
    if kernel_op != C.AD_REDUCE_SUM and count == 0 and x.size == 0 and shape_size(shape) > 0:
        raise ValueError(f"{op.name}: cannot reduce an empty axis of shape {x.shape}")
    y = out_like(shape, x.dtype)
    ystrides, step = [0] * x.ndim, 1
    for i in reversed(range(x.ndim)):
        if i not in axes:
            ystrides[i] = step
            step *= x.shape[i]
    factor = (1.0 / count if count else float("nan")) if mean else 1.0  # the mean of nothing is nan
    run(op.name, (x,), lib.ad_reduce, kernel_op, code(x), x.ndim, i64(x.shape), x._ptr, i64(tuple(ystrides)),
        y._ptr, factor)
    return emit(op, (x,), y, {"axes": axes, "count": count})


REDUCE_SUM = defop("reduce_sum", lambda g, n, needs: (_grad_to_input(g, n),))
REDUCE_MEAN = defop("reduce_mean", lambda g, n, needs: (
    scale(1.0 / max(n.attrs["count"], 1), _grad_to_input(g, n)),))


def _max_vjp(g, n, needs):
    # the gradient goes to the maximal elements, shared equally between ties (as in TensorFlow)
    x, y = n.inputs[0], n.outputs[0]
    axes = n.attrs["axes"]
    hit = equal(x, broadcast_to(reshape(y, _kept(x.shape, axes)), x.shape))
    count = reduce_sum(hit, axes, keepdims=True)
    return (multiply(_grad_to_input(g, n), divide(hit, count)),)


REDUCE_MAX = defop("reduce_max", _max_vjp)
REDUCE_MIN = defop("reduce_min", _max_vjp)


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


@public
def argmax(x, axis: int = -1):
    x = as_tensor(x)
    if x.ndim == 0:
        raise ValueError("argmax: expects a tensor of rank >= 1, got a scalar")
    axis = normalize_axis("argmax", axis, x.ndim, x)
    outer, n, inner = view3(x.shape, axis)
    if n == 0:
        raise ValueError(f"argmax: axis {axis} of shape {x.shape} is empty")
    y = out_like(x.shape[:axis] + x.shape[axis + 1:], INT32)
    run("argmax", (x,), lib.ad_argmax, code(x), outer, n, inner, x._ptr, y._ptr)
    return y


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


@public
def softmax(x, axis: int = -1):
    return _softmax(SOFTMAX, 0, x, axis)


ACTIVATIONS["softmax"] = softmax


@public
def log_softmax(x, axis: int = -1):
    return _softmax(LOG_SOFTMAX, 1, x, axis)

"""Pooling (max, average, global), constant padding and nearest-neighbour upsampling of channels-last tensors
(batch, *spatial, channels), as Keras 3's layers compute them with TensorFlow's padding rules.

Max and average pooling are one kernel (csrc/pool.c) in two directions: forward (each window selects from a
tensor) and adjoint (each window sends a gradient back), each the other's vjp. Max pooling's window selects its
first maximum *of x*, so its ops take x and the tensor selected from: max_pool(x) selects from x itself, and its
gradient with respect to the selecting x is zero (almost everywhere), as for any max."""

from .. import _backend as B
from ..dtypes import INTS
from ..tensor import Tensor, contiguous_strides, fill, fill_value, shape_size
from ._core import (C, as_ints, as_tensor, code, defop, describe, emit, i64, lib, need_float, new_output, out_like,
                    public, run)
from .reduce import reduce_max, reduce_mean
from .shape import _copy_into, _slice, repeat


def _spatial_rank(name: str, x: Tensor, d: int | None = None) -> int:
    """The number of spatial axes of channels-last x: d when given, else 1 to 3 from x's rank."""
    if (3 <= x.ndim <= 5) if d is None else x.ndim == d + 2:
        return x.ndim - 2
    want = (f"rank {d + 2} (batch, {d} spatial axes, channels)" if d else
            "rank 3, 4 or 5 (batch, spatial axes, channels)")
    raise ValueError(f"{name}: expects a tensor of {want}, got {describe(x)}")


def _per_axis(name: str, value, d: int, what: str) -> tuple:
    """A positive int, or one per spatial axis."""
    values = as_ints(name, value, what)
    if len(values) == 1:
        values *= d
    if len(values) != d or min(values) < 1:
        raise ValueError(f"{name}: {what} must be a positive int or {d} positive ints, got {value!r}")
    return values


# --- max and average pooling ------------------------------------------------------------------------

def _geometry(name: str, x: Tensor, d: int, pool_size, strides, padding) -> dict:
    """The windows: TensorFlow's "valid" (whole windows only) or "same" (out = ceil(in / stride), the padding
    split with its odd element at the end)."""
    pool = _per_axis(name, pool_size, d, "pool_size")
    strides = pool if strides is None else _per_axis(name, strides, d, "strides")
    mode = padding.lower() if isinstance(padding, str) else padding
    if mode not in ("valid", "same"):
        raise ValueError(f"{name}: padding must be 'valid' or 'same', got {padding!r}")
    ins = x.shape[1:-1]
    if mode == "valid":
        if any(p > i for p, i in zip(pool, ins)):
            raise ValueError(f"{name}: pool_size {pool} is larger than the input's spatial shape {ins} "
                             f"(input {describe(x)}, padding 'valid')")
        out = tuple((i - p) // s + 1 for i, p, s in zip(ins, pool, strides))
        pad = (0,) * d
    else:
        out = tuple(-(-i // s) for i, s in zip(ins, strides))
        pad = tuple(max((o - 1) * s + p - i, 0) // 2 for i, o, p, s in zip(ins, out, pool, strides))
    return {"d": d, "in": ins, "out": out, "pool": pool, "strides": strides, "pad": pad}


def _pool_vjp(g, node, needs):
    # max pooling's first input only selects: no gradient flows to it
    x = node.inputs[0] if len(node.inputs) == 2 else None
    return (None,) * (len(node.inputs) - 1) + (_pool(_ADJOINT_OF[node.op.name], x, g, node.attrs),)


MAX_POOL = defop("max_pool", _pool_vjp)
MAX_POOL_GRAD = defop("max_pool_grad", _pool_vjp)
AVG_POOL = defop("avg_pool", _pool_vjp)
AVG_POOL_GRAD = defop("avg_pool_grad", _pool_vjp)
_ADJOINT_OF = {"max_pool": MAX_POOL_GRAD, "max_pool_grad": MAX_POOL, "avg_pool": AVG_POOL_GRAD,
               "avg_pool_grad": AVG_POOL}


def _pool(op, x: Tensor | None, src: Tensor, attrs: dict) -> Tensor:
    """The windows of attrs over src: forward for max_pool/avg_pool, adjoint for their _grad ops; max pooling's
    windows take the first maximum of x."""
    adjoint = op is MAX_POOL_GRAD or op is AVG_POOL_GRAD
    n, c = src.shape[0], src.shape[-1]
    y = out_like((n,) + (attrs["in"] if adjoint else attrs["out"]) + (c,), src.dtype)
    inputs = (src,) if x is None else (x, src)
    run(op.name, inputs, lib.ad_pool, C.AD_POOL_AVG if x is None else C.AD_POOL_MAX, int(adjoint), code(src),
        attrs["d"], n, c, i64(attrs["in"]), i64(attrs["out"]), i64(attrs["pool"]), i64(attrs["strides"]),
        i64(attrs["pad"]), B.NULL if x is None else x._ptr, src._ptr, y._ptr)
    return emit(op, inputs, y, attrs)


def _pooling(op, d: int):
    name = f"{op.name}{d}d"

    def pooling(x, pool_size, strides=None, padding: str = "valid") -> Tensor:
        x = as_tensor(x)
        need_float(name, x)
        _spatial_rank(name, x, d)
        attrs = _geometry(name, x, d, pool_size, strides, padding)
        return _pool(op, x if op is MAX_POOL else None, x, attrs)

    pooling.__name__ = pooling.__qualname__ = name
    pooling.__doc__ = (f"{'Max' if op is MAX_POOL else 'Average'} pooling over the {d} spatial axes of x "
                       f"(batch, *spatial, channels), as Keras' {'Max' if op is MAX_POOL else 'Average'}"
                       f"Pooling{d}D.")
    return public(pooling)


max_pool1d, max_pool2d, max_pool3d = (_pooling(MAX_POOL, d) for d in (1, 2, 3))
avg_pool1d, avg_pool2d, avg_pool3d = (_pooling(AVG_POOL, d) for d in (1, 2, 3))


def _global(reduce, d: int):
    name = f"global_{'avg' if reduce is reduce_mean else 'max'}_pool{d}d"

    def pooling(x, keepdims: bool = False) -> Tensor:
        x = as_tensor(x)
        need_float(name, x)
        _spatial_rank(name, x, d)
        if reduce is reduce_max and shape_size(x.shape[1:-1]) == 0 and x.shape[0] * x.shape[-1]:
            raise ValueError(f"{name}: no element to take the maximum of in {describe(x)}")
        return reduce(x, tuple(range(1, d + 1)), keepdims=keepdims)

    pooling.__name__ = pooling.__qualname__ = name
    pooling.__doc__ = (f"The {'mean' if reduce is reduce_mean else 'maximum'} over the {d} spatial axes of x "
                       f"(batch, *spatial, channels), as Keras' Global{'Average' if reduce is reduce_mean else 'Max'}"
                       f"Pooling{d}D.")
    return public(pooling)


global_avg_pool1d, global_avg_pool2d, global_avg_pool3d = (_global(reduce_mean, d) for d in (1, 2, 3))
global_max_pool1d, global_max_pool2d, global_max_pool3d = (_global(reduce_max, d) for d in (1, 2, 3))


# --- padding and upsampling ---------------------------------------------------------------------------

PAD = defop("pad", lambda g, n, needs: (_slice(g, n.attrs["spec"]),))  # the slice that was x


def _pairs(name: str, pairs, x: Tensor, what: str) -> list:
    """(before, after) pairs of non-negative ints, one per axis."""
    if isinstance(pairs, Tensor):
        pairs = pairs.tolist()
    try:
        out = [as_ints(name, p, what) for p in pairs]
    except TypeError:
        out = None
    if out is None or any(len(p) != 2 or min(p) < 0 for p in out):
        raise ValueError(f"{name}: {what} must be (before, after) pairs of non-negative ints, got {pairs!r} "
                         f"for {describe(x)}")
    return out


@public
def pad(x, paddings, constant_values=0) -> Tensor:
    """x with constant_values around it: paddings holds one (before, after) pair per axis (tf.pad's constant
    mode, numpy.pad's constant mode with one pair per axis)."""
    x = as_tensor(x)
    pairs = _pairs("pad", paddings, x, "paddings")
    if len(pairs) != x.ndim:
        raise ValueError(f"pad: paddings must hold one (before, after) pair per axis of {describe(x)}, "
                         f"got {len(pairs)}: {paddings!r}")
    value = fill_value(constant_values, x.dtype, "pad")
    if x.dtype in INTS and value != int(value):
        raise TypeError(f"pad: constant_values must be a number {x.dtype} holds, got {constant_values!r}")
    shape = tuple(b + dim + a for (b, a), dim in zip(pairs, x.shape))
    y = new_output("pad", shape, x.dtype)
    fill(y, value, "pad")
    strides = contiguous_strides(shape)
    start = sum(b * s for (b, _), s in zip(pairs, strides))
    if x.size:
        _copy_into("pad", x, y, x.shape, contiguous_strides(x.shape), strides, start)
    return emit(PAD, (x,), y, {"spec": (start, x.shape, strides)})


@public
def zero_padding(x, padding=1) -> Tensor:
    """Zeros around the spatial axes of x (batch, *spatial, channels), as Keras' ZeroPadding{1,2,3}D take
    padding: an int (every side), one int per spatial axis (both its sides; in 1-d a pair is (before, after)),
    or a (before, after) pair per spatial axis."""
    x = as_tensor(x)
    d = _spatial_rank("zero_padding", x)
    if not (isinstance(padding, (list, tuple)) and padding and all(isinstance(p, (list, tuple)) for p in padding)):
        values = as_ints("zero_padding", padding, "padding")  # ints: both sides of each axis, but 1-d's pair
        values = values * d if len(values) == 1 else values
        padding = [values] if d == 1 and len(values) == 2 else [(v, v) for v in values]
    pairs = _pairs("zero_padding", padding, x, "padding")
    if len(pairs) != d:
        raise ValueError(f"zero_padding: padding must be an int, {d} ints or {d} (before, after) pairs for the {d} "
                         f"spatial axes of {describe(x)}, got {padding!r}")
    return pad(x, [(0, 0)] + pairs + [(0, 0)])


@public
def upsampling(x, size=2) -> Tensor:
    """Nearest-neighbour upsampling of x (batch, *spatial, channels): each element repeated size times along
    each spatial axis (an int, or one per axis), as Keras' UpSampling{1,2,3}D."""
    x = as_tensor(x)
    for axis, count in enumerate(_per_axis("upsampling", size, _spatial_rank("upsampling", x), "size"), 1):
        x = repeat(x, count, axis)
    return x

"""Shape ops: reshape, transpose, broadcast, concat/split, gather, indexing, casts and copies."""

from .. import _backend as B
from ..dtypes import ALL_FLOATS, CODE, FLOATS, INT32, INT64, RANK
from ..tensor import Tensor, Variable, _check_shape, shape_size
from ._core import (FUNCTIONS, as_int, as_ints, as_tensor, broadcast_shape, broadcast_strides, code, contiguous_strides,
                    defop, describe, emit, i64, itemsize, lib, need_dtype, new_output, normalize_axis, out_like, public,
                    register, run, view3)


def _copy_into(name, x: Tensor, y: Tensor, shape: tuple, xstrides: tuple, ystrides: tuple, yoffset: int = 0,
               xoffset: int = 0):
    """Strided copy: the kernel behind transpose, broadcast, concat, split and slicing."""
    xp = B.offset(x._ptr, xoffset * itemsize(x)) if xoffset else x._ptr
    yp = B.offset(y._ptr, yoffset * itemsize(y)) if yoffset else y._ptr
    run(name, (x, y), lib.ad_copy, code(x), len(shape), i64(shape), xp, i64(xstrides), yp, i64(ystrides))


# --- identity-like ------------------------------------------------------------------------------

COPY = defop("copy", lambda g, n, needs: (g,))


@public
def copy(x) -> Tensor:
    x = as_tensor(x)
    y = out_like(x.shape, x.dtype)
    if x.size:
        _copy_into("copy", x, y, (x.size,), (1,), (1,))
    return emit(COPY, (x,), y)


def _snapshot(var: Variable) -> Tensor:
    """A copy of a Variable's current values that no tape records (the caller records its own op)."""
    y = out_like(var.shape, var.dtype)
    if var.size:
        _copy_into("copy", var, y, (var.size,), (1,), (1,))
    return y


CAST = defop("cast", lambda g, n, needs: (cast(g, n.inputs[0].dtype),))


@public
def cast(x, dtype) -> Tensor:
    x = as_tensor(x)
    dtype = need_dtype("cast", dtype)
    if dtype == x.dtype:
        return copy(x) if isinstance(x, Variable) else x  # never the Variable itself: it may change
    y = out_like(x.shape, dtype)
    run("cast", (x,), lib.ad_cast, code(x), CODE[dtype], x.size, x._ptr, y._ptr)
    if x.dtype in FLOATS and dtype in FLOATS:
        return emit(CAST, (x,), y)
    return y


def coerce(name: str, *values) -> list:
    """Make tensors of a common dtype: Python values take the dtype of the float tensor operands.

    Two tensors of different float dtypes are an error (as in TensorFlow); otherwise mixed dtypes promote up
    bool < int32 < int64 < float (numpy's order), int32 or int64 meeting a float becoming that float (float32 when
    the float is a Python value), as Python's int/float arithmetic does.
    """
    tensors = [v for v in values if isinstance(v, Tensor)]
    floats = {t.dtype for t in tensors} & set(ALL_FLOATS)
    if len(floats) > 1:
        raise TypeError(f"{name}: dtype mismatch: {describe(*tensors)}; cast one operand first")
    out = [as_tensor(v, next(iter(floats), None), name) for v in values]
    dtype = next(iter(floats), None) or max((t.dtype for t in out), key=RANK.__getitem__)
    if any(t.dtype != dtype for t in out):
        out = [cast(t, dtype) for t in out]
    return out


RESHAPE = defop("reshape", lambda g, n, needs: (reshape(g, n.inputs[0].shape),))


@public
def reshape(x, shape) -> Tensor:
    x = as_tensor(x)
    shape = as_ints("reshape", shape)
    if shape == x.shape and type(x) is Tensor:  # nothing to do
        return x
    shape = list(shape)
    if shape.count(-1) > 1:
        raise ValueError(f"reshape: at most one -1 in shape {tuple(shape)}")
    if -1 in shape:
        known = shape_size([d for d in shape if d != -1])
        if known == 0 or x.size % known:
            raise ValueError(f"reshape: cannot reshape tensor of shape {x.shape} ({x.size} elements) "
                             f"into {tuple(shape)}")
        shape[shape.index(-1)] = x.size // known
    shape = _check_shape(shape, "reshape")
    if shape_size(shape) != x.size:
        raise ValueError(f"reshape: cannot reshape tensor of shape {x.shape} ({x.size} elements) into {shape}")
    if shape == x.shape and not isinstance(x, Variable):
        return x
    # share storage: tensors are immutable; a Variable's values are copied so later assigns don't leak
    src = _snapshot(x) if isinstance(x, Variable) else x
    y = Tensor(src._owner, src._ptr, shape, x.dtype)
    return emit(RESHAPE, (x,), y)


@public
def expand_dims(x, axis: int) -> Tensor:
    x = as_tensor(x)
    axis = normalize_axis("expand_dims", axis, x.ndim + 1, x)
    return reshape(x, x.shape[:axis] + (1,) + x.shape[axis:])


@public
def squeeze(x, axis=None) -> Tensor:
    x = as_tensor(x)
    if axis is None:
        return reshape(x, tuple(d for d in x.shape if d != 1))
    axes = {normalize_axis("squeeze", a, x.ndim, x) for a in as_ints("squeeze", axis, "axis")}
    for a in axes:
        if x.shape[a] != 1:
            raise ValueError(f"squeeze: axis {a} of shape {x.shape} has size {x.shape[a]}, not 1")
    return reshape(x, tuple(d for i, d in enumerate(x.shape) if i not in axes))


TRANSPOSE = defop("transpose", lambda g, n, needs: (transpose(g, _inverse(n.attrs["perm"])),))


def _inverse(perm):
    inv = [0] * len(perm)
    for i, p in enumerate(perm):
        inv[p] = i
    return tuple(inv)


@public
def transpose(x, perm=None) -> Tensor:
    x = as_tensor(x)
    perm = tuple(reversed(range(x.ndim))) if perm is None else as_ints("transpose", perm, "perm")
    if sorted(perm) != list(range(x.ndim)):
        raise ValueError(f"transpose: perm {perm} is not a permutation of the axes of shape {x.shape}")
    shape = tuple(x.shape[p] for p in perm)
    y = out_like(shape, x.dtype)
    if y.size:
        st = contiguous_strides(x.shape)
        _copy_into("transpose", x, y, shape, tuple(st[p] for p in perm), contiguous_strides(shape))
    return emit(TRANSPOSE, (x,), y, {"perm": perm})


BROADCAST_TO = defop("broadcast_to", lambda g, n, needs: (unbroadcast(g, n.inputs[0].shape),))


def unbroadcast(g: Tensor, shape: tuple) -> Tensor:
    """Sum a broadcast gradient back to an operand's shape (the one place broadcasting is undone)."""
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, d in enumerate(shape) if d == 1 and g.shape[lead + i] != 1)
    # (reduce_sum is defined above this module, on top of the elementwise ops that use this one)
    return reshape(FUNCTIONS["reduce_sum"](g, axes), shape) if axes else reshape(g, shape)


@public
def broadcast_to(x, shape) -> Tensor:
    x = as_tensor(x)
    shape = as_ints("broadcast_to", shape)
    if shape != x.shape:
        shape = _check_shape(shape, "broadcast_to")
    if x.shape == shape:
        return copy(x) if isinstance(x, Variable) else x  # never the Variable itself: it may change
    if broadcast_shape("broadcast_to", x.shape, shape) != shape:
        raise ValueError(f"broadcast_to: shape {x.shape} cannot be broadcast to {shape}")
    y = new_output("broadcast_to", shape, x.dtype)
    if y.size:
        run("broadcast_to", (x,), lib.ad_copy, code(x), len(shape), i64(shape), x._ptr,
            broadcast_strides(x.shape, shape), y._ptr, i64(contiguous_strides(shape)))
    return emit(BROADCAST_TO, (x,), y)


# --- concat / split -------------------------------------------------------------------------------

CONCAT = defop("concat", lambda g, n, needs: split(g, [x.shape[n.attrs["axis"]] for x in n.inputs],
                                                   n.attrs["axis"]))


@public
def concat(values, axis: int = 0) -> Tensor:
    if not isinstance(values, (list, tuple)) or not values:
        raise ValueError("concat: expects a non-empty list of tensors")
    xs = [as_tensor(v) for v in values]
    first = xs[0]
    axis = normalize_axis("concat", axis, first.ndim, first)
    for x in xs:
        if x.dtype != first.dtype:
            raise TypeError(f"concat: dtype mismatch: {', '.join(f'{t.shape} {t.dtype}' for t in xs)}; "
                            f"cast the tensors to one dtype first")
        if x.ndim != first.ndim or any(a != b for i, (a, b) in enumerate(zip(x.shape, first.shape)) if i != axis):
            raise ValueError(f"concat: tensors must match except on axis {axis}: "
                             f"{', '.join(f'{t.shape} {t.dtype}' for t in xs)}")
    shape = first.shape[:axis] + (sum(x.shape[axis] for x in xs),) + first.shape[axis + 1:]
    y = out_like(shape, first.dtype)
    ystrides = contiguous_strides(shape)
    at = 0
    for x in xs:
        if x.size:
            _copy_into("concat", x, y, x.shape, contiguous_strides(x.shape), ystrides, at * ystrides[axis])
        at += x.shape[axis]
    return emit(CONCAT, tuple(xs), y, {"axis": axis})


SPLIT = defop("split", lambda gs, n, needs: (concat(list(gs) if isinstance(gs, (list, tuple)) else [gs],
                                                    n.attrs["axis"]),))


@public
def split(x, num_or_sizes, axis: int = 0) -> list:
    x = as_tensor(x)
    axis = normalize_axis("split", axis, x.ndim, x)
    n = x.shape[axis]
    if not isinstance(num_or_sizes, (list, tuple)) and getattr(num_or_sizes, "ndim", 0) == 0:
        num_or_sizes = as_int("split", num_or_sizes, "num_or_sizes")
        if num_or_sizes <= 0 or n % num_or_sizes:
            raise ValueError(f"split: axis {axis} of shape {x.shape} cannot be split into {num_or_sizes} parts")
        sizes = [n // num_or_sizes] * num_or_sizes
    else:
        sizes = list(as_ints("split", num_or_sizes, "sizes"))
        if any(s < 0 for s in sizes) or sum(sizes) != n:
            raise ValueError(f"split: sizes {sizes} do not add up to {n} (axis {axis} of shape {x.shape})")
    xstrides = contiguous_strides(x.shape)
    outs, at = [], 0
    for s in sizes:
        shape = x.shape[:axis] + (s,) + x.shape[axis + 1:]
        y = out_like(shape, x.dtype)
        if y.size:
            _copy_into("split", x, y, shape, xstrides, contiguous_strides(shape), 0, at * xstrides[axis])
        outs.append(y)
        at += s
    emit(SPLIT, (x,), tuple(outs), {"axis": axis})
    return outs


@public
def stack(values, axis: int = 0) -> Tensor:
    xs = [as_tensor(v) for v in values]
    if not xs:
        raise ValueError("stack: expects a non-empty list of tensors")
    if any(x.shape != xs[0].shape for x in xs):  # concat's message would show the expanded shapes
        raise ValueError(f"stack: tensors must have the same shape, got {', '.join(f'{x.shape} {x.dtype}' for x in xs)}")
    return concat([expand_dims(x, axis) for x in xs], axis)


# --- gather / scatter ------------------------------------------------------------------------------

def _indices(name, indices, what: str = "indices") -> Tensor:
    """Integer indices (int32 or int64) as the int32 tensor the kernels take: int64 ones are narrowed, and raise when
    a value does not fit (it would otherwise wrap to another, valid-looking index). Floats and bools are no indices
    (1.7 would quietly become 1)."""
    if type(indices).__module__ == "numpy" and getattr(indices, "dtype", None) is not None \
            and indices.dtype.kind not in "iu":
        raise TypeError(f"{name}: {what} must be integers, got a numpy array of dtype {indices.dtype}")
    idx = as_tensor(indices, None, name)  # Python floats make a float tensor: rejected below
    if idx.dtype == INT64:
        try:
            idx = cast(idx, INT32)
        except ValueError:
            raise ValueError(f"{name}: int64 {what} of shape {idx.shape} hold values that do not fit int32 (the "
                             f"kernels take int32 {what})") from None
    if idx.dtype != INT32:
        raise TypeError(f"{name}: {what} must be int32 or int64, got {idx.dtype} (shape {idx.shape}): only "
                        f"integers are indices")
    return idx


GATHER = defop("gather", lambda g, n, needs: (
    scatter_add(g, n.inputs[1], n.attrs["axis"], n.inputs[0].shape[n.attrs["axis"]]) if needs[0] else None,
    None))


@public
def gather(x, indices, axis: int | None = None, batch_dims: int = 0) -> Tensor:
    x = as_tensor(x)
    idx = _indices("gather", indices)
    batch_dims = as_int("gather", batch_dims, "batch_dims")
    batch_dims += idx.ndim if batch_dims < 0 else 0
    axis = normalize_axis("gather", batch_dims if axis is None else axis, x.ndim, x)
    if batch_dims:  # (ops/indexing.py, above this module)
        return FUNCTIONS["gather_batched"](x, idx, axis, batch_dims)
    outer, n, inner = view3(x.shape, axis)
    shape = x.shape[:axis] + idx.shape + x.shape[axis + 1:]
    y = out_like(shape, x.dtype)
    run("gather", (x, idx), lib.ad_gather, code(x), outer, n, inner, x._ptr, idx.size, idx._ptr, y._ptr)
    return emit(GATHER, (x, idx), y, {"axis": axis})


SCATTER_ADD = defop("scatter_add", lambda g, n, needs: (
    gather(g, n.inputs[1], n.attrs["axis"]) if needs[0] else None, None))


@register
def scatter_add(updates, indices, axis: int, size: int) -> Tensor:
    """zeros with `size` entries along axis, plus updates added at indices (gather's adjoint)."""
    g = as_tensor(updates)
    idx = _indices("scatter_add", indices)
    axis = normalize_axis("scatter_add", axis, g.ndim - idx.ndim + 1, g)
    size = as_int("scatter_add", size, "size")
    if size < 0 or g.shape[axis:axis + idx.ndim] != idx.shape:
        raise ValueError(f"scatter_add: updates {g.shape} do not hold indices {idx.shape} at axis {axis}, "
                         f"or size {size!r} is negative")
    shape = g.shape[:axis] + (size,) + g.shape[axis + idx.ndim:]
    outer, _, inner = view3(shape, axis)
    y = new_output("scatter_add", shape, g.dtype)
    run("scatter_add", (g, idx), lib.ad_fill, code(g), y.size, 0.0, y._ptr)
    run("scatter_add", (g, idx), lib.ad_scatter_add, code(g), outer, size, inner, g._ptr, idx.size, idx._ptr,
        y._ptr)
    return emit(SCATTER_ADD, (g, idx), y, {"axis": axis})


# repeat's adjoint sums each entry's copies; each is the other's vjp
REPEAT = defop("repeat", lambda g, n, needs: (_repeat(REPEAT_GRAD, g, n.attrs),))
REPEAT_GRAD = defop("repeat_grad", lambda gg, n, needs: (_repeat(REPEAT, gg, n.attrs),))


@public
def repeat(x, repeats, axis: int | None = None) -> Tensor:
    """Each entry along axis repeated: `repeats` times, or repeats[j] times for entry j, as numpy's repeat
    (axis None: of the flattened tensor)."""
    x = as_tensor(x)
    if axis is None:
        x, axis = reshape(x, (-1,)), 0
    axis = normalize_axis("repeat", axis, x.ndim, x)
    n = x.shape[axis]
    per_entry = isinstance(repeats, (list, tuple)) or getattr(repeats, "ndim", 0) > 0
    counts = _indices("repeat", repeats, "repeats") if per_entry else None
    if counts is not None and counts.size == 1:  # one count for every entry, as numpy broadcasts it
        repeats, counts = counts.item(), None
    if counts is None:
        count = as_int("repeat", repeats, "repeats")
        if count < 0:
            raise ValueError(f"repeat: repeats must be a non-negative int, got {count}")
        m = n * count
    else:
        values = counts.tolist()
        if counts.shape != (n,) or min(values, default=0) < 0:
            raise ValueError(f"repeat: repeats must be one non-negative int, or one per entry along axis {axis} "
                             f"of shape {x.shape} ({n}), got {counts.shape} {values if len(values) < 10 else ''}")
        count, m = 0, sum(values)
    return _repeat(REPEAT, x, {"axis": axis, "n": n, "m": m, "count": count, "counts": counts})


def _repeat(op, src: Tensor, attrs: dict) -> Tensor:
    axis, n, m, counts = attrs["axis"], attrs["n"], attrs["m"], attrs["counts"]
    adjoint = op is REPEAT_GRAD
    y = new_output(op.name, src.shape[:axis] + ((n if adjoint else m),) + src.shape[axis + 1:], src.dtype)
    outer, _, inner = view3(src.shape, axis)
    run(op.name, (src,) if counts is None else (src, counts), lib.ad_repeat, code(src), int(adjoint), outer, n,
        inner, attrs["count"], B.NULL if counts is None else counts._ptr, m, src._ptr, y._ptr)
    return emit(op, (src,), y, attrs)


@public
def one_hot(indices, depth: int, dtype="float32") -> Tensor:
    idx = _indices("one_hot", indices)
    dtype = need_dtype("one_hot", dtype)
    depth = as_int("one_hot", depth, "depth")
    if depth < 0:
        raise ValueError(f"one_hot: depth must be a non-negative int, got {depth}")
    y = new_output("one_hot", idx.shape + (depth,), dtype)
    run("one_hot", (idx,), lib.ad_one_hot, CODE[dtype], idx.size, idx._ptr, depth, y._ptr)
    return y


@public
def shape(x) -> tuple:
    return as_tensor(x).shape


# --- indexing (read-only, differentiable) ----------------------------------------------------------

SLICE = defop("slice", lambda g, n, needs: (_slice_grad(g, n.inputs[0].shape, n.attrs["spec"]),))
SLICE_GRAD = defop("slice_grad", lambda gg, n, needs: (_slice(gg, n.attrs["spec"]),))


def _index_spec(x: Tensor, key) -> tuple:
    """(start offset, shape, strides over x) of basic indexing x[key]; ints drop their axis."""
    if not isinstance(key, tuple):
        key = (key,)
    if sum(k is Ellipsis for k in key) > 1:
        raise IndexError(f"getitem: more than one Ellipsis in {key!r}")
    if Ellipsis in key:
        i = key.index(Ellipsis)
        key = key[:i] + (slice(None),) * (x.ndim - len(key) + 1) + key[i + 1:]
    if len(key) > x.ndim:
        raise IndexError(f"getitem: too many indices ({len(key)}) for shape {x.shape}")
    xst = contiguous_strides(x.shape)
    start, shape, strides = 0, [], []
    for axis, k in enumerate(key + (slice(None),) * (x.ndim - len(key))):
        dim = x.shape[axis]
        if isinstance(k, slice):
            lo, hi, step = k.indices(dim)
            count = len(range(lo, hi, step))
            start += lo * xst[axis] if count else 0
            shape.append(count)
            strides.append(step * xst[axis])
            continue
        try:
            k = as_int("getitem", k, "index")
        except TypeError:
            raise TypeError(f"getitem: unsupported index {k!r} for shape {x.shape} (ints, slices, ... only)") from None
        if not -dim <= k < dim:
            raise IndexError(f"getitem: index {k} is out of range for axis {axis} of shape {x.shape}")
        start += (k % dim) * xst[axis]
    return start, tuple(shape), tuple(strides)


def _slice(x: Tensor, spec) -> Tensor:
    start, shape, strides = spec
    y = out_like(shape, x.dtype)
    if y.size:
        _copy_into("getitem", x, y, shape, strides, contiguous_strides(shape), 0, start)
    return emit(SLICE, (x,), y, {"spec": spec})


def _slice_grad(g: Tensor, full_shape: tuple, spec) -> Tensor:
    start, shape, strides = spec
    y = out_like(full_shape, g.dtype)
    run("getitem", (g,), lib.ad_fill, code(g), y.size, 0.0, y._ptr)
    if g.size:
        _copy_into("getitem", g, y, shape, contiguous_strides(shape), strides, start)
    return emit(SLICE_GRAD, (g,), y, {"spec": spec})


# --- tiling and band masks ------------------------------------------------------------------------

@public
def tile(x, multiples) -> Tensor:
    """x repeated multiples[i] times along axis i (numpy's tile: fewer multiples than axes apply to the last
    axes, more add leading axes)."""
    x = as_tensor(x)
    reps = as_ints("tile", multiples, "multiples")
    if any(r < 0 for r in reps):
        raise ValueError(f"tile: multiples must be non-negative ints, got {reps} for shape {x.shape}")
    ndim = max(len(reps), x.ndim)
    reps, dims = (1,) * (ndim - len(reps)) + reps, (1,) * (ndim - x.ndim) + x.shape
    # each axis d becomes (r, d): the copies of x broadcast along the new axes, then merge into r * d
    spread = broadcast_to(reshape(x, tuple(v for d in dims for v in (1, d))),
                          tuple(v for r, d in zip(reps, dims) for v in (r, d)))
    return reshape(spread, tuple(r * d for r, d in zip(reps, dims)))


BANDPART = defop("bandpart", lambda g, n, needs: (bandpart(g, *n.attrs["band"]),))


@public
def bandpart(x, num_lower: int, num_upper: int) -> Tensor:
    """x on a band of its last two axes, zeros elsewhere (TensorFlow's linalg.band_part): entry (i, j) stays
    where i - j <= num_lower and j - i <= num_upper, a negative bound keeping its whole triangle.
    bandpart(x, -1, 0) keeps the lower triangle (a causal mask)."""
    x = as_tensor(x)
    band = (as_int("bandpart", num_lower, "num_lower"), as_int("bandpart", num_upper, "num_upper"))
    if x.ndim < 2:
        raise ValueError(f"bandpart: expects a tensor of rank >= 2 (matrices in its last two axes), got shape "
                         f"{x.shape}")
    m, n = x.shape[-2:]
    y = out_like(x.shape, x.dtype)
    run("bandpart", (x,), lib.ad_bandpart, code(x), shape_size(x.shape[:-2]), m, n, *band, x._ptr, y._ptr)
    return emit(BANDPART, (x,), y, {"band": band})

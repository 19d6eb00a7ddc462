"""Indexing ops (csrc/index.c): gather_nd and its scatters, gather with batch dimensions, boolean masks, sorting
and top_k, numpy's indexing of tensors (None, integer arrays, boolean masks, all differentiable), and the item
assignment of Variables (v[key] = value, v[1:3].assign(...), v.scatter_update(...)), as TensorFlow has them."""

from .. import _backend as B
from ..dtypes import BOOL, INT32, INTS
from ..tensor import Tensor, Variable, _check_shape, _unguarded, shape_size, zeros_like
from ._core import (C, as_int, as_ints, as_tensor, broadcast_shape, code, defop, describe, emit, lib, new_output,
                    normalize_axis, out_like, public, register, run, view3)
from .elementwise import add
from .shape import (RESHAPE, _index_spec, _indices, _slice, broadcast_to, concat, gather, reshape, transpose)


def _read_i64(held) -> int:
    return B.view(held, 8).cast("q")[0]


def _check_range(name: str, idx: Tensor, dims: tuple, shape: tuple, wrap: int) -> None:
    """IndexError naming the op, the first index tuple of idx (..., len(dims)) outside dims, and the shape."""
    depth = len(dims)
    bad = B.i64_array((0,))
    status = lib.ad_index_check(shape_size(idx.shape[:-1]), depth, B.i64(dims), wrap, idx._ptr, bad)
    if status == C.AD_EINDEX:
        j = _read_i64(bad)
        at = idx._memview()[j * depth:(j + 1) * depth].tolist()
        raise IndexError(f"{name}: index {at[0] if depth == 1 else tuple(at)} is out of range for dimensions {dims} "
                         f"of shape {shape}")
    if status:
        raise ValueError(f"{name}: invalid indices {idx.shape} {idx.dtype} for shape {shape}")


# --- gather_nd and its adjoint, the scatter-add; tensor_scatter_nd_update ----------------------------

def _nd_vjp(other):
    return lambda g, n, needs: (_nd(other(), g, n.inputs[1], n.attrs) if needs[0] else None, None)


GATHER_ND = defop("gather_nd", _nd_vjp(lambda: SCATTER_ND))
SCATTER_ND = defop("scatter_nd", _nd_vjp(lambda: GATHER_ND))


def _geometry(name: str, table: tuple, idx: Tensor, batch_dims: int = 0, wrap: int = 0,
              shown: tuple | None = None) -> dict:
    """How index tuples idx (..., depth), whose first batch_dims axes are the table's, address a table of shape
    table: rows (idx.shape[:-1] + the table's axes past the indexed ones) and the kernel's view; checks the range."""
    if idx.ndim < 1 or idx.ndim <= batch_dims:
        raise ValueError(f"{name}: indices of shape {idx.shape} need a last axis of index tuples "
                         f"past {batch_dims} batch dimensions")
    depth = idx.shape[-1]
    if table[:batch_dims] != idx.shape[:batch_dims] or batch_dims + depth > len(table):
        raise ValueError(f"{name}: indices {idx.shape} (batch_dims={batch_dims}) do not index shape {table}: "
                         f"the batch axes must match and {depth} indexed axes must follow them")
    dims, inner = table[batch_dims:batch_dims + depth], table[batch_dims + depth:]
    _check_range(name, idx, dims, shown or table, wrap)
    view = (shape_size(idx.shape[:batch_dims]), shape_size(idx.shape[batch_dims:-1]), dims, shape_size(inner))
    return {"view": view, "table": table, "rows": idx.shape[:-1] + inner, "wrap": wrap, "name": name}


def _nd(op, src: Tensor, idx: Tensor, attrs: dict) -> Tensor:
    """gather_nd (src a table, the result its rows) or, for SCATTER_ND, the rows src added into zeros."""
    gathering = op is GATHER_ND
    y = new_output(attrs["name"], attrs["rows" if gathering else "table"], src.dtype)
    if gathering:
        _move_rows(C.AD_ND_GATHER, src, idx, y, attrs)
    else:
        run(attrs["name"], (src, idx), lib.ad_fill, code(src), y.size, 0.0, y._ptr)
        _move_rows(C.AD_ND_SCATTER_ADD, y, idx, src, attrs)
    return emit(op, (src, idx), y, attrs)


def _move_rows(mode: int, table: Tensor, idx: Tensor, rows: Tensor, attrs: dict) -> None:
    """The kernel moving rows out of table (AD_ND_GATHER) or into it, in place, at the index tuples idx."""
    batch, nidx, dims, inner = attrs["view"]
    run(attrs["name"], (table, idx, rows), lib.ad_gather_nd, mode, code(table), batch, nidx, len(dims), B.i64(dims),
        inner, attrs["wrap"], idx._ptr, table._ptr, rows._ptr)


def _batch_dims(name: str, batch_dims, idx: Tensor) -> int:
    b = as_int(name, batch_dims, "batch_dims")
    b = b + idx.ndim if b < 0 else b
    if not 0 <= b < max(idx.ndim, 1):
        raise ValueError(f"{name}: batch_dims {batch_dims} is out of range for indices of shape {idx.shape}")
    return b


@public
def gather_nd(params, indices, batch_dims: int = 0) -> Tensor:
    """params at the index tuples along indices' last axis, after batch_dims leading axes both share (TF)."""
    x, idx = as_tensor(params), _indices("gather_nd", indices)
    return _nd(GATHER_ND, x, idx, _geometry("gather_nd", x.shape, idx, _batch_dims("gather_nd", batch_dims, idx)))


def _rows(name: str, attrs: dict, idx: Tensor, updates, dtype=None) -> Tensor:
    u = as_tensor(updates, dtype, name)
    if dtype is not None and u.dtype != dtype:
        raise TypeError(f"{name}: updates are {u.dtype}, the tensor is {dtype}")
    if u.shape != attrs["rows"]:
        raise ValueError(f"{name}: updates must have shape {attrs['rows']} (indices {idx.shape} into shape "
                         f"{attrs['table']}), got {u.shape}")
    return u


@public
def scatter_nd(indices, updates, shape) -> Tensor:
    """zeros of shape with updates added at the index tuples (duplicates add up), as tf.scatter_nd."""
    idx = _indices("scatter_nd", indices)
    attrs = _geometry("scatter_nd", _check_shape(as_ints("scatter_nd", shape), "scatter_nd"), idx)
    return _nd(SCATTER_ND, _rows("scatter_nd", attrs, idx, updates), idx, attrs)


@public
def tensor_scatter_nd_add(tensor, indices, updates) -> Tensor:
    x, idx = as_tensor(tensor), _indices("tensor_scatter_nd_add", indices)
    attrs = _geometry("tensor_scatter_nd_add", x.shape, idx)
    return add(x, _nd(SCATTER_ND, _rows("tensor_scatter_nd_add", attrs, idx, updates, x.dtype), idx, attrs))


SCATTER_UPDATE = defop("tensor_scatter_nd_update", lambda g, n, needs: (
    _scatter_update(g, n.inputs[1], zeros_like(n.inputs[2]), n.attrs) if needs[0] else None, None,
    _nd(GATHER_ND, g, n.inputs[1], n.attrs) if needs[2] else None))


def _scatter_update(x: Tensor, idx: Tensor, u: Tensor, attrs: dict) -> Tensor:
    y = out_like(x.shape, x.dtype)
    run(attrs["name"], (x, y), lib.ad_copy, code(x), 1, B.i64((x.size,)), x._ptr, B.i64((1,)), y._ptr, B.i64((1,)))
    _move_rows(C.AD_ND_SCATTER_UPDATE, y, idx, u, attrs)
    return emit(SCATTER_UPDATE, (x, idx, u), y, attrs)


@public
def tensor_scatter_nd_update(tensor, indices, updates) -> Tensor:
    """tensor with the rows at the index tuples replaced by updates (of a duplicate, the last)."""
    x, idx = as_tensor(tensor), _indices("tensor_scatter_nd_update", indices)
    attrs = _geometry("tensor_scatter_nd_update", x.shape, idx)
    return _scatter_update(x, idx, _rows("tensor_scatter_nd_update", attrs, idx, updates, x.dtype), attrs)


@register
def gather_batched(x: Tensor, idx: Tensor, axis: int, batch_dims: int) -> Tensor:
    """gather(x, idx, axis, batch_dims > 0): axis moved behind the batch axes, a gather_nd of depth 1, the
    result's index axes moved back to where axis was (as tf.gather)."""
    if not 0 < batch_dims <= idx.ndim or idx.shape[:batch_dims] != x.shape[:batch_dims] or axis < batch_dims:
        raise ValueError(f"gather: indices {idx.shape} and params {x.shape} must share batch_dims={batch_dims} "
                         f"leading axes, and axis {axis} must not be one of them")
    perm = tuple(range(batch_dims)) + (axis,) + tuple(a for a in range(batch_dims, x.ndim) if a != axis)
    moved = transpose(x, perm) if perm != tuple(range(x.ndim)) else x
    tuples = reshape(idx, idx.shape + (1,))
    y = _nd(GATHER_ND, moved, tuples, _geometry("gather", moved.shape, tuples, batch_dims))
    # y: batch axes, idx's own axes, then x's axes between the batch axes and axis, then those after axis
    k, between = idx.ndim - batch_dims, axis - batch_dims
    back = (tuple(range(batch_dims)) + tuple(batch_dims + k + i for i in range(between))
            + tuple(batch_dims + i for i in range(k)) + tuple(range(batch_dims + k + between, y.ndim)))
    return transpose(y, back) if back != tuple(range(y.ndim)) else y


# --- boolean masks ----------------------------------------------------------------------------------

def _all_bools(v) -> bool:
    if isinstance(v, (list, tuple)):
        return bool(v) and all(_all_bools(e) for e in v)
    return isinstance(v, bool) or type(v).__name__ == "bool_"


def _is_mask(k) -> bool:
    """A bool tensor, a numpy bool array or Python bools in (nested) lists: a mask."""
    if isinstance(k, Tensor):
        return k.dtype == BOOL
    if type(k).__module__ == "numpy" and hasattr(k, "dtype"):
        return k.dtype.kind == "b"
    return isinstance(k, (list, tuple)) and _all_bools(k)


def _nonzero(name: str, n: int, mask: Tensor | None) -> Tensor:
    """The flat positions (int32) of mask's nonzero elements, or of all n when mask is None. The count is taken
    first (not recorded), so a traced graph replayed with a mask of another count fails rather than misread."""
    count = B.i64_array((n,))
    dtype, ptr = (code(mask), mask._ptr) if mask is not None else (C.AD_INT32, B.NULL)
    if mask is not None and lib.ad_nonzero(dtype, n, ptr, 0, B.NULL, count):
        raise ValueError(f"{name}: invalid mask {describe(mask)}")
    pos = out_like((_read_i64(count),), INT32)
    run(name, (pos,) if mask is None else (mask, pos), lib.ad_nonzero, dtype, n, ptr, pos.size, pos._ptr, count)
    return pos


@public
def boolean_mask(tensor, mask, axis: int = 0) -> Tensor:
    """The entries of tensor where mask (Python bools, a numpy bool array, or a tensor: nonzero is True) holds,
    mask covering the axes from axis on, which become one (as tf.boolean_mask); differentiable in tensor."""
    x = as_tensor(tensor)
    m = mask if isinstance(mask, Tensor) else as_tensor(mask, INT32, "boolean_mask")
    axis = normalize_axis("boolean_mask", axis, x.ndim, x)
    if m.ndim == 0 or x.shape[axis:axis + m.ndim] != m.shape:
        raise ValueError(f"boolean_mask: mask of shape {m.shape} does not match the axes from {axis} on of "
                         f"shape {x.shape}")
    merged = x.shape[:axis] + (m.size,) + x.shape[axis + m.ndim:]
    return gather(reshape(x, merged) if merged != x.shape else x, _nonzero("boolean_mask", m.size, m), axis)


# --- sorting: the order by a stable sort, values taken along it (the gradient goes back the same way) ----

def _along_vjp(other):
    return lambda g, n, needs: (_along(other(), g, n.inputs[1], n.attrs) if needs[0] else None, None)


TAKE_ALONG = defop("take_along_axis", _along_vjp(lambda: PUT_ALONG))
PUT_ALONG = defop("put_along_axis_add", _along_vjp(lambda: TAKE_ALONG))


def _along(op, src: Tensor, idx: Tensor, attrs: dict) -> Tensor:
    """TAKE_ALONG: src at idx along attrs' axis; PUT_ALONG: src added at idx into zeros of n entries there."""
    axis, n = attrs["axis"], attrs["n"]
    outer, k, inner = view3(idx.shape, axis)
    adjoint = op is PUT_ALONG
    y = out_like(idx.shape[:axis] + ((n if adjoint else k),) + idx.shape[axis + 1:], src.dtype)
    run(op.name, (src, idx), lib.ad_take_along, int(adjoint), code(src), outer, n, inner, k, idx._ptr, src._ptr,
        y._ptr)
    return emit(op, (src, idx), y, attrs)


_DIRECTIONS = {"ASCENDING": 0, "DESCENDING": 1}


def _order(name: str, x: Tensor, axis: int, k: int, direction) -> Tensor:
    """int32 positions along axis of the first k of x's entries in a stable sort (NaN last ascending)."""
    if direction not in _DIRECTIONS:
        raise ValueError(f"{name}: direction must be 'ASCENDING' or 'DESCENDING', got {direction!r}")
    outer, n, inner = view3(x.shape, axis)
    idx = out_like(x.shape[:axis] + (k,) + x.shape[axis + 1:], INT32)
    run(name, (x,), lib.ad_argsort, code(x), _DIRECTIONS[direction], outer, n, inner, k, x._ptr, idx._ptr)
    return idx


@public
def argsort(x, axis: int = -1, direction: str = "ASCENDING", stable: bool = True) -> Tensor:
    """Positions (int32) sorting x along axis; always stable (equal entries keep their order), NaN last
    ascending and first descending."""
    x = as_tensor(x)
    axis = normalize_axis("argsort", axis, x.ndim, x)
    return _order("argsort", x, axis, x.shape[axis], direction)


@public
def sort(x, axis: int = -1, direction: str = "ASCENDING") -> Tensor:
    x = as_tensor(x)
    axis = normalize_axis("sort", axis, x.ndim, x)
    idx = _order("sort", x, axis, x.shape[axis], direction)
    return _along(TAKE_ALONG, x, idx, {"axis": axis, "n": x.shape[axis]})


@public
def top_k(x, k: int = 1, sorted: bool = True) -> tuple:  # noqa: A002 - TensorFlow's name
    """(values, indices) of the k largest entries along the last axis, largest first (always sorted; of equal
    entries the first; NaN counts as the largest)."""
    x = as_tensor(x)
    k = as_int("top_k", k, "k")
    if x.ndim == 0 or not 0 <= k <= x.shape[-1]:
        raise ValueError(f"top_k: k={k} must lie in [0, {x.shape[-1] if x.ndim else 0}] for x of shape {x.shape}")
    idx = _order("top_k", x, x.ndim - 1, k, "DESCENDING")
    return _along(TAKE_ALONG, x, idx, {"axis": x.ndim - 1, "n": x.shape[-1]}), idx


# --- numpy's indexing of tensors ------------------------------------------------------------------------

def _entry(k, name: str) -> tuple:
    """(kind, value) of one entry of an index key: new (None), ... , slice, int, array (int32) or mask."""
    if k is None:
        return "new", None
    if k is Ellipsis or isinstance(k, slice):
        return ("..." if k is Ellipsis else "slice"), k
    if _is_mask(k):
        return "mask", as_tensor(k, INT32, name)
    if isinstance(k, (list, tuple)) or (getattr(k, "ndim", 0) and (isinstance(k, Tensor) or hasattr(k, "dtype"))):
        if isinstance(k, Tensor) and k.dtype not in INTS:
            raise TypeError(f"{name}: a {k.shape} {k.dtype} tensor is no index: integer indices are int32 or int64, "
                            f"masks bool; for a mask of 1/0 values use ad.boolean_mask")
        return "array", _indices(name, k)
    try:
        return "int", as_int(name, k, "index")
    except TypeError:
        raise TypeError(f"{name}: unsupported index {k!r} (ints, slices, ..., None, integer lists/arrays/int32 "
                        f"tensors and boolean lists/arrays)") from None


_BASIC = (int, slice, type(Ellipsis))
_SPECS: dict = {}  # (shape, key with slices as (start, stop, step)) -> _index_spec's (a slice is unhashable in 3.11)


@register
def getitem(x: Tensor, key) -> Tensor:
    return _index(x, key, "getitem")


def _index(x: Tensor, key, name: str) -> Tensor:
    """x[key] as numpy: basic indexing copies a strided view; None adds an axis; integer arrays (with ints
    among them) index together, broadcast, their axes in place when adjacent, else first; a boolean mask
    stands for the positions of its True entries over the axes it covers. Differentiable."""
    key, shown = key if isinstance(key, tuple) else (key,), x.shape
    if all(type(k) in _BASIC for k in key):  # (the common case, at once; its spec kept per shape and key)
        plan = (shown, tuple((k.start, k.stop, k.step) if type(k) is slice else k for k in key))
        spec = _SPECS.get(plan)
        if spec is None:
            spec = _SPECS[plan] = _index_spec(x, key)
            if len(_SPECS) > 4096:
                _SPECS.clear()
        return _slice(x, spec)
    entries = [_entry(k, name) for k in key]
    if all(kind in ("...", "slice", "int") for kind, _ in entries):
        return _slice(x, _index_spec(x, key))
    if sum(kind == "..." for kind, _ in entries) > 1:
        raise IndexError(f"{name}: more than one Ellipsis in {key!r}")
    used = sum(v.ndim if kind == "mask" else kind in ("slice", "int", "array") for kind, v in entries)
    if used > x.ndim:
        raise IndexError(f"{name}: too many indices ({used}) for shape {x.shape}")
    fill = [("slice", slice(None))] * (x.ndim - used)  # what ... (or the end) stands for
    at = next((i for i, (kind, _) in enumerate(entries) if kind == "..."), len(entries))
    entries = entries[:at] + fill + entries[at + 1:]
    # None becomes an axis of 1, a mask the positions of its True entries over its axes merged into one
    shape, axis, flat = [], 0, []
    for kind, v in entries:
        if kind == "new":
            shape.append(1)
            flat.append(("slice", slice(None)))
        elif kind == "mask":
            if x.shape[axis:axis + v.ndim] != v.shape:
                raise IndexError(f"{name}: boolean mask of shape {v.shape} does not match the axes from {axis} on "
                                 f"of shape {x.shape}")
            shape.append(v.size)
            flat.append(("array", _nonzero(name, v.size, v)))
            axis += v.ndim
        else:
            shape.append(x.shape[axis])
            flat.append((kind, v))
            axis += 1
    if tuple(shape) != x.shape:
        x = reshape(x, tuple(shape))
    if all(kind != "array" for kind, _ in flat):
        return _slice(x, _index_spec(x, tuple(v for _, v in flat)))
    adv = [i for i, (kind, _) in enumerate(flat) if kind in ("array", "int")]
    if any(kind == "slice" and v != slice(None) for kind, v in flat):
        x = _slice(x, _index_spec(x, tuple(slice(None) if i in adv else v for i, (_, v) in enumerate(flat))))
    perm = tuple(adv) + tuple(i for i in range(len(flat)) if i not in adv)
    moved = transpose(x, perm) if perm != tuple(range(len(flat))) else x
    arrays = [as_tensor(v, INT32, name) if kind == "int" else v for kind, v in (flat[i] for i in adv)]
    try:
        common = broadcast_shape(name, *(a.shape for a in arrays))
    except ValueError:
        raise IndexError(f"{name}: index arrays of shapes {', '.join(str(a.shape) for a in arrays)} cannot be "
                         f"broadcast together") from None
    tuples = concat([reshape(broadcast_to(a, common), common + (1,)) for a in arrays], -1)
    y = _nd(GATHER_ND, moved, tuples, _geometry(name, moved.shape, tuples, 0, 1, shown))
    if adv[0] and adv == list(range(adv[0], adv[0] + len(adv))):  # adjacent: their axes go where they were
        s = len(common)
        y = transpose(y, tuple(s + i for i in range(adv[0])) + tuple(range(s)) + tuple(range(s + adv[0], y.ndim)))
    return y


# --- Variables: reading a slice that can assign back, and writing items in place --------------------
# (attached here, as ops/__init__.py attaches the operators: tensor.py is below the ops)

class VariableSlice(Tensor):
    """v[key] of a Variable: a tensor of the values there, as any index gives, that also writes back, as
    TensorFlow's v[1:3].assign(values)."""

    __slots__ = ("variable", "key")

    def assign(self, value) -> Variable:
        self.variable[self.key] = value
        return self.variable


def _variable_getitem(v: Variable, key) -> VariableSlice:
    y = getitem(v, key)
    s = object.__new__(_unguarded(VariableSlice))
    s._owner, s._ptr, s.shape, s.dtype, s.size, s.ndim = y._owner, y._ptr, y.shape, y.dtype, y.size, y.ndim
    s.variable, s.key = v, key
    s.__class__ = VariableSlice
    return emit(RESHAPE, (y,), s)  # (the same values: a reshape to its own shape, so tapes see it)


def _write(v: Variable, name: str, mode: int, tuples: Tensor, updates, table: tuple | None = None) -> Variable:
    """updates (broadcast to the rows) written or added in place into v at the index tuples, which address
    v's shape (or table, another view of its storage); then v's version is bumped."""
    attrs = _geometry(name, table or v.shape, tuples)
    u = as_tensor(updates, v.dtype, name)
    if u.dtype != v.dtype:
        raise TypeError(f"{name}: variable {v.name!r} is {v.dtype}, updates are {u.dtype}")
    if u.shape != attrs["rows"]:
        try:
            u = broadcast_to(u, attrs["rows"])
        except ValueError:
            raise ValueError(f"{name}: updates of shape {u.shape} do not fit {attrs['rows']} (indices "
                             f"{tuples.shape} into variable {v.name!r} of shape {v.shape})") from None
    _move_rows(mode, v, tuples, u, attrs)
    v._written()
    return v


def _setitem(v: Variable, key, value) -> None:
    """v[key] = value (broadcast to v[key]'s shape), in place: indexing the flat positions of v's elements
    tells where."""
    positions = _index(reshape(_nonzero("setitem", v.size, None), v.shape), key, "setitem")
    _write(v, "setitem", C.AD_ND_SCATTER_UPDATE, reshape(positions, positions.shape + (1,)), value, (v.size,))


def _rows_along_0(indices) -> Tensor:
    idx = _indices("scatter_update", indices)
    return reshape(idx, idx.shape + (1,))


Variable.__getitem__ = _variable_getitem
Variable.__setitem__ = _setitem
Variable.scatter_update = lambda self, indices, updates: _write(
    self, "scatter_update", C.AD_ND_SCATTER_UPDATE, _rows_along_0(indices), updates)
Variable.scatter_add = lambda self, indices, updates: _write(
    self, "scatter_add", C.AD_ND_SCATTER_ADD, _rows_along_0(indices), updates)
Variable.scatter_nd_update = lambda self, indices, updates: _write(
    self, "scatter_nd_update", C.AD_ND_SCATTER_UPDATE, _indices("scatter_nd_update", indices), updates)
Variable.scatter_nd_add = lambda self, indices, updates: _write(
    self, "scatter_nd_add", C.AD_ND_SCATTER_ADD, _indices("scatter_nd_add", indices), updates)


# Keras' spellings (keras.ops.scatter and scatter_update) of the two above
@public
def scatter(indices, values, shape) -> Tensor:
    """zeros of shape with values added at the index tuples, as keras.ops.scatter (= scatter_nd)."""
    return scatter_nd(indices, values, shape)


@public
def scatter_update(inputs, indices, updates) -> Tensor:
    """inputs with the rows at the index tuples replaced, as keras.ops.scatter_update (= tensor_scatter_nd_update)."""
    return tensor_scatter_nd_update(inputs, indices, updates)

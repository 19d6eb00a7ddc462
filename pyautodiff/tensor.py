"""Tensor and Variable: shape, dtype and contiguous C-order storage owned by the binding."""

import array as _array
import struct as _struct
import functools
import itertools
import math
import numbers

from . import _backend as B
from . import _state as _shared
from ._state import state as _state
from .engine import run
from .errors import check
from .dtypes import (ALL_FLOATS, BOOL, CODE, CTYPE, FLOAT16, FLOAT32, FLOAT64, FLOATS, FORMAT, INT32, INT64,
                     INT_RANGE, INTS, ITEMSIZE, TYPESTR, canonical)

_lib = B.lib


shape_size = math.prod  # the number of elements of a shape (in C: every op sizes its outputs)


_new = object.__new__
_setattr = object.__setattr__
_FACTS = frozenset(("_owner", "_ptr", "shape", "dtype", "size", "ndim", "strides"))


class _Slots:
    """A Tensor's slots without the write guard: make_tensor fills one in, then makes it a Tensor (same layout).
    (Plain slot writes, then one __class__ change: a guarded or a Python-level __setattr__ in the way costs
    ~100 ns per write, and every op makes a tensor.)"""

    __slots__ = ("_owner", "_ptr", "shape", "dtype", "size", "ndim", "__weakref__")


class Tensor(_Slots):
    """An immutable n-d array. Ops make new tensors; only Variables change in place."""

    # shape/dtype/size describe the storage to the kernels, so they are read-only (as in PyTorch). They stay
    # plain slots guarded by __setattr__, not properties, because every op reads several: a property read costs
    # 3-4x a slot read. Constructors write them before the guard applies (make_tensor, _unguarded).
    __slots__ = ()
    __array_priority__ = 100  # numpy defers binary operators to us

    def __new__(cls, owner, ptr, shape: tuple, dtype: str, size: int | None = None):
        return make_tensor(owner, ptr, shape, dtype, shape_size(shape) if size is None else size)

    def __setattr__(self, name: str, value) -> None:
        if name in _FACTS:
            raise AttributeError(f"{type(self).__name__}.{name} is read-only; ad.reshape and ad.cast make new tensors")
        _setattr(self, name, value)

    def __delattr__(self, name: str) -> None:
        if name in _FACTS:
            raise AttributeError(f"{type(self).__name__}.{name} cannot be deleted")
        object.__delattr__(self, name)

    # --- facts ---
    @property
    def strides(self) -> tuple:
        """Bytes to step along each axis, as numpy's ndarray.strides (C order)."""
        return tuple(s * ITEMSIZE[self.dtype] for s in contiguous_strides(self.shape))

    @property
    def nbytes(self) -> int:
        return self.size * ITEMSIZE[self.dtype]

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    # --- values ---
    def _memview(self) -> memoryview:
        return B.view(self._ptr, self.nbytes).cast(FORMAT[self.dtype])

    def _values(self):
        """The flat values as Python numbers: the typed memoryview, or for float16 (no memoryview format) a tuple
        struct unpacks."""
        if self.dtype == FLOAT16:
            return _struct.unpack(f"<{self.size}e", B.view(self._ptr, self.nbytes))
        return self._memview()

    def tolist(self):
        flat = list(self._values()) if self.size else []
        return _nest(flat, self.shape)

    def item(self):
        if self.size != 1:
            raise ValueError(f"item: tensor of shape {self.shape} has {self.size} elements, not 1")
        return self._values()[0]

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __bool__(self) -> bool:
        return bool(self.item())

    def __index__(self) -> int:
        if self.dtype not in INTS:
            raise TypeError(f"only int32 and int64 tensors can be used as an index, not {self.dtype}")
        return int(self.item())

    @property
    def __array_interface__(self):
        return {"shape": self.shape, "typestr": TYPESTR[self.dtype],
                "data": (B.address(self._ptr), True), "version": 3}  # read-only: a Variable changes by assign only,
        # which bumps its version (a write through numpy would not, and a tape would differentiate at the new value)

    def numpy(self):
        import numpy as np
        return np.array(self)

    def __repr__(self) -> str:
        return f"<Tensor shape={self.shape} dtype={self.dtype} values={self}>"

    def __str__(self) -> str:
        """The values; above 1000 elements summarised as numpy does (3 at each end of each long axis, '...')."""
        if not self.size:
            return "[]"
        edge = 3 if self.size > 1000 else None
        digits = 4 if self.dtype == FLOAT16 else 7  # (a half's 11 bits are about 3.3 decimal digits)
        return _format(self._values(), self.shape, contiguous_strides(self.shape), 0, edge, digits)

    def __format__(self, spec: str) -> str:
        return format(self.item(), spec) if spec and self.size == 1 else str(self)

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    # --- pickle and copy: values, shape and dtype (the storage itself belongs to this process) ---
    def __reduce__(self):
        return _rebuild, (bytes(B.view(self._ptr, self.nbytes)), self.shape, self.dtype)

    def __copy__(self) -> "Tensor":
        return self  # immutable (copy.deepcopy gives new storage, through __reduce__)

    # identity hash, in C: tapes key their dicts and sets by tensors (== is elementwise, but dicts test
    # identity first and distinct live objects never share this hash, so it is never called there)
    __hash__ = object.__hash__

    def __setitem__(self, key, value) -> None:
        raise TypeError(f"a Tensor {self.shape} {self.dtype} is immutable: item assignment needs an ad.Variable "
                        f"(v[key] = value), or make a new tensor with ad.tensor_scatter_nd_update")

    # operators and indexing are attached by pyautodiff.ops (they are ops, recorded by tapes), and so are a
    # Variable's item writes (v[key] = value, v[1:3].assign(...), v.scatter_update(...))


@functools.cache
def _unguarded(cls: type) -> type:
    """cls without the write guard, for Variables (few, and with slots of their own): a new one is filled in as
    this, then its __class__ becomes cls (same layout). Each write still goes through object.__setattr__ (~100 ns):
    the many tensors ops make are filled in as _Slots instead (make_tensor)."""
    return type(f"_Unguarded{cls.__name__}", (cls,), {"__slots__": (), "__setattr__": _setattr})


def make_tensor(owner, ptr, shape: tuple, dtype: str, size: int) -> Tensor:
    """A Tensor of size elements over storage ptr, kept alive by owner."""
    t = _new(_Slots)
    t._owner = owner
    t._ptr = ptr
    t.shape = shape
    t.dtype = dtype
    t.size = size
    t.ndim = len(shape)
    t.__class__ = Tensor
    return t


def _nest(flat: list, shape: tuple):
    if not shape:
        return flat[0]
    if len(shape) == 1:
        return flat
    step = len(flat) // shape[0] if shape[0] else 0
    return [_nest(flat[i * step:(i + 1) * step], shape[1:]) for i in range(shape[0])]


def contiguous_strides(shape: tuple) -> tuple:
    """Elements to step along each axis of a C-order shape."""
    strides, step = [], 1
    for d in reversed(shape):
        strides.append(step)
        step *= d
    return tuple(reversed(strides))


_BSTRIDES: dict = {}


def broadcast_strides(shape: tuple, out_shape: tuple):
    """int64 strides for reading a contiguous `shape` over `out_shape` (0 where broadcast)."""
    key = (shape, out_shape)
    st = _BSTRIDES.get(key)
    if st is None:
        own = contiguous_strides(shape)
        pad = len(out_shape) - len(shape)
        st = tuple(0 if i < pad or shape[i - pad] == 1 else own[i - pad] for i in range(len(out_shape)))
        st = _BSTRIDES[key] = B.i64(st)
        if len(_BSTRIDES) > 8192:
            _BSTRIDES.clear()
    return st


def _broadcasts_to(shape: tuple, target: tuple) -> bool:
    return len(shape) <= len(target) and all(d in (1, t) for d, t in zip(reversed(shape), reversed(target)))


_UNIT = B.i64((1,))


def _walk(x: "Tensor", shape: tuple) -> tuple:
    """(ndim, shape, x's strides, contiguous strides) with which a kernel reads x over shape (x's own or one it
    broadcasts to) and writes a contiguous result: one flat run when the shapes are equal."""
    if x.shape == shape:
        return 1, B.i64((x.size,)), _UNIT, _UNIT
    return len(shape), B.i64(shape), broadcast_strides(x.shape, shape), B.i64(contiguous_strides(shape))


def _format(values, shape: tuple, strides: tuple, at: int, edge: int | None, digits: int) -> str:
    """The nested list of the values from flat index at on, reading only what is shown: with edge, axes longer
    than 2 * edge show their first and last edge entries around '...'; floats with digits significant digits."""
    if not shape:
        v = values[at]
        if isinstance(v, float):
            return f"{v:.{digits}g}" if not v.is_integer() or abs(v) >= 1e16 else str(int(v))
        return str(v)
    n = shape[0]
    rows = [*range(edge), None, *range(n - edge, n)] if edge and n > 2 * edge else range(n)
    return "[" + ", ".join("..." if i is None else _format(values, shape[1:], strides[1:], at + i * strides[0], edge,
                                                           digits) for i in rows) + "]"


def _rebuild(data: bytes, shape: tuple, dtype: str) -> Tensor:
    """A tensor from pickled values (Tensor.__reduce__)."""
    t = empty(_check_shape(shape, "unpickle"), canonical(dtype, "unpickle"))
    if len(data) != t.nbytes:
        raise ValueError(f"unpickle: {len(data)} bytes for a {t.shape} {t.dtype} tensor ({t.nbytes} bytes)")
    if t.size:
        B.view(t._ptr, t.nbytes)[:] = data
    return t


def empty(shape: tuple, dtype: str) -> Tensor:
    """An uninitialised tensor (for kernels to write)."""
    size = shape_size(shape)
    owner, ptr = B.alloc(size * ITEMSIZE[dtype], CTYPE[dtype])
    return make_tensor(owner, ptr, shape, dtype, size)


def _check_shape(shape, op: str) -> tuple:
    if isinstance(shape, numbers.Integral):
        shape = (shape,)
    try:
        dims = None if isinstance(shape, (str, bytes)) else tuple(shape)
    except TypeError:
        dims = None
    if dims is None or not all(isinstance(d, numbers.Integral) for d in dims):  # 2.5 is no dimension
        raise TypeError(f"{op}: shape must be a tuple of ints, got {shape!r}")
    shape = tuple(int(d) for d in dims)
    if any(d < 0 for d in shape):
        raise ValueError(f"{op}: negative dimension in shape {shape}")
    if len(shape) > B.C.AD_MAX_NDIM:
        raise ValueError(f"{op}: at most {B.C.AD_MAX_NDIM} dimensions, got shape {shape}")
    if shape_size(d for d in shape if d) * 8 >= 2**62:  # zero-size too, as numpy: strides multiply the others
        if 0 in shape:
            raise ValueError(f"{op}: shape {shape} is too large (its nonzero dimensions overflow a size)")
        raise MemoryError(f"{op}: shape {shape} is too large to allocate")
    return shape


def fill_value(value, dtype: str, op: str):
    """value as a constant of dtype (full's value, pad's constant_values): a real number (numpy scalars too), in
    range for an integer dtype (which truncates it toward zero); TypeError / ValueError naming op otherwise."""
    if (isinstance(value, Tensor) or type(value).__module__ == "numpy") and getattr(value, "shape", None) == ():
        value = value.item()  # 0-d tensors and numpy's scalars (np.True_ is no numbers.Real)
    if not isinstance(value, numbers.Real):  # (bool is a number, as in numpy)
        raise TypeError(f"{op}: value must be a real number, got {type(value).__name__} {value!r}")
    if dtype in INTS and not INT_RANGE[dtype][0] <= value < INT_RANGE[dtype][1]:
        raise ValueError(f"{op}: value {value!r} is out of range for {dtype}")
    return value


def fill(t: Tensor, value, op: str) -> None:
    """Every element of t = value (checked by fill_value), as a kernel call traces record."""
    if t.dtype == INT64 and float(int(value)) != value:  # the fill kernel takes a double, exact below 2^53
        one = array(int(value), INT64, op)
        ndim, shape64, ones, strides = _walk(one, t.shape)
        run(op, (one, t), _lib.ad_copy, CODE[INT64], ndim, shape64, one._ptr, ones, t._ptr, strides)
    else:
        run(op, (t,), _lib.ad_fill, CODE[t.dtype], t.size, float(value), t._ptr)


def full(shape, value, dtype=None) -> Tensor:
    dtype = canonical(dtype, "full") or FLOAT32
    value = fill_value(value, dtype, "full")
    return _filled(_check_shape(shape, "full"), value, dtype, "full")


def _filled(shape: tuple, value, dtype: str, op: str) -> Tensor:
    t = empty(shape, dtype)
    fill(t, value, op)
    return t


def zeros(shape, dtype="float32") -> Tensor:
    return full(shape, 0.0, dtype)


def ones(shape, dtype="float32") -> Tensor:
    return full(shape, 1.0, dtype)


def zeros_like(x, dtype=None) -> Tensor:
    x = as_tensor(x)
    return _filled(x.shape, 0.0, canonical(dtype, "zeros_like") or x.dtype, "zeros_like")


def ones_like(x, dtype=None) -> Tensor:
    x = as_tensor(x)
    return _filled(x.shape, 1.0, canonical(dtype, "ones_like") or x.dtype, "ones_like")


# the kinds of Python values in a nested list, ranked: the result's dtype follows the highest (numpy's rule)
_BOOLS, _INTEGERS, _REALS = 0, 1, 2


def _flatten(value, op: str):
    """Nested lists/tuples of numbers -> (flat list, shape, kind: _BOOLS, _INTEGERS or _REALS of the highest value
    seen); ragged or non-numeric raises."""
    if isinstance(value, (list, tuple)):
        if not value:
            return [], (0,), _INTEGERS
        parts = [_flatten(v, op) for v in value]
        shape0 = parts[0][1]
        if any(p[1] != shape0 for p in parts):
            raise ValueError(f"{op}: ragged nested sequence: sub-shapes {sorted({p[1] for p in parts})}")
        flat = [x for p in parts for x in p[0]]
        return flat, (len(value),) + shape0, max(p[2] for p in parts)
    if type(value).__module__ == "numpy" and hasattr(value, "tolist"):  # numpy arrays and scalars inside lists
        return _flatten(value.tolist(), op)
    if isinstance(value, bool):
        return [value], (), _BOOLS
    if isinstance(value, numbers.Integral):
        return [int(value)], (), _INTEGERS
    if isinstance(value, numbers.Real):
        return [float(value)], (), _REALS
    if isinstance(value, Tensor):
        kind = _REALS if value.dtype in ALL_FLOATS else _BOOLS if value.dtype == BOOL else _INTEGERS
        return value.tolist() if value.shape else [value.item()], value.shape, kind
    raise TypeError(f"{op}: cannot make a tensor from {type(value).__name__} value {value!r}")


def _numpy_dtype(value) -> str:
    """The dtype a numpy array becomes (as tf.convert_to_tensor): bool, float64, float16, int64 (and uint32 / uint64,
    which int32 cannot hold), the other floats float32 and the other integers int32."""
    kind, size = value.dtype.kind, value.dtype.itemsize
    if kind == "b":
        return BOOL
    if kind == "f":
        return FLOAT64 if size == 8 else FLOAT16 if size == 2 else FLOAT32
    return INT64 if size == 8 or (kind == "u" and size == 4) else INT32


def _from_numpy(value, dtype, op):
    import numpy as np
    if value.dtype.kind not in "biuf":
        raise TypeError(f"{op}: cannot make a tensor from a numpy array of dtype {value.dtype}")
    if dtype is None:
        dtype = _numpy_dtype(value)
    if dtype in INTS and value.dtype.kind == "f":
        return _cast(_from_numpy(value, FLOAT64, op), dtype, op)
    if dtype in INTS and value.dtype.kind in "iu" and value.size and not (
            INT_RANGE[dtype][0] <= int(value.min()) and int(value.max()) < INT_RANGE[dtype][1]):  # numpy would wrap
        raise ValueError(f"{op}: a numpy array of shape {value.shape} and dtype {value.dtype} holds values outside "
                         f"{dtype} ([{value.min()}, {value.max()}]); use a wider dtype for them")
    arr = np.asarray(value, dtype=dtype, order="C")  # (ascontiguousarray would make 0-d 1-d)
    shape = _check_shape(arr.shape, op)
    t = empty(shape, dtype)
    if t.size:
        B.view(t._ptr, t.nbytes)[:] = memoryview(arr).cast("B")
    return t


def _int_dtype(flat: list, op: str) -> str:
    """int32 for Python ints, int64 when one does not fit (as tf.constant); ValueError beyond int64."""
    lo, hi = (min(flat), max(flat)) if flat else (0, 0)
    for dtype in INTS:
        if INT_RANGE[dtype][0] <= lo and hi < INT_RANGE[dtype][1]:
            return dtype
    raise ValueError(f"{op}: integer values in [{lo}, {hi}] do not fit int64; use float64 for them")


def array(value, dtype=None, _op: str = "array") -> Tensor:
    """A new tensor from a Python scalar, nested lists, a numpy array or another Tensor (always a copy)."""
    dtype = canonical(dtype, _op)
    if isinstance(value, Tensor):  # a copy no tape records, as torch.tensor(t) (ad.copy is the recorded one)
        y = empty(value.shape, dtype or value.dtype)
        if y.size and y.dtype == value.dtype:
            run(_op, (value, y), _lib.ad_copy, CODE[y.dtype], 1, B.i64((y.size,)), value._ptr, _UNIT, y._ptr, _UNIT)
        elif y.size:
            run(_op, (value, y), _lib.ad_cast, CODE[value.dtype], CODE[y.dtype], y.size, value._ptr, y._ptr)
        return y
    if type(value).__module__ == "numpy" and hasattr(value, "dtype"):
        return _from_numpy(value, dtype, _op)
    flat, shape, kind = _flatten(value, _op)
    shape = _check_shape(shape, _op)
    if dtype is None:
        dtype = FLOAT32 if kind == _REALS else BOOL if kind == _BOOLS else _int_dtype(flat, _op)
    # reals to a non-float, and anything to float16 (array.array has none), go through the cast kernel: truncation,
    # range checks, != 0, float16's rounding
    if (kind == _REALS and dtype not in FLOATS) or dtype == FLOAT16:
        return _cast(array(flat and [float(v) for v in flat], FLOAT64, _op), dtype, _op, shape)
    t = empty(shape, dtype)
    if t.size:
        try:
            data = bytes(map(bool, flat)) if dtype == BOOL else _array.array(FORMAT[dtype], flat)
        except OverflowError:
            raise ValueError(f"{_op}: value out of range for {dtype} (shape {shape})") from None
        B.view(t._ptr, t.nbytes)[:] = memoryview(data).cast("B")
    return t


def _cast(x: Tensor, dtype: str, op: str, shape: tuple | None = None) -> Tensor:
    """x as dtype, of shape (default x's): the cast kernel truncates floats toward zero as numpy does, and
    refuses NaN, inf and values out of range for an integer dtype (as ad.cast does)."""
    y = empty(x.shape if shape is None else shape, dtype)
    check(op, _lib.ad_cast(CODE[x.dtype], CODE[dtype], x.size, x._ptr, y._ptr), x, y)
    return y


_SCALARS: dict = {}


def float_key(value):
    """A dict key that tells -0.0 from 0.0, 1 from 1.0, and matches a NaN with itself."""
    return (type(value), _struct.pack("<d", value)) if isinstance(value, float) else (type(value), value)


def as_tensor(value, dtype=None, op: str = "op") -> Tensor:
    """Tensors pass through; Python scalars/lists/numpy arrays become tensors (of dtype when given)."""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool) and dtype is not None:
        key = (float_key(value), dtype)
        t = _SCALARS.get(key)
        if t is None:  # constants such as the 2 in x * 2 are made once
            if len(_SCALARS) > 1024:
                _SCALARS.clear()
            t = _SCALARS[key] = array(value, dtype, op)
        return t
    return array(value, dtype, op)


def constant(value, dtype=None) -> Tensor:
    return array(value, dtype, "constant")


class Variable(Tensor):
    """A mutable tensor: assign/assign_add/assign_sub write its storage in place."""

    __slots__ = ("name", "trainable", "version", "constraint")
    _names = itertools.count(1)  # next() on it is atomic: two threads never get one name

    def __new__(cls, *args, **kwargs):
        return _new(_unguarded(cls))  # __init__ fills it in, then makes it a cls

    def __init__(self, value, name: str | None = None, trainable: bool = True, dtype=None):
        self._take(array(value, dtype, "Variable"), name, trainable)

    @classmethod
    def _over(cls, t: Tensor, name: str, trainable: bool) -> "Variable":
        """A Variable over the storage of t, a fresh tensor nobody else holds, without copying it: the kernel call
        that filled t then wrote the Variable's own storage, which a tracing Function leaves out of its replays
        (plan.without_initializers), instead of replaying it into a copy nothing reads (an Adam step as a
        Function re-filled its moments' initial zeros every call: 7% of the MLP step)."""
        v = cls.__new__(cls)
        v._take(t, name, trainable)
        return v

    def _take(self, t: Tensor, name: str | None, trainable: bool) -> None:
        self._owner, self._ptr, self.shape, self.dtype, self.size, self.ndim = (
            t._owner, t._ptr, t.shape, t.dtype, t.size, t.ndim)
        self.version = 0  # counts in-place writes; tapes refuse gradients through a changed value
        if _state.created is not None:  # a Function is tracing: its replays must not re-initialise us
            _state.created.append((self, len(_state.tracer)))
        self.name = name or f"Variable_{next(Variable._names)}"
        self.trainable = trainable
        self.constraint = None  # a projection optimizers apply after each update (Keras' variable.constraint)
        self.__class__ = type(self).__base__  # the guard on from here

    def __reduce__(self):  # (copy.copy too: two Variables sharing storage would dodge each other's versions)
        return type(self), (self.value(), self.name, self.trainable), (None, {"constraint": self.constraint})

    __copy__ = None

    def __setattr__(self, name: str, value) -> None:
        Tensor.__setattr__(self, name, value)
        if name == "trainable":  # layers cache their lists of trainable variables
            _shared.weights_changed()

    def _written(self) -> None:
        """Called after every in-place write: tapes compare versions, a tracing Function notes the write."""
        _set_version(self, self.version + 1)  # (the slot's own setter: no trip through the write guard)
        if _state.tracer is not None:
            _state.wrote = True

    # value(), a snapshot that tapes record, is an op: pyautodiff/ops/__init__.py attaches it, as the operators

    def _incoming(self, value, op: str) -> Tensor:
        t = as_tensor(value, self.dtype, op)
        if t.dtype != self.dtype:
            raise TypeError(f"{op}: variable {self.name!r} is {self.dtype}, value is {t.dtype}")
        if not _broadcasts_to(t.shape, self.shape):
            raise ValueError(f"{op}: variable {self.name!r} has shape {self.shape}, value has shape {t.shape}")
        return t

    def assign(self, value) -> "Variable":
        """Overwrite the values in place (value broadcasts to the shape); never recorded by a tape."""
        t = self._incoming(value, "assign")
        if self.size:
            ndim, shape, tstrides, strides = _walk(t, self.shape)
            run("assign", (t, self), _lib.ad_copy, CODE[self.dtype], ndim, shape, t._ptr, tstrides, self._ptr, strides)
        self._written()
        return self

    def assign_add(self, delta) -> "Variable":
        return self._update_in_place(B.BINARY["add"], delta, "assign_add")

    def assign_sub(self, delta) -> "Variable":
        return self._update_in_place(B.BINARY["subtract"], delta, "assign_sub")

    def _update_in_place(self, kernel_op: int, delta, op: str) -> "Variable":
        """self = self op delta in one kernel call, writing where it reads; never recorded by a tape."""
        t = self._incoming(delta, op)
        if self.size:
            ndim, shape, tstrides, strides = _walk(t, self.shape)
            run(op, (self, t), _lib.ad_binary, kernel_op, CODE[self.dtype], ndim, shape, self._ptr, strides, t._ptr,
                tstrides, self._ptr)
        self._written()
        return self

    def __repr__(self) -> str:
        return f"<Variable name={self.name!r} shape={self.shape} dtype={self.dtype} values={self}>"


_set_version = Variable.__dict__["version"].__set__

"""The machinery every op uses: outputs, recording on tapes, numerics checks, dtype/shape rules, broadcasting.

The op table itself is in pyautodiff/optable.py and the kernel call in pyautodiff/engine.py (below the tape and
the tensors); they are re-exported here for the op modules."""

import operator
import os
import sys

from .. import _backend as B
from ..dtypes import ALL_FLOATS, CODE, CTYPE, FLOATS, ITEMSIZE, canonical
# (re-exported for the op modules: the kernel call, the op table, the tensor helpers they use)
from ..engine import run  # noqa: F401
from ..errors import NumericsError, check, describe, not_float
from ..optable import ACTIVATIONS, EXPORTED, FUNCTIONS, GRAD_DY, OPS, Op, defop, public, register  # noqa: F401
from ..tape import record
from ..tape import state as _tape_state
from ..tensor import Tensor, as_tensor, broadcast_strides, contiguous_strides, make_tensor, shape_size  # noqa: F401

lib = B.lib
C = B.C
_alloc = B.alloc
i64 = B.i64


def out_like(shape: tuple, dtype: str) -> Tensor:
    size = shape_size(shape)  # (empty(), inlined: every op makes its outputs here)
    owner, ptr = _alloc(size * ITEMSIZE[dtype], CTYPE[dtype])
    t = make_tensor(owner, ptr, shape, dtype, size)
    tracer = _tape_state.tracer  # ... and keeps every buffer they touch alive
    if tracer is not None:
        tracer.append(t)
    return t


# Set by ad.debug.enable_check_numerics(), process-wide (as in TensorFlow): emit then checks every float output.
check_numerics = False


def emit(op: Op, inputs: tuple, out, attrs: dict | None = None):
    """Record the application on the active tapes (cheap when there are none)."""
    if check_numerics:
        for t in out if type(out) is tuple else (out,):
            if nonfinite(op.name, t):
                _numerics_error(op.name, inputs, t)
    if _tape_state.tapes and op.vjp is not None:
        return record(op, inputs, out, attrs)
    return out


def nonfinite(what: str, t) -> bool:
    """Whether float tensor t holds a NaN or an infinity. A Function tracing records the check, so its
    replays check too (and fail naming `what`)."""
    if not isinstance(t, Tensor) or t.dtype not in ALL_FLOATS or not t.size:
        return False
    args = (CODE[t.dtype], t.size, t._ptr)
    status = lib.ad_all_finite(*args)
    tracer = _tape_state.tracer
    if tracer is not None:
        tracer.append((lib.ad_all_finite, args, (t,), what))
    if status and status != C.AD_ENONFINITE:
        check(what, status, t)
    return bool(status)


def _numerics_error(name: str, inputs: tuple, out: Tensor):
    bad = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.dtype in ALL_FLOATS and t.size
           and lib.ad_all_finite(CODE[t.dtype], t.size, t._ptr)]
    origin = f"input {bad[0]} already held NaN or inf" if bad else "its inputs were finite"
    raise NumericsError(f"check_numerics: op {name!r} produced NaN or inf in its output {out.shape} {out.dtype} "
                        f"(inputs: {describe(*[t for t in inputs if isinstance(t, Tensor)]) or 'none'}; {origin})")


def need_float(name: str, *tensors) -> None:
    for t in tensors:
        if t.dtype not in FLOATS:
            raise not_float(name, *tensors)


def broadcast_shape(name: str, *shapes) -> tuple:
    ndim = max(len(s) for s in shapes)
    out = []
    for i in range(ndim):
        dims = {s[i - ndim + len(s)] for s in shapes if i - ndim + len(s) >= 0}
        dims.discard(1)
        if len(dims) > 1:
            raise ValueError(f"{name}: shapes {' and '.join(str(s) for s in shapes)} cannot be broadcast")
        out.append(dims.pop() if dims else 1)
    return tuple(out)


def as_int(name: str, value, what: str = "axis") -> int:
    """An int argument (axis, dimension, count...) as a Python int: ints, numpy integer scalars and integer
    scalar tensors (anything with __index__), never bools, floats or strings."""
    if type(value) is int:
        return value
    if not (isinstance(value, bool) or type(value).__name__ == "bool_"):
        try:
            return operator.index(value)
        except TypeError:
            pass
    raise TypeError(f"{name}: {what} must be an int, got {type(value).__name__} {value!r}")


def as_ints(name: str, values, what: str = "shape") -> tuple:
    """A shape-like argument (an int or a sequence of ints, as as_int takes them) as a tuple of Python ints."""
    if type(values) is tuple and all(type(v) is int for v in values):
        return values
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__") or getattr(values, "ndim", 1) == 0:
        try:
            return (as_int(name, values, what),)
        except TypeError:
            raise TypeError(f"{name}: {what} must be an int or a sequence of ints, got {values!r}") from None
    return tuple(as_int(name, v, f"each entry of {what}") for v in values)


def need_dtype(name: str, dtype) -> str:
    """A dtype argument that must be given (None is not one)."""
    if dtype is None:
        raise TypeError(f"{name}: dtype must be float32, float64, int32, int64 or bool, got None")
    return canonical(dtype, name)


def _memory_bytes() -> int:
    """The machine's memory, or the address space where it is not known (Pyodide: there it is the smaller)."""
    try:
        return min(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"), sys.maxsize)
    except (AttributeError, ValueError, OSError):
        return sys.maxsize


MEMORY_BYTES = _memory_bytes()


def new_output(name: str, shape: tuple, dtype: str):
    """out_like for an output whose size the arguments choose (repeat counts, depths, target shapes): one larger
    than the machine's memory fails naming the op and the shape before any memory or time is spent on it (an
    overcommitting malloc would accept it, and the kernel filling it would then exhaust the machine)."""
    nbytes = shape_size(shape) * ITEMSIZE[dtype]
    message = f"{name}: cannot allocate an output of shape {shape} {dtype} ({nbytes} bytes)"
    if nbytes > MEMORY_BYTES or any(d > sys.maxsize for d in shape):
        raise MemoryError(message)
    try:
        return out_like(shape, dtype)
    except MemoryError:
        raise MemoryError(message) from None


def normalize_axis(name: str, axis, ndim: int, x=None) -> int:
    axis = as_int(name, axis)
    if not -ndim <= axis < ndim:
        extra = f" for a tensor of shape {x.shape}" if x is not None else ""
        raise ValueError(f"{name}: axis {axis} is out of range{extra} (rank {ndim})")
    return axis % ndim


def normalize_axes(name: str, axis, x) -> tuple:
    if axis is None:
        return tuple(range(x.ndim))
    axes = axis if isinstance(axis, (list, tuple)) else (axis,)
    out = tuple(sorted({normalize_axis(name, a, x.ndim, x) for a in axes}))
    if len(out) != len(axes):
        raise ValueError(f"{name}: repeated axis in {axis!r}")
    return out


def view3(shape: tuple, axis: int) -> tuple:
    """shape seen as (outer, shape[axis], inner), the layout of the kernels that work along one axis."""
    return shape_size(shape[:axis]), shape[axis], shape_size(shape[axis + 1:])


def itemsize(t: Tensor) -> int:
    return ITEMSIZE[t.dtype]


def code(t: Tensor) -> int:
    return CODE[t.dtype]

"""The machinery every op uses: the op table, kernel calls, dtype/shape rules, broadcasting."""

import operator
import os
import sys

from .. import _backend as B
from ..dtypes import CODE, CTYPE, FLOATS, ITEMSIZE, canonical
from ..tape import record
from ..tape import state as _tape_state
from ..tensor import Tensor, as_tensor, contiguous_strides, make_tensor, shape_size

lib = B.lib
C = B.C
_alloc = B.alloc
i64 = B.i64


class Op:
    """One entry of the op table: a name and its vector-Jacobian product (None: not differentiable).

    vjp(g, node, needs) returns one gradient (or None) per input; g is the upstream gradient
    (a tuple for multi-output ops), node holds inputs, outputs and attrs, needs[i] says whether
    input i's gradient is wanted. vjps are written with ops, so they are differentiable too.
    """

    __slots__ = ("name", "vjp")

    def __init__(self, name: str, vjp):
        self.name = name
        self.vjp = vjp

    def __repr__(self):
        return f"<Op {self.name}>"


OPS: dict[str, Op] = {}
# name -> function: the ops `import pyautodiff` exports, registered by their rows (see `public`)
PUBLIC: dict = {}
# activation name -> its function of one tensor: what layers, the fused dense and the page accept by name
ACTIVATIONS: dict = {}
# activation name -> d/dy of its gradient g * f'(y), written with ops (absent where it is 0): higher orders
GRAD_DY: dict = {}


def defop(name: str, vjp=None) -> Op:
    if name in OPS:
        raise RuntimeError(f"op {name!r} defined twice")
    OPS[name] = op = Op(name, vjp)
    return op


def public(fn):
    """Export fn by its name from pyautodiff (decorator; the row helpers register their ops themselves)."""
    PUBLIC[fn.__name__] = fn
    return fn


def run(name: str, operands: tuple, kernel, *args) -> None:
    """Call a kernel; a non-zero status becomes the exception the API promises."""
    status = kernel(*args)
    if status:
        if status == C.AD_EDTYPE and any(t.dtype not in FLOATS for t in operands if isinstance(t, Tensor)):
            raise TypeError(f"{name}: expects float32 or float64 tensors, got {describe(*operands)}")
        from ..tensor import _check
        _check(name, status, *operands)
    tracer = _tape_state.tracer  # a Function tracing in this thread records every kernel call
    if tracer is not None:
        tracer.append((kernel, args, operands, name))


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
    if not isinstance(t, Tensor) or t.dtype not in FLOATS or not t.size:
        return False
    args = (CODE[t.dtype], t.size, t._ptr)
    status = lib.ad_all_finite(*args)
    tracer = _tape_state.tracer
    if tracer is not None:
        tracer.append((lib.ad_all_finite, args, (t,), what))
    if status and status != C.AD_ENONFINITE:
        from ..tensor import _check
        _check(what, status, t)
    return bool(status)


def _numerics_error(name: str, inputs: tuple, out: Tensor):
    from ..debug import NumericsError
    bad = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.dtype in FLOATS and t.size
           and lib.ad_all_finite(CODE[t.dtype], t.size, t._ptr)]
    origin = f"input {bad[0]} already held NaN or inf" if bad else "its inputs were finite"
    raise NumericsError(f"check_numerics: op {name!r} produced NaN or inf in its output {out.shape} {out.dtype} "
                        f"(inputs: {describe(*[t for t in inputs if isinstance(t, Tensor)]) or 'none'}; {origin})")


def describe(*tensors) -> str:
    return ", ".join(f"{t.shape} {t.dtype}" for t in tensors)


def need_float(name: str, *tensors) -> None:
    for t in tensors:
        if t.dtype not in FLOATS:
            raise TypeError(f"{name}: expects float32 or float64 tensors, got {describe(*tensors)}")


def coerce(name: str, *values) -> list:
    """Make tensors of a common dtype: Python values take the dtype of the float tensor operands.

    Two tensors of different float dtypes are an error (as in TensorFlow); without a float tensor,
    values convert by their own kind and int32 meeting a float becomes float32, as Python's int/float
    arithmetic does.
    """
    tensors = [v for v in values if isinstance(v, Tensor)]
    floats = {t.dtype for t in tensors} & set(FLOATS)
    if len(floats) > 1:
        raise TypeError(f"{name}: dtype mismatch: {describe(*tensors)}; cast one operand first")
    out = [as_tensor(v, next(iter(floats), None), name) for v in values]
    dtype = next(iter(floats), None) or (FLOATS[0] if any(t.dtype in FLOATS for t in out) else None)
    if dtype is not None and any(t.dtype != dtype for t in out):
        from .shape import cast
        out = [cast(t, dtype) for t in out]
    return out


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


_BSTRIDES: dict = {}


def broadcast_strides(shape: tuple, out_shape: tuple):
    """int64 strides for reading a contiguous `shape` over `out_shape` (0 where broadcast)."""
    key = (shape, out_shape)
    st = _BSTRIDES.get(key)
    if st is None:
        own = contiguous_strides(shape)
        pad = len(out_shape) - len(shape)
        st = tuple(0 if i < pad or shape[i - pad] == 1 else own[i - pad] for i in range(len(out_shape)))
        st = _BSTRIDES[key] = i64(st)
        if len(_BSTRIDES) > 8192:
            _BSTRIDES.clear()
    return st


def as_int(name: str, value, what: str = "axis") -> int:
    """An int argument (axis, dimension, count...) as a Python int: ints, numpy integer scalars and int32
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
        raise TypeError(f"{name}: dtype must be float32, float64 or int32, got None")
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

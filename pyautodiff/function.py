"""Function: trace a Python function once per input signature, then replay its kernel calls.

A trace runs the body once with placeholder tensors while `ops._tape.state.tracer` records every kernel call.
The tensors created during the trace are its buffers: they stay alive with the trace, so a replay is
"copy the new argument values into the placeholders, run the recorded kernel calls in a flat loop (one
`ad_plan_run` call into C when every kernel is in the plan table), copy the outputs out". Variables are
read and written in place by the recorded kernels, which is why assignments between calls are seen and
updates made by the body persist. Under a GradientTape the call is one node whose backward is the
trace's own backward pass, traced once (on first use) and replayed the same way.
"""

import bisect
import ctypes
import inspect
import struct
import threading
import types
import warnings
from collections import OrderedDict, deque

from . import _backend as B
from . import _state
from . import tape as _tape
from ._plan_table import KERNELS, SIGNATURE
from .dtypes import CODE, FLOATS
from .ops import _core
from .tensor import Tensor, Variable, empty, float_key

__all__ = ["Function", "function"]

MAX_TRACES = 64  # per Function; the least recently used trace is dropped beyond this
RETRACE_WARN = 5  # warn once when this many of the last RETRACE_WINDOW calls traced
RETRACE_WINDOW = 10

_lib = B.lib
_ONE = B.i64((1,))
_PLAN_OK = hasattr(_lib, "ad_plan_run") and _lib.ad_plan_signature() == SIGNATURE
_NATIVE = B.info["binding"] == "cffi"
_tensor_address = B.address


class Function:
    """A Python function made into a calculation graph, traced once per input signature.

    `Function(fn)` or `@function`. The input signature is the shapes and dtypes of the tensor arguments,
    the identity of Variable arguments and the values of the other arguments (Python scalars, strings,
    None, hashable objects; lists, tuples and dicts of these are walked). The first call with a new
    signature runs `fn` once, recording its kernel calls; later calls with that signature replay them
    without running the Python body. `trace_count` counts the traces made.

    What tracing freezes (as with tf.function):
      * Python side effects (print, appending to a list, counters) happen only while tracing.
      * Values read in Python during the trace (`float(t)`, `if t > 0:`, Python loops over tensor
        values) are frozen into the graph; so are tensors created from Python values in the body.
      * Variables, captured by closure or passed in, are read and written where they live: values
        assigned between calls are seen, and the body's `assign`/optimizer updates happen on every call.
        Variables the body creates while tracing (a model or an optimizer's slots built on the first
        call) are created once: the kernel calls that computed their initial values are not replayed.
    Non-tensor results (Python numbers computed from tensors...) are those of the trace. Tensor results
    are fresh tensors on every call. Under a GradientTape the call is differentiable; higher-order
    gradients through it run the Python body again, eagerly. Replays of one trace from several threads
    are serialised; tracing itself is process-wide (do not trace while other threads record tapes).
    """

    def __init__(self, fn, name: str | None = None):
        if not callable(fn):
            raise TypeError(f"Function: expects a callable, got {type(fn).__name__}")
        self._fn = fn
        self.__name__ = name or getattr(fn, "__name__", type(fn).__name__)
        if self.__name__ == "<lambda>":
            self.__name__ = "lambda"
        self.__doc__ = getattr(fn, "__doc__", None)
        self.__wrapped__ = fn
        self._traces: OrderedDict = OrderedDict()
        self._recent: deque = deque(maxlen=RETRACE_WINDOW)
        self._warned = False
        self.trace_count = 0

    def __repr__(self) -> str:
        return f"<Function {self.__name__} traces={self.trace_count}>"

    def __get__(self, obj, objtype=None):
        """Decorating a method: the instance becomes the first (hashable, by identity) argument."""
        return self if obj is None else types.MethodType(self, obj)

    def __call__(self, *args, **kwargs):
        if _tape.state.tracer is not None:  # called while another Function traces: inline into that trace
            return self._fn(*args, **kwargs)
        tensors: list = []
        key = _signature(self.__name__, args, kwargs, tensors)
        trace = self._traces.get(key)
        if trace is None:
            return self._trace(key, args, kwargs, tensors)
        self._traces.move_to_end(key)
        self._recent.append(False)
        return trace.results(tensors, args, kwargs, *trace.run_forward(tensors))

    # --- tracing ---
    def _trace(self, key, args, kwargs, tensors):
        _check_arity(self, args, kwargs)
        trace = _Trace(self)
        result = trace.record(args, kwargs, tensors)
        self._traces[key] = trace
        if len(self._traces) > MAX_TRACES:
            self._traces.popitem(last=False)
        self.trace_count += 1
        self._recent.append(True)
        if not self._warned and sum(self._recent) >= RETRACE_WARN and self.trace_count > RETRACE_WARN:
            self._warned = True
            warnings.warn(
                f"Function {self.__name__}: {sum(self._recent)} of the last {len(self._recent)} calls traced "
                f"the body again ({self.trace_count} traces so far). Retracing is slow: pass tensors of "
                "fixed shapes and dtypes, and avoid Python values that change from call to call.",
                RuntimeWarning, stacklevel=3)
        return result


def function(fn=None, *, name: str | None = None):
    """Decorator form of Function: `@function` or `@function(name="step")`."""
    if fn is None:
        return lambda f: Function(f, name)
    return Function(fn, name)


# --- input signatures ------------------------------------------------------------------------------

_SCALARS = (int, float, bool, str, bytes, type(None), complex)


def _signature(name: str, args: tuple, kwargs: dict, tensors: list) -> tuple:
    """A hashable key of the call; the tensor and Variable leaves are appended to `tensors` in order."""
    # a trace made with the checks on replays them; one made before its calls went stale is not replayed
    key = [len(args), _core.check_numerics, _state.traces_epoch]
    for a in args:
        if type(a) is Tensor:
            key.append(a.shape)
            key.append(a.dtype)
            tensors.append(a)
        else:
            _leaf(name, a, key, tensors)
    if kwargs:
        for k in sorted(kwargs):
            key.append(("kw", k))
            _leaf(name, kwargs[k], key, tensors)
    return tuple(key)


def _leaf(name: str, a, key: list, tensors: list) -> None:
    if isinstance(a, Variable):
        key.append(("var", id(a)))
        tensors.append(a)
    elif isinstance(a, Tensor):
        key.append(a.shape)
        key.append(a.dtype)
        tensors.append(a)
    elif isinstance(a, _SCALARS):
        key.append(float_key(a))
    elif isinstance(a, (list, tuple)):
        key.append((type(a), len(a)))
        for x in a:
            _leaf(name, x, key, tensors)
    elif isinstance(a, dict):
        keys = sorted(a, key=repr)
        key.append((dict, tuple(keys)))
        for k in keys:
            _leaf(name, a[k], key, tensors)
    elif type(a).__module__ == "numpy" and hasattr(a, "dtype"):
        raise TypeError(f"Function {name}: numpy arrays cannot be traced; pass ad.array(...) instead")
    else:
        try:
            hash(a)
        except TypeError:
            raise TypeError(f"Function {name}: cannot trace an argument of type {type(a).__name__}: pass "
                            "tensors, Variables, Python scalars, strings, hashable objects, or lists, tuples "
                            "and dicts of them") from None
        key.append(("obj", a))


def _substitute(a, leaves):
    """The argument structure with its tensor leaves replaced by the next items of `leaves`."""
    if isinstance(a, Tensor):
        return next(leaves)
    if isinstance(a, (list, tuple)):
        items = [_substitute(x, leaves) for x in a]
        return type(a)(items) if type(a) in (list, tuple) else type(a)(*items)
    if isinstance(a, dict):
        return {k: _substitute(a[k], leaves) for k in sorted(a, key=repr)}
    return a


def _check_arity(f: Function, args: tuple, kwargs: dict) -> None:
    try:
        sig = inspect.signature(f._fn)
    except (TypeError, ValueError):
        return
    try:
        sig.bind(*args, **kwargs)
    except TypeError as e:
        raise TypeError(f"Function {f.__name__}: {e}") from None


def _flatten_out(value, leaves: list):
    """(structure, tensor leaves): tensors in `value` are replaced by their index in `leaves`."""
    if isinstance(value, Tensor):
        leaves.append(value)
        return _Leaf(len(leaves) - 1)
    if isinstance(value, (list, tuple)):
        items = [_flatten_out(x, leaves) for x in value]
        return type(value)(items) if type(value) in (list, tuple) else type(value)(*items)
    if isinstance(value, dict):
        return {k: _flatten_out(v, leaves) for k, v in value.items()}
    return value


class _Leaf:
    __slots__ = ("index",)

    def __init__(self, index: int):
        self.index = index


def _rebuild(structure, values: list):
    if type(structure) is _Leaf:
        return values[structure.index]
    if isinstance(structure, (list, tuple)):
        items = [_rebuild(x, values) for x in structure]
        return type(structure)(items) if type(structure) in (list, tuple) else type(structure)(*items)
    if isinstance(structure, dict):
        return {k: _rebuild(v, values) for k, v in structure.items()}
    return structure


# --- recording ------------------------------------------------------------------------------------


class _Recording:
    """Swap in a tracer list and hide the outer tapes while a body (or a backward pass) is traced.

    Variables created meanwhile are noted with their position in the entries (Variable.__init__ looks
    at the thread's state), so that the kernel calls which computed their initial values can be left out
    of the replay."""

    def __enter__(self):
        self.entries: list = []
        self.created: list = []
        state = _tape.state
        self.saved = (list(state.tapes), state.tracer, state.created, state.wrote)
        state.tapes.clear()
        state.tracer, state.created, state.wrote = self.entries, self.created, False
        return self

    def __exit__(self, *exc):
        state = _tape.state
        self.wrote = state.wrote
        state.tapes[:], state.tracer, state.created, state.wrote = self.saved
        return False


def _copy_buffer(src: Tensor, dst: Tensor) -> None:
    if dst.size:
        _status("copy", _lib.ad_copy(CODE[dst.dtype], 1, B.i64((dst.size,)), src._ptr, _ONE, dst._ptr, _ONE))


def _fresh_copy(t: Tensor) -> Tensor:
    out = empty(t.shape, t.dtype)
    _copy_buffer(t, out)
    return out


def _status(what: str, status: int) -> None:
    if status:
        from .tensor import _check
        _check(what, status)


def _io_copy(t: Tensor) -> tuple:
    """A copy entry moving values in or out of a program through t; its source or destination is patched per
    call. (The entry holds its i64 argument: B.i64's cache is no owner.)"""
    return (_lib.ad_copy, (CODE[t.dtype], 1, B.i64((t.size,)), t._ptr, _ONE, t._ptr, _ONE), (t,), "copy")


_SRC, _DST = 3, 5  # the argument positions of ad_copy's source and destination pointers


class _Program:
    """Kernel calls compiled into C plan segments, and Python calls for the kernels the plan lacks.

    The calls are: copies of the call's inputs into the placeholders, the recorded calls, copies of the
    results into fresh tensors. The copies' outer pointers are patched before every run, so a replay
    whose kernels are all in the plan table is one ad_plan_run call. The recorded calls are reordered so
    that the writes to Variables come as late as they can (see _writes_last)."""

    def __init__(self, name: str, entries: list, copy_in: list, copy_out: list):
        self.name = name
        recorded = [e for e in entries if type(e) is tuple]
        owners = [e for e in entries if type(e) is not tuple] + copy_in + copy_out
        access, variables = _storage(recorded, owners)
        order = _writes_last(access, variables)
        recorded = [recorded[i] for i in order]
        calls = [_io_copy(p) for p in copy_in] + recorded + [_io_copy(t) for t in copy_out]
        self.keep = owners  # with self.calls: every buffer whose address the words hold stays alive with them
        self.calls = calls
        wrote = [[v for s in access[i][1] if s in variables for v in variables[s].values()] for i in order]
        self.wrote = [()] * len(copy_in) + wrote + [()] * len(copy_out)  # the Variables each call writes
        self.kernel_calls = len(recorded)
        self.steps: list = []
        slots = []  # (step, argument position) of each call's first argument
        segment: list = []
        used = 2  # the words of the segment so far: its header, then each entry's id and arguments
        for at, (kernel, args, _, _) in enumerate(calls):
            words = _encode(kernel, args) if _PLAN_OK else None
            if words is None:
                if segment:
                    self.steps.append(_Plan(segment, at - len(segment)))
                    segment, used = [], 2
                self.steps.append((kernel, list(args), at))
                slots.append((self.steps[-1], 0))
            else:
                slots.append((segment, used + 1))
                segment.append(words)
                used += len(words)
        if segment:
            self.steps.append(_Plan(segment, len(calls) - len(segment)))
        plans = {id(st.segment): st for st in self.steps if type(st) is _Plan}
        resolved = [(plans[id(owner)], at) if id(owner) in plans else (owner, at) for owner, at in slots]
        n_in = len(copy_in)
        self.inputs = [_Slot(*resolved[i], _SRC) for i in range(n_in)]
        self.outputs = [_Slot(*resolved[n_in + len(recorded) + i], _DST) for i in range(len(copy_out))]
        self.out_specs = [(t.shape, t.dtype) for t in copy_out]

    def run(self, inputs: list) -> list:
        """Run with the given input tensors (one per copy_in); returns fresh result tensors."""
        for slot, t in zip(self.inputs, inputs):
            slot.set(t._ptr)
        outs = [empty(shape, dtype) for shape, dtype in self.out_specs]
        for slot, t in zip(self.outputs, outs):
            slot.set(t._ptr)
        for step in self.steps:
            if type(step) is _Plan:
                status = _lib.ad_plan_run(step.ptr)
                if status:
                    self._fail(step.first + step.words[1], status)
            else:
                kernel, args, at = step
                status = kernel(*args)
                if status:
                    self._fail(at, status)
        return outs

    def _fail(self, at: int, status: int) -> None:
        """Raise for call `at` failing, naming its op and operands and the Variables already written."""
        written = {id(v): v.name for wrote in self.wrote[:at] for v in wrote}
        try:
            _raise_for(self.calls[at], status)
        except Exception as e:
            already = f"; Variables it had already written: {', '.join(written.values())}" if written else ""
            raise type(e)(f"Function {self.name}: replay failed: {e}{already}") from None

    @property
    def crossings(self) -> int:
        """Calls into C per run, kernels only (the Python/C boundary is crossed once per step)."""
        return len(self.steps)


class _Slot:
    """One pointer argument of one call, in a plan's words or a Python call's argument list."""

    __slots__ = ("words", "at")

    def __init__(self, owner, first: int, arg: int):
        if type(owner) is _Plan:
            self.words, self.at = owner.words, first + arg
        else:
            self.words, self.at = owner[1], arg

    def set(self, ptr) -> None:
        """ptr: a tensor's storage pointer."""
        self.words[self.at] = _tensor_address(ptr) if type(self.words) is memoryview else ptr


def _raise_for(call: tuple, status: int) -> None:
    """The exception of a recorded call that failed, naming its op and its operands' shapes and dtypes."""
    from .tensor import _check
    _check(call[3], status, *call[2])


class _Plan:
    """One ad_plan_run call: [count, failing entry, (kernel id, argument words)...] in C memory."""

    def __init__(self, segment: list, first: int):
        self.segment = segment
        self.first = first  # the index of its first call among its program's
        words = [len(segment), -1]
        for w in segment:
            words.extend(w)
        self.owner, self.ptr = B.alloc(8 * len(words), "int64_t")
        self.words = B.view(self.ptr, 8 * len(words)).cast("q")
        self.words[:] = memoryview(struct.pack(f"={len(words)}q", *words)).cast("q")


class KernelBatch:
    """Fixed kernel calls run as one ad_plan_run, some pointer arguments re-bound before each run: how an
    optimizer updates every variable in one crossing (its gradients are new tensors on every step).

    calls: [(kernel, args, operands, op name)] as a trace records them; the operands are the tensors whose
    storage the pointer arguments point into (the batch keeps them). rebind: [(call index, argument index)].
    None from make() when the plan cannot run one of the kernels (then the caller calls them one by one)."""

    @classmethod
    def make(cls, calls: list, rebind: list):
        encoded = [_encode(kernel, args) for kernel, args, _, _ in calls] if _PLAN_OK else [None]
        return None if None in encoded else cls(calls, encoded, rebind)

    def __init__(self, calls: list, encoded: list, rebind: list):
        _storage(calls, [])  # checks that the calls keep every buffer the words point at
        self.calls = calls
        self.plan = _Plan(encoded, 0)
        first, at = [], 2  # the word of each call's first argument: after the header and its kernel id
        for words in encoded:
            first.append(at + 1)
            at += len(words)
        self.slots = [_Slot(self.plan, first[c], a) for c, a in rebind]
        self.lock = threading.Lock()  # the re-bound words are shared: one run at a time

    def run(self, ptrs) -> None:
        with self.lock:
            for slot, ptr in zip(self.slots, ptrs):
                slot.set(ptr)
            status = _lib.ad_plan_run(self.plan.ptr)
            failed = self.plan.words[1]
        if status:
            _raise_for(self.calls[failed], status)


def _to_int64(v: int) -> int:
    v &= (1 << 64) - 1
    return v - (1 << 64) if v >= 1 << 63 else v


def _address(a) -> int:
    if a is None:
        return 0
    if isinstance(a, int):
        return a
    if not _NATIVE and isinstance(a, ctypes.Array):  # B.i64 arrays in the ctypes binding
        return ctypes.addressof(a)
    return B.address(a)


def _encode(kernel, args: tuple):
    """A recorded call as plan words (kernel id, then one int64 per argument), or None if the C plan
    cannot run this kernel (then the replay calls it from Python)."""
    name = getattr(kernel, "__name__", None)
    spec = KERNELS.get(name)
    if spec is None or getattr(_lib, name, None) is not kernel:
        return None
    kid, kinds = spec
    if len(kinds) != len(args):
        return None
    words = [kid]
    for kind, a in zip(kinds, args):
        if kind == "d":
            words.append(struct.unpack("=q", struct.pack("=d", float(a)))[0])
        elif kind == "i":
            words.append(_to_int64(int(a)))
        else:
            words.append(_address(a))
    return words


def _storage(calls: list, owners: list) -> tuple:
    """Which storage each call reads and writes, having checked that every pointer it passes lies in memory
    the calls keep alive: a Tensor among `owners` or the calls' operands, or an array argument (B.span).
    An address kept without its owner would be read after the owner is freed, on some later replay.

    Returns ([(ids read, ids written)] per call, {storage id: {id(Variable): Variable}}); a storage id
    stands for the overlapping spans of the tensors (and views of them) that share memory."""
    spans = [(_address(t._ptr), t.nbytes, t) for call in calls for t in call[2] if isinstance(t, Tensor)]
    spans += [(_address(t._ptr), t.nbytes, t) for t in owners]
    spans += [(*s, None) for call in calls for s in map(B.span, call[1]) if s is not None]
    starts: list = []
    ends: list = []
    variables: dict = {}
    for lo, n, t in sorted(spans, key=lambda s: s[:2]):
        if not starts or lo >= ends[-1]:
            starts.append(lo)
            ends.append(lo + n)
        else:
            ends[-1] = max(ends[-1], lo + n)
        if isinstance(t, Variable) and n:
            variables.setdefault(len(starts) - 1, {})[id(t)] = t
    access = []
    for kernel, args, _, op in calls:
        reads, writes = set(), set()
        for kind, a in zip(KERNELS[kernel.__name__][1], args):
            if kind in "po" and (w := _address(a)):
                i = bisect.bisect_right(starts, w) - 1
                if i < 0 or w > ends[i]:
                    raise RuntimeError(f"{op}: a replay plan would hold the address of a buffer nothing it keeps "
                                       "owns (a bug in pyautodiff: please report it)")
                (writes if kind == "o" else reads).add(i)
        access.append((reads, writes))
    return access, variables


def _writes_last(access: list, variables: dict) -> list:
    """An order of the calls (their indices) in which every call that neither writes a Variable nor depends
    on such a write runs first: whatever a replay can check before its first write to a Variable (an index
    range, a check_numerics entry) fails before it. Calls change places only with calls touching disjoint
    storage, so the results are those of the recorded order."""
    early, late = [], []
    late_reads: set = set()
    late_writes: set = set()
    for i, (reads, writes) in enumerate(access):
        if variables.keys() & writes or late_writes & (reads | writes) or late_reads & writes:
            late.append(i)
            late_reads |= reads
            late_writes |= writes
        else:
            early.append(i)
    return early + late


def _without_initializers(entries: list, created: list) -> list:
    """The entries minus the writes that initialised Variables created by the body (a model or an
    optimizer's slots built on the first call): replaying those would reset the Variables on every call.
    Such writes come before the Variable existed and target the storage it took over."""
    spans = [(at, _address(v._ptr), _address(v._ptr) + v.nbytes) for v, at in created if v.size]
    if not spans:
        return entries
    kept = []
    for i, e in enumerate(entries):
        if type(e) is tuple:
            spec = KERNELS.get(getattr(e[0], "__name__", None))
            if spec is not None and len(spec[1]) == len(e[1]):
                written = [_address(a) for kind, a in zip(spec[1], e[1]) if kind == "o"]
                if any(i < at and lo <= w < hi for at, lo, hi in spans for w in written):
                    continue
        kept.append(e)
    return kept


class _Trace:
    """One signature's graph: placeholders, the forward program, outputs, and (lazily) the backward."""

    def __init__(self, owner: Function):
        self.owner = owner
        self.name = owner.__name__
        self.generation = 0  # forward runs so far: the backward is valid for the latest one only
        self.backward = None
        self.lock = threading.Lock()  # a replay owns the trace's buffers until its results are copied out

    def record(self, args: tuple, kwargs: dict, tensors: list):
        # plain tensors are copied into placeholders; Variables are used where they live (keyed by identity)
        self.placeholders = [t if isinstance(t, Variable) else _fresh_copy(t) for t in tensors]
        self.fed = [i for i, (t, p) in enumerate(zip(tensors, self.placeholders)) if p is not t and p.size]
        leaves = iter(self.placeholders)
        pargs = [_substitute(a, leaves) for a in args]
        pkwargs = {k: _substitute(kwargs[k], leaves) for k in sorted(kwargs)}
        with _Recording() as rec:
            tape = _tape.GradientTape(persistent=True)
            with tape:
                tape.watch([p for p in self.placeholders if p.dtype in FLOATS])
                out = self.owner._fn(*pargs, **pkwargs)
        self.tape = tape
        self.writes_variables = rec.wrote
        outs: list = []
        self.structure = _flatten_out(out, outs)
        self.outputs = outs
        self.single = type(self.structure) is _Leaf
        self.forward = _Program(self.name, _without_initializers(rec.entries, rec.created),
                                [self.placeholders[i] for i in self.fed], [o for o in outs if o.size])
        # Variables the body read but did not receive: inputs of the differentiable node
        seen = {id(p) for p in self.placeholders}
        self.captured = []
        for e in rec.entries:
            if type(e) is tuple:
                for t in e[2]:
                    if isinstance(t, Variable) and t.trainable and t.dtype in FLOATS and id(t) not in seen:
                        seen.add(id(t))
                        self.captured.append(t)
        self.generation += 1
        return self.results(tensors, args, kwargs, [_fresh_copy(o) for o in outs], self.generation)

    def run_forward(self, tensors: list) -> tuple:
        """Replay with new inputs; returns fresh tensors of the outputs and the run's generation."""
        with self.lock:
            return self._run_forward(tensors), self.generation

    def _run_forward(self, tensors: list) -> list:
        self.generation += 1  # first: a run that fails part-way has overwritten the previous run's values too
        outs = self.forward.run([tensors[i] for i in self.fed])
        if len(outs) != len(self.outputs):  # empty outputs have no copy in the program
            it = iter(outs)
            outs = [next(it) if o.size else empty(o.shape, o.dtype) for o in self.outputs]
        return outs

    def results(self, tensors: list, args: tuple, kwargs: dict, values: list, generation: int):
        if _tape.state.tapes and values:
            inputs = tuple(tensors) + tuple(self.captured)
            call = _Call(self, generation, tensors, args, kwargs)
            _core.emit(FUNCTION, inputs, values[0] if len(values) == 1 else tuple(values), {"call": call})
        return values[0] if self.single else _rebuild(self.structure, values)

    # --- backward ---
    def gradients(self, call: "_Call", gs: list) -> list:
        """Gradients of every node input for upstream gradients gs (one per output), by the backward plan."""
        seeds = [_core.as_tensor(g, o.dtype) for g, o in zip(gs, self.outputs)
                 if o.dtype in FLOATS and o.size]
        with self.lock:
            if self.generation != call.generation:  # another forward ran since: recompute this call's values
                if self.writes_variables:  # ... unless that would repeat the body's writes
                    raise RuntimeError(f"Function {self.name}: its body writes Variables and it was called again "
                                       f"before this gradient was taken; take gradients before the next call")
                self._run_forward(call.tensors)
                call.generation = self.generation
            bw = self.backward or self._build_backward()  # (built from this call's values: it runs the ops once)
            outs = iter(bw.program.run(seeds))
        return [None if g is None else next(outs) if g.size else empty(g.shape, g.dtype) for g in bw.grads]

    def _build_backward(self) -> "_Backward":
        sources = list(self.placeholders) + self.captured
        seeds = [empty(o.shape, o.dtype) for o in self.outputs if o.dtype in FLOATS]
        targets = [o for o in self.outputs if o.dtype in FLOATS]
        with _Recording() as rec:
            grads = self.tape.gradient(targets, sources, output_gradients=seeds)
        program = _Program(self.name + " (backward)", rec.entries, [s for s in seeds if s.size],
                           [g for g in grads if g is not None and g.size])
        self.backward = _Backward(seeds, grads, program)
        return self.backward


class _Backward:
    __slots__ = ("seeds", "grads", "program")

    def __init__(self, seeds, grads, program):
        self.seeds = seeds
        self.grads = grads
        self.program = program


class _Call:
    """What the differentiable node remembers of one call."""

    __slots__ = ("trace", "generation", "tensors", "args", "kwargs")

    def __init__(self, trace, generation, tensors, args, kwargs):
        self.trace = trace
        self.generation = generation
        self.tensors = tensors
        self.args = args
        self.kwargs = kwargs


def _function_vjp(g, node, needs):
    call: _Call = node.attrs["call"]
    gs = list(g) if isinstance(g, (list, tuple)) else [g]
    if _tape.recording():  # a tape records this backward pass (higher order): differentiate the body eagerly
        return _eager_vjp(call, node, gs)
    grads = call.trace.gradients(call, gs)
    return [gr if need else None for gr, need in zip(grads, needs)]


def _eager_vjp(call: _Call, node, gs: list):
    trace = call.trace
    with _tape.GradientTape(persistent=True) as t:
        t.watch([x for x in call.tensors if x.dtype in FLOATS])
        out = trace.owner._fn(*call.args, **call.kwargs)
    leaves: list = []
    _flatten_out(out, leaves)
    pairs = [(o, gr) for o, gr in zip(leaves, gs) if o.dtype in FLOATS]
    return t.gradient([o for o, _ in pairs], list(node.inputs), output_gradients=[gr for _, gr in pairs])


FUNCTION = _core.defop("function", _function_vjp)

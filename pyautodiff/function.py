"""Function: trace a Python function once per input signature, then replay its kernel calls.

A trace runs the body once with placeholder tensors while the thread state's tracer (`_state.state.tracer`)
records every kernel call. The tensors created during the trace are its buffers: they stay alive with the trace, so a replay is
"copy the new argument values into the placeholders, run the recorded kernel calls in a flat loop (one
`ad_plan_run` call into C when every kernel is in the plan table), copy the outputs out". Variables are
read and written in place by the recorded kernels, which is why assignments between calls are seen and
updates made by the body persist. Under a GradientTape the call is one node whose backward is the
trace's own backward pass, traced once (on first use) and replayed the same way.
"""

import inspect
import threading
import types
import warnings
from collections import OrderedDict, deque

from . import _state, pytree
from . import tape as _tape
from .dtypes import FLOATS
from .ops import _core
from .plan import Program, without_initializers
from .tensor import Tensor, Variable, array, empty, float_key

__all__ = ["Function", "function"]

MAX_TRACES = 64  # per Function; the least recently used trace is dropped beyond this
RETRACE_WARN = 5  # warn once when this many of the last RETRACE_WINDOW calls traced
RETRACE_WINDOW = 10

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
        if len(self._traces) > 1:
            self._traces.move_to_end(key)
        self._recent.append(False)
        values, generation = trace.run_forward(tensors)
        return trace.results(tensors, args, kwargs, values, generation)

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
    key = [_core.check_numerics, _state.traces_epoch, len(args)]
    if not kwargs:  # the common call, plain tensors only, without the walk
        for a in args:
            if type(a) is not Tensor:
                del key[3:]
                break
            key += a.shape, a.dtype
        else:
            tensors += args
            return tuple(key)
    leaves, tree = pytree.flatten((args, kwargs))
    key.append(tree)
    for a in leaves:
        _leaf(name, a, key, tensors)
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


def _substitute(args: tuple, kwargs: dict, placeholders: list) -> tuple:
    """(args, kwargs) with their tensor leaves replaced by the placeholders, in order."""
    leaves, tree = pytree.flatten((args, kwargs))
    it = iter(placeholders)
    return pytree.unflatten(tree, [next(it) if isinstance(a, Tensor) else a for a in leaves])


def _is_tensor(value) -> bool:
    return isinstance(value, Tensor)


def _check_arity(f: Function, args: tuple, kwargs: dict) -> None:
    try:
        sig = inspect.signature(f._fn)
    except (TypeError, ValueError):
        return
    try:
        sig.bind(*args, **kwargs)
    except TypeError as e:
        raise TypeError(f"Function {f.__name__}: {e}") from None


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
        self.placeholders = [t if isinstance(t, Variable) else array(t) for t in tensors]
        self.fed = [i for i, (t, p) in enumerate(zip(tensors, self.placeholders)) if p is not t and p.size]
        self.fed_all = self.fed == list(range(len(tensors)))
        pargs, pkwargs = _substitute(args, kwargs, self.placeholders)
        with _Recording() as rec:
            tape = _tape.GradientTape(persistent=True)
            tape._versioned = False
            with tape:
                tape.watch([p for p in self.placeholders if p.dtype in FLOATS])
                out = self.owner._fn(*pargs, **pkwargs)
        self.tape = tape
        self.writes_variables = rec.wrote
        outs, self.structure = pytree.flatten(out, _is_tensor)
        self.outputs = outs
        self.single = isinstance(out, Tensor)
        self.forward = Program(self.name, without_initializers(rec.entries, rec.created),
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
        return self.results(tensors, args, kwargs, [array(o) for o in outs], self.generation)

    def run_forward(self, tensors: list) -> tuple:
        """Replay with new inputs; returns fresh tensors of the outputs and the run's generation."""
        with self.lock:
            return self._run_forward(tensors), self.generation

    def _run_forward(self, tensors: list) -> list:
        self.generation += 1  # first: a run that fails part-way has overwritten the previous run's values too
        outs = self.forward.run(tensors if self.fed_all else [tensors[i] for i in self.fed])
        if len(outs) != len(self.outputs):  # empty outputs have no copy in the program
            it = iter(outs)
            outs = [next(it) if o.size else empty(o.shape, o.dtype) for o in self.outputs]
        return outs

    def results(self, tensors: list, args: tuple, kwargs: dict, values: list, generation: int):
        """The call's result (the body's structure of values), recorded as one node on the tapes that are active."""
        if _tape.state.tapes and values:
            inputs = tuple(tensors) + tuple(self.captured)
            call = _Call(self, generation, tensors, args, kwargs)
            _core.emit(FUNCTION, inputs, values[0] if len(values) == 1 else tuple(values), {"call": call})
        return values[0] if self.single else pytree.unflatten(self.structure, values)

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
        program = Program(self.name + " (backward)", rec.entries, [s for s in seeds if s.size],
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
    leaves, _ = pytree.flatten(out, _is_tensor)
    pairs = [(o, gr) for o, gr in zip(leaves, gs) if o.dtype in FLOATS]
    return t.gradient([o for o, _ in pairs], list(node.inputs), output_gradients=[gr for _, gr in pairs])


FUNCTION = _core.defop("function", _function_vjp)

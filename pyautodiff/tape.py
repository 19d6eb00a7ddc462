"""GradientTape: records op applications on tracked tensors; gradient() walks them in reverse.

A tensor is tracked by a tape when it was watched (explicitly, or as a trainable Variable read
inside the tape) or produced by an op the tape recorded; tapes key their sets and dicts by the tensors
themselves (identity hashing). Backward rules are ops themselves: while a tape computes gradients,
any outer tape records them, which is how nested tapes give higher-order derivatives.
"""

import operator
import threading
from contextlib import contextmanager

from . import pytree
from ._state import state
from .dtypes import FLOATS
from .optable import FUNCTIONS
from .tensor import Tensor, Variable, array, as_tensor, ones_like, zeros, zeros_like

# The walk needs a few ops (add to sum gradients, broadcast_to, and for the jacobians reshape, one_hot, stack and
# transpose); they are defined above this module and found in the op table (FUNCTIONS) when a gradient is taken.


_version = operator.attrgetter("version")


class Node:
    __slots__ = ("op", "inputs", "outputs", "attrs", "variables", "versions")

    def __init__(self, op, inputs, outputs, attrs):
        self.op = op
        self.inputs = inputs
        self.outputs = outputs
        self.attrs = attrs
        # the vjp reads Variable inputs in place: remember their versions to refuse a stale gradient
        self.variables = variables = []  # (a loop, not a comprehension: one frame less per recorded op)
        for x in inputs:
            if type(x) is Variable:
                variables.append(x)
        self.versions = list(map(_version, variables))

    def refuse(self) -> None:
        """Raise for the first Variable input written since the op read it."""
        for var, version in zip(self.variables, self.versions):
            if var.version != version:
                raise RuntimeError(f"gradient: variable {var.name!r} {var.shape} {var.dtype} was modified (assign "
                                   f"or optimizer update) after op '{self.op.name}' used it; compute gradients "
                                   f"before updating the variables it depends on")


_ONES: dict = {}  # dtype -> the scalar 1 a scalar target's walk starts from
_entering = threading.Lock()  # makes a tape's "not active yet? then active" one step across threads


def record(op, inputs: tuple, outputs, attrs: dict | None = None):
    """Called by every differentiable op after its kernel ran; returns outputs unchanged."""
    tapes = state.tapes
    if tapes:
        outs = outputs if isinstance(outputs, tuple) else (outputs,)
        for tape in tapes:
            if tape._recording and tape._tracks_any(inputs):
                tape._nodes.append(Node(op, inputs, outs, attrs))
                tape._tracked.update(outs)
    return outputs


def recording() -> bool:
    return any(t._recording for t in state.tapes)


def _one(dtype: str) -> Tensor:
    one = _ONES.get(dtype)
    if one is None:
        one = _ONES[dtype] = array(1.0, dtype)
    return one


def _seed(seed, target):
    """output_gradients' entry for target, broadcast to its shape (a scalar seed scales the whole target)."""
    try:
        return FUNCTIONS["broadcast_to"](seed, target.shape)
    except ValueError:
        raise ValueError(f"gradient: output_gradients of shape {seed.shape} do not fit the target "
                         f"{target.shape} {target.dtype}") from None


def _structure(sources):
    """Flatten one tensor or a (nested) list, tuple or dict of them; return (flat, rebuild)."""
    flat, tree = pytree.flatten(sources)
    return flat, lambda values: pytree.unflatten(tree, values)


class GradientTape:
    def __init__(self, persistent: bool = False, watch_accessed_variables: bool = True):
        self.persistent = persistent
        self.watch_accessed_variables = watch_accessed_variables
        self._nodes: list[Node] = []
        self._tracked: set[Tensor] = set()  # watched tensors and what recorded ops made of them
        self._watched: list[Tensor] = []
        self._recording = False
        self._used = False
        self._active = False  # inside its `with` block (in any thread)
        # a Function's own trace tape says False: its replays write the Variables by design, and the node the
        # Function records on the caller's tapes checks their versions instead
        self._versioned = True

    # --- context ---
    def __enter__(self):
        # entered twice, the inner exit would end the outer recording (also in another thread): refuse, as TF
        with _entering:
            if self._active:
                raise RuntimeError("GradientTape: this tape is still recording: a tape cannot be re-entered "
                                   "(nested or from another thread) while it is active; use a new GradientTape")
            self._active = True
        self._recording = True
        state.tapes.append(self)
        return self

    def __exit__(self, *exc):
        self._recording = False
        self._active = False
        if self in state.tapes:
            state.tapes.remove(self)
        return False

    @contextmanager
    def stop_recording(self):
        was, self._recording = self._recording, False
        try:
            yield
        finally:
            self._recording = was

    def reset(self) -> None:
        self._nodes.clear()
        self._tracked.clear()
        self._watched.clear()
        self._used = False

    # --- tracking ---
    def watch(self, tensors) -> None:
        for t in _structure(tensors)[0]:
            if not isinstance(t, Tensor):
                raise TypeError(f"GradientTape.watch: expected tensors, got {type(t).__name__}")
            if t.dtype in FLOATS and t not in self._tracked:
                self._tracked.add(t)
                self._watched.append(t)

    def watched_variables(self) -> list:
        return [t for t in self._watched if isinstance(t, Variable)]

    def _tracks_any(self, inputs) -> bool:
        tracked = self._tracked
        hit = False
        for x in inputs:
            if x in tracked:
                hit = True
            elif type(x) is not Tensor and self.watch_accessed_variables and isinstance(x, Variable) \
                    and x.trainable and x.dtype in FLOATS:
                tracked.add(x)
                self._watched.append(x)
                hit = True
        return hit

    # --- differentiation ---
    def gradient(self, target, sources, output_gradients=None, unconnected_gradients="none"):
        if unconnected_gradients not in ("none", "zero"):
            raise ValueError(f"gradient: unconnected_gradients must be 'none' or 'zero', "
                             f"got {unconnected_gradients!r}")
        if self._used and not self.persistent:
            raise RuntimeError("GradientTape.gradient can only be called once on a non-persistent tape; "
                               "use GradientTape(persistent=True) to compute several gradients")
        flat, tree = pytree.flatten(sources)
        for s in flat:
            if not isinstance(s, Tensor):
                raise TypeError(f"gradient: sources must be tensors, got {type(s).__name__}")
        grads = self._gradients(target, flat, output_gradients)
        if unconnected_gradients == "zero":
            grads = [zeros_like(s) if g is None and s.dtype in FLOATS else g for s, g in zip(flat, grads)]
        if not self.persistent:
            self._spent()
        return pytree.unflatten(tree, grads)

    def _gradients(self, target, sources: list, output_gradients) -> list:
        targets = [target] if isinstance(target, Tensor) else pytree.flatten(target)[0]
        if output_gradients is None:
            seeds = [None] * len(targets)
        else:
            seeds = pytree.flatten(output_gradients)[0]
            if len(seeds) != len(targets):
                raise ValueError(f"gradient: {len(targets)} targets but {len(seeds)} output_gradients")
        grads: dict[Tensor, Tensor] = {}
        # a persistent tape still recording records its own backward pass (as TF does): it can then take the
        # gradient of a gradient; a non-persistent one is spent by this call, recording would be wasted
        was = self._recording
        self._recording = was and self.persistent
        nodes = self._nodes[:] if self._recording else self._nodes  # the walk does not see what it records
        try:
            for t, seed in zip(targets, seeds):
                if not isinstance(t, Tensor):
                    raise TypeError(f"gradient: target must be a tensor, got {type(t).__name__}")
                if t.dtype not in FLOATS:
                    continue
                if seed is None:  # a scalar loss starts from the shared constant 1 (tensors are immutable)
                    g = _one(t.dtype) if t.shape == () else ones_like(t)
                else:
                    g = _seed(as_tensor(seed, t.dtype), t)
                grads[t] = g if t not in grads else FUNCTIONS["add"](grads[t], g)
            src = set(sources)
            # everything a tape tracks depends on what it watched: when that is all among the sources,
            # every tracked tensor is worth its gradient and the walk is not needed
            reach = self._tracked if src.issuperset(self._watched) else _reachable(nodes, src)
            add = FUNCTIONS["add"]
            for node in reversed(nodes):
                outs = node.outputs
                if len(outs) == 1:
                    gout = grads.get(outs[0])
                    if gout is None:
                        continue
                else:
                    gouts = [grads.get(o) for o in outs]
                    if all(g is None for g in gouts):
                        continue
                    gout = [zeros_like(o) if g is None else g for o, g in zip(outs, gouts)]
                needs = tuple(map(reach.__contains__, node.inputs))
                if True not in needs:
                    continue
                if node.variables and self._versioned and list(map(_version, node.variables)) != node.versions:
                    node.refuse()  # (the versions compared in C, then the first changed one named)
                for x, gx, need in zip(node.inputs, node.op.vjp(gout, node, needs), needs):
                    if need and gx is not None and x.dtype in FLOATS:
                        prev = grads.get(x)
                        grads[x] = gx if prev is None else add(prev, gx)
        finally:
            self._recording = was
        return [grads.get(s) if s.dtype in FLOATS else None for s in sources]

    def jacobian(self, target, sources, unconnected_gradients="none"):
        """d target[i...] / d source, stacked: shape target.shape + source.shape for each source."""
        flat, rebuild = _structure(sources)
        seeds = (FUNCTIONS["reshape"](FUNCTIONS["one_hot"](array([i]), target.size, dtype=target.dtype),
                                      target.shape) for i in range(target.size))
        out = self._stacked("jacobian", target, flat, seeds, unconnected_gradients)
        return rebuild([g if g is None else FUNCTIONS["reshape"](g, target.shape + s.shape)
                        for g, s in zip(out, flat)])

    def batch_jacobian(self, target, source, unconnected_gradients="none"):
        """Per-example Jacobians (as TensorFlow's): target (batch, *t) and source (batch, *s), where example i of
        target depends only on example i of source, give (batch, *t, *s), entry i being d target[i] / d source[i].
        One backward pass per element of an example, each seeding that element in every example at once."""
        if not (isinstance(target, Tensor) and isinstance(source, Tensor)):
            raise TypeError("batch_jacobian: target and source must be tensors")
        if target.ndim < 1 or source.ndim < 1 or target.shape[0] != source.shape[0]:
            raise ValueError(f"batch_jacobian: target {target.shape} and source {source.shape} must have the "
                             f"same first (batch) dimension")
        batch, per = target.shape[0], target.shape[1:]
        size = target.size // batch if batch else 0
        seeds = (FUNCTIONS["reshape"](FUNCTIONS["broadcast_to"](
            FUNCTIONS["one_hot"](array([j]), size, dtype=target.dtype), (batch, size)), target.shape)
            for j in range(size))
        g = self._stacked("batch_jacobian", target, [source], seeds, unconnected_gradients)[0]
        if g is None:
            return None
        g = FUNCTIONS["transpose"](g, (1, 0) + tuple(range(2, g.ndim)))  # (batch, size, *s)
        return FUNCTIONS["reshape"](g, (batch,) + per + source.shape[1:])

    def _stacked(self, name: str, target, sources: list, seeds, unconnected_gradients: str) -> list:
        """For each source, its gradients for each seed (made lazily, after the checks) stacked on a new first axis
        (None: unconnected)."""
        if unconnected_gradients not in ("none", "zero"):
            raise ValueError(f"{name}: unconnected_gradients must be 'none' or 'zero', got {unconnected_gradients!r}")
        if self._used and not self.persistent:
            raise RuntimeError(f"GradientTape.{name} can only be called once on a non-persistent tape")
        rows = [[] for _ in sources]
        for seed in seeds:
            for r, g in zip(rows, self._gradients(target, sources, seed)):
                r.append(g)
        out = []
        for r, s in zip(rows, sources):
            if r and all(g is None for g in r) and unconnected_gradients == "none":
                out.append(None)  # unconnected, as gradient() says it
                continue
            r = [zeros_like(s) if g is None else g for g in r]
            out.append(FUNCTIONS["stack"](r, 0) if r else zeros((0,) + s.shape, s.dtype))
        if not self.persistent:
            self._spent()
        return out

    def _spent(self) -> None:
        """A non-persistent tape is done after one gradient: it records nothing more and frees its records."""
        self._used = True
        self._recording = False
        self._nodes = []
        self._tracked = set()


def _reachable(nodes: list, sources: set) -> set:
    """The tensors that depend on the sources: only their gradients are worth computing."""
    reach = set(sources)
    for node in nodes:
        if not reach.isdisjoint(node.inputs):
            reach.update(node.outputs)
    return reach


def stop_gradient(x) -> Tensor:
    """The same values, cut off from every tape."""
    x = as_tensor(x)
    if isinstance(x, Variable):  # a snapshot (no tape records array()): later assigns must not show through
        x = array(x)
    return Tensor(x._owner, x._ptr, x.shape, x.dtype)

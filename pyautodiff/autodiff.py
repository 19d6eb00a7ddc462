"""Differentiation beyond the tape's own walk: custom gradients (TensorFlow's `custom_gradient`) and forward mode
(`jvp`), both built on the tape and the op table, with no new rules.
"""

import functools
import inspect

from . import pytree
from ._state import state
from .dtypes import FLOATS
from .ops._core import as_tensor, defop, emit
from .tape import GradientTape, stop_gradient
from .tensor import Tensor, zeros_like

__all__ = ["custom_gradient", "jvp"]


def _is_tensor(value) -> bool:
    return isinstance(value, Tensor)


# --- custom_gradient ------------------------------------------------------------------------------------

def _takes_variables(grad_fn) -> bool:
    try:
        params = inspect.signature(grad_fn).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == "variables" or p.kind is p.VAR_KEYWORD for p in params)


def _as_list(value) -> list:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _checked(name: str, what: str, grads: list, inputs: list) -> list:
    """grad_fn's gradients as tensors of their inputs' shapes (None stays None)."""
    if len(grads) != len(inputs):
        raise ValueError(f"custom_gradient {name}: grad_fn returned {len(grads)} gradients for {len(inputs)} "
                         f"{what}")
    out = []
    for i, (g, x) in enumerate(zip(grads, inputs)):
        if g is not None and isinstance(x, Tensor):
            g = as_tensor(g, x.dtype)
            if g.shape != x.shape:
                raise ValueError(f"custom_gradient {name}: grad_fn's gradient for {what[:-1]} {i} has shape "
                                 f"{g.shape}, but that input is {x.shape} {x.dtype}")
        out.append(g)
    return out


def _custom_vjp(g, node, needs):
    a = node.attrs
    upstream = _as_list(g)
    if a["variables"] and a["with_variables"]:
        result = a["grad_fn"](*upstream, variables=list(a["variables"]))
        if not (isinstance(result, (list, tuple)) and len(result) == 2):
            raise ValueError(f"custom_gradient {a['name']}: grad_fn(..., variables=) must return (input "
                             f"gradients, variable gradients)")
        grads = _checked(a["name"], "arguments", _as_list(result[0]), a["args"])
        var_grads = _checked(a["name"], "variables", _as_list(result[1]), a["variables"])
    else:
        grads = _checked(a["name"], "arguments", _as_list(a["grad_fn"](*upstream)), a["args"])
        var_grads = [None] * len(a["variables"])
    # node inputs are the tensor arguments, then the variables
    return [g for g, x in zip(grads, a["args"]) if isinstance(x, Tensor)] + var_grads


CUSTOM_GRADIENT = defop("custom_gradient", _custom_vjp)


def custom_gradient(f=None):
    """Decorator (as tf.custom_gradient): f(*args, **kwargs) returns (y, grad_fn); tapes then take the gradient of
    y through grad_fn(*upstream) (one upstream gradient per tensor in y), which returns one gradient (or None) per
    positional argument of f. The trainable Variables f reads are inputs too: a grad_fn accepting `variables=`
    gets them and returns (argument gradients, variable gradients); one that does not leaves them without a
    gradient through f. grad_fn is written with ops, so nested tapes differentiate it (higher orders), and it
    works inside an ad.Function trace (its ops are traced into the backward pass)."""
    if f is None:
        return custom_gradient

    @functools.wraps(f)
    def wrapped(*args, **kwargs):
        if not state.tapes:
            return f(*args, **kwargs)[0]
        watcher = GradientTape()  # the trainable Variables f reads (as TF's VariableWatcher)
        with watcher:
            y, grad_fn = f(*args, **kwargs)
        name = getattr(f, "__name__", "f")
        leaves, tree = pytree.flatten(y, _is_tensor)
        outs = tuple(stop_gradient(t) if isinstance(t, Tensor) else t for t in leaves)  # y's own identity
        tensors = [t for t in outs if isinstance(t, Tensor)]
        inputs = [x for x in args if isinstance(x, Tensor)]
        variables = [v for v in watcher.watched_variables() if not any(v is x for x in inputs)]
        if tensors:
            emit(CUSTOM_GRADIENT, tuple(inputs + variables), tensors[0] if len(tensors) == 1 else tuple(tensors),
                 {"name": name, "grad_fn": grad_fn, "args": args, "variables": variables,
                  "with_variables": _takes_variables(grad_fn)})
        return pytree.unflatten(tree, list(outs))
    return wrapped


# --- forward mode -----------------------------------------------------------------------------------------

def jvp(fn, primals, tangents):
    """Forward mode: (fn(*primals), J @ tangents), the outputs' directional derivatives along tangents, each
    with its output's structure. Computed by the double-vjp trick: the vjp u -> J^T u is linear in u, so the
    vjp of that vjp at any u, seeded with the tangents, is J @ tangents; it needs no rule beyond the vjps.
    primals: a tensor or a list/tuple of the tensors fn takes; tangents: the same structure and shapes."""
    single = isinstance(primals, Tensor)
    primals = [primals] if single else list(primals)
    tangents = [tangents] if single else _as_list(tangents)
    if len(tangents) != len(primals):
        raise ValueError(f"jvp: {len(primals)} primals but {len(tangents)} tangents")
    for i, p in enumerate(primals):
        if not isinstance(p, Tensor) or p.dtype not in FLOATS:
            raise TypeError(f"jvp: primals must be float32 or float64 tensors, got "
                            f"{type(p).__name__ if not isinstance(p, Tensor) else p.dtype} at {i}")
    tangents = [as_tensor(t, p.dtype) for t, p in zip(tangents, primals)]
    for i, (t, p) in enumerate(zip(tangents, primals)):
        if t.shape != p.shape:
            raise ValueError(f"jvp: tangent {i} has shape {t.shape}, but its primal is {p.shape} {p.dtype}")
    with GradientTape(watch_accessed_variables=False) as outer:
        with GradientTape(watch_accessed_variables=False) as inner:
            inner.watch(primals)
            out = fn(*primals)
        leaves, tree = pytree.flatten(out, _is_tensor)
        ys = [y for y in leaves if isinstance(y, Tensor) and y.dtype in FLOATS]
        us = [zeros_like(y) for y in ys]  # any cotangent will do: J^T u is linear in u
        outer.watch(us)
        cotangents = inner.gradient(ys, primals, output_gradients=us)
    pairs = [(g, t) for g, t in zip(cotangents, tangents) if g is not None]
    if pairs:
        out_tangents = outer.gradient([g for g, _ in pairs], us, output_gradients=[t for _, t in pairs],
                                      unconnected_gradients="zero")
    else:
        out_tangents = [zeros_like(y) for y in ys]
    it = iter(out_tangents)
    flat = [next(it) if isinstance(y, Tensor) and y.dtype in FLOATS else None for y in leaves]
    return out, pytree.unflatten(tree, flat)


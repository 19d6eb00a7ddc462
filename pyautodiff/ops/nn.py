"""Fused ops of the model layer (csrc/nn.c): dense, the from-logits cross-entropies and dropout.

Each forward is one kernel; each backward is a fused backward op with its own vjp written with ops,
so nested tapes still give higher-order derivatives. The forwards save what their backward needs
(a dense saves its output, a softmax cross-entropy its probabilities).
"""

import math
import numbers

from .. import _backend as B
from .. import _gemm_tune
from ..dtypes import CODE, FLOATS, INT32
from ..tensor import Tensor, Variable, as_tensor, shape_size
from ..tape import GradientTape
from .elementwise import (add, increment, multiply, negative, reciprocal, scale, sigmoid, sigmoid_grad, sqrt, square,
                          subtract)
from .matmul import matmul
from .reduce import log_softmax, reduce_mean, reduce_sum, softmax
from .shape import cast, expand_dims, one_hot, reshape
from ._core import GRAD_DY, C, code, defop, describe, emit, lib, need_float, out_like, run
from .reduce import softmax_vjp

NULL = B.NULL

# the activations the dense kernels fuse (the C rows of csrc/internal.h), by name
FUSED = {"linear": C.AD_NO_ACTIVATION, **B.ACTIVATIONS}
_FUSED_NAMES = {act: name for name, act in FUSED.items()}


# --- dense: act(x @ w + b) ------------------------------------------------------------------------

def _dense_vjp(g, n, needs):
    x, w, y = n.inputs[0], n.inputs[1], n.outputs[0]
    # the forward checked x, w and y: only the upstream gradient needs a look
    grad = _dense_grad if g.shape == y.shape and g.dtype == y.dtype else dense_grad
    grads = grad(x, w, y, g, n.attrs["act"], needs[0])
    gx, gw, db = grads if needs[0] else (None,) + grads
    return (gx, gw, db) if len(n.inputs) == 3 else (gx, gw)


def _dense_grad_vjp(gs, n, needs):
    # gx = dz @ w^T, gw = x^T @ dz, db = column sums of dz, with dz = bias_act_grad(y, g)
    x, w, y, g = n.inputs
    act, with_gx = n.attrs["act"], n.attrs["with_gx"]
    ggx, ggw, ggb = gs if with_gx else (None,) + tuple(gs)
    dz = bias_act_grad(y, g, act)[0]
    gdz = matmul(x, ggw)
    if with_gx:
        gdz = add(gdz, matmul(ggx, w))
    gx = matmul(dz, ggw, transpose_b=True) if needs[0] else None
    gw = matmul(ggx, dz, transpose_a=True) if needs[1] and with_gx else None
    gy, gg = _through_bias_act(y, g, act, gdz, ggb, needs[2:]) if needs[2] or needs[3] else (None, None)
    return gx, gw, gy, gg


def _bias_act_grad_vjp(gs, n, needs):
    return _through_bias_act(*n.inputs, n.attrs["act"], *gs, needs)


def _through_bias_act(y, g, act, gdz, gdb, needs):
    """(gy, gg) given the gradients of (dz, db) = bias_act_grad(y, g): both flow back through dz, as through
    the activation's own <name>_grad op (whose vjp has the derivative through y)."""
    ge = add(gdz, gdb)
    grad_dy = GRAD_DY.get(_FUSED_NAMES[act])
    gy = multiply(multiply(ge, g), grad_dy(y)) if needs[0] and grad_dy else None
    gg = bias_act_grad(y, ge, act)[0] if needs[1] else None
    return gy, gg


DENSE = defop("dense", _dense_vjp)
DENSE_GRAD = defop("dense_grad", _dense_grad_vjp)
BIAS_ACT_GRAD = defop("bias_act_grad", _bias_act_grad_vjp)


def dense(x, kernel, bias=None, activation: str = "linear", name: str = "dense") -> Tensor:
    """act(x @ kernel + bias) over the last axis of x, in one kernel call."""
    x, kernel = as_tensor(x), as_tensor(kernel)
    operands = (x, kernel) if bias is None else (x, kernel, as_tensor(bias))
    need_float(name, *operands)
    if activation not in FUSED:
        raise ValueError(f"{name}: unknown fused activation {activation!r}; one of {sorted(FUSED)}")
    if kernel.dtype != x.dtype or operands[-1].dtype != x.dtype:  # (the bias is last when given)
        raise TypeError(f"{name}: dtype mismatch: {describe(*operands)}")
    if kernel.ndim != 2 or x.ndim < 1 or x.shape[-1] != kernel.shape[0]:
        raise ValueError(f"{name}: input of shape {x.shape} does not fit a kernel of shape {kernel.shape} "
                         f"(expected last dimension {kernel.shape[0] if kernel.ndim else '?'})")
    units = kernel.shape[1]
    if bias is not None and operands[2].shape != (units,):
        raise ValueError(f"{name}: bias of shape {operands[2].shape} does not match {units} units")
    lead = x.shape[:-1]
    x2 = x if x.ndim == 2 else reshape(x, (shape_size(lead), kernel.shape[0]))
    act = FUSED[activation]
    y = out_like((x2.shape[0], units), x.dtype)
    if _gemm_tune.pending:
        _gemm_tune.first_product(x2.shape[0] * units * kernel.shape[0])
    run(name, operands, lib.ad_dense, CODE[x.dtype], act, x2.shape[0], units, kernel.shape[0], x2._ptr, kernel._ptr,
        NULL if bias is None else operands[2]._ptr, y._ptr)
    y = emit(DENSE, (x2,) + operands[1:], y, {"act": act})
    return y if x.ndim == 2 else reshape(y, lead + (units,))


def dense_grad(x, w, y, g, act: int, with_gx: bool = True) -> tuple:
    """(gx, gw, db) of y = act(x @ w + b) for the upstream gradient g, in one kernel: the fused backward
    of dense ((gw, db) when with_gx is false)."""
    x, w, y, g = as_tensor(x), as_tensor(w), as_tensor(y), as_tensor(g)
    if x.ndim != 2 or w.ndim != 2 or x.shape[1] != w.shape[0] or y.shape != g.shape or \
            y.shape != (x.shape[0], w.shape[1]) or not x.dtype == w.dtype == y.dtype == g.dtype:
        raise ValueError(f"dense_grad: x, kernel, output and its gradient do not fit: {describe(x, w, y, g)}")
    need_float("dense_grad", x)
    return _dense_grad(x, w, y, g, act, with_gx)


def _dense_grad(x, w, y, g, act: int, with_gx: bool) -> tuple:
    """dense_grad of operands known to fit."""
    (m, k), n = x.shape, w.shape[1]
    gx = out_like(x.shape, x.dtype) if with_gx else None
    gw, db = out_like(w.shape, w.dtype), out_like((n,), w.dtype)
    run("dense_backward", (x, w, y, g), lib.ad_dense_backward, CODE[y.dtype], act, m, n, k, x._ptr, w._ptr, y._ptr,
        g._ptr, gx._ptr if with_gx else NULL, gw._ptr, db._ptr)
    outs = (gx, gw, db) if with_gx else (gw, db)
    return emit(DENSE_GRAD, (x, w, y, g), outs, {"act": act, "with_gx": with_gx})


def bias_act_grad(y, g, act: int):
    """(g * act'(y), its column sums): the fused backward of dense."""
    m, n = y.shape
    dz, db = out_like(y.shape, y.dtype), out_like((n,), y.dtype)
    run("dense_backward", (y, g), lib.ad_bias_act_backward, code(y), act, m, n, y._ptr, g._ptr, dz._ptr, db._ptr)
    return emit(BIAS_ACT_GRAD, (y, g), (dz, db), {"act": act})


# --- softmax cross-entropies -------------------------------------------------------------------------

def _check_logits(name, logits):
    logits = as_tensor(logits)
    need_float(name, logits)
    if logits.ndim != 2:
        raise ValueError(f"{name}: logits must have shape (batch, classes), got {logits.shape}")
    return logits


def _inverse(m: int) -> float:
    """1 / m for the mean over m rows; nan for none (the kernels' mean of nothing is nan too)."""
    return 1.0 / m if m else float("nan")


def _row_grads(g, mean: bool, m: int):
    """Each row's upstream gradient as a column (m, 1), or for a mean the scalar g / m, which broadcasts."""
    return scale(_inverse(m), g) if mean else expand_dims(g, 1)


def _per_row_total(t, mean: bool, m: int):
    """The sum over classes per row (m,), or for a mean the total over everything / m (the scalar g's gradient)."""
    return scale(_inverse(m), reduce_sum(t)) if mean else reduce_sum(t, -1)


SPARSE_XENT = defop("sparse_softmax_cross_entropy", lambda g, n, needs: (
    sparse_softmax_cross_entropy_grad(n.inputs[0], n.inputs[1], g, n.attrs["probs"], n.attrs["mean"])
    if needs[0] else None, None))


def _sparse_xent_grad_vjp(gg, n, needs):
    logits, labels, g = n.inputs
    mean, m = n.attrs["mean"], logits.shape[0]
    p = softmax(logits)
    gl = multiply(_row_grads(g, mean, m), softmax_vjp(p, gg)) if needs[0] else None
    gg_g = _per_row_total(multiply(gg, subtract(p, one_hot(labels, logits.shape[1], logits.dtype))), mean, m) \
        if needs[2] else None
    return gl, None, gg_g


SPARSE_XENT_GRAD = defop("sparse_softmax_cross_entropy_grad", _sparse_xent_grad_vjp)


def _xent_out(logits, mean: bool):
    """The loss (per row, or its mean as a scalar) and the saved probabilities."""
    m = logits.shape[0]
    return out_like(() if mean else (m,), logits.dtype), out_like(logits.shape, logits.dtype)


def _xent_grad_args(logits, g, mean: bool):
    g = as_tensor(g, logits.dtype)
    want = () if mean else (logits.shape[0],)
    if g.shape != want or g.dtype != logits.dtype:
        raise ValueError(f"cross-entropy gradient: upstream gradient {g.shape} {g.dtype} does not fit logits "
                         f"{logits.shape} {logits.dtype} (expected shape {want})")
    return g, out_like(logits.shape, logits.dtype)


def sparse_softmax_cross_entropy(labels, logits, name: str = "sparse_softmax_cross_entropy",
                                 mean: bool = False) -> Tensor:
    """Per-row -log softmax(logits)[label] (or with mean=True their average, in the same kernel); labels
    (batch,) int32 in [0, classes)."""
    logits = _check_logits(name, logits)
    labels = as_tensor(labels, INT32, name)
    if labels.dtype != INT32:
        raise TypeError(f"{name}: labels must be int32, got {labels.dtype}")
    m, n = logits.shape
    if labels.shape != (m,):
        raise ValueError(f"{name}: labels of shape {labels.shape} do not match logits of shape {logits.shape}")
    loss, probs = _xent_out(logits, mean)
    run(name, (logits, labels), lib.ad_sparse_softmax_xent, code(logits), m, n, logits._ptr, labels._ptr,
        loss._ptr, probs._ptr, int(mean))
    return emit(SPARSE_XENT, (logits, labels), loss, {"probs": probs, "mean": mean})


def sparse_softmax_cross_entropy_grad(logits, labels, g, probs=None, mean: bool = False) -> Tensor:
    """g_i * (softmax(logits) - one_hot(labels)), g_i = g[i] or g / batch for a mean (probs as the forward
    saved them): the fused backward."""
    probs = softmax(logits) if probs is None else probs
    m, n = logits.shape
    g, d = _xent_grad_args(logits, g, mean)
    run("sparse_softmax_cross_entropy_grad", (probs, labels, g), lib.ad_sparse_softmax_xent_backward,
        code(logits), m, n, probs._ptr, labels._ptr, g._ptr, d._ptr, int(mean))
    return emit(SPARSE_XENT_GRAD, (logits, labels, g), d, {"mean": mean})


XENT = defop("softmax_cross_entropy", lambda g, n, needs: (
    softmax_cross_entropy_grad(n.inputs[0], n.inputs[1], g, n.attrs["probs"], n.attrs["mean"])
    if needs[0] else None,
    negative(multiply(_row_grads(g, n.attrs["mean"], n.inputs[0].shape[0]), log_softmax(n.inputs[0])))
    if needs[1] else None))


def _xent_grad_vjp(gg, n, needs):
    # d = g_i (p s - z) with p = softmax(logits), s = the row sums of the labels z
    logits, labels, g = n.inputs
    mean, m = n.attrs["mean"], logits.shape[0]
    p = softmax(logits)
    s = reduce_sum(labels, -1, keepdims=True)
    gcol = _row_grads(g, mean, m)
    gl = multiply(multiply(gcol, s), softmax_vjp(p, gg)) if needs[0] else None
    gz = multiply(gcol, subtract(reduce_sum(multiply(gg, p), -1, keepdims=True), gg)) if needs[1] else None
    gg_g = _per_row_total(multiply(gg, subtract(multiply(p, s), labels)), mean, m) if needs[2] else None
    return gl, gz, gg_g


XENT_GRAD = defop("softmax_cross_entropy_grad", _xent_grad_vjp)


def softmax_cross_entropy(labels, logits, name: str = "softmax_cross_entropy", mean: bool = False) -> Tensor:
    """Per-row sum_j labels * -log softmax(logits) (or with mean=True their average); labels (batch, classes)
    of the logits' dtype."""
    logits = _check_logits(name, logits)
    labels = cast(as_tensor(labels, logits.dtype, name), logits.dtype)
    if labels.shape != logits.shape:
        raise ValueError(f"{name}: labels of shape {labels.shape} do not match logits of shape {logits.shape}")
    m, n = logits.shape
    loss, probs = _xent_out(logits, mean)
    run(name, (logits, labels), lib.ad_softmax_xent, code(logits), m, n, logits._ptr, labels._ptr, loss._ptr,
        probs._ptr, int(mean))
    return emit(XENT, (logits, labels), loss, {"probs": probs, "mean": mean})


def softmax_cross_entropy_grad(logits, labels, g, probs=None, mean: bool = False) -> Tensor:
    """g_i * (softmax(logits) * sum_j labels - labels): the fused backward."""
    probs = softmax(logits) if probs is None else probs
    m, n = logits.shape
    g, d = _xent_grad_args(logits, g, mean)
    run("softmax_cross_entropy_grad", (probs, labels, g), lib.ad_softmax_xent_backward, code(logits), m, n,
        probs._ptr, labels._ptr, g._ptr, d._ptr, int(mean))
    return emit(XENT_GRAD, (logits, labels, g), d, {"mean": mean})


# --- sigmoid cross-entropy (elementwise) -----------------------------------------------------------

SIGMOID_XENT = defop("sigmoid_cross_entropy", lambda g, n, needs: (
    sigmoid_cross_entropy_grad(n.inputs[0], n.inputs[1], g) if needs[0] else None,
    negative(multiply(g, n.inputs[0])) if needs[1] else None))


def _sigmoid_xent_grad_vjp(gg, n, needs):
    # d = g (sigmoid(x) - z)
    x, z, g = n.inputs
    s = sigmoid(x)
    return (multiply(g, sigmoid_grad(s, gg)) if needs[0] else None,
            negative(multiply(g, gg)) if needs[1] else None,
            multiply(gg, subtract(s, z)) if needs[2] else None)


SIGMOID_XENT_GRAD = defop("sigmoid_cross_entropy_grad", _sigmoid_xent_grad_vjp)


def sigmoid_cross_entropy(labels, logits, name: str = "sigmoid_cross_entropy") -> Tensor:
    """Elementwise -z log sigmoid(x) - (1 - z) log(1 - sigmoid(x)), stable for any x."""
    logits = as_tensor(logits)
    need_float(name, logits)
    labels = cast(as_tensor(labels, logits.dtype, name), logits.dtype)
    if labels.shape != logits.shape:
        raise ValueError(f"{name}: labels of shape {labels.shape} do not match logits of shape {logits.shape}")
    loss = out_like(logits.shape, logits.dtype)
    run(name, (logits, labels), lib.ad_sigmoid_xent, code(logits), logits.size, logits._ptr, labels._ptr,
        loss._ptr)
    return emit(SIGMOID_XENT, (logits, labels), loss)


def sigmoid_cross_entropy_grad(x, z, g) -> Tensor:
    """g * (sigmoid(x) - z): the fused backward."""
    d = out_like(x.shape, x.dtype)
    run("sigmoid_cross_entropy_grad", (x, z, g), lib.ad_sigmoid_xent_backward, code(x), x.size, x._ptr, z._ptr,
        g._ptr, d._ptr)
    return emit(SIGMOID_XENT_GRAD, (x, z, g), d)


# --- normalization: LayerNormalization's and BatchNormalization's (training), one kernel each way ------------------

def _normalize_vjp(g, n, needs):
    x, rest = n.inputs[0], n.inputs[1:]
    gamma = rest[0] if n.attrs["scaled"] else None
    dx, dgamma, dbeta = normalize_grad(x, gamma, g, n.attrs["mean"], n.attrs["variance"], n.attrs["epsilon"],
                                       n.attrs["by_column"])
    return (dx,) + ((dgamma,) if gamma is not None else ()) + ((dbeta,) if len(rest) > (gamma is not None) else ())


def _normalize_grad_vjp(gs, n, needs):
    # (second derivatives only) the backward written with ops, differentiated by a tape of its own: any outer tape
    # records both, so higher orders follow
    with GradientTape(persistent=True) as t:
        t.watch(list(n.inputs))
        outs = _normalize_grad_ops(*(n.inputs if n.attrs["scaled"] else (n.inputs[0], None, n.inputs[1])),
                                   n.attrs["epsilon"], n.attrs["by_column"])
    return t.gradient(list(outs), list(n.inputs), output_gradients=list(gs))


def _normalize_grad_ops(x, gamma, dy, epsilon: float, by_column: bool) -> tuple:
    """normalize_grad's (dx, dgamma, dbeta) as ops: dx = rs (g - mean(g) - xhat mean(g xhat)) per group, g = dy
    gamma, xhat = (x - mean) rs, rs = 1 / sqrt(variance + epsilon)"""
    axis = 0 if by_column else 1
    centered = subtract(x, reduce_mean(x, axis, keepdims=True))
    rs = reciprocal(sqrt(increment(reduce_mean(square(centered), axis, keepdims=True), epsilon)))
    xhat = multiply(centered, rs)
    g = dy if gamma is None else multiply(dy, gamma)
    dx = multiply(rs, subtract(subtract(g, reduce_mean(g, axis, keepdims=True)),
                               multiply(xhat, reduce_mean(multiply(g, xhat), axis, keepdims=True))))
    return dx, reduce_sum(multiply(dy, xhat), 0), reduce_sum(dy, 0)


NORMALIZE = defop("normalize", _normalize_vjp)
NORMALIZE_GRAD = defop("normalize_grad", _normalize_grad_vjp)


def _check_normalize(name: str, x, params: tuple) -> None:
    if x.ndim != 2 or x.dtype not in FLOATS or any(
            p is not None and (p.shape != (x.shape[1],) or p.dtype != x.dtype) for p in params):
        raise ValueError(f"{name}: expects x (rows, cols) of float32 or float64 and per-column parameters (cols,) "
                         f"of its dtype, got {describe(x, *(p for p in params if p is not None))}")


def normalize(x, gamma=None, beta=None, epsilon: float = 1e-3, by_column: bool = False) -> tuple:
    """(y, mean, variance) for x (rows, cols): y = (x - mean) / sqrt(variance + epsilon) * gamma + beta, the
    statistics (biased variance) per row (layer normalization) or per column (batch normalization while training),
    gamma and beta (cols,) or None, in one kernel. y is differentiable in x, gamma and beta; mean and variance are
    not (what BatchNormalization's moving statistics take)."""
    x = as_tensor(x)
    params = tuple(None if p is None else as_tensor(p) for p in (gamma, beta))
    _check_normalize("normalize", x, params)
    rows, cols = x.shape
    groups = cols if by_column else rows
    y, mean, variance = out_like(x.shape, x.dtype), out_like((groups,), x.dtype), out_like((groups,), x.dtype)
    inputs = (x,) + tuple(p for p in params if p is not None)
    gamma, beta = params
    run("normalize", inputs, lib.ad_normalize, code(x), int(by_column), rows, cols, x._ptr,
        NULL if gamma is None else gamma._ptr, NULL if beta is None else beta._ptr, float(epsilon), y._ptr,
        mean._ptr, variance._ptr)
    y = emit(NORMALIZE, inputs, y, {"scaled": gamma is not None, "mean": mean, "variance": variance,
                                    "epsilon": float(epsilon), "by_column": bool(by_column)})
    return y, mean, variance


def normalize_grad(x, gamma, dy, mean, variance, epsilon: float, by_column: bool) -> tuple:
    """(dx, dgamma, dbeta) of normalize's y for the upstream gradient dy, from its mean and variance: the fused
    backward."""
    x, dy = as_tensor(x), as_tensor(dy)
    gamma = None if gamma is None else as_tensor(gamma)
    _check_normalize("normalize_grad", x, (gamma,))
    groups = x.shape[1] if by_column else x.shape[0]
    if dy.shape != x.shape or any(t.dtype != x.dtype for t in (dy, mean, variance)) or \
            mean.shape != (groups,) or variance.shape != (groups,):
        raise ValueError(f"normalize_grad: the upstream gradient and statistics do not fit x: "
                         f"{describe(x, dy, mean, variance)}")
    dx, dgamma, dbeta = out_like(x.shape, x.dtype), out_like(x.shape[1:], x.dtype), out_like(x.shape[1:], x.dtype)
    inputs = (x, dy) if gamma is None else (x, gamma, dy)
    run("normalize_grad", inputs, lib.ad_normalize_backward, code(x), int(by_column), x.shape[0], x.shape[1],
        x._ptr, NULL if gamma is None else gamma._ptr, mean._ptr, variance._ptr, float(epsilon), dy._ptr, dx._ptr,
        dgamma._ptr, dbeta._ptr)
    return emit(NORMALIZE_GRAD, inputs, (dx, dgamma, dbeta), {"scaled": gamma is not None, "epsilon": float(epsilon),
                                                              "by_column": bool(by_column)})


def moving_average(average, x, momentum: float) -> None:
    """average = momentum * average + (1 - momentum) * x in place, for a float Variable and a tensor of its size and
    dtype (BatchNormalization's moving statistics: one kernel call where ops took four), in double; never recorded
    by a tape, as Variable.assign."""
    x = as_tensor(x)
    if not isinstance(average, Variable) or average.dtype not in FLOATS or x.dtype != average.dtype or \
            x.size != average.size:
        raise ValueError(f"moving_average: expects a float32 or float64 Variable and values of its size and dtype, "
                         f"got {describe(average, x)}")
    if not isinstance(momentum, numbers.Real) or not math.isfinite(momentum):
        raise ValueError(f"moving_average: momentum must be a finite number, got {momentum!r}")
    run("moving_average", (x, average), lib.ad_moving_average, code(x), x.size, float(momentum), x._ptr, average._ptr)
    average._written()


# --- dropout -----------------------------------------------------------------------------------------

DROPOUT = defop("dropout", lambda g, n, needs: (multiply(g, n.attrs["mask"]),))


class RandomState:
    """A (seed, calls) pair in C memory: kernels read and advance it, so replayed graphs draw afresh."""

    def __init__(self, seed: int, calls: int = 0):
        self.ptr = B.i64_array((seed & 0x7FFFFFFFFFFFFFFF, calls))  # owns its memory: a traced plan keeps it

    def __reduce__(self):  # pickle and copy.deepcopy: the same pair, in new C memory
        return RandomState, tuple(B.view(self.ptr, 16).cast("q"))


def dropout(x, rate: float, state: RandomState, name: str = "dropout") -> Tensor:
    x = as_tensor(x)
    need_float(name, x)
    if not isinstance(rate, numbers.Real) or not 0.0 <= rate < 1.0:
        raise ValueError(f"{name}: rate must lie in [0, 1), got {rate!r}")
    y, mask = out_like(x.shape, x.dtype), out_like(x.shape, x.dtype)
    run(name, (x,), lib.ad_dropout, code(x), x.size, float(rate), state.ptr, x._ptr, y._ptr, mask._ptr)
    return emit(DROPOUT, (x,), y, {"mask": mask})


def permutation(n: int, seed: int) -> Tensor:
    """A random permutation of range(n) as an int32 tensor."""
    out = out_like((n,), INT32)
    run("permutation", (), lib.ad_permutation, n, seed & 0x7FFFFFFFFFFFFFFF, out._ptr)
    return out


__all__ = [
    "FUSED",
    "RandomState",
    "bias_act_grad",
    "dense",
    "dense_grad",
    "dropout",
    "moving_average",
    "normalize",
    "normalize_grad",
    "permutation",
    "sigmoid_cross_entropy",
    "sigmoid_cross_entropy_grad",
    "softmax_cross_entropy",
    "softmax_cross_entropy_grad",
    "sparse_softmax_cross_entropy",
    "sparse_softmax_cross_entropy_grad",
]

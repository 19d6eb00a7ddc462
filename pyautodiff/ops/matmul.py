"""matmul: 2-D and batched (numpy broadcasting over the batch dims), with transposes."""

from ..tensor import Tensor, shape_size
from ._core import broadcast_shape, code, defop, emit, lib, need_float, out_like, public, run
from .shape import broadcast_to, coerce, unbroadcast


def _vjp(g, n, needs):
    a, b = n.inputs
    ta, tb = n.attrs["transpose_a"], n.attrs["transpose_b"]
    ga = gb = None
    if needs[0]:
        ga = matmul(b, g, tb, True) if ta else matmul(g, b, False, not tb)
        ga = unbroadcast(ga, a.shape)
    if needs[1]:
        gb = matmul(g, a, True, ta) if tb else matmul(a, g, not ta, False)
        gb = unbroadcast(gb, b.shape)
    return ga, gb


MATMUL = defop("matmul", _vjp)


_PLANS: dict = {}  # (shape a, shape b, transposes) -> (output shape, batch, m, n, k, batch strides)


def _plan(a, b, transpose_a: bool, transpose_b: bool):
    if a.ndim < 2 or b.ndim < 2:
        raise ValueError(f"matmul: operands must have rank >= 2, got shapes {a.shape} and {b.shape}")
    m, ka = (a.shape[-1], a.shape[-2]) if transpose_a else a.shape[-2:]
    kb, n = (b.shape[-1], b.shape[-2]) if transpose_b else b.shape[-2:]
    if ka != kb:
        raise ValueError(f"matmul: inner dimensions differ: {a.shape}{'^T' if transpose_a else ''} @ "
                         f"{b.shape}{'^T' if transpose_b else ''} ({ka} != {kb})")
    batch = broadcast_shape("matmul", a.shape[:-2], b.shape[:-2])
    # a batch of one broadcasts by stride 0; other batch mismatches are materialised by broadcast_to
    strides = tuple(0 if shape_size(t.shape[:-2]) == 1 else t.shape[-1] * t.shape[-2] for t in (a, b))
    return batch + (m, n), batch, shape_size(batch), m, n, ka, strides


@public
def matmul(a, b, transpose_a: bool = False, transpose_b: bool = False):
    if not (isinstance(a, Tensor) and isinstance(b, Tensor) and a.dtype == b.dtype):
        a, b = coerce("matmul", a, b)
    need_float("matmul", a, b)
    key = (a.shape, b.shape, transpose_a, transpose_b)
    plan = _PLANS.get(key)
    if plan is None:
        plan = _PLANS[key] = _plan(a, b, bool(transpose_a), bool(transpose_b))
        if len(_PLANS) > 4096:
            _PLANS.clear()
    shape, batch, nbatch, m, n, k, (sa, sb) = plan
    ea = a if sa == 0 or a.shape[:-2] == batch else broadcast_to(a, batch + a.shape[-2:])
    eb = b if sb == 0 or b.shape[:-2] == batch else broadcast_to(b, batch + b.shape[-2:])
    y = out_like(shape, a.dtype)
    run("matmul", (a, b), lib.ad_matmul, code(a), nbatch, m, n, k, ea._ptr, sa, int(transpose_a),
        eb._ptr, sb, int(transpose_b), y._ptr, 1.0, 0.0)
    return emit(MATMUL, (a, b), y, {"transpose_a": bool(transpose_a), "transpose_b": bool(transpose_b)})

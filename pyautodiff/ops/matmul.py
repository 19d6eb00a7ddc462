"""matmul: 2-D and batched (numpy broadcasting over the batch dims), with transposes; einsum on top of it."""

from .. import _gemm_tune
from ..tensor import Tensor, shape_size
from ._core import FUNCTIONS, broadcast_shape, code, defop, describe, emit, lib, need_float, out_like, public, run
from .shape import broadcast_to, coerce, reshape, transpose, unbroadcast


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


_PLANS: dict = {}  # (shape a, shape b, transposes, dtype) -> _plan's tuple


def _plan(a, b, transpose_a: bool, transpose_b: bool):
    """(output shape, batch, batch size, m, n, k, batch strides, whether a batch operand must be broadcast, dtype
    code): what a call with these shapes, transposes and (float, checked here) dtype needs, kept in _PLANS"""
    need_float("matmul", a, b)
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
    spread = any(s and t.shape[:-2] != batch for s, t in zip(strides, (a, b)))
    return batch + (m, n), batch, shape_size(batch), m, n, ka, strides, spread, code(a)


@public
def matmul(a, b, transpose_a: bool = False, transpose_b: bool = False):
    if not (isinstance(a, Tensor) and isinstance(b, Tensor) and a.dtype == b.dtype):
        a, b = coerce("matmul", a, b)
    key = (a.shape, b.shape, transpose_a, transpose_b, a.dtype)  # (a call's checks and sizes come once per key)
    plan = _PLANS.get(key)
    if plan is None:
        plan = _PLANS[key] = _plan(a, b, bool(transpose_a), bool(transpose_b))
        if len(_PLANS) > 4096:
            _PLANS.clear()
    shape, batch, nbatch, m, n, k, (sa, sb), spread, dtype_code = plan
    ea, eb = a, b
    if spread:
        ea = a if sa == 0 or a.shape[:-2] == batch else broadcast_to(a, batch + a.shape[-2:])
        eb = b if sb == 0 or b.shape[:-2] == batch else broadcast_to(b, batch + b.shape[-2:])
    y = out_like(shape, a.dtype)
    if _gemm_tune.pending:
        _gemm_tune.first_product(nbatch * m * n * k)
    run("matmul", (a, b), lib.ad_matmul, dtype_code, nbatch, m, n, k, ea._ptr, sa, int(transpose_a),
        eb._ptr, sb, int(transpose_b), y._ptr, 1.0, 0.0)
    return emit(MATMUL, (a, b), y, {"transpose_a": bool(transpose_a), "transpose_b": bool(transpose_b)})


# --- einsum: each contraction of two operands becomes one (batched) matmul between transposes and reshapes,
# so its gradient comes from theirs ---------------------------------------------------------------------------

def _einsum_terms(subscripts: str, operands: list):
    """([labels per operand], output labels); labels are the subscript letters, and "0", "1", ...
    for the axes an ellipsis stands for (aligned from the right, as broadcasting)."""
    if not isinstance(subscripts, str):
        raise TypeError(f"einsum: subscripts must be a string, got {type(subscripts).__name__}")
    spec = subscripts.replace(" ", "")
    if spec.count("->") > 1:
        raise ValueError(f"einsum: more than one '->' in {subscripts!r}")
    lhs, out = spec.split("->") if "->" in spec else (spec, None)
    terms = lhs.split(",")
    if len(terms) != len(operands):
        raise ValueError(f"einsum: {subscripts!r} names {len(terms)} operand(s), got {len(operands)}")

    def letters(term, where):
        rest = term.replace("...", "", 1)
        bad = [c for c in rest if not c.isascii() or not c.isalpha()]
        if bad:
            raise ValueError(f"einsum: invalid subscript {bad[0]!r} in {where} of {subscripts!r} (letters and one "
                             "'...' only)")
        return rest

    n_ellipsis = 0
    for i, (term, x) in enumerate(zip(terms, operands)):
        named = letters(term, f"operand {i}")
        if len(named) > x.ndim or ("..." not in term and len(named) != x.ndim):
            raise ValueError(f"einsum: operand {i} of shape {x.shape} has {x.ndim} axes, its subscripts {term!r} "
                             f"name {len(named)}{' and an ellipsis' if '...' in term else ''}")
        n_ellipsis = max(n_ellipsis, x.ndim - len(named))
    expanded, sizes = [], {}  # label -> its size other than 1 (size-1 axes broadcast)
    for i, (term, x) in enumerate(zip(terms, operands)):
        head, dots, tail = term.partition("...")
        k = x.ndim - len(head) - len(tail)
        axes = list(head) + [str(n_ellipsis - k + j) for j in range(k if dots else 0)] + list(tail)
        if len(set(axes)) != len(axes):
            raise ValueError(f"einsum: repeated subscript in operand {i} ({term!r}): diagonals are not supported")
        for label, d in zip(axes, x.shape):
            if d != 1 and sizes.setdefault(label, d) != d:
                raise ValueError(f"einsum: subscript {label!r} has sizes {sizes[label]} and {d} in {subscripts!r} "
                                 f"({describe(*operands)})")
        expanded.append(axes)
    ellipsis = [str(j) for j in range(n_ellipsis)]
    if out is None:  # implicit: the broadcast axes, then the letters used once, alphabetically
        flat = [c for axes in expanded for c in axes if not c.isdigit()]
        return expanded, ellipsis + sorted(c for c in set(flat) if flat.count(c) == 1)
    letters(out, "the output")
    head, dots, tail = out.partition("...")
    if ellipsis and not dots:  # as numpy: the axes an ellipsis stands for are never summed away silently
        raise ValueError(f"einsum: the operands of {subscripts!r} have axes under '...', so must its output")
    out_axes = list(head) + (ellipsis if dots else []) + list(tail)
    used = {c for axes in expanded for c in axes}
    if len(set(out_axes)) != len(out_axes) or any(c not in used for c in out_axes):
        raise ValueError(f"einsum: the output subscripts of {subscripts!r} must be distinct and appear in an operand")
    return expanded, out_axes


def _sum_out(x: Tensor, labels: list, drop) -> tuple:
    """x summed over the axes whose labels drop(label) selects; (x, the labels left)."""
    axes = tuple(i for i, c in enumerate(labels) if drop(c))
    if not axes:
        return x, labels
    return FUNCTIONS["reduce_sum"](x, axes), [c for c in labels if not drop(c)]


def _arranged(x: Tensor, labels: list, first: list, second: list, batch: list):
    """x reshaped to (batch..., rows, cols) whose rows/cols are the axes of first/second, as a matmul operand
    (transposed where that saves a copy); (tensor, transposed)."""
    size = dict(zip(labels, x.shape))
    flip = labels == batch + second + first
    if not flip and labels != batch + first + second:
        x = transpose(x, tuple(labels.index(c) for c in batch + first + second))
    rows, cols = (second, first) if flip else (first, second)
    lead = tuple(size[c] for c in batch)
    return reshape(x, lead + (shape_size(size[c] for c in rows), shape_size(size[c] for c in cols))), flip


def _contract(a: Tensor, la: list, b: Tensor, lb: list, keep: list) -> tuple:
    """The product of a and b summed over the labels they share that keep lacks; (tensor, its labels): the
    shared kept labels (batch) first, then a's others, then b's."""
    sized = lambda x, labels: dict(zip(labels, x.shape))  # noqa: E731
    sa, sb = sized(a, la), sized(b, lb)
    # a label of one operand only, or shared with sizes 1 and n, that the result drops is summed on its own side
    a, la = _sum_out(a, la, lambda c: c not in keep and sb.get(c) != sa[c])
    b, lb = _sum_out(b, lb, lambda c: c not in keep and sa.get(c) != sb[c])
    batch = [c for c in keep if c in la and c in lb]
    contracted = [c for c in la if c in lb and c not in keep]
    free_a, free_b = [c for c in la if c not in lb], [c for c in lb if c not in la]
    if free_a and free_b and keep.index(free_b[0]) < keep.index(free_a[0]):  # the output's order: no final copy
        a, la, b, lb, free_a, free_b = b, lb, a, la, free_b, free_a
    sa, sb = sized(a, la), sized(b, lb)
    ma, ta = _arranged(a, la, free_a, contracted, batch)
    mb, tb = _arranged(b, lb, contracted, free_b, batch)
    y = matmul(ma, mb, ta, tb)
    return reshape(y, y.shape[:-2] + tuple(sa[c] for c in free_a) + tuple(sb[c] for c in free_b)), \
        batch + free_a + free_b


@public
def einsum(subscripts: str, *operands) -> Tensor:
    """Einstein summation as numpy's einsum ('ij,jk->ik', 'bhqd,bhkd->bhqk', '...ij,...jk->...ik', implicit
    output, any number of operands, size-1 axes broadcasting); each pair of operands is one batched matmul.
    Diagonals (a subscript repeated within an operand) are not supported."""
    if not operands:
        raise ValueError("einsum: expects at least one operand")
    xs = coerce("einsum", *operands)
    need_float("einsum", *xs)
    labels, out = _einsum_terms(subscripts, xs)
    y, ly = xs[0], labels[0]
    for i in range(1, len(xs)):
        keep = list(dict.fromkeys(out + [c for rest in labels[i + 1:] for c in rest]))
        y, ly = _contract(y, ly, xs[i], labels[i], keep)
    y, ly = _sum_out(y, ly, lambda c: c not in out)
    return y if ly == out else transpose(y, tuple(ly.index(c) for c in out))

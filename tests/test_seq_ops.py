"""The ops sequence models need (issue 16): the new activations and sin/cos/erf against math's float64 values and
their derivatives (higher orders too), logsumexp, softmax with a mask, tile, bandpart and einsum (against numpy
where installed, against plain Python otherwise), the activation layers with Keras' arguments, and bad input.
The numpy-free tests run in Pyodide too."""

import math
import warnings

import pytest

import pyautodiff as ad
from conftest import rand

try:
    import numpy as np
except ImportError:  # Pyodide: the numpy-free tests below still run
    np = None
needs_numpy = pytest.mark.skipif(np is None, reason="needs numpy")

POINTS = [-7.5, -3.0, -1.3, -0.4, -1e-3, 0.0, 2e-4, 0.6, 1.0, 2.7, 9.0]
SELU_A, SELU_S = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
C = math.sqrt(2 / math.pi)
sigmoid = lambda x: 1 / (1 + math.exp(-x))  # noqa: E731
phi = lambda x: math.exp(-x * x / 2) / math.sqrt(2 * math.pi)  # noqa: E731
gelu_t = lambda x: 0.5 * x * (1 + math.tanh(C * (x + 0.044715 * x ** 3)))  # noqa: E731
softplus = lambda x: max(x, 0.0) + math.log1p(math.exp(-abs(x)))  # noqa: E731

# name -> (function of a tensor, f, f', f'') in float64 with math
REFERENCES = {
    "sin": (ad.sin, math.sin, math.cos, lambda x: -math.sin(x)),
    "cos": (ad.cos, math.cos, lambda x: -math.sin(x), lambda x: -math.cos(x)),
    "erf": (ad.erf, math.erf, lambda x: 2 / math.sqrt(math.pi) * math.exp(-x * x),
            lambda x: -4 * x / math.sqrt(math.pi) * math.exp(-x * x)),
    "gelu": (ad.gelu, lambda x: 0.5 * x * math.erfc(-x / math.sqrt(2)),
             lambda x: 0.5 * math.erfc(-x / math.sqrt(2)) + x * phi(x), lambda x: (2 - x * x) * phi(x)),
    "gelu tanh": (lambda t: ad.gelu(t, approximate=True), gelu_t, None, None),
    "silu": (ad.silu, lambda x: x * sigmoid(x), lambda x: sigmoid(x) * (1 + x * (1 - sigmoid(x))),
             lambda x: sigmoid(x) * (1 - sigmoid(x)) * (2 + x * (1 - 2 * sigmoid(x)))),
    "swish": (ad.swish, lambda x: x * sigmoid(x), None, None),
    "mish": (ad.mish, lambda x: x * math.tanh(softplus(x)), None, None),
    "leaky_relu": (ad.leaky_relu, lambda x: x if x > 0 else 0.2 * x, lambda x: 1.0 if x > 0 else 0.2, lambda x: 0.0),
    "leaky_relu 0.01": (lambda t: ad.leaky_relu(t, negative_slope=0.01), lambda x: x if x > 0 else 0.01 * x,
                        lambda x: 1.0 if x > 0 else 0.01, None),
    "elu": (ad.elu, lambda x: x if x > 0 else math.expm1(x), lambda x: 1.0 if x > 0 else math.exp(x),
            lambda x: 0.0 if x > 0 else math.exp(x)),
    "elu 0.5": (lambda t: ad.elu(t, alpha=0.5), lambda x: x if x > 0 else 0.5 * math.expm1(x),
                lambda x: 1.0 if x > 0 else 0.5 * math.exp(x), None),
    "selu": (ad.selu, lambda x: SELU_S * (x if x > 0 else SELU_A * math.expm1(x)),
             lambda x: SELU_S if x > 0 else SELU_S * SELU_A * math.exp(x),
             lambda x: 0.0 if x > 0 else SELU_S * SELU_A * math.exp(x)),
    "hard_sigmoid": (ad.hard_sigmoid, lambda x: min(max(x / 6 + 0.5, 0.0), 1.0),
                     lambda x: 1 / 6 if -3 < x < 3 else 0.0, lambda x: 0.0),
}


def _close(got, want, rtol, atol=1e-300):
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert abs(g - w) <= atol + rtol * abs(w), (got, want)


def _derivatives(fn, xs, dtype="float64"):
    """(f, f', f'') of fn at the points xs, through two nested tapes."""
    x = ad.array(xs, dtype)
    with ad.GradientTape() as outer:
        outer.watch(x)
        with ad.GradientTape() as inner:
            inner.watch(x)
            y = fn(x)
        d1 = inner.gradient(y, x)
    d2 = outer.gradient(d1, x, unconnected_gradients="zero")
    return y.tolist(), d1.tolist(), d2.tolist()


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_values_and_derivatives_match_math(name):
    fn, f, d1, d2 = REFERENCES[name]
    y, g1, g2 = _derivatives(fn, POINTS)
    _close(y, [f(x) for x in POINTS], 1e-14, 1e-300)
    if d1:
        _close(g1, [d1(x) for x in POINTS], 1e-13, 1e-15)  # (selu's, through y, loses ~1e-16 far left)
    if d2:
        _close(g2, [d2(x) for x in POINTS], 1e-12, 1e-15)
    y32 = fn(ad.array(POINTS, "float32"))
    assert y32.dtype == "float32"
    _close(y32.tolist(), [f(x) for x in POINTS], 3e-6, 1e-6)


def test_far_tails_stay_accurate():
    """gelu far left is x * Phi(x), not 0 from a cancelling 1 + erf; elu and selu near 0 use expm1."""
    assert ad.gelu(ad.array([-10.0], "float64")).item() == pytest.approx(-10 * 0.5 * math.erfc(10 / math.sqrt(2)),
                                                                         rel=1e-13)
    assert ad.gelu(ad.array([-10.0])).item() < 0
    assert ad.elu(ad.array([-1e-10], "float64")).item() == pytest.approx(-1e-10, rel=1e-12)
    assert ad.silu(ad.array([-80.0], "float64")).item() == pytest.approx(-80 * sigmoid(-80), rel=1e-12)
    assert ad.mish(ad.array([50.0], "float32")).item() == 50.0


def test_third_order_through_nested_tapes():
    x = ad.array([0.3, -1.1], "float64")
    with ad.GradientTape() as t3:
        t3.watch(x)
        with ad.GradientTape() as t2:
            t2.watch(x)
            with ad.GradientTape() as t1:
                t1.watch(x)
                y = ad.gelu(x) + ad.sin(x)
            d1 = t1.gradient(y, x)
        d2 = t2.gradient(d1, x)
    d3 = t3.gradient(d2, x)
    # gelu''' = phi(x) (x^3 - 3x) ... written as -x phi(x) (2 - x^2) - 2x phi(x); sin''' = -cos
    want = [phi(v) * (v ** 3 - 4 * v) - math.cos(v) for v in (0.3, -1.1)]
    _close(d3.tolist(), want, 1e-12)


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_nan_propagates_and_infinities(name):
    fn = REFERENCES[name][0]
    out = fn(ad.array([float("nan"), float("inf"), -float("inf")], "float64")).tolist()
    assert math.isnan(out[0])
    with ad.GradientTape() as tape:
        x = ad.array([float("nan")], "float64")
        tape.watch(x)
        y = fn(x)
    assert math.isnan(tape.gradient(y, x).item())
    if name not in ("sin", "cos"):
        want_pos = {"erf": 1.0, "hard_sigmoid": 1.0}.get(name, float("inf"))
        assert out[1] == want_pos


def test_negative_infinity_limits():
    x = ad.array([-float("inf")], "float64")
    assert ad.leaky_relu(x).item() == -float("inf")
    assert ad.elu(x, alpha=2.0).item() == -2.0
    assert ad.selu(x).item() == pytest.approx(-SELU_S * SELU_A)
    assert ad.erf(x).item() == -1.0 and ad.hard_sigmoid(x).item() == 0.0


@pytest.mark.parametrize("fn", [ad.sin, ad.cos, ad.erf, ad.gelu, ad.silu, ad.mish, ad.leaky_relu, ad.elu, ad.selu,
                                ad.hard_sigmoid, ad.logsumexp])
def test_int_input_raises_naming_the_op(fn):
    with pytest.raises(TypeError, match=fn.__name__):
        fn(ad.array([1, 2]))


def test_bad_parameters_raise():
    with pytest.raises(TypeError, match="leaky_relu: negative_slope"):
        ad.leaky_relu(ad.array([1.0]), negative_slope="0.2")
    with pytest.raises(TypeError, match="elu: alpha"):
        ad.elu(ad.array([1.0]), alpha=None)


def test_activations_by_name():
    x = ad.array([[-1.5, 0.3, 2.0]])
    for name, fn in [("gelu", ad.gelu), ("silu", ad.silu), ("swish", ad.silu), ("mish", ad.mish),
                     ("leaky_relu", ad.leaky_relu), ("elu", ad.elu), ("selu", ad.selu),
                     ("hard_sigmoid", ad.hard_sigmoid), ("softplus", ad.softplus)]:
        assert ad.layers.Activation(name)(x).tolist() == fn(x).tolist(), name
        dense = ad.layers.Dense(2, activation=name, kernel_initializer="ones")
        assert dense(x).tolist() == fn(ad.layers.Dense(2, kernel_initializer="ones")(x)).tolist(), name
    g = ad.NeuralNetworks().gradient()
    for name in ("sin", "cos", "erf", "gelu", "silu", "swish", "mish", "leaky_relu", "elu", "selu", "hard_sigmoid",
                 "logsumexp", "reduce_logsumexp", "tile", "bandpart", "einsum", "softmax"):
        assert getattr(g, name) is getattr(ad, name)


def test_fused_dense_activations_train_like_unfused():
    """selu and hard_sigmoid are fused into dense: value and gradient as dense then the activation."""
    x, w, b = rand((3, 4), seed=1), rand((4, 2), seed=2), rand((2,), seed=3)
    for name in ("selu", "hard_sigmoid"):
        with ad.GradientTape(persistent=True) as tape:
            tape.watch([x, w, b])
            fused = ad.ops.nn.dense(x, w, b, name)
            plain = getattr(ad, name)(ad.matmul(x, w) + b)
        _close(ad.reshape(fused, (-1,)).tolist(), ad.reshape(plain, (-1,)).tolist(), 1e-14, 1e-15)
        for a, c in zip(tape.gradient(fused, [x, w, b]), tape.gradient(plain, [x, w, b])):
            _close(ad.reshape(a, (-1,)).tolist(), ad.reshape(c, (-1,)).tolist(), 1e-13, 1e-15)


# --- logsumexp ---------------------------------------------------------------------------------------------

def _lse(values):
    top = max(values)
    return top + math.log(sum(math.exp(v - top) for v in values))


def test_logsumexp_values():
    rows = [[1.0, 2.0, 3.0], [1000.0, 1000.0, -5.0], [-1000.0, -1001.0, -1002.0]]
    x = ad.array(rows, "float64")
    _close(ad.logsumexp(x, axis=1).tolist(), [_lse(r) for r in rows], 1e-15)
    _close(ad.reshape(ad.reduce_logsumexp(x, -1, keepdims=True), (-1,)).tolist(), [_lse(r) for r in rows], 1e-15)
    _close([ad.logsumexp(x).item()], [_lse([v for r in rows for v in r])], 1e-15)
    cols = ad.logsumexp(x, axis=(0,)).tolist()
    _close(cols, [_lse([r[j] for r in rows]) for j in range(3)], 1e-15)
    assert ad.logsumexp(ad.array(rows, "float32"), 1).dtype == "float32"
    assert ad.logsumexp(x, (0, 1), keepdims=True).shape == (1, 1)


def test_logsumexp_infinities_and_empty():
    inf = float("inf")
    out = ad.logsumexp(ad.array([[-inf, -inf], [inf, 1.0], [-inf, 2.0], [float("nan"), 1.0]], "float64"), 1).tolist()
    assert out[0] == -inf and out[1] == inf and out[2] == 2.0 and math.isnan(out[3])
    assert ad.logsumexp(ad.zeros((2, 0)), 1).tolist() == [-inf, -inf]
    with pytest.raises(ValueError, match="logsumexp"):
        ad.logsumexp(ad.zeros((2, 3)), 2)


def test_logsumexp_gradient_is_softmax():
    x = ad.array([[1000.0, 999.0, -2.0]], "float64")
    with ad.GradientTape() as tape:
        tape.watch(x)
        y = ad.logsumexp(x, 1)
    _close(tape.gradient(y, x).tolist()[0], ad.softmax(x).tolist()[0], 1e-15)


# --- softmax with a mask --------------------------------------------------------------------------------------

def _masked_softmax(row, keep):
    """Keras' Softmax layer with a mask: masked logits become -1e9, then masked outputs 0."""
    z = [v if k else -1e9 for v, k in zip(row, keep)]
    top = max(z)
    e = [math.exp(v - top) for v in z]
    return [ei / sum(e) if k else 0.0 for ei, k in zip(e, keep)]


def test_softmax_mask_as_keras():
    rows = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [0.5, 0.1, -1.0]]
    mask = [[1, 0, 1], [0, 0, 0], [1, 1, 1]]
    got = ad.softmax(ad.array(rows, "float64"), mask=mask).tolist()
    for g, r, m in zip(got, rows, mask):
        _close(g, _masked_softmax(r, m), 1e-15)
    assert got[1] == [0.0, 0.0, 0.0]  # a fully masked row: all zeros, as Keras
    # a mask broadcast over rows, a float mask (kept above 0.5), the layer
    row_mask = ad.softmax(ad.array(rows, "float64"), mask=[[1.0, 0.4, 0.9]]).tolist()
    for g, r in zip(row_mask, rows):
        _close(g, _masked_softmax(r, [1, 0, 1]), 1e-15)
    layer = ad.layers.Softmax(dtype="float64")
    assert layer(ad.array(rows, "float64"), mask=mask).tolist() == got


def test_softmax_mask_gradient_skips_masked_positions():
    x = ad.array([[0.3, -1.2, 2.0], [1.0, 1.0, 1.0]], "float64")
    mask = ad.array([[1, 0, 1], [0, 0, 0]])
    with ad.GradientTape() as tape:
        tape.watch(x)
        y = ad.softmax(x, mask=mask) * ad.array([[1.0, 5.0, -2.0], [3.0, 1.0, 1.0]], "float64")
    g = tape.gradient(y, x).tolist()
    assert g[0][1] == 0.0 and g[1] == [0.0, 0.0, 0.0] and g[0][0] != 0.0


def test_softmax_over_several_axes():
    x = ad.array([[1.0, 2.0], [3.0, 4.0]], "float64")
    total = sum(math.exp(v) for v in (1.0, 2.0, 3.0, 4.0))
    _close(ad.reshape(ad.softmax(x, (0, 1)), (-1,)).tolist(), [math.exp(v) / total for v in (1, 2, 3, 4)], 1e-15)
    assert ad.softmax(x, [1]).tolist() == ad.softmax(x, 1).tolist()
    assert ad.layers.Softmax(axis=(0, 1), dtype="float64")(x).tolist() == ad.softmax(x, (0, 1)).tolist()


def test_softmax_mask_shape_errors():
    x = ad.zeros((2, 3))
    with pytest.raises(ValueError, match=r"softmax: mask of shape \(2, 2\) does not broadcast.*\(2, 3\)"):
        ad.softmax(x, mask=ad.ones((2, 2)))
    with pytest.raises(ValueError, match="softmax: mask"):
        ad.softmax(x, mask=ad.ones((1, 2, 3)))


# --- tile and bandpart -----------------------------------------------------------------------------------------

def test_tile_plain():
    x = ad.array([[1, 2], [3, 4]])
    assert ad.tile(x, (2, 3)).tolist() == [[1, 2, 1, 2, 1, 2], [3, 4, 3, 4, 3, 4]] * 2
    assert ad.tile(x, [1, 2]).tolist() == [[1, 2, 1, 2], [3, 4, 3, 4]]
    assert ad.tile(x, (2,)).tolist() == [[1, 2, 1, 2], [3, 4, 3, 4]]  # fewer multiples: the last axes
    assert ad.tile(x, (2, 1, 1)).shape == (2, 2, 2)
    assert ad.tile(x, (0, 2)).shape == (0, 4)
    with pytest.raises(ValueError, match="tile: multiples must be non-negative"):
        ad.tile(x, (2, -1))
    with pytest.raises(TypeError, match="tile"):
        ad.tile(x, (2.5, 1))


@needs_numpy
@pytest.mark.parametrize("shape,reps", [((3,), (2,)), ((2, 3), (2, 2)), ((2, 1, 3), (1, 3, 2)), ((2, 3), (2, 1, 2)),
                                        ((4,), (2, 3))])
def test_tile_matches_numpy(shape, reps):
    x = np.random.default_rng(1).standard_normal(shape)
    np.testing.assert_array_equal(ad.tile(x, reps).numpy(), np.tile(x, reps))


def _band(rows, lower, upper):
    return [[v if (lower < 0 or i - j <= lower) and (upper < 0 or j - i <= upper) else 0 for j, v in enumerate(r)]
            for i, r in enumerate(rows)]


@pytest.mark.parametrize("lower,upper", [(-1, 0), (0, -1), (1, 1), (0, 0), (-1, -1), (2, 0), (5, 5)])
def test_bandpart_matches_a_loop(lower, upper):
    mats = [[[float(10 * b + 4 * i + j) for j in range(4)] for i in range(3)] for b in range(2)]
    got = ad.bandpart(ad.array(mats), lower, upper).tolist()
    assert got == [_band(m, lower, upper) for m in mats]
    ints = ad.bandpart(ad.array([[1, 2], [3, 4]]), 0, 0)
    assert ints.dtype == "int32" and ints.tolist() == [[1, 0], [0, 4]]


def test_bandpart_gradient_and_errors():
    x = rand((2, 3), seed=5)
    with ad.GradientTape() as tape:
        tape.watch(x)
        y = ad.bandpart(x, -1, 0)
    assert tape.gradient(y, x).tolist() == [[1.0, 0.0, 0.0], [1.0, 1.0, 0.0]]
    with pytest.raises(ValueError, match=r"bandpart: expects a tensor of rank >= 2.*\(3,\)"):
        ad.bandpart(ad.zeros((3,)), -1, 0)
    with pytest.raises(TypeError, match="bandpart: num_lower"):
        ad.bandpart(ad.zeros((2, 2)), 0.5, 0)


def test_bandpart_replays_in_a_function():
    f = ad.function(lambda x: ad.bandpart(x, 0, 1) * 2.0)
    for seed in (1, 2):
        x = rand((2, 3, 4), "float32", seed=seed)
        assert f(x).tolist() == (ad.bandpart(x, 0, 1) * 2.0).tolist()
    assert f.trace_count == 1


def test_causal_mask_replays_in_a_function():
    f = ad.function(lambda s: ad.softmax(s, mask=ad.bandpart(ad.ones((3, 3)), -1, 0)))
    for seed in (1, 2):
        s = rand((2, 3, 3), "float32", seed=seed)
        got, want = f(s).tolist(), ad.softmax(s, mask=ad.bandpart(ad.ones((3, 3)), -1, 0)).tolist()
        assert got == want and got[0][0][1:] == [0.0, 0.0]
    assert f.trace_count == 1


# --- einsum ------------------------------------------------------------------------------------------------

EINSUM_CASES = [
    ("ab,bc->ac", [(2, 3), (3, 4)]), ("abc,cd->abd", [(2, 3, 4), (4, 5)]),
    ("abcd,abed->abce", [(2, 3, 4, 5), (2, 3, 6, 5)]), ("aecd,abcd->acbe", [(2, 3, 4, 5), (2, 6, 4, 5)]),
    ("acbe,aecd->abcd", [(2, 4, 6, 3), (2, 3, 4, 5)]), ("abc,cde->abde", [(2, 3, 4), (4, 5, 6)]),
    ("abcd,cde->abe", [(2, 3, 4, 5), (4, 5, 6)]), ("...ij,...jk->...ik", [(2, 1, 3, 4), (5, 4, 2)]),
    ("...ij,jk->...ik", [(3, 4), (4, 2)]), ("ij->ji", [(2, 3)]), ("ij->", [(2, 3)]), ("ij->j", [(2, 3)]),
    ("ij", [(2, 3)]), ("ji", [(2, 3)]), ("ij,jk", [(2, 3), (3, 4)]), ("i,i", [(3,), (3,)]), ("i,j->ij", [(3,), (4,)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]), ("...i,...i->...", [(2, 3), (3,)]), ("bij,jk->bk", [(2, 3, 4), (4, 5)]),
    ("ij,ij->ij", [(1, 3), (2, 3)]), ("ij,ij->i", [(1, 3), (2, 3)]), ("bhqd,bhkd->bhqk", [(2, 1, 3, 4), (2, 1, 5, 4)]),
    ("abc,cd->abd", [(2, 0, 4), (4, 5)]), ("a b c , c d -> a b d", [(2, 3, 4), (4, 5)]),
]


@needs_numpy
@pytest.mark.parametrize("spec,shapes", EINSUM_CASES)
def test_einsum_matches_numpy(spec, shapes):
    rng = np.random.default_rng(7)
    xs = [rng.standard_normal(s) for s in shapes]
    want = np.einsum(spec.replace(" ", ""), *xs)
    got = ad.einsum(spec, *[ad.array(x, "float64") for x in xs])
    assert got.shape == want.shape
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12, atol=1e-12)


@needs_numpy
@pytest.mark.parametrize("spec,shapes", [c for c in EINSUM_CASES if 0 not in sum(c[1], ())])
def test_einsum_gradient_matches_numpy(spec, shapes):
    """The gradient of sum(w * einsum(...)) with respect to operand i is einsum of w and the others."""
    rng = np.random.default_rng(8)
    xs = [ad.array(rng.standard_normal(s), "float64") for s in shapes]
    with ad.GradientTape() as tape:
        tape.watch(xs)
        y = ad.einsum(spec, *xs)
        w = ad.array(rng.standard_normal(y.shape), "float64")
        total = ad.reduce_sum(y * w)
    grads = tape.gradient(total, xs)
    eps = 1e-6
    for x, g in zip(xs, grads):
        base = x.numpy()
        numeric = np.zeros_like(base)
        for i in np.ndindex(base.shape):
            for sign in (1, -1):
                moved = base.copy()
                moved[i] += sign * eps
                value = float(ad.reduce_sum(ad.einsum(spec, *[ad.array(moved) if o is x else o for o in xs]) * w))
                numeric[i] += sign * value / (2 * eps)
        np.testing.assert_allclose(g.numpy(), numeric, rtol=1e-6, atol=1e-7)


def test_einsum_without_numpy():
    a, b = ad.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]), ad.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    assert ad.einsum("ab,bc->ac", a, b).tolist() == ad.matmul(a, b).tolist() == [[4.0, 5.0], [10.0, 11.0]]
    assert ad.einsum("ab->ba", a).tolist() == ad.transpose(a).tolist()
    assert ad.einsum("ab->", a).item() == 21.0
    assert ad.einsum("ij,ij->i", a, a).tolist() == [14.0, 77.0]
    assert ad.einsum("i,j", ad.array([1.0, 2.0]), ad.array([3.0, 4.0])).tolist() == [[3.0, 4.0], [6.0, 8.0]]
    assert ad.NeuralNetworks().gradient().einsum("ab,bc->ac", a, b).tolist() == [[4.0, 5.0], [10.0, 11.0]]


@pytest.mark.parametrize("spec,shapes,error,match", [
    ("ab,bc->ac", [(2, 3), (4, 5)], ValueError, "subscript 'b' has sizes 3 and 4"),
    ("ab,bc->ac", [(2, 3)], ValueError, "names 2 operand"),
    ("abc,cd->abd", [(2, 3), (3, 4)], ValueError, r"operand 0 of shape \(2, 3\) has 2 axes"),
    ("ii->i", [(3, 3)], ValueError, "repeated subscript.*diagonals"),
    ("ab,bc->ad", [(2, 3), (3, 4)], ValueError, "output subscripts"),
    ("ab,bc->aa", [(2, 3), (3, 4)], ValueError, "output subscripts"),
    ("a1,bc->ac", [(2, 3), (3, 4)], ValueError, "invalid subscript '1'"),
    ("ab->b->a", [(2, 3)], ValueError, "more than one '->'"),
    ("...ab->ab", [(4, 2, 3)], ValueError, "must its output"),
    ("ab.->a", [(2, 3)], ValueError, "invalid subscript '.'"),
])
def test_einsum_bad_subscripts_raise(spec, shapes, error, match):
    with pytest.raises(error, match=f"einsum: .*{match}"):
        ad.einsum(spec, *[ad.zeros(s) for s in shapes])


def test_einsum_bad_types_raise():
    with pytest.raises(TypeError, match="einsum: subscripts must be a string"):
        ad.einsum(["ab"], ad.zeros((2, 2)))
    with pytest.raises(TypeError, match="einsum"):
        ad.einsum("ab,bc->ac", ad.array([[1, 2]]), ad.array([[1], [2]]))
    with pytest.raises(ValueError, match="einsum: expects at least one operand"):
        ad.einsum("ab")


def test_einsum_replays_in_a_function():
    f = ad.function(lambda q, k: ad.einsum("aecd,abcd->acbe", k, q))
    for seed in (3, 4):
        q, k = rand((2, 3, 2, 4), "float32", seed=seed), rand((2, 5, 2, 4), "float32", seed=seed + 10)
        assert f(q, k).tolist() == ad.einsum("aecd,abcd->acbe", k, q).tolist()
    assert f.trace_count == 1


# --- activation layers ------------------------------------------------------------------------------------------

X = [-4.0, -3.0, -1.2, -0.3, 0.0, 0.5, 2.2, 3.0, 7.0]


def _relu(x, max_value=None, negative_slope=0.0, threshold=0.0):
    """Keras' relu with its arguments (x itself only above the threshold, as Keras computes it)."""
    y = x if x > threshold else negative_slope * (x - threshold)
    return min(y, max_value) if max_value is not None else y


@pytest.mark.parametrize("kwargs", [{}, {"max_value": 6.0}, {"threshold": 1.0}, {"negative_slope": 0.25},
                                    {"max_value": 2.0, "negative_slope": 0.1, "threshold": 0.5}])
def test_relu_layer_as_keras(kwargs):
    layer = ad.layers.ReLU(**kwargs, dtype="float64")
    _close(layer(ad.array([X], "float64")).tolist()[0], [_relu(x, **kwargs) for x in X], 1e-15, 1e-15)
    config = layer.get_config()
    assert {k: config[k] for k in ("max_value", "negative_slope", "threshold")} == \
        {"max_value": None, "negative_slope": 0.0, "threshold": 0.0, **kwargs}
    again = type(layer)(**config)
    assert again(ad.array([X])).tolist() == layer(ad.array([X])).tolist()


def test_leaky_relu_and_elu_layers():
    x = ad.array([X], "float64")
    leaky = ad.layers.LeakyReLU(dtype="float64")
    assert leaky.negative_slope == 0.3  # the layer's default, not the function's 0.2
    assert leaky(x).tolist()[0] == [v if v > 0 else 0.3 * v for v in X]
    assert ad.layers.LeakyReLU(negative_slope=0.1).get_config()["negative_slope"] == 0.1
    with pytest.warns(UserWarning, match="alpha"):
        old = ad.layers.LeakyReLU(alpha=0.05)
    assert old.negative_slope == 0.05
    elu = ad.layers.ELU(alpha=0.5, name="e", dtype="float64")
    _close(elu(x).tolist()[0], [v if v > 0 else 0.5 * math.expm1(v) for v in X], 1e-15, 1e-15)
    config = elu.get_config()
    assert config["alpha"] == 0.5 and config["name"] == "e"
    assert type(elu)(**config)(x).tolist() == elu(x).tolist()


def test_softmax_layer_config_and_mask():
    layer = ad.layers.Softmax(axis=0, dtype="float64")
    assert layer.get_config()["axis"] == 0
    x = ad.array([[1.0, 2.0], [3.0, 4.0]], "float64")
    assert type(layer)(**layer.get_config())(x).tolist() == ad.softmax(x, 0).tolist()
    assert ad.layers.Softmax()(x, mask=[[1, 1], [0, 1]]).tolist()[1] == [0.0, 1.0]


@pytest.mark.parametrize("make,match", [
    (lambda: ad.layers.ReLU(max_value=-1.0), "max_value must be a number >= 0"),
    (lambda: ad.layers.ReLU(negative_slope=-0.1), "negative_slope"),
    (lambda: ad.layers.ReLU(threshold=None), "threshold"),
    (lambda: ad.layers.LeakyReLU(negative_slope=-0.2), "negative_slope"),
    (lambda: ad.layers.LeakyReLU(negative_slope=None), "negative_slope"),
    (lambda: ad.layers.ELU(alpha="big"), "alpha"),
    (lambda: ad.layers.Softmax(axis="last"), "axis"),
    (lambda: ad.layers.Softmax(axis=()), "axis"),
])
def test_activation_layers_refuse_bad_arguments(make, match):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match=match):
            make()


def test_activation_layers_in_a_model_train():
    model = ad.Sequential([ad.layers.Dense(4, activation="gelu"), ad.layers.LeakyReLU(), ad.layers.Dense(3),
                           ad.layers.ELU(), ad.layers.Dense(2), ad.layers.Softmax()])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x = rand((16, 3), "float32", seed=11)
    y = ad.array([i % 2 for i in range(16)])
    history = model.fit(x, y, epochs=3, batch_size=8, verbose=0)
    assert all(math.isfinite(v) for v in history.history["loss"])

"""The elementwise maps, row reductions and softmax run as vector loops (AVX-512 / AVX2 clones natively, lanes of 16
in the reductions): at every length around the vector and lane widths, with NaN and infinities at every position of a
lane, they agree with numpy, and each element's result does not depend on where it sits (a vector body and a scalar
tail compute the same bits: no FMA contraction, no approximate reciprocal)."""

import pytest

import pyautodiff as ad

np = pytest.importorskip("numpy")

LENGTHS = [0, 1, 7, 15, 16, 17, 31, 32, 33, 47, 64, 100, 257]
UNARY = {"sigmoid": lambda x: 1 / (1 + np.exp(-x)), "tanh": np.tanh, "exp": np.exp, "relu": lambda x: np.maximum(x, 0),
         "negative": np.negative, "square": np.square, "abs": np.abs}
RNG = np.random.default_rng(7)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_float32_maps_have_the_same_bits_alone_and_in_a_vector(name):
    x = RNG.uniform(-12, 12, 257).astype(np.float32)
    fn = getattr(ad, name)
    whole = np.asarray(fn(ad.array(x)))
    alone = np.array([np.asarray(fn(ad.array(x[i:i + 1])))[0] for i in range(len(x))], dtype=np.float32)
    np.testing.assert_array_equal(whole.view(np.uint32), alone.view(np.uint32))
    np.testing.assert_allclose(whole, UNARY[name](x.astype(np.float64)), rtol=2e-6, atol=1e-7)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_float32_maps_keep_nan_and_infinities_in_every_lane(name):
    x = RNG.uniform(-3, 3, 64).astype(np.float32)
    for i, v in zip(range(0, 64, 5), [np.nan, np.inf, -np.inf] * 5):
        x[i] = v
    with np.errstate(all="ignore"):
        expected = UNARY[name](x.astype(np.float64))
    np.testing.assert_allclose(np.asarray(getattr(ad, name)(ad.array(x))), expected, rtol=2e-6, atol=1e-7)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("n", LENGTHS)
def test_row_reductions_at_every_length(dtype, n):
    x = RNG.uniform(-5, 5, (3, n)).astype(dtype)
    a = ad.array(x)
    tol = dict(rtol=1e-6 if dtype == "float32" else 1e-13, atol=1e-6 if dtype == "float32" else 1e-13)
    np.testing.assert_allclose(np.asarray(ad.reduce_sum(a, 1)), x.astype(np.float64).sum(1), **tol)
    np.testing.assert_allclose(np.asarray(ad.reduce_sum(a, 0)), x.astype(np.float64).sum(0), **tol)
    if n:
        for name, ref in (("reduce_max", np.max), ("reduce_min", np.min)):
            np.testing.assert_array_equal(np.asarray(getattr(ad, name)(a, 1)), ref(x, 1))
            np.testing.assert_array_equal(np.asarray(getattr(ad, name)(a, 0)), ref(x, 0))
    else:  # empty rows have no max, as in numpy
        with pytest.raises(ValueError, match="empty axis"):
            ad.reduce_max(a, 1)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("at", [0, 5, 15, 16, 31, 40])
def test_row_max_min_and_sum_see_nan_and_infinities_in_any_lane(dtype, at):
    x = RNG.uniform(-5, 5, (4, 41)).astype(dtype)
    x[0, at], x[1, at], x[2, at] = np.nan, np.inf, -np.inf
    a = ad.array(x)
    for name, ref in (("reduce_max", np.max), ("reduce_min", np.min), ("reduce_sum", np.sum)):
        np.testing.assert_allclose(np.asarray(getattr(ad, name)(a, 1)), ref(x.astype(np.float64), 1), rtol=1e-6)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("n", [n for n in LENGTHS if n])
def test_softmax_along_rows_at_every_length(dtype, n):
    x = RNG.uniform(-20, 20, (5, n)).astype(dtype)
    x[1, :] = -np.inf  # all -inf: NaN (0/0), as numpy's
    x[2, n // 2] = np.nan
    x[3, n - 1] = np.inf
    x64 = x.astype(np.float64)
    with np.errstate(all="ignore"):
        e = np.exp(x64 - x64.max(1, keepdims=True))
        expected = e / e.sum(1, keepdims=True)
    got = np.asarray(ad.softmax(ad.array(x)))
    tol = dict(rtol=1e-5 if dtype == "float32" else 1e-12, atol=1e-7 if dtype == "float32" else 1e-15)
    rows = [0, 4]  # the finite rows against numpy; the others' NaN where numpy's is
    np.testing.assert_allclose(got[rows], expected[rows], **tol)
    assert np.isnan(got[2]).all()
    np.testing.assert_array_equal(np.isnan(got[[1, 3]]), np.isnan(expected[[1, 3]]))
    with np.errstate(all="ignore"):
        np.testing.assert_allclose(np.asarray(ad.log_softmax(ad.array(x)))[rows], np.log(expected[rows]),
                                   rtol=tol["rtol"], atol=1e-5 if dtype == "float32" else 1e-12)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("n", [1, 15, 17, 33, 1000])
def test_cross_entropies_from_logits_at_every_class_count(dtype, n):
    """The losses' softmax runs as vector loops too (float32: ad_expf, sums in double): the per-example losses and
    the logits' gradients of both cross-entropies against float64 numpy, with logits far apart."""
    x = RNG.uniform(-30, 30, (6, n)).astype(dtype)
    x[0, :] = 80.0  # equal and large
    labels = RNG.integers(0, n, 6).astype(np.int32)
    onehot = np.eye(n)[labels]
    x64 = x.astype(np.float64)
    lse = x64.max(1) + np.log(np.exp(x64 - x64.max(1, keepdims=True)).sum(1))
    probs = np.exp(x64 - lse[:, None])
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == "float32" else dict(rtol=1e-12, atol=1e-13)
    for loss, target in ((ad.losses.SparseCategoricalCrossentropy(from_logits=True, reduction=None), labels),
                         (ad.losses.CategoricalCrossentropy(from_logits=True, reduction=None), onehot.astype(dtype))):
        v = ad.Variable(x)
        with ad.GradientTape() as tape:
            per_example = loss(ad.array(target), v)
            total = ad.reduce_sum(per_example)
        grad = tape.gradient(total, v)
        np.testing.assert_allclose(np.asarray(per_example), lse - x64[np.arange(6), labels], **tol)
        np.testing.assert_allclose(np.asarray(grad), probs - onehot, **tol)


def test_float32_gelu_vectorized_erfc_stays_within_libm_like_error():
    """gelu's exact form computes erfc in plain arithmetic for float32 (so it vectorizes): relative error within
    ~25 ulp where |x| < 5 and ~2e-5 far left (there the float rounding of x / sqrt 2 dominates, as with libm), the
    same bits alone and in a vector, and the far tail still nonzero."""
    import math
    x = np.linspace(-12, 12, 4801).astype(np.float32)
    got = np.asarray(ad.gelu(ad.array(x))).astype(np.float64)
    ref = np.array([0.5 * float(v) * math.erfc(-float(v) / math.sqrt(2)) for v in x])
    rel = np.abs(got - ref) / np.maximum(np.abs(ref), 1e-300)
    assert rel[np.abs(x) < 5].max() < 2e-6 and rel.max() < 2e-5, (rel[np.abs(x) < 5].max(), rel.max())
    alone = np.array([np.asarray(ad.gelu(ad.array(x[i:i + 1])))[0] for i in range(0, len(x), 97)], np.float32)
    np.testing.assert_array_equal(got[::97].astype(np.float32).view(np.uint32), alone.view(np.uint32))
    assert ad.gelu(ad.array([-12.0])).item() < 0


def test_reduction_plans_are_kept_per_shape_axis_and_keepdims_without_skipping_checks():
    """Reductions keep what a (shape, dtype, axis, keepdims) needs after the first call: later calls with other
    spellings still get their own shapes, and a bool axis is still refused after the same int axis ran."""
    x = ad.array(np.arange(6, dtype=np.float32).reshape(2, 3))
    for _ in range(2):
        assert ad.reduce_sum(x, 1).shape == (2,)
        assert ad.reduce_sum(x, 1, keepdims=1).shape == (2, 1)
        assert ad.reduce_sum(x, 1, keepdims=False).shape == (2,)
        assert ad.reduce_mean(x, (0, 1), keepdims=True).tolist() == [[2.5]]
        assert ad.reduce_sum(x, [1]).tolist() == [3.0, 12.0]
        assert ad.reduce_max(x, np.int64(0)).tolist() == [3.0, 4.0, 5.0]
        with pytest.raises(TypeError, match="bool"):
            ad.reduce_sum(x, True)
    with pytest.raises(TypeError):  # int32 has no mean, also once its sum's plan exists
        ad.reduce_sum(ad.array([1, 2], "int32"), 0)
        ad.reduce_mean(ad.array([1, 2], "int32"), 0)


def test_float32_log_in_plain_arithmetic_is_within_an_ulp_everywhere():
    """float32 log vectorizes (Cephes' logf): within 1 ulp of the correctly rounded log over normal and subnormal
    inputs, the same bits alone and in a vector, and numpy's special values."""
    x = np.concatenate([RNG.uniform(0.5, 2, 4000), np.exp(RNG.uniform(-87, 88, 4000)), RNG.uniform(1e-45, 1e-38, 500),
                        [1.0, 2.0, 0.5, 1.4e-45, 3.4e38]]).astype(np.float32)
    got = np.asarray(ad.log(ad.array(x)))
    ref = np.log(x.astype(np.float64))
    ulps = np.abs(got - ref) / np.spacing(np.abs(ref).astype(np.float32)).astype(np.float64)
    assert ulps.max() <= 1.0, (ulps.max(), x[ulps.argmax()])
    alone = np.array([np.asarray(ad.log(ad.array(x[i:i + 1])))[0] for i in range(0, len(x), 61)], np.float32)
    np.testing.assert_array_equal(got[::61].view(np.uint32), alone.view(np.uint32))
    special = np.asarray(ad.log(ad.array([0.0, -0.0, -1.0, np.inf, -np.inf, np.nan], "float32")))
    assert special[:2].tolist() == [-np.inf, -np.inf] and special[3] == np.inf
    assert np.isnan(special[[2, 4, 5]]).all()


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "int64", "bool"])
@pytest.mark.parametrize("n", [1, 15, 16, 17, 256, 257, 600])
def test_binary_ops_against_a_broadcast_column_or_row_value(dtype, n):
    """A row against one value (stride 0: x - mean, x * a column) runs in blocks with the value copied out; every
    position of a block, and blocks past the first, agree with numpy, either operand being the broadcast one."""
    x = (RNG.uniform(-4, 4, (3, n)) > 0) if dtype == "bool" else RNG.uniform(-4, 4, (3, n)).astype(dtype)
    col = x[:, :1].copy() if dtype == "bool" else RNG.uniform(-4, 4, (3, 1)).astype(dtype)
    names = ["logical_and", "logical_xor", "equal"] if dtype == "bool" else \
        ["add", "subtract", "multiply", "maximum", "less", "greater_equal"] + (["divide"] if "float" in dtype else [])
    for name in names:
        fn, ref = getattr(ad, name), getattr(np, name)
        for a, b in ((x, col), (col, x)):
            got = np.asarray(fn(ad.array(a), ad.array(b)))
            expected = ref(a, b)
            assert got.dtype == expected.dtype, name
            np.testing.assert_array_equal(got, expected, err_msg=f"{name} {a.shape} {b.shape}")

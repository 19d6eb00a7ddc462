"""Losses against reference formulas, finite differences (float64), extreme logits and bad input."""

import math

import pytest
from conftest import rand

import pyautodiff as ad

L = ad.losses


def _np():
    return pytest.importorskip("numpy")


def _log_softmax(np, x):
    m = x.max(-1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(-1, keepdims=True))


def test_sparse_categorical_from_logits_matches_numpy():
    np = _np()
    x = np.random.default_rng(0).normal(size=(5, 4))
    y = np.array([0, 3, 1, 2, 3])
    ref = -_log_softmax(np, x)[np.arange(5), y].mean()
    got = L.SparseCategoricalCrossentropy(from_logits=True)(y, ad.array(x))
    assert got.shape == () and got.dtype == "float64"
    assert abs(float(got) - ref) < 1e-12
    # (batch, 1) labels and float labels are accepted as Keras does
    assert abs(float(L.SparseCategoricalCrossentropy(True)(y.reshape(5, 1).astype("float32"), ad.array(x))) - ref) \
        < 1e-12


def test_probability_forms_match_keras_formulas():
    np = _np()
    rng = np.random.default_rng(1)
    p = rng.uniform(0.05, 1.0, size=(4, 3))
    p /= p.sum(-1, keepdims=True)
    y = np.array([2, 0, 1, 1])
    onehot = np.eye(3)[y]
    assert abs(float(L.SparseCategoricalCrossentropy()(y, ad.array(p))) - (-np.log(p[np.arange(4), y]).mean())) < 1e-9
    assert abs(float(L.CategoricalCrossentropy()(onehot, ad.array(p))) - (-(onehot * np.log(p)).sum(-1).mean())) < 1e-9
    q = rng.uniform(0.01, 0.99, size=(4, 2))
    z = rng.integers(0, 2, size=(4, 2)).astype(float)
    ref = -(z * np.log(q) + (1 - z) * np.log(1 - q)).mean()
    assert abs(float(L.BinaryCrossentropy()(z, ad.array(q))) - ref) < 1e-9


def test_categorical_and_binary_from_logits_match_numpy():
    np = _np()
    rng = np.random.default_rng(2)
    x = rng.normal(size=(3, 5))
    soft = rng.uniform(size=(3, 5))
    soft /= soft.sum(-1, keepdims=True)
    ref = -(soft * _log_softmax(np, x)).sum(-1).mean()
    assert abs(float(L.CategoricalCrossentropy(from_logits=True)(soft, ad.array(x))) - ref) < 1e-12
    z = rng.integers(0, 2, size=(3, 5)).astype(float)
    s = 1 / (1 + np.exp(-x))
    ref = -(z * np.log(s) + (1 - z) * np.log(1 - s)).mean()
    assert abs(float(L.BinaryCrossentropy(from_logits=True)(z, ad.array(x))) - ref) < 1e-12


def test_mse_and_huber_match_numpy():
    np = _np()
    rng = np.random.default_rng(3)
    t, p = rng.normal(size=(6, 2)) * 2, rng.normal(size=(6, 2)) * 2
    assert abs(float(L.MeanSquaredError()(t, ad.array(p))) - ((p - t) ** 2).mean()) < 1e-12
    e = np.abs(p - t)
    huber = np.where(e <= 1.5, 0.5 * e ** 2, 1.5 * (e - 0.75)).mean()
    assert abs(float(L.Huber(delta=1.5)(t, ad.array(p))) - huber) < 1e-12
    assert abs(float(ad.losses.get("mse")(t[:, 0], ad.array(p[:, :1]))) - ((p[:, 0] - t[:, 0]) ** 2).mean()) < 1e-12


@pytest.mark.parametrize("make", [
    lambda: (L.SparseCategoricalCrossentropy(from_logits=True), ad.array([2, 0, 1])),
    lambda: (L.CategoricalCrossentropy(from_logits=True), rand((3, 4), seed=7, lo=0.0, hi=1.0)),
    lambda: (L.BinaryCrossentropy(from_logits=True), rand((3, 4), seed=8, lo=0.0, hi=1.0)),
    lambda: (L.CategoricalCrossentropy(), ad.one_hot(ad.array([1, 3, 0]), 4, "float64")),
    lambda: (L.MeanSquaredError(), rand((3, 4), seed=9)),
    lambda: (L.Huber(0.5), rand((3, 4), seed=10)),
], ids=["sparse", "categorical", "binary", "categorical_probs", "mse", "huber"])
def test_gradients_match_finite_differences(gc, make):
    loss, labels = make()
    logits = rand((3, 4), seed=11, lo=0.1 if isinstance(loss, L.CategoricalCrossentropy) and not loss.from_logits
                  else -2.0, hi=0.9 if not getattr(loss, "from_logits", True) else 2.0)
    gc(lambda x: loss(labels, x), [logits])


def test_label_gradients_of_the_soft_forms(gc):
    logits = rand((2, 3), seed=12)
    gc(lambda z: L.CategoricalCrossentropy(from_logits=True)(z, logits), [rand((2, 3), seed=13, lo=0, hi=1)])
    gc(lambda z: L.BinaryCrossentropy(from_logits=True)(z, logits), [rand((2, 3), seed=14, lo=0, hi=1)])


@pytest.mark.parametrize("loss, labels", [
    (L.SparseCategoricalCrossentropy(from_logits=True), [1, 0]),
    (L.CategoricalCrossentropy(from_logits=True), [[0.2, 0.5, 0.3], [1.0, 0.0, 0.0]]),
    (L.BinaryCrossentropy(from_logits=True), [[1.0, 0.0, 1.0], [0.0, 1.0, 0.5]]),
], ids=["sparse", "categorical", "binary"])
def test_second_order_matches_finite_differences_of_the_gradient(gc, loss, labels):
    # the fused backward kernels are ops with their own vjps: a nested tape differentiates them
    def grad_of_loss(x):
        with ad.GradientTape() as inner:
            inner.watch(x)
            y = loss(ad.array(labels, "float64") if not isinstance(loss, L.SparseCategoricalCrossentropy)
                     else labels, x)
        return ad.multiply(inner.gradient(y, x), ad.array([[1.0, -2.0, 0.5], [0.3, 0.7, -1.0]], "float64"))
    gc(grad_of_loss, [rand((2, 3), seed=15, lo=-2, hi=2)], rtol=1e-4)


def test_extreme_logits_stay_finite_and_correct():
    logits = ad.Variable([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4]], dtype="float32")
    with ad.GradientTape(persistent=True) as tape:
        sparse = L.SparseCategoricalCrossentropy(from_logits=True)([1, 0], logits)
        cat = L.CategoricalCrossentropy(from_logits=True)([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]], logits)
        binary = L.BinaryCrossentropy(from_logits=True)([[0.0, 1.0, 1.0], [0.0, 1.0, 0.0]], logits)
    # row 0: label 1 sits 2e4 below the max; row 1: label 0 sits 2e4 + log 2 below the log-sum-exp
    expected = (2e4 + (2e4 + math.log(2))) / 2
    for value in (sparse, cat):
        assert math.isfinite(float(value)) and abs(float(value) - expected) / expected < 1e-6
    assert abs(float(binary) - (1e4 + 1e4 + math.log(2) + 0 + 0 + 1e4) / 6) / 5e3 < 1e-6
    for loss in (sparse, cat, binary):
        grad = tape.gradient(loss, logits)
        assert all(math.isfinite(v) for row in grad.tolist() for v in row)


def test_bad_labels_and_shapes_name_the_loss():
    logits = ad.zeros((3, 4))
    with pytest.raises(ValueError, match=r"SparseCategoricalCrossentropy: labels must lie in \[0, 4\).*got labels "
                                         r"from 0 to 7"):
        L.SparseCategoricalCrossentropy(from_logits=True)([0, 7, 1], logits)
    with pytest.raises(ValueError, match=r"SparseCategoricalCrossentropy.*-1"):
        L.SparseCategoricalCrossentropy(from_logits=True)([0, -1, 1], logits)
    with pytest.raises(ValueError, match=r"MeanSquaredError: .*\(2,\).*\(3, 4\).*batch size"):
        L.MeanSquaredError()([1.0, 2.0], logits)
    with pytest.raises(ValueError, match=r"CategoricalCrossentropy.*\(3, 2\).*\(3, 4\)"):
        L.CategoricalCrossentropy()(ad.zeros((3, 2)), logits)
    with pytest.raises(TypeError, match="BinaryCrossentropy: y_pred must be float"):
        L.BinaryCrossentropy()([1, 0], ad.array([1, 0]))
    with pytest.raises(ValueError, match="unknown loss 'nope'"):
        ad.losses.get("nope")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_softmax_losses_average_in_their_kernel_like_a_separate_mean(dtype):
    """The softmax cross-entropies fuse the batch mean: same value and gradient as reduce_mean(call())."""
    x = rand((5, 4), seed=120, dtype=dtype)
    cases = [(L.SparseCategoricalCrossentropy(from_logits=True), ad.array([0, 3, 1, 2, 3])),
             (L.CategoricalCrossentropy(from_logits=True), rand((5, 4), lo=0, hi=1, seed=121, dtype=dtype)),
             (L.CategoricalCrossentropy(), rand((5, 4), lo=0, hi=1, seed=122, dtype=dtype))]
    tol = 1e-6 if dtype == "float32" else 1e-13
    for loss, y in cases:
        with ad.GradientTape(persistent=True) as tape:
            tape.watch(x)
            fused, separate = loss(y, x), ad.reduce_mean(loss.call(y, x))
        assert fused.shape == () and fused.dtype == dtype
        assert abs(float(fused) - float(separate)) <= tol * abs(float(separate))
        g1, g2 = tape.gradient(fused, x), tape.gradient(separate, x)
        assert max(abs(a - b) for a, b in zip(sum(g1.tolist(), []), sum(g2.tolist(), []))) <= tol


def test_fused_mean_of_no_rows_is_nan_and_bad_upstream_gradients_are_refused():
    loss = L.SparseCategoricalCrossentropy(from_logits=True)(ad.zeros((0,), "int32"), ad.zeros((0, 3)))
    assert math.isnan(float(loss))
    F = ad.ops.nn
    with pytest.raises(ValueError, match=r"upstream gradient \(3,\) float32 does not fit logits \(2, 3\) float32"):
        F.sparse_softmax_cross_entropy_grad(ad.zeros((2, 3)), ad.array([0, 1]), ad.zeros((3,)))
    with pytest.raises(ValueError, match=r"upstream gradient \(2,\) float32 .*expected shape \(\)"):
        F.softmax_cross_entropy_grad(ad.zeros((2, 3)), ad.zeros((2, 3)), ad.zeros((2,)), mean=True)


def test_a_subclass_call_defines_the_loss_and_an_empty_batch_gives_nan_gradients():
    """The fused mean is only a shortcut for the class's own call(): a subclass overriding call() (label
    smoothing, weights...) is averaged as written. An empty batch's mean is nan, its gradients too."""
    class Halved(L.SparseCategoricalCrossentropy):
        def call(self, y_true, y_pred):
            return super().call(y_true, y_pred) * 0.5
    x, y = rand((4, 3), seed=123), ad.array([0, 2, 1, 1])
    full = float(L.SparseCategoricalCrossentropy(from_logits=True)(y, x))
    assert abs(float(Halved(from_logits=True)(y, x)) - 0.5 * full) < 1e-12

    x, z = ad.zeros((0, 3)), ad.zeros((0, 3))
    with ad.GradientTape() as tape:
        tape.watch([x, z])
        loss = L.CategoricalCrossentropy(from_logits=True)(z, x)
    gx, gz = tape.gradient(loss, [x, z])
    assert math.isnan(float(loss)) and gx.shape == (0, 3) and gz.shape == (0, 3)

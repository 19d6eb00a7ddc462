"""LayerNormalization and BatchNormalization over the last axis run one fused kernel each way (csrc/nn.c,
ad_normalize): they agree with the layers written with ops (another axis takes that path) and with numpy at sizes
around the kernel's lanes, blocks and row flushes, keep NaN, give the moving statistics, and refuse bad arguments."""

import pytest

import pyautodiff as ad
from pyautodiff import _backend as B
from pyautodiff.ops import nn as F

np = pytest.importorskip("numpy")

RNG = np.random.default_rng(11)


def _reference(x, gamma, beta, eps, axis, dy):
    """y and the gradients of sum(y * dy) in float64, by the textbook formulas"""
    x = x.astype(np.float64)
    mean, var = x.mean(axis, keepdims=True), x.var(axis, keepdims=True)
    rs = 1 / np.sqrt(var + eps)
    xhat = (x - mean) * rs
    g = dy * gamma
    dx = rs * (g - g.mean(axis, keepdims=True) - xhat * (g * xhat).mean(axis, keepdims=True))
    return xhat * gamma + beta, dx, (dy * xhat).sum(0), dy.sum(0), mean.ravel(), var.ravel()


@pytest.mark.parametrize("dtype,tol", [("float32", 2e-5), ("float64", 1e-12)])
@pytest.mark.parametrize("by_column", [False, True])
@pytest.mark.parametrize("rows,cols", [(1, 1), (3, 31), (17, 32), (5, 33), (33, 257), (2, 600), (40, 7)])
def test_normalize_matches_the_formulas(dtype, tol, by_column, rows, cols):
    x = (RNG.standard_normal((rows, cols)) * 3 + 2).astype(dtype)
    gamma, beta, dy = (RNG.standard_normal(cols).astype(dtype), RNG.standard_normal(cols).astype(dtype),
                       RNG.standard_normal((rows, cols)).astype(dtype))
    xv, gv, bv = ad.Variable(x), ad.Variable(gamma), ad.Variable(beta)
    with ad.GradientTape() as tape:
        y, mean, var = F.normalize(xv, gv, bv, 1e-3, by_column)
    grads = tape.gradient(y, [xv, gv, bv], output_gradients=ad.array(dy))
    expected = _reference(x, gamma, beta, 1e-3, 0 if by_column else 1, dy.astype(np.float64))
    for got, want in zip([y, *grads, mean, var], expected):
        scale = max(1.0, float(np.max(np.abs(want))))
        np.testing.assert_allclose(np.asarray(got, dtype=np.float64), want, rtol=0, atol=tol * scale)


def test_the_fused_layers_agree_with_the_layers_written_with_ops():
    """axis -1 takes the kernels, the same data with the features on axis 1 takes the ops: the same outputs and
    moving statistics (the gradients: the next test)"""
    x = RNG.standard_normal((6, 4, 9)).astype(np.float32)
    gamma, beta = RNG.standard_normal(9).astype(np.float32), RNG.standard_normal(9).astype(np.float32)
    for cls, kwargs in ((ad.layers.LayerNormalization, {}), (ad.layers.BatchNormalization, {"momentum": 0.8})):
        results = []
        for axis, data in ((-1, x), (1, x.transpose(0, 2, 1))):
            layer = cls(axis=axis, **kwargs)
            layer.build(data.shape)
            layer.gamma.assign(gamma), layer.beta.assign(beta)
            y = np.asarray(layer(ad.array(data), training=True))
            results.append([y if axis == -1 else y.transpose(0, 2, 1)] +
                           [np.asarray(w) for w in layer.non_trainable_variables])
        for a, b in zip(*results):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


def test_gradients_of_the_fused_layers_against_the_ops_on_the_same_layout():
    x = RNG.standard_normal((5, 7)).astype(np.float64)
    w = RNG.standard_normal((5, 7))
    for cls in (ad.layers.LayerNormalization, ad.layers.BatchNormalization):
        layer = cls(dtype="float64")
        layer.build((5, 7))
        layer.gamma.assign(RNG.standard_normal(7))
        out = []
        for fused in (True, False):
            v = ad.Variable(x)
            with ad.GradientTape() as tape:
                if fused:
                    y = layer(v, training=True)
                else:  # the same layer's formula written with ops
                    axis = 1 if cls is ad.layers.LayerNormalization else 0
                    mean = ad.reduce_mean(v, axis, keepdims=True)
                    var = ad.reduce_mean(ad.square(v - mean), axis, keepdims=True)
                    y = (v - mean) / ad.sqrt(var + layer.epsilon) * layer.gamma + layer.beta
                loss = ad.reduce_sum(ad.square(y) * ad.array(w))
            out.append([np.asarray(g) for g in tape.gradient(loss, [v, layer.gamma, layer.beta])])
        for a, b in zip(*out):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_nan_stays_in_its_group():
    x = RNG.standard_normal((4, 40)).astype(np.float32)
    x[1, 17] = np.nan
    y = np.asarray(F.normalize(ad.array(x), None, None, 1e-3)[0])
    assert np.isnan(y[1]).all() and not np.isnan(np.delete(y, 1, 0)).any()
    y = np.asarray(F.normalize(ad.array(x), None, None, 1e-3, by_column=True)[0])
    assert np.isnan(y[:, 17]).all() and not np.isnan(np.delete(y, 17, 1)).any()


def test_empty_groups_and_no_parameters():
    y, mean, var = F.normalize(ad.zeros((0, 3), "float32"), None, None, 1e-3, by_column=True)
    assert y.shape == (0, 3) and np.isnan(np.asarray(mean)).all() and np.isnan(np.asarray(var)).all()
    y, mean, var = F.normalize(ad.zeros((0, 3), "float32"), None, None, 1e-3)
    assert y.shape == (0, 3) and mean.shape == (0,)
    assert ad.layers.LayerNormalization()(ad.zeros((0, 5))).shape == (0, 5)


def test_bad_arguments_are_refused():
    x = ad.zeros((2, 3))
    with pytest.raises(ValueError, match=r"normalize: expects x \(rows, cols\) .* got \(2, 3, 1\) float32"):
        F.normalize(ad.zeros((2, 3, 1)), None, None)
    with pytest.raises(ValueError, match="normalize: expects"):
        F.normalize(x, ad.zeros((4,)), None)
    with pytest.raises(ValueError, match="normalize: expects"):
        F.normalize(x, None, ad.zeros((3,), "float64"))
    with pytest.raises(ValueError, match="normalize: expects"):
        F.normalize(ad.zeros((2, 3), "int32"), None, None)
    _, mean, var = F.normalize(x, None, None)
    with pytest.raises(ValueError, match="normalize_grad: the upstream gradient and statistics do not fit"):
        F.normalize_grad(x, None, ad.zeros((3, 2)), mean, var, 1e-3, False)
    # (statistics of another dtype)
    with pytest.raises(ValueError, match=r"normalize_grad: .* \(2,\) float64, \(2,\) float32"):
        F.normalize_grad(x, None, x, ad.cast(mean, "float64"), var, 1e-3, False)
    # the kernels check again
    lib, C, NULL = B.lib, B.C, B.NULL
    y, m, v = ad.zeros((2, 3)), ad.zeros((3,)), ad.zeros((3,))
    args = (x._ptr, NULL, NULL, 1e-3, y._ptr, m._ptr, v._ptr)
    assert lib.ad_normalize(C.AD_FLOAT32, 1, 2, 3, *args) == C.AD_OK
    assert lib.ad_normalize(C.AD_INT32, 1, 2, 3, *args) == C.AD_EDTYPE
    assert lib.ad_normalize(C.AD_FLOAT32, 2, 2, 3, *args) == C.AD_EINVAL
    assert lib.ad_normalize(C.AD_FLOAT32, 1, -1, 3, *args) == C.AD_EINVAL
    assert lib.ad_normalize(C.AD_FLOAT32, 1, 2, 3, NULL, *args[1:]) == C.AD_EINVAL
    assert lib.ad_normalize(C.AD_FLOAT32, 1, 2, 3, *args[:5], NULL, v._ptr) == C.AD_EINVAL
    assert lib.ad_normalize(C.AD_FLOAT32, 1, 1 << 40, 1 << 40, *args) == C.AD_EINVAL
    back = (x._ptr, NULL, m._ptr, v._ptr, 1e-3, y._ptr, y._ptr, m._ptr, v._ptr)
    assert lib.ad_normalize_backward(C.AD_FLOAT32, 1, 2, 3, *back) == C.AD_OK
    assert lib.ad_normalize_backward(C.AD_FLOAT32, 1, 2, 3, *back[:5], NULL, NULL, NULL, NULL) == C.AD_EINVAL
    assert lib.ad_normalize_backward(C.AD_FLOAT32, 0, 2, 3, x._ptr, NULL, NULL, v._ptr, *back[4:]) == C.AD_EINVAL


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_moving_average_is_the_formula_in_place_and_bumps_the_version(dtype):
    avg, x = RNG.standard_normal(37), RNG.standard_normal(37)
    v = ad.Variable(avg.astype(dtype))
    version = v.version
    F.moving_average(v, ad.array(x.astype(dtype)), 0.9)
    want = 0.9 * avg.astype(dtype).astype(np.float64) + 0.1 * x.astype(dtype).astype(np.float64)
    np.testing.assert_allclose(np.asarray(v, np.float64), want, rtol=1e-7 if dtype == "float32" else 1e-14, atol=1e-15)
    assert v.version == version + 1


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("axis", [-1, 0])
def test_batch_normalization_moves_its_statistics(dtype, axis):
    """by the moving_average kernel after the fused kernel (axis -1) or the ops (another axis), also in a Function's
    replays"""
    x = RNG.standard_normal((8, 5)).astype(dtype)
    data = x if axis == -1 else x.T.copy()
    bn = ad.layers.BatchNormalization(axis=axis, momentum=0.75, dtype=dtype)
    step = ad.Function(lambda t: bn(t, training=True))
    mean, var = np.zeros(5), np.ones(5)
    for _ in range(3):
        step(ad.array(data))
        xd = x.astype(np.float64)
        mean, var = 0.75 * mean + 0.25 * xd.mean(0), 0.75 * var + 0.25 * xd.var(0)
        tol = 1e-5
        np.testing.assert_allclose(np.asarray(bn.moving_mean, np.float64), mean, rtol=tol, atol=tol)
        np.testing.assert_allclose(np.asarray(bn.moving_variance, np.float64), var, rtol=tol, atol=tol)


def test_moving_average_refuses_bad_arguments():
    v = ad.Variable(np.zeros(3, np.float32))
    for average, x, momentum, match in [
            (ad.zeros((3,)), ad.zeros((3,)), 0.9, r"a float32 or float64 Variable .* got \(3,\) float32"),
            (v, ad.zeros((4,)), 0.9, r"values of its size and dtype, got .* \(4,\) float32"),
            (v, ad.zeros((3,), "float64"), 0.9, r"\(3,\) float64"),
            (ad.Variable(np.zeros(3, np.int32)), ad.zeros((3,), "int32"), 0.9, "int32"),
            (v, ad.zeros((3,)), float("nan"), "momentum must be a finite number, got nan"),
            (v, ad.zeros((3,)), float("inf"), "momentum must be a finite number"),
            (v, ad.zeros((3,)), "0.9", "momentum must be a finite number")]:
        with pytest.raises(ValueError, match=f"moving_average: .*{match}"):
            F.moving_average(average, x, momentum)
    lib, C, NULL = B.lib, B.C, B.NULL
    x = ad.zeros((3,))
    assert lib.ad_moving_average(C.AD_FLOAT32, 3, 0.9, x._ptr, v._ptr) == C.AD_OK
    assert lib.ad_moving_average(C.AD_INT32, 3, 0.9, x._ptr, v._ptr) == C.AD_EDTYPE
    assert lib.ad_moving_average(C.AD_FLOAT32, -1, 0.9, x._ptr, v._ptr) == C.AD_EINVAL
    assert lib.ad_moving_average(C.AD_FLOAT32, 3, 0.9, NULL, v._ptr) == C.AD_EINVAL
    assert lib.ad_moving_average(C.AD_FLOAT32, 3, 0.9, x._ptr, NULL) == C.AD_EINVAL
    assert lib.ad_moving_average(C.AD_FLOAT32, 0, 0.9, NULL, NULL) == C.AD_OK
    for bad in (float("nan"), float("inf"), -float("inf")):
        assert lib.ad_moving_average(C.AD_FLOAT32, 3, bad, x._ptr, v._ptr) == C.AD_EINVAL

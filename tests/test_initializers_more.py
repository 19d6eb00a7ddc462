"""Keras' initializers: the documented formulas (variance scale / fan, uniform limits, truncation at two standard
deviations, fans of conv kernels (*k, in, out)) checked by statistics over large seeded samples; determinism;
Orthogonal's orthonormality. Numpy-free: the statistics are computed with pyautodiff's own reductions."""

import math

import pytest

import pyautodiff as ad

I = ad.initializers


def _stats(t):
    t = ad.cast(t, "float64")
    mean = ad.reduce_mean(t).item()
    std = math.sqrt(ad.reduce_mean(ad.square(ad.increment(t, -mean))).item())
    return mean, std, ad.reduce_min(t).item(), ad.reduce_max(t).item()


# (name, scale, fan mode, distribution); the Keras formula: variance = scale / fan
VARIANCE_SCALING = [("glorot_uniform", 1.0, "avg", "uniform"), ("glorot_normal", 1.0, "avg", "truncated"),
                    ("he_uniform", 2.0, "in", "uniform"), ("he_normal", 2.0, "in", "truncated"),
                    ("lecun_uniform", 1.0, "in", "uniform"), ("lecun_normal", 1.0, "in", "truncated")]
SHAPES = {(300, 500): (300, 500), (5, 5, 16, 32): (400, 800)}  # shape: (fan_in, fan_out) as Keras' compute_fans


@pytest.mark.parametrize("name, scale, mode, dist", VARIANCE_SCALING)
@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_variance_scaling_family_follows_keras_formulas(name, scale, mode, dist, shape):
    fan_in, fan_out = SHAPES[shape]
    fan = fan_in if mode == "in" else (fan_in + fan_out) / 2
    stddev = math.sqrt(scale / fan)
    t = I.get(name)(shape, "float64")
    assert t.shape == shape and t.dtype == "float64"
    mean, std, lo, hi = _stats(t)
    n = math.prod(shape)
    assert abs(mean) < 5 * stddev / math.sqrt(n)
    assert std == pytest.approx(stddev, rel=5 / math.sqrt(2 * n))  # 5 standard errors of a sample's stddev
    if dist == "uniform":  # limit sqrt(3) stddev, reached closely by 150000+ draws
        limit = math.sqrt(3.0) * stddev
        assert -limit <= lo < -0.999 * limit and 0.999 * limit < hi <= limit
    else:  # the underlying normal's stddev is stddev / 0.8796..., truncated at twice that
        bound = 2 * stddev / 0.87962566103423978
        assert -bound <= lo < -0.98 * bound and 0.98 * bound < hi <= bound


def test_truncated_random_normal_and_uniform_follow_their_parameters():
    mean, std, lo, hi = _stats(I.TruncatedNormal(mean=1.0, stddev=0.5, seed=7)((400, 400), "float64"))
    assert mean == pytest.approx(1.0, abs=0.005) and std == pytest.approx(0.5 * 0.87962566103423978, rel=0.01)
    assert 0.0 <= lo < 0.02 and 1.98 < hi <= 2.0
    mean, std, lo, hi = _stats(I.get("random_normal")((400, 400), "float64"))
    assert abs(mean) < 0.001 and std == pytest.approx(0.05, rel=0.01) and lo < -0.17 and hi > 0.17
    mean, std, lo, hi = _stats(I.RandomUniform(-2.0, 4.0, seed=1)((400, 400), "float64"))
    assert mean == pytest.approx(1.0, abs=0.02) and std == pytest.approx(6 / math.sqrt(12), rel=0.01)
    assert -2.0 <= lo < -1.99 and 3.99 < hi <= 4.0
    assert I.get("constant")((2, 3)).tolist() == [[0.0] * 3] * 2
    assert I.Constant(2.5)((2,), "float64").tolist() == [2.5, 2.5]


@pytest.mark.parametrize("name", ["glorot_normal", "he_uniform", "lecun_normal", "truncated_normal", "orthogonal",
                                  "random_uniform"])
def test_seeded_initializers_are_deterministic_and_by_class_name(name):
    cls = type(I.get(name))
    a, b, c = cls(seed=11)((6, 4)), cls(seed=11)((6, 4)), cls(seed=12)((6, 4))
    assert a.tolist() == b.tolist() != c.tolist()
    assert type(I.get(cls.__name__)) is cls and I.get(name).get_config()["seed"] is None


@pytest.mark.parametrize("shape, gain", [((6, 6), 1.0), ((4, 9), 2.0), ((3, 3, 4, 5), 0.5), ((40, 3), 1.0)])
def test_orthogonal_is_orthonormal_along_its_shorter_side_times_gain(shape, gain):
    t = I.Orthogonal(gain=gain, seed=5)(shape, "float64")
    assert t.shape == shape
    m = ad.reshape(t, (-1, shape[-1]))
    small = ad.matmul(m, m, transpose_a=True) if m.shape[0] >= m.shape[1] else ad.matmul(m, m, transpose_b=True)
    k = small.shape[0]
    eye = ad.scale(gain * gain, ad.one_hot(ad.array(list(range(k))), k, "float64"))
    assert ad.reduce_max(ad.abs(ad.subtract(small, eye))).item() < 1e-12
    assert I.Orthogonal(seed=5)((5, 5)).dtype == "float32"


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="Orthogonal"):
        I.Orthogonal()((5,))
    with pytest.raises(ValueError, match="mode"):
        I.VarianceScaling(mode="fan_sum")
    with pytest.raises(ValueError, match="distribution"):
        I.VarianceScaling(distribution="cauchy")
    with pytest.raises(ValueError, match="scale"):
        I.VarianceScaling(scale=0.0)
    with pytest.raises(TypeError):
        I.HeUniform()((3, 3), "int32")
    assert I.VarianceScaling(2.0, "fan_out", "untruncated_normal", seed=3).get_config() == {
        "scale": 2.0, "mode": "fan_out", "distribution": "untruncated_normal", "seed": 3}


def test_a_dense_layer_takes_the_new_names():
    layer = ad.layers.Dense(8, kernel_initializer="lecun_normal", bias_initializer="he_uniform")
    y = layer(ad.ones((2, 3)))
    assert y.shape == (2, 8)

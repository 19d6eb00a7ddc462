"""ad.random: seeds as Keras 3 takes them (int, SeedGenerator, None with set_seed), the numbers pinned so native
and Pyodide runs must agree, the distributions' ranges and moments, Function replays, errors. No numpy needed."""

import math

import pytest

import pyautodiff as ad

R = ad.random


def close(a, b, tol=1e-12):
    return all(math.isclose(x, y, rel_tol=tol, abs_tol=tol) for x, y in zip(a, b, strict=True))


def test_the_numbers_are_pinned_across_platforms():
    """Recorded natively; the Pyodide run of this test checks the same numbers (the libm may differ in an ulp)."""
    assert close(R.normal((4,), dtype="float64", seed=42).tolist(),
                 [-1.5442254637540294, -0.18651529323028623, 0.23688146022569476, -1.6722817079151082])
    assert R.uniform((4,), dtype="float64", seed=42).tolist() == \
        [0.303150124565773, 0.49492952708953547, 0.1159994152146619, 0.26432075041300856]
    assert R.uniform((8,), -3, 5, dtype="int32", seed=42).tolist() == [-1, 0, -3, -1, 1, 3, -2, 0]
    assert close(R.truncated_normal((4,), 1.0, 2.0, dtype="float64", seed=42).tolist(),
                 [-2.0884509275080587, 0.6269694135394275, 1.4737629204513896, -2.3445634158302164])
    g = R.SeedGenerator(7)
    assert close(R.normal((3,), dtype="float64", seed=g).tolist(),
                 [-0.9250382874697645, -0.4645672415514679, -1.1761749513760256])
    assert close(R.normal((3,), dtype="float64", seed=g).tolist(),
                 [0.2835944384585376, 1.3630831231132101, 1.2691399265984866])
    assert R.shuffle(ad.array(list(range(8))), seed=42).tolist() == [2, 6, 3, 0, 7, 1, 4, 5]
    assert R.categorical(ad.array([[0.0, 1.0, 2.0]]), 8, seed=42).tolist() == [[1, 2, 2, 2, 2, 2, 2, 2]]


def test_seeds_as_keras_takes_them():
    assert R.normal((5,), seed=3).tolist() == R.normal((5,), seed=3).tolist()  # an int: the same every call
    assert R.normal((5,), seed=3).tolist() != R.normal((5,), seed=4).tolist()
    g = R.SeedGenerator(3)
    first, second = R.uniform((5,), seed=g).tolist(), R.uniform((5,), seed=g).tolist()
    assert first != second  # a stream: afresh each call
    h = R.SeedGenerator(3)
    assert R.uniform((5,), seed=h).tolist() == first and R.uniform((5,), seed=h).tolist() == second
    assert R.SeedGenerator(5).get_config() == {"seed": 5}
    R.set_seed(11)
    a, b = R.normal((4,)).tolist(), R.normal((4,)).tolist()
    R.set_seed(11)
    assert R.normal((4,)).tolist() == a and R.normal((4,)).tolist() == b and a != b
    assert R.SeedGenerator().seed != R.SeedGenerator().seed  # unseeded: from the operating system


def test_function_replays_draw_afresh_from_a_stream_and_repeat_an_int_seed():
    g = R.SeedGenerator(1)
    streamed = ad.Function(lambda: R.normal((3,), seed=g))
    fixed = ad.Function(lambda: R.normal((3,), seed=1))
    draws = [streamed().tolist() for _ in range(3)]
    assert streamed.trace_count == 1 and len({tuple(d) for d in draws}) == 3
    h = R.SeedGenerator(1)
    assert [R.normal((3,), seed=h).tolist() for _ in range(3)] == draws  # the replays are the stream's next draws
    assert fixed().tolist() == fixed().tolist() == R.normal((3,), seed=1).tolist()


def _moments(t):
    n = t.size
    mean = float(ad.reduce_mean(t))
    return mean, math.sqrt(float(ad.reduce_sum(ad.square(t - mean))) / n)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_distributions_have_their_ranges_and_moments(dtype):
    n = 20000
    x = R.normal((n,), 2.0, 3.0, dtype=dtype, seed=5)
    assert x.dtype == dtype
    mean, std = _moments(x)
    assert abs(mean - 2.0) < 0.1 and abs(std - 3.0) < 0.1
    u = R.uniform((n,), -1.0, 3.0, dtype=dtype, seed=6)
    assert -1.0 <= float(ad.reduce_min(u)) and float(ad.reduce_max(u)) < 3.0
    mean, std = _moments(u)
    assert abs(mean - 1.0) < 0.05 and abs(std - 4.0 / math.sqrt(12)) < 0.05
    t = R.truncated_normal((n,), 0.0, 2.0, dtype=dtype, seed=7)
    assert float(ad.reduce_max(ad.abs(t))) <= 4.0
    assert abs(_moments(t)[1] - 2.0 * 0.8796) < 0.05  # the std of a normal truncated at two std


def test_integer_uniforms_cover_the_range():
    k = R.uniform((5000,), minval=-2, maxval=3, dtype="int32", seed=8)
    assert k.dtype == "int32" and sorted(set(k.tolist())) == [-2, -1, 0, 1, 2]
    assert R.uniform((3,), 2**31 - 1, 2**31, dtype="int32", seed=1).tolist() == [2**31 - 1] * 3


def test_shuffle_and_categorical():
    x = ad.reshape(ad.array(list(range(12))), (3, 4))
    s = R.shuffle(x, axis=1, seed=9)
    assert [sorted(row) for row in s.tolist()] == x.tolist() and s.tolist() != x.tolist()
    assert R.shuffle(x, seed=9).shape == (3, 4)
    logits = ad.log(ad.array([[0.2, 0.5, 0.3], [1.0, 0.0, 0.0]], "float64"))
    draws = R.categorical(logits, 6000, seed=10)
    assert draws.shape == (2, 6000) and draws.dtype == "int32"
    first = draws.tolist()[0]
    for c, p in enumerate((0.2, 0.5, 0.3)):
        assert abs(first.count(c) / 6000 - p) < 0.03
    assert set(draws.tolist()[1]) == {0}  # log(0) = -inf: never drawn


def test_bad_arguments_raise_naming_the_op():
    with pytest.raises(ValueError, match="normal: stddev must be >= 0, got -1.0"):
        R.normal((2,), stddev=-1.0)
    with pytest.raises(TypeError, match="truncated_normal: dtype must be float32 or float64, got int32"):
        R.truncated_normal((2,), dtype="int32")
    with pytest.raises(ValueError, match=r"uniform: int32 draws need integral minval < maxval within int32, got "
                                         r"\[0.0, 2.5\)"):
        R.uniform((2,), 0, 2.5, dtype="int32")
    with pytest.raises(ValueError, match="uniform: int32 draws"):
        R.uniform((2,), 3, 3, dtype="int32")
    with pytest.raises(TypeError, match="normal: seed .* must be an int"):
        R.normal((2,), seed="x")
    with pytest.raises(ValueError, match="normal: negative dimension"):
        R.normal((-1,))
    with pytest.raises(ValueError, match=r"categorical: expects float logits \(batch, classes\)"):
        R.categorical(ad.array([0.0, 1.0]), 3)

"""Pooling, padding and upsampling: forward and gradients against float64 numpy loops written here (Keras 3 /
TensorFlow rules), hand-computed cases that need no numpy (the Pyodide suite runs them), errors, replays."""

import itertools
import math
import sys

import pytest
from conftest import gradcheck, rand

import pyautodiff as ad
from pyautodiff import _backend as B


@pytest.fixture
def np():
    return pytest.importorskip("numpy")


POOLS = {("max", d): getattr(ad, f"max_pool{d}d") for d in (1, 2, 3)} | \
        {("avg", d): getattr(ad, f"avg_pool{d}d") for d in (1, 2, 3)}


def _grad(fn, x, g=None):
    with ad.GradientTape() as tape:
        tape.watch(x)
        y = fn(x)
    return y, tape.gradient(y, x, output_gradients=g)


# --- the reference: float64 loops over the windows --------------------------------------------------------

def reference(np, kind, x, pool, strides, padding, g=None):
    """(y, dx) of pooling x (n, *spatial, c) with upstream g (y alone without g), window by window."""
    ins, d = x.shape[1:-1], x.ndim - 2
    if padding == "valid":
        out = [(i - p) // s + 1 for i, p, s in zip(ins, pool, strides)]
        pad = [0] * d
    else:
        out = [math.ceil(i / s) for i, s in zip(ins, strides)]
        pad = [max((o - 1) * s + p - i, 0) // 2 for i, o, p, s in zip(ins, out, pool, strides)]
    y = np.zeros((x.shape[0], *out, x.shape[-1]))
    dx = np.zeros(x.shape)
    for o in itertools.product(*(range(k) for k in out)):
        box = tuple(slice(max(oi * s - p, 0), min(oi * s - p + k, i))
                    for oi, s, p, k, i in zip(o, strides, pad, pool, ins))
        for b in range(x.shape[0]):
            for ch in range(x.shape[-1]):
                win = x[(b, *box, ch)]
                at = (b, *o, ch)
                if kind == "max":
                    first = np.unravel_index(np.argmax(win), win.shape)  # row-major: the first max (or NaN)
                    y[at] = win[first]
                    if g is not None:
                        dx[(b, *(sl.start + f for sl, f in zip(box, first)), ch)] += g[at]
                else:
                    y[at] = win.mean()
                    if g is not None:
                        dx[(b, *box, ch)] += g[at] / win.size
    return y, dx


CONFIGS = [  # (input shape, pool_size, strides, padding)
    ((2, 7, 3), 3, 2, "valid"), ((2, 7, 3), 2, None, "same"), ((1, 5, 1), 4, 1, "same"), ((1, 7, 2), 3, 3, "same"),
    ((1, 2, 1), 5, 1, "same"),  # a pool larger than the input: "same" pads it
    ((2, 5, 6, 3), (2, 3), (1, 2), "same"), ((2, 5, 6, 3), 2, None, "valid"), ((1, 4, 4, 2), 3, 1, "same"),
    ((1, 3, 3, 1), 3, None, "valid"), ((3, 5, 4, 2), (1, 2), (2, 1), "valid"), ((1, 6, 7, 1), (3, 2), (2, 3), "SAME"),
    ((1, 3, 3, 300), 2, 1, "same"),  # channels past the kernel's chunk of 256
    ((1, 4, 3, 5, 2), 2, None, "valid"), ((2, 4, 3, 5, 2), (2, 3, 2), (1, 2, 3), "same"),
]


def _per_axis(v, d):
    return (v,) * d if isinstance(v, int) else tuple(v)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("shape,pool,strides,padding", CONFIGS)
def test_against_numpy(np, shape, pool, strides, padding, kind, dtype):
    rng = np.random.default_rng(len(shape) * 100 + shape[1])
    x = rng.standard_normal(shape).astype(dtype)
    d = len(shape) - 2
    p = _per_axis(pool, d)
    s = p if strides is None else _per_axis(strides, d)
    g = rng.standard_normal(reference(np, kind, x.astype("float64"), p, s, padding.lower())[0].shape).astype(dtype)
    want_y, want_dx = reference(np, kind, x.astype("float64"), p, s, padding.lower(), g.astype("float64"))
    y, dx = _grad(lambda t: POOLS[kind, d](t, pool, strides, padding), ad.array(x), ad.array(g))
    assert y.shape == want_y.shape and y.dtype == dtype and dx.dtype == dtype
    tol = 1e-6 if dtype == "float32" else 1e-13
    np.testing.assert_allclose(y.numpy(), want_y, rtol=tol, atol=tol)
    np.testing.assert_allclose(dx.numpy(), want_dx, rtol=tol, atol=tol)


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("shape,pool,strides,padding", [CONFIGS[1], CONFIGS[5], CONFIGS[7], CONFIGS[13]])
def test_ties_go_to_the_first_maximum(np, shape, pool, strides, padding, kind):
    rng = np.random.default_rng(7)
    x = rng.integers(0, 3, shape).astype("float64")  # most windows tie
    d = len(shape) - 2
    p = _per_axis(pool, d)
    s = p if strides is None else _per_axis(strides, d)
    g = rng.standard_normal(reference(np, kind, x, p, s, padding)[0].shape)
    want_y, want_dx = reference(np, kind, x, p, s, padding, g)
    y, dx = _grad(lambda t: POOLS[kind, d](t, pool, strides, padding), ad.array(x), ad.array(g))
    np.testing.assert_array_equal(y.numpy(), want_y)
    np.testing.assert_allclose(dx.numpy(), want_dx, rtol=1e-14, atol=1e-14)


def test_nan_propagates_and_takes_the_gradient(np):
    x = np.arange(32, dtype="float64").reshape(1, 4, 4, 2)
    x[0, 0, 1, 0] = x[0, 3, 2, 1] = x[0, 3, 3, 1] = np.nan
    g = np.arange(1.0, 9.0).reshape(1, 2, 2, 2)
    want_y, want_dx = reference(np, "max", x, (2, 2), (2, 2), "valid", g)
    y, dx = _grad(lambda t: ad.max_pool2d(t, 2), ad.array(x), ad.array(g))
    assert np.isnan(y.numpy()[0, 0, 0, 0]) and np.isnan(y.numpy()[0, 1, 1, 1])
    np.testing.assert_array_equal(y.numpy(), want_y)
    np.testing.assert_array_equal(dx.numpy(), want_dx)  # the first NaN of a window takes its gradient
    assert np.isnan(ad.avg_pool2d(ad.array(x), 2).numpy()[0, 1, 1, 1])


def test_padding_ops_against_numpy(np):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 4, 2))
    y = ad.pad(ad.array(x), [(0, 1), (2, 0), (1, 3), (0, 0)], -2.5)
    np.testing.assert_array_equal(y.numpy(), np.pad(x, [(0, 1), (2, 0), (1, 3), (0, 0)], constant_values=-2.5))
    np.testing.assert_array_equal(ad.zero_padding(ad.array(x), (1, 2)).numpy(),
                                  np.pad(x, [(0, 0), (1, 1), (2, 2), (0, 0)]))
    np.testing.assert_array_equal(ad.upsampling(ad.array(x), (2, 3)).numpy(), x.repeat(2, 1).repeat(3, 2))
    g = rng.standard_normal((2, 6, 12, 2))
    _, dx = _grad(lambda t: ad.upsampling(t, (2, 3)), ad.array(x), ad.array(g))
    np.testing.assert_allclose(dx.numpy(), g.reshape(2, 3, 2, 4, 3, 2).sum(axis=(2, 4)), rtol=1e-14)
    x3 = rng.standard_normal((1, 2, 3, 1, 2)).astype("float32")
    np.testing.assert_array_equal(ad.upsampling(ad.array(x3), 2).numpy(), x3.repeat(2, 1).repeat(2, 2).repeat(2, 3))
    np.testing.assert_array_equal(ad.global_max_pool3d(ad.array(x3)).numpy(), x3.max(axis=(1, 2, 3)))
    np.testing.assert_allclose(ad.global_avg_pool3d(ad.array(x3), keepdims=True).numpy(),
                               x3.mean(axis=(1, 2, 3), keepdims=True), rtol=1e-6)


# --- numpy-free: hand-computed cases (these also run in Pyodide) ----------------------------------------

def t1(values, dtype="float64"):
    """a (1, len, 1) tensor"""
    return ad.reshape(ad.array(values, dtype), (1, len(values), 1))


def flat(t):
    return ad.reshape(t, (-1,)).tolist()


def test_max_and_avg_pool_1d_by_hand():
    x = t1([1.0, 3.0, 2.0, 5.0, 4.0])
    assert flat(ad.max_pool1d(x, 2)) == [3.0, 5.0]  # valid: the last element falls out
    assert flat(ad.max_pool1d(x, 2, padding="same")) == [3.0, 5.0, 4.0]  # same: the padding goes at the end
    # pool 3 stride 1 same: 1 pad before, 1 after; padded positions are not counted in the mean
    assert flat(ad.avg_pool1d(x, 3, 1, "same")) == [2.0, 2.0, 10 / 3, 11 / 3, 4.5]
    assert flat(ad.avg_pool1d(x, 4, 1, "same")) == [2.0, 2.75, 3.5, 11 / 3, 4.5]  # 1 pad before, 2 after
    assert flat(ad.max_pool1d(t1([-1.0, -2.0]), 3, 1, "same")) == [-1.0, -1.0]  # padding never wins a max


def test_pool_gradients_by_hand():
    x = t1([2.0, 2.0, 1.0, 7.0, 7.0, 7.0])
    _, dx = _grad(lambda t: ad.max_pool1d(t, 3, 1), x)
    assert flat(dx) == [1.0, 0.0, 0.0, 3.0, 0.0, 0.0]  # each window's first maximum
    _, dx = _grad(lambda t: ad.avg_pool1d(t, 2, 1, "same"), t1([1.0, 2.0, 3.0]))
    assert flat(dx) == [0.5, 1.0, 1.5]  # the last window holds one element
    x2 = ad.reshape(ad.array([[1.0, 9.0, 9.0], [9.0, 0.0, 9.0]]), (1, 2, 3, 1))
    y, dx = _grad(lambda t: ad.max_pool2d(t, 2, 1), x2)
    assert flat(y) == [9.0, 9.0] and flat(dx) == [0.0, 2.0, 0.0, 0.0, 0.0, 0.0]  # row-major first: (0, 1), not (1, 0)


def test_nan_by_hand():
    nan = float("nan")
    y, dx = _grad(lambda t: ad.max_pool1d(t, 2), t1([nan, 1.0, 3.0, nan]))
    assert [math.isnan(v) for v in flat(y)] == [True, True]
    assert flat(dx) == [1.0, 0.0, 0.0, 1.0]


def test_float32_and_channels():
    x = ad.reshape(ad.array([1.5, -1.0, 0.25, 2.0, -3.0, 4.0], "float32"), (1, 3, 2))  # 3 positions, 2 channels
    y = ad.avg_pool1d(x, 2, 1)
    assert y.dtype == "float32" and y.shape == (1, 2, 2)
    assert y.tolist() == [[[0.875, 0.5], [-1.375, 3.0]]]
    assert ad.max_pool1d(x, 3).tolist() == [[[1.5, 4.0]]]


def test_3d_by_hand():
    x = ad.reshape(ad.array([float(i) for i in range(8)]), (1, 2, 2, 2, 1))
    assert flat(ad.max_pool3d(x, 2)) == [7.0] and flat(ad.avg_pool3d(x, 2)) == [3.5]
    assert ad.max_pool3d(x, (1, 2, 2), padding="same").shape == (1, 2, 1, 1, 1)
    assert flat(ad.avg_pool3d(x, 3, 1, "same")) == [3.5] * 8  # each window holds the whole input
    _, dx = _grad(lambda t: ad.max_pool3d(t, 2), x)
    assert flat(dx) == [0.0] * 7 + [1.0]


def test_global_pooling():
    x = ad.reshape(ad.array([1.0, 5.0, 3.0, 5.0, 2.0, 0.0], "float64"), (1, 3, 2))
    assert ad.global_max_pool1d(x).tolist() == [[3.0, 5.0]]
    assert flat(ad.global_avg_pool1d(x, keepdims=True)) == pytest.approx([2.0, 10 / 3], rel=1e-15)
    _, dx = _grad(ad.global_max_pool1d, x)
    assert flat(dx) == [0.0, 0.5, 1.0, 0.5, 0.0, 0.0]  # reduce_max: ties share, as Keras' ops.max
    assert ad.global_avg_pool2d(ad.ones((2, 3, 4, 5))).shape == (2, 5)
    assert ad.global_max_pool3d(ad.ones((2, 1, 3, 4, 5)), keepdims=True).shape == (2, 1, 1, 1, 5)


def test_pad_zero_padding_upsampling_by_hand():
    x = ad.array([[1.0, 2.0]])
    assert ad.pad(x, [(1, 0), (0, 2)], 5).tolist() == [[5.0, 5.0, 5.0, 5.0], [1.0, 2.0, 5.0, 5.0]]
    assert ad.pad(ad.array([1, 2]), [[2, 1]], 7).tolist() == [7, 7, 1, 2, 7]
    assert flat(ad.zero_padding(t1([1.0, 2.0]), (1, 2))) == [0.0, 1.0, 2.0, 0.0, 0.0]  # 1-d: (before, after)
    assert flat(ad.zero_padding(t1([1.0]), 2)) == [0.0, 0.0, 1.0, 0.0, 0.0]
    x2 = ad.reshape(ad.array([1.0, 2.0]), (1, 1, 2, 1))
    assert ad.zero_padding(x2, (1, 0)).shape == (1, 3, 2, 1)  # 2-d: one int per axis, both sides
    assert ad.zero_padding(x2, ((0, 1), (2, 0))).tolist() == [[[[0.0], [0.0], [1.0], [2.0]],
                                                              [[0.0], [0.0], [0.0], [0.0]]]]
    assert ad.zero_padding(ad.ones((1, 1, 1, 1, 1)), 1).shape == (1, 3, 3, 3, 1)
    assert flat(ad.upsampling(x2, (2, 2))) == [1.0, 1.0, 2.0, 2.0] * 2
    assert flat(ad.upsampling(t1([1.0, 2.0]), 3)) == [1.0] * 3 + [2.0] * 3
    _, dx = _grad(lambda t: ad.pad(t, [(1, 1), (0, 1)]) * ad.array([[1.0, 2.0, 3.0]] * 3), x)
    assert dx.tolist() == [[1.0, 2.0]]
    _, dx = _grad(lambda t: ad.upsampling(t, 2) * ad.array([[[1.0], [2.0], [3.0], [4.0]]], "float64"), t1([5.0, 6.0]))
    assert flat(dx) == [3.0, 7.0]


def test_empty_inputs():
    assert ad.max_pool2d(ad.zeros((0, 4, 4, 3)), 2).shape == (0, 2, 2, 3)
    assert ad.avg_pool1d(ad.zeros((2, 0, 3)), 2, padding="same").shape == (2, 0, 3)
    _, dx = _grad(lambda t: ad.max_pool1d(t, 2), ad.zeros((2, 5, 0)))
    assert dx.shape == (2, 5, 0)
    assert ad.zero_padding(ad.zeros((1, 0, 2)), 1).tolist() == [[[0.0, 0.0], [0.0, 0.0]]]


@pytest.mark.parametrize("kind", ["max", "avg", "pad", "upsampling"])
def test_second_order(kind):
    fn = {"max": lambda t: ad.max_pool2d(t, (2, 3), (1, 2), "same"), "avg": lambda t: ad.avg_pool2d(t, 2, 1, "same"),
          "pad": lambda t: ad.zero_padding(t, ((1, 0), (0, 2))), "upsampling": lambda t: ad.upsampling(t, (1, 2))}[kind]

    def grad_norm(x):  # d/dx of sum(dL/dx ** 2) where L = sum(fn(x) ** 3) mixes the gradient with x
        with ad.GradientTape() as tape:
            tape.watch(x)
            y = ad.reduce_sum(fn(x) ** 3)
        return ad.reduce_sum(tape.gradient(y, x) ** 2)
    gradcheck(grad_norm, [rand((1, 3, 4, 2), seed=11)], rtol=1e-4)


def test_variable_input():
    v = ad.Variable(ad.reshape(ad.array([1.0, 4.0, 2.0, 3.0]), (1, 4, 1)))
    with ad.GradientTape() as tape:
        y = ad.reduce_sum(ad.max_pool1d(v, 2))
    assert float(y) == 7.0 and flat(tape.gradient(y, v)) == [0.0, 1.0, 0.0, 1.0]


def test_function_replay():
    w = rand((2, 3, 4, 2), seed=5)

    def step(x):
        with ad.GradientTape() as tape:
            tape.watch(x)
            y = ad.reduce_sum(ad.avg_pool2d(ad.max_pool2d(ad.upsampling(ad.zero_padding(x, 1), 2), 3, 2, "same"),
                                            (2, 1), 1, "same") * w)
        return y, tape.gradient(y, x)
    f = ad.Function(step)
    for seed in (1, 2, 3):
        x = rand((2, 1, 2, 2), seed=seed)
        (y, g), (y0, g0) = f(x), step(x)
        assert float(y) == float(y0) and g.tolist() == g0.tolist()


@pytest.mark.skipif(sys.platform == "emscripten", reason="no threads in WebAssembly")
def test_threads_give_the_same_bits():
    x = rand((8, 32, 32, 16), dtype="float32", seed=9)
    g = rand((8, 16, 16, 16), dtype="float32", seed=10)
    before = ad.get_num_threads()
    results = []
    try:
        for n in (1, 2):
            ad.set_num_threads(n)
            results.append([t.tolist() for t in _grad(lambda t: ad.max_pool2d(t, 3, 2, "same"), x, g)] +
                           [t.tolist() for t in _grad(lambda t: ad.avg_pool2d(t, 3, 2, "same"), x, g)])
    finally:
        ad.set_num_threads(before)
    assert results[0] == results[1]


# --- errors ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("call,kind,match", [
    (lambda: ad.max_pool2d(ad.ones((4, 4, 1)), 2), ValueError, r"max_pool2d: expects a tensor of rank 4.*\(4, 4, 1\) float32"),
    (lambda: ad.avg_pool1d(ad.ones((1, 3, 1)), 4), ValueError, r"avg_pool1d: pool_size \(4,\) is larger than the input's"),
    (lambda: ad.max_pool2d(ad.ones((1, 4, 4, 1)), (2, 0)), ValueError, r"max_pool2d: pool_size must be a positive int"),
    (lambda: ad.max_pool2d(ad.ones((1, 4, 4, 1)), (2, 2, 2)), ValueError, r"max_pool2d: pool_size must be .* 2 positive"),
    (lambda: ad.avg_pool3d(ad.ones((1, 4, 4, 4, 1)), 2, -1), ValueError, r"avg_pool3d: strides must be a positive"),
    (lambda: ad.max_pool1d(ad.ones((1, 4, 1)), 2, padding="full"), ValueError, r"max_pool1d: padding must be 'valid' or"),
    (lambda: ad.max_pool1d(ad.ones((1, 4, 1)), 2.0), TypeError, r"max_pool1d: pool_size must be an int"),
    (lambda: ad.max_pool1d(ad.array([[[1], [2]]]), 2), TypeError, r"max_pool1d: expects float32 or float64.*int32"),
    (lambda: ad.global_avg_pool2d(ad.ones((2, 3))), ValueError, r"global_avg_pool2d: expects a tensor of rank 4"),
    (lambda: ad.global_max_pool1d(ad.ones((2, 0, 3))), ValueError, r"global_max_pool1d: no element"),
    (lambda: ad.pad(ad.ones((2, 3)), [(1, 1)]), ValueError, r"pad: paddings must hold one .* per axis of \(2, 3\) float32"),
    (lambda: ad.pad(ad.ones((2, 3)), [(1, 1), (0, -1)]), ValueError, r"pad: paddings must be \(before, after\) pairs"),
    (lambda: ad.pad(ad.ones((2,)), [(1, 1, 1)]), ValueError, r"pad: paddings must be \(before, after\)"),
    (lambda: ad.pad(ad.ones((2,)), 1), ValueError, r"pad: paddings must be"),
    (lambda: ad.pad(ad.array([1, 2]), [(1, 1)], 0.5), TypeError, r"pad: constant_values must be a number int32"),
    (lambda: ad.zero_padding(ad.ones((2, 3)), 1), ValueError, r"zero_padding: expects a tensor of rank 3, 4 or 5"),
    (lambda: ad.zero_padding(ad.ones((1, 2, 2, 1)), (1, 2, 3)), ValueError, r"zero_padding: padding must be an int, 2"),
    (lambda: ad.zero_padding(ad.ones((1, 2, 2, 1)), -1), ValueError, r"zero_padding: padding must be \(before"),
    (lambda: ad.upsampling(ad.ones((1, 2, 2, 1)), (2, 0)), ValueError, r"upsampling: size must be a positive int or 2"),
    (lambda: ad.upsampling(ad.ones((1, 2, 2, 2, 2, 1)), 2), ValueError, r"upsampling: expects a tensor of rank 3, 4 or 5"),
])
def test_errors(call, kind, match):
    with pytest.raises(kind, match=match):
        call()


def test_kernel_validates():
    """C checks again what Python checked: bad geometry, pointers and dtypes return a status, never a crash."""
    x, y = ad.ones((1, 4, 1)), ad.zeros((1, 2, 1))
    lib, i64 = B.lib, B.i64

    def call(op=B.C.AD_POOL_MAX, adjoint=0, dtype=0, d=1, n=1, c=1, ins=(4,), out=(2,), pool=(2,), strides=(2,),
             pad=(0,), xp=x._ptr, src=x._ptr, dst=y._ptr):
        return lib.ad_pool(op, adjoint, dtype, d, n, c, i64(ins), i64(out), i64(pool), i64(strides), i64(pad), xp,
                           src, dst)
    assert call() == 0 and y.tolist() == [[[1.0], [1.0]]]
    for bad in ({"op": 2}, {"adjoint": 2}, {"d": 0}, {"d": 4}, {"n": -1}, {"c": -1}, {"pool": (0,)},
                {"strides": (0,)}, {"pad": (2,)}, {"pad": (-1,)}, {"out": (3,)}, {"ins": (0,)},
                {"xp": B.NULL}, {"src": B.NULL}, {"dst": B.NULL}, {"out": (2 ** 62,), "strides": (4,)}):
        assert call(**bad) == B.C.AD_EINVAL, bad
    assert call(dtype=B.C.AD_INT32) == B.C.AD_EDTYPE
    assert call(op=B.C.AD_POOL_AVG, xp=B.NULL) == 0  # average pooling reads no x

"""What the CNN speed work added (issue 15): the convolution with its bias and activation in one kernel call
(ops.conv.conv_bias_act, the Conv layers' forward) and max pooling's flag-based first maximum (csrc/pool.c), each
checked against the unfused ops / a numpy loop, over the GEMM, grouped and depthwise paths, chunks and threads."""

import sys

import pytest
from conftest import rand

import pyautodiff as ad
from pyautodiff.ops.conv import conv_bias_act
from pyautodiff.ops.nn import FUSED


@pytest.fixture
def np():
    return pytest.importorskip("numpy")


def _threads(n, fn):
    before = ad.get_num_threads()
    ad.set_num_threads(n)
    try:
        return fn()
    finally:
        ad.set_num_threads(before)


def _unfused(x, w, b, activation, **kw):
    y = ad.conv2d(x, w, **kw)
    y = y if b is None else ad.add(y, b)
    return y if activation == "linear" else getattr(ad, activation)(y)


def _fused_and_grads(fn, x, w, b, g):
    with ad.GradientTape() as tape:
        for t in (x, w) + (() if b is None else (b,)):
            tape.watch(t)
        y = fn(x, w, b)
    return [y] + tape.gradient(y, [x, w] + ([] if b is None else [b]), output_gradients=g)


# (x shape, kernel shape, groups, strides, padding): GEMM, grouped GEMM, depthwise loops, one input channel,
# and more rows than one chunk of scratch (csrc/conv.c: CONV_SCRATCH)
CASES = [((2, 7, 6, 3), (3, 3, 3, 4), 1, 1, "valid"), ((2, 6, 5, 4), (2, 3, 2, 6), 2, (2, 1), "same"),
         ((1, 5, 6, 5), (3, 3, 1, 10), 5, 1, "same"), ((3, 8, 8, 1), (3, 3, 1, 32), 1, 1, "valid"),
         ((1, 50, 50, 64), (3, 3, 64, 8), 1, 1, "valid")]


@pytest.mark.parametrize("case", CASES, ids=str)
@pytest.mark.parametrize("activation", ["linear", "relu", "tanh"])
@pytest.mark.parametrize("bias", [True, False])
def test_conv_bias_act_matches_the_unfused_ops(case, activation, bias):
    """Forward bitwise (the same additions in the same order); gradients to a float64 rounding."""
    xs, ws, groups, strides, padding = case
    x, w = rand(xs, seed=1), rand(ws, seed=2)
    b = rand((ws[-1],), seed=3) if bias else None
    kw = {"strides": strides, "padding": padding, "groups": groups}
    y = conv_bias_act(2, x, w, b, activation, **kw)
    g = rand(y.shape, seed=4)
    got = _fused_and_grads(lambda x, w, b: conv_bias_act(2, x, w, b, activation, **kw), x, w, b, g)
    want = _fused_and_grads(lambda x, w, b: _unfused(x, w, b, activation, **kw), x, w, b, g)
    assert got[0].tolist() == want[0].tolist()
    for a, e in zip(got[1:], want[1:]):
        assert a.shape == e.shape
        assert max(abs(u - v) for u, v in zip(ad.reshape(a, (-1,)).tolist(), ad.reshape(e, (-1,)).tolist())) < 1e-12


@pytest.mark.parametrize("activation", sorted(FUSED))
def test_every_fused_activation(activation):
    x, w, b = rand((2, 5, 5, 3), seed=5, lo=-3, hi=3), rand((3, 3, 3, 4), seed=6), rand((4,), seed=7)
    assert conv_bias_act(2, x, w, b, activation).tolist() == _unfused(x, w, b, activation).tolist()


def test_conv_layer_forward_fuses_its_bias_and_activation():
    layer = ad.layers.Conv2D(4, 3, activation="relu")
    x = rand((2, 6, 6, 3), dtype="float32", seed=8)
    y = layer(x)
    assert y.tolist() == ad.relu(ad.add(ad.conv2d(x, layer.kernel), layer.bias)).tolist()
    with ad.GradientTape() as tape:
        total = ad.reduce_sum(layer(x))
    assert tape.gradient(total, layer.bias).tolist() == ad.reduce_sum(ad.cast(ad.greater(y, 0.0), "float32"),
                                                                      (0, 1, 2)).tolist()
    # an activation the kernels do not fuse (a callable) still runs, unfused
    custom = ad.layers.Conv2D(4, 3, activation=lambda t: t * 2.0)
    custom(x)
    custom.set_weights(layer.get_weights())
    assert custom(x).tolist() == (ad.add(ad.conv2d(x, layer.kernel), layer.bias) * 2.0).tolist()


def test_conv_bias_act_bad_bias():
    x, w = rand((1, 4, 4, 2), seed=9), rand((3, 3, 2, 3), seed=10)
    with pytest.raises(ValueError, match=r"conv2d: the bias must have shape \(3,\)"):
        conv_bias_act(2, x, w, rand((4,), seed=11), "relu")
    with pytest.raises(ValueError, match="conv2d: the bias"):
        conv_bias_act(2, x, w, rand((3,), dtype="float32", seed=11), "relu")


@pytest.mark.skipif(sys.platform == "emscripten", reason="no threads in WebAssembly")
@pytest.mark.parametrize("case", CASES[::2], ids=str)
def test_conv_bias_act_threads_give_the_same_bits(case):
    xs, ws, groups, strides, padding = case
    x, w, b = rand(xs, "float32", seed=12), rand(ws, "float32", seed=13), rand((ws[-1],), "float32", seed=14)

    def fused(x, w, b):
        return conv_bias_act(2, x, w, b, "relu", strides, padding, 1, groups)

    g = rand(fused(x, w, b).shape, "float32", seed=15)
    run = lambda: _fused_and_grads(fused, x, w, b, g)  # noqa: E731
    one, two = _threads(1, run), _threads(2, run)
    assert [t.tolist() for t in one] == [t.tolist() for t in two]


# --- max pooling's first maximum ---------------------------------------------------------------------

def _max_pool_reference(np, x, g, pool):
    """y and dx of 2-d max pooling (valid, stride = pool) with numpy loops: the first maximum (or NaN) of each
    window takes its gradient."""
    n, h, w, c = x.shape
    oh, ow = h // pool, w // pool
    y, dx = np.zeros((n, oh, ow, c)), np.zeros_like(x)
    for b, i, j, k in np.ndindex(n, oh, ow, c):
        win = x[b, i * pool:(i + 1) * pool, j * pool:(j + 1) * pool, k].reshape(-1)
        first = int(np.argmax(np.isnan(win))) if np.isnan(win).any() else int(np.argmax(win))
        y[b, i, j, k] = win[first]
        dx[b, i * pool + first // pool, j * pool + first % pool, k] += g[b, i, j, k]
    return y, dx


@pytest.mark.parametrize("channels", [3, 256, 300])  # within, at and across csrc/pool.c's POOL_CHUNK
def test_max_pool_first_maximum_over_channel_chunks(np, channels):
    rng = np.random.default_rng(channels)
    x = rng.integers(-2, 2, (2, 4, 6, channels)).astype("float64")  # many ties
    x[0, 0, 0, :] = -np.inf
    x[0, 0, 1, :] = -np.inf
    x[0, 1, 0, :] = -np.inf
    x[0, 1, 1, :] = -np.inf  # a window of -inf only: its first element takes the gradient
    x[1, 2, 3, ::2] = np.nan
    g = rng.standard_normal((2, 2, 3, channels))
    g[0, 0, 1, :] = np.inf  # a non-finite gradient goes to its element only
    want_y, want_dx = _max_pool_reference(np, x, g, 2)
    tx = ad.array(x)
    with ad.GradientTape() as tape:
        tape.watch(tx)
        y = ad.max_pool2d(tx, 2)
    dx = tape.gradient(y, tx, output_gradients=ad.array(g))
    np.testing.assert_array_equal(y.numpy(), want_y)
    np.testing.assert_array_equal(dx.numpy(), want_dx)


def test_max_pool_second_order_selects_the_first_maximum(np):
    """The gradient of max_pool_grad with respect to its upstream gradient is max pooling selecting from another
    tensor at x's first maxima (the track path of csrc/pool.c's forward)."""
    rng = np.random.default_rng(3)
    x = rng.integers(0, 2, (2, 4, 4, 5)).astype("float64")
    g, gg = rng.standard_normal((2, 2, 2, 5)), rng.standard_normal(x.shape)
    tx, tg = ad.array(x), ad.array(g)
    with ad.GradientTape() as outer:
        outer.watch(tg)
        with ad.GradientTape() as inner:
            inner.watch(tx)
            y = ad.max_pool2d(tx, 2)
        dx = inner.gradient(y, tx, output_gradients=tg)
    got = outer.gradient(dx, tg, output_gradients=ad.array(gg)).numpy()
    # d<dx, gg>/dg: each window's gg at the window's first maximum of x
    want = np.zeros_like(g)
    for b, i, j, k in np.ndindex(*g.shape):
        win = x[b, 2 * i:2 * i + 2, 2 * j:2 * j + 2, k].reshape(-1)
        first = int(np.argmax(win))
        want[b, i, j, k] = gg[b, 2 * i + first // 2, 2 * j + first % 2, k]
    np.testing.assert_array_equal(got, want)


@pytest.mark.skipif(sys.platform == "emscripten", reason="no threads in WebAssembly")
def test_max_pool_threads_give_the_same_bits(np):
    x = ad.array(np.random.default_rng(4).standard_normal((4, 26, 26, 32)).astype("float32"))

    def run():
        with ad.GradientTape() as tape:
            tape.watch(x)
            y = ad.max_pool2d(x, 2)
            total = ad.reduce_sum(y * y)
        return y.numpy(), tape.gradient(total, x).numpy()

    one, two = _threads(1, run), _threads(2, run)
    for a, b in zip(one, two):
        np.testing.assert_array_equal(a, b)


@pytest.mark.skipif(sys.platform == "emscripten", reason="no threads in WebAssembly")
def test_concurrent_convolutions_each_get_their_own_scratch():
    """The convolution's scratch comes from ad_alloc, which keeps freed blocks for reuse: calls from several Python
    threads at once (cffi releases the GIL) must each take their own, of the size they need."""
    import threading
    cases = [(rand((2, 9 + i, 8, 3 + 2 * i), seed=20 + i), rand((3, 3, 3 + 2 * i, 4 + i), seed=30 + i)) for i in range(4)]
    want = [ad.conv2d(x, w).tolist() for x, w in cases]
    got, errors = [None] * len(cases), []

    def work(i):
        try:
            for _ in range(20):
                got[i] = ad.conv2d(*cases[i]).tolist()
                assert got[i] == want[i]
        except AssertionError as e:
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(cases))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and got == want

"""More convolutions: the 1-d and 3-d transposed, depthwise and separable layers, ZeroPadding1D/3D, UpSampling1D/3D,
Cropping1D/2D/3D (hand-computed cases and adjoint identities without numpy: they run in Pyodide too), get_config
rebuilding every new layer, the threaded col2im and the channel-blocked depthwise loops (bitwise the same on 1 and 2
threads; float64 numpy loops and PyTorch where installed), and bad input raising clearly."""

import math
import sys

import pytest

import pyautodiff as ad
from pyautodiff import layers as L

try:
    import numpy as np
except ImportError:  # Pyodide: the numpy-free tests below still run
    np = None
needs_numpy = pytest.mark.skipif(np is None, reason="needs numpy")
needs_threads = pytest.mark.skipif(sys.platform == "emscripten", reason="Pyodide cannot start threads")


def wave(shape, seed, dtype="float64"):
    n = math.prod(shape)
    return ad.reshape(ad.array([math.sin(0.37 * i + 1.3 * seed) for i in range(n)], dtype), shape)


def flat(t):
    return ad.reshape(t, (t.size,)).tolist()


def dot(a, b):
    return sum(x * y for x, y in zip(flat(a), flat(b)))


# --- the new layers: hand-computed values (no numpy) ---------------------------------------------------------

def seq(shape):
    return ad.reshape(ad.array([float(i) for i in range(math.prod(shape))]), shape)


def test_zero_padding_1d_and_3d():
    assert L.ZeroPadding1D((2, 1))(seq((1, 2, 1))).tolist() == [[[0.0], [0.0], [0.0], [1.0], [0.0]]]
    y = L.ZeroPadding3D(((1, 0), (0, 1), (0, 0)))(seq((1, 1, 1, 2, 1)))
    assert y.shape == (1, 2, 2, 2, 1)
    assert flat(y) == [0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0]


def test_cropping_1d_2d_3d():
    assert L.Cropping1D((1, 2))(seq((1, 5, 1))).tolist() == [[[1.0], [2.0]]]
    assert L.Cropping2D(((1, 0), (0, 2)))(seq((1, 3, 3, 1))).tolist() == [[[[3.0]], [[6.0]]]]
    y = L.Cropping3D(((0, 1), (1, 0), (1, 1)))(seq((1, 2, 2, 3, 1)))
    assert y.shape == (1, 1, 1, 1, 1) and flat(y) == [4.0]


def test_upsampling_1d_and_3d():
    assert L.UpSampling1D(3)(seq((1, 2, 1))).tolist() == [[[0.0], [0.0], [0.0], [1.0], [1.0], [1.0]]]
    y = L.UpSampling3D((1, 2, 1))(seq((1, 1, 2, 1, 1)))
    assert flat(y) == [0.0, 0.0, 1.0, 1.0]


def test_cropping_gradient_is_the_padding():
    x = seq((1, 4, 1))
    with ad.GradientTape() as tape:
        tape.watch(x)
        y = L.Cropping1D((1, 2))(x)
    assert flat(tape.gradient(y, x)) == [0.0, 1.0, 0.0, 0.0]


@pytest.mark.parametrize("nsp", [1, 3])
def test_transposed_convolution_is_the_adjoint_of_the_convolution(nsp):
    """<conv_transpose(x, w), y> == <x, conv(y, w)> for the convolution whose input gradient it is (float64)."""
    conv, transpose = getattr(ad, f"conv{nsp}d"), getattr(ad, f"conv{nsp}d_transpose")
    x, w = wave((2,) + (3,) * nsp + (4,), 1), wave((2,) * nsp + (3, 4), 2)
    z = transpose(x, w, strides=2, padding="same")
    y = wave(z.shape, 3)
    assert z.shape == (2,) + (6,) * nsp + (3,)
    assert dot(z, y) == pytest.approx(dot(x, conv(y, w, strides=2, padding="same")), rel=1e-12)


@pytest.mark.parametrize("rank", [1, 2])
def test_separable_is_depthwise_then_pointwise(rank):
    x = wave((2,) + (5,) * rank + (3,), 4)
    sep = L.SeparableConv1D(4, 3, depth_multiplier=2, use_bias=False) if rank == 1 else \
        L.SeparableConv2D(4, 3, depth_multiplier=2, use_bias=False)
    dw = (L.DepthwiseConv1D if rank == 1 else L.DepthwiseConv2D)(3, depth_multiplier=2, use_bias=False)
    y = sep(x)
    dw(x)
    dw.set_weights([sep.get_weights()[0]])
    want = getattr(ad, f"conv{rank}d")(dw(x), sep.pointwise_kernel)
    assert flat(y) == pytest.approx(flat(want), rel=1e-12, abs=1e-12)


NEW_LAYERS = [
    (L.Conv1DTranspose, dict(filters=2, kernel_size=3, strides=2, padding="same", output_padding=1,
                             dilation_rate=1, activation="relu", use_bias=False), (2, 4, 3)),
    (L.Conv3DTranspose, dict(filters=2, kernel_size=(2, 1, 2), strides=(1, 2, 1), activation="tanh"),
     (1, 2, 2, 3, 2)),
    (L.DepthwiseConv1D, dict(kernel_size=3, depth_multiplier=2, padding="same", dilation_rate=2), (2, 6, 3)),
    (L.SeparableConv1D, dict(filters=3, kernel_size=2, strides=2, depth_multiplier=2, activation="sigmoid"),
     (1, 7, 2)),
    (L.ZeroPadding1D, dict(padding=(1, 3)), (2, 3, 2)),
    (L.ZeroPadding3D, dict(padding=(1, 0, 2)), (1, 2, 2, 2, 1)),
    (L.UpSampling1D, dict(size=3), (2, 3, 2)),
    (L.UpSampling3D, dict(size=(2, 1, 3)), (1, 2, 2, 1, 1)),
    (L.Cropping1D, dict(cropping=2), (1, 6, 2)),
    (L.Cropping2D, dict(cropping=(1, 2)), (1, 4, 6, 1)),
    (L.Cropping3D, dict(cropping=((1, 0), (0, 1), (1, 1))), (1, 3, 3, 4, 2)),
]


@pytest.mark.parametrize("cls, kwargs, shape", NEW_LAYERS, ids=[c[0].__name__ for c in NEW_LAYERS])
def test_get_config_rebuilds_an_equivalent_layer(cls, kwargs, shape):
    layer = cls(**kwargs)
    x = wave(shape, 5, "float32")
    y = layer(x)
    config = layer.get_config()
    for key in kwargs:
        assert key in config, key
    twin = type(layer)(**config)
    assert twin.get_config() == config
    twin(x)
    twin.set_weights(layer.get_weights())
    assert twin(x).tolist() == y.tolist()
    assert twin.compute_output_shape((None,) + shape[1:]) == (None,) + y.shape[1:]


@pytest.mark.parametrize("make, error, match", [
    (lambda: L.Cropping1D((2, 2))(ad.zeros((1, 4, 1))), ValueError, "leaves nothing"),
    (lambda: L.Cropping3D(1)(ad.zeros((1, 3, 2, 3, 1))), ValueError, "leaves nothing"),
    (lambda: L.Cropping2D(((1, -1), (0, 0))), ValueError, "at least 0"),
    (lambda: L.ZeroPadding3D((1, 2)), ValueError, "tuple of 3"),
    (lambda: L.ZeroPadding1D(((1, 1),)), ValueError, "padding"),
    (lambda: L.UpSampling1D((2,)), TypeError, "must be an int"),
    (lambda: L.UpSampling3D((2, 0, 1)), ValueError, "at least 1"),
    (lambda: L.Cropping2D(1)(ad.zeros((1, 4, 4))), ValueError, "rank 4"),
    (lambda: L.UpSampling3D()(ad.zeros((1, 2, 2, 1))), ValueError, "rank 5"),
    (lambda: L.Conv3DTranspose(2, 2)(ad.zeros((1, 3, 3, 1))), ValueError, "rank 5"),
    (lambda: L.Conv1DTranspose(2, 3, strides=2, output_padding=2), ValueError, "output_padding"),
    (lambda: L.DepthwiseConv1D(3, padding="causal"), ValueError, "padding"),
    (lambda: L.SeparableConv1D(2, 3)(ad.zeros((1, 2, 3))), ValueError, "does not fit"),
    (lambda: ad.conv1d_transpose(ad.zeros((1, 3, 2)), ad.zeros((2, 1, 3))), ValueError, "C_in"),
    (lambda: ad.conv3d_transpose(ad.zeros((1, 3, 2)), ad.zeros((2, 2, 2, 1, 2))), ValueError, "rank 5"),
])
def test_bad_input_raises_clearly(make, error, match):
    with pytest.raises(error, match=match):
        make()


# --- kernels: threads and the depthwise loops ---------------------------------------------------------------

def _all_results(fn, x, w):
    with ad.GradientTape() as tape:
        tape.watch(x)
        tape.watch(w)
        y = fn(x, w)
        loss = ad.reduce_sum(y * wave(y.shape, 9, x.dtype))
    return [y.tolist()] + [g.tolist() for g in tape.gradient(loss, [x, w])]


# (what, conv, x shape, w shape): col2im over several images, channel blocks (70 = 64 + 6 channels, a group
# across the block edge) and chunks of rows; depthwise loops with a channel tail (40 = a float32 block of 32 + 8),
# several blocks (float64: 16 + 16 + 8), a depth multiplier, 1-d and 3-d
THREAD_CASES = [
    ("col2im_blocks", lambda x, w: ad.conv2d(x, w, padding="same", groups=2), (3, 9, 8, 70), (3, 3, 35, 4)),
    ("col2im_batch1", lambda x, w: ad.conv2d_transpose(x, w, 2, "same"), (1, 12, 11, 5), (3, 3, 66, 5)),
    ("col2im_chunks", lambda x, w: ad.conv1d(x, w, padding="same"), (2, 600, 128), (9, 128, 3)),
    ("depthwise_tail", lambda x, w: ad.conv2d(x, w, 2, "same", groups=40), (2, 25, 24, 40), (3, 3, 1, 40)),
    ("depthwise_dm2", lambda x, w: ad.conv2d(x, w, padding="same", groups=24), (2, 9, 9, 24), (3, 3, 1, 48)),
    ("depthwise_1d", lambda x, w: ad.conv1d(x, w, padding="causal", dilation_rate=2, groups=72), (3, 70, 72),
     (3, 1, 72)),
    ("depthwise_3d", lambda x, w: ad.conv3d(x, w, padding="same", groups=33), (2, 5, 6, 5, 33), (2, 3, 2, 1, 33)),
]


@needs_threads
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("what, fn, xshape, wshape", THREAD_CASES, ids=[c[0] for c in THREAD_CASES])
def test_results_are_bitwise_the_same_on_one_and_two_threads(what, fn, xshape, wshape, dtype):
    x, w = wave(xshape, 1, dtype), wave(wshape, 2, dtype)
    before = ad.get_num_threads()
    try:
        ad.set_num_threads(1)
        one = _all_results(fn, x, w)
        ad.set_num_threads(2)
        two = _all_results(fn, x, w)
    finally:
        ad.set_num_threads(before)
    for a, b, name in zip(one, two, ("y", "dx", "dw")):
        assert a == b, f"{what} {dtype}: {name} differs between 1 and 2 threads"


def depthwise_ref(x, w, strides, pads, outs, mult):
    """y and, for upstream g, dx and dw of a depthwise 2-d convolution: float64 loops over the taps"""
    n, (kh, kw), c = x.shape[0], w.shape[:2], x.shape[-1]
    xp = np.zeros((n, x.shape[1] + kh + pads[0] * 2, x.shape[2] + kw + pads[1] * 2, c))
    xp[:, pads[0]:pads[0] + x.shape[1], pads[1]:pads[1] + x.shape[2]] = x
    wk = w.reshape(kh, kw, c, mult)
    y = np.zeros((n, outs[0], outs[1], c, mult))
    for i in range(kh):
        for j in range(kw):
            patch = xp[:, i:i + strides * outs[0]:strides, j:j + strides * outs[1]:strides]
            y += patch[..., None] * wk[i, j]
    return y.reshape(n, outs[0], outs[1], c * mult)


@needs_numpy
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("channels, mult, strides", [(40, 1, 1), (17, 1, 2), (64, 1, 1), (5, 3, 1)])
def test_depthwise_loops_against_float64_numpy(channels, mult, strides, dtype):
    rng = np.random.default_rng(channels * mult)
    x = rng.standard_normal((2, 7, 8, channels))
    w = rng.standard_normal((3, 3, 1, channels * mult))
    outs = (-(-7 // strides), -(-8 // strides))
    pads = [max((o - 1) * strides + 3 - n, 0) // 2 for o, n in zip(outs, (7, 8))]
    want = depthwise_ref(x, w, strides, pads, outs, mult)
    got = ad.conv2d(ad.array(x.astype(dtype)), ad.array(w.astype(dtype)), strides, "same", groups=channels)
    tol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(got.numpy(), want, rtol=tol, atol=tol * np.abs(want).max())
    # the gradients: x's by the adjoint identity with a random upstream, w's against the transposed product
    g = rng.standard_normal(want.shape)
    xt, wt = ad.array(x), ad.array(w)
    with ad.GradientTape() as tape:
        tape.watch(xt)
        tape.watch(wt)
        loss = ad.reduce_sum(ad.conv2d(xt, wt, strides, "same", groups=channels) * ad.array(g))
    dx, dw = tape.gradient(loss, [xt, wt])
    eps = 1e-6
    for arr, grad, index in ((x, dx, (1, 3, 4, channels - 1)), (w, dw, (2, 0, 0, channels * mult - 1))):
        plus, minus = arr.copy(), arr.copy()
        plus[index] += eps
        minus[index] -= eps
        args = (plus, w) if arr is x else (x, plus)
        argm = (minus, w) if arr is x else (x, minus)
        numeric = (np.sum(depthwise_ref(*args, strides, pads, outs, mult) * g) -
                   np.sum(depthwise_ref(*argm, strides, pads, outs, mult) * g)) / (2 * eps)
        assert grad.numpy()[index] == pytest.approx(numeric, rel=1e-6, abs=1e-8)


def test_transposed_and_depthwise_against_torch():
    torch = pytest.importorskip("torch")
    if np is None:
        pytest.skip("needs numpy")
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((2, 5, 6, 4, 3)), rng.standard_normal((3, 2, 3, 2, 3))  # (k..., C_out, C_in)
    got = ad.conv3d_transpose(ad.array(x), ad.array(w), strides=(2, 1, 2), padding="valid").numpy()
    want = torch.nn.functional.conv_transpose3d(torch.tensor(x).permute(0, 4, 1, 2, 3),
                                                torch.tensor(w).permute(4, 3, 0, 1, 2), stride=(2, 1, 2))
    np.testing.assert_allclose(got, want.permute(0, 2, 3, 4, 1).numpy(), rtol=1e-10, atol=1e-10)
    x1, w1 = rng.standard_normal((2, 9, 40)), rng.standard_normal((3, 1, 40))
    got = ad.conv1d(ad.array(x1), ad.array(w1), groups=40).numpy()
    want = torch.nn.functional.conv1d(torch.tensor(x1).permute(0, 2, 1), torch.tensor(w1).permute(2, 1, 0),
                                      groups=40)
    np.testing.assert_allclose(got, want.permute(0, 2, 1).numpy(), rtol=1e-10, atol=1e-10)

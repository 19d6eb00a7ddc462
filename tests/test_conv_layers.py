"""Convolution, pooling and reshaping layers: Keras 3 parity (outputs, gradients, weight names, shapes and order,
output shapes and configs recorded from Keras itself by tools/keras_conv_refs.py: no Keras needed here, and no
numpy: the Pyodide suite runs them), float64 forward and gradients against numpy references written here, models
(Sequential, subclassed, fit through a traced Function, summary), get_weights/set_weights on a layer, errors."""

import math
import random

import pytest

import pyautodiff as ad
from pyautodiff import layers as L


def values(n, seed):  # fixed inputs and weights (tools/keras_conv_refs.py makes the same)
    return [math.sin(0.731 * i + 1.9 * seed) for i in range(n)]


def fixed(shape, seed, dtype="float32"):
    return ad.reshape(ad.array(values(math.prod(shape), seed), dtype), shape)


def flat(t):
    return ad.reshape(t, (t.size,)).tolist()


def plain(v):
    return [plain(x) for x in v] if isinstance(v, (list, tuple)) else v


def assert_close(got, want, tol, what):
    assert len(got) == len(want), (what, len(got), len(want))
    bad = [(i, g, w) for i, (g, w) in enumerate(zip(got, want)) if not abs(g - w) <= tol * (1 + abs(w))]
    assert not bad, f"{what}: {len(bad)} of {len(want)} differ, first (index, got, keras) {bad[:3]}"


# Keras parity cases: (id, layer class, constructor arguments, input shape)
CASES = [
    ("conv1d_same_s2", "Conv1D", {"filters": 3, "kernel_size": 3, "strides": 2, "padding": "same"}, (2, 7, 2)),
    ("conv1d_causal_d2", "Conv1D", {"filters": 2, "kernel_size": 3, "dilation_rate": 2, "padding": "causal"},
     (1, 6, 2)),
    ("conv1d_groups", "Conv1D", {"filters": 4, "kernel_size": 2, "groups": 2, "activation": "tanh"}, (1, 5, 4)),
    ("conv2d_same_relu", "Conv2D", {"filters": 3, "kernel_size": (3, 2), "strides": (2, 1), "padding": "same",
                                    "activation": "relu"}, (2, 5, 4, 2)),
    ("conv2d_dilated_nobias", "Conv2D", {"filters": 2, "kernel_size": 3, "dilation_rate": 2, "use_bias": False},
     (1, 6, 6, 2)),
    ("conv2d_groups", "Conv2D", {"filters": 4, "kernel_size": 2, "groups": 2}, (1, 4, 3, 4)),
    ("conv3d_same", "Conv3D", {"filters": 2, "kernel_size": 2, "padding": "same"}, (1, 3, 4, 3, 2)),
    ("conv3d_valid_s2", "Conv3D", {"filters": 3, "kernel_size": (2, 3, 2), "strides": 2}, (1, 4, 5, 4, 1)),
    ("conv2dt_same_s2", "Conv2DTranspose", {"filters": 3, "kernel_size": 3, "strides": 2, "padding": "same"},
     (1, 3, 3, 2)),
    ("conv2dt_valid_op", "Conv2DTranspose", {"filters": 2, "kernel_size": (2, 3), "strides": (2, 3),
                                             "output_padding": (1, 2)}, (2, 2, 3, 2)),
    ("conv2dt_dilated", "Conv2DTranspose", {"filters": 2, "kernel_size": 2, "dilation_rate": 2,
                                            "activation": "sigmoid"}, (1, 3, 2, 3)),
    ("conv2dt_same_op", "Conv2DTranspose", {"filters": 2, "kernel_size": 3, "strides": 2, "padding": "same",
                                            "output_padding": 1}, (1, 3, 2, 2)),
    ("depthwise_same_dm2", "DepthwiseConv2D", {"kernel_size": 3, "depth_multiplier": 2, "padding": "same"},
     (1, 4, 5, 3)),
    ("depthwise_valid_s2", "DepthwiseConv2D", {"kernel_size": (2, 3), "strides": 2}, (2, 5, 5, 2)),
    ("separable_same", "SeparableConv2D", {"filters": 4, "kernel_size": 2, "depth_multiplier": 2, "padding": "same"},
     (1, 4, 4, 3)),
    ("separable_valid_s2", "SeparableConv2D", {"filters": 2, "kernel_size": 3, "strides": 2, "use_bias": False},
     (1, 6, 5, 2)),
    ("maxpool1d_same", "MaxPooling1D", {"pool_size": 3, "strides": 2, "padding": "same"}, (2, 7, 2)),
    ("maxpool2d_default", "MaxPooling2D", {}, (1, 5, 5, 2)),
    ("maxpool2d_same_s1", "MaxPooling2D", {"pool_size": (2, 3), "strides": 1, "padding": "same"}, (1, 3, 4, 2)),
    ("maxpool3d_default", "MaxPooling3D", {}, (1, 4, 4, 4, 2)),
    ("avgpool1d", "AveragePooling1D", {"pool_size": 2}, (2, 5, 3)),
    ("avgpool2d_same", "AveragePooling2D", {"pool_size": 3, "strides": 2, "padding": "same"}, (1, 5, 4, 2)),
    ("avgpool3d_valid", "AveragePooling3D", {"pool_size": (2, 2, 3), "strides": 1}, (1, 3, 3, 4, 1)),
    ("gmax1d", "GlobalMaxPooling1D", {}, (2, 5, 3)),
    ("gmax2d_keep", "GlobalMaxPooling2D", {"keepdims": True}, (2, 3, 4, 2)),
    ("gmax3d", "GlobalMaxPooling3D", {}, (1, 2, 3, 2, 3)),
    ("gavg1d_keep", "GlobalAveragePooling1D", {"keepdims": True}, (2, 5, 3)),
    ("gavg2d", "GlobalAveragePooling2D", {}, (2, 3, 4, 2)),
    ("gavg3d", "GlobalAveragePooling3D", {}, (1, 2, 3, 2, 3)),
    ("zeropad2d", "ZeroPadding2D", {"padding": ((1, 2), (0, 1))}, (1, 2, 3, 2)),
    ("upsampling2d", "UpSampling2D", {"size": (2, 3)}, (1, 2, 2, 2)),
    ("reshape", "Reshape", {"target_shape": (-1, 2)}, (2, 3, 2, 2)),
]


@pytest.mark.parametrize("case, cls, kwargs, shape", CASES, ids=[c[0] for c in CASES])
def test_keras_parity(case, cls, kwargs, shape):
    ref = KERAS[case]
    layer = getattr(L, cls)(**kwargs)
    assert layer.compute_output_shape((None,) + shape[1:]) == tuple(ref["output_shape"])
    layer._build(shape)
    assert [(v.name.split("/")[-1], v.shape) for v in layer.weights] == [(n, tuple(s)) for n, s in ref["weights"]]
    config = layer.get_config()
    assert {key: plain(config[key]) for key in ref["config"]} == ref["config"]
    layer.set_weights([fixed(v.shape, 100 + j) for j, v in enumerate(layer.weights)])
    x = fixed(shape, 1)
    with ad.GradientTape() as tape:
        tape.watch(x)
        y = layer(x)
        loss = ad.reduce_sum(y * fixed(y.shape, 2))
    assert y.shape == shape[:1] + tuple(ref["output_shape"][1:])
    assert_close(flat(y), ref["y"], 2e-5, "output")
    grads = tape.gradient(loss, [x] + layer.trainable_variables)
    for what, g, want in zip(["input"] + [v.name for v in layer.weights], grads, ref["grads"]):
        assert_close(flat(g), want, 2e-5, f"gradient of {what}")


# --- float64 against numpy references written here (forward, and gradients by central differences of them) ---

@pytest.fixture
def np():
    return pytest.importorskip("numpy")


def _pads(padding, sizes, spans, strides):
    """(before, after) zeros per spatial axis, as TensorFlow pads: same puts the odd one at the end."""
    if padding == "valid":
        return [(0, 0)] * len(sizes)
    if padding == "causal":
        return [(span - 1, 0) for span in spans]
    total = [max((-(-n // s) - 1) * s + span - n, 0) for n, span, s in zip(sizes, spans, strides)]
    return [(t // 2, t - t // 2) for t in total]


def patches(np, x, window, strides, padding, dilation=None):
    """x (N, *spatial, C) -> (N, *out, prod(window), C): each output position's window, NaN where it reads padding."""
    dilation = dilation or (1,) * len(window)
    spans = [(k - 1) * d + 1 for k, d in zip(window, dilation)]
    pads = _pads(padding, x.shape[1:-1], spans, strides)
    xp = np.pad(x, [(0, 0)] + pads + [(0, 0)], constant_values=np.nan)
    out = [(n - span) // s + 1 for n, span, s in zip(xp.shape[1:-1], spans, strides)]
    res = np.empty((x.shape[0], *out, math.prod(window), x.shape[-1]))
    for o in np.ndindex(*out):
        for j, k in enumerate(np.ndindex(*window)):
            res[(slice(None),) + o + (j,)] = xp[(slice(None),) + tuple(
                oi * s + ki * d for oi, ki, s, d in zip(o, k, strides, dilation))]
    return res


def conv_ref(np, x, w, strides, padding, dilation, groups=1):
    p = np.nan_to_num(patches(np, x, w.shape[:-2], strides, padding, dilation))
    w = w.reshape(-1, *w.shape[-2:])
    cin, cout = w.shape[1], w.shape[2] // groups
    return np.concatenate([np.einsum("...kc,kco->...o", p[..., g * cin:(g + 1) * cin], w[..., g * cout:(g + 1) * cout])
                           for g in range(groups)], axis=-1)


def depthwise_ref(np, x, w, strides, padding, dilation):
    p = np.nan_to_num(patches(np, x, w.shape[:-2], strides, padding, dilation))
    y = np.einsum("...kc,kcm->...cm", p, w.reshape(-1, *w.shape[-2:]))
    return y.reshape(*y.shape[:-2], -1)


def transpose_ref(np, x, w, strides, padding, output_padding=None):
    """Each input element spreads its kernel (k..., C_out, C_in) over the output, Keras' output size (TensorFlow's
    conv_transpose: the gradient of a convolution whose padding is placed as _pads does)."""
    window = w.shape[:-2]
    extra = output_padding or (None,) * len(window)
    if padding == "valid":
        sizes = [(n - 1) * s + k + (max(k - s, 0) if p is None else p)
                 for n, k, s, p in zip(x.shape[1:-1], window, strides, extra)]
    else:
        sizes = [n * s if p is None else (n - 1) * s + k % 2 + p
                 for n, k, s, p in zip(x.shape[1:-1], window, strides, extra)]
    before = [b for b, _ in _pads(padding, sizes, window, strides)]
    y = np.zeros((x.shape[0], *sizes, w.shape[-2]))
    for i in np.ndindex(*x.shape[1:-1]):
        for k in np.ndindex(*window):
            o = tuple(ii * s + kk - b for ii, kk, s, b in zip(i, k, strides, before))
            if all(0 <= oo < n for oo, n in zip(o, sizes)):
                y[(slice(None),) + o] += x[(slice(None),) + i] @ w[k].T
    return y


def pool_ref(np, x, reduce, pool, strides, padding):
    return reduce(patches(np, x, pool, strides, padding), axis=-2)


NP_CASES = [
    ("Conv1D", {"filters": 3, "kernel_size": 2, "strides": 3, "padding": "same"}, (2, 8, 2),
     lambda np, x, w, b: conv_ref(np, x, w, (3,), "same", (1,)) + b),
    ("Conv1D", {"filters": 2, "kernel_size": 4, "padding": "causal", "activation": "tanh"}, (1, 5, 1),
     lambda np, x, w, b: np.tanh(conv_ref(np, x, w, (1,), "causal", (1,)) + b)),
    ("Conv2D", {"filters": 2, "kernel_size": (1, 3), "strides": (1, 2)}, (1, 3, 7, 3),
     lambda np, x, w, b: conv_ref(np, x, w, (1, 2), "valid", (1, 1)) + b),
    ("Conv2D", {"filters": 6, "kernel_size": 2, "groups": 3, "padding": "same", "dilation_rate": (2, 1)}, (2, 4, 5, 3),
     lambda np, x, w, b: conv_ref(np, x, w, (1, 1), "same", (2, 1), groups=3) + b),
    ("Conv2D", {"filters": 2, "kernel_size": 3, "use_bias": False}, (2, 3, 3, 2),  # the kernel covers the input
     lambda np, x, w: conv_ref(np, x, w, (1, 1), "valid", (1, 1))),
    ("Conv3D", {"filters": 2, "kernel_size": (1, 2, 3), "strides": (2, 1, 1), "padding": "same"}, (1, 3, 3, 4, 2),
     lambda np, x, w, b: conv_ref(np, x, w, (2, 1, 1), "same", (1, 1, 1)) + b),
    ("Conv2DTranspose", {"filters": 2, "kernel_size": 3, "strides": 2, "output_padding": 1}, (1, 2, 3, 2),
     lambda np, x, w, b: transpose_ref(np, x, w, (2, 2), "valid", (1, 1)) + b),
    ("Conv2DTranspose", {"filters": 1, "kernel_size": (2, 3), "strides": (1, 2), "padding": "same"}, (2, 3, 2, 3),
     lambda np, x, w, b: transpose_ref(np, x, w, (1, 2), "same") + b),
    ("DepthwiseConv2D", {"kernel_size": 2, "depth_multiplier": 3, "dilation_rate": 2}, (1, 5, 4, 2),
     lambda np, x, w, b: depthwise_ref(np, x, w, (1, 1), "valid", (2, 2)) + b),
    ("SeparableConv2D", {"filters": 3, "kernel_size": (3, 1), "strides": 2, "padding": "same", "activation": "tanh"},
     (1, 5, 3, 4), lambda np, x, dw, pw, b: np.tanh(depthwise_ref(np, x, dw, (2, 2), "same", (1, 1)) @ pw[0, 0] + b)),
    ("MaxPooling2D", {"pool_size": 3, "strides": (1, 2), "padding": "same"}, (2, 4, 5, 2),
     lambda np, x: pool_ref(np, x, np.nanmax, (3, 3), (1, 2), "same")),
    ("AveragePooling1D", {"pool_size": 3, "strides": 1, "padding": "same"}, (1, 5, 2),
     lambda np, x: pool_ref(np, x, np.nanmean, (3,), (1,), "same")),
    ("MaxPooling3D", {"pool_size": (2, 1, 2)}, (1, 3, 2, 4, 1),
     lambda np, x: pool_ref(np, x, np.nanmax, (2, 1, 2), (2, 1, 2), "valid")),
    ("AveragePooling2D", {"pool_size": 2, "strides": 1}, (1, 3, 3, 2),
     lambda np, x: pool_ref(np, x, np.nanmean, (2, 2), (1, 1), "valid")),
    ("GlobalMaxPooling2D", {}, (2, 3, 2, 3), lambda np, x: x.max(axis=(1, 2))),
    ("GlobalAveragePooling3D", {"keepdims": True}, (2, 2, 3, 2, 2), lambda np, x: x.mean(axis=(1, 2, 3), keepdims=True)),
    ("ZeroPadding2D", {"padding": 2}, (1, 2, 3, 2), lambda np, x: np.pad(x, [(0, 0), (2, 2), (2, 2), (0, 0)])),
    ("UpSampling2D", {"size": 3}, (2, 2, 1, 2), lambda np, x: x.repeat(3, axis=1).repeat(3, axis=2)),
    ("Reshape", {"target_shape": (3, -1)}, (2, 2, 3, 2), lambda np, x: x.reshape(2, 3, 4)),
]


@pytest.mark.parametrize("cls, kwargs, shape, reference", NP_CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(NP_CASES)])
def test_against_numpy_float64(np, cls, kwargs, shape, reference):
    layer = getattr(L, cls)(dtype="float64", **kwargs)
    layer._build(shape)
    rng = np.random.default_rng(sum(shape))
    args = [rng.uniform(-1, 1, shape)] + [rng.uniform(-1, 1, v.shape) for v in layer.weights]
    layer.set_weights(args[1:])
    x = ad.array(args[0], "float64")
    with ad.GradientTape() as tape:
        tape.watch(x)
        y = layer(x)
        upstream = rng.uniform(-1, 1, y.shape)
        loss = ad.reduce_sum(y * ad.array(upstream, "float64"))
    want = reference(np, *args)
    assert y.shape == want.shape == layer.compute_output_shape(shape)
    np.testing.assert_allclose(y.numpy(), want, rtol=1e-12, atol=1e-12)
    grads = tape.gradient(loss, [x] + layer.trainable_variables)
    eps = 1e-6
    for k, (arg, g) in enumerate(zip(args, grads)):
        numeric = np.empty_like(arg)
        for i in np.ndindex(*arg.shape):
            sums = []
            for step in (eps, -eps):
                moved = [a.copy() for a in args]
                moved[k][i] += step
                sums.append(np.sum(reference(np, *moved) * upstream))
            numeric[i] = (sums[0] - sums[1]) / (2 * eps)
        np.testing.assert_allclose(g.numpy(), numeric, rtol=1e-6, atol=1e-7, err_msg=f"gradient of argument {k}")


# --- models, weights, errors -----------------------------------------------------------------------------------

def bars(n, seed):
    """n noisy 8x8 single-channel images of a horizontal (0), vertical (1) or diagonal (2) bar, no numpy."""
    rng = random.Random(seed)
    images, labels = [], []
    for _ in range(n):
        label, at = rng.randrange(3), rng.randrange(8)
        on = [(at, j) for j in range(8)] if label == 0 else [(i, at) for i in range(8)] if label == 1 else \
            [(i, (i + at) % 8) for i in range(8)]
        image = [[[rng.uniform(0, 0.5)] for _ in range(8)] for _ in range(8)]
        for i, j in on:
            image[i][j][0] += 1.0
        images.append(image)
        labels.append(label)
    return ad.array(images), ad.array(labels, "int32")


def test_a_small_cnn_learns_with_fit():
    x, y = bars(240, seed=0)
    vx, vy = bars(90, seed=1)
    model = ad.Sequential([L.Conv2D(6, 3, activation="relu", input_shape=(8, 8, 1)), L.MaxPooling2D(),
                           L.Flatten(), L.Dense(3)])
    model.compile(ad.optimizers.Adam(0.02), ad.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    model.fit(x, y, epochs=6, batch_size=32, verbose=0, seed=0)
    assert model.evaluate(vx, vy)["accuracy"] >= 0.9  # chance is 1/3


def test_summary_shows_output_shapes_and_parameter_counts():
    model = ad.Sequential([L.Conv2D(4, 3, padding="same", input_shape=(9, 9, 2)), L.MaxPooling2D(3),
                           L.SeparableConv2D(5, 2, depth_multiplier=2), L.GlobalMaxPooling2D()])
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    # Keras: 3*3*2*4 + 4 = 76; 2*2*4*2 + 1*1*8*5 + 5 = 77
    for row in ("(None, 9, 9, 4)  76", "(None, 3, 3, 4)  0", "(None, 2, 2, 5)  77", "(None, 5)  0"):
        assert " ".join(row.split()) in " ".join(text.split()), text
    assert "Total params: 153" in text


class Net(ad.Model):
    def __init__(self):
        super().__init__()
        self.conv = L.Conv1D(4, 3, padding="causal", activation="relu")
        self.pool = L.AveragePooling1D(2)
        self.up = L.Conv2DTranspose(2, 2, strides=2)
        self.head = L.Dense(1)

    def call(self, inputs, training=False):
        h = self.pool(self.conv(inputs))  # (batch, 3, 4)
        h = self.up(ad.reshape(h, (h.shape[0], 3, 2, 2)))  # (batch, 6, 4, 2)
        return self.head(ad.reshape(h, (h.shape[0], 48)))


def test_a_subclassed_model_trains_through_a_traced_function():
    rng = random.Random(3)
    x = ad.array([[[rng.uniform(-1, 1)] for _ in range(6)] for _ in range(64)])
    y = ad.reduce_sum(x, axis=1)  # (64, 1)
    model = Net()
    model.compile(ad.optimizers.Adam(0.01), "mse")
    first = model.evaluate(x, y)["loss"]
    history = model.fit(x, y, epochs=15, batch_size=16, verbose=0, seed=0)
    assert history.history["loss"][-1] < 0.5 * first
    assert [(v.name.split("/")[-1], v.shape) for v in model.weights] == [
        ("kernel", (3, 1, 4)), ("bias", (4,)), ("kernel", (2, 2, 2, 2)), ("bias", (2,)), ("kernel", (48, 1)),
        ("bias", (1,))]


def test_get_and_set_weights_on_a_layer():
    layer = L.SeparableConv2D(3, 2, depth_multiplier=2)
    assert layer.get_weights() == []  # not built yet, as Keras
    layer._build((None, 4, 4, 2))
    shapes = [w.shape for w in layer.get_weights()]
    assert shapes == [(2, 2, 2, 2), (1, 1, 4, 3), (3,)]  # Keras: depthwise_kernel, pointwise_kernel, bias
    new = [fixed(s, 10 + j) for j, s in enumerate(shapes)]
    layer.set_weights(new)
    assert all(flat(a) == flat(b) for a, b in zip(layer.get_weights(), new))
    with pytest.raises(ValueError, match=r"set_weights: weight '.*pointwise_kernel' has shape \(1, 1, 4, 3\), "
                                         r"got \(1, 1, 3, 4\)"):
        layer.set_weights([new[0], ad.zeros((1, 1, 3, 4)), new[2]])
    with pytest.raises(ValueError, match="set_weights: expected 3 arrays, got 2"):
        layer.set_weights(new[:2])
    assert L.MaxPooling2D().get_weights() == []


@pytest.mark.parametrize("make, match", [
    (lambda: L.Conv2D(2, 3, data_format="channels_first"), "only data_format='channels_last'"),
    (lambda: L.MaxPooling1D(data_format="channels_first"), "only data_format='channels_last'"),
    (lambda: L.UpSampling2D(interpolation="bilinear"), "only interpolation='nearest'.*'bilinear'"),
    (lambda: L.Conv2D(2, 3, padding="causal"), "padding must be one of 'valid', 'same', got 'causal'"),
    (lambda: L.Conv2D(3, 3, groups=2), "filters must be evenly divisible by the number of groups"),
    (lambda: L.Conv2D(0, 3), "filters must be a positive int"),
    (lambda: L.Conv2D(2, (3, 3, 3)), "kernel_size must be an int or 2 ints"),
    (lambda: L.Conv1D(2, 3, strides=2, dilation_rate=2), "strides > 1.*dilation_rate > 1"),
    (lambda: L.Conv2DTranspose(2, 3, strides=2, output_padding=2), "output_padding.*strictly less than"),
    (lambda: L.DepthwiseConv2D(3, depth_multiplier=0), "depth_multiplier must be a positive int"),
    (lambda: L.ZeroPadding2D((1, 2, 3)), "padding must be an int, a tuple of 2 ints"),
    (lambda: L.Reshape((-1, -1)), "at most one -1"),
    (lambda: L.Reshape((2, 0)), "positive ints"),
])
def test_bad_arguments_raise_clearly(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_bad_inputs_raise_clearly():
    conv = L.Conv2D(2, 3)
    with pytest.raises(ValueError, match=r"Conv2D 'conv2d.*': expects inputs of rank 4 .* got shape \(2, 5, 3\)"):
        conv(ad.zeros((2, 5, 3)))
    conv(ad.zeros((1, 5, 5, 3)))
    with pytest.raises(ValueError, match=r"expected inputs with last dimension 3, got shape \(1, 5, 5, 2\)"):
        conv(ad.zeros((1, 5, 5, 2)))
    with pytest.raises(ValueError, match=r"kernel .* larger than the input"):
        conv(ad.zeros((1, 2, 5, 3)))
    with pytest.raises(ValueError, match=r"window of extent 3 does not fit in an input axis of length 2"):
        ad.Sequential([L.Conv2D(2, 3, input_shape=(2, 5, 1))])
    with pytest.raises(ValueError, match=r"input's 3 channels are not divisible by groups=2"):
        L.Conv2D(4, 1, groups=2)(ad.zeros((1, 2, 2, 3)))
    with pytest.raises(ValueError, match=r"cannot reshape samples of shape \(2, 3\) \(6 elements\) to \(4, -1\)"):
        L.Reshape((4, -1))(ad.zeros((1, 2, 3)))
    with pytest.raises(ValueError, match=r"MaxPooling2D .* expects inputs of rank 4"):
        L.MaxPooling2D()(ad.zeros((1, 4, 4)))


def test_output_shapes_with_unknown_sizes_stay_unknown():
    assert L.Conv2D(3, 3, strides=2).compute_output_shape((None, None, 7, 2)) == (None, None, 3, 3)
    assert L.Conv2DTranspose(3, 3, strides=2).compute_output_shape((None, None, 4, 2)) == (None, None, 9, 3)
    assert L.MaxPooling2D().compute_output_shape((None, 5, None, 2)) == (None, 2, None, 2)
    assert L.Reshape((-1, 2)).compute_output_shape((None, None, 4)) == (None, None, 2)
    assert L.Reshape((-1, 2)).compute_output_shape((None, 3, 4)) == (None, 6, 2)
    assert L.ZeroPadding2D(1).compute_output_shape((None, None, 3, 1)) == (None, None, 5, 1)


# --- generated by tools/keras_conv_refs.py: do not edit ---
# Keras 3.15.1 (jax backend)
KERAS = {'conv1d_same_s2': {'output_shape': [None, 4, 3],
                    'weights': [('kernel', (3, 2, 3)), ('bias', (3,))],
                    'config': {'filters': 3,
                               'kernel_size': [3],
                               'strides': [2],
                               'padding': 'same',
                               'data_format': 'channels_last',
                               'dilation_rate': [1],
                               'groups': 1,
                               'activation': 'linear',
                               'use_bias': True},
                    'y': [0.09717044, -0.5077804, -0.8532627, -0.3829958, -0.545866, -0.4298066, -0.3138699, -1.189571,
                          -1.457418, -0.3179317, -1.037385, -1.22675, -0.5528693, -1.083818, -1.060951, 0.4095029,
                          -0.8183223, -1.627996, -0.8123511, -0.7662191, -0.3285602, -0.2136471, -0.8362713,
                          -1.031573],
                    'grads': [[-0.8399324, -1.056919, 2.282857, -2.447753, 1.059071, -0.1449993, 0.3974121, 0.4164976,
                               -0.3945788, 1.225938, -2.746103, 1.962261, -0.5991287, -1.284021, 1.092956, 0.2707867,
                               -0.5219206, 1.189454, -0.6748803, 0.9683768, -2.195216, 1.317323, -0.3062785, -1.399579,
                               3.080784, -2.724998, 1.031895, 0.6630494],
                              [1.439946, 1.022975, 0.08327839, 3.30022, 2.424707, 0.3102034, 2.892768, 1.375175,
                               -0.845114, 1.575452, 1.145013, 0.1294885, -0.7795073, 0.2294255, 1.121125, -1.884107,
                               0.4064844, 2.489367],
                              [-0.6056306, -0.2404371, 0.2476165]]},
 'conv1d_causal_d2': {'output_shape': [None, 6, 2],
                      'weights': [('kernel', (3, 2, 2)), ('bias', (2,))],
                      'config': {'filters': 2,
                                 'kernel_size': [3],
                                 'strides': [1],
                                 'padding': 'causal',
                                 'data_format': 'channels_last',
                                 'dilation_rate': [2],
                                 'groups': 1,
                                 'activation': 'linear',
                                 'use_bias': True},
                      'y': [0.8500167, 0.02454174, -0.9182063, -0.9530185, -2.608099, -2.416887, 0.6479751, -0.9890581,
                            3.314954, 1.194849, -0.9749011, -0.0939213],
                      'grads': [[-3.597891, 0.3021172, -3.885791, -0.4778228, 2.219627, -0.05238199, 2.854343,
                                 0.6433883, -0.9885892, -0.02867271, -1.517133, -0.4895406],
                                [0.007712275, -0.6270123, 0.700725, 0.1414646, 0.414276, 1.574591, -1.079251, 0.1530792,
                                 -1.2458, -2.735255, 1.055327, -0.8694766],
                                [-1.307356, -1.341307]]},
 'conv1d_groups': {'output_shape': [None, 4, 4],
                   'weights': [('kernel', (2, 2, 4)), ('bias', (4,))],
                   'config': {'filters': 4,
                              'kernel_size': [2],
                              'strides': [1],
                              'padding': 'valid',
                              'data_format': 'channels_last',
                              'dilation_rate': [1],
                              'groups': 2,
                              'activation': 'tanh',
                              'use_bias': True},
                   'y': [-0.1541687, -0.6837877, -0.8355588, -0.6927564, -0.3370624, -0.697711, -0.6400601, -0.3716901,
                         -0.1845212, -0.6594521, -0.8393477, -0.7101777, -0.3020588, -0.7181571, -0.6453652,
                         -0.362293],
                   'grads': [[-1.008223, 1.04563, 0.03367121, 0.04912686, -0.2841258, 0.1835936, -0.2534814, 0.1294465,
                              0.2158349, -0.1363821, 0.3917698, -0.4483646, -0.3753058, 0.3236585, -0.3985224,
                              0.2592171, 0.321276, -0.3291431, 0.2480239, -0.4955269],
                             [-1.158574, -1.732437, -0.2479266, -0.3309735, -0.7217111, -1.243234, 0.8989893, 0.7709738,
                              1.176801, 1.706647, 0.5924642, 0.6521508, 0.9055819, 1.474818, -0.5811957, -0.4601637],
                             [-0.4278338, -0.1865546, 0.587533, 0.644506]]},
 'conv2d_same_relu': {'output_shape': [None, 3, 4, 3],
                      'weights': [('kernel', (3, 2, 2, 3)), ('bias', (3,))],
                      'config': {'filters': 3,
                                 'kernel_size': [3, 2],
                                 'strides': [2, 1],
                                 'padding': 'same',
                                 'data_format': 'channels_last',
                                 'dilation_rate': [1, 1],
                                 'groups': 1,
                                 'activation': 'relu',
                                 'use_bias': True},
                      'y': [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
                            0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
                            0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
                            0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
                      'grads': [[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
                                 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
                                 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
                                 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
                                 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
                                [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
                                 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
                                 0.0, 0.0],
                                [0.0, 0.0, 0.0]]},
 'conv2d_dilated_nobias': {'output_shape': [None, 2, 2, 2],
                           'weights': [('kernel', (3, 3, 2, 2))],
                           'config': {'filters': 2,
                                      'kernel_size': [3, 3],
                                      'strides': [1, 1],
                                      'padding': 'valid',
                                      'data_format': 'channels_last',
                                      'dilation_rate': [2, 2],
                                      'groups': 1,
                                      'activation': 'linear',
                                      'use_bias': False},
                           'y': [0.1865888, -1.798019, -0.9508616, 0.736634, -0.7415893, 1.997724, 0.578272, 0.5622942],
                           'grads': [[-1.384734, 0.4123862, -1.076074, 0.002386016, 1.474289, -0.09222417, 1.076592,
                                      0.2314107, -1.494317, -0.2322871, -1.026338, -0.4542941, 1.15105, -0.411868,
                                      1.32604, -0.09182879, -1.240492, 0.1424782, -1.345982, -0.2004696, 1.271433,
                                      0.1336309, 1.302448, 0.4833139, 1.443872, 0.5458437, 0.9276823, 0.655753,
                                      -1.325335, -0.8336583, -0.7852766, -0.8262864, 1.144295, 1.082157, 0.6058372,
                                      0.9578524, -1.242414, -0.403438, -1.197489, -0.743365, 1.154802, 0.654219,
                                      1.036057, 0.9683591, -1.012729, -0.8741469, -0.8257651, -1.147685, -0.9092895,
                                      -1.279622, -0.3978265, -1.044246, 0.6314021, 1.41674, 0.1710542, 1.081393,
                                      -0.3237377, -1.487044, 0.0637849, -1.067541, 0.8228961, 1.05285, 0.5765296,
                                      1.272887, -0.5942553, -1.181901, -0.3001049, -1.338058, 0.3375895, 1.255213,
                                      0.009527263, 1.340127],
                                     [-1.193246, -1.945603, 0.2817001, -0.9506748, 1.543466, 2.060707, 0.1786076,
                                      1.328519, -1.820896, -2.078628, -0.6304922, -1.643709, -2.004137, -1.229645,
                                      -1.954138, -2.038464, 1.807473, 0.8375224, 2.08567, 1.897268, -1.525569,
                                      -0.4059018, -2.118842, -1.666596, 0.1425116, 1.300921, -1.306221, -0.1180565,
                                      -0.5958391, -1.621608, 0.9148729, -0.3338141, 1.021067, 1.865821, -0.4803799,
                                      0.769942]]},
 'conv2d_groups': {'output_shape': [None, 3, 2, 4],
                   'weights': [('kernel', (2, 2, 2, 4)), ('bias', (4,))],
                   'config': {'filters': 4,
                              'kernel_size': [2, 2],
                              'strides': [1, 1],
                              'padding': 'valid',
                              'data_format': 'channels_last',
                              'dilation_rate': [1, 1],
                              'groups': 2,
                              'activation': 'linear',
                              'use_bias': True},
                   'y': [-0.1579502, -0.8820193, -1.166209, -0.6531183, -0.4023522, -0.8475032, -0.7821857, -0.5697725,
                         -0.461866, -0.9502064, -0.7563457, -0.4934523, -0.04172927, -0.6814563, -1.216671, -0.8021592,
                         -0.04072201, -0.616178, -1.178408, -0.83549, -0.463833, -1.077684, -0.8310674, -0.4283626],
                   'grads': [[-1.384734, 1.474289, 0.002386019, 0.2314107, -0.3432672, 0.2033801, -0.5461229, 0.4552833,
                              1.271433, -1.242414, 0.4833139, -0.743365, -2.188417, 2.092489, -0.6493455, 1.117927,
                              -0.208666, -0.01014314, -0.8191358, 0.6174972, 1.482019, -1.270239, 1.745567, -2.148998,
                              -1.110345, 1.078743, -0.7462527, 1.342291, -0.5171539, 0.384103, -1.132365, 0.957872,
                              0.4635317, -0.4224984, 1.91606, -2.380294, -0.3609489, 0.3671511, -1.104752, 1.369689,
                              -0.3121269, 0.225921, -0.523582, 0.3801242, 0.1556961, -0.2018354, 1.523892, -1.65971],
                             [-0.5172327, -0.8842391, -0.459846, -0.9257755, 0.2025182, -0.4319508, 0.1609817,
                              -0.5511858, 0.695043, 0.936588, 0.6117628, 0.948589, 0.01826433, 0.6037031, 0.03026537,
                              0.7048529, 0.9454892, 0.9083919, 0.8232404, 0.8610433, 0.446874, 0.8550392, 0.3995255,
                              0.9067851, -1.006314, -0.8291764, -0.8728279, -0.7548128, -0.6344879, -0.9227695,
                              -0.5601242, -0.9455271],
                             [-0.6070125, -0.4053505, 0.003439546, 0.4104722]]},
 'conv3d_same': {'output_shape': [None, 3, 4, 3, 2],
                 'weights': [('kernel', (2, 2, 2, 2, 2)), ('bias', (2,))],
                 'config': {'filters': 2,
                            'kernel_size': [2, 2, 2],
                            'strides': [1, 1, 1],
                            'padding': 'same',
                            'data_format': 'channels_last',
                            'dilation_rate': [1, 1, 1],
                            'groups': 1,
                            'activation': 'linear',
                            'use_bias': True},
                 'y': [-0.6826859, -3.594012, 4.074277, 1.982044, -1.551213, -0.3550125, -4.297716, -2.92683, -2.500779,
                       -4.660041, 2.770988, 1.584931, 2.752313, 3.257127, -3.156936, -1.207509, -0.9119626, -2.875037,
                       2.804616, 0.8893846, 0.9818151, 1.406142, -2.390836, -2.480142, -4.622672, -4.588793,
                       0.008974075, -3.07144, 2.067654, 1.914984, 0.4314891, 2.104362, -4.530917, -3.464797, 0.8603108,
                       -1.486668, 3.659699, 1.025658, 2.210193, 3.079525, -3.305609, -3.175373, -0.3388493, -2.381855,
                       2.909647, 1.19064, -1.391001, -0.7584348, -1.953222, -1.077137, -2.150962, -2.716667, 1.341939,
                       -0.1132678, 1.909855, 1.003716, -1.07136, -0.2692056, -1.106729, -1.933841, 0.04224712,
                       -1.780209, 2.15169, 0.675581, -1.318531, -0.8603712, -1.54915, -1.822442, 0.6941906, -0.9593862,
                       0.003285646, -0.3752774],
                 'grads': [[-1.384734, 0.4123862, 0.3982148, -0.08983816, 2.227642, -0.1804573, -0.1682765, -0.3241159,
                            -1.79153, 0.2830062, 1.633839, 0.7803119, 1.836859, 0.1298128, -1.167732, -0.804971,
                            -2.39993, -0.06125969, -1.009608, 0.2408735, 2.540338, 0.2331812, -0.09488565, -0.7410292,
                            -0.7896731, -0.6844023, -1.657144, 0.3980335, 2.496359, 1.496575, 1.899109, -0.3698468,
                            -3.766553, -1.872602, -0.8937094, 2.091424, 1.290429, 1.807425, 1.669521, -1.586132,
                            -3.209913, -2.671234, -2.726595, -0.7891634, 2.695974, 2.889708, 2.952064, -0.3784977,
                            1.940768, 0.1615891, -3.03247, -1.306532, -1.217442, 0.620962, 2.432904, 1.623669,
                            -0.5168077, -2.718564, -3.796528, -1.490068, -2.018098, 0.2601973, 3.729715, 2.010169,
                            1.117619, -1.95844, -1.138799, -1.79052, -1.87487, 1.429544, 3.079855, 2.745916],
                           [-6.153163, -15.87861, 6.864885, -5.744969, 10.94333, 4.732618, 11.52833, 10.8503, -10.50827,
                            -2.371912, -13.36084, -10.74418, -6.272851, -8.997397, -0.3234184, -6.219086, -11.73401,
                            -8.277625, -9.301795, -12.02914, -1.430242, -6.314009, 4.208816, -1.362978, 3.285086,
                            8.033319, -3.079759, 3.45565, -5.236139, -1.987976, -5.822845, -5.275013],
                           [-1.242558, -1.336228]]},
 'conv3d_valid_s2': {'output_shape': [None, 2, 2, 2, 3],
                     'weights': [('kernel', (2, 3, 2, 1, 3)), ('bias', (3,))],
                     'config': {'filters': 3,
                                'kernel_size': [2, 3, 2],
                                'strides': [2, 2, 2],
                                'padding': 'valid',
                                'data_format': 'channels_last',
                                'dilation_rate': [1, 1, 1],
                                'groups': 1,
                                'activation': 'linear',
                                'use_bias': True},
                     'y': [0.3275581, -1.131266, -2.01203, 1.064958, 0.5445309, -0.2541437, -0.261968, -1.703809,
                           -2.275029, 1.129577, 0.2276723, -0.7905692, -1.637239, -1.841612, -1.104949, -0.6465132,
                           -1.991409, -2.318723, -1.408294, -1.305199, -0.5351667, -1.176804, -2.25637, -2.182963],
                     'grads': [[-1.533328, 2.03599, 0.2109233, -1.089512, -0.8399324, -1.056919, 1.059071, -0.1449993,
                                3.359399, -2.124236, -2.601714, 3.16489, -0.3945788, 1.225938, -0.5991287, -1.284021,
                                -1.034441, -0.02013684, 2.095853, -1.15902, -0.4886944, 1.92789, -0.4883257, -0.6132736,
                                -1.758559, 0.1219826, 1.203191, -0.7892313, 2.674283, -3.219136, -1.028056, 3.14661,
                                0.3560544, 0.7979885, -1.618227, -0.1409476, -1.286233, 0.7013152, 1.782524, -1.936859,
                                0.7077422, -1.544796, 0.8866792, -0.1816995, 1.092956, 0.2707867, -0.6748803, 0.9683768,
                                -3.149904, 3.127748, 0.689167, -2.305155, -0.3062786, -1.39958, 1.031895, 0.6630493,
                                1.937705, -0.8591149, -1.804782, 1.440703, -0.1896921, -1.150038, 0.9659515, -0.6866941,
                                1.53024, -0.6336923, -0.1655034, 0.8796139, -1.727847, 3.50688, -0.7344024, -1.464257,
                                -1.33732, -0.3916336, 1.724356, -0.4231044, 1.793829, -1.699352, -1.231163, 1.858215],
                               [1.82032, 0.4439947, -1.159206, 2.14393, 1.386686, -0.07913487, -1.522367, -0.09201588,
                                1.385354, -2.165857, -1.163722, 0.4330582, 1.152619, -0.2643024, -1.546169, 2.085642,
                                0.8858769, -0.7665583, 0.2011477, 1.194958, 1.578162, -1.292771, 0.1367731, 1.496428,
                                -0.6628597, -1.410233, -1.436998, 0.8860175, -0.4870223, -1.611201, 1.093311, 1.559001,
                                1.228064, -0.4374799, 0.8143033, 1.649989],
                               [-0.6056306, -0.2404371, 0.2476164]]},
 'conv2dt_same_s2': {'output_shape': [None, 6, 6, 3],
                     'weights': [('kernel', (3, 3, 3, 2)), ('bias', (3,))],
                     'config': {'filters': 3,
                                'kernel_size': [3, 3],
                                'strides': [2, 2],
                                'padding': 'same',
                                'output_padding': None,
                                'data_format': 'channels_last',
                                'dilation_rate': [1, 1],
                                'activation': 'linear',
                                'use_bias': True},
                     'y': [1.069055, -0.9310975, -2.337233, -0.4598357, 0.4675108, -0.5046157, -2.319525, -1.190863,
                           0.9949346, -0.4463545, -1.822725, -1.015453, -0.7966088, -0.4203097, -0.360645, -0.100334,
                           -2.357591, -1.477627, 0.7100779, -1.666507, -2.13796, 0.3188481, 0.43734, -1.289851,
                           -2.041867, 0.003154218, 0.9765738, -0.955677, -1.610711, -0.4600885, -0.4382642, -0.1647241,
                           -0.6634856, -0.9896241, -2.281379, -0.571786, 0.5513555, -2.473213, -2.154425, 1.121979,
                           0.6282154, -2.051531, -0.1996818, 0.5896735, -0.7382405, -1.339928, 0.5255493, 0.3880808,
                           -1.754183, -0.6513417, 0.546757, -1.8762, -2.008336, 0.3740848, -0.05021439, -1.449863,
                           -1.330621, 0.2775289, -0.3789726, -1.425806, 0.2971787, -1.662477, -1.724186, 0.5866556,
                           0.7048287, -1.49957, -1.882155, -0.3221033, 0.7462282, -0.6133664, -0.9622149, -0.6615695,
                           -2.110535, -1.181499, 0.7879787, 0.4692481, -2.455938, -2.068566, 1.150983, -1.326179,
                           -2.504958, 1.514866, -0.01925516, -2.585025, 0.4312147, 0.4431233, -1.400962, -0.603512,
                           0.9575053, -0.2545304, -1.364159, 0.3825166, 0.38125, -1.183094, -2.408038, -0.4058217,
                           1.16502, -1.150805, -2.480911, -0.1067964, -1.054974, -1.188283, 0.9589143, -1.842441,
                           -2.425003, 0.6966642, 0.6846848, -1.613953],
                     'grads': [[-0.8821111, -0.5365818, 0.8011422, 0.632875, -3.261276, -1.827671, -0.8399835,
                                -0.6532192, -0.3083835, -0.08697094, -1.559713, -3.06264, -0.02818322, -0.0329268,
                                -0.744212, -0.6548896, 1.539533, -0.1881905],
                               [0.5442104, -1.606538, -2.239483, -3.428942, -3.878833, -3.499206, -3.536154, -1.781426,
                                -1.386552, 0.8466374, 1.471559, 3.042081, 2.381323, 2.281297, 2.13887, 0.9255647,
                                0.8034853, -0.9031185, -1.757586, -3.198777, -3.706314, -3.636688, -3.761168, -2.216303,
                                -1.89412, 0.3365808, 0.940797, 2.717477, 3.29498, 3.70978, 2.282293, 1.247903, 1.116283,
                                -0.5618553, -0.6201312, -2.084514, -2.596531, -2.287649, -2.25057, -0.7900398,
                                -0.7545993, 1.111269, 1.12696, 2.444735, 2.432659, 2.528977, 2.495304, 1.320947,
                                0.5389252, -0.7692884, -0.7616141, -1.681655, -1.67298, -1.734719],
                               [-1.070753, -0.9675809, -0.369988]]},
 'conv2dt_valid_op': {'output_shape': [None, 5, 11, 2],
                      'weights': [('kernel', (2, 3, 2, 2)), ('bias', (2,))],
                      'config': {'filters': 2,
                                 'kernel_size': [2, 3],
                                 'strides': [2, 3],
                                 'padding': 'valid',
                                 'output_padding': [1, 2],
                                 'data_format': 'channels_last',
                                 'dilation_rate': [1, 1],
                                 'activation': 'linear',
                                 'use_bias': True},
                      'y': [1.069055, -0.9310975, -1.608907, -1.038135, 1.04581, -0.3545894, -1.11889, -0.4465871,
                            0.6842557, -1.024654, -1.244425, -0.8654265, -1.775275, -0.6601357, 1.294265, -0.6786333,
                            -1.779292, -1.3276, -0.2598319, -0.8381312, -0.2598319, -0.8381312, -1.460466, -1.582407,
                            0.7791727, 0.1317787, -1.088207, -1.987934, 0.718834, -0.5983052, -1.186416, -1.279178,
                            0.5709733, -0.216664, 1.153333, -0.04177386, -1.500057, -1.90382, 0.7489642, 0.4466318,
                            -0.2598319, -0.8381312, -0.2598319, -0.8381312, 0.2701275, -1.191021, -0.8664261,
                            -0.6169715, 0.3947902, -0.9171308, 1.370699, -1.092762, -1.945659, -0.9496012, 1.401788,
                            -0.3658177, -0.4356993, -0.5405377, -0.01933804, -1.083498, -0.5536106, -0.6565623,
                            -0.2598319, -0.8381312, -0.2598319, -0.8381312, -0.9316098, -0.9050173, 0.3974208,
                            -0.6285137, -0.8715633, -1.180595, -1.818883, -1.649014, 1.123124, 0.2730793, -1.401474,
                            -2.197265, 0.07337692, -0.9473393, -0.6167567, -0.8064342, 0.1039764, -0.7908222,
                            -0.2598319, -0.8381312, -0.2598319, -0.8381312, -0.2598319, -0.8381312, -0.2598319,
                            -0.8381312, -0.2598319, -0.8381312, -0.2598319, -0.8381312, -0.2598319, -0.8381312,
                            -0.2598319, -0.8381312, -0.2598319, -0.8381312, -0.2598319, -0.8381312, -0.2598319,
                            -0.8381312, -0.2598319, -0.8381312, -0.2598319, -0.8381312, -1.928555, -0.5188743, 1.478222,
                            -0.779946, -1.98525, -1.271014, -0.4463505, -1.066394, -0.1228837, -0.5801285, -0.3407513,
                            -1.113707, 1.368386, -1.206958, -1.968145, -0.8402876, 1.448013, -0.4650929, -0.2598319,
                            -0.8381312, -0.2598319, -0.8381312, 1.37158, -0.05096465, -1.720299, -1.942458, 0.9608159,
                            0.5312761, -0.2387575, -0.5579791, -0.2200675, -1.109648, -0.3585598, -0.5880547, -1.886667,
                            -1.564459, 1.209271, 0.2072322, -1.50192, -2.153231, -0.2598319, -0.8381312, -0.2598319,
                            -0.8381312, 0.2802763, -0.6899645, -0.7677637, -1.096602, 0.1919694, -0.4815454, -1.770758,
                            -0.4371276, 1.338177, -0.8921052, -1.869562, -1.133732, -1.128058, -0.8992144, 0.5951294,
                            -0.5913814, -1.061208, -1.258911, -0.2598319, -0.8381312, -0.2598319, -0.8381312,
                            -0.6341957, -1.276015, 0.01943946, -0.3395996, -0.4308403, -1.3738, 1.285705, -0.2068959,
                            -1.668287, -1.775232, 0.9451193, 0.360641, 0.4501663, -0.2631658, -0.8449686, -1.540167,
                            0.1728481, -0.04213309, -0.2598319, -0.8381312, -0.2598319, -0.8381312, -0.2598319,
                            -0.8381312, -0.2598319, -0.8381312, -0.2598319, -0.8381312, -0.2598319, -0.8381312,
                            -0.2598319, -0.8381312, -0.2598319, -0.8381312, -0.2598319, -0.8381312, -0.2598319,
                            -0.8381312, -0.2598319, -0.8381312, -0.2598319, -0.8381312, -0.2598319, -0.8381312],
                      'grads': [[1.21139, 1.79735, 1.459984, 0.1737808, -2.147604, -1.908787, -0.4394524, 0.7788126,
                                 2.276285, 1.458146, -1.020214, -1.713848, 2.221885, 1.286738, -1.263633, -1.818073,
                                 -1.411581, -0.1208993, 2.024513, 1.952537, 0.378427, -0.8272079, -2.267179, -1.42209],
                                [-2.206422, -3.883219, -3.711564, -3.502723, -3.320149, -1.332386, -1.232186, 1.518781,
                                 1.485407, 3.593873, 3.443978, 3.832547, 3.186132, 3.949474, 3.75971, 2.562527, 2.41213,
                                 -0.1338347, -0.1680144, -2.761809, -2.662305, -3.978538, -3.796196, -3.162291],
                                [-1.39459, -0.8234294]]},
 'conv2dt_dilated': {'output_shape': [None, 5, 4, 2],
                     'weights': [('kernel', (2, 2, 2, 3)), ('bias', (2,))],
                     'config': {'filters': 2,
                                'kernel_size': [2, 2],
                                'strides': [1, 1],
                                'padding': 'valid',
                                'output_padding': None,
                                'data_format': 'channels_last',
                                'dilation_rate': [2, 2],
                                'activation': 'sigmoid',
                                'use_bias': True},
                     'y': [0.7371014, 0.1666659, 0.122337, 0.7587076, 0.3426432, 0.5962284, 0.2970188, 0.107121,
                           0.6090707, 0.08477473, 0.6527355, 0.2639482, 0.6970419, 0.3609492, 0.2824611, 0.5332346,
                           0.04559974, 0.7120357, 0.9514785, 0.02057046, 0.6199388, 0.03062694, 0.5076017, 0.8639544,
                           0.1592245, 0.629896, 0.3274947, 0.2186521, 0.3887698, 0.12095, 0.6698284, 0.1779655,
                           0.8429316, 0.1544002, 0.1128917, 0.6462277, 0.232429, 0.7528567, 0.4657034, 0.08154995],
                     'grads': [[0.04303421, 0.08867571, 0.08900519, 0.02125428, 0.05967929, 0.06760905, -0.07110128,
                                -0.02621631, 0.03206483, 0.07754029, 0.09101484, 0.05798212, -0.04070619, 0.0293967,
                                0.08447827, 0.02553402, -0.006847121, -0.03572947],
                               [-0.2419881, -0.09620821, 0.09873272, -0.1003272, -0.007019465, 0.08987515, 0.249876,
                                0.168581, 0.001143566, 0.3614235, 0.2996847, 0.08481133, -0.2071601, -0.07124291,
                                0.1010784, -0.3226286, -0.2976454, -0.1205697, 0.007563915, -0.1635504, -0.2510928,
                                0.1417362, 0.05247734, -0.06359664],
                               [-0.09786382, -0.01673702]]},
 'conv2dt_same_op': {'output_shape': [None, 6, 4, 2],
                     'weights': [('kernel', (3, 3, 2, 2)), ('bias', (2,))],
                     'config': {'filters': 2,
                                'kernel_size': [3, 3],
                                'strides': [2, 2],
                                'padding': 'same',
                                'output_padding': [1, 1],
                                'data_format': 'channels_last',
                                'dilation_rate': [1, 1],
                                'activation': 'linear',
                                'use_bias': True},
                     'y': [1.069055, -0.9310975, -1.608907, -1.038135, 0.1867516, 0.0369547, 0.6842557, -1.024654,
                           -1.460466, -1.582407, 0.7791727, 0.1317787, -0.1095414, -1.748108, -1.186416, -1.279178,
                           -1.196595, 0.6153355, 0.992571, -2.019621, -1.934697, -1.109806, -0.3383572, 0.2702854,
                           1.153333, -0.04177386, -1.500057, -1.90382, 0.07718626, 0.3797456, 0.3974208, -0.6285137,
                           0.6409065, -2.536009, -1.529288, 0.5840669, 1.679967, -1.160827, -0.4569862, -1.637698,
                           -1.818883, -1.649014, 1.123124, 0.2730793, -1.068265, -2.306473, -0.6167567, -0.8064342],
                     'grads': [[0.8271037, 1.075769, -0.460936, -1.188817, 1.055044, 0.6482845, -1.216462, -1.19464,
                                -0.09151351, -0.2017229, 0.07796633, 0.5796553],
                               [-0.2097857, 0.1263687, -0.4110373, -0.1569922, -0.4022546, -0.3601323, -0.1879256,
                                -0.37925, -0.1404925, -0.2957038, 0.04121757, -0.1841632, -0.02930173, 0.2731363,
                                -0.3119561, 0.01124622, -0.4352054, -0.2563905, -0.3360709, -0.3930154, -0.2194754,
                                -0.2908687, -0.07071886, -0.2671445, -0.5901399, -0.7910638, -0.8778422, -1.073987,
                                -0.7169799, -0.8081185, -0.1897511, -0.1293128, 0.5634404, 0.4377254, 0.816332,
                                0.5036253],
                               [-1.418749, -0.8715057]]},
 'depthwise_same_dm2': {'output_shape': [None, 4, 5, 6],
                        'weights': [('kernel', (3, 3, 3, 2)), ('bias', (6,))],
                        'config': {'depth_multiplier': 2,
                                   'kernel_size': [3, 3],
                                   'strides': [1, 1],
                                   'padding': 'same',
                                   'data_format': 'channels_last',
                                   'dilation_rate': [1, 1],
                                   'activation': 'linear',
                                   'use_bias': True},
                        'y': [0.4027184, 0.6626042, 0.3685814, -0.7087602, -1.821229, -1.126056, 1.848194, -0.3096591,
                              -3.385564, -2.970752, 0.8273127, 2.850061, -2.714011, -3.124907, -0.1553585, 1.648504,
                              1.616524, 0.5136411, 0.4928668, 1.298988, 0.438493, -0.9554826, -2.568408, -1.230891,
                              0.7465035, -1.154051, -3.095036, -2.467487, 0.4426367, 2.140574, -1.931858, -1.220651,
                              0.9721821, 1.283052, -0.5364178, -0.9948024, 2.436958, 2.051551, -1.500028, -2.983101,
                              -2.054556, 0.5746071, -0.7749099, -3.208456, -3.108427, -0.7865328, 3.00203, 3.213442,
                              -2.356218, -0.964833, 1.995214, 1.895277, -1.301561, -2.102473, 1.753438, 1.093807,
                              -1.554178, -2.358311, -1.110923, 0.9014087, -1.372753, -2.753986, -1.58263, 0.2025527,
                              2.048432, 1.764119, -1.642045, -0.08248234, 2.002487, 1.311753, -2.02221, -2.296104,
                              2.703833, 1.089478, -3.073001, -3.628885, -0.5082577, 2.270266, -2.332229, -3.840706,
                              -1.548595, 0.9136244, 2.757878, 1.867655, -0.8915101, -0.06462228, 0.9527417, 0.3747076,
                              -1.628959, -1.411091, 0.1253498, -1.586486, -3.02355, -1.808889, 1.180199, 2.656717,
                              -2.883787, -2.813572, 0.417868, 1.830174, 0.8584563, -0.2538979, 1.265639, 1.653183,
                              -0.1470502, -1.665675, -2.44508, -0.7093241, 0.585951, -1.766702, -3.374624, -1.893221,
                              2.134877, 3.298622, -1.977467, -1.676495, 0.4840774, 1.507306, 0.7794736, 0.1437357],
                        'grads': [[-1.219508, 0.5156556, -1.012349, 0.5653763, -1.363254, 0.9721629, 0.7972568,
                                   -0.5687546, 0.2256676, -1.076617, 1.727968, -1.116872, 0.3670427, 0.07875776,
                                   0.7653108, 0.0717026, -0.1930019, 0.437395, 1.256788, -1.063786, 0.942, -1.256825,
                                   0.6282994, -1.603506, -0.4508492, 0.6608899, 0.08624756, 1.110427, -0.6215905,
                                   1.111939, -0.09675288, 0.2727429, -0.4557872, -1.19935, 1.043267, -0.8562726,
                                   1.309561, -0.6827599, 1.628114, 0.3595946, -0.6054481, -0.1877545, -1.143883,
                                   0.5968864, -1.12226, -1.262163, 0.6336744, -1.238614, -0.05686399, -0.8294125,
                                   0.5165923, 1.446969, -0.9013907, 1.043917, -0.8710046, 1.407429, -1.186004,
                                   -0.2037731, 0.3877708, 0.1995903],
                                  [1.794362, 1.869733, -0.3628402, -1.9997, -2.313953, -0.8639866, 0.3557549, -1.270664,
                                   -2.175672, -0.586776, 2.782523, 2.940604, -2.000907, -1.329899, 1.586762, 1.754517,
                                   -0.4780567, -1.96366, -0.475205, -0.3154339, 0.3666109, 0.4799319, 0.04179473,
                                   -0.3287399, 0.3523282, 0.6051823, 0.1750237, -0.2425409, -0.5652162, -0.2684843,
                                   0.2558159, -0.135822, -0.4927134, -0.3343032, 0.3477415, 0.4693437, 1.736334,
                                   -0.0009412766, -1.919783, -1.635953, 1.345117, 1.852284, -3.066745, -2.487701,
                                   1.03556, 2.518156, 1.112893, -0.55397, 1.284197, 2.402998, 1.658636, -0.1931986,
                                   -2.112041, -1.844528],
                                  [-0.1495708, -0.1199749, -0.02907348, 0.07668424, 0.1432571, 0.1366277]]},
 'depthwise_valid_s2': {'output_shape': [None, 2, 2, 2],
                        'weights': [('kernel', (2, 3, 2, 1)), ('bias', (2,))],
                        'config': {'depth_multiplier': 1,
                                   'kernel_size': [2, 3],
                                   'strides': [2, 2],
                                   'padding': 'valid',
                                   'data_format': 'channels_last',
                                   'dilation_rate': [1, 1],
                                   'activation': 'linear',
                                   'use_bias': True},
                        'y': [0.4472014, -0.5169973, -0.9467406, -1.382949, -0.5739352, -1.935997, -0.08992368,
                              0.2798162, 0.01496273, 0.2706959, -0.3874701, -1.952211, 0.1897337, -1.481769, -0.8166525,
                              -0.4071004],
                        'grads': [[-0.6105114, -0.7742224, -0.1066209, 0.5190071, -0.263494, 0.6617088, -0.1485944,
                                   0.1509804, 0.8185818, 0.2580105, 0.2341736, -0.3263977, -0.5365032, -0.9578136,
                                   -0.02432197, 0.02344559, -0.7477082, -0.2786302, -0.4887356, 0.03444151, 0.4257374,
                                   0.7253122, 0.07435165, -0.4862197, 0.5337149, -0.4481668, 0.1647408, -0.2565696,
                                   -0.9075301, -0.4384521, -0.1632999, 0.3057781, 0.3741281, 0.8973053, -0.1172764,
                                   0.05043774, 0.8289552, 0.4734923, 0.5418423, -0.05852844, 0.0, 0.0, 0.0, 0.0, 0.0,
                                   0.0, 0.0, 0.0, 0.0, 0.0, -0.2208857, -0.6421962, -0.03857592, 0.4305021, -0.7787658,
                                   0.2134894, -0.1731181, 0.350059, 0.9536792, 0.5982163, 0.08472502, -0.2707379,
                                   -0.1941092, -0.79448, 0.2533441, -0.1219424, -0.8711087, -0.6460245, -0.5693957,
                                   0.07985516, 0.005616968, 0.5287941, 0.0009809586, -0.354482, 0.9870901, 0.03125638,
                                   0.1733312, -0.4270396, -0.9548528, -0.7297685, -0.002154498, 0.2229297, 0.00493606,
                                   0.654187, -0.3774641, 0.1876963, 0.8721806, 0.7880901, 0.5700964, -0.09741591, 0.0,
                                   0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
                                  [0.3202585, -1.035705, 2.148591, 0.9226313, 0.1463374, 1.236067, 1.985204, 0.3549214,
                                   1.037146, 1.455212, -1.759974, -0.03890229],
                                  [-0.3070439, 0.1397903]]},
 'separable_same': {'output_shape': [None, 4, 4, 4],
                    'weights': [('depthwise_kernel', (2, 2, 3, 2)), ('pointwise_kernel', (1, 1, 6, 4)), ('bias', (4,))],
                    'config': {'depth_multiplier': 2,
                               'filters': 4,
                               'kernel_size': [2, 2],
                               'strides': [1, 1],
                               'padding': 'same',
                               'data_format': 'channels_last',
                               'dilation_rate': [1, 1],
                               'activation': 'linear',
                               'use_bias': True},
                    'y': [-0.9984943, -1.221704, -0.8206404, -0.0002413988, -1.118825, -0.327539, 0.6311147, 1.267278,
                          -0.3241941, 0.8272261, 1.555945, 1.489599, -1.0486, -0.8143604, -0.163994, 0.5701709,
                          -0.9853184, 0.0435639, 1.050186, 1.520178, -0.3481825, 0.5859401, 1.220656, 1.231634,
                          -1.235673, -1.502843, -1.002082, 0.01072878, -1.040652, 0.4030146, 1.640747, 2.040081,
                          -0.4140089, 0.2724516, 0.8196931, 0.9480832, -1.305959, -1.48344, -0.9029049, 0.139002,
                          -0.6905458, 0.680452, 1.703749, 1.856454, -0.2759881, -0.7059869, -0.7752365, -0.4483513,
                          -0.9534798, -0.7502341, -0.1636296, 0.5065873, -0.557028, 0.5119141, 1.319276, 1.452506,
                          -1.02407, -0.6227564, 0.09677681, 0.7668583, -1.080595, -0.1579563, 0.8453962, 1.416763],
                    'grads': [[0.5917989, 0.8531795, -0.4517194, -1.917024, -0.8566035, 0.8820349, 1.963893, 1.106782,
                               -1.117944, -1.918145, -1.304765, 1.30113, 0.5791961, 0.4041293, -0.1499812, -0.7707617,
                               0.06776541, 0.9255836, 0.5262932, -0.3703409, -0.9263197, -0.2570039, 0.6554515,
                               0.8833706, 0.3820494, -0.3637067, -0.4301273, 0.3046635, 1.120951, 0.676483, -0.5705539,
                               -1.279387, -0.5223016, 0.8095371, 1.377487, 0.3434882, -0.08670148, -0.8729786,
                               -0.4044898, 1.1635, 1.377238, -0.05353859, -1.261786, -1.2789, 0.2530282, 1.300567,
                               1.120249, -0.4405849],
                              [-0.9504655, 1.045554, -0.4006921, 0.5772183, -0.05304424, 0.3297465, 1.250101, -1.203629,
                               0.8100621, -0.8336564, 0.4723625, -0.6263858, -1.282756, 0.7287683, -1.543581, 0.7225071,
                               -0.8306041, 0.0916464, 0.1651732, 0.09502742, 0.7288898, 0.002716556, -0.2919447,
                               1.156001],
                              [-1.708135, -0.8232729, 0.4822698, 1.54138, -1.785738, -1.293667, -0.1405508, 1.084385,
                               -0.4930592, -0.8839303, -0.8231257, -0.3417157, 1.760754, 1.26589, 0.1241747, -1.080992,
                               3.136408, 3.539133, 2.133412, -0.3624527, 2.418271, 3.036152, 2.102602, 0.0946534],
                              [-0.557573, -0.9624378, -0.8755107, -0.34121]]},
 'separable_valid_s2': {'output_shape': [None, 2, 2, 2],
                        'weights': [('depthwise_kernel', (3, 3, 2, 1)), ('pointwise_kernel', (1, 1, 2, 2))],
                        'config': {'depth_multiplier': 1,
                                   'filters': 2,
                                   'kernel_size': [3, 3],
                                   'strides': [2, 2],
                                   'padding': 'valid',
                                   'data_format': 'channels_last',
                                   'dilation_rate': [1, 1],
                                   'activation': 'linear',
                                   'use_bias': False},
                        'y': [-2.814163, -3.245129, 2.909385, 3.192682, 1.969498, 1.605443, -1.460006, -0.9582916],
                        'grads': [[0.9811969, 0.9661878, 0.1713582, -0.6476929, -0.4836193, -0.3009567, 0.08039904,
                                   -0.5402334, -0.4429051, -0.9232054, -0.3763573, 0.4073268, 0.8622531, 1.1953,
                                   0.3870254, 0.1919955, 0.4045579, 0.9969861, 0.2644372, -0.1232376, -1.621081,
                                   -2.018564, -0.878176, 0.4115814, 0.4315067, 0.1064946, -0.4536418, 0.5563278,
                                   0.9003515, 2.122264, 0.3380101, -0.3335461, -0.7743978, -0.9787906, -0.2561957,
                                   -0.2911923, -0.5727289, -1.209544, -0.3743613, 0.1495118, 0.6644737, 1.005065,
                                   0.6504807, 0.09727514, -0.03178167, 0.2580721, 0.4810823, 0.1202081, -0.3869577,
                                   -1.215907, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
                                  [0.7471424, -0.2816633, -0.1177026, -0.6077076, -0.7727029, 0.1496915, 0.2155407,
                                   -0.6425301, -0.7150154, -0.1288744, -0.370816, 0.6145432, -0.5240374, -0.3834157,
                                   -0.6224055, 0.4743106, 0.3888735, 0.4864185],
                                  [0.1867816, -2.000136, 1.265431, -2.550942]]},
 'maxpool1d_same': {'output_shape': [None, 4, 2],
                    'weights': [],
                    'config': {'pool_size': [3], 'padding': 'same', 'strides': [2], 'data_format': 'channels_last'},
                    'y': [0.9463001, 0.4886944, 0.002814689, 0.6697074, 0.9943892, 0.8109524, 0.2131305, -0.493598,
                          0.8571081, 0.9820358, 0.8571081, 0.9820358, 0.5600483, 0.9700518, 0.8843728, 0.9700518],
                    'grads': [[-0.6118579, -0.9835941, 0.0, 0.0, 0.0, 0.0, -0.8527278, -0.2861298, 0.4266764, 0.9214571,
                               0.9453864, 0.4862368, 0.0, 0.0, 0.0, 0.0, -1.214833, -1.479277, 0.0, 0.0, 0.0, 0.0, 0.0,
                               0.0, 0.005629356, 1.481097, 0.994683, 0.0]]},
 'maxpool2d_default': {'output_shape': [None, 2, 2, 2],
                       'weights': [],
                       'config': {'pool_size': [2, 2],
                                  'padding': 'valid',
                                  'strides': [2, 2],
                                  'data_format': 'channels_last'},
                       'y': [0.9463001, 0.4886944, 0.8571081, 0.9820358, 0.1585864, 0.7772346, 0.998727, 0.9700518],
                       'grads': [[-0.6118579, -0.9835941, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
                                  0.0, 0.0, -0.8527278, -0.2861298, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.4862368, 0.0,
                                  0.0, 0.0, 0.0, 0.0, 0.0, 0.4266764, 0.9214571, 0.9453864, 0.0, 0.0, 0.0, 0.0, 0.0,
                                  0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]]},
 'maxpool2d_same_s1': {'output_shape': [None, 3, 4, 2],
                       'weights': [],
                       'config': {'pool_size': [2, 3],
                                  'padding': 'same',
                                  'strides': [1, 1],
                                  'data_format': 'channels_last'},
                       'y': [0.9943892, 0.8109524, 0.9943892, 0.8109524, 0.2131305, 0.6697074, 0.002814689, 0.6697074,
                             0.9943892, 0.9820358, 0.9943892, 0.9820358, 0.6051571, 0.2942105, -0.4190244, 0.2942105,
                             0.8571081, 0.9820358, 0.8571081, 0.9820358, 0.6051571, -0.08094807, -0.72569, -0.1361319],
                       'grads': [[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.9453864, 1.407694, -2.679419, -1.269724, 0.4266764,
                                  0.0, 0.0, 0.0, 0.994683, 1.481097, -0.7386166, -2.892346, -0.4108377, 0.2968995,
                                  0.8585547, 0.0, 0.0, 0.9815007]]},
 'maxpool3d_default': {'output_shape': [None, 2, 2, 2, 2],
                       'weights': [],
                       'config': {'pool_size': [2, 2, 2],
                                  'padding': 'valid',
                                  'strides': [2, 2, 2],
                                  'data_format': 'channels_last'},
                       'y': [0.998727, 0.9406428, 0.4737281, 0.6697074, 0.8843728, 0.9960503, 0.9786711, 0.5914773,
                             0.5776251, 0.5741106, 0.9740574, 0.9977203, 0.9964228, 0.6854248, 0.997421, 0.9331748],
                       'grads': [[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, -0.2861298, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
                                  0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.4266764, 0.0, 0.0, 0.0, 0.0, 0.0,
                                  0.0, 0.0, -0.6118579, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, -0.9835941, -0.8527278,
                                  0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.9214571, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
                                  0.9453864, 0.4862368, 0.0, 0.0, 0.0, 0.0, 0.0, -0.8158641, -0.9934605, 0.0, 0.0, 0.0,
                                  0.0, 0.0, 0.0, 0.0, 0.0, -0.6634128, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.8093023,
                                  0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.994683, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
                                  0.0, 0.0, -0.2213729, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
                                  0.0, 0.0, 0.005629356, 0.671795, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]]},
 'avgpool1d': {'output_shape': [None, 2, 3],
               'weights': [],
               'config': {'pool_size': [2], 'padding': 'valid', 'strides': [2], 'data_format': 'channels_last'},
               'y': [0.06603339, -0.2525418, -0.4420717, 0.4068835, 0.4414189, 0.2503956, 0.4496838, 0.38808, 0.1281729,
                     -0.2197832, 0.1036506, 0.3741204],
               'grads': [[-0.3059289, -0.491797, -0.4263639, -0.3059289, -0.491797, -0.4263639, -0.1430649, 0.2133382,
                          0.4607286, -0.1430649, 0.2133382, 0.4607286, 0.0, 0.0, 0.0, 0.4726932, 0.2431184, -0.1106864,
                          0.4726932, 0.2431184, -0.1106864, -0.4079321, -0.4967303, -0.3317064, -0.4079321, -0.4967303,
                          -0.3317064, 0.0, 0.0, 0.0]]},
 'avgpool2d_same': {'output_shape': [None, 3, 2, 2],
                    'weights': [],
                    'config': {'pool_size': [3, 3],
                               'padding': 'same',
                               'strides': [2, 2],
                               'data_format': 'channels_last'},
                    'y': [-0.001115054, -0.2653075, -0.5895231, -0.1549356, 0.2302685, -0.03080158, -0.6979754,
                          -0.5325865, 0.3820068, 0.214358, -0.565012, -0.7260263],
                    'grads': [[-0.1019763, -0.1639324, -0.1019763, -0.1639324, -0.3151582, -0.2354648, -0.2131819,
                               -0.07153245, -0.05456783, -0.06154823, -0.05456783, -0.06154823, -0.1101854, -0.05204123,
                               -0.05561754, 0.009507015, 0.04740849, 0.1023841, 0.04740849, 0.1023841, 0.2049729,
                               0.1834236, 0.1575644, 0.08103947, 0.01051302, -0.03359323, 0.01051302, -0.03359323,
                               -0.08028772, -0.118407, -0.09080073, -0.08481374, -0.03689548, -0.1359774, -0.03689548,
                               -0.1359774, -0.2852606, -0.3018306, -0.2483651, -0.1658532]]},
 'avgpool3d_valid': {'output_shape': [None, 2, 2, 2, 1],
                     'weights': [],
                     'config': {'pool_size': [2, 2, 3],
                                'padding': 'valid',
                                'strides': [1, 1, 1],
                                'data_format': 'channels_last'},
                     'y': [-0.02342369, -0.006156107, 0.02651986, 0.01210319, 0.02887309, 0.02203145, -0.02801914,
                           -0.02554439],
                     'grads': [[-0.05098816, -0.1329543, -0.1329543, -0.08196618, -0.1220488, -0.2278591, -0.2278591,
                                -0.1058103, -0.07106065, -0.0949048, -0.0949048, -0.02384415, -0.01543179, -0.02060986,
                                -0.02060986, -0.005178079, -0.007710241, 0.003787264, 0.003787264, 0.0114975,
                                0.007721551, 0.02439713, 0.02439713, 0.01667558, 0.03555637, 0.1123445, 0.1123445,
                                0.0767881, 0.1143386, 0.2316464, 0.2316464, 0.1173078, 0.0787822, 0.1193019, 0.1193019,
                                0.04051973]]},
 'gmax1d': {'output_shape': [None, 3],
            'weights': [],
            'config': {'data_format': 'channels_last', 'keepdims': False},
            'y': [0.9463001, 0.6697074, 0.9943892, 0.6051571, 0.9700518, 0.9820358],
            'grads': [[-0.6118579, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.9835941, -0.8527278, -0.0, -0.0, -0.0, -0.0,
                       -0.0, -0.0, -0.0, 0.0, 0.9214571, -0.2861298, 0.0, 0.0, -0.0, 0.0, 0.0, -0.0, 0.4266764, 0.0,
                       -0.0, 0.0, 0.0]]},
 'gmax2d_keep': {'output_shape': [None, 1, 1, 2],
                 'weights': [],
                 'config': {'data_format': 'channels_last', 'keepdims': True},
                 'y': [0.9943892, 0.9820358, 0.998727, 0.9700518],
                 'grads': [[-0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.6118579, -0.0, -0.0, -0.0, -0.0, -0.0,
                            -0.0, -0.0, -0.0, -0.9835941, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.2861298, -0.0,
                            -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.8527278, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0,
                            -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0]]},
 'gmax3d': {'output_shape': [None, 3],
            'weights': [],
            'config': {'data_format': 'channels_last', 'keepdims': False},
            'y': [0.9463001, 0.998727, 0.9943892],
            'grads': [[-0.6118579, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.8527278, -0.0, -0.0, -0.0, -0.0, -0.0,
                       -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0,
                       -0.0, -0.0, -0.0, -0.0, -0.9835941, -0.0]]},
 'gavg1d_keep': {'output_shape': [None, 1, 3],
                 'weights': [],
                 'config': {'data_format': 'channels_last', 'keepdims': True},
                 'y': [-0.0004542232, -0.1080779, -0.1604753, 0.1613186, 0.1230933, 0.02196907],
                 'grads': [[-0.1223716, -0.1967188, -0.1705456, -0.1223716, -0.1967188, -0.1705456, -0.1223716,
                            -0.1967188, -0.1705456, -0.1223716, -0.1967188, -0.1705456, -0.1223716, -0.1967188,
                            -0.1705456, -0.05722596, 0.08533528, 0.1842914, -0.05722596, 0.08533528, 0.1842914,
                            -0.05722596, 0.08533528, 0.1842914, -0.05722596, 0.08533528, 0.1842914, -0.05722596,
                            0.08533528, 0.1842914]]},
 'gavg2d': {'output_shape': [None, 2],
            'weights': [],
            'config': {'data_format': 'channels_last', 'keepdims': False},
            'y': [-0.03742296, -0.07188215, 0.05382105, 0.004420176],
            'grads': [[-0.05098816, -0.08196618, -0.05098816, -0.08196618, -0.05098816, -0.08196618, -0.05098816,
                       -0.08196618, -0.05098816, -0.08196618, -0.05098816, -0.08196618, -0.05098816, -0.08196618,
                       -0.05098816, -0.08196618, -0.05098816, -0.08196618, -0.05098816, -0.08196618, -0.05098816,
                       -0.08196618, -0.05098816, -0.08196618, -0.07106065, -0.02384415, -0.07106065, -0.02384415,
                       -0.07106065, -0.02384415, -0.07106065, -0.02384415, -0.07106065, -0.02384415, -0.07106065,
                       -0.02384415, -0.07106065, -0.02384415, -0.07106065, -0.02384415, -0.07106065, -0.02384415,
                       -0.07106065, -0.02384415, -0.07106065, -0.02384415, -0.07106065, -0.02384415]]},
 'gavg3d': {'output_shape': [None, 3],
            'weights': [],
            'config': {'data_format': 'channels_last', 'keepdims': False},
            'y': [0.05143907, 0.04439224, 0.01466161],
            'grads': [[-0.05098816, -0.08196618, -0.07106065, -0.05098816, -0.08196618, -0.07106065, -0.05098816,
                       -0.08196618, -0.07106065, -0.05098816, -0.08196618, -0.07106065, -0.05098816, -0.08196618,
                       -0.07106065, -0.05098816, -0.08196618, -0.07106065, -0.05098816, -0.08196618, -0.07106065,
                       -0.05098816, -0.08196618, -0.07106065, -0.05098816, -0.08196618, -0.07106065, -0.05098816,
                       -0.08196618, -0.07106065, -0.05098816, -0.08196618, -0.07106065, -0.05098816, -0.08196618,
                       -0.07106065]]},
 'zeropad2d': {'output_shape': [None, 5, 4, 2],
               'weights': [],
               'config': {'padding': [[1, 2], [0, 1]], 'data_format': 'channels_last'},
               'y': [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.9463001, 0.4886944, -0.2186271, -0.8142333, -0.9937779,
                     -0.6655163, 0.0, 0.0, 0.002814689, 0.6697074, 0.9943892, 0.8109524, 0.2131305, -0.493598, 0.0, 0.0,
                     0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
               'grads': [[-0.2213729, -0.8158641, -0.9934605, -0.6634128, 0.005629356, 0.671795, 0.2103796, -0.496044,
                          -0.9489962, -0.917025, -0.4164671, 0.2968995]]},
 'upsampling2d': {'output_shape': [None, 4, 6, 2],
                  'weights': [],
                  'config': {'size': [2, 3], 'data_format': 'channels_last', 'interpolation': 'nearest'},
                  'y': [0.9463001, 0.4886944, 0.9463001, 0.4886944, 0.9463001, 0.4886944, -0.2186271, -0.8142333,
                        -0.2186271, -0.8142333, -0.2186271, -0.8142333, 0.9463001, 0.4886944, 0.9463001, 0.4886944,
                        0.9463001, 0.4886944, -0.2186271, -0.8142333, -0.2186271, -0.8142333, -0.2186271, -0.8142333,
                        -0.9937779, -0.6655163, -0.9937779, -0.6655163, -0.9937779, -0.6655163, 0.002814689, 0.6697074,
                        0.002814689, 0.6697074, 0.002814689, 0.6697074, -0.9937779, -0.6655163, -0.9937779, -0.6655163,
                        -0.9937779, -0.6655163, 0.002814689, 0.6697074, 0.002814689, 0.6697074, 0.002814689,
                        0.6697074],
                  'grads': [[0.1727827, 0.6367865, -0.7763556, -0.631665, -0.6892297, -0.2686114, -0.1259462,
                             -0.6080159]]},
 'reshape': {'output_shape': [None, 6, 2],
             'weights': [],
             'config': {'target_shape': [-1, 2]},
             'y': [0.9463001, 0.4886944, -0.2186271, -0.8142333, -0.9937779, -0.6655163, 0.002814689, 0.6697074,
                   0.9943892, 0.8109524, 0.2131305, -0.493598, -0.948105, -0.9181439, -0.4190244, 0.2942105, 0.8571081,
                   0.9820358, 0.6051571, -0.08094807, -0.72569, -0.9996147, -0.7627506, -0.1361319],
             'grads': [[-0.6118579, -0.9835941, -0.8527278, -0.2861298, 0.4266764, 0.9214571, 0.9453864, 0.4862368,
                        -0.2213729, -0.8158641, -0.9934605, -0.6634128, 0.005629356, 0.671795, 0.994683, 0.8093023,
                        0.2103796, -0.496044, -0.9489962, -0.917025, -0.4164671, 0.2968995, 0.8585547, 0.9815007]]}}
# --- end of generated ---

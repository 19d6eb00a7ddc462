"""Convolutions: conv1d/2d/3d and their transposes against float64 references written as numpy loops here,
forward and gradients, over strides, dilations, paddings and groups; hand-computed cases without numpy (they
run in Pyodide too); PyTorch where it is installed; a traced step; errors."""

import itertools

import pytest

import pyautodiff as ad
from pyautodiff import _backend as B
from conftest import gradcheck, rand

try:
    import numpy as np
except ImportError:  # Pyodide: the numpy-free tests below still run
    np = None
needs_numpy = pytest.mark.skipif(np is None, reason="needs numpy")
CONV = {1: ad.conv1d, 2: ad.conv2d, 3: ad.conv3d}
TRANSPOSE = {1: ad.conv1d_transpose, 2: ad.conv2d_transpose, 3: ad.conv3d_transpose}


# --- references -----------------------------------------------------------------------------------------------

def keras_same_geometry(ins, ks, strides, dil, padding):
    """(pads before, output sizes) as Keras/TensorFlow define them: 'same' gives ceil(n / s) outputs with the odd
    pad at the end, 'causal' pads (k - 1) * d in front, 'valid' nothing."""
    pads, outs = [], []
    for n, k, s, d in zip(ins, ks, strides, dil):
        span = (k - 1) * d + 1
        if padding == "same":
            out = -(-n // s)
            pads.append(max((out - 1) * s + span - n, 0) // 2)
        elif padding == "causal":
            out = -(-n // s)
            pads.append(span - 1)
        else:
            out = (n - span) // s + 1
            pads.append(0)
        outs.append(out)
    return pads, outs


def ref_conv(x, w, strides, dil, pads, outs, groups, g):
    """y = conv(x, w) and, for the upstream gradient g, (dx, dw): loops over output positions and taps."""
    n, cin = x.shape[0], x.shape[-1]
    ks, (cgi, cout) = w.shape[:-2], w.shape[-2:]
    cgo = cout // groups
    y, dx, dw = np.zeros((n, *outs, cout)), np.zeros_like(x), np.zeros_like(w)
    for o in itertools.product(*map(range, outs)):
        for t in itertools.product(*map(range, ks)):
            pos = [oi * s - p + ti * d for oi, ti, s, d, p in zip(o, t, strides, dil, pads)]
            if any(not 0 <= p < size for p, size in zip(pos, x.shape[1:-1])):
                continue
            for gi in range(groups):
                ci, co = slice(gi * cgi, (gi + 1) * cgi), slice(gi * cgo, (gi + 1) * cgo)
                xs, ws, gs = x[(slice(None), *pos, ci)], w[(*t, slice(None), co)], g[(slice(None), *o, co)]
                y[(slice(None), *o, co)] += xs @ ws
                dx[(slice(None), *pos, ci)] += gs @ ws.T
                dw[(*t, slice(None), co)] += xs.T @ gs
    return y, dx, dw


def keras_transpose_geometry(ins, ks, strides, dil, padding, output_padding):
    """Output sizes and left crops of the full transposed convolution as Keras 3 defines them
    (backend_utils.compute_conv_transpose_output_shape and compute_conv_transpose_output_crops_for_torch)."""
    outs, crops = [], []
    for n, k, s, d, op in zip(ins, ks, strides, dil, output_padding):
        span = (k - 1) * d + 1
        if padding == "valid":
            op = max(span, s) - span if op is None else op
            outs.append((n - 1) * s + span + op)
            left = span - 1
        else:
            outs.append(n * s if op is None else (n - 1) * s + span % 2 + op)
            pad_len = s + span - 2 if op is None else span + span % 2 - 2 + op
            left = min(pad_len // 2 + pad_len % 2, span - 1)
        crops.append(span - 1 - left)
    return outs, crops


def ref_conv_transpose(x, w, strides, dil, outs, crops):
    """Every input position scattered through the kernel (w: k..., C_out, C_in), then Keras' window cut out."""
    ins, ks = x.shape[1:-1], w.shape[:-2]
    full = np.zeros((x.shape[0], *[max((n - 1) * s + (k - 1) * d + 1, c + o) for n, k, s, d, c, o
                                   in zip(ins, ks, strides, dil, crops, outs)], w.shape[-2]))
    for i in itertools.product(*map(range, ins)):
        for t in itertools.product(*map(range, ks)):
            pos = tuple(ii * s + ti * d for ii, ti, s, d in zip(i, t, strides, dil))
            full[(slice(None), *pos)] += x[(slice(None), *i)] @ w[t].T
    return full[(slice(None), *[slice(c, c + o) for c, o in zip(crops, outs)])]


def per_axis(v, nsp):
    return tuple(v) if isinstance(v, tuple) else (v,) * nsp


def with_grads(fn, x, w, g):
    x, w = ad.array(x), ad.array(w)
    with ad.GradientTape() as tape:
        tape.watch([x, w])
        y = fn(x, w)
    dx, dw = tape.gradient(y, [x, w], output_gradients=ad.array(g.astype(y.dtype)))
    return np.asarray(y), np.asarray(dx), np.asarray(dw)


# (nsp, batch, spatial input, kernel, C_in, C_out, strides, dilation_rate, padding, groups)
CONV_CASES = [
    (1, 3, (7,), (3,), 2, 4, 1, 1, "valid", 1),
    (1, 1, (9,), (3,), 2, 3, 2, 1, "same", 1),
    (1, 3, (8,), (2,), 4, 4, 1, 2, "causal", 2),
    (1, 2, (5,), (5,), 3, 3, 1, 1, "same", 3),
    (1, 1, (6,), (3,), 1, 5, 3, 1, "causal", 1),
    (2, 3, (5, 6), (3, 3), 3, 4, 1, 1, "same", 1),
    (2, 1, (7, 7), (3, 2), 4, 6, (2, 1), 1, "valid", 2),
    (2, 3, (6, 5), (3, 3), 4, 8, 1, (2, 1), "same", 4),
    (2, 1, (9, 8), (2, 3), 3, 2, (2, 3), 1, "same", 1),
    (2, 3, (5, 5), (1, 1), 2, 3, 1, 1, "valid", 1),
    (2, 3, (4, 5), (3, 3), 32, 32, 1, 1, "same", 32),
    (2, 1, (2, 3), (3, 5), 2, 3, 1, 1, "same", 1),
    (2, 1, (5, 4), (3, 3), 1, 4, 2, 1, "valid", 1),
    (3, 1, (4, 5, 3), (2, 3, 2), 2, 3, 1, 1, "valid", 1),
    (3, 3, (5, 4, 4), (3, 3, 3), 2, 4, (2, 1, 2), 1, "same", 2),
    (3, 1, (5, 5, 5), (2, 2, 2), 3, 3, 1, 2, "same", 3),
]


def _conv_case(case, seed, dtype="float64"):
    nsp, batch, ins, ks, cin, cout, strides, dil, padding, groups = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, *ins, cin))
    w = rng.standard_normal((*ks, cin // groups, cout))
    pads, outs = keras_same_geometry(ins, ks, per_axis(strides, nsp), per_axis(dil, nsp), padding)
    g = rng.standard_normal((batch, *outs, cout))
    fn = lambda a, b: CONV[nsp](a, b, strides=strides, padding=padding, dilation_rate=dil, groups=groups)  # noqa
    got = with_grads(fn, x.astype(dtype), w.astype(dtype), g)
    want = ref_conv(x, w, per_axis(strides, nsp), per_axis(dil, nsp), pads, outs, groups, g)
    return got, want


@needs_numpy
@pytest.mark.parametrize("case", CONV_CASES, ids=str)
def test_conv_forward_and_gradients_match_the_reference(case):
    got, want = _conv_case(case, 1)
    for name, a, b in zip(("y", "dx", "dw"), got, want):
        assert a.shape == b.shape, name
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12, err_msg=name)


@needs_numpy
@pytest.mark.parametrize("case", CONV_CASES[::3], ids=str)
def test_conv_float32_is_within_tolerance(case):
    got, want = _conv_case(case, 2, "float32")
    for name, a, b in zip(("y", "dx", "dw"), got, want):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4 * np.abs(b).max(), err_msg=name)


@needs_numpy
@pytest.mark.parametrize("case,threads", [
    ((2, 2, (60, 61), (3, 3), 16, 16, 1, 1, "same", 1), 2),
    ((2, 2, (60, 61), (3, 3), 16, 16, 1, 1, "same", 2), 1),
    ((2, 33, (5, 6), (3, 3), 16, 32, 1, 1, "same", 16), 2),
], ids=str)
def test_conv_over_several_chunks_of_rows_and_threads(case, threads):
    """More output rows than one chunk of scratch holds (csrc/conv.c: CONV_SCRATCH), and the GEMM path and the
    depthwise loops on two threads."""
    before = ad.get_num_threads()
    ad.set_num_threads(threads)
    try:
        got, want = _conv_case(case, 3)
    finally:
        ad.set_num_threads(before)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-11)


# (nsp, batch, spatial input, kernel, C_in, C_out, strides, dilation_rate, padding, output_padding)
TRANSPOSE_CASES = [
    (2, 2, (3, 4), (3, 3), 3, 2, 2, 1, "same", None),
    (2, 1, (3, 3), (3, 3), 2, 2, 2, 1, "valid", None),
    (2, 1, (2, 3), (4, 3), 2, 3, (2, 3), 1, "same", (1, 2)),
    (2, 2, (3, 3), (2, 2), 2, 2, 3, 1, "valid", 1),
    (2, 1, (4, 4), (3, 3), 2, 2, 1, 2, "same", None),
    (2, 1, (3, 3), (1, 1), 1, 1, 3, 1, "valid", None),
    (2, 1, (3, 2), (4, 2), 3, 2, 2, 1, "same", 0),
    (1, 2, (5,), (3,), 2, 3, 2, 1, "valid", None),
    (1, 1, (4,), (4,), 1, 2, 3, 1, "same", None),
    (3, 1, (2, 3, 2), (2, 2, 3), 2, 2, 2, 1, "same", None),
]


@needs_numpy
@pytest.mark.parametrize("case", TRANSPOSE_CASES, ids=str)
def test_conv_transpose_matches_the_reference(case):
    nsp, batch, ins, ks, cin, cout, strides, dil, padding, output_padding = case
    rng = np.random.default_rng(4)
    x, w = rng.standard_normal((batch, *ins, cin)), rng.standard_normal((*ks, cout, cin))
    outs, crops = keras_transpose_geometry(ins, ks, per_axis(strides, nsp), per_axis(dil, nsp), padding,
                                           per_axis(output_padding, nsp))
    want = ref_conv_transpose(x, w, per_axis(strides, nsp), per_axis(dil, nsp), outs, crops)
    g = rng.standard_normal(want.shape)
    fn = lambda a, b: TRANSPOSE[nsp](a, b, strides=strides, padding=padding,  # noqa: E731
                                     output_padding=output_padding, dilation_rate=dil)
    y, dx, dw = with_grads(fn, x, w, g)
    np.testing.assert_allclose(y, want, rtol=1e-12, atol=1e-12)
    # the transposed convolution is linear in each operand: its gradients are the adjoints, checked by duality
    ex, ew = rng.standard_normal(x.shape), rng.standard_normal(w.shape)
    np.testing.assert_allclose((dx * ex).sum(), (ref_conv_transpose(ex, w, per_axis(strides, nsp),
                                                 per_axis(dil, nsp), outs, crops) * g).sum(), rtol=1e-10)
    np.testing.assert_allclose((dw * ew).sum(), (ref_conv_transpose(x, ew, per_axis(strides, nsp),
                                                 per_axis(dil, nsp), outs, crops) * g).sum(), rtol=1e-10)


def test_keras_transpose_output_shapes():
    x = ad.zeros((2, 5, 7, 3))
    k = ad.zeros((3, 3, 4, 3))
    assert ad.conv2d_transpose(x, k, strides=2, padding="same").shape == (2, 10, 14, 4)
    assert ad.conv2d_transpose(x, k, strides=2).shape == (2, 11, 15, 4)
    assert ad.conv2d_transpose(x, k, strides=2, padding="same", output_padding=0).shape == (2, 9, 13, 4)
    assert ad.conv2d_transpose(x, ad.zeros((1, 1, 4, 3)), strides=3).shape == (2, 15, 21, 4)


# --- numpy-free, hand-computed ------------------------------------------------------------------------------

def column(values, dtype="float64"):
    return ad.array([[[v] for v in values]], dtype)


@pytest.mark.parametrize("padding,strides,dilation,want", [
    ("valid", 1, 1, [-2, -2]),
    ("same", 1, 1, [-2, -2, -2, 3]),
    ("causal", 1, 1, [-1, -2, -2, -2]),
    ("valid", 2, 1, [-2]),
    ("same", 2, 1, [-2, 3]),  # one pad, at the end
    ("same", 1, 2, [-3, -4, 1, 2]),
])
def test_conv1d_by_hand(padding, strides, dilation, want):
    y = ad.conv1d(column([1, 2, 3, 4]), ad.array([[[1.0]], [[0.0]], [[-1.0]]], "float64"), strides=strides,
                  padding=padding, dilation_rate=dilation)
    assert y.tolist() == [[[v] for v in want]]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_conv1d_gradients_by_hand(dtype):
    x, w = column([1, 2, 3, 4], dtype), ad.array([[[1.0]], [[0.0]], [[-1.0]]], dtype)
    with ad.GradientTape() as tape:
        tape.watch([x, w])
        y = ad.conv1d(x, w)
    dx, dw = tape.gradient(y, [x, w])
    assert dx.tolist() == [[[1.0], [1.0], [-1.0], [-1.0]]]
    assert dw.tolist() == [[[3.0]], [[5.0]], [[7.0]]]


def test_conv_transpose_by_hand():
    x, k = column([1, 2]), ad.array([[[1.0]], [[10.0]], [[100.0]]], "float64")
    assert ad.conv1d_transpose(x, k, strides=2, padding="same").tolist() == [[[1.0], [10.0], [102.0], [20.0]]]
    assert ad.conv1d_transpose(x, k, strides=2).tolist() == [[[1.0], [10.0], [102.0], [20.0], [200.0]]]


def test_depthwise_and_grouped_by_hand():
    x = ad.array([[[[1.0, 2.0], [3.0, 4.0]]]])  # (1, 1, 2, 2)
    assert ad.conv2d(x, ad.array([[[[2.0, 3.0]]]]), groups=2).tolist() == [[[[2.0, 6.0], [6.0, 12.0]]]]
    # channel multiplier 2: input channel c feeds outputs 2c and 2c + 1
    y = ad.conv2d(x, ad.array([[[[1.0, -1.0, 10.0, 100.0]]]]), groups=2)
    assert y.tolist() == [[[[1.0, -1.0, 20.0, 200.0], [3.0, -3.0, 40.0, 400.0]]]]
    # two input channels per group: a grouped GEMM
    x4 = ad.array([[[[1.0, 2.0, 3.0, 4.0]]]])
    assert ad.conv2d(x4, ad.array([[[[1.0, 0.0], [1.0, 1.0]]]]), groups=2).tolist() == [[[[3.0, 4.0]]]]


def test_conv2d_second_order():
    x, w = rand((1, 4, 3, 2), seed=11), rand((2, 2, 2, 3), seed=12)
    weights = rand((1, 4, 3, 3), seed=13)

    def first_grads(a, b):
        with ad.GradientTape() as tape:
            tape.watch([a, b])
            y = ad.reduce_sum(ad.square(ad.conv2d(a, b, padding="same")) * weights)
        ga, gb = tape.gradient(y, [a, b])
        return ad.reduce_sum(ga * ga) + ad.reduce_sum(gb * gb)
    gradcheck(first_grads, [x, w], rtol=1e-4)


def test_conv_transpose_second_order():
    x, w = rand((1, 2, 3, 2), seed=14), rand((3, 2, 2, 2), seed=15)

    def first_grads(a, b):
        with ad.GradientTape() as tape:
            tape.watch([a, b])
            y = ad.reduce_sum(ad.square(ad.conv2d_transpose(a, b, strides=2, padding="same")))
        ga, gb = tape.gradient(y, [a, b])
        return ad.reduce_sum(ga * ga) + ad.reduce_sum(gb * gb)
    gradcheck(first_grads, [x, w], rtol=1e-4)


def test_empty_batch_gives_zero_gradients():
    x, w = ad.zeros((0, 5, 5, 3), "float64"), ad.ones((3, 3, 3, 2), "float64")
    with ad.GradientTape() as tape:
        tape.watch([x, w])
        y = ad.conv2d(x, w, padding="same")
    assert y.shape == (0, 5, 5, 2)
    dx, dw = tape.gradient(y, [x, w])
    assert dx.shape == x.shape and dw.tolist() == ad.zeros((3, 3, 3, 2), "float64").tolist()


def test_a_traced_conv_step_replays():
    w = ad.Variable(rand((3, 3, 2, 4), seed=16))

    @ad.function
    def step(x):
        with ad.GradientTape() as tape:
            loss = ad.reduce_sum(ad.square(ad.relu(ad.conv2d(x, w, strides=2, padding="same"))))
        return loss, tape.gradient(loss, w)

    for seed in (17, 18, 19):
        x = rand((2, 5, 6, 2), seed=seed)
        loss, grad = step(x)
        with ad.GradientTape() as tape:
            want = ad.reduce_sum(ad.square(ad.relu(ad.conv2d(x, w, strides=2, padding="same"))))
        assert loss.tolist() == want.tolist() and grad.tolist() == tape.gradient(want, w).tolist()
    assert step.trace_count == 1


# --- errors --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("call,kind,words", [
    (lambda: ad.conv2d(ad.zeros((4, 4, 2)), ad.zeros((3, 3, 2, 1))), ValueError, ["conv2d", "rank 4", "(4, 4, 2)"]),
    (lambda: ad.conv2d(ad.zeros((1, 4, 4, 2)), ad.zeros((3, 3, 3, 1))), ValueError, ["conv2d", "(3, 3, 3, 1)"]),
    (lambda: ad.conv2d(ad.zeros((1, 4, 4, 3)), ad.zeros((3, 3, 1, 2)), groups=3), ValueError, ["groups=3"]),
    (lambda: ad.conv2d(ad.zeros((1, 4, 4, 4)), ad.zeros((3, 3, 2, 2)), groups=0), ValueError, ["groups=0"]),
    (lambda: ad.conv1d(ad.zeros((1, 2, 1)), ad.zeros((3, 1, 1))), ValueError, ["conv1d", "larger", "(1, 2, 1)"]),
    (lambda: ad.conv1d(ad.zeros((1, 5, 1)), ad.zeros((3, 1, 1)), dilation_rate=3), ValueError, ["extent 7"]),
    (lambda: ad.conv2d(ad.zeros((1, 4, 4, 1)), ad.zeros((3, 3, 1, 1)), strides=0), ValueError, ["strides"]),
    (lambda: ad.conv2d(ad.zeros((1, 4, 4, 1)), ad.zeros((3, 3, 1, 1)), strides=(1, 2, 1)), ValueError, ["strides"]),
    (lambda: ad.conv2d(ad.zeros((1, 8, 8, 1)), ad.zeros((3, 3, 1, 1)), strides=2, dilation_rate=2), ValueError,
     ["strides > 1", "dilation_rate > 1"]),
    (lambda: ad.conv2d(ad.zeros((1, 4, 4, 1)), ad.zeros((3, 3, 1, 1)), padding="causal"), ValueError, ["padding"]),
    (lambda: ad.conv2d(ad.zeros((1, 4, 4, 1)), ad.zeros((3, 3, 1, 1), "float64")), TypeError, ["conv2d", "float64"]),
    (lambda: ad.conv2d(ad.array([[[[1]]]]), ad.array([[[[1]]]])), TypeError, ["conv2d", "int32"]),
    (lambda: ad.conv2d(ad.zeros((1, 0, 4, 1)), ad.zeros((3, 3, 1, 1))), ValueError, ["empty"]),
    (lambda: ad.conv3d(ad.zeros((1, 4, 4, 4, 1)), ad.zeros((3, 3, 1, 1))), ValueError, ["conv3d", "rank 5"]),
    (lambda: ad.conv2d_transpose(ad.zeros((1, 4, 4, 2)), ad.zeros((3, 3, 2, 3))), ValueError,
     ["conv2d_transpose", "C_in"]),
    (lambda: ad.conv2d_transpose(ad.zeros((1, 4, 4, 2)), ad.zeros((3, 3, 1, 2)), strides=2, output_padding=2),
     ValueError, ["output padding"]),
    (lambda: ad.conv1d_transpose(ad.zeros((1, 1, 1)), ad.zeros((2, 1, 1)), padding="same", output_padding=0),
     ValueError, ["no elements"]),
])
def test_bad_arguments_raise_clearly(call, kind, words):
    with pytest.raises(kind) as info:
        call()
    for word in words:
        assert word in str(info.value)


@pytest.mark.parametrize("dtype,nsp,geom,status", [
    (0, 2, (1, 3, 4, 2, 4, 3, 2, 1, 1, 1, 4, 3, 2, 1, 1, 1), "AD_EINVAL"),  # groups do not divide C_in
    (0, 4, (1, 1, 1, 1) + (4, 3, 2, 1, 1, 1) * 4, "AD_EINVAL"),           # four spatial axes
    (0, 1, (1, 1, 1, 1, 4, 3, 2, 1, 1, -1), "AD_EINVAL"),                 # a negative pad
    (0, 1, (1, 1, 1, 1, 4, 3, 2, 0, 1, 0), "AD_EINVAL"),                  # stride 0
    (2, 1, (1, 1, 1, 1, 4, 3, 2, 1, 1, 0), "AD_EDTYPE"),                  # int32
])
def test_the_kernel_validates_its_arguments(dtype, nsp, geom, status):
    owner, buf = B.alloc(4096, None)
    assert B.lib.ad_conv(B.C.AD_CONV_FORWARD, dtype, nsp, B.i64(geom), buf, buf, buf) == getattr(B.C, status)


# --- PyTorch, where it is installed ----------------------------------------------------------------------------

@needs_numpy
@pytest.mark.parametrize("case", [c for c in CONV_CASES if c[0] == 2], ids=str)
def test_conv2d_matches_pytorch(case):
    torch = pytest.importorskip("torch")
    nsp, batch, ins, ks, cin, cout, strides, dil, padding, groups = case
    rng = np.random.default_rng(5)
    x, w = rng.standard_normal((batch, *ins, cin)), rng.standard_normal((*ks, cin // groups, cout))
    strides, dil = per_axis(strides, 2), per_axis(dil, 2)
    pads, outs = keras_same_geometry(ins, ks, strides, dil, padding)
    after = [(o - 1) * s + (k - 1) * d + 1 - n - p for o, s, k, d, n, p in zip(outs, strides, ks, dil, ins, pads)]
    tx = torch.nn.functional.pad(torch.tensor(x).permute(0, 3, 1, 2),
                                 (pads[1], max(after[1], 0), pads[0], max(after[0], 0)))
    want = torch.nn.functional.conv2d(tx, torch.tensor(w).permute(3, 2, 0, 1), stride=strides, dilation=dil,
                                      groups=groups).permute(0, 2, 3, 1).numpy()
    x, w = ad.array(x, "float64"), ad.array(w, "float64")  # numpy float64 arrays would become float32
    got = np.asarray(ad.conv2d(x, w, strides=strides, padding=padding, dilation_rate=dil, groups=groups))
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)


@needs_numpy
@pytest.mark.parametrize("case", [c for c in TRANSPOSE_CASES if c[0] == 2], ids=str)
def test_conv2d_transpose_matches_pytorch(case):
    torch = pytest.importorskip("torch")
    nsp, batch, ins, ks, cin, cout, strides, dil, padding, output_padding = case
    rng = np.random.default_rng(6)
    x, w = rng.standard_normal((batch, *ins, cin)), rng.standard_normal((*ks, cout, cin))
    strides, dil = per_axis(strides, 2), per_axis(dil, 2)
    outs, crops = keras_transpose_geometry(ins, ks, strides, dil, padding, per_axis(output_padding, 2))
    full = torch.nn.functional.conv_transpose2d(torch.tensor(x).permute(0, 3, 1, 2),
                                                torch.tensor(w).permute(3, 2, 0, 1), stride=strides, dilation=dil)
    full = torch.nn.functional.pad(full, (0, max(0, crops[1] + outs[1] - full.shape[3]),
                                          0, max(0, crops[0] + outs[0] - full.shape[2])))
    want = full[:, :, crops[0]:crops[0] + outs[0], crops[1]:crops[1] + outs[1]].permute(0, 2, 3, 1).numpy()
    x, w = ad.array(x, "float64"), ad.array(w, "float64")
    got = np.asarray(ad.conv2d_transpose(x, w, strides=strides, padding=padding, output_padding=output_padding,
                                         dilation_rate=dil))
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)

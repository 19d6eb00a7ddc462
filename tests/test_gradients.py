"""Every differentiable op's gradient against central finite differences in float64 (no numpy)."""

import pytest

import pyautodiff as ad
from pyautodiff import _backend as B
from conftest import gradcheck, rand
from pyautodiff.ops.pool import AVG_POOL_GRAD, MAX_POOL_GRAD, _geometry, _pool
from pyautodiff.ops.indexing import PUT_ALONG, _along
from pyautodiff.ops.shape import REPEAT_GRAD, _index_spec, _repeat, _slice_grad

pos = lambda shape, seed: rand(shape, lo=0.5, hi=2.0, seed=seed)  # noqa: E731
idx = ad.array([2, 0, 2, 1])
labels = ad.array([2, 0])
F = ad.ops.nn
E = ad.ops.elementwise


def _pool_grad(op, x, g, *window):
    """a pooling op's adjoint (x selects for max pooling) over the windows of a 2-d pooling of x"""
    return _pool(op, x if op is MAX_POOL_GRAD else None, g, _geometry("test", x, 2, *window))


def _bias_act(y, g):
    dz, db = F.bias_act_grad(y, g, F.FUSED["sigmoid"])
    return ad.reduce_sum(dz * rand((2, 3), seed=84)) + ad.reduce_sum(db * rand((3,), seed=108))


def _conv_kernel_grad(x, g):
    """The kernel gradient of a convolution as a function of x and dy (the op conv_kernel_grad)."""
    w = rand((2, 3, 2, 3), seed=149)
    with ad.GradientTape() as tape:
        tape.watch(w)
        y = ad.conv2d(x, w, padding="same", dilation_rate=(1, 2))
    return tape.gradient(y, w, output_gradients=g) * rand((2, 3, 2, 3), seed=150)


def _rnn(cell, reverse=False, masked=False, recurrent_bias=False, dropped=False):
    """ad.ops.rnn.rnn's sequence of states (and cell states) weighted, for xw, the recurrent kernel, h0 (c0)."""
    gates = {"simple": 1, "lstm": 4, "gru": 3, "gru_before": 3}[cell]
    mask = ad.array([[1.0, 1.0], [0.0, 1.0], [1.0, 0.0]], "float64") if masked else None
    rmask = rand((2, 2), lo=0.5, hi=1.5, seed=182) if dropped else None

    def fn(xw, r, h0, *rest):
        c0 = rest[0] if cell == "lstm" else None
        rb = rest[-1] if recurrent_bias else None
        out = ad.ops.rnn.rnn(cell, xw, r, h0, c0, rb, mask, rmask, reverse=reverse)
        outs = out if isinstance(out, tuple) else (out,)
        return ad.add_n([o * rand((3, 2, 2), seed=180 + k) for k, o in enumerate(outs)])
    inputs = [rand((3, 2, 2 * gates), seed=183), rand((2, 2 * gates), seed=184), rand((2, 2), seed=185)]
    inputs += [rand((2, 2), seed=186)] if cell == "lstm" else []
    inputs += [rand((2 * gates,), seed=187)] if recurrent_bias else []
    return fn, inputs


@ad.custom_gradient
def _custom_softplus(x):
    """log(1 + e^x) with its gradient given by hand (an ad.custom_gradient)"""
    def grad(upstream):
        return upstream * ad.sigmoid(x)
    return ad.log1p(ad.exp(x)), grad


# op name -> (function of the inputs, inputs); each exercises broadcasting where the op broadcasts
def _normalize_grad_sum(x, gamma, dy, by_column):
    """A weighted sum of normalize_grad's three outputs, its statistics from the forward (not differentiated: the
    backward's vjp recomputes them from x)"""
    _, mean, variance = F.normalize(x, gamma, None, 1e-2, by_column)
    outs = F.normalize_grad(x, gamma, dy, mean, variance, 1e-2, by_column)
    return ad.add_n([ad.reduce_sum(t * rand(t.shape, seed=520 + i)) for i, t in enumerate(outs)])


CASES = {
    "negative": (ad.negative, [rand((2, 3), seed=1)]),
    "abs": (ad.abs, [rand((2, 3), seed=2)]),
    "square": (ad.square, [rand((2, 3), seed=3)]),
    "sqrt": (ad.sqrt, [pos((2, 3), 4)]),
    "exp": (ad.exp, [rand((2, 3), seed=5)]),
    "log": (ad.log, [pos((2, 3), 6)]),
    "log1p": (ad.log1p, [rand((2, 3), lo=-0.5, hi=2.0, seed=201)]),
    "expm1": (ad.expm1, [rand((2, 3), seed=202)]),
    "sigmoid": (ad.sigmoid, [rand((2, 3), lo=-3, hi=3, seed=7)]),
    "tanh": (ad.tanh, [rand((2, 3), seed=8)]),
    "relu": (ad.relu, [rand((2, 3), seed=9)]),
    "affine": (lambda x: ad.increment(x, 0.5, -2.0), [rand((2, 3), seed=10)]),
    "clip_by_value": (lambda x: ad.clip_by_value(x, -0.5, 0.5), [rand((3, 4), seed=11)]),
    "reciprocal": (ad.reciprocal, [pos((2, 3), 12)]),
    "add": (ad.add, [rand((2, 3), seed=13), rand((3,), seed=14)]),
    "subtract": (ad.subtract, [rand((2, 1), seed=15), rand((1, 3), seed=16)]),
    "multiply": (ad.multiply, [rand((2, 3), seed=17), rand((2, 1), seed=18)]),
    "divide": (ad.divide, [rand((2, 3), seed=19), pos((3,), 20)]),
    "pow": (ad.pow, [pos((2, 3), 21), rand((3,), seed=22)]),
    "maximum": (ad.maximum, [rand((2, 3), seed=23), rand((3,), seed=24)]),
    "minimum": (ad.minimum, [rand((2, 3), seed=25), rand((2, 1), seed=26)]),
    "sigmoid_grad": (ad.sigmoid_grad, [rand((2, 3), seed=27), rand((2, 3), seed=28)]),
    "tanh_grad": (ad.tanh_grad, [rand((2, 3), seed=29), rand((2, 3), seed=30)]),
    "relu_grad": (ad.relu_grad, [rand((2, 3), seed=31), rand((2, 3), seed=32)]),
    "where": (lambda a, b: ad.where(ad.array([[1, 0, 1]]), a, b), [rand((2, 3), seed=33), rand((2, 1), seed=34)]),
    "copy": (ad.copy, [rand((2, 3), seed=35)]),
    # values and step exact in float32, so the round trip through float32 loses nothing
    "cast": (lambda x: ad.cast(ad.cast(x, "float32"), "float64") * 1.5, [ad.array([0.5, -1.25], "float64")],
             {"eps": 2.0 ** -10}),
    "reshape": (lambda x: ad.reshape(x, (3, -1)) * rand((3, 2), seed=37), [rand((2, 3), seed=38)]),
    "transpose": (lambda x: ad.transpose(x, (2, 0, 1)) * rand((4, 2, 3), seed=39), [rand((2, 3, 4), seed=40)]),
    "broadcast_to": (lambda x: ad.broadcast_to(x, (2, 3, 2)) * rand((2, 3, 2), seed=41), [rand((3, 1), seed=42)]),
    "concat": (lambda a, b: ad.concat([a, b], 1) * rand((2, 5), seed=43), [rand((2, 2), seed=44), rand((2, 3), seed=45)]),
    "split": (lambda x: ad.split(x, [1, 3], 1)[1] * rand((2, 3), seed=46), [rand((2, 4), seed=47)]),
    "gather": (lambda x: ad.gather(x, idx, 0) * rand((4, 2), seed=48), [rand((3, 2), seed=49)]),
    "scatter_add": (lambda g: ad.ops.scatter_add(g, idx, 0, 3) * rand((3, 2), seed=50), [rand((4, 2), seed=51)]),
    "repeat": (lambda x: ad.repeat(x, [2, 0, 3], 1) * rand((2, 5), seed=145), [rand((2, 3), seed=146)]),
    "repeat_grad": (lambda g: _repeat(REPEAT_GRAD, g, {"axis": 0, "n": 2, "m": 4, "count": 2, "counts": None})
                    * rand((2, 3), seed=147), [rand((4, 3), seed=148)]),
    "slice": (lambda x: x[1:, ::2] * rand((2, 2), seed=52), [rand((3, 4), seed=53)]),
    "slice_grad": (lambda x: _slice_grad(x, (3, 4), _index_spec(ad.zeros((3, 4)), (slice(1, None), slice(None, None, 2))))
                   * rand((3, 4), seed=54), [rand((2, 2), seed=55)]),
    "reduce_sum": (lambda x: ad.reduce_sum(x, (0, 2)) * rand((3,), seed=56), [rand((2, 3, 2), seed=57)]),
    "reduce_mean": (lambda x: ad.reduce_mean(x, 1, keepdims=True) * rand((2, 1), seed=58), [rand((2, 3), seed=59)]),
    "reduce_max": (lambda x: ad.reduce_max(x, 1) * rand((2,), seed=60), [rand((2, 3), seed=61)]),
    "reduce_min": (lambda x: ad.reduce_min(x, 0) * rand((3,), seed=62), [rand((2, 3), seed=63)]),
    "reduce_prod": (lambda x: ad.reduce_prod(x, (0, 2)) * rand((3,), seed=203), [rand((2, 3, 2), seed=204)]),
    "reduce_prod with a zero": (lambda x: ad.reduce_prod(x * ad.array([1.0, 0.0, 1.0], "float64"), 1) * 1.5,
                                [rand((2, 3), seed=205)]),
    "cumsum": (lambda x: ad.cumsum(x, 1, exclusive=True) * rand((2, 3), seed=206), [rand((2, 3), seed=207)]),
    "cumprod": (lambda x: ad.cumprod(x, 0, reverse=True) * rand((3, 2), seed=208), [pos((3, 2), 209)]),
    "custom_gradient": (lambda x, w: _custom_softplus(x) * w, [rand((2, 3), seed=210), rand((2, 3), seed=211)]),
    "softmax": (lambda x: ad.softmax(x, 0) * rand((3, 2), seed=64), [rand((3, 2), seed=65)]),
    "log_softmax": (lambda x: ad.log_softmax(x) * rand((2, 3), seed=66), [rand((2, 3), seed=67)]),
    "matmul": (ad.matmul, [rand((2, 3), seed=68), rand((3, 4), seed=69)]),
    "function": (ad.Function(lambda a, b: ad.tanh(a) * b + ad.matmul(a, b, transpose_b=True)[0, 0]),
                 [rand((2, 3), seed=90), rand((2, 3), seed=91)]),
    # fused kernels of the model layer
    "dense": (lambda x, w, b: F.dense(x, w, b, "tanh") * rand((2, 4), seed=80),
              [rand((2, 3), seed=81), rand((3, 4), seed=82), rand((4,), seed=83)]),
    "dense_grad": (lambda x, w, y, g: ad.add_n([ad.reduce_sum(t * rand(t.shape, seed=130 + i)) for i, t in
                                                enumerate(F.dense_grad(x, w, y, g, F.FUSED["sigmoid"]))]),
                   [rand((2, 3), seed=131), rand((3, 4), seed=132), rand((2, 4), lo=0.1, hi=0.9, seed=133),
                    rand((2, 4), seed=134)]),
    "dense_grad without gx": (lambda x, w, y, g: ad.add_n([
        ad.reduce_sum(t * rand(t.shape, seed=140 + i))
        for i, t in enumerate(F.dense_grad(x, w, y, g, F.FUSED["tanh"], with_gx=False))]),
        [rand((2, 3), seed=141), rand((3, 4), seed=142), rand((2, 4), lo=-0.9, hi=0.9, seed=143),
         rand((2, 4), seed=144)]),
    "bias_act_grad": (_bias_act, [rand((2, 3), lo=0.1, hi=0.9, seed=85), rand((2, 3), seed=86)]),
    "sparse_softmax_cross_entropy": (lambda x: F.sparse_softmax_cross_entropy(labels, x) * rand((2,), seed=87),
                                     [rand((2, 3), seed=88)]),
    # layer / batch normalization (statistics per row / per column), one kernel each way; the backward's own vjp
    # differentiates it written with ops
    "normalize": (lambda x, g, b: F.normalize(x, g, b, 1e-3)[0] * rand((3, 5), seed=500),
                  [rand((3, 5), seed=501), rand((5,), seed=502), rand((5,), seed=503)]),
    "normalize by column": (lambda x, g, b: F.normalize(x, g, b, 0.5, by_column=True)[0] * rand((4, 3), seed=504),
                            [rand((4, 3), seed=505), rand((3,), seed=506), rand((3,), seed=507)]),
    "normalize without gamma and beta": (lambda x: F.normalize(x, None, None, 1e-3)[0] * rand((2, 6), seed=508),
                                         [rand((2, 6), seed=509)]),
    "normalize_grad": (lambda x, g, dy: _normalize_grad_sum(x, g, dy, False), [rand((3, 5), seed=510),
                       rand((5,), seed=511), rand((3, 5), seed=512)]),
    "normalize_grad by column": (lambda x, g, dy: _normalize_grad_sum(x, g, dy, True), [rand((4, 3), seed=513),
                                 rand((3,), seed=514), rand((4, 3), seed=515)]),
    "normalize_grad without gamma": (lambda x, dy: _normalize_grad_sum(x, None, dy, False), [rand((3, 5), seed=516),
                                     rand((3, 5), seed=517)]),
    "sparse_softmax_cross_entropy_grad": (
        lambda x, g: F.sparse_softmax_cross_entropy_grad(x, labels, g) * rand((2, 3), seed=89),
        [rand((2, 3), seed=90), rand((2,), seed=91)]),
    "sparse_softmax_cross_entropy mean": (lambda x: F.sparse_softmax_cross_entropy(labels, x, mean=True) * 1.7,
                                          [rand((2, 3), seed=110)]),
    "sparse_softmax_cross_entropy_grad mean": (
        lambda x, g: F.sparse_softmax_cross_entropy_grad(x, labels, g, mean=True) * rand((2, 3), seed=111),
        [rand((2, 3), seed=112), rand((), seed=113)]),
    "softmax_cross_entropy mean": (lambda x, z: F.softmax_cross_entropy(z, x, mean=True) * 1.3,
                                   [rand((2, 3), seed=114), rand((2, 3), lo=0, hi=1, seed=115)]),
    "softmax_cross_entropy_grad mean": (
        lambda x, z, g: F.softmax_cross_entropy_grad(x, z, g, mean=True) * rand((2, 3), seed=116),
        [rand((2, 3), seed=117), rand((2, 3), lo=0, hi=1, seed=118), rand((), seed=119)]),
    "softmax_cross_entropy": (lambda x, z: F.softmax_cross_entropy(z, x) * rand((2,), seed=92),
                              [rand((2, 3), seed=93), rand((2, 3), lo=0, hi=1, seed=94)]),
    "softmax_cross_entropy_grad": (lambda x, z, g: F.softmax_cross_entropy_grad(x, z, g) * rand((2, 3), seed=95),
                                   [rand((2, 3), seed=96), rand((2, 3), lo=0, hi=1, seed=97), rand((2,), seed=98)]),
    "sigmoid_cross_entropy": (lambda x, z: F.sigmoid_cross_entropy(z, x) * rand((2, 3), seed=99),
                              [rand((2, 3), lo=-3, hi=3, seed=100), rand((2, 3), lo=0, hi=1, seed=101)]),
    "sigmoid_cross_entropy_grad": (lambda x, z, g: F.sigmoid_cross_entropy_grad(x, z, g) * rand((2, 3), seed=102),
                                   [rand((2, 3), seed=103), rand((2, 3), lo=0, hi=1, seed=104),
                                    rand((2, 3), seed=105)]),
    "dropout": (lambda x: F.dropout(x, 0.5, F.RandomState(7)) * rand((2, 3), seed=106), [rand((2, 3), seed=107)]),
    # pooling (random inputs: no ties for max pooling), padding and upsampling
    "max_pool": (lambda x: ad.max_pool2d(x, (2, 3), (1, 2), "same") * rand((2, 3, 2, 2), seed=150),
                 [rand((2, 3, 4, 2), seed=151)]),
    "max_pool_grad": (lambda x, g: _pool_grad(MAX_POOL_GRAD, x, g, 2, 1, "valid") * rand((1, 3, 3, 2), seed=152),
                      [rand((1, 3, 3, 2), seed=153), rand((1, 2, 2, 2), seed=154)]),
    "avg_pool": (lambda x: ad.avg_pool2d(x, 3, 2, "same") * rand((1, 2, 3, 2), seed=155), [rand((1, 3, 5, 2), seed=156)]),
    "avg_pool_grad": (lambda x, g: _pool_grad(AVG_POOL_GRAD, x, g, 2, 1, "same") * rand((2, 2, 3, 1), seed=157),
                      [rand((2, 2, 3, 1), seed=158), rand((2, 2, 3, 1), seed=159)]),
    "max_pool1d": (lambda x: ad.max_pool1d(x, 3, 2, "same") * rand((2, 3, 2), seed=160), [rand((2, 5, 2), seed=161)]),
    "avg_pool3d": (lambda x: ad.avg_pool3d(x, 2, 1) * rand((1, 1, 2, 1, 2), seed=162), [rand((1, 2, 3, 2, 2), seed=163)]),
    "global_max_pool2d": (lambda x: ad.global_max_pool2d(x) * rand((2, 3), seed=164), [rand((2, 2, 2, 3), seed=165)]),
    "global_avg_pool1d": (lambda x: ad.global_avg_pool1d(x, True) * rand((2, 1, 3), seed=166), [rand((2, 4, 3), seed=167)]),
    "pad": (lambda x: ad.pad(x, [(1, 0), (0, 2)], 1.5) * rand((3, 5), seed=168), [rand((2, 3), seed=169)]),
    "zero_padding": (lambda x: ad.zero_padding(x, ((1, 0), (2, 1))) * rand((1, 3, 5, 2), seed=170),
                     [rand((1, 2, 2, 2), seed=171)]),
    "upsampling": (lambda x: ad.upsampling(x, (2, 3)) * rand((1, 4, 6, 2), seed=172), [rand((1, 2, 2, 2), seed=173)]),
    "conv": (lambda x, w: ad.conv2d(x, w, strides=(2, 1), padding="same", groups=2) * rand((2, 3, 4, 4), seed=151),
             [rand((2, 5, 4, 4), seed=152), rand((3, 2, 2, 4), seed=153)]),
    "conv_input_grad": (lambda x, w: ad.conv2d_transpose(x, w, strides=2, padding="same") * rand((1, 6, 4, 2), seed=154),
                        [rand((1, 3, 2, 3), seed=155), rand((3, 3, 2, 3), seed=156)]),
    "conv_kernel_grad": (_conv_kernel_grad, [rand((1, 4, 5, 2), seed=157), rand((1, 4, 5, 3), seed=158)]),
    "conv_bias_act": (lambda x, w, b: ad.ops.conv.conv_bias_act(2, x, w, b, "tanh", 2, "same") * rand((2, 2, 3, 3), seed=159),
                      [rand((2, 4, 5, 2), seed=160), rand((2, 2, 2, 3), seed=161), rand((3,), seed=162)]),
    # indexing (ops/indexing.py): index tuples with a duplicate, so gradients add up where they meet
    "gather_nd": (lambda x: ad.gather_nd(x, [[1, 0], [0, 2], [1, 0]]) * rand((3,), seed=501), [rand((2, 3), seed=502)]),
    "gather_nd batch_dims": (lambda x: ad.gather_nd(x, [[[1], [1]], [[0], [2]]], batch_dims=1) * rand((2, 2, 2), seed=503),
                             [rand((2, 3, 2), seed=504)]),
    "gather batch_dims": (lambda x: ad.gather(x, [[2, 0], [1, 1]], axis=2, batch_dims=1) * rand((2, 3, 2), seed=505),
                          [rand((2, 3, 4), seed=506)]),
    "scatter_nd": (lambda u: ad.scatter_nd([[1], [0], [1]], u, (2, 3)) * rand((2, 3), seed=507), [rand((3, 3), seed=508)]),
    "tensor_scatter_nd_add": (lambda x, u: ad.tensor_scatter_nd_add(x, [[0, 1], [0, 1]], u) * rand((2, 3), seed=509),
                              [rand((2, 3), seed=510), rand((2,), seed=511)]),
    "tensor_scatter_nd_update": (lambda x, u: ad.tensor_scatter_nd_update(x, [[0, 1], [1, 2]], u)
                                 * rand((2, 3), seed=512), [rand((2, 3), seed=513), rand((2,), seed=514)]),
    "take_along_axis": (lambda x: ad.sort(x, 0, "DESCENDING") * rand((4, 3), seed=515), [rand((4, 3), seed=516)]),
    "top_k": (lambda x: ad.top_k(x, 2)[0] * rand((3, 2), seed=517), [rand((3, 4), seed=518)]),
    "put_along_axis_add": (lambda g: _along(PUT_ALONG, g, ad.array([[3, 0], [3, 3]]), {"axis": 1, "n": 4})
                           * rand((2, 4), seed=519), [rand((2, 2), seed=520)]),
    "getitem advanced": (lambda x: x[[1, -1, 1], None, 1:] * rand((3, 1, 3), seed=521), [rand((3, 4), seed=522)]),
    "getitem mask": (lambda x: x[:, [True, False, True]] * rand((2, 2, 2), seed=523), [rand((2, 3, 2), seed=524)]),
    "boolean_mask": (lambda x: ad.boolean_mask(x, ad.array([[1.0, 0.0], [0.0, 2.0]]), axis=1) * rand((3, 2), seed=525),
                     [rand((3, 2, 2), seed=526)]),
    "shuffle": (lambda x: ad.random.shuffle(x, axis=1, seed=5) * rand((2, 4), seed=527), [rand((2, 4), seed=528)]),
    # sequence ops: smooth activations and their derivative ops (kinks avoided), reductions, masks, einsum
    "sin": (ad.sin, [rand((2, 3), lo=-3, hi=3, seed=500)]),
    "cos": (ad.cos, [rand((2, 3), lo=-3, hi=3, seed=501)]),
    "erf": (ad.erf, [rand((2, 3), lo=-2, hi=2, seed=502)]),
    "erf_derivative": (E.erf_derivative, [rand((2, 3), lo=-2, hi=2, seed=503)]),
    "gelu": (ad.gelu, [rand((2, 3), lo=-3, hi=3, seed=504)]),
    "gelu tanh": (lambda x: ad.gelu(x, approximate=True), [rand((2, 3), lo=-3, hi=3, seed=505)]),
    "gelu_derivative": (E.gelu_derivative, [rand((2, 3), lo=-3, hi=3, seed=506)]),
    "gelu_derivative tanh": (lambda x: E.gelu_derivative(x, 1.0), [rand((2, 3), lo=-3, hi=3, seed=507)]),
    "silu": (ad.silu, [rand((2, 3), lo=-4, hi=4, seed=508)]),
    "silu_derivative": (E.silu_derivative, [rand((2, 3), lo=-4, hi=4, seed=509)]),
    "mish": (ad.mish, [rand((2, 3), lo=-4, hi=4, seed=510)]),
    "mish_derivative": (E.mish_derivative, [rand((2, 3), lo=-4, hi=4, seed=511)]),
    "leaky_relu": (lambda x: ad.leaky_relu(x, 0.3), [ad.array([[-1.5, -0.2, 0.4], [0.9, -2.0, 1.7]], "float64")]),
    "elu": (lambda x: ad.elu(x, 0.7), [ad.array([[-1.5, -0.2, 0.4], [0.9, -2.0, 1.7]], "float64")]),
    "elu_derivative": (lambda x: E.elu_derivative(x, 1.3), [ad.array([[-1.5, -0.2, 0.4], [0.9, -2.0, 1.7]], "float64")]),
    "logsumexp": (lambda x: ad.logsumexp(x, (0, 2), keepdims=True) * rand((1, 3, 1), seed=512),
                  [rand((2, 3, 2), lo=-3, hi=3, seed=513)]),
    "softmax with a mask": (lambda x: ad.softmax(x, -1, mask=ad.array([[1, 0, 1], [0, 0, 0]])) * rand((2, 3), seed=514),
                            [rand((2, 3), seed=515)]),
    "softmax over two axes": (lambda x: ad.softmax(x, (0, 1)) * rand((2, 3), seed=516), [rand((2, 3), seed=517)]),
    "tile": (lambda x: ad.tile(x, (2, 1, 3)) * rand((2, 2, 6), seed=518), [rand((2, 2), seed=519)]),
    "bandpart": (lambda x: ad.bandpart(x, 1, 0) * rand((2, 3, 3), seed=520), [rand((2, 3, 3), seed=521)]),
    "einsum": (lambda q, k: ad.einsum("aecd,abcd->acbe", k, q) * rand((1, 2, 3, 2), seed=522),
               [rand((1, 3, 2, 2), seed=523), rand((1, 2, 2, 2), seed=524)]),
    "einsum with ellipsis": (lambda a, b: ad.einsum("...ij,...jk->...ik", a, b) * rand((2, 2, 3), seed=525),
                             [rand((2, 2, 2), seed=526), rand((1, 2, 3), seed=527)]),
    "einsum of three": (lambda a, b, c: ad.einsum("ab,bc,cd->ad", a, b, c) * rand((2, 2), seed=528),
                        [rand((2, 3), seed=529), rand((3, 2), seed=530), rand((2, 2), seed=531)]),
    "rnn": _rnn("lstm", reverse=True, masked=True, dropped=True),
    "rnn simple": _rnn("simple", masked=True),
    "rnn gru": _rnn("gru", reverse=True, masked=True, recurrent_bias=True, dropped=True),
    "rnn gru_before": _rnn("gru_before", masked=True, dropped=True),
    "conv1d_transpose": (lambda x, w: ad.conv1d_transpose(x, w, 2, output_padding=1) * rand((1, 8, 2), seed=174),
                         [rand((1, 3, 2), seed=175), rand((3, 2, 2), seed=176)]),
    "conv3d_transpose": (lambda x, w: ad.conv3d_transpose(x, w, (1, 2, 1), "same") * rand((1, 2, 2, 2, 1), seed=177),
                         [rand((1, 2, 1, 2, 2), seed=178), rand((2, 2, 1, 1, 2), seed=179)]),
    # depthwise loops: 19 float64 channels are a block of 16 in vector registers and a tail of 3
    "conv depthwise": (lambda x, w: ad.conv2d(x, w, groups=19) * rand((1, 2, 3, 19), seed=180),
                       [rand((1, 3, 4, 19), seed=181), rand((2, 2, 1, 19), seed=182)]),
}

# every activation of the C rows and its fused backward, with no case written by hand: the backward's y comes
# out of the activation, as in use
for _i, _name in enumerate(B.ACTIVATIONS):
    _f, _fg = getattr(ad, _name), getattr(ad, _name + "_grad")
    CASES.setdefault(_name, (_f, [rand((2, 3), lo=-3, hi=3, seed=200 + _i)]))
    CASES.setdefault(_name + "_grad", (lambda x, g, f=_f, fg=_fg: fg(f(x), g),
                                       [rand((2, 3), lo=-3, hi=3, seed=300 + _i), rand((2, 3), seed=400 + _i)]))

MATMUL_VARIANTS = [
    ((3, 2), (3, 4), True, False), ((2, 3), (4, 3), False, True), ((3, 2), (4, 3), True, True),
    ((2, 2, 3), (3, 4), False, False), ((3, 4), (2, 4, 2), False, False), ((2, 1, 2, 3), (3, 3, 2), False, False),
]


def test_every_differentiable_op_has_a_case():
    differentiable = {name for name, op in ad.ops.OPS.items() if op.vjp is not None}
    refusing = {"rnn_grad"}  # (its vjp raises: tests/test_recurrent.py checks that)
    assert differentiable - set(CASES) - refusing == set(), "add a gradcheck case for the new op"


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradient_matches_finite_differences(name):
    fn, inputs, *options = CASES[name]
    gradcheck(fn, inputs, **(options[0] if options else {}))


@pytest.mark.parametrize("sa,sb,ta,tb", MATMUL_VARIANTS)
def test_matmul_variants(sa, sb, ta, tb):
    gradcheck(lambda a, b: ad.matmul(a, b, ta, tb), [rand(sa, seed=70), rand(sb, seed=71)])


@pytest.mark.parametrize("name", sorted({"exp", "log", "sqrt", "square", "divide", "matmul", "softmax", "log_softmax",
                                         "pow", "reduce_max", "log1p", "expm1", "reduce_prod", "cumprod",
                                         "custom_gradient", "sparse_softmax_cross_entropy mean", "gather_nd",
                                         "tensor_scatter_nd_update", "take_along_axis", "getitem advanced",
                                         "softmax_cross_entropy mean", "softmax_cross_entropy", "dense",
                                         "dense_grad", "sin", "cos", "erf", "erf_derivative", "gelu", "gelu tanh",
                                         "gelu_derivative", "gelu_derivative tanh", "silu", "silu_derivative", "mish",
                                         "mish_derivative", "elu", "elu_derivative", "logsumexp", "softmax with a mask",
                                         "einsum", "conv_bias_act", "normalize", "normalize by column",
                                         "normalize_grad", "normalize_grad by column"} | set(B.ACTIVATIONS) - {"relu"}))
def test_second_order(name):
    """The gradient of the (sum of the) gradient: vjps are differentiable too."""
    fn, inputs, *_ = CASES[name]

    def first_grad_sum(*xs):
        srcs = [x for x in xs if isinstance(x, ad.Tensor)]
        with ad.GradientTape() as t:
            for s in srcs:
                t.watch(s)
            y = ad.reduce_sum(fn(*xs))
        return ad.add_n([ad.reduce_sum(g * g) for g in t.gradient(y, srcs, unconnected_gradients="zero")])
    gradcheck(first_grad_sum, inputs, rtol=1e-4)

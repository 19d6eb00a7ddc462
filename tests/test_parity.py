"""Native and WebAssembly kernels give the same results on a fixed set of inputs.

The native build writes its results to parity_native.json (run this file as a script to refresh it
after changing a kernel); the native run checks the file is current, the Pyodide run compares
against it. Tolerance per kernel: bit-identical where both builds do the same operations in the same
order; libm functions (exp, log, tanh, pow, ...) come from different C libraries and matmul uses
different vector widths (FMA natively), so those agree to a few ulps.

Convolutions (their forward and both gradients, each case one list y + dx + dw) are sums of products
accumulated in a different order and with FMA natively (vector widths: the GEMM's panels, the depthwise
loops' channel blocks), so they agree to CONV_ULPS ulps of the largest magnitude in the case (the error of
a sum is relative to the sum of its terms' magnitudes, not to a result that cancels out).
"""

import json
import os
import sys

import pyautodiff as ad

GOLDEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "parity_native.json")
ULPS = {"float32": 2.0 ** -21, "float64": 2.0 ** -50}  # about 4 ulps, relative
# 8 ulps of the case's largest magnitude; measured native (AVX2 + FMA) vs Pyodide: at most 1.45 in both dtypes
CONV_ULPS = {"float32": 2.0 ** -20, "float64": 2.0 ** -49}
LIBM = {"sqrt": 0, "exp": 1, "log": 1, "sigmoid": 1, "tanh": 1, "pow": 1, "softmax": 1, "log_softmax": 1,
        "matmul": 1, "matmul_t": 1, "random_normal": 1}


def _inputs(dtype):
    x = ad.reshape(ad.array([((i * 37) % 23 - 11) / 7.0 for i in range(24)], dtype), (2, 3, 4))
    y = ad.reshape(ad.array([((i * 11) % 17 + 1) / 5.0 for i in range(12)], dtype), (3, 4))
    return x, y


def cases():
    """name -> function of nothing returning a Tensor; covers every kernel of the header."""
    out = {}
    for dtype in ("float32", "float64"):
        x, y = _inputs(dtype)

        def add(name, fn, dtype=dtype):
            out[f"{name}/{dtype}"] = fn
        for name in ("negative", "abs", "square", "exp", "sigmoid", "tanh", "relu", "sign"):
            add(name, lambda name=name, x=x: getattr(ad, name)(x))
        add("sqrt", lambda: ad.sqrt(y))
        add("log", lambda: ad.log(y))
        add("reciprocal", lambda: ad.reciprocal(y))
        add("affine", lambda: ad.increment(x, 0.25, -1.5))
        add("clip", lambda: ad.clip_by_value(x, -0.5, 0.75))
        for name in ("add", "subtract", "multiply", "divide", "maximum", "minimum", "greater", "equal"):
            add(name, lambda name=name, x=x, y=y: getattr(ad, name)(x, y))
        add("pow", lambda: ad.pow(y, x))
        add("where", lambda: ad.where(ad.greater(x, 0.0), x, y))
        add("reduce_sum", lambda: ad.reduce_sum(x, (0, 2)))
        add("reduce_max", lambda: ad.reduce_max(x, 1))
        add("softmax", lambda: ad.softmax(x, 1))
        add("log_softmax", lambda: ad.log_softmax(x))
        add("argmax", lambda: ad.argmax(x, 2))
        add("matmul", lambda: ad.matmul(x, y, transpose_b=True))
        add("matmul_t", lambda: ad.matmul(ad.reshape(x, (6, 4)), ad.reshape(x, (6, 4)), transpose_a=True))
        add("transpose", lambda: ad.transpose(x, (2, 0, 1)))
        add("concat", lambda: ad.concat([x, x], 1))
        add("gather", lambda: ad.gather(x, [2, 0, 2], 1))
        add("scatter_add", lambda: ad.ops.scatter_add(y, [1, 1, 0], 0, 2))
        add("cast", lambda: ad.cast(ad.scale(3.0, x), "int32"))
        add("one_hot", lambda: ad.one_hot([2, 0, 1], 3, dtype))
        add("random_normal", lambda: _random(1, dtype))
        add("random_uniform", lambda: _random(0, dtype))
        for name, fn in CONV_CASES.items():
            add(name, lambda fn=fn, dtype=dtype: _conv_case(fn, dtype))
    return out


def _wave(shape, seed, dtype):
    n = 1
    for d in shape:
        n *= d
    return ad.reshape(ad.array([((i * 7919 + seed * 104729) % 211 - 105) / 53.0 for i in range(n)], dtype), shape)


# name -> (conv(x, w), x shape, w shape): the GEMM path, the depthwise loops (20 channels: a vector block plus a
# tail in wasm, the tail alone natively), dilation and causal padding, 3-d, a transposed convolution
CONV_CASES = {
    "conv2d_gemm": (lambda x, w: ad.conv2d(x, w, padding="same"), (2, 5, 6, 3), (3, 3, 3, 4)),
    "conv2d_depthwise": (lambda x, w: ad.conv2d(x, w, 2, "same", groups=20), (1, 5, 5, 20), (3, 3, 1, 20)),
    "conv2d_depthwise_dm2": (lambda x, w: ad.conv2d(x, w, groups=3), (2, 4, 5, 3), (2, 2, 1, 6)),
    "conv1d_causal_groups": (lambda x, w: ad.conv1d(x, w, 1, "causal", 2, groups=2), (2, 7, 4), (2, 2, 4)),
    "conv3d": (lambda x, w: ad.conv3d(x, w), (1, 3, 4, 3, 2), (2, 2, 2, 2, 3)),
    "conv2d_transpose": (lambda x, w: ad.conv2d_transpose(x, w, 2, "same"), (1, 3, 3, 4), (3, 3, 2, 4)),
}


def _conv_case(case, dtype):
    """y, dx and dw of sum(y * g), flattened into one tensor"""
    fn, xshape, wshape = case
    x, w = _wave(xshape, 1, dtype), _wave(wshape, 2, dtype)
    with ad.GradientTape() as tape:
        tape.watch(x)
        tape.watch(w)
        y = fn(x, w)
        loss = ad.reduce_sum(y * _wave(y.shape, 3, dtype))
    return ad.concat([ad.reshape(t, (t.size,)) for t in [y] + tape.gradient(loss, [x, w])], 0)


def _random(dist, dtype):
    from pyautodiff import _backend as B
    from pyautodiff.dtypes import CODE
    t = ad.zeros((16,), dtype)
    assert B.lib.ad_random(dist, CODE[dtype], 16, 1234, 0.0, 1.0, t._ptr) == 0
    return t


def _flat(t):
    v = t.tolist()
    stack, out = [v], []
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(reversed(item))
        else:
            out.append(item)
    return out


def results():
    return {name: _flat(fn()) for name, fn in cases().items()}


def test_parity_with_native_results():
    with open(GOLDEN) as f:
        golden = json.load(f)
    got = results()
    assert set(got) == set(golden), "refresh tests/parity_native.json: python tests/test_parity.py"
    for name, values in got.items():
        kernel, dtype = name.split("/")
        tol = ULPS[dtype] if kernel in LIBM else 0.0
        scale = CONV_ULPS[dtype] * max(map(abs, golden[name])) if kernel in CONV_CASES else 0.0
        for a, b in zip(values, golden[name]):
            assert abs(a - b) <= max(tol * max(abs(a), abs(b), 1e-30), scale), \
                f"{name}: {a!r} != {b!r} (tolerance {tol}, absolute {scale})"
        assert len(values) == len(golden[name]), name


if __name__ == "__main__" and sys.platform != "emscripten":
    with open(GOLDEN, "w") as f:
        json.dump(results(), f, indent=0)
    print(f"wrote {GOLDEN}")

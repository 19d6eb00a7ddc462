"""Native and WebAssembly kernels give the same results on a fixed set of inputs.

The native build writes its results to parity_native.json (run this file as a script to refresh it
after changing a kernel); the native run checks the file is current, the Pyodide run compares
against it. Tolerance per kernel: bit-identical where both builds do the same operations in the same
order; libm functions (exp, log, tanh, pow, ...) come from different C libraries and matmul uses
different vector widths (FMA natively), so those agree to a few ulps.
"""

import json
import os
import sys

import pyautodiff as ad

GOLDEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "parity_native.json")
ULPS = {"float32": 2.0 ** -21, "float64": 2.0 ** -50}  # about 4 ulps, relative
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
    return out


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
        for a, b in zip(values, golden[name]):
            assert abs(a - b) <= tol * max(abs(a), abs(b), 1e-30), f"{name}: {a!r} != {b!r} (tolerance {tol})"
        assert len(values) == len(golden[name]), name


if __name__ == "__main__" and sys.platform != "emscripten":
    with open(GOLDEN, "w") as f:
        json.dump(results(), f, indent=0)
    print(f"wrote {GOLDEN}")

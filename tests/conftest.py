"""Shared test helpers: gradcheck (central finite differences in float64) and random inputs."""

import os
import random

import pytest

# the GEMM's tuning at the first large product (~0.3 s, plans that depend on the machine's load): off for the suite,
# whose children inherit this; tests/test_gemm_autotune.py turns it on where it tests it
os.environ.setdefault("PYAUTODIFF_GEMM_AUTOTUNE", "0")

import pyautodiff as ad  # noqa: E402


def _flat(t):
    v = t.tolist()
    out = []

    def walk(x):
        if isinstance(x, list):
            for y in x:
                walk(y)
        else:
            out.append(x)
    walk(v)
    return out


def _with_value(t, i, value):
    flat = _flat(t)
    flat[i] = value
    return ad.reshape(ad.array(flat, dtype=t.dtype), t.shape)


def gradcheck(fn, inputs, eps=1e-6, rtol=1e-5, atol=1e-7):
    """Check tape.gradient of sum(fn(*inputs)) against central differences, every input element.

    inputs are float64 tensors; non-tensor arguments are not differentiated.
    """
    inputs = list(inputs)
    srcs = [x for x in inputs if isinstance(x, ad.Tensor)]
    with ad.GradientTape() as tape:
        for x in srcs:
            tape.watch(x)
        y = fn(*inputs)
    grads = tape.gradient(y, srcs, unconnected_gradients="zero")
    for k, x in enumerate(srcs):
        analytic = _flat(grads[k])
        assert grads[k].shape == x.shape, (grads[k].shape, x.shape)
        base = _flat(x)
        for i in range(x.size):
            vals = []
            for sign in (1, -1):
                args = [(_with_value(a, i, base[i] + sign * eps) if a is x else a) for a in inputs]
                vals.append(float(ad.reduce_sum(fn(*args))))
            numeric = (vals[0] - vals[1]) / (2 * eps)
            assert abs(numeric - analytic[i]) <= atol + rtol * max(abs(numeric), abs(analytic[i])) * 10, \
                f"input {k} element {i}: numeric {numeric} vs analytic {analytic[i]}"


def rand(shape, dtype="float64", lo=-1.0, hi=1.0, seed=None):
    rng = random.Random(seed if seed is not None else hash(shape) & 0xFFFF)
    n = 1
    for d in shape:
        n *= d
    flat = [rng.uniform(lo, hi) for _ in range(n)]
    return ad.reshape(ad.array(flat, dtype=dtype), shape) if shape else ad.array(flat[0], dtype=dtype)


@pytest.fixture
def gc():
    return gradcheck

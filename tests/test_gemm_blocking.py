"""The GEMM's run-time blocking (issue 18): blocks derived from the caches, PYAUTODIFF_GEMM_BLOCKING, and the
recurrent layers' products against a kernel packed once (ad_pack_b), each checked under several blockings."""

import json
import os
import subprocess
import sys

import pytest

import pyautodiff as ad
from pyautodiff import layers as L
from pyautodiff.ops import rnn as rnn_ops
from test_recurrent import numpy_rnn

HERE = os.path.dirname(os.path.abspath(__file__))
# (m, k, n): power-of-two leading dimensions (b's rows 2-8 KiB apart) and odd ones, none a multiple of any block;
# narrow ones (the 8 x 8 float tile, n <= 12) and last panels of a few columns (the small path: n = 515, 67, 26)
PRODUCTS = [(128, 256, 512), (100, 130, 1024), (33, 2048, 70), (130, 257, 1023), (513, 129, 67), (9, 20, 30),
            (6, 700, 2048), (260, 1000, 515), (128, 512, 10), (130, 515, 11), (600, 200, 12), (77, 300, 5),
            (50, 300, 26)]
# blockings to run the checks under: the smallest (every block one tile, depth 1), odd sizes (ragged blocks of
# every kind), the old fixed ones, larger than every product (one block, deep)
BLOCKINGS = ["1,1,1", "13,37,100", "144,256,4032", "4000,3000,8000"]


def check_products(np) -> None:
    """ad.matmul against numpy in float64, both dtypes, every transpose, within float rounding of |a| @ |b|."""
    rng = np.random.default_rng(3)
    for dtype in ("float32", "float64"):
        for m, k, n in PRODUCTS:
            a, b = rng.uniform(-1, 1, (m, k)).astype(dtype), rng.uniform(-1, 1, (k, n)).astype(dtype)
            want, size = a.astype(np.float64) @ b, np.abs(a).astype(np.float64) @ np.abs(b)
            for ta in (False, True):
                for tb in (False, True):
                    got = np.asarray(ad.matmul(ad.array(a.T.copy() if ta else a), ad.array(b.T.copy() if tb else b),
                                               ta, tb))
                    bound = 2 * k * np.finfo(dtype).eps * size
                    assert np.all(np.abs(got - want) <= bound), (dtype, m, k, n, ta, tb)


def check_rnn_exact(np) -> None:
    """A linear SimpleRNN (h = xw + h @ r) in one call equals the same steps written with ad.matmul bit for bit,
    forward and the gradients of the inputs and the initial state: the kernel packed once gives ad_matmul's sums.
    The recurrent kernel's gradient is one product over all steps in the kernel (other sums): within rounding."""
    rng = np.random.default_rng(5)
    for dtype in ("float32", "float64"):
        for batch, units in [(16, 48), (40, 100), (7, 130), (64, 256)]:  # (the last split over threads)
            xw, r, h0, up = (ad.Variable(ad.array(rng.uniform(-0.5, 0.5, s).astype(dtype)))
                             for s in [(6, batch, units), (units, units), (batch, units), (6, batch, units)])
            with ad.GradientTape(persistent=True) as tape:
                fused = rnn_ops.rnn("simple", xw, r, h0, activation="linear")
                h, steps = h0, []
                for t in range(6):
                    h = xw[t] + ad.matmul(h, r)
                    steps.append(h)
                stepped = ad.stack(steps)
                losses = [ad.reduce_sum(y * up) for y in (fused, stepped)]
            assert np.asarray(fused).tobytes() == np.asarray(stepped).tobytes(), (dtype, batch, units)
            g_fused, g_stepped = (tape.gradient(loss, [xw, h0, r]) for loss in losses)
            for g, want in zip(g_fused[:2], g_stepped[:2]):
                assert np.asarray(g).tobytes() == np.asarray(want).tobytes(), (dtype, batch, units)
            tol = (1e-4 if dtype == "float32" else 1e-12) * np.abs(np.asarray(g_stepped[2])).max()
            assert np.abs(np.asarray(g_fused[2]) - np.asarray(g_stepped[2])).max() <= tol


def check_rnn_against_numpy(np) -> None:
    """LSTM and both GRUs in float64 at sizes whose per-step products are packed: outputs against numpy's loops,
    gradients (inputs and every weight) against central differences along random directions."""
    rng = np.random.default_rng(6)
    for kind, cls, extra in [("lstm", L.LSTM, {}), ("gru", L.GRU, {}), ("gru", L.GRU, {"reset_after": False}),
                             ("simple", L.SimpleRNN, {})]:
        x = rng.normal(size=(16, 5, 7))
        layer = cls(48, return_sequences=True, dtype="float64", **extra)
        layer(ad.array(x))
        weights = [rng.uniform(-0.3, 0.3, w.shape) for w in layer.get_weights()]
        layer.set_weights([ad.array(w) for w in weights])
        seq, _, _ = numpy_rnn(np, kind, x, weights, np.zeros((16, 48)), np.zeros((16, 48)), None, False,
                              extra.get("reset_after", True))
        assert np.allclose(np.asarray(layer(ad.array(x))), seq, rtol=0, atol=1e-12), kind
        up, xv = ad.array(rng.normal(size=seq.shape)), ad.Variable(ad.array(x))
        with ad.GradientTape() as tape:
            loss = ad.reduce_sum(layer(xv) * up)
        grads = [np.asarray(g) for g in tape.gradient(loss, [xv] + layer.trainable_weights)]

        def loss_at(values):
            layer.set_weights([ad.array(w) for w in values[1:]])
            return float(ad.reduce_sum(layer(ad.array(values[0])) * up))
        for i, g in enumerate(grads):
            d, values = rng.normal(size=g.shape), [x] + weights
            plus, minus = ([v + s * 1e-6 * d if j == i else v for j, v in enumerate(values)] for s in (1, -1))
            numeric = (loss_at(plus) - loss_at(minus)) / 2e-6
            assert abs(numeric - float(np.sum(g * d))) <= 1e-6 * max(1.0, abs(numeric)), (kind, extra, i)
        layer.set_weights([ad.array(w) for w in weights])


def test_products_and_recurrent_layers_under_the_default_blocking():
    np = pytest.importorskip("numpy")
    check_products(np)
    check_rnn_exact(np)
    check_rnn_against_numpy(np)


CHILD = f"""
import json, sys, numpy as np
sys.path.insert(0, {HERE!r})
import pyautodiff as ad, test_gemm_blocking as t
ad.set_num_threads(int(sys.argv[1]))
t.check_products(np); t.check_rnn_exact(np); t.check_rnn_against_numpy(np)
print(json.dumps(ad.backend_info()["gemm"]))
"""


def run_child(blocking, threads: int = 1, simd: str = "", code: str = CHILD):
    env = {**os.environ, "PYAUTODIFF_SIMD": simd}
    env.pop("PYAUTODIFF_GEMM_BLOCKING", None)
    if blocking is not None:
        env["PYAUTODIFF_GEMM_BLOCKING"] = blocking
    return subprocess.run([sys.executable, "-c", code, str(threads)], capture_output=True, text=True, timeout=600,
                          env=env)


native = pytest.mark.skipif(sys.platform == "emscripten", reason="a native subprocess with its own environment")


@native
@pytest.mark.parametrize("blocking", [None] + BLOCKINGS)
@pytest.mark.parametrize("threads", [1, 2])
def test_products_and_recurrent_layers_under_other_blockings(blocking, threads):
    pytest.importorskip("numpy")
    out = run_child(blocking, threads)
    assert out.returncode == 0, out.stderr
    gemm = json.loads(out.stdout.splitlines()[-1])
    if blocking is None:  # (the model's, checked by test_backend_info_shows_the_blocking_and_its_model)
        return
    assert gemm["source"] == "PYAUTODIFF_GEMM_BLOCKING"
    mc, kc, nc = map(int, blocking.split(","))
    for name, b in gemm["blocking"].items():  # mc and nc rounded down to whole tiles, at least one
        assert (b["mc"], b["kc"], b["nc"]) == (max(b["mr"], mc // b["mr"] * b["mr"]), kc,
                                               max(b["nr"], nc // b["nr"] * b["nr"])), name


@native
@pytest.mark.parametrize("simd", ["avx2", "baseline"])
def test_other_simd_widths_under_an_odd_blocking(simd):
    pytest.importorskip("numpy")
    out = run_child("13,37,100", 2, simd)
    assert out.returncode == 0, out.stderr


def test_backend_info_shows_the_blocking_and_its_model():
    """Each variant's blocks are whole tiles; derived from the caches as documented (AVX-512's 8 x 32 tile with its
    own depth block), or the fixed ones."""
    info = ad.backend_info()
    gemm = info["gemm"]
    assert set(gemm) == {"blocking", "caches", "source"} and set(gemm["caches"]) == {"l1d", "l2", "l3"}
    assert gemm["caches"]["l2"] == info["l2_bytes"] and gemm["blocking"]
    assert gemm["source"] in ("cpuid", "sysfs", "fixed", "PYAUTODIFF_GEMM_BLOCKING")
    if info["simd_bytes"] <= 16:
        assert set(gemm["blocking"]) == {"f32_v16", "f64_v16"}
    else:
        assert {"f32_avx2", "f32_avx2_8x8", "f64_avx2"} <= set(gemm["blocking"]) <= {
            "f32_avx512", "f32_avx512_8x8", "f32_avx2", "f32_avx2_8x8", "f64_avx2"}
        assert ("f32_avx512" in gemm["blocking"]) == ("f32_avx512_8x8" in gemm["blocking"]) == \
            (info["simd_bytes"] == 64)
    l1d, l2, l3 = (gemm["caches"][c] for c in ("l1d", "l2", "l3"))
    for name, b in gemm["blocking"].items():
        assert b["mc"] % b["mr"] == 0 and b["nc"] % b["nr"] == 0 and b["kc"] >= 1, name
        es = 4 if name.startswith("f32") else 8
        if gemm["source"] in ("cpuid", "sysfs") and l1d:
            kc = 512 if name == "f32_avx512" else (l1d // 2 // (b["nr"] * es) + 127) // 128 * 128  # (KC: fixed)
            mc = l2 // 4 // (kc * es) if l2 else (144 if es == 4 else 96)
            nc = min(4032, l3 // 2 // (kc * es) // 96 * 96) if l3 else 4032
            assert (b["kc"], b["mc"], b["nc"]) == (kc, max(b["mr"], mc // b["mr"] * b["mr"]),
                                                   max(b["nr"], nc // b["nr"] * b["nr"])), name
        elif gemm["source"] == "fixed":
            assert (b["mc"], b["kc"], b["nc"]) == ((144 if es == 4 else 96), 256, 4032), name


@native
def test_an_empty_override_is_unset():
    code = "import sys, json, pyautodiff as ad; print(json.dumps(ad.backend_info()['gemm']))"
    unset, empty = run_child(None, code=code), run_child("", code=code)
    assert unset.returncode == 0 and empty.returncode == 0, unset.stderr + empty.stderr
    assert json.loads(unset.stdout) == json.loads(empty.stdout)
    assert json.loads(empty.stdout)["source"] != "PYAUTODIFF_GEMM_BLOCKING"


@native
@pytest.mark.parametrize("value", ["1,2", "a,b,c", "0,256,4032", "144,256,65537", "144,256,4032,", "144, 256,4032",
                                   "-1,256,4032", "144,256,99999999999999999999999", ",,", "144;256;4032"])
def test_a_malformed_override_fails_the_import_clearly(value):
    out = run_child(value, code="import pyautodiff")
    assert out.returncode != 0
    assert "ValueError: PYAUTODIFF_GEMM_BLOCKING=" in out.stderr and "'mc,kc,nc'" in out.stderr, out.stderr

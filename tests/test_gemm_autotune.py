"""The GEMM's plans tuned at the first large product and cached per machine (issue 18, pyautodiff/_gemm_tune.py): the
cache file written, read, keyed and ignored when corrupt; precedence of the overrides; products correct under the
tuned plans; the kernels that set and time plans validate their arguments."""

import json
import os
import platform
import subprocess
import sys

import pytest

import pyautodiff as ad
from pyautodiff import _backend, _gemm_tune

HERE = os.path.dirname(os.path.abspath(__file__))
lib, C = _backend.lib, _backend.C
native = pytest.mark.skipif(sys.platform == "emscripten" or not lib.ad_gemm_can_tune(),
                            reason="tuning needs a native build without sanitizers (and a subprocess)")

# a child: an optional small product first, then the first large one (matmul, a Dense or Conv2D layer, or the LSTM's
# recurrence), then the products
# checked against numpy under whatever plan is installed; prints backend_info()["gemm"] before and after
CHILD = f"""
import json, sys, numpy as np
sys.path.insert(0, {HERE!r})
import pyautodiff as ad, test_gemm_blocking as t
before = ad.backend_info()["gemm"]
ad.matmul(ad.ones((8, 8)), ad.ones((8, 8)))
small = ad.backend_info()["gemm"]
if sys.argv[1] == "dense":
    ad.layers.Dense(512)(ad.ones((128, 784)))
elif sys.argv[1] == "conv":
    ad.layers.Conv2D(32, 3, activation="relu")(ad.ones((64, 28, 28, 1)))
elif sys.argv[1] == "rnn":  # (the per-step products alone: the LSTM layer's input product would come first)
    from pyautodiff.ops import rnn
    rnn.rnn("lstm", ad.ones((50, 32, 512)), ad.ones((128, 512)), ad.ones((32, 128)), ad.ones((32, 128)))
else:
    ad.matmul(ad.ones((128, 784)), ad.ones((784, 512)))
large = ad.backend_info()["gemm"]  # (right after the first large product: the checks below would tune too)
t.PRODUCTS = [(130, 257, 1023), (128, 784, 512), (33, 2048, 70)]  # (ragged under every plan; in place or not)
t.check_products(np)
assert ad.backend_info()["gemm"] == large
print(json.dumps([before, small, large, ad.backend_info()["gemm_b_in_place"]]))
"""


def run(tmp_path, first="matmul", **env):
    """(gemm info before any product, after a small one, after the large one) in a child with the cache under
    tmp_path and the tuning on, env's variables set (None: removed)."""
    full = {**os.environ, "XDG_CACHE_HOME": str(tmp_path), "PYAUTODIFF_GEMM_AUTOTUNE": "1"}
    for name in ("PYAUTODIFF_GEMM_BLOCKING", "PYAUTODIFF_GEMM_B_IN_PLACE", "PYAUTODIFF_SIMD"):
        full.pop(name, None)
    full.update({k: v for k, v in env.items() if v is not None})
    for k in [k for k, v in env.items() if v is None]:
        full.pop(k, None)
    out = subprocess.run([sys.executable, "-c", CHILD, first], capture_output=True, text=True, timeout=600, env=full)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.splitlines()[-1])


def cache(tmp_path):
    return os.path.join(tmp_path, "pyautodiff", "gemm.json")


def plans_of(gemm) -> dict:
    return {name: [b["mc"], b["kc"], b["nc"], int(b["b_in_place"]), int(b["a_packed"]), int(b["deep"])]
            for name, b in gemm["blocking"].items()}


def model_source():
    return ad.backend_info()["gemm"]["source"]  # (this process never tunes: conftest turns it off)


@native
@pytest.mark.parametrize("first", ["matmul", "dense", "conv", "rnn"])
def test_the_first_large_product_tunes_and_writes_the_cache(tmp_path, first):
    pytest.importorskip("numpy")
    before, small, tuned, _ = run(tmp_path, first)
    assert before["source"] == small["source"] == model_source()  # not at import, not for a small product
    assert tuned["source"] == "autotune"
    with open(cache(tmp_path)) as f:
        data = json.load(f)
    assert data["format"] == _gemm_tune.FORMAT and len(data["plans"]) == 1
    (key, plans), = data["plans"].items()
    assert key == _gemm_tune.machine_key() and plans == plans_of(tuned)
    for name, plan in plans.items():  # one of the candidates, whole tiles
        assert tuple(plan) in _gemm_tune.candidates(before["blocking"][name], 4 if name.startswith("f32") else 8)
    again = run(tmp_path)[2]  # the next process reads it
    assert again["source"] == "cache file" and plans_of(again) == plans


def odd_plans(gemm) -> dict:
    """Plans no candidate would be (ragged blocks of every kind), b in place, a packed and deep the other way from
    the model's."""
    return {name: [7 * b["mr"], 37, 5 * b["nr"], 1 - int(b["b_in_place"]), 1 - int(b["a_packed"]), 1 - int(b["deep"])]
            for name, b in gemm["blocking"].items()}


def write(tmp_path, data) -> None:
    os.makedirs(os.path.dirname(cache(tmp_path)), exist_ok=True)
    with open(cache(tmp_path), "w") as f:
        f.write(data if isinstance(data, str) else json.dumps(data))


@native
def test_a_cached_plan_is_installed_as_written_and_products_stay_correct(tmp_path):
    pytest.importorskip("numpy")
    plans = odd_plans(ad.backend_info()["gemm"])
    other = {"some other machine | pyautodiff 0.0": plans}
    write(tmp_path, {"format": _gemm_tune.FORMAT, "plans": {_gemm_tune.machine_key(): plans, **other}})
    gemm, in_place = run(tmp_path)[2:]  # (check_products ran under them)
    assert gemm["source"] == "cache file" and plans_of(gemm) == plans
    assert in_place == ad.backend_info()["gemm_b_in_place"]  # (the model's default; the plan decides per variant)
    with open(cache(tmp_path)) as f:
        assert json.load(f)["plans"] == {_gemm_tune.machine_key(): plans, **other}  # (not rewritten)


@native
def test_another_machines_plans_are_kept_and_not_used(tmp_path):
    pytest.importorskip("numpy")
    plans = odd_plans(ad.backend_info()["gemm"])
    key = _gemm_tune.machine_key().replace("pyautodiff ", "pyautodiff old-")  # (another version: other kernels)
    write(tmp_path, {"format": _gemm_tune.FORMAT, "plans": {key: plans}})
    gemm = run(tmp_path)[2]
    assert gemm["source"] == "autotune" and plans_of(gemm) != plans
    with open(cache(tmp_path)) as f:
        assert json.load(f)["plans"] == {key: plans, _gemm_tune.machine_key(): plans_of(gemm)}


def corrupt(plans: dict) -> list:
    key, name = _gemm_tune.machine_key(), next(iter(plans))
    bad = [dict(plans, **{name: value}) for value in ([0, 256, 4032, 0, 1, 0], [144, 256, 4032, 2, 1, 0],
                                                         [144, 256, 4032, 0, 2, 0], [144, 256, 4032, 0, 1, 2],
                                                         [144, 256, 4032, 0, 1, -1], [144, 256, 4032, 0, 1],
                                                         [144, 256, 4032, 0], [144, 256, 4032],
                                                         [144, 256.0, 4032, 0, 1, 0], [144, True, 4032, 0, 1, 0],
                                                         "144,256,4032", [144, 256, C.AD_GEMM_BLOCK_MAX + 1, 0, 1, 0])]
    bad += [{"f32_other": [144, 256, 4032, 0, 1, 0]}, dict(list(plans.items())[1:]),
            {**plans, "f64_extra": [1, 1, 1, 0, 1, 0]}]
    return (["", "{", "[]", "null", json.dumps({"plans": {key: plans}}),
             json.dumps({"format": 2, "plans": {key: [p[:5] for p in plans.values()]}}),
             json.dumps({"format": _gemm_tune.FORMAT + 1, "plans": {key: plans}}),
             json.dumps({"format": _gemm_tune.FORMAT, "plans": []})] +
            [json.dumps({"format": _gemm_tune.FORMAT, "plans": {key: b}}) for b in bad])


def test_a_corrupt_cache_file_is_ignored(tmp_path):
    plans = odd_plans(ad.backend_info()["gemm"])
    names, key, path = list(plans), _gemm_tune.machine_key(), cache(tmp_path)
    write(tmp_path, {"format": _gemm_tune.FORMAT, "plans": {key: plans}})
    assert _gemm_tune.read_cache(path, key, names) == plans
    assert _gemm_tune.read_cache(path, key + " ", names) is None
    assert _gemm_tune.read_cache(os.path.join(tmp_path, "missing.json"), key, names) is None
    for text in corrupt(plans):
        write(tmp_path, text)
        assert _gemm_tune.read_cache(path, key, names) is None, text
        _gemm_tune.write_cache(path, key, plans)  # (replaces what it cannot read)
        assert _gemm_tune.read_cache(path, key, names) == plans, text
        assert [f for f in os.listdir(os.path.dirname(path))] == ["gemm.json"]  # (no temporary left)


@native
def test_a_corrupt_cache_file_is_tuned_over(tmp_path):
    pytest.importorskip("numpy")
    write(tmp_path, corrupt(odd_plans(ad.backend_info()["gemm"]))[-4])
    gemm = run(tmp_path)[2]
    assert gemm["source"] == "autotune"
    with open(cache(tmp_path)) as f:
        assert json.load(f)["plans"] == {_gemm_tune.machine_key(): plans_of(gemm)}


@native
def test_an_unwritable_cache_only_means_tuning_in_memory(tmp_path):
    pytest.importorskip("numpy")
    blocker = os.path.join(tmp_path, "file")
    with open(blocker, "w") as f:
        f.write("not a directory")
    gemm = run(blocker)[2]  # ($XDG_CACHE_HOME/pyautodiff cannot be made)
    assert gemm["source"] == "autotune"
    with open(blocker) as f:
        assert f.read() == "not a directory"


@native
@pytest.mark.parametrize("env", [{"PYAUTODIFF_GEMM_AUTOTUNE": "0"}, {"PYAUTODIFF_GEMM_BLOCKING": "13,37,100"},
                                 {"PYAUTODIFF_GEMM_B_IN_PLACE": "1"}])
def test_explicit_settings_and_the_switch_turn_tuning_and_the_cache_off(tmp_path, env):
    pytest.importorskip("numpy")
    plans = odd_plans(ad.backend_info()["gemm"])
    write(tmp_path, {"format": _gemm_tune.FORMAT, "plans": {_gemm_tune.machine_key(): plans}})
    before, _, after, in_place = run(tmp_path, **env)
    assert after == before and plans_of(after) != plans
    assert after["source"] == ("PYAUTODIFF_GEMM_BLOCKING" if "PYAUTODIFF_GEMM_BLOCKING" in env else model_source())
    if "PYAUTODIFF_GEMM_B_IN_PLACE" in env:
        assert in_place and all(b["b_in_place"] for b in after["blocking"].values())


def test_set_plan_validates_and_decides_below_the_overrides():
    np = pytest.importorskip("numpy")
    model = ad.backend_info()["gemm"]
    count = len(model["blocking"])
    for args in [(count, 144, 256, 4032, 0, 1, 0), (-1, 144, 256, 4032, 0, 1, 0), (0, 0, 256, 4032, 0, 1, 0),
                 (0, 144, -1, 4032, 0, 1, 0), (0, 144, 256, C.AD_GEMM_BLOCK_MAX + 1, 0, 1, 0),
                 (0, 144, 256, 4032, 2, 1, 0), (0, 144, 256, 4032, -1, 1, 0), (0, 144, 256, 4032, 0, 2, 0),
                 (0, 144, 256, 4032, 0, -1, 0), (0, 144, 256, 4032, 0, 1, 2), (0, 144, 256, 4032, 0, 1, -1),
                 (0, 0, 0, 0, 0, 0, 0), (0, 0, 0, 1, -1, -1, -1), (0, 0, 0, 0, -1, 0, -1), (0, 0, 0, 0, 0, -1, -1),
                 (0, 0, 0, 0, -1, -1, 0)]:
        assert lib.ad_gemm_set_plan(*args) == C.AD_EINVAL, args
    assert lib.ad_gemm_set_plan(count, 0, 0, 0, -1, -1, -1) == C.AD_EINVAL
    assert ad.backend_info()["gemm"] == model
    plans = odd_plans(model)
    try:
        for variant, plan in enumerate(plans.values()):
            assert lib.ad_gemm_set_plan(variant, plan[0] + 1, *plan[1:]) == 0  # (mc rounded down to whole tiles)
        gemm = ad.backend_info()["gemm"]
        assert gemm["source"] == ("PYAUTODIFF_GEMM_BLOCKING" if os.environ.get("PYAUTODIFF_GEMM_BLOCKING") else "set")
        if gemm["source"] == "set":
            assert plans_of(gemm) == plans
        sys.path.insert(0, HERE)
        import test_gemm_blocking
        test_gemm_blocking.check_products(np)
    finally:
        for variant in range(count):
            assert lib.ad_gemm_set_plan(variant, 0, 0, 0, -1, -1, -1) == 0
    assert ad.backend_info()["gemm"] == model


def test_run_variant_validates_and_multiplies():
    count = len(ad.backend_info()["gemm"]["blocking"])
    a, b, c = ad.ones((40, 50)), ad.ones((50, 60)), ad.zeros((40, 60))
    for variant, name in enumerate(ad.backend_info()["gemm"]["blocking"]):
        dtype = "float32" if name.startswith("f32") else "float64"
        x, y, z = (ad.cast(t, dtype) for t in (a, b, c))
        assert lib.ad_gemm_run_variant(variant, 40, 60, 50, x._ptr, 0, y._ptr, 0, z._ptr) == 0
        assert z.tolist() == [[50.0] * 60] * 40
    bad = [(count, 40, 60, 50, a._ptr, 0, b._ptr, 0, c._ptr), (-1, 40, 60, 50, a._ptr, 0, b._ptr, 0, c._ptr),
           (0, -1, 60, 50, a._ptr, 0, b._ptr, 0, c._ptr), (0, 40, 60, -1, a._ptr, 0, b._ptr, 0, c._ptr),
           (0, 40, 60, 50, _backend.NULL, 0, b._ptr, 0, c._ptr), (0, 40, 60, 50, a._ptr, 0, b._ptr, 0, _backend.NULL)]
    for args in bad:
        assert lib.ad_gemm_run_variant(*args) == C.AD_EINVAL, args[:4]
    assert lib.ad_gemm_run_variant(0, 0, 60, 50, _backend.NULL, 0, _backend.NULL, 0, _backend.NULL) == 0


def test_the_machine_key_names_the_cpu_and_what_plans_depend_on():
    _owner, text = _backend.alloc(256, None)
    assert lib.ad_cpu_identity(_backend.NULL, 256) == C.AD_EINVAL and lib.ad_cpu_identity(text, 64) == C.AD_EINVAL
    assert lib.ad_cpu_identity(text, 256) == 0
    key = _gemm_tune.machine_key()
    caches = ad.backend_info()["gemm"]["caches"]
    assert f"caches {caches['l1d']},{caches['l2']},{caches['l3']}" in key
    assert f"pyautodiff {ad.__version__} drivers {_gemm_tune.DRIVERS}" in key
    assert f"simd {ad.backend_info()['simd_bytes']}" in key
    if platform.machine() in ("x86_64", "AMD64"):  # (cpuid's vendor, family, model, stepping and brand)
        assert key.startswith(("GenuineIntel family", "AuthenticAMD family")) or " family " in key.split(" | ")[0]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_narrow_products_and_narrow_last_panels_with_alpha_and_beta(dtype):
    """The 8 x 8 float tile (n <= 12) and the small path's last few columns, under alpha and beta (the kernels'
    callers accumulate: rnn, conv), every transpose, against numpy."""
    np = pytest.importorskip("numpy")
    rng = np.random.default_rng(7)
    code = C.AD_FLOAT32 if dtype == "float32" else C.AD_FLOAT64
    for m, k, n in [(128, 512, 10), (128, 10, 512), (512, 128, 10), (131, 77, 9), (40, 600, 12), (96, 64, 8),
                    (200, 90, 20), (70, 300, 514), (33, 40, 26)]:
        a, b = rng.uniform(-1, 1, (m, k)).astype(dtype), rng.uniform(-1, 1, (k, n)).astype(dtype)
        c0 = rng.uniform(-1, 1, (m, n)).astype(dtype)
        for ta in (0, 1):
            for tb in (0, 1):
                for alpha, beta in [(1.0, 0.0), (0.5, 2.0), (-1.0, 1.0)]:
                    x, y = (ad.array(np.ascontiguousarray(t.T) if tr else t) for t, tr in ((a, ta), (b, tb)))
                    z = ad.array(c0)
                    assert lib.ad_matmul(code, 1, m, n, k, x._ptr, 0, ta, y._ptr, 0, tb, z._ptr, alpha, beta) == 0
                    want = alpha * (a.astype(np.float64) @ b) + beta * c0
                    bound = 4 * k * np.finfo(dtype).eps * (np.abs(a) @ np.abs(b) + np.abs(c0))
                    assert np.all(np.abs(np.asarray(z) - want) <= bound), (dtype, m, k, n, ta, tb, alpha, beta)


@pytest.mark.parametrize("transpose_a", [0, 1])
def test_every_variant_reads_an_unaligned_b_whose_rows_are_one_panel_wide(transpose_a):
    """b read in place with rows exactly NR long has the packed panels' step but only the alignment its caller gave
    it (kernels need none: malloc's 16 bytes inside dense_backward): aligned AVX loads from it crashed on Zen 4 (the
    transformer's 16-unit Dense backward). Every variant, n = NR and 2 NR, b one element off a 64-byte boundary."""
    np = pytest.importorskip("numpy")
    rng = np.random.default_rng(3)
    for variant, (name, plan) in enumerate(ad.backend_info()["gemm"]["blocking"].items()):
        dtype = "float32" if name.startswith("f32") else "float64"
        size = np.dtype(dtype).itemsize
        for m, k, n in [(16, 256, plan["nr"]), (6, 40, plan["nr"]), (37, 100, 2 * plan["nr"])]:
            a, b = rng.uniform(-1, 1, (m, k)).astype(dtype), rng.uniform(-1, 1, (k, n)).astype(dtype)
            x = ad.array(np.ascontiguousarray(a.T) if transpose_a else a)
            y = ad.array(np.concatenate([np.zeros(1, dtype), b.ravel()]))  # (64-byte aligned storage, b at + 1)
            z = ad.zeros((m, n), dtype)
            assert lib.ad_gemm_run_variant(variant, m, n, k, x._ptr, transpose_a, _backend.offset(y._ptr, size), 0,
                                           z._ptr) == 0
            want = a.astype(np.float64) @ b
            bound = 4 * k * np.finfo(dtype).eps * (np.abs(a) @ np.abs(b))
            assert np.all(np.abs(np.asarray(z) - want) <= bound), (name, m, k, n, transpose_a)


def _variants():
    """(index, name, plan, dtype) of every GEMM variant; plans set meanwhile go back to the model's afterwards."""
    blocking = ad.backend_info()["gemm"]["blocking"]
    try:
        for variant, (name, plan) in enumerate(blocking.items()):
            yield variant, name, plan, "float32" if name.startswith("f32") else "float64"
    finally:
        for variant in range(len(blocking)):
            assert lib.ad_gemm_set_plan(variant, 0, 0, 0, -1, -1, -1) == 0


def _variant_product(np, variant: int, a, b, transpose_a: int, what) -> None:
    """ad_gemm_run_variant of a (m x k, stored transposed when asked) and b (k x n) against numpy in float64, within
    4 k ulps of |a| @ |b|."""
    (m, k), n = a.shape, b.shape[1]
    x = ad.array(np.ascontiguousarray(a.T) if transpose_a else a)
    y, z = ad.array(b), ad.zeros((m, n), str(a.dtype))
    assert lib.ad_gemm_run_variant(variant, m, n, k, x._ptr, transpose_a, y._ptr, 0, z._ptr) == 0
    bound = 4 * k * np.finfo(a.dtype).eps * (np.abs(a) @ np.abs(b))
    assert np.all(np.abs(np.asarray(z) - a.astype(np.float64) @ b) <= bound), what


@pytest.mark.parametrize("transpose_a", [0, 1])
def test_every_variant_multiplies_a_last_panel_of_one_vector(transpose_a):
    """A last panel of b of more than TAIL columns (half a vector, at most 4) but at most one vector runs the tile's
    first vector per row only (its padded columns were computed before): every variant, panels of VL/2 + 1 .. VL
    columns and of 4-5 (AVX-512: the small path's tail, then a half panel) after whole ones, packed and read in
    place, a packed and in place, deep or not, against numpy."""
    np = pytest.importorskip("numpy")
    rng = np.random.default_rng(5)
    for variant, name, plan, dtype in _variants():
        vector = 64 if "avx512" in name and not name.endswith("_8x8") else 32 if "avx" in name else 16
        vl = vector // np.dtype(dtype).itemsize  # (the 8 x 8 tiles are one 32-byte vector wide)
        for in_place, pack_a, deep in [(0, 0, 0), (1, 0, 0), (1, 1, 0), (1, 1, 1)]:
            assert lib.ad_gemm_set_plan(variant, plan["mc"], plan["kc"], plan["nc"], in_place, pack_a, deep) == 0
            for m, k, n in [(37, 70, plan["nr"] + vl), (8, 300, plan["nr"] + vl // 2 + 1), (130, 33, vl),
                            (20, 9, 3 * plan["nr"] + vl - 1), (19, 40, plan["nr"] + 4), (19, 40, plan["nr"] + 5)]:
                a, b = rng.uniform(-1, 1, (m, k)).astype(dtype), rng.uniform(-1, 1, (k, n)).astype(dtype)
                _variant_product(np, variant, a, b, transpose_a, (name, m, k, n, in_place, pack_a, deep))


@pytest.mark.parametrize("transpose_a", [0, 1])
def test_every_variant_multiplies_products_around_the_small_paths_bounds(transpose_a):
    """Products up to 128^3 with a row-major b take AVX-512's small path (its 4 x 4 vector tile) unless the last
    vector would recompute over an eighth of c's columns: every variant, on both sides of those bounds (and of the
    4-row groups), against numpy."""
    np = pytest.importorskip("numpy")
    rng = np.random.default_rng(7)
    for variant, name, plan, dtype in _variants():
        for m, k, n in [(64, 64, 64), (7, 100, 100), (100, 100, 100), (130, 130, 33), (45, 90, 38), (128, 128, 128),
                        (129, 128, 128), (3, 700, 80), (33, 47, 112), (128, 64, 257)]:
            a, b = rng.uniform(-1, 1, (m, k)).astype(dtype), rng.uniform(-1, 1, (k, n)).astype(dtype)
            _variant_product(np, variant, a, b, transpose_a, (name, m, k, n))


def test_the_tuning_times_products_the_plan_steers():
    """A variant's "narrow" flag says its row-major narrow products bypass the plan (their bits do not move with the
    depth block), so the tuning times those layers' weight gradients (a transposed: the tile, steered by the plan)
    instead; every shape it times changes bits with the depth block, i.e. goes through the blocks it is choosing."""
    np = pytest.importorskip("numpy")
    rng = np.random.default_rng(5)
    blocking = ad.backend_info()["gemm"]["blocking"]
    assert [name for name, plan in blocking.items() if plan["narrow"]] == (
        ["f32_avx512_8x8"] if ad.backend_info()["simd_bytes"] == 64 else [])

    def product(variant, plan, m, k, n, ta, tb, dtype):
        shapes = ((k, m) if ta else (m, k), (n, k) if tb else (k, n))
        a, b = (ad.array(rng.uniform(-1, 1, s).astype(dtype)) for s in shapes)
        outs = []
        for kc in (0, 40):  # the model's depth block, then one of 40
            z = ad.zeros((m, n), dtype)
            assert lib.ad_gemm_set_plan(variant, *((plan["mc"], kc, plan["nc"], int(plan["b_in_place"]),
                                                    int(plan["a_packed"]), 0) if kc else (0, 0, 0, -1, -1, -1))) == 0
            assert lib.ad_gemm_run_variant(variant, m, n, k, a._ptr, ta, b._ptr, tb, z._ptr) == 0
            outs.append(np.asarray(z))
        return outs

    try:
        for variant, (name, plan) in enumerate(blocking.items()):
            dtype = "float32" if name.startswith("f32") else "float64"
            for m, k, n, ta, tb in _gemm_tune.shapes_for(name, plan):
                model, blocked = product(variant, plan, m, k, n, ta, tb, dtype)
                assert not np.array_equal(model, blocked), (name, m, k, n, ta, tb)
            if plan["narrow"]:
                for m, k, n in _gemm_tune.NARROW_SHAPES:
                    model, blocked = product(variant, plan, m, k, n, 0, 0, dtype)
                    assert np.array_equal(model, blocked), (name, m, k, n)
    finally:
        for variant in range(len(blocking)):
            assert lib.ad_gemm_set_plan(variant, 0, 0, 0, -1, -1, -1) == 0


@pytest.mark.parametrize("pack_a, deep", [(0, 0), (1, 0), (0, 1), (1, 1)])
def test_every_variant_multiplies_a_b_whose_rows_are_2_kib_apart(pack_a, deep):
    """Rows of b within a line of a multiple of 2 KiB apart fall in one or two L1 sets: where a panel's row is one cache line
    (AVX2's 16 floats) b is packed then, even when the plan reads b in place (and "deep" reads b in place too, so it
    must not go deep); the plan's other choices as they were. Against numpy, next to b whose rows are not so."""
    np = pytest.importorskip("numpy")
    rng = np.random.default_rng(11)
    for variant, name, plan, dtype in _variants():
        per_2k = 2048 // np.dtype(dtype).itemsize
        assert lib.ad_gemm_set_plan(variant, plan["mc"], plan["kc"], plan["nc"], 1, pack_a, deep) == 0
        for m, k, n in [(40, 300, per_2k), (40, 300, 2 * per_2k), (40, 300, 3 * per_2k), (plan["mc"], 77, per_2k),
                        (40, 300, per_2k - 1), (40, 300, 2 * per_2k + 1), (40, 300, per_2k - 40)]:
            a, b = rng.uniform(-1, 1, (m, k)).astype(dtype), rng.uniform(-1, 1, (k, n)).astype(dtype)
            _variant_product(np, variant, a, b, 0, (name, m, k, n, pack_a, deep))


@native
@pytest.mark.parametrize("confirmed", [True, False])
def test_a_candidate_replaces_the_model_only_if_it_wins_again_head_to_head(monkeypatch, confirmed):
    """The best of many candidates timed over a few rounds is timed again against the model's plan alone (more
    rounds): it replaces the model only if it wins by MARGIN both times (scripted scores: the timing is not what is
    tested here); a candidate not ahead by MARGIN in the first round is not timed again."""
    calls = []

    def scores(variant, plans, buffers, rounds, deadline):
        calls.append((variant, list(plans), rounds))
        base = float(len(buffers))
        if len(calls) % 2:  # all candidates: the third well ahead, the second just within the margin
            return [base, base * (1 - _gemm_tune.MARGIN / 2), base * 0.8] + [base] * (len(plans) - 3)
        return [base, base * (0.9 if confirmed else 0.99)]

    monkeypatch.setattr(_gemm_tune, "_scores", scores)
    model = ad.backend_info()["gemm"]["blocking"]
    chosen = _gemm_tune.tune()
    assert list(chosen) == list(model)
    for variant, (name, plan) in enumerate(model.items()):
        cands = _gemm_tune.candidates(plan, 4 if name.startswith("f32") else 8)
        assert len(cands) >= 3, name
        first, again = [c for c in calls if c[0] == variant]
        assert first[1] == cands and first[2] == _gemm_tune.ROUNDS
        assert again[1] == [cands[0], cands[2]] and again[2] == _gemm_tune.CONFIRM
        assert chosen[name] == list(cands[2] if confirmed else cands[0])
    assert ad.backend_info()["gemm"]["blocking"] == model  # (tune leaves the model's plans installed)

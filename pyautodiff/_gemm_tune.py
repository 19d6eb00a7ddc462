"""The GEMM's plan per machine (issue 18): at the first float product large enough to matter, a few candidate plans
per GEMM variant are timed and the fastest installed (ad_gemm_set_plan), the choice cached in a JSON file per CPU
(as FFTW's wisdom), so CPUs nobody measured run what is fastest on them rather than what the cache model guessed.

Precedence: PYAUTODIFF_GEMM_BLOCKING / PYAUTODIFF_GEMM_B_IN_PLACE (explicit: no tuning) > the cache file or the
tuning > the cache model (cpu.c, matmul.c). PYAUTODIFF_GEMM_AUTOTUNE=0 keeps the model. No tuning where timing tells
nothing (WebAssembly, sanitizer builds: ad_gemm_can_tune). A cache file that cannot be read or written only means
tuning again; a user's product never fails for it.
"""

import json
import os
import platform
import statistics
import struct
import sys
import time

from . import _backend

# products of at least this many multiply-adds start the tuning (~50 us at 1 thread: what a model's layers do)
THRESHOLD = 1 << 21
# (m, k, n, a transposed, b transposed) per variant: the MLP's first layers, at batch 64 too (then b may be read in
# place: at 128 rows only with blocks of more rows, so a batch of 64 is where the model's own blocks time b in place at
# all), a square product and the gradients' products (a weight's, x^T @ dy, and an input's, dy @ W^T: what deep products
# leave to the blocks); for the narrow tiles (n <= 12: see mm_pick in csrc/matmul.c) the MLP's last layer and its like,
# or where the variant's narrow path takes those (a row-major a: then they never use the plan), the same layers' weight
# gradients (a^T @ dy)
SHAPES = [(128, 784, 512, 0, 0), (128, 512, 512, 0, 0), (64, 784, 512, 0, 0), (256, 256, 256, 0, 0),
          (784, 128, 512, 1, 0), (128, 512, 512, 0, 1)]
NARROW_SHAPES = [(128, 512, 10), (256, 784, 10), (128, 1024, 12)]
ROUNDS = (3, 10)  # timings per candidate and shape (the candidates interleaved in each round): at least, at most
BUDGET_S = 1.0  # rounds stop once a variant's share of this is spent
MARGIN = 0.03  # another plan must beat the model's by more than this to replace it (noise must not flip plans)
CONFIRM = (8, 40)  # rounds of the model's plan against the best candidate, head to head (see tune): at least, at most
CONFIRM_S = 1.0  # those rounds stop once a variant's share of this is spent
FORMAT = 3  # of the cache file (2: plans gained "a packed"; 3: "deep")
# the GEMM drivers' revision, part of a plan's key: raised when a change to them can move the best plan, so that plans
# tuned on older drivers at the same version are tuned again (2: b's panels packed just before their first use; 3:
# the x86 depth loop unrolled; 4: AVX-512's own 8 x 8 tile for narrow float products; 5: AVX-512's narrow path, which
# takes its products with a row-major a from the 8 x 8 tile; 6: that variant tuned on the products it still runs;
# 7: deep products read a in place whatever the plan's "a packed", and deep is the plan's own choice; 8: AVX-512's
# tile from 32 columns on, with half panels from 5 columns and the small path up to 128^3; 9: b whose rows of a panel
# are one cache line packed when they are a multiple of 2 KiB apart, not only 4 KiB)
DRIVERS = 9

pending = True  # no float product large enough has run yet (ops test this before calling first_product)
source = None  # "autotune" or "cache file" once a plan is installed


def blocking() -> tuple:
    """({"blocking": per variant, "caches": bytes, "source": of the plans}, PYAUTODIFF_GEMM_BLOCKING's state: 1 used,
    0 unset, -1 malformed) as the C side chose them (ad_gemm_blocking)."""
    values = _backend.i64_array((0,) * 13)
    _owner, text = _backend.alloc(64, None)  # (the owners keep both buffers alive until we return)
    plans, where = {}, "fixed"
    while _backend.lib.ad_gemm_blocking(len(plans), values, text, 64) == 0:
        name, where = bytes(_backend.view(text, 64)).split(b"\0", 1)[0].decode().split(" ")
        mr, nr, mc, kc, nc, l1d, l2, l3, state, in_place, pack_a, narrow, deep = struct.unpack(
            "13q", _backend.view(values, 104))
        plans[name] = {"mr": mr, "nr": nr, "mc": mc, "kc": kc, "nc": nc, "b_in_place": bool(in_place),
                       "a_packed": bool(pack_a), "narrow": bool(narrow), "deep": bool(deep)}
    return {"blocking": plans, "caches": {"l1d": l1d, "l2": l2, "l3": l3},
            "source": (source or "set") if where == "set" else where}, state


def enabled() -> bool:
    return (os.environ.get("PYAUTODIFF_GEMM_AUTOTUNE", "1") != "0" and bool(_backend.lib.ad_gemm_can_tune())
            and not os.environ.get("PYAUTODIFF_GEMM_BLOCKING") and not os.environ.get("PYAUTODIFF_GEMM_B_IN_PLACE"))


def cache_path() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "pyautodiff", "gemm.json")


def machine_key() -> str:
    """What a plan depends on: the CPU (cpuid's names, else the platform's), its caches, the SIMD width in use (so
    PYAUTODIFF_SIMD=avx2 has its own plans), the library's version and the drivers' revision (its kernels)."""
    _owner, text = _backend.alloc(256, None)
    _backend.lib.ad_cpu_identity(text, 256)
    cpu = bytes(_backend.view(text, 256)).split(b"\0", 1)[0].decode(errors="replace")
    caches = blocking()[0]["caches"]
    version = getattr(sys.modules.get(__package__), "__version__", "?")
    return (f"{cpu or platform.machine() + ' ' + platform.processor()} | caches {caches['l1d']},{caches['l2']},"
            f"{caches['l3']} | simd {_backend.lib.ad_simd_bytes()} | pyautodiff {version} drivers {DRIVERS}")


def _install(plans: dict) -> None:
    for variant, plan in enumerate(plans.values()):
        if _backend.lib.ad_gemm_set_plan(variant, *plan):
            raise ValueError(f"ad_gemm_set_plan refused {plan}")


def _valid(plans, names: list) -> bool:
    return (isinstance(plans, dict) and list(plans) == names and all(
        isinstance(p, list) and len(p) == 6 and all(type(x) is int for x in p) and
        all(1 <= x <= _backend.C.AD_GEMM_BLOCK_MAX for x in p[:3]) and all(x in (0, 1) for x in p[3:])
        for p in plans.values()))


def read_cache(path: str, key: str, names: list):
    """The plans cached for this machine, or None (no file, no entry, or anything malformed)."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        plans = data["plans"][key] if data.get("format") == FORMAT else None
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None
    return plans if _valid(plans, names) else None


def write_cache(path: str, key: str, plans: dict) -> None:
    """Adds this machine's plans to the file, atomically (another process may be writing it: last one wins, a reader
    sees one whole file or the other). Silent when the file cannot be written."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("plans"), dict):
            raise ValueError("not a plan cache")
    except (OSError, ValueError):
        data = {"format": FORMAT, "plans": {}}
    data["plans"][key] = plans
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=1)
        os.replace(tmp, path)
    except OSError:
        try:
            os.remove(tmp)
        except OSError:
            pass


def candidates(plan: dict, es: int) -> list:
    """(mc, kc, nc, b in place, a packed, deep) to time: the model's plan first, the fixed blocks tuned on Zen 3/4,
    the model's with depths 128/256/384/512 (A's block kept the same size), the model's and the fixed blocks with b in
    place flipped, and the model's with b in place and deep flipped (deep products read both operands in place: on
    Zen 4 AVX-512's tile gained 5-8% so, AVX2's lost as much). a packed stays the model's: packing a mattered on
    products the tuning cannot afford to time (1024^3, b transposed) and little on those it times, where a few rounds
    on a busy host chose either way."""
    mc, kc, nc, ip, pa, dp = (plan["mc"], plan["kc"], plan["nc"], int(plan["b_in_place"]), int(plan["a_packed"]),
                              int(plan["deep"]))
    C = _backend.C
    fixed = (C.AD_GEMM_F32_MC if es == 4 else C.AD_GEMM_F64_MC, C.AD_GEMM_KC, C.AD_GEMM_NC)
    out = [(mc, kc, nc, ip, pa, dp), (*fixed, ip, pa, dp)]
    out += [(max(plan["mr"], mc * kc // depth), depth, nc, ip, pa, dp) for depth in (128, 256, 384, 512)]
    out += [(mc, kc, nc, 1 - ip, pa, dp), (*fixed, 1 - ip, pa, dp), (mc, kc, nc, 1, pa, 1 - dp)]
    seen = []
    for c in out:  # (mc rounded to whole tiles, as the kernel will)
        c = (max(plan["mr"], c[0] // plan["mr"] * plan["mr"]),) + c[1:]
        if c not in seen:
            seen.append(c)
    return seen


def _clear(count: int) -> None:
    for variant in range(count):  # (back to the model's plans)
        _backend.lib.ad_gemm_set_plan(variant, 0, 0, 0, -1, -1, -1)


def shapes_for(name: str, plan: dict) -> list:
    """(m, k, n, a transposed, b transposed) the tuning times for a variant"""
    if not name.endswith("_8x8"):
        return list(SHAPES)
    return [(k, m, n, 1, 0) if plan["narrow"] else (m, k, n, 0, 0) for m, k, n in NARROW_SHAPES]


def _scores(variant: int, plans: list, buffers: list, rounds: tuple, deadline: float) -> list:
    """Each plan's score on the shapes in buffers: over the shapes, the sum of the median (over rounds) of its time
    relative to plans[0]'s in the same round (plans[0] scores len(shapes)). Rounds interleave the plans; round 0 warms
    caches and pages up, untimed; at least rounds[0] and at most rounds[1] timed ones, none begun after deadline."""
    lib = _backend.lib
    ratios = [[[] for _ in buffers] for _ in plans]  # [plan][shape]
    for rnd in range(rounds[1] + 1):
        times = []
        for plan in plans:
            lib.ad_gemm_set_plan(variant, *plan)
            times.append([])
            for (m, k, n, ta, tb), ((_, a), (_, b), (_, out)) in buffers:
                t = time.perf_counter()
                if lib.ad_gemm_run_variant(variant, m, n, k, a, ta, b, tb, out):
                    raise MemoryError("ad_gemm_run_variant failed")
                times[-1].append(time.perf_counter() - t)
        if rnd:
            for c, row in enumerate(times):
                for s, t in enumerate(row):
                    ratios[c][s].append(t / times[0][s])
        if rnd >= rounds[0] and time.perf_counter() > deadline:
            break
    return [sum(statistics.median(r) for r in per_shape) for per_shape in ratios]


def tune() -> dict:
    """{variant: [mc, kc, nc, b in place, a packed, deep]}: each variant's fastest candidate at one thread on its
    shapes, the model's unless another is more than MARGIN faster, first among all candidates (_scores), then again
    head to head with the model over more rounds (CONFIRM): the best of ten scores from a few noisy rounds is often
    luck, and on a Zen 4 VM three tunings in a row picked three plans for the AVX2 tile and two for float64's. (Each
    one's best round, compared across rounds, followed the host: the AVX2 variant kept b in place on the strength of
    one fast round, where b packed ran the MLP's products 5-14% faster in every paired comparison.)"""
    lib, C = _backend.lib, _backend.C
    _clear(len(blocking()[0]["blocking"]))  # (the model's plans to start from)
    model = blocking()[0]["blocking"]
    chosen = {}
    for variant, (name, plan) in enumerate(model.items()):
        es = 4 if name.startswith("f32") else 8
        dtype = C.AD_FLOAT32 if es == 4 else C.AD_FLOAT64
        cands, shapes = candidates(plan, es), shapes_for(name, plan)
        buffers = []
        for m, k, n, ta, tb in shapes:
            owners_ptrs = [_backend.alloc(size * es, None) for size in (m * k, k * n, m * n)]
            for (_owner, ptr), size in zip(owners_ptrs, (m * k, k * n, m * n)):
                lib.ad_fill(dtype, size, 0.5, ptr)  # (not whatever was there: subnormals would time slow)
            buffers.append(((m, k, n, ta, tb), owners_ptrs))
        scores = _scores(variant, cands, buffers, ROUNDS, time.perf_counter() + BUDGET_S / len(model))
        pick = min(range(len(cands)), key=scores.__getitem__)
        if scores[pick] < scores[0] * (1 - MARGIN):
            again = _scores(variant, [cands[0], cands[pick]], buffers, CONFIRM,
                            time.perf_counter() + CONFIRM_S / len(model))
            pick = pick if again[1] < again[0] * (1 - MARGIN) else 0
        else:
            pick = 0
        chosen[name] = list(cands[pick])
    _clear(len(model))
    return chosen


def first_product(macs: int) -> None:
    """Called by the ops before a float product of `macs` multiply-adds while `pending`: from the first one of at
    least THRESHOLD, the plans come from the cache file, or are tuned (then cached), unless tuning is off."""
    global pending, source
    if macs < THRESHOLD:
        return
    pending = False
    if not enabled():
        return
    path, key = cache_path(), machine_key()
    names = list(blocking()[0]["blocking"])
    plans = read_cache(path, key, names)
    if plans is not None:
        _install(plans)
        source = "cache file"
        return
    try:
        plans = tune()
    except MemoryError:  # (the model's plans stay)
        _clear(len(names))
        return
    _install(plans)
    source = "autotune"
    write_cache(path, key, plans)

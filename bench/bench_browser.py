"""pyautodiff in Pyodide vs TensorFlow.js 4.22 (cpu and wasm backends) in headless Chromium, one page, one run:
a 512x512 float32 matmul, the seed's training step (2-128-2 sigmoid, sparse CE, Adam, batch 6), an MLP
16-64-64-1 ReLU, batch 64, MSE, Adam step, bench_cnn.py's LeNet-style CNN step (28x28x1, batch 64, Adam) and
bench_lstm.py's Embedding(1000, 64)-LSTM(128)-Dense(10) step (batch 32, sequence 50, Adam); ms per call and ratios vs
the TF.js wasm backend. Also our matmul built with and without -msimd128 (each in a worker). Skips with a note when
dist/web or chromium is missing.

The page and its driver live in bench/browser/ (see driver.py for what is served)."""

from __future__ import annotations

import sys
from pathlib import Path

import bench_lstm
import common

sys.path.insert(0, str(Path(__file__).resolve().parent / "browser"))
import driver

MATMUL, SEED, MLP = "matmul 512x512 f32", "seed step 2-128-2, batch 6", "MLP 16-64-64-1, batch 64"
CNN = "LeNet-style CNN 28x28x1, batch 64"
LSTM = bench_lstm.CASE
REFERENCE = "tfjs wasm"
N = 512
POINTS = [[1, 3], [1, 4], [2, 4], [3, 1], [4, 1], [4, 2]]
LABELS = [0, 0, 0, 1, 1, 1]
CHECK_STEPS = 3
VARIANTS = [("-msimd128", ()), ("no simd", ("-msimd128",))]


def config(mode: common.Mode, variants: list) -> dict:
    import bench_cnn
    import numpy as np
    import steps
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((N, N), dtype=np.float32) for _ in range(2))
    mlp_x = rng.standard_normal((64, 16), dtype=np.float32)
    mlp_y = (np.sin(mlp_x[:, :1] * 2) + 0.1 * rng.standard_normal((64, 1))).astype(np.float32)

    def params(sizes):
        return [[w.tolist(), b.tolist()] for w, b in steps.init_params(sizes)]

    return {
        "mode": {k: getattr(mode, k) for k in ("rounds", "min_round_s", "warmup_s", "max_measure_s")},
        "wheel": f"/web/{driver.wheel_name()}",
        "variants": [{"label": label, "wheel": "/variants/" + str(w.relative_to(driver.VARIANTS))}
                     for label, w in variants],
        "groups": ["matmul", "seed", "mlp", "cnn", "lstm"],
        "names": {"matmul": MATMUL, "seed": SEED, "mlp": MLP, "cnn": CNN, "lstm": LSTM},
        "checkSteps": CHECK_STEPS,
        "matmul": {"a": a.tolist(), "b": b.tolist()},
        "seed": {"params": params([2, 128, 2]), "x": POINTS, "y": LABELS, "lr": 0.001},
        "mlp": {"params": params([16, 64, 64, 1]), "x": mlp_x.tolist(), "y": mlp_y.tolist(), "lr": 0.001},
        "cnn": {"params": [[k.tolist(), b.tolist()] for k, b in bench_cnn.init_params()],
                "x": rng.uniform(0.0, 1.0, (bench_cnn.BATCH, bench_cnn.SIDE, bench_cnn.SIDE, 1)).astype(np.float32)
                .tolist(), "y": rng.integers(0, bench_cnn.CLASSES, bench_cnn.BATCH).tolist(), "lr": 0.001},
        "lstm": lstm_case(),
        "expected_row0": (a.astype(np.float64) @ b.astype(np.float64))[0].tolist(),
    }


def lstm_case() -> dict:
    """bench_lstm.py's weights (each layer's in Keras' layout and order, which TF.js shares) and batch"""
    import numpy as np
    p = bench_lstm.init_params()
    rng = np.random.default_rng(1)  # as bench_lstm.measure_child draws its batch
    x = rng.integers(0, bench_lstm.VOCAB, (bench_lstm.BATCH, bench_lstm.STEPS))
    y = rng.integers(0, bench_lstm.CLASSES, bench_lstm.BATCH)
    return {"params": [[p[n].tolist() for n in names] for names in (
                ["embeddings"], ["kernel", "recurrent_kernel", "bias"], ["dense_kernel", "dense_bias"])],
            "x": x.tolist(), "y": y.tolist(), "lr": 0.001}


def check_notes(rows: list, expected_row0: list) -> list[str]:
    """The matmul's first row against float64; the first losses of every step against TF.js wasm's."""
    notes = []
    for r in rows:
        got = r.pop("check")
        if r["case"] == MATMUL:
            err = max(abs(g - e) for g, e in zip(got, expected_row0)) / max(abs(e) for e in expected_row0)
            if err > 1e-4:
                notes.append(f"{r['impl']}: its 512x512 product's first row is off by {err:.1e} (relative)")
            continue
        ref = next(x.get("check") for x in rows if x["case"] == r["case"] and x["impl"] == REFERENCE)
        ref = ref if ref is not None else got
        close = [abs(u - v) <= tol * max(1.0, abs(v)) for (u, v), tol in zip(zip(got, ref), [1e-4] + [2e-2] * 9)]
        if not all(close):
            notes.append(f"{r['case']}: {r['impl']}'s first {len(got)} losses {got} differ from {REFERENCE}'s {ref}")
        r["first_losses"] = got
    return notes


def goals(rows: list) -> list:
    """Issue 7's browser goals, each judged on the worse of eager and Function (the table's worst case)."""
    def ours(case):
        return [x for impl in ("pyautodiff", "pyautodiff eager", "pyautodiff Function")
                for x in common.ratios_of(rows, impl, REFERENCE, [case])]
    return [common.goal("browser matmul 512", "≥ 1.0x TF.js wasm", ours(MATMUL), 1.0),
            common.goal("browser seed step", "≥ 5x faster than TF.js wasm (eager and Function)", ours(SEED), 5.0),
            common.goal("browser MLP 16-64-64-1 step", "≥ 1.5x faster than TF.js wasm (eager and Function)",
                        ours(MLP), 1.5),
            common.goal("browser CNN step (issue 15)", "≥ 2x faster than TF.js wasm (eager and Function)",
                        ours(CNN), 2.0),
            common.goal("browser LSTM step (issue 16)", "≥ 2x faster than TF.js wasm (eager and Function)",
                        ours(LSTM), 2.0)]


def main() -> None:
    args = common.parse_args(__doc__, threads_default="1")
    lacking = driver.missing()
    if lacking:
        print("bench_browser: skipped: " + "; ".join(lacking))
        return
    notes, variants = [], []
    for label, drop in VARIANTS:
        try:
            variants.append((label, driver.build_variant(label.strip("-").replace(" ", "-"), drop)))
        except Exception as e:  # noqa: BLE001 - no clang-19 here: the rest still runs
            notes.append(f"the {label} build of the wheel could not be made ({type(e).__name__}: {e}): not measured")
    cfg = config(args.mode, variants)
    expected = cfg.pop("expected_row0")
    result = driver.run(cfg)
    info = result["info"]
    rows = []
    for r in result["rows"]:
        value = r["median_s"] * 1e3
        extra = {"gflops": 2 * N**3 / r["median_s"] / 1e9} if r["case"] == MATMUL else {}
        rows.append(common.row(r["case"], 1, r["impl"], value, r, check=r["check"], **extra))
    notes += check_notes(rows, expected)
    ours = info["pyautodiff"]
    tw = info["tfjsWasm"]
    notes.append(f"{info['browser']}, Pyodide {ours['pyodide']} (Python {ours['python']}), TF.js {info['tfjs']}. "
                 f"pyautodiff ({driver.wheel_name()} from dist/web, binding {ours.get('binding')}, simd "
                 f"{ours.get('simd_bytes')} bytes) runs in Pyodide on the page's main thread, like TF.js; its loop "
                 "is Python, timed with time.perf_counter. TF.js forces each result with dataSync().")
    notes.append(f"TF.js wasm backend: SIMD {tw['simd']}, multithreading {tw['multithread']} (threads "
                 f"{tw['threads']}): the page is not cross-origin isolated, so it runs on one thread like Pyodide; "
                 f"wasm binary loaded: {', '.join(u for u in result['requests'] if u.endswith('.wasm') and 'tfjs' in u)}.")
    notes.append("CNN step: TF.js 4.22's wasm backend has no Conv2DBackpropFilter kernel (tf.conv2d's gradient throws "
                 "there), so bench.js's conv2dValid gives TF.js the filter gradient as a forward conv2d of transposed "
                 "x and dy, and the input gradient as conv2dTranspose, on both TF.js backends.")
    notes.append("LSTM step: TF.js runs tf.layers.lstm (recurrentActivation sigmoid, as Keras 3 and ours; its cell "
                 "loop over the 50 steps is JS calling one kernel per op) and tf.layers.dense, weights set in Keras' "
                 "layout. TF.js 4.22's wasm backend has no UnsortedSegmentSum kernel (tf.gather's gradient, so "
                 "tf.layers.embedding's, throws there), so bench.js's embeddingLookup takes the table's gradient as "
                 "a scatterND of dy at the ids, on both TF.js backends.")
    gf = {r["impl"]: r["gflops"] for r in rows if r["case"] == MATMUL}
    notes.append("matmul 512 GFLOP/s: " + ", ".join(f"{k} {v:.2f}" for k, v in gf.items()) + ". The worker rows "
                 "are the current csrc/ built with the Makefile's WASM_CFLAGS, and without -msimd128, into "
                 "build/bench-wasm/ (each in its own Pyodide in a Web Worker).")
    if result["outside_requests"]:
        notes.append(f"requests outside 127.0.0.1 were blocked: {result['outside_requests']}")
    if result["console_errors"]:
        notes.append(f"console errors: {result['console_errors'][:5]}")
    leaks = {k: v for k, v in info.items() if k.startswith("tfjsTensors_")}
    threads = {"1": {"pyodide": "1 (main thread)", "tfjs_wasm_threads": tw["threads"],
                     "browser": info["browser"], "crossOriginIsolated": info["crossOriginIsolated"], **leaks}}
    common.save("browser", "In the browser: pyautodiff in Pyodide vs TensorFlow.js (ms per call)", "ms", False,
                [REFERENCE, "tfjs cpu"], rows, notes, args, threads, goals)


if __name__ == "__main__":
    main()

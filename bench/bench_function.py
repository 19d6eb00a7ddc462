"""Per-step time of the seed's training step, eager vs the same step as an ad.Function.

The step of the seed's example 2: Dense 2->128 sigmoid, Dense 128->2, sparse categorical cross-entropy
from logits, Adam, a batch of 6 (the model layer's classes; without them the same network written with
ops and Variables and a plain SGD update by assign_sub). Measured side by side in one run:
  eager                 the Python step as written
  Function (C plan)     ad.Function of the step: one ad_plan_run call per replay
  Function (Python loop) the same trace replayed by calling the recorded kernels from Python
Before timing, the eager and the Function steps run from the same weights and must give the same losses.

    .venv/bin/python bench/bench_function.py [--quick] [--threads 1]
"""

from __future__ import annotations

import importlib
import random

import common

GOAL = 5.0  # issue 3: the Function at least 5x faster than eager natively


def build_step(ad, seed: int):
    """(step(x, y) -> loss, description), weights drawn from `seed` so that two builds start equal."""
    rng = random.Random(seed)
    w1 = [[rng.uniform(-0.2, 0.2) for _ in range(128)] for _ in range(2)]
    w2 = [[rng.uniform(-0.2, 0.2) for _ in range(2)] for _ in range(128)]
    try:
        from pyautodiff import layers, losses, optimizers
        model = ad.Sequential([layers.Dense(128, input_shape=(2,), activation="sigmoid"), layers.Dense(2)])
        lossfunc = losses.SparseCategoricalCrossentropy(from_logits=True)
        optimizer = optimizers.Adam()
    except (ImportError, AttributeError):
        return _ops_step(ad, w1, w2)
    model(ad.zeros((1, 2)))
    kernel1, bias1, kernel2, bias2 = model.trainable_variables
    kernel1.assign(ad.array(w1))
    kernel2.assign(ad.array(w2))

    def step(inputs, trues):
        with ad.GradientTape() as tape:
            loss = lossfunc(trues, model(inputs, training=True))
        params = model.trainable_variables
        optimizer.update(params, tape.gradient(loss, params))
        return loss

    return step, "model layer: Sequential(Dense 128 sigmoid, Dense 2), SparseCategoricalCrossentropy, Adam"


def _ops_step(ad, w1, w2):
    params = [ad.Variable(w1), ad.Variable([0.0] * 128), ad.Variable(w2), ad.Variable([0.0, 0.0])]

    def step(x, y):
        with ad.GradientTape() as tape:
            logits = ad.matmul(ad.sigmoid(ad.matmul(x, params[0]) + params[1]), params[2]) + params[3]
            loss = -ad.reduce_mean(ad.reduce_sum(ad.one_hot(y, 2) * ad.log_softmax(logits), axis=1))
        for p, g in zip(params, tape.gradient(loss, params)):
            p.assign_sub(ad.scale(0.01, g))
        return loss

    return step, "ops + Variables, SGD by assign_sub (the model layer is absent)"


def measure_child(args) -> None:
    import pyautodiff as ad
    fmod = importlib.import_module("pyautodiff.plan")  # the replay plans' switch
    threads = args.thread_counts[0]
    notes = common.limit_threads(threads)
    x = ad.array([[1, 3], [1, 4], [2, 4], [3, 1], [4, 1], [4, 2]], dtype="float32")
    y = ad.array([0, 0, 0, 1, 1, 1])

    eager, variant = build_step(ad, 0)
    traced = ad.Function(build_step(ad, 0)[0])
    python_loop = ad.Function(build_step(ad, 0)[0])
    saved, fmod._PLAN_OK = fmod._PLAN_OK, False  # trace this one for the Python replay loop
    try:
        python_loop(x, y)
    finally:
        fmod._PLAN_OK = saved
    eager_losses = [float(eager(x, y)) for _ in range(5)]
    traced_losses = [float(traced(x, y)) for _ in range(5)]
    if max(abs(a - b) for a, b in zip(eager_losses, traced_losses)) > 1e-4:
        notes.append(f"eager and Function losses differ: {eager_losses} vs {traced_losses}")
    (trace,) = traced._traces.values()
    notes.append(f"{variant}; the traced step makes {trace.forward.kernel_calls} kernel calls, replayed in "
                 f"{trace.forward.crossings} call(s) into C" + ("" if fmod._PLAN_OK else
                                                                " (the C plan is disabled: stale table)"))
    rows = []
    fns = {"eager": lambda: eager(x, y), "Function (C plan)": lambda: traced(x, y),
           "Function (Python loop)": lambda: python_loop(x, y)}
    for impl, t in common.measure_many(fns, args.mode).items():  # rounds interleaved: load drifts hit all alike
        rows.append(common.row("seed step (batch 6)", threads, impl, t["median_s"] * 1e6, t))
        print(f"  {impl:>24}: {rows[-1]['value']:8.1f} us/step", flush=True)
    common.write_child(args.child, rows, notes)


def goals(rows: list) -> list:
    return [common.goal("seed training step as ad.Function", f"≥ {GOAL:g}x faster than eager",
                        common.ratios_of(rows, "Function (C plan)", "eager"), GOAL)]


def main() -> None:
    args = common.parse_args(__doc__, threads_default="1")
    if args.child:
        return measure_child(args)
    payloads = common.run_children(__file__, args)
    rows = [r for p in payloads for r in p["rows"]]
    notes = [n for p in payloads for n in p["notes"]]
    threads = {str(n): p["threads"] for n, p in zip(args.thread_counts, payloads)}
    result = common.save("function", "Seed training step: eager vs ad.Function", "us", False, ["eager"], rows,
                         notes, args, threads, goals)
    for r in result["rows"]:
        if r["impl"] != "eager":
            print(f"{r['impl']}: {r['ratios'].get('eager', float('nan')):.1f}x faster than eager "
                  f"({r['threads']} thread(s))")


if __name__ == "__main__":
    main()

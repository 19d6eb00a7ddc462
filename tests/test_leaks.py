"""Leaks: long eager training runs and long Function replay runs must not grow the process's memory.

Natively, RSS is read from /proc/self/statm (Linux only) after gc.collect(), once after a warm-up and once
at the end; tracemalloc would slow the steps tenfold, so Python-level growth is caught by RSS as well.
The default run is the full 20,000 steps when that fits the suite's time; PYAUTODIFF_LEAK_STEPS=n
changes the count (the sanitizer run skips these tests: ASan's quarantine holds freed memory on purpose).
In Pyodide the wasm heap is measured instead: the bytes malloc has handed out and not taken back
(dlmalloc's mallinfo, which sees the kernels' buffers and Python's objects alike), and the linear
memory's size, which only ever grows.
"""

import gc
import os
import random
import sys

import pytest

import pyautodiff as ad

pytestmark = pytest.mark.skipif(os.environ.get("PYAUTODIFF_SANITIZE") == "1", reason="ASan keeps freed memory")
linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/statm")

STEPS = int(os.environ.get("PYAUTODIFF_LEAK_STEPS", "20000"))
WASM_STEPS = int(os.environ.get("PYAUTODIFF_LEAK_STEPS", "5000"))
WARMUP = 1000
LIMIT_MB = 2.0


def rss_mb() -> float:
    gc.collect()
    with open("/proc/self/statm") as f:
        resident_pages = int(f.read().split()[1])
    return resident_pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _matrix(rng, rows, cols, scale=1.0):
    return [[rng.uniform(-scale, scale) for _ in range(cols)] for _ in range(rows)]


class SmallModel:
    """8 -> 16 -> 1 MLP; one step = forward under a tape, gradient, SGD update through assign_sub."""

    def __init__(self, seed=0):
        rng = random.Random(seed)
        self.x = ad.array(_matrix(rng, 16, 8))
        self.y = ad.array(_matrix(rng, 16, 1))
        self.params = [ad.Variable(_matrix(rng, 8, 16, 0.5)), ad.Variable([0.0] * 16),
                       ad.Variable(_matrix(rng, 16, 1, 0.5)), ad.Variable([0.0])]

    def loss(self, x, y):
        w1, b1, w2, b2 = self.params
        h = ad.relu(ad.matmul(x, w1) + b1)
        return ad.reduce_mean(ad.square(ad.sigmoid(ad.matmul(h, w2) + b2) - y))

    def step(self):
        with ad.GradientTape() as tape:
            loss = self.loss(self.x, self.y)
        grads = tape.gradient(loss, self.params)
        for p, g in zip(self.params, grads):
            p.assign_sub(ad.scale(0.05, g))
        return loss


def _replayed_step(model):
    """SmallModel.step as an ad.Function (kept as .function), replayed on the model's batch."""
    @ad.function
    def step(x, y):
        with ad.GradientTape() as tape:
            loss = model.loss(x, y)
        grads = tape.gradient(loss, model.params)
        for p, g in zip(model.params, grads):
            p.assign_sub(ad.scale(0.05, g))
        return loss

    def replay():
        return step(model.x, model.y)

    replay.function = step
    return replay


def _growth(step, steps: int) -> tuple:
    for _ in range(WARMUP):
        step()
    before = rss_mb()
    for _ in range(steps):
        step()
    after = rss_mb()
    return before, after


@linux
def test_eager_training_steps_do_not_grow_rss():
    model = SmallModel()
    first = float(model.step())
    before, after = _growth(model.step, STEPS)
    assert float(model.step()) < first  # it really trained
    assert after - before < LIMIT_MB, f"RSS +{after - before:.2f} MB in {STEPS} steps"


@linux
def test_function_replays_do_not_grow_rss():
    model = SmallModel(1)
    step = _replayed_step(model)
    first = float(step())
    before, after = _growth(step, STEPS)
    assert step.function.trace_count == 1
    assert float(step()) < first
    assert after - before < LIMIT_MB, f"RSS +{after - before:.2f} MB in {STEPS} replays"


@linux
def test_function_under_a_tape_does_not_grow_rss():
    """The differentiable Function path: a replay node on an outer tape, and its backward replay."""
    model = SmallModel(2)
    loss_fn = ad.function(model.loss)

    def step():
        with ad.GradientTape() as tape:
            loss = loss_fn(model.x, model.y)
        grads = tape.gradient(loss, model.params)
        for p, g in zip(model.params, grads):
            p.assign_sub(ad.scale(0.05, g))

    before, after = _growth(step, STEPS)
    assert after - before < LIMIT_MB, f"RSS grew {after - before:.2f} MB over {STEPS} steps"


def _wasm_heap_mb(module, info) -> tuple:
    """(MB malloc'ed and not freed, MB of linear memory) after gc.collect()."""
    gc.collect()
    module._mallinfo(info)  # struct mallinfo returned through a pointer; uordblks is its 8th int
    return module.HEAP32[info // 4 + 7] / 2**20, module.HEAP8.length / 2**20


@pytest.mark.skipif(sys.platform != "emscripten", reason="the wasm heap exists in Pyodide only")
@pytest.mark.parametrize("kind", ["eager steps", "Function replays"])
def test_training_steps_do_not_grow_the_wasm_heap(kind):
    import pyodide_js

    module = pyodide_js._module
    model = SmallModel()
    step = model.step if kind == "eager steps" else _replayed_step(model)
    first = float(step())
    info = module._malloc(64)
    try:
        for _ in range(WARMUP):
            step()
        used_before, memory_before = _wasm_heap_mb(module, info)
        for _ in range(WASM_STEPS):
            step()
        used_after, memory_after = _wasm_heap_mb(module, info)
    finally:
        module._free(info)
    print(f"\nwasm heap over {WASM_STEPS} {kind}: malloc'ed {used_before:.3f} MB "
          f"{(used_after - used_before) * 1024:+.1f} KB, linear memory {memory_before:.1f} -> {memory_after:.1f} MB")
    assert float(step()) < first  # it really trained
    assert used_after - used_before < LIMIT_MB, f"malloc'ed +{used_after - used_before:.2f} MB in {WASM_STEPS} {kind}"
    assert memory_after - memory_before < LIMIT_MB, f"wasm memory +{memory_after - memory_before:.1f} MB"

"""MLP 784-512-512-10 ReLU, batch 128, softmax cross-entropy from logits, Adam: one training step of
pyautodiff eager and as an ad.Function vs PyTorch eager (and JAX jit when installed), 1 and 2 threads."""

from __future__ import annotations

import common

CASE = "MLP 784-512-512-10, batch 128"


def measure_child(args) -> None:
    import numpy as np
    import steps
    threads = args.thread_counts[0]
    notes = common.limit_threads(threads)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((128, 784), dtype=np.float32)
    y = rng.integers(0, 10, 128).astype(np.int32)
    built, more = steps.all_steps(steps.init_params([784, 512, 512, 10]), "relu", x, y, 0.001,
                                  include=("pyautodiff", "pytorch", "jax"))
    notes += more
    steps.measure_and_write(built, CASE, threads, args, notes)


def goals(rows: list) -> list:
    return [common.goal(f"MLP Adam step, {n} thread{'s' if n > 1 else ''}", "≥ 1.5x faster than PyTorch",
                        common.ratios_of(rows, impl, "pytorch", threads=n), 1.5)
            for n in sorted({r["threads"] for r in rows}) for impl in ("pyautodiff eager",)] + [
            common.goal(f"MLP Adam step as a Function, {n} thread{'s' if n > 1 else ''}",
                        "≥ 1.5x faster than PyTorch",
                        common.ratios_of(rows, "pyautodiff Function", "pytorch", threads=n), 1.5)
            for n in sorted({r["threads"] for r in rows})]


def main() -> None:
    common.step_bench_main(__file__, __doc__, "mlp", "MLP 784-512-512-10 training step (µs per step)", measure_child, goals)

if __name__ == "__main__":
    main()

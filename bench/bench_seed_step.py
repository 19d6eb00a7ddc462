"""The seed's training step: Dense 2->128 sigmoid -> Dense 128->2, sparse softmax cross-entropy from
logits, Adam (lr 0.001), batch 6. pyautodiff eager and as an ad.Function vs PyTorch eager, JAX jit of
the whole step and HIPS autograd, all at 1 thread, in µs per step."""

from __future__ import annotations

import common

CASE = "seed step 2-128-2, batch 6"
POINTS = [[1, 3], [1, 4], [2, 4], [3, 1], [4, 1], [4, 2]]
LABELS = [0, 0, 0, 1, 1, 1]


def measure_child(args) -> None:
    import numpy as np
    import steps
    threads = args.thread_counts[0]
    notes = common.limit_threads(threads)
    x, y = np.array(POINTS, dtype=np.float32), np.array(LABELS, dtype=np.int32)
    built, more = steps.all_steps(steps.init_params([2, 128, 2]), "sigmoid", x, y, 0.001)
    notes += more
    steps.measure_and_write(built, CASE, threads, args, notes)


def goals(rows: list) -> list:
    return [common.goal("seed step, eager", "≥ 5x faster than PyTorch eager",
                        common.ratios_of(rows, "pyautodiff eager", "pytorch"), 5.0),
            common.goal("seed step, eager in the seed's form", "≥ 5x faster than PyTorch eager",
                        common.ratios_of(rows, "pyautodiff eager (seed form)", "pytorch"), 5.0),
            common.goal("seed step, Function", "≥ 20x faster than PyTorch eager",
                        common.ratios_of(rows, "pyautodiff Function", "pytorch"), 20.0),
            common.goal("seed step, Function", "faster than JAX jit",
                        common.ratios_of(rows, "pyautodiff Function", "jax jit"), 1.0)]


def main() -> None:
    args = common.parse_args(__doc__, threads_default="1")
    if args.child:
        return measure_child(args)
    payloads = common.run_children(__file__, args)
    common.save("seed_step", "The seed's training step (µs per step)", "us", False, ["pytorch", "jax jit"],
                [r for p in payloads for r in p["rows"]], [n for p in payloads for n in p["notes"]], args,
                {str(n): p["threads"] for n, p in zip(args.thread_counts, payloads)}, goals)


if __name__ == "__main__":
    main()

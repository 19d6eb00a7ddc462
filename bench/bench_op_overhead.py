"""Per-op overhead: one small op, x + 2 with x of shape (6, 2) float32, and a 6x2 @ 2x128 matmul:
pyautodiff vs numpy vs PyTorch eager, 1 thread, in µs per call."""

from __future__ import annotations

import common


def measure_child(args) -> None:
    import numpy as np

    import pyautodiff as ad
    threads, notes, torch = common.call_child(args)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 2), dtype=np.float32)
    w = rng.standard_normal((2, 128), dtype=np.float32)
    impls = {"pyautodiff": (ad.array(x), ad.array(w), ad.matmul), "numpy": (x, w, np.matmul)}
    if torch is not None:
        impls["pytorch"] = (torch.from_numpy(x), torch.from_numpy(w), torch.matmul)
    cases = {"x + 2, x (6, 2) float32": lambda a, b, mm: lambda: a + 2,
             "matmul 6x2 @ 2x128": lambda a, b, mm: lambda: mm(a, b)}
    rows = common.time_calls({case: {impl: make(*operands) for impl, operands in impls.items()}
                              for case, make in cases.items()}, threads, args.mode, notes)
    common.write_child(args.child, rows, notes)


def main() -> None:
    common.step_bench_main(__file__, __doc__, "op_overhead", "Per-op overhead (µs per call)", measure_child, None,
                           ("numpy", "pytorch"), threads_default="1")


if __name__ == "__main__":
    main()

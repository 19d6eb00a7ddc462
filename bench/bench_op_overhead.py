"""Per-op overhead: one small op, x + 2 with x of shape (6, 2) float32, and a 6x2 @ 2x128 matmul:
pyautodiff vs numpy vs PyTorch eager, 1 thread, in µs per call."""

from __future__ import annotations

import common


def measure_child(args) -> None:
    import numpy as np

    import pyautodiff as ad
    threads = args.thread_counts[0]
    notes = common.limit_threads(threads)
    torch = common.optional("torch")
    if torch is None:
        notes.append("skipped pytorch: not installed (pip install -r bench/requirements.txt)")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 2), dtype=np.float32)
    w = rng.standard_normal((2, 128), dtype=np.float32)
    impls = {"pyautodiff": (ad.array(x), ad.array(w), ad.matmul), "numpy": (x, w, np.matmul)}
    if torch is not None:
        impls["pytorch"] = (torch.from_numpy(x), torch.from_numpy(w), torch.matmul)
    cases = {"x + 2, x (6, 2) float32": lambda a, b, mm: lambda: a + 2,
             "matmul 6x2 @ 2x128": lambda a, b, mm: lambda: mm(a, b)}
    rows = []
    for case, make in cases.items():
        fns = {impl: make(*operands) for impl, operands in impls.items()}
        expected = np.asarray(fns["numpy"]())
        for impl, fn in fns.items():
            value = np.asarray(fn())
            if value.shape != expected.shape or not np.allclose(value, expected, rtol=1e-5, atol=1e-5):
                notes.append(f"{case}: {impl} computes a different result from numpy")
        for impl, t in common.measure_many(fns, args.mode).items():
            rows.append(common.row(case, threads, impl, t["median_s"] * 1e6, t))
            print(f"  {case:>24} {impl:>10}: {rows[-1]['value']:8.2f} µs", flush=True)
    common.write_child(args.child, rows, notes)


def main() -> None:
    args = common.parse_args(__doc__, threads_default="1")
    if args.child:
        return measure_child(args)
    payloads = common.run_children(__file__, args)
    common.save("op_overhead", "Per-op overhead (µs per call)", "us", False, ["numpy", "pytorch"],
                [r for p in payloads for r in p["rows"]], [n for p in payloads for n in p["notes"]], args,
                {str(n): p["threads"] for n, p in zip(args.thread_counts, payloads)})


if __name__ == "__main__":
    main()

"""sgemm GFLOP/s: ad.matmul vs numpy.matmul (OpenBLAS), square sizes and the MLP's shapes, 1 and 2 threads."""

from __future__ import annotations

import common

SQUARE = [64, 128, 256, 512, 1024]
QUICK_SQUARE = [64, 128, 256]
MLP_SHAPES = [(128, 784, 512), (128, 512, 10)]  # (m, k, n): the MLP's first and last layer forward


def label(m: int, k: int, n: int) -> str:
    return f"{m}" if m == k == n else f"{m}x{k} @ {k}x{n}"


def measure_child(args) -> None:
    import numpy as np

    import pyautodiff as ad
    threads = args.thread_counts[0]
    notes = common.limit_threads(threads)
    rng = np.random.default_rng(0)
    sizes = QUICK_SQUARE if args.quick else SQUARE
    rows = []
    for m, k, n in [(s, s, s) for s in sizes] + MLP_SHAPES:
        a = rng.standard_normal((m, k), dtype=np.float32)
        b = rng.standard_normal((k, n), dtype=np.float32)
        ta, tb = ad.array(a), ad.array(b)
        exact = a.astype(np.float64) @ b.astype(np.float64)
        err = float(np.max(np.abs(np.asarray(ad.matmul(ta, tb)) - exact)) / np.max(np.abs(exact)))
        if err > 1e-4:
            notes.append(f"{label(m, k, n)}: ad.matmul is off by {err:.2e} (relative to max |c|)")
        flops = 2.0 * m * k * n
        timings = common.measure_many({"pyautodiff": lambda ta=ta, tb=tb: ad.matmul(ta, tb),
                                       "numpy": lambda a=a, b=b: np.matmul(a, b)}, args.mode)
        for impl, t in timings.items():
            rows.append(common.row(label(m, k, n), threads, impl, flops / t["median_s"] / 1e9, t,
                                   **({"max_rel_err": err} if impl == "pyautodiff" else {})))
            print(f"  {label(m, k, n):>18} {threads}t {impl:>10}: {rows[-1]['value']:7.1f} GFLOP/s", flush=True)
    common.write_child(args.child, rows, notes)


def goals(rows: list) -> list:
    big = [str(s) for s in (256, 512, 1024)]
    return [common.goal("sgemm 256-1024, 1 thread", "≥ 0.95x numpy/OpenBLAS GFLOP/s",
                        common.ratios_of(rows, "pyautodiff", "numpy", big, 1), 0.95),
            common.goal("sgemm 512-1024, 2 threads", "≥ 0.9x numpy/OpenBLAS GFLOP/s",
                        common.ratios_of(rows, "pyautodiff", "numpy", big[1:], 2), 0.9)]


def main() -> None:
    args = common.parse_args(__doc__)
    if args.child:
        return measure_child(args)
    payloads = common.run_children(__file__, args)
    rows = [r for p in payloads for r in p["rows"]]

    notes = [n for p in payloads for n in p["notes"]]
    threads = {str(n): p["threads"] for n, p in zip(args.thread_counts, payloads)}
    common.save("sgemm", "sgemm (float32 C = A @ B)", "GFLOP/s", True, ["numpy"], rows, notes, args, threads,
                goals)


if __name__ == "__main__":
    main()

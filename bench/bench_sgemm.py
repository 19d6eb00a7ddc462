"""sgemm GFLOP/s: ad.matmul vs numpy.matmul (OpenBLAS), square sizes and the MLP's shapes, 1 and 2 threads."""

from __future__ import annotations

import os

import common

SQUARE = [64, 128, 256, 512, 1024]
QUICK_SQUARE = [64, 128, 256]
MLP_SHAPES = [(128, 784, 512), (128, 512, 10)]  # (m, k, n): the MLP's first and last layer forward
# the MLP's backward products of its first layer: dW = x^T dy (a transposed) and dx = dy W^T (b transposed)
BACKWARD = [(784, 128, 512, "T", ""), (128, 512, 784, "", "T")]
# issue 18: no leading dimension may fall off a cliff: powers of two (b's rows 2-8 KiB apart) and odd ones
LEADING = [(128, 256, n) for n in (512, 1024, 2048, 1000, 1023)] + [(128, 2048, 256)]
# issue 18: the narrower kernels a CPU without AVX-512 (or without AVX2) runs, forced with PYAUTODIFF_SIMD on this one
# (one thread; the products from 256 up and the MLP's): (vector width in bytes, the OpenBLAS kernels of that width,
# forced with OPENBLAS_CORETYPE, numpy's OpenBLAS choosing its kernels at run time: Haswell's are AVX2 + FMA,
# Nehalem's SSE without FMA, as the baseline level's), so that each level is measured against its like
SIMD_LEVELS = {"avx2": (32, "Haswell"), "baseline": (16, "Nehalem")}


def label(m: int, k: int, n: int, ta: str = "", tb: str = "") -> str:
    return f"{m}" if m == k == n and not ta + tb else f"{m}x{k}{ta} @ {k}x{n}{tb}"


def measure_child(args) -> None:
    import numpy as np

    import pyautodiff as ad
    threads = args.thread_counts[0]
    notes = common.limit_threads(threads)
    rng = np.random.default_rng(0)
    sizes = QUICK_SQUARE if args.quick else SQUARE
    rows = []
    level = os.environ.get("PYAUTODIFF_SIMD")  # set: a run of the narrower kernels, against OpenBLAS's of that width
    ours_name, numpy_name = (f"pyautodiff {level}", f"numpy {level}") if level else ("pyautodiff", "numpy")
    if level:
        core = openblas_core()
        wanted = os.environ.get("OPENBLAS_CORETYPE", "")
        notes.append(f"{ours_name}: PYAUTODIFF_SIMD={level}, {ad.backend_info()['simd_bytes']}-byte vectors, as on a "
                     f"CPU without wider ones; {numpy_name}: OPENBLAS_CORETYPE={wanted}, OpenBLAS's {core} kernels")
        if core is None or core.lower() != wanted.lower():
            numpy_name = None  # (OpenBLAS did not take that core: no like to compare with)
            notes.append(f"{ours_name}: numpy's BLAS runs {core} kernels, not {wanted}: no reference at this width")
    shapes = [(s, s, s, "", "") for s in sizes if not level or s >= 256] + [(*mkn, "", "") for mkn in MLP_SHAPES] + \
        BACKWARD
    for m, k, n, tra, trb in shapes + ([] if args.quick else [(*mkn, "", "") for mkn in LEADING]):
        # stored as the product reads them: a (k, m) when transposed, b (n, k); numpy multiplies the .T views
        a = rng.standard_normal((k, m) if tra else (m, k), dtype=np.float32)
        b = rng.standard_normal((n, k) if trb else (k, n), dtype=np.float32)
        na, nb = (a.T if tra else a), (b.T if trb else b)
        ta, tb = ad.array(a), ad.array(b)

        def ours(ta=ta, tb=tb, tra=bool(tra), trb=bool(trb)):
            return ad.matmul(ta, tb, transpose_a=tra, transpose_b=trb)
        exact = na.astype(np.float64) @ nb.astype(np.float64)
        err = float(np.max(np.abs(np.asarray(ours()) - exact)) / np.max(np.abs(exact)))
        name = label(m, k, n, tra, trb)
        if err > 1e-4:
            notes.append(f"{name}: ad.matmul is off by {err:.2e} (relative to max |c|)")
        flops = 2.0 * m * k * n
        timings = common.measure_many({ours_name: ours} if numpy_name is None else
                                      {ours_name: ours, numpy_name: lambda na=na, nb=nb: np.matmul(na, nb)}, args.mode)
        for impl, t in timings.items():
            extra = {"level": level} if level else {}
            if impl == ours_name:
                extra.update(max_rel_err=err, simd_bytes=ad.backend_info()["simd_bytes"])
            rows.append(common.row(name, threads, impl, flops / t["median_s"] / 1e9, t, **extra))
            print(f"  {name:>20} {threads}t {impl:>10}: {rows[-1]['value']:7.1f} GFLOP/s", flush=True)
    common.write_child(args.child, rows, notes)


def openblas_core() -> str | None:
    """The kernels numpy's OpenBLAS runs (threadpoolctl's "architecture"), None if unknown."""
    tpc = common.optional("threadpoolctl")
    blas = [lib for lib in tpc.threadpool_info() if lib.get("internal_api") == "openblas"] if tpc else []
    return blas[0].get("architecture") if blas else None


def goals(rows: list) -> list:
    big = [str(s) for s in (256, 512, 1024)]
    mlp = [label(*mkn) for mkn in MLP_SHAPES] + [label(*shape) for shape in BACKWARD]
    leading = [label(*mkn) for mkn in LEADING]
    return [common.goal("sgemm 256-1024, 1 thread", "≥ 0.95x numpy/OpenBLAS GFLOP/s",
                        common.ratios_of(rows, "pyautodiff", "numpy", big, 1), 0.95),
            common.goal("sgemm, the MLP's products forward and backward, 1 thread", "≥ 0.95x numpy/OpenBLAS GFLOP/s",
                        common.ratios_of(rows, "pyautodiff", "numpy", mlp, 1), 0.95),
            common.goal("sgemm, leading dimensions 256-2048 incl. odd ones, 1 thread",
                        "≥ 0.9x numpy/OpenBLAS GFLOP/s (no cliff)",
                        common.ratios_of(rows, "pyautodiff", "numpy", leading, 1), 0.9),
            common.goal("sgemm 512-1024, 2 threads", "≥ 0.9x numpy/OpenBLAS GFLOP/s",
                        common.ratios_of(rows, "pyautodiff", "numpy", big[1:], 2), 0.9),
            # a CPU with AVX2 but not AVX-512 (Zen 1-3, Intel's client cores): this one's AVX2 kernels against
            # OpenBLAS's Haswell ones (the baseline level is reported without a goal: such CPUs predate 2013)
            common.goal("sgemm at AVX2 width, 256-1024 and the MLP's products, 1 thread",
                        "≥ 0.95x numpy/OpenBLAS (its Haswell kernels) GFLOP/s",
                        common.ratios_of(rows, "pyautodiff avx2", "numpy", big + mlp, 1), 0.95),
            common.goal("sgemm at AVX2 width, leading dimensions, 1 thread",
                        "≥ 0.9x numpy/OpenBLAS (its Haswell kernels) GFLOP/s (no cliff)",
                        common.ratios_of(rows, "pyautodiff avx2", "numpy", leading, 1), 0.9)]


def main() -> None:
    args = common.parse_args(__doc__)
    if args.child:
        return measure_child(args)
    payloads = common.run_children(__file__, args)
    rows = [r for p in payloads for r in p["rows"]]
    widest = max((r.get("simd_bytes", 0) for r in rows), default=0)
    for level, (width, core) in SIMD_LEVELS.items():  # the narrower kernels this CPU also has
        if width < widest and 1 in args.thread_counts:
            payloads += common.run_children(__file__, args, [1], {"PYAUTODIFF_SIMD": level, "OPENBLAS_CORETYPE": core})
            rows += payloads[-1]["rows"]

    notes = [n for p in payloads for n in p["notes"]]
    threads = {str(n): p["threads"] for n, p in zip(args.thread_counts, payloads)}
    common.save("sgemm", "sgemm (float32 C = A @ B)", "GFLOP/s", True, ["numpy"], rows, notes, args, threads,
                goals)


if __name__ == "__main__":
    main()

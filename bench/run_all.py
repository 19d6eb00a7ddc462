"""Run every benchmark, then write bench/results/table.md and chart.png (quick: bench/results/quick/).

    .venv/bin/python bench/run_all.py            # full: the README's numbers (a few minutes)
    .venv/bin/python bench/run_all.py --quick    # CI smoke: seconds per script
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

import common

SCRIPTS = ["bench_sgemm.py", "bench_seed_step.py", "bench_mlp.py", "bench_cnn.py", "bench_lstm.py",
           "bench_op_overhead.py"]


def wait_idle(limit: float) -> None:
    deadline = time.monotonic() + limit
    while limit and time.monotonic() < deadline:
        busy = common.background_load(1.0)
        if busy is None or busy < 0.2:
            return
        print(f"waiting: other processes keep {busy:.1f} cores busy", flush=True)
        time.sleep(4)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="CI smoke mode: tiny round counts")
    p.add_argument("--wait-idle", type=float, default=0, metavar="SECONDS",
                   help="before each script, wait up to this long for other processes to leave the CPU idle")
    args = p.parse_args()
    mode = common.Mode(args.quick)
    others = sorted(f.name for f in common.BENCH.glob("bench_*.py") if f.name not in SCRIPTS)
    failed = []
    start = time.perf_counter()
    for script in SCRIPTS + others:
        print(f"=== {script}", flush=True)
        wait_idle(args.wait_idle)
        cmd = [sys.executable, str(common.BENCH / script)] + (["--quick"] if args.quick else [])
        if subprocess.run(cmd, check=False, cwd=common.REPO).returncode:
            failed.append(script)
    table = common.write_table(mode.results_dir)
    chart = common.write_chart(mode.results_dir)
    print(f"=== done in {time.perf_counter() - start:.0f} s")
    for path in (table, chart):
        if path:
            print(f"wrote {path.relative_to(common.REPO)}")
    if failed:
        print(f"FAILED: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

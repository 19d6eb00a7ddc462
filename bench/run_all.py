"""Run every benchmark, then write bench/results/table.md and chart.png (quick: bench/results/quick/).

    .venv/bin/python bench/run_all.py            # full: the README's numbers (a few minutes)
    .venv/bin/python bench/run_all.py --quick    # CI smoke: seconds per script
    .venv/bin/python bench/run_all.py --runs 5   # five consecutive runs; results/runs.md: each goal per run

A goal counts as held when it passes in at least 4 of 5 consecutive runs (single rows move by up to ~10% from one
run to the next on a 2-vCPU VM), so the README quotes runs.md where one exists.
"""

from __future__ import annotations

import argparse
import json
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


def goals_now(directory) -> list[dict]:
    return [dict(g, timestamp=r.get("timestamp")) for r in common.load_results(directory) for g in r.get("goals", [])]


def write_runs(directory, runs: list[list[dict]]):
    """results/runs.md and runs.json: every goal's worst ratio in each run and how many runs it passed."""
    (directory / "runs.json").write_text(json.dumps(runs, indent=1) + "\n")
    rows = {}
    for i, goals in enumerate(runs):
        for g in goals:
            rows.setdefault((g["figure"], g["goal"]), [None] * len(runs))[i] = g
    lines = [f"## Goals over {len(runs)} consecutive runs", "",
             common.header(common.load_results(directory)[0]), "",
             "| figure | goal | " + " | ".join(f"run {i + 1}" for i in range(len(runs))) + " | passed |",
             "|---|---|" + "---:|" * len(runs) + ":---:|"]
    for (figure, text), per_run in rows.items():
        met = sum(1 for g in per_run if g and g["met"])
        cells = " | ".join("–" if not g or g["ratio"] is None else f"{g['ratio']:.2f}x" for g in per_run)
        judged = any(g and g["met"] is not None for g in per_run)
        lines.append(f"| {figure} | {text} | {cells} | {f'{met} of {len(runs)}' if judged else 'n/a'} |")
    path = directory / "runs.md"
    path.write_text("\n".join(lines) + "\n")
    return path


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="CI smoke mode: tiny round counts")
    p.add_argument("--wait-idle", type=float, default=0, metavar="SECONDS",
                   help="before each script, wait up to this long for other processes to leave the CPU idle")
    p.add_argument("--runs", type=int, default=1, metavar="N",
                   help="run everything N times in a row; results/runs.md lists every goal per run (N > 1)")
    args = p.parse_args()
    mode = common.Mode(args.quick)
    others = sorted(f.name for f in common.BENCH.glob("bench_*.py") if f.name not in SCRIPTS)
    failed, runs = [], []
    start = time.perf_counter()
    for run in range(max(1, args.runs)):
        for script in SCRIPTS + others:
            print(f"=== {script}" + (f" (run {run + 1} of {args.runs})" if args.runs > 1 else ""), flush=True)
            wait_idle(args.wait_idle)
            cmd = [sys.executable, str(common.BENCH / script)] + (["--quick"] if args.quick else [])
            if subprocess.run(cmd, check=False, cwd=common.REPO).returncode:
                failed.append(script)
        runs.append(goals_now(mode.results_dir))
    table = common.write_table(mode.results_dir)
    chart = common.write_chart(mode.results_dir)
    summary = write_runs(mode.results_dir, runs) if args.runs > 1 else None
    if not summary:  # an older multi-run summary no longer describes these results
        for stale in ("runs.md", "runs.json"):
            (mode.results_dir / stale).unlink(missing_ok=True)
    print(f"=== done in {time.perf_counter() - start:.0f} s")
    for path in (table, chart, summary):
        if path:
            print(f"wrote {path.relative_to(common.REPO)}")
    if failed:
        print(f"FAILED: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

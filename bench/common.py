"""Shared machinery of the benchmarks: machine facts, timing, per-thread-count subprocesses, results.

Every benchmark script measures its implementations side by side in one run and writes
`bench/results/<name>.json` (quick mode: `bench/results/quick/<name>.json`, so a CI smoke run never
overwrites the numbers the README embeds). `write_table` aggregates every results file of a directory
into `table.md` and `write_chart` draws `chart.png` from the same data.

A results file is a JSON object; any script (also ones not written with this module) may add one:
    name, title, unit ("GFLOP/s" | "us"), higher_is_better, references (implementation names),
    quick, timestamp, machine, versions, threads ({"1": {...settings in effect}, ...}),
    rows: [{case, threads, impl, value, ratios: {reference: speedup}}, ...],  (optional per row: rounds_s, the
          seconds per call of each timed round, and group, the same for rows whose rounds were interleaved)
    goals: [{figure, goal, ratio, met}], notes: [str]
A ratio is always "times faster than the reference": reference_time / time, or rate / reference_rate. Where both
rows were timed together (measure_many: rounds interleaved), it is the median over rounds of each round's ratio
(paired: a slow spell of a shared host, lasting a round or two, weighs on both sides of a pair alike instead of on
one side's median); elsewhere the ratio of the two values. `ratios_of_medians` keeps the latter for every row.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import itertools
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
RESULTS = BENCH / "results"
ORDER = ["sgemm", "seed_step", "mlp", "cnn", "op_overhead"]  # table order; other results files follow by name
THREAD_ENV = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")

if str(REPO) not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, str(REPO))


# --- settings --------------------------------------------------------------------------------------

class Mode:
    """Timing budget. Quick: a CI smoke run of a few seconds; full: the numbers for the README."""

    def __init__(self, quick: bool):
        self.quick = quick
        # (11, not 7: each figure is the median of per-round ratios, and a goal row the worst of up to 7 figures; on
        # a shared host whose slow spells move single rounds by 20-30%, 7 rounds let one spell decide a figure)
        self.rounds = 3 if quick else 11
        self.min_round_s = 0.002 if quick else 0.1   # calls per round are chosen to last at least this
        self.warmup_s = 0.0 if quick else 0.3       # plus at least two warm-up calls
        self.max_measure_s = 1.0 if quick else 6.0  # fewer rounds (never under 3) for slow calls

    @property
    def results_dir(self) -> Path:
        return RESULTS / "quick" if self.quick else RESULTS


def parse_args(description: str, threads_default: str = "1,2") -> argparse.Namespace:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--quick", action="store_true", help="CI smoke mode: tiny round counts, seconds in total")
    p.add_argument("--threads", default=threads_default, help="comma-separated thread counts to measure")
    p.add_argument("--child", help=argparse.SUPPRESS)  # internal: path where a child writes its rows
    args = p.parse_args()
    args.thread_counts = [int(t) for t in str(args.threads).split(",")]
    args.mode = Mode(args.quick)
    args.background = None if args.child else background_load()
    if not args.child:  # (before numpy loads here; each child's environment is made from this one)
        BLAS_ENV_UNSET.update((k, os.environ.pop(k)) for k in BLAS_ENV if k in os.environ)
    return args


# Some machines of this workplace set these for older OpenBLAS builds (which err or crash on some CPUs without them);
# a current numpy, the reference here, runs slower kernels under them. So every measurement runs without them, numpy's
# OpenBLAS choosing its kernels for the CPU (a child given OPENBLAS_CORETYPE explicitly, for the narrower SIMD levels,
# keeps it), and the results say what was unset and which kernels ran.
BLAS_ENV = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
BLAS_ENV_UNSET: dict = {}


# --- machine and versions ------------------------------------------------------------------------

def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_flags() -> list[str]:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                have = set(line.split(":", 1)[1].split())
                return [f for f in ("sse4_2", "avx", "avx2", "fma", "avx512f") if f in have]
    except OSError:
        pass
    return []


def background_load(seconds: float = 0.5) -> float | None:
    """Cores kept busy by other processes while this one sleeps (from /proc/stat); None where unknown."""
    def sample():
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        return sum(fields), fields[3] + fields[4]  # total, idle + iowait
    try:
        total0, idle0 = sample()
        time.sleep(seconds)
        total1, idle1 = sample()
    except (OSError, ValueError, IndexError):
        return None
    busy = 1.0 - (idle1 - idle0) / max(total1 - total0, 1)
    return round(busy * (os.cpu_count() or 1), 2)


def machine_info() -> dict:
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    return {"cpu": cpu_model(), "cores": os.cpu_count(), "usable_cores": usable, "cpu_flags": cpu_flags(),
            "python": platform.python_version(), "platform": platform.platform(),
            "env": {k: os.environ[k] for k in (*THREAD_ENV, *BLAS_ENV, "XLA_FLAGS") if k in os.environ},
            "env_unset": dict(BLAS_ENV_UNSET)}


def _git_revision() -> str | None:
    try:
        rev = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], check=False,
                             capture_output=True,
                             text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"],
                               check=False, capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return (rev + ("+dirty" if dirty else "")) or None


def optional(module: str):
    """Import an optional reference library; None when it is absent or broken."""
    try:
        return importlib.import_module(module)
    except Exception:  # noqa: BLE001 - a broken install counts as absent, and is reported as such
        return None


def versions() -> dict:
    out = {"pyautodiff": None, "git": _git_revision()}
    for name in ("pyautodiff", "numpy", "torch", "jax", "jaxlib", "autograd", "threadpoolctl", "matplotlib"):
        try:
            from importlib.metadata import version
            out[name] = version(name)
        except Exception:  # noqa: BLE001 - not installed
            out.setdefault(name, None)
    tpc = optional("threadpoolctl")
    if tpc is not None and optional("numpy") is not None:
        for lib in tpc.threadpool_info():
            if lib.get("user_api") == "blas":
                out["numpy_blas"] = f"{lib.get('internal_api')} {lib.get('version')} ({lib.get('architecture')})"
    return out


def thread_settings() -> dict:
    """The thread counts actually in effect in this process."""
    info = {k: os.environ.get(k) for k in THREAD_ENV}
    if hasattr(os, "sched_getaffinity"):
        info["cores_pinned"] = len(os.sched_getaffinity(0))
    tpc = optional("threadpoolctl")
    if tpc is not None:
        info["threadpoolctl"] = {f"{lib['user_api']}:{lib['prefix']}": lib["num_threads"]
                                 for lib in tpc.threadpool_info()}
    if sys.modules.get("torch") is not None:
        info["torch"] = sys.modules["torch"].get_num_threads()
    if sys.modules.get("pyautodiff") is not None:
        info["pyautodiff"] = sys.modules["pyautodiff"].get_num_threads()
    return info


# --- threads -------------------------------------------------------------------------------------

def limit_threads(n: int) -> list[str]:
    """In a child whose env already caps BLAS/OpenMP at n: cap every library in reach at n threads.

    Returns notes on what could not be capped.
    """
    notes = []
    try:  # fewer threads than cores: the whole process on n cores, so no library can use more
        usable = sorted(os.sched_getaffinity(0))
        if n < len(usable):
            os.sched_setaffinity(0, usable[:n])
    except (AttributeError, OSError) as e:
        notes.append(f"could not pin the process to {n} core(s): {e}")
    tpc = optional("threadpoolctl")
    if tpc is not None:
        optional("numpy")
        tpc.threadpool_limits(limits=n)
    torch = optional("torch")
    if torch is not None:
        torch.set_num_threads(n)
    import pyautodiff as ad
    try:
        ad.set_num_threads(n)
    except (ValueError, AttributeError) as e:
        notes.append(f"pyautodiff: set_num_threads({n}) failed ({e}); ran with {ad.get_num_threads()}")
    return notes


def child_env(n: int) -> dict:
    env = dict(os.environ)  # (without BLAS_ENV: parse_args took them out)
    for k in THREAD_ENV:
        env[k] = str(n)
    xla = env.get("XLA_FLAGS", "")
    if n == 1 and "intra_op_parallelism_threads" not in xla:
        env["XLA_FLAGS"] = (xla + " --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1").strip()
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


def run_children(script: str, args: argparse.Namespace, thread_counts: list | None = None,
                 env: dict | None = None) -> list[dict]:
    """Run `script --child` once per thread count (args.thread_counts unless given), each in a fresh process whose
    BLAS/OpenMP thread env (plus `env`) is set before numpy/torch load. Returns each child's payload (rows, notes,
    threads)."""
    payloads = []
    for n in thread_counts or args.thread_counts:
        with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
            out = f.name
        cmd = [sys.executable, script, "--threads", str(n), "--child", out] + (["--quick"] if args.quick else [])
        print(f"--- {Path(script).name}: {n} thread(s){''.join(f', {k}={v}' for k, v in (env or {}).items())}",
              flush=True)
        proc = subprocess.run(cmd, check=False, env={**child_env(n), **(env or {})})
        try:
            if proc.returncode:
                raise RuntimeError(f"child exited with status {proc.returncode}")
            payloads.append(json.loads(Path(out).read_text()))
        except (RuntimeError, OSError, json.JSONDecodeError) as e:
            args.failed = True
            payloads.append({"rows": [], "notes": [f"{n} thread(s): measurement failed ({e})"], "threads": {}})
        finally:
            Path(out).unlink(missing_ok=True)
    return payloads


def merged_notes(thread_counts: list, payloads: list) -> list:
    """The children's notes, each said once: the first child's, then what another adds (named by its threads)."""
    notes = []
    for n, p in zip(thread_counts, payloads):
        notes += [note if n == thread_counts[0] or ":" not in note else f"{n} threads: {note}"
                  for note in p["notes"] if n == thread_counts[0] or note not in payloads[0]["notes"]]
    return notes


def write_child(path: str, rows: list, notes: list) -> None:
    Path(path).write_text(json.dumps({"rows": rows, "notes": notes, "threads": thread_settings()}))


# --- timing --------------------------------------------------------------------------------------

def _calibrate(fn, mode: Mode) -> tuple[int, int]:
    """Warm fn up; return (calls per round, rounds) for the mode's budget."""
    t0 = time.perf_counter()
    fn()
    first = time.perf_counter() - t0
    calls = 1
    t0 = time.perf_counter()
    while calls < 2 or time.perf_counter() - t0 < mode.warmup_s:
        fn()
        calls += 1
    per_call = max(min(first, (time.perf_counter() - t0) / max(calls - 1, 1)), 1e-9)
    number = max(1, int(mode.min_round_s / per_call))
    return number, max(3, min(mode.rounds, int(mode.max_measure_s / (per_call * number))))


_groups = itertools.count()


def _summary(times: list[float], number: int, group: str) -> dict:
    return {"median_s": statistics.median(times), "min_s": min(times), "max_s": max(times),
            "rounds": len(times), "number": number, "rounds_s": times, "group": group}


def measure(fn, mode: Mode) -> dict:
    """Median seconds per call of fn() over several rounds after a warm-up (time.perf_counter).

    fn must finish its work before returning (block on asynchronous results). Rounds run with
    the garbage collector as a user has it; one collection before the first round.
    """
    return measure_many({"fn": fn}, mode)["fn"]


def measure_many(fns: dict, mode: Mode) -> dict:
    """measure() for several implementations of the same thing, their rounds interleaved, so that a
    change of machine load during the run weighs on all of them alike. Returns {name: timing}."""
    plan = {name: _calibrate(fn, mode) for name, fn in fns.items()}
    times: dict = {name: [] for name in fns}
    # With several threads, a library's workers keep spinning for a while after each call (OpenBLAS
    # about 0.1 s, OpenMP pools too) and would take a core from whatever runs next: let them settle.
    # Busy-waiting, not sleeping: on this VM a process that sleeps 0.3 s comes back to slower vCPUs for
    # the next ~0.1 s (2-thread MLP rounds, three runs each way: PyTorch 4.55-5.28 ms after sleeping,
    # 4.35-4.47 after busy-waiting; pyautodiff 2.77-3.34 vs 2.56-2.61).
    settle = 0.3 if int(os.environ.get("OPENBLAS_NUM_THREADS", "1")) > 1 and len(fns) > 1 else 0.0
    gc.collect()
    for r in range(max(rounds for _, rounds in plan.values())):
        for name, fn in fns.items():
            number, rounds = plan[name]
            if r < rounds:
                if settle:
                    until = time.perf_counter() + settle
                    while time.perf_counter() < until:
                        pass
                    fn()  # wake this implementation's own threads outside the timed round
                t0 = time.perf_counter()
                for _ in range(number):
                    fn()
                times[name].append((time.perf_counter() - t0) / number)
    group = f"{os.getpid()}-{next(_groups)}"  # (rows of one call: their rounds pair up, see add_ratios)
    return {name: _summary(times[name], plan[name][0], group) for name in fns}


def row(case: str, threads: int, impl: str, value: float, timing: dict | None = None, **extra) -> dict:
    r = {"case": case, "threads": threads, "impl": impl, "value": value}
    if timing:
        r.update({k: timing[k] for k in ("median_s", "min_s", "max_s", "rounds", "number", "rounds_s", "group")
                  if k in timing})
    r.update(extra)
    return r


# --- results -------------------------------------------------------------------------------------

def paired_ratio(row: dict, ref: dict) -> float | None:
    """Median over the interleaved rounds of reference seconds / seconds, where the two rows were timed together."""
    if row.get("group") is None or row.get("group") != ref.get("group"):
        return None
    pairs = [b / a for a, b in zip(row.get("rounds_s") or [], ref.get("rounds_s") or []) if a > 0]
    return statistics.median(pairs) if pairs else None


def add_ratios(rows: list, references: list, higher_is_better: bool) -> None:
    """Each row's ratio to each reference of its case, threads and SIMD level (a row's "level": the reference
    measured beside it at the same forced vector width, impl "<reference> <level>")."""
    ref = {(r["case"], r["threads"], r["impl"]): r for r in rows}
    for r in rows:
        r["ratios"], r["ratios_of_medians"] = {}, {}
        for name in references:
            b = ref.get((r["case"], r["threads"], f"{name} {r['level']}" if r.get("level") else name))
            if b and b["value"] and r["value"]:
                of_medians = r["value"] / b["value"] if higher_is_better else b["value"] / r["value"]
                r["ratios_of_medians"][name] = of_medians
                paired = paired_ratio(r, b)
                r["ratios"][name] = of_medians if paired is None else paired


def ratios_of(rows: list, impl: str, reference: str, cases=None, threads=None) -> list[float]:
    return [r["ratios"][reference] for r in rows
            if r["impl"] == impl and reference in r.get("ratios", {})
            and (cases is None or r["case"] in cases) and (threads is None or r["threads"] == threads)]


def goal(figure: str, text: str, ratios: list[float], threshold: float) -> dict:
    """A goal from issue 7, judged on the worst measured ratio."""
    worst = min(ratios) if ratios else None
    return {"figure": figure, "goal": text, "ratio": worst, "met": None if worst is None else worst >= threshold}


def save(name: str, title: str, unit: str, higher_is_better: bool, references: list, rows: list, notes: list,
         args: argparse.Namespace, threads: dict, goals_fn=None) -> dict:
    add_ratios(rows, references, higher_is_better)
    if args.background is not None and args.background > 0.2:
        notes.append(f"other processes kept {args.background:.1f} of {os.cpu_count()} cores busy when this "
                     "benchmark started: its figures (2-thread ones most) are perturbed.")
    result = {"name": name, "title": title, "unit": unit, "higher_is_better": higher_is_better,
              "references": references, "quick": args.quick,
              "timestamp": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "machine": machine_info(),
              "versions": versions(), "background_cores_busy": args.background, "threads": threads, "rows": rows,
              "goals": goals_fn(rows) if goals_fn else [], "notes": notes}
    out = args.mode.results_dir
    out.mkdir(parents=True, exist_ok=True)
    if args.quick:
        (out / ".gitignore").write_text("*\n")
    (out / f"{name}.json").write_text(json.dumps(result, indent=1) + "\n")
    print(header(result))
    print(section(result))
    print(f"wrote {(out / f'{name}.json').relative_to(REPO)}")
    if getattr(args, "failed", False):
        raise SystemExit(f"{name}: a measurement failed (see the notes)")
    return result


def load_results(directory: Path) -> list[dict]:
    results = []
    for path in sorted(directory.glob("*.json")):
        try:
            result = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as e:
            print(f"skipping {path}: {e}", file=sys.stderr)
            continue
        if isinstance(result, dict) and "rows" in result:  # (runs.json, run_all's summary, is not one)
            results.append(result)
    rank = {n: i for i, n in enumerate(ORDER)}
    return sorted(results, key=lambda r: (rank.get(r.get("name"), len(ORDER)), r.get("name", "")))


def _fmt(v: float | None, unit: str = "") -> str:
    if v is None:
        return "–"
    if unit == "us":
        return f"{v:.2f}" if v < 10 else f"{v:,.1f}" if v < 1000 else f"{v:,.0f}"
    return f"{v:.3g}" if abs(v) < 100 else f"{v:,.0f}"


def _ratio(v: float | None) -> str:
    return "–" if v is None else f"{v:.2f}x"


def header(result: dict) -> str:
    m, v = result.get("machine", {}), result.get("versions", {})
    libs = ", ".join(f"{k} {v[k]}" for k in ("pyautodiff", "numpy", "torch", "jax", "autograd") if v.get(k))
    return (f"Machine: {m.get('cpu')}, {m.get('cores')} cores ({', '.join(m.get('cpu_flags', []))}), "
            f"Python {m.get('python')}. Libraries: {libs}"
            + (f"; pyautodiff at {v['git']}" if v.get("git") else "")
            + (f"; numpy BLAS: {v['numpy_blas']}" if v.get("numpy_blas") else "")
            + (f" (the machine's {', '.join(f'{k}={x}' for k, x in m['env_unset'].items())} unset for the runs)"
               if m.get("env_unset") else "") + ".")


def section(result: dict) -> str:
    unit = result.get("unit", "")
    unit_label = "µs" if unit == "us" else unit
    refs = result.get("references", [])
    lines = [f"### {result.get('title', result.get('name'))}", ""]
    lines.append("| case | threads | implementation | " + unit_label + " | "
                 + " | ".join(f"vs {r}" for r in refs) + " |")
    lines.append("|---|---:|---|---:|" + "---:|" * len(refs))
    for r in result.get("rows", []):
        ratios = r.get("ratios", {})
        lines.append(f"| {r['case']} | {r['threads']} | {r['impl']} | {_fmt(r.get('value'), unit)} | "
                     + " | ".join(_ratio(ratios.get(ref)) for ref in refs) + " |")
    threads = result.get("threads") or {}
    for n, info in sorted(threads.items()):
        settings = ", ".join(f"{k}={v}" for k, v in info.items() if v is not None and k != "threadpoolctl")
        if info.get("threadpoolctl"):
            settings += ", threadpoolctl " + ", ".join(f"{k}={v}" for k, v in info["threadpoolctl"].items())
        lines.append(f"\n{n} thread(s): {settings}.")
    for note in result.get("notes", []):
        lines.append(f"\nNote: {note}")
    return "\n".join(lines) + "\n"


def write_table(directory: Path) -> Path | None:
    results = load_results(directory)
    if not results:
        return None
    quick = any(r.get("quick") for r in results)
    lines = ["## Benchmarks" + (" (quick smoke run: not for quoting)" if quick else ""), "",
             header(results[0]), "",
             "Each figure is the median of several timed rounds after warm-up, all implementations measured "
             "in the same run. A ratio is how many times faster than the reference (higher is better for "
             "pyautodiff): reference time / time, or GFLOP/s / reference GFLOP/s, the median of the rounds' "
             "ratios where the two were timed in interleaved rounds (paired). Measured "
             + ", ".join(sorted({r.get('timestamp', '?')[:16] for r in results})) + ".", ""]
    goals = [g for r in results for g in r.get("goals", [])]
    if goals:
        lines += ["| figure | goal | measured (worst case) | met |", "|---|---|---:|:---:|"]
        for g in goals:
            met = "n/a" if g["met"] is None else ("yes" if g["met"] else "no")
            lines.append(f"| {g['figure']} | {g['goal']} | {_ratio(g['ratio'])} | {met} |")
        lines.append("")
    lines += [section(r) for r in results]
    path = directory / "table.md"
    path.write_text("\n".join(lines))
    return path


def write_chart(directory: Path) -> Path | None:
    """Bar chart of every pyautodiff ratio against each benchmark's first reference; None without matplotlib."""
    results = [r for r in load_results(directory) if r.get("references")]
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import matplotlib.ticker
    except ImportError:
        print("chart skipped: matplotlib is not installed (pip install matplotlib)")
        return None
    panels = []
    for r in results:
        ref = r["references"][0]
        rows = [x for x in r.get("rows", []) if x["impl"] != ref and ref in x.get("ratios", {})]
        ours = [x for x in rows if x["impl"].startswith("pyautodiff")]
        bars = [(f"{x['case']} · {x['threads']}t · {x['impl'].removeprefix('pyautodiff').strip() or 'pyautodiff'}",
                 x["ratios"][ref]) for x in ours or rows]  # files comparing pyautodiff with itself: every row
        if bars:
            panels.append((r.get("title", r["name"]), ref, bars))
    if not panels:
        return None
    heights = [0.3 * len(b) + 0.9 for _, _, b in panels]
    fig, axes = plt.subplots(len(panels), 1, figsize=(9, sum(heights)), gridspec_kw={"height_ratios": heights},
                             squeeze=False)
    for ax, (title, ref, bars) in zip(axes[:, 0], panels):
        labels, values = zip(*bars)
        lo, hi = min(min(values), 1.0) / 1.6, max(max(values), 1.0) * 1.6
        colors = ["#2a9d8f" if v >= 1 else "#e76f51" for v in values]
        ax.barh(range(len(values)), [v - 1.0 for v in values], left=1.0, height=0.6, color=colors)  # from 1x
        ax.set_yticks(range(len(values)), labels, fontsize=8)
        ax.invert_yaxis()
        ax.axvline(1.0, color="black", linewidth=0.8)
        ax.set_xscale("log")
        ax.set_xlim(lo, hi)
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}x"))
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_title(f"{title}: vs {ref} (right of 1x: pyautodiff faster)", fontsize=9, loc="left")
        for i, v in enumerate(values):
            ax.text(v, i, f" {v:.2f}x ", va="center", fontsize=7,
                    ha="left" if v >= 1 else "right")
    fig.tight_layout()
    path = directory / "chart.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def step_bench_main(script: str, doc: str, name: str, title: str, measure_child, goals,
                    references=("pytorch",), threads_default: str = "1,2") -> None:
    """main() of a benchmark timed in µs (a training step, or a call) against the references, in one child per
    thread count."""
    args = parse_args(doc, threads_default)
    if args.child:
        return measure_child(args)
    payloads = run_children(script, args)
    save(name, title, "us", False, list(references), [r for p in payloads for r in p["rows"]],
         merged_notes(args.thread_counts, payloads), args,
         {str(n): p["threads"] for n, p in zip(args.thread_counts, payloads)}, goals)


def call_child(args) -> tuple:
    """(threads, notes, torch or None) of a µs-per-call child: its threads capped, PyTorch's absence noted."""
    threads = args.thread_counts[0]
    notes = limit_threads(threads)
    torch = optional("torch")
    if torch is None:
        notes.append("skipped pytorch: not installed (pip install -r bench/requirements.txt)")
    return threads, notes, torch


def time_calls(cases: dict, threads: int, mode, notes: list, rtol: float = 1e-5, atol: float = 1e-5) -> list:
    """Rows of µs per call for {case: {implementation: function of nothing}}, each case's implementations timed in
    interleaved rounds, after checking each one's result against numpy's (or PyTorch's where numpy has none; a note
    where it differs)."""
    import numpy as np
    rows = []
    for case, fns in cases.items():
        expected = np.asarray(fns["numpy" if "numpy" in fns else "pytorch"](), dtype=np.float64)
        for impl, fn in fns.items():
            value = np.asarray(fn(), dtype=np.float64)
            if value.shape != expected.shape or not np.allclose(value, expected, rtol=rtol, atol=atol):
                notes.append(f"{case}: {impl} computes a different result from numpy")
        for impl, t in measure_many(fns, mode).items():
            rows.append(row(case, threads, impl, t["median_s"] * 1e6, t))
            print(f"  {case:>24} {impl:>10}: {rows[-1]['value']:9.2f} µs", flush=True)
    return rows


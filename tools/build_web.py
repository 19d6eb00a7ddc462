"""Assemble dist/web/: the page, Pyodide's core files, uPlot, the seed's examples and the project's wheel.

Everything is referenced by relative URL, so the folder works from any static host under any path.
    python tools/build_web.py --wheel dist/pyautodiff-...-wasm32.whl --out dist/web
"""

import argparse
import json
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE_FILES = ["index.html", "app.js", "worker.js", "demo.py", "styles.css"]
# Only what loadPyodide and loadPackage(url) fetch: no bundled packages are used.
PYODIDE_FILES = ["pyodide.mjs", "pyodide.asm.mjs", "pyodide.asm.wasm", "python_stdlib.zip", "pyodide-lock.json"]
UPLOT_FILES = ["dist/uPlot.iife.min.js", "dist/uPlot.min.css", "LICENSE"]
# The Python panel shows the seed's three examples, straight from examples/.
EXAMPLES = [("1 \u00b7 Basic usage", "basic_usage.py"),
            ("2 \u00b7 Model trained with a tape", "train_with_tape.py"),
            ("3 \u00b7 Calculation graph", "calculation_graph.py")]


def build(wheel: Path, out: Path, web: Path, examples: Path) -> None:
    modules = web / "node_modules"
    if out.exists():
        shutil.rmtree(out)
    (out / "pyodide").mkdir(parents=True)
    (out / "vendor" / "uplot").mkdir(parents=True)
    (out / "examples").mkdir()
    for name in PAGE_FILES:
        shutil.copy2(web / name, out / name)
    for name in PYODIDE_FILES:
        shutil.copy2(modules / "pyodide" / name, out / "pyodide" / name)
    for name in UPLOT_FILES:
        shutil.copy2(modules / "uplot" / name, out / "vendor" / "uplot" / Path(name).name)
    for _, name in EXAMPLES:
        shutil.copy2(examples / name, out / "examples" / name)
    shutil.copy2(wheel, out / wheel.name)  # loadPackage needs the wheel's real file name
    manifest = {
        "wheel": wheel.name,
        "pyodide": json.loads((modules / "pyodide" / "package.json").read_text())["version"],
        "examples": [{"title": title, "file": f"examples/{name}"} for title, name in EXAMPLES],
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    print(f"{out}: {size / 2**20:.1f} MiB (wheel {wheel.stat().st_size / 2**10:.0f} KiB, "
          f"Pyodide {manifest['pyodide']})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path, required=True, help="the project's Pyodide wheel")
    parser.add_argument("--out", type=Path, default=ROOT / "dist" / "web")
    parser.add_argument("--web", type=Path, default=ROOT / "web", help="page sources and node_modules")
    parser.add_argument("--examples", type=Path, default=ROOT / "examples")
    args = parser.parse_args()
    build(args.wheel, args.out, args.web, args.examples)


if __name__ == "__main__":
    main()

"""Assemble dist/web/: the page, Pyodide's core files, uPlot, the seed's examples and the project's wheel.

Everything is referenced by relative URL, so the folder works from any static host under any path. Large text
and wasm files get a gzip twin (name.gz) that tools/serve.py, and hosts such as nginx's gzip_static, send to
browsers that accept it.
    python tools/build_web.py --wheel dist/pyautodiff-...-wasm32.whl --out dist/web
"""

import argparse
import gzip
import json
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE_FILES = ["index.html", "app.js", "settings.js", "views.js", "panel.js", "digits.js", "worker.js", "demo.py", "styles.css"]
# Only what loadPyodide and loadPackage(url) fetch: no bundled packages are used, so instead of the 119 KB
# pyodide-lock.json the worker passes a lock with no packages (its "info" comes from the real one, via the manifest).
PYODIDE_FILES = ["pyodide.mjs", "pyodide.asm.mjs", "pyodide.asm.wasm", "python_stdlib.zip"]
COMPRESS_MIN_BYTES = 64 * 1024
COMPRESS_SUFFIXES = {".wasm", ".mjs", ".js"}  # zip and wheel files are compressed already
UPLOT_FILES = ["dist/uPlot.iife.min.js", "dist/uPlot.min.css", "LICENSE"]
# The Python panel shows the seed's three examples, straight from examples/, and one on the page's own model.
EXAMPLES = [("1 \u00b7 Basic usage", "basic_usage.py"),
            ("2 \u00b7 Model trained with a tape", "train_with_tape.py"),
            ("3 \u00b7 Calculation graph", "calculation_graph.py")]
PAGE_EXAMPLES = [("4 \u00b7 This page's model", "page_model.py")]


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
    for _, name in PAGE_EXAMPLES:
        shutil.copy2(web / name, out / "examples" / name)
    shutil.copy2(wheel, out / wheel.name)  # loadPackage needs the wheel's real file name
    manifest = {
        "wheel": wheel.name,
        "pyodide": json.loads((modules / "pyodide" / "package.json").read_text())["version"],
        "lock_info": json.loads((modules / "pyodide" / "pyodide-lock.json").read_text())["info"],
        "examples": [{"title": title, "file": f"examples/{name}"} for title, name in EXAMPLES + PAGE_EXAMPLES],
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    for f in list(out.rglob("*")):
        if f.suffix in COMPRESS_SUFFIXES and f.stat().st_size >= COMPRESS_MIN_BYTES:
            with open(f, "rb") as src, gzip.GzipFile(f.with_name(f.name + ".gz"), "wb", mtime=0) as dst:
                shutil.copyfileobj(src, dst)
    size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file() and f.suffix != ".gz")
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

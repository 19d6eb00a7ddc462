#!/usr/bin/env python3
"""Pack the pure-Python ``pyautodiff`` package plus the wasm32 side module into
a Pyodide wheel (stdlib only: zipfile, hashlib, base64).

    python tools/wasm_wheel.py --so build/wasm/libpyautodiff.so \
        --header csrc/pyautodiff.h --out dist/

Produces dist/pyautodiff-<version>-cp314-cp314-pyemscripten_2026_0_wasm32.whl
containing pyautodiff/**.py, the package data pyproject.toml lists under
[tool.setuptools.package-data], pyautodiff/_backend/libpyautodiff.so and
pyautodiff/_backend/pyautodiff.h.  The version is read from the
``version = "..."`` line of the [project] table in pyproject.toml.
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import os
import re
import sys
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NAME = "pyautodiff"
# Pyodide 314.0.x: pyodide-lock.json info = {abi_version: 2026_0, arch: wasm32,
# platform: emscripten_5_0_3, python: 3.14.x}; its own wheels use this tag.
DEFAULT_TAG = "cp314-cp314-pyemscripten_2026_0_wasm32"
# Only pure-Python sources go in (never __pycache__, *.pyc, host .so/.dylib/.pyd).
INCLUDE_SUFFIXES = {".py", ".pyi"}
INCLUDE_NAMES = {"py.typed"}
SKIP_DIRS = {"__pycache__", ".pytest_cache", ".mypy_cache"}


def read_project_field(pyproject: Path, field: str) -> str | None:
    section = None
    pat = re.compile(rf'^\s*{field}\s*=\s*["\']([^"\']+)["\']')
    for line in pyproject.read_text(encoding="utf-8").splitlines():
        s = line.strip()
        if s.startswith("[") and s.endswith("]"):
            section = s.strip("[]").strip()
            continue
        if section == "project":
            m = pat.match(line)
            if m:
                return m.group(1)
    return None


def urlsafe_b64_sha256(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def _leb(b: bytes, i: int) -> tuple[int, int]:
    r = s = 0
    while True:
        x = b[i]; i += 1
        r |= (x & 0x7F) << s; s += 7
        if not x & 0x80:
            return r, i


def _name(b: bytes, i: int) -> tuple[str, int]:
    n, i = _leb(b, i)
    return b[i:i + n].decode(), i + n


def wasm_imports_exports(b: bytes):
    """([(module, name, kind)], {export names}) of a wasm binary (kind 0 = function)."""
    imports, exports, i = [], set(), 8
    while i < len(b):
        sid = b[i]
        size, i = _leb(b, i + 1)
        end = i + size
        if sid == 2:
            n, j = _leb(b, i)
            for _ in range(n):
                mod, j = _name(b, j)
                nm, j = _name(b, j)
                kind = b[j]; j += 1
                if kind == 0:                      # func: type index
                    _, j = _leb(b, j)
                elif kind == 1:                    # table: reftype + limits
                    j += 1
                    flag, j = _leb(b, j); _, j = _leb(b, j)
                    if flag & 1: _, j = _leb(b, j)
                elif kind == 2:                    # memory: limits
                    flag, j = _leb(b, j); _, j = _leb(b, j)
                    if flag & 1: _, j = _leb(b, j)
                elif kind == 3:                    # global: valtype + mut
                    j += 2
                elif kind == 4:                    # tag: attribute + type index
                    j += 1; _, j = _leb(b, j)
                imports.append((mod, nm, kind))
        elif sid == 7:
            n, j = _leb(b, i)
            for _ in range(n):
                nm, j = _name(b, j)
                j += 1; _, j = _leb(b, j)
                exports.add(nm)
        i = end
    return imports, exports


def check_imports(so_bytes: bytes, pyodide_dir: Path) -> list[str]:
    """Symbols the side module needs that Pyodide's main module does not provide.

    Pyodide resolves a side module's imports lazily (--unresolved-symbols=import-dynamic):
    a missing libc function loads fine and only fails, fatally for the whole
    interpreter, at the first call.  So check at build time: a function import
    must be a main-module export or a JS-library function the main module imports.
    """
    main = (pyodide_dir / "pyodide.asm.wasm").read_bytes()
    main_imports, main_exports = wasm_imports_exports(main)
    provided = main_exports | {nm for mod, nm, kind in main_imports if mod == "env" and kind == 0}
    missing = []
    for mod, nm, kind in wasm_imports_exports(so_bytes)[0]:
        if (mod == "env" and kind == 0) or mod in ("GOT.func", "GOT.mem"):
            if nm not in provided:
                missing.append(f"{mod}.{nm}")
    return missing


def package_data(pyproject: Path) -> set[str]:
    """The data files the native wheel carries (pyproject's package-data), as paths under the package."""
    with open(pyproject, "rb") as f:
        table = tomllib.load(f).get("tool", {}).get("setuptools", {}).get("package-data", {})
    return {"/".join(package.split(".")[1:] + [name]) for package, names in table.items() for name in names}


def collect_package(pkg_dir: Path, data: set[str]) -> list[tuple[str, bytes]]:
    files = []
    for dirpath, dirnames, filenames in os.walk(pkg_dir):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.startswith("."))
        for fn in sorted(filenames):
            p = Path(dirpath) / fn
            if p.suffix in INCLUDE_SUFFIXES or fn in INCLUDE_NAMES or p.relative_to(pkg_dir).as_posix() in data:
                arc = (Path(NAME) / p.relative_to(pkg_dir)).as_posix()
                files.append((arc, p.read_bytes()))
    return files


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--so", required=True, type=Path, help="wasm32 side module (libpyautodiff.so)")
    ap.add_argument("--header", type=Path, help="C header to ship as _backend/pyautodiff.h")
    ap.add_argument("--out", default=Path("dist"), type=Path, help="output directory")
    ap.add_argument("--pkg-dir", type=Path, default=ROOT / NAME, help="package source dir")
    ap.add_argument("--pyproject", type=Path, default=ROOT / "pyproject.toml")
    ap.add_argument("--version", help="override version (default: from pyproject.toml)")
    ap.add_argument("--tag", default=DEFAULT_TAG, help=f"wheel tag (default {DEFAULT_TAG})")
    ap.add_argument("--pyodide", type=Path, default=ROOT / "web" / "node_modules" / "pyodide",
                    help="Pyodide dist used to check the .so's imports (skipped if absent)")
    ap.add_argument("--no-check", action="store_true", help="skip the import check")
    args = ap.parse_args(argv)

    version = args.version or read_project_field(args.pyproject, "version")
    if not version:
        ap.error(f"no [project] version found in {args.pyproject}")
    summary = read_project_field(args.pyproject, "description") if args.pyproject.exists() else None
    requires_python = read_project_field(args.pyproject, "requires-python") if args.pyproject.exists() else None

    so_bytes = args.so.read_bytes()
    if so_bytes[:4] != b"\0asm":
        ap.error(f"{args.so} is not a WebAssembly module (host build?)")
    if b"dylink.0" not in so_bytes[:4096]:
        ap.error(f"{args.so} has no dylink.0 section: link with wasm-ld --experimental-pic -shared")

    if not args.no_check and (args.pyodide / "pyodide.asm.wasm").exists():
        missing = check_imports(so_bytes, args.pyodide)
        if missing:
            ap.error(f"{args.so} imports symbols Pyodide does not provide: {' '.join(missing)}")
    elif not args.no_check:
        print(f"warning: {args.pyodide}/pyodide.asm.wasm not found; imports not checked", file=sys.stderr)

    data = package_data(args.pyproject)
    files = [f for f in collect_package(args.pkg_dir, data)
             if not f[0].startswith(f"{NAME}/_backend/libpyautodiff")]
    missing = {f"{NAME}/{d}" for d in data} - {a for a, _ in files}
    if missing:
        ap.error(f"package data missing (make build generates it): {' '.join(sorted(missing))}")
    if not any(a == f"{NAME}/__init__.py" for a, _ in files):
        ap.error(f"{args.pkg_dir}/__init__.py missing")
    files.append((f"{NAME}/_backend/libpyautodiff.so", so_bytes))
    if args.header:
        files.append((f"{NAME}/_backend/pyautodiff.h", args.header.read_bytes()))

    dist_info = f"{NAME}-{version}.dist-info"
    meta = ["Metadata-Version: 2.1", f"Name: {NAME}", f"Version: {version}"]
    if summary:
        meta.append(f"Summary: {summary}")
    if requires_python:
        meta.append(f"Requires-Python: {requires_python}")
    files.append((f"{dist_info}/METADATA", ("\n".join(meta) + "\n").encode()))
    wheel = ["Wheel-Version: 1.0", "Generator: pyautodiff tools/wasm_wheel.py",
             "Root-Is-Purelib: false", f"Tag: {args.tag}"]
    files.append((f"{dist_info}/WHEEL", ("\n".join(wheel) + "\n").encode()))
    record_name = f"{dist_info}/RECORD"
    record = [f"{arc},sha256={urlsafe_b64_sha256(data)},{len(data)}" for arc, data in files]
    record.append(f"{record_name},,")
    files.append((record_name, ("\n".join(record) + "\n").encode()))

    args.out.mkdir(parents=True, exist_ok=True)
    whl = args.out / f"{NAME}-{version}-{args.tag}.whl"
    # Reproducible: fixed timestamp (SOURCE_DATE_EPOCH honoured), fixed order.
    epoch = int(os.environ.get("SOURCE_DATE_EPOCH", "315532800"))
    import time
    date_time = time.gmtime(max(epoch, 315532800))[:6]
    tmp = whl.with_suffix(".whl.tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for arc, data in files:
            zi = zipfile.ZipInfo(arc, date_time=date_time)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = (0o644 & 0xFFFF) << 16
            zf.writestr(zi, data)
    os.replace(tmp, whl)
    print(whl)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Serves bench/browser with everything it loads from this machine, and runs it in headless Chromium.

URL layout (all on 127.0.0.1; any request elsewhere is aborted and reported):
    /bench/      bench/browser/ (the page, its JS, bench_pyodide.py)
    /web/        dist/web/ (Pyodide's core files and the project's wheel, as `make web` assembles them)
    /tfjs/       web/node_modules/@tensorflow/tfjs/dist/
    /tfjs-wasm/  web/node_modules/@tensorflow/tfjs-backend-wasm/dist/ (its .wasm files: setWasmPaths)
    /variants/   build/bench-wasm/ (other builds of the wheel, e.g. without -msimd128)

    python bench/browser/driver.py --serve      # serve for a look in a browser at the printed URL
bench/bench_browser.py is the benchmark itself; it calls run().
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import ClassVar
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
WEB_DIST = Path(os.environ.get("WEB_DIST", REPO / "dist" / "web"))
MODULES = REPO / "web" / "node_modules" / "@tensorflow"
VARIANTS = REPO / "build" / "bench-wasm"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
ROUTES = {"/bench/": HERE, "/web/": WEB_DIST, "/tfjs/": MODULES / "tfjs" / "dist",
          "/tfjs-wasm/": MODULES / "tfjs-backend-wasm" / "dist", "/variants/": VARIANTS}
LOOPBACK = {"127.0.0.1", "localhost", "[::1]", "::1"}


def missing() -> list[str]:
    """What the benchmark needs and this checkout lacks (empty when it can run)."""
    out = []
    if not (WEB_DIST / "manifest.json").exists():
        out.append(f"{WEB_DIST} is not built (make web)")
    if not Path(CHROMIUM).exists():
        out.append(f"{CHROMIUM} is missing (make web-test-deps installs Debian's chromium)")
    if not (MODULES / "tfjs-backend-wasm" / "dist" / "tfjs-backend-wasm-simd.wasm").exists():
        out.append("TensorFlow.js is not installed in web/node_modules (cd web && npm ci)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        out.append("playwright for Python is not installed (make web-test-deps)")
    return out


def wheel_name() -> str:
    return json.loads((WEB_DIST / "manifest.json").read_text())["wheel"]


class Handler(http.server.SimpleHTTPRequestHandler):
    extensions_map: ClassVar[dict] = {**http.server.SimpleHTTPRequestHandler.extensions_map,
                      ".wasm": "application/wasm", ".mjs": "text/javascript", ".js": "text/javascript"}

    def translate_path(self, path: str) -> str:
        path = urlsplit(path).path
        for prefix, directory in ROUTES.items():
            if path.startswith(prefix):
                rel = Path(path[len(prefix):])
                if ".." in rel.parts:
                    break
                return str(directory / rel)
        return str(HERE / "__not_served__")

    isolated = False  # cross-origin isolation: SharedArrayBuffer, so TF.js wasm may use threads

    def end_headers(self):
        self.send_header("Cache-Control", "no-store")
        if self.isolated:
            self.send_header("Cross-Origin-Opener-Policy", "same-origin")
            self.send_header("Cross-Origin-Embedder-Policy", "require-corp")
        super().end_headers()

    def log_message(self, format, *args):
        pass


def serve(port: int = 0, isolated: bool = False) -> http.server.ThreadingHTTPServer:
    handler = type("IsolatedHandler", (Handler,), {"isolated": True}) if isolated else Handler
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), functools.partial(handler, directory=str(HERE)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


# --- other builds of the wheel -------------------------------------------------------------------

def make_variable(name: str) -> str:
    """A variable of the Makefile as make sees it."""
    out = subprocess.run(["make", "-C", str(REPO), "-np", "--no-print-directory", "wasm"], check=False,
                         capture_output=True, text=True).stdout
    m = re.search(rf"^{name} :?= (.*)$", out, re.MULTILINE)
    if not m:
        raise RuntimeError(f"{name} not found in the Makefile")
    return m.group(1).strip()


def build_variant(label: str, drop_flags: tuple[str, ...] = ()) -> Path:
    """The current csrc/ and pyautodiff/ as a wheel in build/bench-wasm/<label>/ with the Makefile's WASM_CFLAGS
    less drop_flags (never touches dist/ or build/wasm/). Returns the wheel."""
    cflags = " ".join(f for f in make_variable("WASM_CFLAGS").split() if f not in drop_flags)
    out = VARIANTS / label
    so = out / "libpyautodiff.so"
    subprocess.run(["make", "-C", str(REPO), "--no-print-directory", "-s", f"WASM_BUILD={out}",
                    f"WASM_CFLAGS={cflags}", str(so)], check=True)
    wheels = out / "wheel"
    shutil.rmtree(wheels, ignore_errors=True)
    subprocess.run([sys.executable, str(REPO / "tools" / "wasm_wheel.py"), "--so", str(so), "--header",
                    str(REPO / "csrc" / "pyautodiff.h"), "--out", str(wheels), "--no-check"], check=True,
                   stdout=subprocess.DEVNULL)
    (wheel,) = wheels.glob("*.whl")
    (out / "cflags.txt").write_text(cflags + "\n")
    return wheel


# --- the browser ---------------------------------------------------------------------------------

def run(config: dict, isolated: bool = False, timeout_s: float = 900, log=print) -> dict:
    """Opens the page in headless Chromium, runs window.runBench(config) and returns its result, plus the
    browser's version and every URL the page requested. isolated: serve the page cross-origin isolated
    (COOP/COEP), which lets TF.js's wasm backend run threads (config["tfjsThreads"] of them)."""
    from playwright.sync_api import sync_playwright
    httpd = serve(isolated=isolated)
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    requests, outside, errors = [], [], []
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            context = browser.new_context()

            def route(r):
                if urlsplit(r.request.url).hostname in LOOPBACK:
                    requests.append(r.request.url.removeprefix(base))
                    return r.continue_()
                outside.append(r.request.url)
                return r.abort()

            context.route("**/*", route)
            page = context.new_page()
            page.on("console", lambda m: log(m.text) if m.text.startswith("[bench]") else
                    (m.type == "error" and errors.append(m.text)))
            page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
            page.goto(f"{base}/bench/index.html")
            page.wait_for_function("() => window.benchReady === true", timeout=30_000)
            page.set_default_timeout(timeout_s * 1000)
            result = page.evaluate("config => window.runBench(config)", config)
            result["info"]["browser"] = f"Chromium {browser.version}"
            context.close()
            browser.close()
    finally:
        httpd.shutdown()
        httpd.server_close()
    result.update(requests=requests, outside_requests=outside, console_errors=errors)
    return result


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--serve", action="store_true", help="serve the page until Ctrl-C")
    p.add_argument("--port", type=int, default=8001)
    args = p.parse_args()
    if args.serve:
        httpd = serve(args.port)
        print(f"http://127.0.0.1:{httpd.server_address[1]}/bench/index.html  (window.runBench(config) runs it; "
              "bench/bench_browser.py makes the config)")
        threading.Event().wait()
    else:
        p.print_help()


if __name__ == "__main__":
    main()

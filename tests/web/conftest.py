"""The web page's tests need a built dist/web, Playwright and Debian's chromium: only `make test-web` runs them.

`pytest tests` (natively) and the Pyodide run of the suite collect nothing here.
dist/web is served from threads on free loopback ports under a sub-path (the page must use relative URLs):
once as `make serve` serves it (tools/serve.py: cross-origin isolated, gzip twins) and once as a plain static
host would (no isolation headers). Each test module opens its own page; its tests run in file order.
"""

import functools
import http.server
import importlib.util
import os
import sys
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest

if os.environ.get("RUN_WEB_TESTS") != "1" or sys.platform == "emscripten":
    collect_ignore_glob = ["test_*.py"]

ROOT = Path(__file__).resolve().parents[2]
WEB = Path(os.environ.get("WEB_DIST", ROOT / "dist" / "web"))
OUT = ROOT / "test-output" / "web"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
PREFIX = "/some/static/host/pyautodiff/"
READY_MS = 20_000  # the goal; under a loaded machine the wait itself allows 3x
LOOPBACK = {"127.0.0.1", "localhost", "[::1]", "::1"}


def _serve_module():
    spec = importlib.util.spec_from_file_location("serve", ROOT / "tools" / "serve.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _handler(base):
    class Handler(base):
        """dist/web under PREFIX; anything else is a 404."""

        def translate_path(self, path: str) -> str:
            path = urlsplit(path).path
            if not path.startswith(PREFIX):
                return str(WEB / "__outside_the_prefix__")
            return super().translate_path("/" + path[len(PREFIX):])

        def log_message(self, format, *args):
            pass
    return Handler


def _start(handler):
    if not (WEB / "index.html").exists():
        pytest.fail(f"{WEB} is not built: run make web")
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(WEB)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}{PREFIX}"


@pytest.fixture(scope="session")
def server():
    """dist/web as `make serve` serves it: cross-origin isolated, gzip twins for browsers that accept them."""
    httpd, url = _start(_handler(_serve_module().Handler))
    yield url
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="session")
def static_server():
    """dist/web as any static host serves it: no isolation headers, so SharedArrayBuffer is unavailable."""
    httpd, url = _start(_handler(http.server.SimpleHTTPRequestHandler))
    yield url
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: make web-test-deps installs Debian's chromium")
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class App:
    """One page of the demo, with what it requested and every console error it logged."""

    out_dir = OUT  # screenshots and metrics

    def __init__(self, browser, url: str, width: int = 1280, height: int = 900):
        self.context = browser.new_context(viewport={"width": width, "height": height}, device_scale_factor=1,
                                           accept_downloads=True)
        self.page = self.context.new_page()
        self.page.set_default_timeout(30_000)
        self.requests: list[str] = []
        self.encodings: dict[str, str] = {}
        self.console_errors: list[str] = []
        self.context.on("request", lambda r: self.requests.append(r.url))
        self.context.on("response", lambda r: self.encodings.__setitem__(r.url, r.headers.get("content-encoding", "")))
        self.context.on("console", lambda m: m.type == "error" and self.console_errors.append(m.text))
        self.page.on("pageerror", lambda e: self.console_errors.append(f"page error: {e}"))
        self.page.on("crash", lambda p: self.console_errors.append("page crashed"))
        self.page.goto(url)

    def close(self):
        self.context.close()

    def state(self, key: str):
        return self.page.evaluate(f"() => window.pyautodiffDemo.{key}")

    def by_id(self, testid: str):
        return self.page.get_by_test_id(testid)

    def wait_ready(self):
        self.page.wait_for_function("() => window.pyautodiffDemo.ready", timeout=3 * READY_MS)

    def wait(self, condition: str, arg=None, timeout: float = 30_000):
        """Wait until `condition`, an expression over `s` (window.pyautodiffDemo) and `arg`, holds."""
        self.page.wait_for_function(f"arg => {{ const s = window.pyautodiffDemo; return {condition}; }}", arg=arg,
                                    timeout=timeout)

    def wait_idle(self, epochs: int, timeout: float = 60_000):
        """Wait until the current run has ended at epoch `epochs`."""
        self.wait("!s.running && s.epoch === arg", epochs, timeout)

    def ready_with_short_runs(self, epochs: int):
        """Once ready, train flat out to `epochs` epochs, and return self: the tests' runs stay short."""
        self.wait_ready()
        self.by_id("speed").select_option("0")
        self.set_field("epochs", str(epochs))
        self.wait_idle(epochs)
        return self

    def set_field(self, testid: str, value: str):
        """Type into a field and commit it (Tab), as a visitor would."""
        field = self.by_id(testid)
        field.fill(value)
        field.press("Tab")

    def run_python(self, code: str):
        self.by_id("python-code").fill(code)
        self.by_id("run-python").click()

    def outside_requests(self):
        return [u for u in self.requests if urlsplit(u).scheme not in ("data", "blob")
                and urlsplit(u).hostname not in LOOPBACK]


@pytest.fixture(scope="module")
def open_app(browser):
    """open_app(url, width=, height=) -> App; closed at the end of the module."""
    apps = []

    def open_(url: str, **size) -> App:
        apps.append(App(browser, url, **size))
        return apps[-1]
    yield open_
    for app in apps:
        app.close()

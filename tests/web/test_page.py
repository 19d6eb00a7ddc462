"""The web page in headless Chromium: loads offline, trains the seed's model live, stops, retrains, runs Python.

dist/web is served from a thread on a free loopback port under a sub-path (the page must use relative URLs).
The tests share one page and run in file order, as a visitor would use it. Run by `make test-web`.
"""

import functools
import http.server
import json
import os
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
WEB = Path(os.environ.get("WEB_DIST", ROOT / "dist" / "web"))
OUT = ROOT / "test-output" / "web"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
PREFIX = "/some/static/host/pyautodiff/"
READY_MS = 20_000
TRAIN_MS = 120_000
LOOPBACK = {"127.0.0.1", "localhost", "[::1]", "::1"}


class Handler(http.server.SimpleHTTPRequestHandler):
    """dist/web under PREFIX; anything else is a 404."""

    def translate_path(self, path: str) -> str:
        path = urlsplit(path).path
        if not path.startswith(PREFIX):
            return str(WEB / "__outside_the_prefix__")
        return super().translate_path("/" + path[len(PREFIX):])

    def log_message(self, format, *args):
        pass


@pytest.fixture(scope="module")
def server():
    if not (WEB / "index.html").exists():
        pytest.fail(f"{WEB} is not built: run make web")
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(WEB)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}{PREFIX}"
    httpd.shutdown()
    httpd.server_close()


class App:
    def __init__(self, page, context):
        self.page = page
        self.requests: list[str] = []
        self.console_errors: list[str] = []
        context.on("request", lambda r: self.requests.append(r.url))
        context.on("console", lambda m: m.type == "error" and self.console_errors.append(m.text))
        page.on("pageerror", lambda e: self.console_errors.append(f"page error: {e}"))
        page.on("crash", lambda p: self.console_errors.append("page crashed"))

    def state(self, key: str):
        return self.page.evaluate(f"() => window.pyautodiffDemo.{key}")

    def by_id(self, testid: str):
        return self.page.get_by_test_id(testid)

    def wait_idle(self, epochs: int, timeout: float = TRAIN_MS):
        """Wait until the current run has finished all of its epochs."""
        self.page.wait_for_function(
            "n => !window.pyautodiffDemo.running && window.pyautodiffDemo.epoch === n", arg=epochs, timeout=timeout)
        expect(self.by_id("epoch")).to_have_text(str(epochs))


@pytest.fixture(scope="module")
def app(server):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: make web-test-deps installs Debian's chromium")
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900}, device_scale_factor=1)
        page = context.new_page()
        page.set_default_timeout(30_000)
        app = App(page, context)
        page.goto(server)
        yield app
        context.close()
        browser.close()


def test_ready_within_20_seconds(app):
    expect(app.by_id("status")).to_contain_text("loading", timeout=5_000)
    app.page.wait_for_function("() => window.pyautodiffDemo.ready", timeout=READY_MS)
    expect(app.by_id("status")).to_contain_text("ready")
    expect(app.by_id("status")).to_contain_text("ctypes")
    expect(app.by_id("status")).to_contain_text("wasm")
    info = app.state("info")
    assert info["binding"] == "ctypes" and info["platform"] == "wasm", info
    app.ready_ms = app.state("readyAt")
    assert app.ready_ms < READY_MS


def test_default_training_learns_the_six_points(app):
    expect(app.by_id("model-summary")).to_contain_text("Dense(128, sigmoid)")
    run = app.state("run")
    app.by_id("train").click()
    # a new run started (100 fast epochs can be over before a poll would see it running)
    app.page.wait_for_function("run => window.pyautodiffDemo.run > run", arg=run, timeout=10_000)
    app.wait_idle(100)
    history = app.state("history")
    assert len(history) == 100
    assert history[0] >= 3 * history[-1], f"loss fell only from {history[0]} to {history[-1]}"
    assert float(app.by_id("loss").inner_text()) == pytest.approx(history[-1], rel=1e-3)
    expect(app.by_id("accuracy")).to_have_text("100%")
    ms_per_epoch = float(app.by_id("ms-per-epoch").inner_text())
    assert ms_per_epoch > 0
    # the chart drew a line and the heat map is not blank
    assert app.page.locator('[data-testid="loss-chart"] canvas').count() >= 1
    assert app.page.evaluate("""() => {
        const c = document.querySelector('[data-testid="boundary"]');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        const colours = new Set();
        for (let i = 0; i < d.length; i += 4 * 97) colours.add(d[i] << 16 | d[i + 1] << 8 | d[i + 2]);
        return colours.size;
    }""") > 20
    app.page.screenshot(path=str(OUT / "default-training.png"))
    (OUT / "metrics.json").write_text(json.dumps({
        "ready_ms": round(app.ready_ms), "ready_stages_ms": app.state("stages"), "ms_per_epoch": ms_per_epoch, "loss_first": history[0],
        "loss_last": history[-1], "browser": app.page.context.browser.version}, indent=2) + "\n")
    print(f"\nweb page: ready {app.ready_ms / 1000:.2f} s after navigation; default training {ms_per_epoch:.2f} "
          f"ms/epoch; loss {history[0]:.4f} -> {history[-1]:.4f}")


def test_stop_stops_at_once(app):
    run = app.state("run")
    epochs = app.by_id("epochs")
    epochs.fill("100000")
    epochs.press("Enter")  # a changed control retrains
    app.page.wait_for_function(
        "run => window.pyautodiffDemo.run > run && window.pyautodiffDemo.running && window.pyautodiffDemo.epoch >= 30",
        arg=run, timeout=TRAIN_MS)
    clicked = time.perf_counter()
    app.by_id("stop").click()
    app.page.wait_for_function("() => !window.pyautodiffDemo.running", timeout=10_000)
    assert time.perf_counter() - clicked < 2.0
    expect(app.by_id("stop")).to_be_disabled()
    stopped_at = app.state("epoch")
    assert 30 <= stopped_at < 100_000
    latency = app.state("stopLatencyMs")
    assert latency < 1000, f"Stop took {latency} ms"
    metrics = json.loads((OUT / "metrics.json").read_text()) if (OUT / "metrics.json").exists() else {}
    (OUT / "metrics.json").write_text(json.dumps({**metrics, "stop_latency_ms": round(latency, 1)}, indent=2) + "\n")
    # a round trip through the worker: any chunk trained after Stop would have been reported before this answer
    app.by_id("example-1").click()
    app.by_id("run-python").click()
    expect(app.by_id("python-output")).to_contain_text("c = 6", timeout=30_000)
    assert app.state("epoch") == stopped_at
    expect(app.by_id("epoch")).to_have_text(str(stopped_at))


def test_changing_hidden_units_retrains(app):
    epochs = app.by_id("epochs")
    epochs.fill("100")
    epochs.press("Enter")
    app.wait_idle(100)
    run = app.state("run")
    app.by_id("hidden").select_option("16")
    expect(app.by_id("model-summary")).to_contain_text("Dense(16, sigmoid)")
    expect(app.by_id("model-summary")).to_contain_text("82 parameters")  # 2*16 + 16 + 16*2 + 2
    app.page.wait_for_function("run => window.pyautodiffDemo.run > run", arg=run, timeout=10_000)
    app.wait_idle(100)
    assert len(app.state("history")) == 100


@pytest.mark.parametrize("example, expected", [
    (1, ["c = 6 da = 3 db = 2"]),
    (2, ["classified 6 of 6 points correctly"]),
    (3, ["z = 100 da = 60 db = 40"]),
])
def test_python_panel_runs_the_seed_examples(app, example, expected):
    app.by_id(f"example-{example}").click()
    code = app.by_id("python-code").input_value()
    assert "import pyautodiff as ad" in code
    app.by_id("run-python").click()
    output = app.by_id("python-output")
    for text in expected:
        expect(output).to_contain_text(text, timeout=60_000)
    expect(output).not_to_contain_text("Traceback")


def test_edited_code_runs_and_errors_are_shown(app):
    app.by_id("example-1").click()
    app.by_id("python-code").fill("import pyautodiff as ad\nprint(ad.array([1.0, 2.0]) * 3)\nad.reshape(ad.array([1.0, 2.0]), (3,))\n")
    app.by_id("run-python").click()
    output = app.by_id("python-output")
    expect(output).to_contain_text("Traceback", timeout=30_000)
    expect(output).to_contain_text("ValueError")
    expect(output).to_contain_text("3, 6")


def test_screenshot_offline_and_no_console_errors(app):
    app.by_id("example-1").click()
    app.by_id("reset-python").click()
    app.by_id("run-python").click()
    expect(app.by_id("python-output")).to_contain_text("c = 6 da = 3 db = 2", timeout=30_000)
    app.page.screenshot(path=str(OUT / "page.png"), full_page=True)
    outside = [u for u in app.requests if urlsplit(u).scheme not in ("data", "blob")
               and urlsplit(u).hostname not in LOOPBACK]
    assert not outside, f"requests left 127.0.0.1: {outside}"
    assert app.requests, "no request was seen at all"
    assert not app.console_errors, app.console_errors

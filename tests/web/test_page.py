"""The page in headless Chromium as `make serve` serves it: loads offline, trains visibly, stops, validates its
controls, and its layout holds. One page for the module; the tests run in file order, as a visitor would use it.
"""

import json
import time

import pytest
from playwright.sync_api import expect

LOAD_FILES = ("pyodide.mjs", "pyodide.asm.mjs", "pyodide.asm.wasm", "python_stdlib.zip")


@pytest.fixture(scope="module")
def app(open_app, server):
    return open_app(server)


def stop_if_running(app):
    if app.state("running"):
        app.by_id("stop").click()
        app.wait("s.lastEnd === 'stopped'")  # the worker confirmed: no epoch is still on its way


def test_ready_within_20_seconds_with_progress_and_no_layout_jump(app):
    expect(app.by_id("status")).to_contain_text("loading", timeout=5_000)
    expect(app.by_id("load-progress")).to_be_visible()
    boxes = "() => ['.controls', '.figures', '.chart', '.boundary', '.python'].map(s => " \
            "{ const r = document.querySelector(s).getBoundingClientRect(); return [r.x, r.y, r.width]; })"
    before = app.page.evaluate(boxes)
    app.wait_ready()
    expect(app.by_id("status")).to_contain_text("ready")
    expect(app.by_id("status")).to_contain_text("ctypes")
    expect(app.by_id("load-progress")).to_be_hidden()
    info = app.state("info")
    assert info["binding"] == "ctypes" and info["platform"] == "wasm", info
    assert app.state("readyAt") < 20_000, f"ready after {app.state('readyAt'):.0f} ms"
    assert app.page.evaluate("crossOriginIsolated") and app.state("interruptible")
    expect(app.by_id("model-summary")).to_contain_text("Dense(8, tanh)")
    assert app.page.evaluate(boxes) == before, "the layout moved when the page became ready"
    # only what the page uses: no package index (pyodide-lock.json), and the big files came gzip-compressed
    names = [u.rsplit("/", 1)[-1] for u in app.requests]
    assert "pyodide-lock.json" not in names
    assert set(LOAD_FILES) <= set(names)
    wasm = next(u for u in app.encodings if u.endswith("pyodide.asm.wasm"))
    assert app.encodings[wasm] == "gzip"


def test_default_run_is_paced_so_it_can_be_watched(app):
    # training starts by itself at 30 epochs/s: a second in, it is under way and far from its 300 epochs
    app.wait("s.running && s.epoch >= 1", timeout=10_000)
    time.sleep(1.0)
    epoch = app.state("epoch")
    assert 2 <= epoch <= 80 and app.state("running"), epoch
    # flat out, the same run (no restart) goes on to the end, and learns the circle
    run = app.state("run")
    app.by_id("speed").select_option("0")
    app.wait_idle(300, timeout=90_000)
    assert app.state("history.epochs.length") == 300 and app.state("history.epochs[0]") == 1
    train, test = app.state("history.train"), app.state("history.test")
    assert train[0] >= 3 * train[-1] and test[0] >= 2 * test[-1], (train[0], train[-1], test[0], test[-1])
    assert app.state("run") == run  # the same run, at a new pace
    assert app.state("testAccuracy") >= 0.9
    expect(app.by_id("run-note")).to_contain_text("Finished 300 epochs")
    expect(app.by_id("loss-text")).to_contain_text("at epoch 300")
    assert float(app.by_id("loss").inner_text()) == pytest.approx(train[-1], rel=1e-3)
    ms_per_epoch = float(app.by_id("ms-per-epoch").inner_text())
    app.page.screenshot(path=str(app.out_dir / "default-training.png"))
    (app.out_dir / "metrics.json").write_text(json.dumps({
        "ready_ms": round(app.state("readyAt")), "ready_stages_ms": app.state("stages"), "ms_per_epoch": ms_per_epoch,
        "loss_first": train[0], "loss_last": train[-1], "browser": app.page.context.browser.version}, indent=2) + "\n")
    print(f"\nweb page: ready {app.state('readyAt') / 1000:.2f} s after navigation; circle {ms_per_epoch:.2f} "
          f"ms/epoch; loss {train[0]:.4f} -> {train[-1]:.4f}")


def test_each_optimizer_brings_its_own_learning_rate(app):
    for optimizer, rate in [("sgd", "0.1"), ("rmsprop", "0.01"), ("adam", "0.01")]:
        app.by_id("optimizer").select_option(optimizer)
        expect(app.by_id("learning-rate")).to_have_value(rate)
        name = {"sgd": "SGD", "rmsprop": "RMSprop", "adam": "Adam"}[optimizer]
        expect(app.by_id("model-summary")).to_contain_text(name)


@pytest.mark.parametrize("testid, bad, message, used", [
    ("learning-rate", ["0", "-1", "abc", "", "1e9"], "Enter a number from 0.00001 to 10", "0.01 is used"),
    ("epochs", ["0", "-5", "x", "0.4", "1e7"], "Enter a whole number from 1 to 100000", "300 is used"),
    ("hidden", ["", "8, 0", "1,2,3,4,5,6,7", "8, x", "300"], "Enter 1 to 6 whole numbers from 1 to 256",
     "8, 8 is used"),
])
def test_bad_values_are_marked_and_the_value_used_is_named(app, testid, bad, message, used):
    stop_if_running(app)
    run = app.state("run")
    for value in bad:
        app.set_field(testid, value)
        error = app.by_id(f"{testid}-error")
        expect(error).to_contain_text(message)
        expect(error).to_contain_text(used)
        expect(app.by_id(testid)).to_have_attribute("aria-invalid", "true")
        assert app.state("run") == run, f"{testid}={value!r} started a run"
    app.set_field(testid, {"learning-rate": "0.01", "epochs": "300", "hidden": "8, 8"}[testid])
    expect(app.by_id(f"{testid}-error")).to_be_empty()
    expect(app.by_id(testid)).not_to_have_attribute("aria-invalid", "true")


def test_the_chart_keeps_a_bounded_history(app):
    lengths = app.page.evaluate("""async () => {
        const { History } = await import(new URL("views.js", location.href));
        const h = new History();
        for (let i = 1; i <= 100000; i++) h.push(i, 1 / i, null);
        return [h.epochs.length, h.train.length, h.epochs[0], h.epochs.at(-1), h.train.at(-1)];
    }""")
    assert lengths[0] == lengths[1] <= 2000 and lengths[0] >= 1000
    assert lengths[3] == 100000 and lengths[4] == 1e-5


def test_log_ticks_stay_distinct_and_large_labels_fit(app):
    labels = app.page.evaluate("""async () => {
        const { formatLoss } = await import(new URL("views.js", location.href));
        return [1e-7, 1e-5, 5e-4, 0.001, 0.01, 0.5, 3, 1000, 250000].map((v) => formatLoss(v));
    }""")
    assert labels == ["1e-7", "1e-5", "5e-4", "0.001", "0.01", "0.5", "3", "1000", "3e5"]
    # the chart itself: from 1e-6 to 1e6, every tick label distinct and none cut off by the axis' width
    ticks, size = app.page.evaluate("""() => {
        const c = window.pyautodiffDemo.chart;
        c.show({ epochs: [1, 2, 3, 4], train: [1e6, 1e2, 1e-3, 1e-6], test: [null, null, null, null] });
        const axis = c.plot.axes[1];
        return [axis._values.filter(Boolean), axis._size];
    }""")
    assert len(ticks) >= 3 and len(set(ticks)) == len(ticks) and "0" not in ticks, ticks
    assert size >= 7 * max(map(len, ticks)) + 14, (size, ticks)


def _long_run(app):
    app.by_id("speed").select_option("0")
    app.set_field("epochs", "100000")
    app.wait("s.running && s.epoch >= 5", timeout=30_000)


def _assert_stays_stopped(app):
    app.wait("!s.running && s.lastEnd === 'stopped'", timeout=10_000)  # the worker confirmed the Stop
    epoch = app.state("epoch")
    time.sleep(0.8)
    assert not app.state("running") and app.state("epoch") == epoch, "a run kept climbing after Stop"
    expect(app.by_id("stop")).to_be_disabled()
    expect(app.by_id("train")).to_be_enabled()


def test_stop_stops_at_once(app):
    _long_run(app)
    clicked = time.perf_counter()
    app.by_id("stop").click()
    app.wait("!s.running && s.lastEnd === 'stopped'", timeout=10_000)
    assert time.perf_counter() - clicked < 2.0
    assert app.state("stopLatencyMs") < 1000
    _assert_stays_stopped(app)
    expect(app.by_id("run-note")).to_contain_text("Stopped at epoch")


def test_stop_then_train_in_the_same_tick_leaves_one_run_that_stop_stops(app):
    app.by_id("train").click()
    app.wait("s.running && s.epoch >= 5")
    app.page.evaluate("() => { document.getElementById('stop').click(); document.getElementById('train').click(); }")
    app.wait("s.running && s.model === s.run && s.epoch >= 5")  # the new run trains its new model
    app.by_id("stop").click()
    _assert_stays_stopped(app)


def test_stop_while_python_runs_then_train(app):
    app.by_id("train").click()
    app.wait("s.running && s.epoch >= 3")
    app.run_python("import time\nt = time.time()\nwhile time.time() - t < 1.5:\n    pass\nprint('done')\n")
    app.by_id("stop").click()
    app.by_id("train").click()
    expect(app.by_id("python-output")).to_contain_text("done", timeout=10_000)
    app.wait("s.running && s.model === s.run && s.epoch >= 3")
    app.by_id("stop").click()
    _assert_stays_stopped(app)


def test_play_pause_and_step(app):
    app.set_field("epochs", "300")
    stop_if_running(app)
    epoch = app.state("epoch")
    app.by_id("step").click()
    app.wait("!s.running && s.epoch === arg", epoch + 1)
    expect(app.by_id("run-note")).to_contain_text(f"Epoch {epoch + 1}")
    app.by_id("speed").select_option("10")
    app.by_id("resume").click()
    time.sleep(1.0)
    app.by_id("stop").click()
    app.wait("s.lastEnd === 'stopped'")
    gained = app.state("epoch") - (epoch + 1)
    assert 2 <= gained <= 20, f"10 epochs/s gave {gained} epochs in a second"
    app.by_id("speed").select_option("0")
    app.by_id("resume").click()
    app.wait_idle(300)
    expect(app.by_id("resume")).to_be_disabled()


def test_settings_live_in_the_url_hash(app):
    app.by_id("dataset").select_option("moons")
    app.wait("s.running")
    assert "dataset=moons" in app.page.evaluate("location.hash")
    app.page.evaluate("() => { location.hash = 'dataset=xor&hidden=4,4&activation=relu&epochs=20&speed=0'; }")
    expect(app.by_id("model-summary")).to_contain_text("Dense(4, relu) \u2192 Dense(4, relu) \u2192 Dense(2)")
    expect(app.by_id("dataset")).to_have_value("xor")
    app.wait_idle(20)


def test_outside_requests_and_console_errors(app):
    assert not app.outside_requests(), app.outside_requests()
    assert app.requests, "no request was seen at all"
    assert not app.console_errors, app.console_errors

"""The Python panel, cross-origin isolated (as `make serve` serves it): the seed's examples and the page's own
model, interruptible runs, streamed and bounded output, tracebacks with source lines, and its keyboard paths.
"""

import pytest
from playwright.sync_api import expect

BUSY_LOOP = "while True:\n    pass\n"


@pytest.fixture(scope="module")
def app(open_app, server):
    return open_app(server).ready_with_short_runs(30)


@pytest.fixture(autouse=True)
def idle_panel(app):
    """A test that failed with its Python still running must not fail the ones after it: stop it (twice restarts)."""
    yield
    stop = app.by_id("stop-python")
    for _ in range(2):
        if not stop.is_enabled():
            break
        stop.click()
        try:
            expect(stop).to_be_disabled(timeout=5_000)
        except AssertionError:
            pass
    app.wait_ready()


@pytest.mark.parametrize("example, expected", [
    (1, "c = 6 da = 3 db = 2"),
    (2, "classified 6 of 6 points correctly"),
    (3, "z = 100 da = 60 db = 40"),
])
def test_the_seed_examples_run(app, example, expected):
    app.by_id(f"example-{example}").click()
    assert "import pyautodiff as ad" in app.by_id("python-code").input_value()
    app.by_id("run-python").click()
    expect(app.by_id("python-output")).to_contain_text(expected, timeout=60_000)
    expect(app.by_id("python-output")).not_to_contain_text("Traceback")


def test_page_model_and_data_are_the_ones_shown(app):
    before = app.state("probabilities")
    app.by_id("example-4").click()
    app.by_id("run-python").click()
    output = app.by_id("python-output")
    expect(output).to_contain_text("trained 20 more epochs", timeout=60_000)
    expect(output).to_contain_text("100 training points, 100 test points")
    # the code trained page.model: the plane shows the retrained model
    app.page.wait_for_function("p => window.pyautodiffDemo.probabilities.some((v, i) => v !== p[i])", arg=before)


def test_an_endless_loop_is_interrupted(app):
    app.by_id("example-1").click()
    app.run_python(BUSY_LOOP)
    expect(app.by_id("status")).to_contain_text("running your Python")
    expect(app.by_id("stop-python")).to_be_enabled()
    expect(app.by_id("run-python")).to_be_disabled()
    app.by_id("stop-python").click()
    expect(app.by_id("python-output")).to_contain_text("KeyboardInterrupt", timeout=10_000)
    assert app.state("restarts") == 0, "the interrupt buffer should stop it without a restart"
    expect(app.by_id("status")).to_contain_text("ready")
    expect(app.by_id("run-python")).to_be_enabled()
    # the page trains and runs Python as before
    app.by_id("train").click()
    app.wait_idle(30)
    app.run_python("print('after', 6 * 7)")
    expect(app.by_id("python-output")).to_contain_text("after 42")


def test_a_stop_that_lands_while_the_page_trains_still_stops_the_run(app):
    """Run and Stop in one task while the worker trains flat out: the stop reaches the run, not a training chunk."""
    app.set_field("epochs", "100000")
    app.by_id("train").click()
    app.wait("s.running && s.epoch > arg", app.state("epoch") + 2)
    for attempt in range(3):
        app.by_id("python-code").fill(f"print('busy {attempt}')\n" + BUSY_LOOP)
        app.page.evaluate("() => { document.getElementById('run').click(); "
                          "document.getElementById('stop-python').click(); }")
        expect(app.by_id("python-output")).to_contain_text("KeyboardInterrupt", timeout=10_000)
        expect(app.by_id("run-python")).to_be_enabled()
    assert app.state("restarts") == 0
    assert app.state("running"), "the page's training went on under the runs"
    app.by_id("stop").click()
    app.wait("!s.running")
    app.set_field("epochs", "30")


def test_a_long_sleep_is_interrupted_without_a_restart(app):
    """Pyodide's time.sleep never looks at the interrupt buffer: the panel's sleeps in slices, so Stop reaches it."""
    app.run_python("import time\nt0 = time.monotonic()\ntime.sleep(0.3)\n"
                   "print('slept', round(time.monotonic() - t0, 1))\ntime.sleep(30)\n")
    expect(app.by_id("python-output")).to_contain_text("slept 0.3")
    app.by_id("stop-python").click()
    expect(app.by_id("python-output")).to_contain_text("KeyboardInterrupt", timeout=5_000)
    assert app.state("restarts") == 0
    app.run_python("import time\nfor bad in (-1, float('nan'), '1'):\n    try:\n        time.sleep(bad)\n"
                   "    except (ValueError, TypeError) as e:\n        print(type(e).__name__)\n")
    expect(app.by_id("python-output")).to_contain_text("ValueError\nValueError\nTypeError")


def test_code_that_swallows_the_interrupt_is_stopped_by_a_second_stop(app):
    app.run_python("print('looping')\nwhile True:\n    try:\n        while True:\n            pass\n"
                   "    except KeyboardInterrupt:\n        print('caught it')\n")
    expect(app.by_id("python-output")).to_contain_text("looping")  # inside the try, not before it
    expect(app.by_id("stop-python")).to_be_enabled()
    app.by_id("stop-python").click()
    expect(app.by_id("python-output")).to_contain_text("caught it")
    expect(app.by_id("python-output")).to_have_class("pending")
    app.by_id("stop-python").click()
    expect(app.by_id("python-output")).to_contain_text("went on after KeyboardInterrupt")
    assert app.state("restarts") == 1
    app.wait_ready()
    app.wait_idle(30)
    app.by_id("reset-python").click()


def test_output_streams_while_the_code_runs(app):
    app.run_python("import time\nfor i in range(6):\n    print('line', i)\n    time.sleep(0.25)\n")
    expect(app.by_id("python-output")).to_contain_text("line 1", timeout=5_000)
    assert "pending" in app.by_id("python-output").get_attribute("class"), "line 1 arrived only at the end"
    expect(app.by_id("python-output")).to_contain_text("line 5")
    expect(app.by_id("python-output")).to_have_class("ok")


def test_huge_output_keeps_its_tail_in_a_bounded_box(app):
    app.run_python("for i in range(200000):\n    print(i)\n")
    output = app.by_id("python-output")
    expect(output).to_have_class("ok", timeout=60_000)
    text = output.inner_text()
    assert text.rstrip().endswith("199999") and "earlier lines not shown" in text
    assert len(text.splitlines()) <= 2002
    assert output.bounding_box()["height"] < 700


@pytest.mark.parametrize("code, expected", [
    ("def f():\n    return 1 / 0\nf()\n", ["line 2, in f", "return 1 / 0", "ZeroDivisionError"]),
    ("name = input('name? ')\n", ["input() is not available in this page"]),
    ("import numpy\n", ["ModuleNotFoundError", "numpy is not bundled"]),
    ("import pyautodiff as ad\nad.reshape(ad.array([1.0, 2.0]), (3,))\n", ["ValueError", "ad.reshape(ad.array"]),
])
def test_errors_show_their_source_and_a_hint(app, code, expected):
    app.run_python(code)
    output = app.by_id("python-output")
    expect(output).to_have_class("failed", timeout=30_000)
    for text in expected:
        expect(output).to_contain_text(text)


def test_reset_restores_the_example_and_clears_the_output(app):
    app.by_id("example-1").click()
    app.run_python("print('edited')")
    expect(app.by_id("python-output")).to_contain_text("edited")
    app.by_id("reset-python").click()
    expect(app.by_id("python-output")).to_be_empty()
    assert "c = g.mul(a, b)" in app.by_id("python-code").input_value()


def test_the_editor_lets_the_keyboard_out(app):
    expect(app.by_id("python-code")).to_have_attribute("aria-describedby", "editor-keys")
    expect(app.page.locator("#editor-keys")).to_contain_text("Ctrl")
    editor = app.by_id("python-code")
    editor.focus()
    app.page.keyboard.press("End")
    app.page.keyboard.press("Tab")  # indents
    assert editor.input_value().endswith("    ")
    assert app.page.evaluate("document.activeElement.id") == "code"
    app.page.keyboard.press("Escape")
    app.page.keyboard.press("Tab")  # leaves, to Run
    assert app.page.evaluate("document.activeElement.id") == "run"
    app.by_id("reset-python").click()
    app.page.locator("#run").focus()
    app.page.keyboard.press("Enter")
    expect(app.by_id("python-output")).to_contain_text("c = 6 da = 3 db = 2")
    editor.focus()
    app.page.keyboard.press("Control+Enter")
    expect(app.by_id("python-output")).to_have_class("ok")


def test_example_tabs_are_tabs(app):
    tabs = app.page.locator("#example-tabs").get_by_role("tab")  # (the page's own tabs are another tablist)
    expect(tabs).to_have_count(4)
    for i in range(4):
        expect(tabs.nth(i)).to_have_attribute("aria-controls", "python-panel")
    expect(app.page.locator(".python").get_by_role("tabpanel")).to_have_count(1)
    app.by_id("example-1").click()
    app.page.keyboard.press("ArrowRight")
    expect(app.by_id("example-2")).to_be_focused()
    expect(app.by_id("example-2")).to_have_attribute("aria-selected", "true")
    app.page.keyboard.press("End")
    expect(app.by_id("example-4")).to_be_focused()
    app.page.keyboard.press("ArrowRight")
    expect(app.by_id("example-1")).to_have_attribute("aria-selected", "true")
    assert [tabs.nth(i).get_attribute("tabindex") for i in range(4)] == ["0", "-1", "-1", "-1"]


def test_space_on_stop_keeps_the_focus_on_a_control(app):
    app.set_field("epochs", "100000")
    app.wait("s.running && s.epoch >= 2")
    app.by_id("stop").focus()
    app.page.keyboard.press("Space")
    app.wait("!s.running")
    assert app.page.evaluate("document.activeElement.tagName") == "BUTTON"
    expect(app.by_id("resume")).to_be_focused()


def test_no_console_errors(app):
    assert not app.outside_requests()
    assert not app.console_errors, app.console_errors

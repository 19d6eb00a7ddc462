"""The measured-speed line ("this step: N µs in your browser") and the digits tab: a small CNN trained in the page
on ad.datasets.digits() with live accuracy, and a drawing pad (mouse, touch, or a sample digit by keyboard)
classified live with per-class bars.
"""

import re

import pytest
from playwright.sync_api import expect

SPEED = re.compile(r"^this step: (\d+) µs in your browser$")


@pytest.fixture(scope="module")
def app(open_app, server):
    return open_app(server).ready_with_short_runs(20)


def step_us(app, testid):
    text = app.by_id(testid).text_content()
    match = SPEED.match(text)
    assert match, text
    return int(match.group(1))


def test_the_speed_line_is_measured_live(app):
    us = step_us(app, "step-speed")
    assert us == round(app.state("stepUs"))
    # an 8, 8 network on 10-point batches: a step takes microseconds to milliseconds, never nothing or seconds
    assert 5 <= us <= 200_000, us
    # shown next to ms / epoch, and updated as training goes on
    speed, figures = app.by_id("step-speed").bounding_box(), app.by_id("ms-per-epoch").bounding_box()
    assert 0 <= speed["y"] - (figures["y"] + figures["height"]) < 40
    app.page.evaluate("window.pyautodiffDemo.stepUs = null")
    app.set_field("epochs", "30")
    app.wait_idle(30)
    assert app.state("stepUs") > 0
    assert step_us(app, "step-speed") == round(app.state("stepUs"))


def digits(app, key):
    return app.page.evaluate(f"() => window.pyautodiffDemo.digits.{key}")


def test_the_digits_tab_trains_a_cnn_with_live_accuracy(app):
    tab = app.by_id("tab-digits")
    expect(tab).to_have_attribute("role", "tab")
    tab.focus()
    app.page.keyboard.press("ArrowLeft")  # the tablist wraps: the keyboard reaches the digits tab
    app.page.keyboard.press("ArrowLeft")
    expect(tab).to_have_attribute("aria-selected", "true")
    expect(app.by_id("tab-digits")).to_be_focused()
    expect(app.page.locator("#digits")).to_be_visible()
    expect(app.page.locator("#playground")).to_be_hidden()
    expect(app.by_id("digits-summary")).to_contain_text("Conv2D(8")
    expect(app.by_id("digits-summary")).to_contain_text("1348 training and 449 test digits")
    seen = set()  # the test accuracy as training goes: it climbs while the page shows it
    app.page.wait_for_function("() => window.pyautodiffDemo.digits.epoch >= 1", timeout=60_000)
    while digits(app, "running"):
        seen.add(digits(app, "testAccuracy"))
        app.page.wait_for_timeout(100)
    assert digits(app, "lastEnd") == "done" and digits(app, "epoch") == digits(app, "epochs")
    assert len(seen) >= 2, seen
    assert digits(app, "testAccuracy") >= 0.85 and digits(app, "accuracy") >= 0.85
    expect(app.by_id("digits-test-accuracy")).to_have_text(f"{round(digits(app, 'testAccuracy') * 100)}%")
    expect(app.by_id("digits-note")).to_contain_text("Trained")
    assert 5 <= step_us(app, "digits-step-speed") <= 500_000


def bars(app):
    return [float(app.by_id(f"digit-bar-{d}").locator(".pct").text_content().rstrip("%")) for d in range(10)]


def test_a_drawn_digit_is_downsampled_and_classified_live(app):
    pad = app.by_id("pad")
    expect(pad).to_have_css("touch-action", "none")
    box = pad.bounding_box()
    mouse = app.page.mouse
    before = digits(app, "predictions")
    mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.15)
    mouse.down()
    for k in range(1, 11):  # a vertical stroke: a one
        mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * (0.15 + 0.07 * k))
    app.wait("s.digits.predictions > arg", before + 1)  # classified while the pen is still down
    mouse.up()
    pixels = digits(app, "pixels")
    assert len(pixels) == 64 and all(isinstance(v, int) and 0 <= v <= 16 for v in pixels)
    assert max(pixels) >= 8 and sum(v > 0 for v in pixels) <= 24  # a pen's width: two columns of blocks at most
    columns = {k % 8 for k, v in enumerate(pixels) if v > 0}
    rows = {k // 8 for k, v in enumerate(pixels) if v > 0}
    assert rows == set(range(8)) and columns <= {2, 3, 4, 5}  # fitted to the box's height, centred
    expect(app.by_id("digit-prediction")).to_contain_text("It looks like a 1")
    probabilities = digits(app, "probabilities")
    assert sum(probabilities) == pytest.approx(1, abs=1e-4) and probabilities.index(max(probabilities)) == 1
    assert bars(app) == [round(p * 100) for p in probabilities]
    expect(app.by_id("digit-bar-1")).to_have_class("best")
    app.by_id("pad-clear").click()
    expect(app.by_id("digit-prediction")).to_have_text("Draw a digit on the pad.")
    assert digits(app, "pixels") == [0] * 64


def test_touch_strokes_draw_too(app):
    box = app.by_id("pad").bounding_box()
    at = lambda fx, fy: [{"x": box["x"] + fx * box["width"], "y": box["y"] + fy * box["height"]}]  # noqa: E731
    cdp = app.context.new_cdp_session(app.page)  # real touch input, as a finger gives it
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": at(0.3, 0.3)})
    for k in range(1, 9):  # a horizontal bar
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": at(0.3 + 0.05 * k, 0.3)})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()
    pixels = digits(app, "pixels")
    rows = {k // 8 for k, v in enumerate(pixels) if v > 0}
    columns = {k % 8 for k, v in enumerate(pixels) if v > 0}
    assert rows == {3, 4} and columns == set(range(8)), pixels  # fitted to the box's width, centred
    app.wait("s.digits.best !== null")
    expect(app.by_id("digit-prediction")).to_contain_text("It looks like a ")
    app.by_id("pad-clear").click()


def test_sample_digits_by_keyboard_are_classified(app):
    sample = app.by_id("pad-sample")
    sample.focus()
    right = 0
    for i in range(5):
        before = digits(app, "predictions")
        app.page.keyboard.press("Enter")
        app.wait("s.digits.sample && s.digits.sample.index === arg[0] && s.digits.predictions > arg[1]", [i, before])
        label = digits(app, "sample")["label"]
        expect(app.by_id("digit-prediction")).to_contain_text(f"(a held-out {label})")
        right += digits(app, "best") == label
        assert sum(digits(app, "pixels")) > 0
    assert right >= 4, right  # a network at >= 85% test accuracy
    expect(sample).to_be_focused()


def test_the_digits_tab_at_375_px(open_app, server):
    phone = open_app(server + "#speed=0&epochs=5", width=375, height=667)
    phone.wait_ready()
    phone.by_id("tab-digits").click()
    assert phone.page.evaluate("document.documentElement.scrollWidth") <= 375
    pad = phone.by_id("pad").bounding_box()
    assert pad["width"] >= 200 and pad["x"] + pad["width"] <= 375
    overflowing = phone.page.evaluate("""() => [...document.querySelectorAll('#digits .card *')].filter(el => {
        const r = el.getBoundingClientRect(), card = el.closest('.card').getBoundingClientRect();
        return r.width && (r.right > card.right + 0.5 || r.left < card.left - 0.5);
    }).map(el => el.className || el.tagName)""")
    assert not overflowing, overflowing
    phone.by_id("tab-playground").click()  # back: the digits' training stops, the playground is shown
    expect(phone.page.locator("#playground")).to_be_visible()
    phone.wait("!s.digits.running")


def test_no_console_errors(app):
    assert not app.outside_requests()
    assert not app.console_errors, app.console_errors

"""A phone-sized viewport (375 x 667) opened from a shared link (the playground, then the digits tab), and a static
host without cross-origin isolation, where Stop Python restarts the Python worker instead of interrupting it.
"""

import pytest
from playwright.sync_api import expect

SHARED = "#dataset=xor&noise=0&hidden=4,4,4&activation=relu&epochs=25&speed=0"


@pytest.fixture(scope="module")
def phone(open_app, server):
    app = open_app(server + SHARED, width=375, height=667)
    app.wait_ready()
    return app


@pytest.fixture(scope="module")
def static(open_app, static_server):
    app = open_app(static_server)
    app.wait_ready()
    return app


def test_a_shared_link_restores_its_settings(phone):
    expect(phone.by_id("dataset")).to_have_value("xor")
    expect(phone.by_id("hidden")).to_have_value("4,4,4")
    expect(phone.by_id("activation")).to_have_value("relu")
    expect(phone.by_id("model-summary")).to_contain_text("Dense(4, relu) \u2192 Dense(4, relu) \u2192 Dense(4, relu)")
    phone.wait_idle(25)


def test_at_375_px_nothing_overflows_and_the_results_are_above_the_fold(phone):
    page = phone.page
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    for selector in [".legend", ".figures", ".status", ".buttons", ".tabs", "#config"]:
        overflowing = page.evaluate("""sel => [...document.querySelectorAll(sel)].filter(el => {
            const r = el.getBoundingClientRect(), card = (el.closest('.card') || document.body).getBoundingClientRect();
            return r.right > card.right + 0.5 || r.left < card.left - 0.5 || el.scrollWidth > el.clientWidth + 1;
        }).length""", selector)
        assert overflowing == 0, selector
    figures = phone.by_id("accuracy").bounding_box()
    canvas = phone.by_id("boundary").bounding_box()
    assert figures["y"] + figures["height"] <= 667
    assert canvas["y"] + canvas["height"] / 2 <= 667, "the decision boundary starts below the fold"
    page.screenshot(path=str(phone.out_dir / "phone.png"))


def test_the_phone_can_train_and_run_python(phone):
    phone.by_id("train").click()
    phone.wait_idle(25)
    phone.by_id("example-1").click()
    phone.by_id("run-python").click()
    expect(phone.by_id("python-output")).to_contain_text("c = 6 da = 3 db = 2")


def test_the_digits_tab_at_375_px(phone):
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


def test_without_isolation_stop_python_restarts_the_worker(static):
    assert not static.page.evaluate("crossOriginIsolated") and not static.state("interruptible")
    expect(static.by_id("backend")).to_contain_text("not cross-origin isolated")
    static.run_python("while True:\n    pass\n")
    expect(static.by_id("stop-python")).to_be_enabled()
    static.by_id("stop-python").click()
    expect(static.by_id("python-output")).to_contain_text("Python was restarted")
    expect(static.by_id("status")).to_contain_text("restarting")
    assert static.state("restarts") == 1
    static.wait_ready()
    expect(static.by_id("status")).to_contain_text("ready")
    static.wait("s.running || s.epoch > 0")  # a fresh model trains, as on load
    static.by_id("reset-python").click()  # the tab kept the endless loop, as it keeps any edit
    static.by_id("run-python").click()
    expect(static.by_id("python-output")).to_contain_text("c = 6 da = 3 db = 2", timeout=30_000)


@pytest.mark.parametrize("fixture", ["phone", "static"])
def test_offline_and_no_console_errors(request, fixture):
    app = request.getfixturevalue(fixture)
    assert not app.outside_requests(), app.outside_requests()
    assert not app.console_errors, app.console_errors

"""The playground: datasets with noise and a test split, points added by click or keyboard, the network's shape,
weights saved and loaded as .safetensors, and accessibility (roles, text alternatives, contrast, dark mode,
reduced motion).
"""

import struct

import pytest
from playwright.sync_api import expect

CONTRAST = """selector => {
    const rgb = (c) => c.match(/[\\d.]+/g).slice(0, 3).map(Number);
    const linear = (x) => x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4;
    const lum = (c) => { const v = rgb(c).map(x => linear(x / 255));
                         return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2]; };
    const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
    const probe = document.createElement('span');
    document.body.append(probe);
    const color = (v) => { probe.style.color = `var(${v})`; return getComputedStyle(probe).color; };
    const card = color('--card'), bg = color('--bg');
    const out = { muted_on_card: ratio(color('--muted'), card), muted_on_page: ratio(color('--muted'), bg),
                  field_border: ratio(getComputedStyle(document.querySelector(selector)).borderTopColor, card),
                  focus_ring: ratio(color('--accent'), card), ink: ratio(color('--ink'), card) };
    probe.remove();
    return out;
}"""


@pytest.fixture(scope="module")
def app(open_app, server):
    return open_app(server).ready_with_short_runs(20)


def points(app):
    return app.state("data")


@pytest.mark.parametrize("dataset", ["circle", "xor", "gauss", "spiral", "moons"])
def test_each_dataset_splits_into_train_and_test(app, dataset):
    app.by_id("dataset").select_option(dataset)
    app.wait_idle(20)
    data = points(app)
    assert len(data["train"]) == len(data["test"]) == 100 and data["plane"] == [-6, 6]
    assert {p[2] for p in data["train"]} == {0, 1}
    assert app.state("history.test.length") == 20 and app.state("testLoss") > 0
    expect(app.by_id("test-loss")).not_to_have_text("\u2013")


def test_noise_and_test_share_change_the_data(app):
    app.by_id("dataset").select_option("circle")
    app.wait_idle(20)
    clean = points(app)
    app.set_field("noise", "40")
    app.wait_idle(20)
    noisy = points(app)
    radius = lambda d: max((x * x + y * y) ** 0.5 for x, y, label in d["train"] + d["test"] if label == 1)  # noqa: E731
    assert radius(noisy) > radius(clean)
    app.set_field("test-percent", "20")
    app.wait_idle(20)
    assert (len(points(app)["train"]), len(points(app)["test"])) == (160, 40)


def test_the_seeds_six_points(app):
    app.by_id("dataset").select_option("seed")
    app.wait_idle(20)
    data = points(app)
    assert data["plane"] == [0, 5] and len(data["train"]) == 6 and data["test"] == []
    expect(app.by_id("test-loss")).to_have_text("\u2013")
    expect(app.page.locator("#accuracy-label")).to_have_text("Accuracy")


def test_click_and_keyboard_add_points(app):
    canvas = app.by_id("boundary")
    box = canvas.bounding_box()
    app.by_id("add-class-0").check()
    canvas.click(position={"x": box["width"] * 0.8, "y": box["height"] * 0.2})  # (4, 4) on the seed's plane
    app.wait("s.data.train.length === 7")
    x, y, label = points(app)["train"][-1]
    assert label == 0 and x == pytest.approx(4, abs=0.1) and y == pytest.approx(4, abs=0.1)
    app.by_id("add-class-1").check()
    canvas.focus()
    for key in ["ArrowRight", "ArrowRight", "ArrowDown", "Enter"]:
        app.page.keyboard.press(key)
    app.wait("s.data.train.length === 8")
    x, y, label = points(app)["train"][-1]
    assert label == 1 and x > 2.5 and y < 2.5
    app.by_id("step").click()  # and trained on
    app.wait("!s.running && s.epoch === 21")


def test_network_shape_controls(app):
    app.set_field("hidden", "16, 8, 4")
    expect(app.by_id("model-summary")).to_contain_text(
        "Dense(16, tanh) \u2192 Dense(8, tanh) \u2192 Dense(4, tanh) \u2192 Dense(2)")
    expect(app.by_id("model-summary")).to_contain_text("230 parameters")  # 48 + 136 + 36 + 10
    app.set_field("hidden", "2,2,2,2,2,2")
    expect(app.by_id("model-summary")).to_contain_text("Dense(2, tanh) \u2192 " * 6 + "Dense(2)")
    app.by_id("activation").select_option("relu")
    app.set_field("dropout", "0.2")
    app.set_field("weight-decay", "0.001")
    app.set_field("batch-size", "3")
    summary = app.by_id("model-summary")
    expect(summary).to_contain_text("Dense(2, relu)")
    expect(summary).to_contain_text("dropout 0.2")
    expect(summary).to_contain_text("weight decay 0.001")
    app.wait_idle(20)
    assert "hidden=2%2C2%2C2%2C2%2C2%2C2" in app.page.evaluate("location.hash")
    for testid, value in [("dropout", "0"), ("weight-decay", "0"), ("batch-size", "10"), ("hidden", "8, 8")]:
        app.set_field(testid, value)
    app.by_id("activation").select_option("tanh")
    app.wait_idle(20)


def test_a_learning_rate_schedule(app):
    app.set_field("lr-decay", "0.1")
    expect(app.by_id("model-summary")).to_contain_text("learning rate \u00d70.1 per 100 epochs")
    app.wait_idle(20)
    # 20 of the 100 epochs over which the rate falls tenfold: 0.01 * 0.1 ** 0.2
    app.run_python("print(f'rate {page.trainer.optimizer.learning_rate:.5f}')")
    expect(app.by_id("python-output")).to_contain_text("rate 0.00631")
    app.set_field("lr-decay", "1.5")
    expect(app.by_id("lr-decay-error")).to_contain_text("Enter a number from 0.01 to 1; 0.1 is used.")
    app.set_field("lr-decay", "1")
    app.wait_idle(20)


def test_per_neuron_maps_of_the_first_layers(app):
    rows = app.page.locator('[data-testid="neurons"] .neuron-row')
    expect(rows).to_have_count(2)  # 8, 8: both layers, all 8 units
    expect(rows.nth(0).locator("canvas")).to_have_count(8)
    expect(rows.nth(1).locator("canvas")).to_have_count(8)
    before = app.state("neurons")
    assert len(before[0][0]) == 400  # a 20 x 20 grid per unit
    app.by_id("step").click()
    app.wait("!s.running && s.epoch === 21")
    assert app.state("neurons") != before, "the maps did not follow the training"
    app.set_field("hidden", "3, 12, 5")  # the first two layers, at most 8 units each
    expect(rows.nth(0).locator("canvas")).to_have_count(3)
    expect(rows.nth(1).locator("canvas")).to_have_count(8)
    app.set_field("hidden", "8, 8")
    app.wait_idle(20)


def test_diverging_training_says_so(app):
    app.by_id("dataset").select_option("circle")
    app.by_id("activation").select_option("relu")
    app.by_id("optimizer").select_option("sgd")
    app.set_field("hidden", "128, 128, 128, 128")
    app.set_field("learning-rate", "10")  # the largest accepted: NaN within an epoch for nearly every init
    for _ in range(5):  # a new random init each time: one in twenty or so stays finite for a while
        app.wait("!s.running && s.model === s.run && s.lastEnd !== null", timeout=60_000)
        if app.state("lastEnd") == "diverged":
            break
        app.by_id("train").click()
    assert app.state("lastEnd") == "diverged"
    expect(app.by_id("run-note")).to_contain_text("Diverged at epoch")
    expect(app.by_id("run-note")).to_contain_text("Lower the learning rate")
    app.by_id("optimizer").select_option("adam")
    app.by_id("activation").select_option("tanh")
    app.set_field("hidden", "8, 8")
    app.wait_idle(20)


def test_weights_save_and_load_as_safetensors(app, tmp_path):
    app.by_id("dataset").select_option("xor")
    app.wait_idle(20)
    trained = app.state("probabilities")
    with app.page.expect_download() as info:
        app.by_id("save-weights").click()
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(path)
    assert path.suffix == ".safetensors"
    raw = path.read_bytes()
    header_len = struct.unpack("<Q", raw[:8])[0]
    assert b'"dtype":"F32"' in raw[8:8 + header_len] and len(raw) > 8 + header_len
    app.by_id("train").click()  # new random weights
    app.wait_idle(20)
    assert app.state("probabilities") != trained
    app.by_id("weights-file").set_input_files(str(path))
    expect(app.by_id("run-note")).to_contain_text("Loaded weights from")
    assert app.state("probabilities") == pytest.approx(trained, abs=1e-6)
    # a file for another network is refused with the reason, and the model is left as it was
    app.set_field("hidden", "4")
    app.wait_idle(20)
    before = app.state("probabilities")
    app.by_id("weights-file").set_input_files(str(path))
    expect(app.by_id("run-note")).to_contain_text("Could not load the weights")
    assert app.state("probabilities") == before
    app.set_field("hidden", "8, 8")
    app.wait_idle(20)


def test_charts_have_roles_and_text_alternatives(app):
    chart = app.by_id("loss-chart")
    expect(chart).to_have_attribute("role", "img")
    expect(chart).to_have_attribute("aria-label", "Chart of the loss per epoch, log scale")
    expect(app.by_id("loss-text")).to_contain_text("at epoch 20")
    expect(app.by_id("boundary")).to_have_attribute("role", "img")
    expect(app.by_id("boundary-text")).to_contain_text("training points")
    expect(app.by_id("run-note")).to_have_attribute("role", "status")
    expect(app.by_id("run-note")).to_contain_text("Finished 20 epochs")
    for testid in ["learning-rate", "epochs", "hidden", "dataset", "noise"]:
        assert app.by_id(testid).evaluate("el => el.labels.length") == 1, testid


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_contrast_in_light_and_dark(app, scheme):
    app.page.emulate_media(color_scheme=scheme)
    ratios = app.page.evaluate(CONTRAST, '[data-testid="epochs"]')
    assert ratios["muted_on_card"] >= 4.5 and ratios["muted_on_page"] >= 4.5, ratios
    assert ratios["field_border"] >= 3 and ratios["focus_ring"] >= 3 and ratios["ink"] >= 7, ratios
    dark = app.page.evaluate("getComputedStyle(document.documentElement).backgroundColor")
    assert (dark == "rgb(11, 16, 32)") == (scheme == "dark"), dark
    app.page.emulate_media(color_scheme="light")


def test_the_status_dot_respects_reduced_motion(app):
    dot = "() => { const s = document.querySelector('.status'); const kind = s.dataset.kind; s.dataset.kind = 'busy';" \
          " const a = getComputedStyle(s.querySelector('.dot')).animationName; s.dataset.kind = kind; return a; }"
    assert app.page.evaluate(dot) == "pulse"
    app.page.emulate_media(reduced_motion="reduce")
    assert app.page.evaluate(dot) == "none"
    app.page.emulate_media(reduced_motion="no-preference")


def test_no_console_errors(app):
    assert not app.outside_requests()
    assert not app.console_errors, app.console_errors

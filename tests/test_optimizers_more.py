"""Adagrad, Adadelta, Adamax, Nadam, Lion, amsgrad, gradient clipping, weight decay and the moving average of the
weights, step by step against Keras 3's update rules written here in float64 numpy; the schedules against values
recorded from Keras 3.15 (KERAS_BACKEND=numpy); traced against eager steps; configs, copies and errors."""

import copy
import math
import pickle

import pytest

import pyautodiff as ad

opts = ad.optimizers
STEPS = 6


def _np():
    return pytest.importorskip("numpy")


# --- the update rules (Keras 3), one variable's state in a dict ---------------------------------------------------

def adagrad(np, s, w, g, lr, t, init=0.1, eps=1e-7):
    s.setdefault("acc", np.full_like(w, init))
    s["acc"] = s["acc"] + g * g
    return w - lr * g / np.sqrt(s["acc"] + eps)


def adadelta(np, s, w, g, lr, t, rho=0.95, eps=1e-7):
    a, d = s.get("a", np.zeros_like(w)), s.get("d", np.zeros_like(w))
    a = rho * a + (1 - rho) * g * g
    delta = -np.sqrt(d + eps) * g / np.sqrt(a + eps)
    s["a"], s["d"] = a, rho * d + (1 - rho) * delta * delta
    return w + lr * delta


def adamax(np, s, w, g, lr, t, b1=0.9, b2=0.999, eps=1e-7):
    m, u = s.get("m", np.zeros_like(w)), s.get("u", np.zeros_like(w))
    s["m"], s["u"] = m + (g - m) * (1 - b1), np.maximum(b2 * u, np.abs(g))
    return w - lr * s["m"] / ((1 - b1 ** t) * (s["u"] + eps))


def nadam(np, s, w, g, lr, t, b1=0.9, b2=0.999, eps=1e-7):
    m, v = s.get("m", np.zeros_like(w)), s.get("v", np.zeros_like(w))
    u_t, u_next = b1 * (1 - 0.5 * 0.96 ** t), b1 * (1 - 0.5 * 0.96 ** (t + 1))
    s["product"] = s.get("product", 1.0) * u_t
    m, v = m + (g - m) * (1 - b1), v + (g * g - v) * (1 - b2)
    s["m"], s["v"] = m, v
    m_hat = u_next * m / (1 - s["product"] * u_next) + (1 - u_t) * g / (1 - s["product"])
    return w - m_hat * lr / (np.sqrt(v / (1 - b2 ** t)) + eps)


def lion(np, s, w, g, lr, t, b1=0.9, b2=0.99):
    m = s.get("m", np.zeros_like(w))
    w = w - lr * np.sign(m * b1 + g * (1 - b1))
    s["m"] = m * b2 + g * (1 - b2)
    return w


def adam(np, s, w, g, lr, t, b1=0.9, b2=0.999, eps=1e-7, amsgrad=False):
    m, v = s.get("m", np.zeros_like(w)), s.get("v", np.zeros_like(w))
    s["m"], s["v"] = m + (g - m) * (1 - b1), v + (g * g - v) * (1 - b2)
    if amsgrad:
        s["vhat"] = np.maximum(s.get("vhat", np.zeros_like(w)), s["v"])
    alpha = lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t)
    return w - alpha * s["m"] / (np.sqrt(s["vhat"] if amsgrad else s["v"]) + eps)


def rmsprop(np, s, w, g, lr, t, rho=0.9, eps=1e-7):
    s["v"] = rho * s.get("v", np.zeros_like(w)) + (1 - rho) * g * g
    return w - lr * g / np.sqrt(s["v"] + eps)


def sgd(np, s, w, g, lr, t, momentum=0.0):
    if not momentum:
        return w - lr * g
    s["m"] = momentum * s.get("m", np.zeros_like(w)) - lr * g
    return w + s["m"]


def reference(np, rule, ws, steps, lr_at, wd=0.0, clipnorm=None, clipvalue=None, global_clipnorm=None,
              ema=None, **hyper):
    """Keras' BaseOptimizer around an update rule: clip, decay the weights, update, move the averages.
    Returns the weights after each step and the final averages."""
    states, averages, out = [{} for _ in ws], [None] * len(ws), []
    ws = [w.copy() for w in ws]
    for t, grads in enumerate(steps, 1):
        lr = lr_at(t - 1)
        if clipnorm:
            grads = [g * clipnorm / max(np.sqrt(np.sum(g * g)), clipnorm) for g in grads]
        elif global_clipnorm:
            norm = math.sqrt(sum(np.sum(g * g) for g in grads))
            grads = [g * global_clipnorm * min(1 / norm, 1 / global_clipnorm) for g in grads]
        elif clipvalue:
            grads = [np.clip(g, -clipvalue, clipvalue) for g in grads]
        ws = [rule(np, s, w - w * wd * lr, g, lr, t, **hyper) for s, w, g in zip(states, ws, grads)]
        if ema:
            momentum, every = ema
            mu = 0.0 if t == 1 else momentum
            averages = [w if a is None else mu * a + (1 - mu) * w for a, w in zip(averages, ws)]
            if every and t % every == 0:
                ws = [a.copy() for a in averages]
        out.append([w.copy() for w in ws])
    return out, averages


def _problem(np, dtype="float64"):
    rng = np.random.default_rng(7)
    ws = [rng.normal(size=(2, 3)), rng.normal(size=(5,))]
    steps = [[3 * rng.normal(size=w.shape) for w in ws] for _ in range(STEPS)]
    return ws, steps


def _trajectory(opt, ws, steps, dtype="float64"):
    vars_ = [ad.Variable(ad.array(w, dtype)) for w in ws]
    out = []
    for grads in steps:
        opt.apply_gradients([(ad.array(g, dtype), v) for g, v in zip(grads, vars_)])
        out.append([v.numpy() for v in vars_])
    return out


def constant(lr):
    return lambda step: lr


# name: (optimizer, rule, reference options)
CASES = {
    "adagrad": (lambda: opts.Adagrad(0.1), adagrad, {}),
    "adagrad_options": (lambda: opts.Adagrad(0.2, initial_accumulator_value=0.5, epsilon=1e-3, weight_decay=0.05),
                        adagrad, dict(init=0.5, eps=1e-3, wd=0.05)),
    "adadelta": (lambda: opts.Adadelta(1.0), adadelta, {}),
    "adadelta_rho_wd": (lambda: opts.Adadelta(2.0, rho=0.8, epsilon=1e-4, weight_decay=0.01), adadelta,
                        dict(rho=0.8, eps=1e-4, wd=0.01)),
    "adamax": (lambda: opts.Adamax(0.05), adamax, {}),
    "adamax_betas_wd": (lambda: opts.Adamax(0.05, beta_1=0.5, beta_2=0.8, epsilon=1e-3, weight_decay=0.1), adamax,
                        dict(b1=0.5, b2=0.8, eps=1e-3, wd=0.1)),
    "nadam": (lambda: opts.Nadam(0.05), nadam, {}),
    "nadam_betas_wd": (lambda: opts.Nadam(0.05, beta_1=0.7, beta_2=0.9, epsilon=1e-4, weight_decay=0.1), nadam,
                       dict(b1=0.7, b2=0.9, eps=1e-4, wd=0.1)),
    "lion": (lambda: opts.Lion(0.05), lion, {}),
    "lion_betas_wd": (lambda: opts.Lion(0.02, beta_1=0.5, beta_2=0.7, weight_decay=0.3), lion,
                      dict(b1=0.5, b2=0.7, wd=0.3)),
    "adam_amsgrad": (lambda: opts.Adam(0.05, amsgrad=True), adam, dict(amsgrad=True)),
    "adamw_amsgrad": (lambda: opts.AdamW(0.05, weight_decay=0.1, beta_2=0.5, amsgrad=True), adam,
                      dict(amsgrad=True, b2=0.5, wd=0.1)),
    "adam_clipnorm": (lambda: opts.Adam(0.05, clipnorm=1.0), adam, dict(clipnorm=1.0)),
    "sgd_clipnorm_wd": (lambda: opts.SGD(0.1, clipnorm=2.0, weight_decay=0.1), sgd, dict(clipnorm=2.0, wd=0.1)),
    "sgd_global_clipnorm": (lambda: opts.SGD(0.1, momentum=0.9, global_clipnorm=2.0), sgd,
                            dict(momentum=0.9, global_clipnorm=2.0)),
    "lion_global_clipnorm": (lambda: opts.Lion(0.05, global_clipnorm=0.5), lion, dict(global_clipnorm=0.5)),
    "rmsprop_clipvalue": (lambda: opts.RMSprop(0.01, clipvalue=0.5), rmsprop, dict(clipvalue=0.5)),
    "adagrad_clipvalue_wd": (lambda: opts.Adagrad(0.1, clipvalue=1.0, weight_decay=0.2), adagrad,
                             dict(clipvalue=1.0, wd=0.2)),
    "adam_ema": (lambda: opts.Adam(0.05, use_ema=True, ema_momentum=0.9), adam, dict(ema=(0.9, None))),
    "nadam_ema_overwrite": (lambda: opts.Nadam(0.05, use_ema=True, ema_momentum=0.8, ema_overwrite_frequency=3),
                            nadam, dict(ema=(0.8, 3))),
    "adadelta_ema_clip_wd": (lambda: opts.Adadelta(1.0, use_ema=True, ema_overwrite_frequency=2, clipnorm=0.5,
                                                   weight_decay=0.1), adadelta,
                             dict(ema=(0.99, 2), clipnorm=0.5, wd=0.1)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_step_follows_the_update_rule(name):
    np = _np()
    make, rule, options = CASES[name]
    opt = make()
    ws, steps = _problem(np)
    vars_ = [ad.Variable(ad.array(w, "float64")) for w in ws]
    want, averages = reference(np, rule, ws, steps, constant(opt.learning_rate), **options)
    for t, (grads, expected) in enumerate(zip(steps, want), 1):
        opt.apply_gradients([(ad.array(g, "float64"), v) for g, v in zip(grads, vars_)])
        for v, y in zip(vars_, expected):
            np.testing.assert_allclose(v.numpy(), y, rtol=1e-12, atol=1e-13, err_msg=f"{name} step {t}")
    for v, y in zip(vars_, averages if "ema" in options else ()):
        np.testing.assert_allclose(opt.get_slot(v, "average").numpy(), y, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("name", ["adagrad", "adadelta", "adamax", "nadam", "lion", "adam_amsgrad",
                                  "sgd_global_clipnorm", "adagrad_clipvalue_wd", "nadam_ema_overwrite"])
def test_float32_variables_follow_the_float64_rule(name):
    np = _np()
    make, rule, options = CASES[name]
    ws, steps = _problem(np)
    got = _trajectory(make(), ws, steps, "float32")[-1]
    want = reference(np, rule, ws, steps, constant(make().learning_rate), **options)[0][-1]
    for x, y in zip(got, want):
        assert x.dtype == np.float32
        np.testing.assert_allclose(x, y, rtol=2e-4, atol=2e-5)


def test_a_schedule_drives_the_new_optimizers():
    np = _np()
    sched = opts.schedules.CosineDecay(0.0, 4, warmup_target=0.1, warmup_steps=2)
    ws, steps = _problem(np)
    got = _trajectory(opts.Nadam(sched, weight_decay=0.1), ws, steps)
    want, _ = reference(np, nadam, ws, steps, sched, wd=0.1)
    np.testing.assert_allclose(got[-1][0], want[-1][0], rtol=1e-12)
    np.testing.assert_allclose(got[-1][1], want[-1][1], rtol=1e-12)


def test_clipping_leaves_the_callers_gradient_alone_and_clips_large_variables_in_blocks():
    np = _np()
    n = 3 * 512 + 77  # clipped in stack blocks of 512 elements
    g = np.linspace(-3.0, 3.0, n)
    grad = ad.array(g, "float64")
    for opt in (opts.SGD(1.0, clipvalue=1.0), opts.SGD(1.0, clipnorm=1.0), opts.SGD(1.0, global_clipnorm=1.0)):
        var = ad.Variable(ad.zeros((n,), "float64"))
        opt.apply_gradients([(grad, var)])
        clipped = np.clip(g, -1, 1) if opt.clipvalue else g / np.sqrt(np.sum(g * g))
        np.testing.assert_allclose(var.numpy(), -clipped, rtol=1e-13, atol=1e-15)
    np.testing.assert_array_equal(grad.numpy(), g)


def test_a_small_global_norm_is_not_scaled_up():
    var = ad.Variable(ad.array([1.0, 1.0], "float64"))
    opts.SGD(1.0, global_clipnorm=10.0).apply_gradients([(ad.array([0.3, -0.4], "float64"), var)])
    assert var.tolist() == pytest.approx([0.7, 1.4], rel=1e-15)
    zero = ad.Variable(ad.array([1.0], "float64"))
    opts.SGD(1.0, global_clipnorm=1.0).apply_gradients([(ad.zeros((1,), "float64"), zero)])
    assert zero.tolist() == [1.0]


def test_one_plan_runs_the_norm_then_the_updates_then_the_averages():
    a, b = ad.Variable([1.0, 2.0]), ad.Variable([[3.0]])
    opt = opts.Lion(0.1, global_clipnorm=1.0, use_ema=True)
    opt.apply_gradients([(ad.array([1.0, 1.0]), a), (ad.array([[2.0]]), b)])
    (_, batch), = opt._batches.values()
    assert [c[0].__name__ for c in batch.calls] == ["ad_optim_step", "ad_optim_norm", "ad_optim_norm",
                                                     "ad_lion_update", "ad_lion_update", "ad_optim_ema",
                                                     "ad_optim_ema"]
    assert a.tolist() == pytest.approx([0.9, 1.9]) and opt.get_slot(a, "average").tolist() == a.tolist()


@pytest.mark.parametrize("make", [
    lambda: opts.Adagrad(0.1, global_clipnorm=1.0),
    lambda: opts.Adadelta(1.0, clipvalue=0.1, weight_decay=0.1),
    lambda: opts.Adamax(0.05, use_ema=True, ema_overwrite_frequency=2),
    lambda: opts.Nadam(opts.schedules.PiecewiseConstantDecay([1, 3], [0.1, 0.05, 0.01]), clipnorm=0.5),
    lambda: opts.Lion(opts.schedules.InverseTimeDecay(0.05, 2, 0.5), use_ema=True),
    lambda: opts.AdamW(opts.schedules.CosineDecay(0.01, 5, warmup_target=0.1, warmup_steps=2), amsgrad=True),
])
def test_traced_steps_equal_eager_steps(make):
    np = _np()
    ws, steps = _problem(np)
    eager = _trajectory(make(), ws, steps)[-1]
    opt, vars_ = make(), [ad.Variable(ad.array(w, "float64")) for w in ws]

    @ad.Function
    def step(g1, g2):
        opt.apply_gradients([(g1, vars_[0]), (g2, vars_[1])])
    for g1, g2 in steps:
        step(ad.array(g1, "float64"), ad.array(g2, "float64"))
    assert step.trace_count == 1 and opt.iterations == STEPS
    for v, e in zip(vars_, eager):
        assert v.tolist() == e.tolist()


def test_turning_on_global_clipping_or_the_average_after_tracing_traces_again():
    np = _np()
    var = ad.Variable(ad.array([1.0, -1.0], "float64"))
    opt = opts.SGD(1.0)

    @ad.Function
    def step(g):
        opt.apply_gradients([(g, var)])
    g = ad.array([3.0, 4.0], "float64")
    step(g)
    opt.global_clipnorm = 1.0  # the recorded step has no norm calls
    step(g)
    assert var.tolist() == pytest.approx([1.0 - 3.0 - 0.6, -1.0 - 4.0 - 0.8], rel=1e-15)
    opt.global_clipnorm, opt.use_ema = None, True
    step(g)
    opt.use_ema = False
    step(g)
    opt.use_ema = True  # the slot exists, but the recorded step has no average calls
    before = opt.get_slot(var, "average").numpy()
    step(g)
    np.testing.assert_allclose(opt.get_slot(var, "average").numpy(), 0.99 * before + 0.01 * var.numpy())
    assert step.trace_count == 4


def test_finalize_variable_values_sets_the_averages():
    var = ad.Variable(ad.array([1.0], "float64"))
    opt = opts.SGD(1.0, use_ema=True, ema_momentum=0.5)
    for g in (1.0, 2.0):
        opt.apply_gradients([(ad.array([g], "float64"), var)])
    assert var.tolist() == [-2.0]
    opt.finalize_variable_values([var])
    assert var.tolist() == [0.5 * 0.0 + 0.5 * -2.0]  # the first step's average is the weights (0.0)


# --- schedules: Keras 3.15's values (float32) at steps 0, 1, 3, 7, 10, 15, 25, 40 ----------------------------------

SCHEDULE_STEPS = [0, 1, 3, 7, 10, 15, 25, 40]
KERAS = {
    "inverse": (lambda s: s.InverseTimeDecay(0.1, 4, 0.5),
                [0.10000000149011612, 0.08888889104127884, 0.072727270424366, 0.0533333346247673, 0.04444444552063942,
                 0.03478261083364487, 0.024242425337433815, 0.01666666753590107]),
    "inverse_staircase": (lambda s: s.InverseTimeDecay(0.1, 4, 0.5, staircase=True),
                          [0.10000000149011612, 0.10000000149011612, 0.10000000149011612, 0.06666667014360428,
                           0.05000000074505806, 0.03999999910593033, 0.02500000037252903, 0.01666666753590107]),
    "piecewise": (lambda s: s.PiecewiseConstantDecay([3, 10], [1.0, 0.5, 0.1]),
                  [1.0, 1.0, 1.0, 0.5, 0.5, 0.10000000149011612, 0.10000000149011612, 0.10000000149011612]),
    "cosine": (lambda s: s.CosineDecay(0.1, 20, alpha=0.1),
               [0.10000000149011612, 0.09944597631692886, 0.09509529173374176, 0.07542958110570908,
                0.05499999597668648, 0.023180196061730385, 0.010000000707805157, 0.010000000707805157]),
    "cosine_warmup": (lambda s: s.CosineDecay(0.0, 20, alpha=0.05, warmup_target=0.2, warmup_steps=8),
                      [0.0, 0.02500000037252903, 0.07500000298023224, 0.17499999701976776, 0.19535036385059357,
                       0.14812910556793213, 0.0203543733805418, 0.010000000707805157]),
    "exponential": (lambda s: s.ExponentialDecay(0.1, 4, 0.5),
                    [0.10000000149011612, 0.08408964425325394, 0.0594603531062603, 0.02973017655313015,
                     0.01767767034471035, 0.0074325441382825375, 0.0013139006914570928, 9.765625145519152e-05]),
}


@pytest.mark.parametrize("name", sorted(KERAS))
def test_schedules_match_keras(name):
    make, values = KERAS[name]
    sched = make(opts.schedules)
    assert [sched(s) for s in SCHEDULE_STEPS] == pytest.approx(values, rel=1e-6)
    opt = opts.SGD(make(opts.schedules))  # the optimizer's rate is the schedule at its step count
    var, seen = ad.Variable([0.0]), []
    for step in range(SCHEDULE_STEPS[-1] + 1):
        seen.append(opt.learning_rate)
        opt.apply_gradients([(ad.array([0.0]), var)])
    assert [seen[s] for s in SCHEDULE_STEPS] == pytest.approx(values, rel=1e-6)


def test_a_piecewise_schedule_set_later_grows_the_block_and_traces_again():
    var = ad.Variable(ad.array([0.0], "float64"))
    opt = opts.SGD(1.0)

    @ad.Function
    def step(g):
        opt.apply_gradients([(g, var)])
    one = ad.array([1.0], "float64")
    step(one)
    opt.learning_rate = opts.schedules.PiecewiseConstantDecay([1, 2, 3, 4], [0.5, 0.25, 0.125, 0.0625, 0.03125])
    for _ in range(5):
        step(one)
    # steps 1..5 (counted from 0) take 0.5 at step 1, 0.25 at 2, 0.125 at 3, 0.0625 at 4, 0.03125 at 5
    assert var.tolist() == [-(1.0 + 0.5 + 0.25 + 0.125 + 0.0625 + 0.03125)]
    assert step.trace_count == 2
    opt.learning_rate = 0.5  # a number replaces the schedule
    assert opt.learning_rate == 0.5 and opt.get_config()["learning_rate"] == 0.5


# --- configs and copies -----------------------------------------------------------------------------------------

def test_get_config_round_trips_and_copies_continue_identically():
    sched = opts.schedules.PiecewiseConstantDecay([2], [0.1, 0.01])
    opt = opts.Nadam(sched, beta_1=0.8, weight_decay=0.01, global_clipnorm=1.0, use_ema=True,
                     ema_overwrite_frequency=3, name="n")
    config = opt.get_config()
    assert config == {"name": "n", "learning_rate": {"module": "optimizers", "class_name": "PiecewiseConstantDecay",
                                                     "config": {"boundaries": [2], "values": [0.1, 0.01],
                                                                "name": "PiecewiseConstant"}},
                      "weight_decay": 0.01, "clipnorm": None, "clipvalue": None, "global_clipnorm": 1.0,
                      "use_ema": True, "ema_momentum": 0.99, "ema_overwrite_frequency": 3, "beta_1": 0.8,
                      "beta_2": 0.999, "epsilon": 1e-7}
    assert opts.Nadam.from_config(config).get_config() == config
    assert opts.Adagrad(initial_accumulator_value=0.3).get_config()["initial_accumulator_value"] == 0.3
    assert opts.Adam(amsgrad=True).get_config()["amsgrad"] is True

    var = ad.Variable(ad.array([1.0, -2.0], "float64"))
    g = ad.array([0.5, 0.25], "float64")
    opt.apply_gradients([(g, var)])
    for clone in (copy.deepcopy((opt, var)), pickle.loads(pickle.dumps((opt, var)))):
        o2, v2 = clone
        for _ in range(3):
            o2.apply_gradients([(g, v2)])
        assert o2.iterations == 4
        results = v2.tolist()
    for _ in range(3):
        opt.apply_gradients([(g, var)])
    assert var.tolist() == results


def test_get_knows_the_new_names():
    for name, kind in [("adagrad", opts.Adagrad), ("Adadelta", opts.Adadelta), ("adamax", opts.Adamax),
                       ("nadam", opts.Nadam), ("lion", opts.Lion)]:
        assert type(opts.get(name)) is kind
    assert opts.Adagrad().learning_rate == pytest.approx(0.001) and opts.Lion().beta_2 == pytest.approx(0.99)


# --- errors -----------------------------------------------------------------------------------------------------

BAD = [
    (opts.Adagrad, "epsilon", 0.0, ValueError, "Adagrad: epsilon must be positive"),
    (opts.Adadelta, "rho", 1.5, ValueError, r"Adadelta: rho must be in \[0, 1\], got 1.5"),
    (opts.Adamax, "beta_2", 1.0, ValueError, r"Adamax: beta_2 must be in \[0, 1\)"),
    (opts.Nadam, "beta_1", -0.1, ValueError, r"Nadam: beta_1 must be in \[0, 1\)"),
    (opts.Lion, "beta_1", 0.0, ValueError, r"Lion: beta_1 must be in \(0, 1\], got 0.0"),
    (opts.Lion, "beta_2", "0.9", TypeError, "Lion: beta_2 must be a number"),
    (opts.Adam, "amsgrad", 2, ValueError, "Adam: amsgrad must be True or False"),
    (opts.SGD, "clipnorm", 0.0, ValueError, "SGD: clipnorm must be positive, got 0.0"),
    (opts.SGD, "clipvalue", -1.0, ValueError, "SGD: clipvalue must be positive"),
    (opts.RMSprop, "global_clipnorm", float("nan"), ValueError, "RMSprop: global_clipnorm must be positive"),
    (opts.Adam, "ema_momentum", 1.5, ValueError, r"Adam: ema_momentum must be in \[0, 1\]"),
    (opts.Adam, "ema_overwrite_frequency", 0, ValueError, "Adam: ema_overwrite_frequency must be an integer >= 1"),
    (opts.Adam, "ema_overwrite_frequency", 2.5, ValueError, "ema_overwrite_frequency must be an integer >= 1"),
    (opts.Lion, "use_ema", "yes", TypeError, "Lion: use_ema must be a number True or False"),
]


@pytest.mark.parametrize("make, what, value, kind, message", BAD)
def test_bad_hyper_parameters_are_refused(make, what, value, kind, message):
    with pytest.raises(kind, match=message):
        make(**{what: value})
    opt = make()
    before = getattr(opt, what)
    with pytest.raises(kind, match=message):
        setattr(opt, what, value)
    assert getattr(opt, what) == before


def test_only_one_clipping_and_bad_schedules():
    with pytest.raises(ValueError, match="Adam: only one of clipnorm, clipvalue and global_clipnorm can be set, "
                                         "got clipnorm, clipvalue"):
        opts.Adam(clipnorm=1.0, clipvalue=1.0)
    opt = opts.SGD(clipnorm=1.0)
    with pytest.raises(ValueError, match="SGD: only one of clipnorm"):
        opt.global_clipnorm = 2.0
    opt.clipnorm = None
    opt.global_clipnorm = 2.0
    assert opt.clipnorm is None and opt.global_clipnorm == 2.0
    with pytest.raises(ValueError, match="Adagrad: initial_accumulator_value must be >= 0"):
        opts.Adagrad(initial_accumulator_value=-1.0)
    s = opts.schedules
    with pytest.raises(ValueError, match="PiecewiseConstantDecay: boundaries must have one element less than values"):
        s.PiecewiseConstantDecay([1, 2], [0.1, 0.2])
    with pytest.raises(ValueError, match="PiecewiseConstantDecay: boundaries must be strictly increasing"):
        s.PiecewiseConstantDecay([2, 2], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="InverseTimeDecay: decay_steps must be positive"):
        s.InverseTimeDecay(0.1, 0, 0.5)
    with pytest.raises(ValueError, match="CosineDecay: decay_steps must be positive"):
        s.CosineDecay(0.1, 0)
    with pytest.raises(ValueError, match=r"CosineDecay: alpha must be in \[0, 1\]"):
        s.CosineDecay(0.1, 10, alpha=2.0)
    with pytest.raises(TypeError, match="CosineDecay: warmup_target must be a number"):
        s.CosineDecay(0.1, 10, warmup_target="high")
    with pytest.raises(ValueError, match="CosineDecay: step must be >= 0"):
        s.CosineDecay(0.1, 10)(-1)
    with pytest.raises(TypeError, match="Lion: learning_rate must be a number >= 0 or a LearningRateSchedule"):
        opts.Lion(lambda step: 0.1)


def test_the_kernels_refuse_missing_slots_and_bad_blocks():
    lib = ad._backend.lib
    var = ad.Variable(ad.array([1.0], "float64"))
    opt = opts.Adam(amsgrad=True)
    opt.build([var])
    assert lib.ad_optim_step(opt._block._ptr) == 0
    null = ad._backend.NULL
    g = ad.array([1.0], "float64")
    assert lib.ad_adam_update(ad.ops._core.code(var), 1, var._ptr, g._ptr, opt.get_slot(var, "m")._ptr,
                              opt.get_slot(var, "v")._ptr, null, opt._block._ptr) != 0
    assert lib.ad_lion_update(ad.ops._core.code(var), 1, var._ptr, g._ptr, null, opt._block._ptr) != 0
    bad = ad.zeros((opt._block.size,), "float64")
    bad._memview()[ad._backend.C.AD_HP_SCHEDULE] = 99
    assert lib.ad_optim_step(bad._ptr) != 0


def test_fit_ends_with_the_moving_averages_when_use_ema():
    # Keras' fit calls finalize_variable_values after the last epoch: the weights become their averages
    x = ad.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]])
    y = ad.array([[1.0], [1.0], [0.0], [0.0]])
    model = ad.Sequential([ad.layers.Dense(1, input_shape=(2,))])
    opt = ad.optimizers.SGD(0.1, use_ema=True, ema_momentum=0.5)
    model.compile(optimizer=opt, loss="mse")
    model.fit(x, y, epochs=3, batch_size=4, verbose=0)
    for var in model.trainable_variables:
        average = opt._slots[id(var)][1]["average"]
        assert var.tolist() == average.tolist()

"""Optimizer trajectories against numpy references of the same update rules (Keras 3's), schedules,
inspectable state, and the step count read from memory (so a replayed trace keeps counting)."""

import math

import pytest

import pyautodiff as ad

opts = ad.optimizers
STEPS = 5


def _np():
    return pytest.importorskip("numpy")


def _grads(np, shape):
    rng = np.random.default_rng(42)
    return [rng.normal(size=shape) for _ in range(STEPS)]


def _run(opt, w0, grads, via="apply"):
    var = ad.Variable(w0, dtype="float64")
    out = []
    for g in grads:
        if via == "apply":
            opt.apply_gradients([(ad.array(g), var)])
        else:
            opt.update([var], [ad.array(g)])
        out.append(var.numpy().copy())
    return out


def _sgd_ref(np, w, grads, lr, momentum=0.0, nesterov=False):
    m, out = np.zeros_like(w), []
    for g in grads:
        if momentum == 0:
            w = w - lr * g
        else:
            m = momentum * m - lr * g
            w = w + (momentum * m - lr * g if nesterov else m)
        out.append(w)
    return out


def _adam_ref(np, w, grads, lr, b1=0.9, b2=0.999, eps=1e-7, wd=0.0, lr_at=None):
    m, v, out = np.zeros_like(w), np.zeros_like(w), []
    for t, g in enumerate(grads, 1):
        rate = lr if lr_at is None else lr_at(t - 1)
        w = w - w * wd * rate
        m = m + (g - m) * (1 - b1)
        v = v + (g * g - v) * (1 - b2)
        alpha = rate * math.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        w = w - alpha * m / (np.sqrt(v) + eps)
        out.append(w)
    return out


def _rmsprop_ref(np, w, grads, lr, rho=0.9, momentum=0.0, eps=1e-7, centered=False):
    vel, mom, avg, out = np.zeros_like(w), np.zeros_like(w), np.zeros_like(w), []
    for g in grads:
        vel = rho * vel + (1 - rho) * g * g
        if centered:
            avg = rho * avg + (1 - rho) * g
            denominator = vel - avg * avg + eps
        else:
            denominator = vel + eps
        increment = lr * g / np.sqrt(denominator)
        if momentum:
            mom = momentum * mom + increment
            w = w - mom
        else:
            w = w - increment
        out.append(w)
    return out


CASES = {
    "sgd": (lambda: opts.SGD(0.1), lambda np, w, g: _sgd_ref(np, w, g, 0.1)),
    "sgd_momentum": (lambda: opts.SGD(0.1, momentum=0.9), lambda np, w, g: _sgd_ref(np, w, g, 0.1, 0.9)),
    "sgd_nesterov": (lambda: opts.SGD(0.05, momentum=0.8, nesterov=True),
                     lambda np, w, g: _sgd_ref(np, w, g, 0.05, 0.8, True)),
    "adam": (lambda: opts.Adam(0.01), lambda np, w, g: _adam_ref(np, w, g, 0.01)),
    "adam_betas": (lambda: opts.Adam(0.02, beta_1=0.5, beta_2=0.9, epsilon=1e-3),
                   lambda np, w, g: _adam_ref(np, w, g, 0.02, 0.5, 0.9, 1e-3)),
    "adamw": (lambda: opts.AdamW(0.01, weight_decay=0.1), lambda np, w, g: _adam_ref(np, w, g, 0.01, wd=0.1)),
    "rmsprop": (lambda: opts.RMSprop(0.01), lambda np, w, g: _rmsprop_ref(np, w, g, 0.01)),
    "rmsprop_momentum_centered": (lambda: opts.RMSprop(0.01, rho=0.8, momentum=0.5, centered=True),
                                  lambda np, w, g: _rmsprop_ref(np, w, g, 0.01, 0.8, 0.5, centered=True)),
    "adam_decay": (lambda: opts.Adam(opts.ExponentialDecay(0.01, decay_steps=2, decay_rate=0.5)),
                   lambda np, w, g: _adam_ref(np, w, g, 0.01, lr_at=lambda s: 0.01 * 0.5 ** (s / 2))),
    "sgd_staircase": (lambda: opts.SGD(opts.ExponentialDecay(0.1, 2, 0.5, staircase=True)),
                      lambda np, w, g: [w - 0.1 * g[0], None, None, None, None]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_trajectory_matches_numpy_reference(name):
    np = _np()
    make, ref = CASES[name]
    w0 = np.array([[0.5, -1.0, 2.0], [0.0, 3.0, -0.25]])
    grads = _grads(np, w0.shape)
    got = _run(make(), w0, grads)
    if name == "sgd_staircase":  # rates 0.1, 0.1, 0.05, 0.05, 0.025
        want, w = [], w0
        for g, rate in zip(grads, (0.1, 0.1, 0.05, 0.05, 0.025)):
            w = w - rate * g
            want.append(w)
    else:
        want = ref(np, w0, grads)
    for step, (a, b) in enumerate(zip(got, want)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12, err_msg=f"{name} step {step + 1}")


def test_float32_variables_follow_the_float64_trajectory():
    np = _np()
    w0 = np.array([1.0, -2.0, 0.5])
    grads = _grads(np, w0.shape)
    var = ad.Variable(w0, dtype="float32")
    opt = opts.Adam(0.1)
    for g in grads:
        opt.update([var], [ad.array(g, "float32")])
    np.testing.assert_allclose(var.numpy(), _adam_ref(np, w0, grads, 0.1)[-1], rtol=1e-5)


def test_state_is_inspectable():
    opt = opts.Adam(0.01)
    var = ad.Variable([1.0, 2.0])
    assert opt.iterations == 0 and opt.learning_rate == pytest.approx(0.01)
    opt.apply_gradients([(ad.array([0.5, -0.5]), var)])
    opt.apply_gradients([(ad.array([0.5, -0.5]), var)])
    assert opt.iterations == 2
    m = opt.get_slot(var, "m")
    assert m.trainable is False and m.tolist() == pytest.approx([0.5 * (1 - 0.9 ** 2)] * 1 + [-0.5 * (1 - 0.9 ** 2)])
    assert len(opt.variables) == 3  # the hyper-parameter block, m and v
    with pytest.raises(KeyError, match="no slot 'momentum'"):
        opt.get_slot(var, "momentum")
    opt.learning_rate = 0.5  # takes effect at once: the kernels read it from memory
    assert opt.learning_rate == 0.5 and opt.beta_1 == pytest.approx(0.9)


def test_exponential_decay_schedule():
    sched = opts.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    assert sched(0) == pytest.approx(0.1) and sched(10) == pytest.approx(0.05) and sched(5) == pytest.approx(
        0.1 * 0.5 ** 0.5)
    assert opts.ExponentialDecay(0.1, 10, 0.5, staircase=True)(19) == pytest.approx(0.05)
    opt = opts.SGD(sched)
    var = ad.Variable([0.0])
    for _ in range(10):
        opt.apply_gradients([(ad.array([1.0]), var)])
    assert opt.learning_rate == pytest.approx(0.05)
    with pytest.raises(ValueError, match="decay_steps must be positive"):
        opts.ExponentialDecay(0.1, 0, 0.5)


def test_replayed_kernel_calls_keep_counting_steps():
    # What ad.Function will do with a traced training step: replay the recorded kernel calls.
    np = _np()
    w0 = np.array([0.5, -1.0])
    var = ad.Variable(w0, dtype="float64")
    opt = opts.Adam(opts.ExponentialDecay(0.1, decay_steps=1, decay_rate=0.5))
    grad = ad.array([1.0, -2.0], "float64")
    opt.apply_gradients([(grad, var)])  # the first step creates the slots
    recorded = []
    ad.tape.state.tracer = recorded
    try:
        opt.apply_gradients([(grad, var)])
    finally:
        ad.tape.state.tracer = None
    calls = [(entry[0], entry[1]) for entry in recorded if isinstance(entry, tuple)]  # (kernel, args, ...)
    assert [k for k, _ in calls] == [ad._backend.lib.ad_optim_step, ad._backend.lib.ad_adam_update]
    for _ in range(3):
        for kernel, args in calls:
            assert kernel(*args) == 0
    assert opt.iterations == 5
    want = _adam_ref(np, w0, [grad.numpy()] * 5, 0.1, lr_at=lambda s: 0.1 * 0.5 ** s)[-1]
    np.testing.assert_allclose(var.numpy(), want, rtol=1e-12)


def test_bad_input_is_reported():
    opt = opts.SGD()
    var = ad.Variable([1.0, 2.0], name="w")
    with pytest.raises(ValueError, match=r"SGD.update: 1 params but 2 gradients"):
        opt.update([var], [ad.array([1.0, 1.0]), ad.array([1.0])])
    with pytest.raises(ValueError, match=r"SGD: gradient \(3,\) float32 does not match variable 'w' \(2,\) float32"):
        opt.update([var], [ad.array([1.0, 1.0, 1.0])])
    with pytest.raises(TypeError, match="can only update Variables"):
        opt.update([ad.array([1.0, 2.0])], [ad.array([1.0, 1.0])])
    with pytest.raises(ValueError, match="unknown optimizer"):
        ad.optimizers.get("adagrad-ish")
    opt.update([var], [None])  # an unconnected gradient leaves its variable alone
    assert var.tolist() == [1.0, 2.0] and opt.iterations == 0


def test_one_plan_per_step_follows_changes_and_subclasses():
    """Eagerly, apply_gradients runs all updates as one C plan, rebuilt when a hyper-parameter changes
    and skipped for a subclass with its own update_step; results match the one-call-per-variable path."""
    a, b = ad.Variable([1.0, 2.0]), ad.Variable([[3.0]])
    opt = ad.optimizers.SGD(learning_rate=0.5)
    opt.apply_gradients([(ad.array([1.0, 1.0]), a), (ad.array([[2.0]]), b)])
    assert a.tolist() == [0.5, 1.5] and b.tolist() == [[2.0]] and opt.iterations == 1
    opt.learning_rate = 0.25  # not a slot change: the cached plan reads the block
    opt.apply_gradients([(ad.array([1.0, 1.0]), a), (ad.array([[4.0]]), b)])
    assert a.tolist() == [0.25, 1.25] and b.tolist() == [[1.0]] and opt.iterations == 2
    opt.momentum = 0.9  # the variables had no momentum slot: it is created (zeros) and the plan rebuilt
    opt.apply_gradients([(ad.array([1.0, 1.0]), a)])
    assert a.tolist() == [0.0, 1.0] and opt.get_slot(a, "momentum").tolist() == [-0.25, -0.25]

    class Halving(ad.optimizers.SGD):
        def update_step(self, grad, var):
            var.assign_sub(grad * 0.5)
    h, c = Halving(), ad.Variable([1.0])
    h.apply_gradients([(ad.array([1.0]), c)])
    assert c.tolist() == [0.5]
    replaced, d = ad.optimizers.SGD(), ad.Variable([1.0])  # an update_step set on the instance runs too
    replaced.update_step = lambda grad, var: var.assign_sub(grad * 0.25)
    replaced.apply_gradients([(ad.array([1.0]), d)])
    assert d.tolist() == [0.75]

    # the cached plan holds no gradient's storage (the gradient argument is re-bound on every call)
    e, grad = ad.Variable([1.0]), ad.array([2.0])
    opt.apply_gradients([(grad, e)])
    held = [a for batch in (b for _, b in opt._batches.values() if b) for _, args, operands, _ in batch.calls
            for a in (*args, *operands)]
    assert held and all(a is not grad._ptr and a is not grad._owner and a is not grad for a in held)

    eager, stepwise = ad.Variable([1.0, -2.0]), ad.Variable([1.0, -2.0])
    o1, o2 = ad.optimizers.Adam(0.1), ad.optimizers.Adam(0.1)
    for i in range(3):
        g = ad.array([0.3 * i + 0.1, -0.2])
        o1.apply_gradients([(g, eager)])
        o2.build([stepwise])
        ad.ops.nn.lib.ad_optim_step(o2._block._ptr)
        o2.update_step(g, stepwise)
    assert eager.tolist() == stepwise.tolist() and o1.iterations == 3


@pytest.mark.parametrize("make", [lambda: ad.optimizers.Adam(0.01), lambda: ad.optimizers.SGD(0.1, momentum=0.9),
                                  lambda: ad.optimizers.RMSprop(0.01, momentum=0.5, centered=True)])
def test_large_updates_split_over_threads_match_one_thread(make):
    """Variables of more than 65536 elements per thread are updated in ranges on the thread pool
    (cut at multiples of 16 elements); elementwise updates must give the one-thread values exactly."""
    n = 3 * 65536 + 1003
    grad = ad.array([((i * 7919) % 1000) / 500.0 - 1.0 for i in range(n)], dtype="float32")
    results = []
    before = ad.get_num_threads()
    try:
        for threads in (1, 2, 3):
            ad.set_num_threads(threads)
            var, opt = ad.Variable(ad.ones((n,))), make()
            for _ in range(3):
                opt.apply_gradients([(grad, var)])
            results.append(var.tolist())
    finally:
        ad.set_num_threads(before)
    assert results[0] == results[1] == results[2]
    assert results[0][0] != 1.0 and results[0][-1] != 1.0

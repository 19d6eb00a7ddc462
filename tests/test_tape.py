"""GradientTape semantics (no numpy needed: runs natively and inside Pyodide)."""

import pytest

import pyautodiff as ad
from conftest import gradcheck, rand


def test_seed_example_1():
    nn = ad.NeuralNetworks()
    g = nn.gradient()
    a, b = g.Variable(2.0), g.Variable(3.0)
    with g.GradientTape() as tape:
        c = g.mul(a, b)
    da, db = tape.gradient(c, [a, b])
    assert (float(c), float(da), float(db)) == (6.0, 3.0, 2.0)
    assert f"c = {c} da = {da} db = {db}" == "c = 6 da = 3 db = 2"


def test_sources_structures():
    a, b = ad.Variable(2.0), ad.Variable(3.0)
    with ad.GradientTape(persistent=True) as tape:
        y = a * a * b
    assert isinstance(tape.gradient(y, (a, b)), tuple)
    d = tape.gradient(y, {"a": a, "b": b})
    assert set(d) == {"a", "b"} and float(d["a"]) == 12.0 and float(d["b"]) == 4.0
    assert float(tape.gradient(y, a)) == 12.0


def test_non_persistent_second_call_raises():
    a = ad.Variable(1.0)
    with ad.GradientTape() as tape:
        y = a * 2
    tape.gradient(y, a)
    with pytest.raises(RuntimeError, match="non-persistent"):
        tape.gradient(y, a)


def test_unconnected():
    a, b = ad.Variable(1.0), ad.Variable([1.0, 2.0])
    with ad.GradientTape(persistent=True) as tape:
        y = a * 3
    assert tape.gradient(y, [a, b])[1] is None
    z = tape.gradient(y, [a, b], unconnected_gradients="zero")[1]
    assert z.shape == (2,) and z.tolist() == [0.0, 0.0]
    with pytest.raises(ValueError, match="unconnected_gradients"):
        tape.gradient(y, a, unconnected_gradients="bogus")


def test_watch_constant_and_accessed_variables_switch():
    x = ad.constant([1.0, 2.0])
    with ad.GradientTape() as tape:
        tape.watch(x)
        y = ad.reduce_sum(x * x)
    assert tape.gradient(y, x).tolist() == [2.0, 4.0]
    v = ad.Variable(3.0)
    with ad.GradientTape(watch_accessed_variables=False) as tape:
        y = v * v
    assert tape.gradient(y, v) is None
    assert tape.watched_variables() == []


def test_untrainable_variable_not_watched():
    v = ad.Variable(3.0, trainable=False)
    with ad.GradientTape() as tape:
        y = v * v
    assert tape.gradient(y, v) is None


def test_watched_variables_and_stop_recording():
    a, b = ad.Variable(1.0), ad.Variable(2.0)
    with ad.GradientTape(persistent=True) as tape:
        y = a * 2
        with tape.stop_recording():
            z = b * 3
    assert tape.watched_variables() == [a]
    assert tape.gradient(z, b) is None
    tape.reset()
    assert tape.gradient(y, a) is None


def test_output_gradients_and_nonscalar_target():
    x = ad.Variable([1.0, 2.0, 3.0])
    with ad.GradientTape(persistent=True) as tape:
        y = x * x
    assert tape.gradient(y, x).tolist() == [2.0, 4.0, 6.0]
    assert tape.gradient(y, x, output_gradients=ad.array([1.0, 0.0, 2.0])).tolist() == [2.0, 0.0, 12.0]


def test_int_sources_get_none():
    i = ad.array([1, 2])
    v = ad.Variable(2.0)
    with ad.GradientTape() as tape:
        tape.watch(i)
        y = v * ad.cast(i, "float32")
    assert tape.gradient(y, [i, v])[0] is None


def test_stop_gradient():
    a = ad.Variable(2.0)
    with ad.GradientTape() as tape:
        y = a * ad.stop_gradient(a * 3)
    assert float(tape.gradient(y, a)) == 6.0


def test_shared_input_accumulates():
    x = ad.Variable(3.0)
    with ad.GradientTape() as tape:
        y = x * x + x
    assert float(tape.gradient(y, x)) == 7.0


def test_second_order_x_cubed():
    x = ad.Variable(2.0, dtype="float64")
    with ad.GradientTape() as outer:
        with ad.GradientTape() as inner:
            y = x * x * x
        dy = inner.gradient(y, x)
    d2y = outer.gradient(dy, x)
    assert float(dy) == 12.0 and float(d2y) == 12.0  # 3x^2, 6x at x=2


def test_third_order_through_tanh():
    x = ad.Variable(0.3, dtype="float64")
    with ad.GradientTape() as t3:
        with ad.GradientTape() as t2:
            with ad.GradientTape() as t1:
                y = ad.tanh(x)
            d1 = t1.gradient(y, x)
        d2 = t2.gradient(d1, x)
    d3 = t3.gradient(d2, x)
    import math
    t = math.tanh(0.3)
    assert abs(float(d1) - (1 - t * t)) < 1e-12
    assert abs(float(d2) - (-2 * t * (1 - t * t))) < 1e-12
    assert abs(float(d3) - (-2 * (1 - t * t) ** 2 + 4 * t * t * (1 - t * t))) < 1e-12


def test_hessian_vector_product_tanh_matmul():
    w = rand((3, 2), seed=1)
    x = rand((4, 3), seed=2)
    v = rand((3, 2), seed=3)

    def hvp(w_):
        with ad.GradientTape() as outer:
            outer.watch(w_)
            with ad.GradientTape() as inner:
                inner.watch(w_)
                loss = ad.reduce_sum(ad.tanh(ad.matmul(x, w_)))
            g = inner.gradient(loss, w_)
            gv = ad.reduce_sum(g * v)
        return outer.gradient(gv, w_)

    # compare H v with central differences of the gradient along v
    def grad_at(w_):
        with ad.GradientTape() as t:
            t.watch(w_)
            loss = ad.reduce_sum(ad.tanh(ad.matmul(x, w_)))
        return t.gradient(loss, w_)
    eps = 1e-6
    numeric = (grad_at(w + ad.scale(eps, v)) - grad_at(w - ad.scale(eps, v))) / (2 * eps)
    assert ad.reduce_max(ad.abs(hvp(w) - numeric)).item() < 1e-6


def test_jacobian():
    x = ad.Variable([1.0, 2.0], dtype="float64")
    with ad.GradientTape() as tape:
        y = ad.stack([x[0] * x[1], x[0] + 3 * x[1], x[1] * x[1]])
    j = tape.jacobian(y, x)
    assert j.shape == (3, 2)
    assert j.tolist() == [[2.0, 1.0], [1.0, 3.0], [0.0, 4.0]]


def test_gradient_inside_persistent_tape_block_not_recorded():
    x = ad.Variable(2.0)
    with ad.GradientTape(persistent=True) as tape:
        y = x * x
        g1 = tape.gradient(y, x)
        g2 = tape.gradient(y, x)
    assert float(g1) == float(g2) == 4.0


def test_variable_assign_and_value_snapshot():
    v = ad.Variable([1.0, 2.0], name="w")
    snap = v.value()
    v.assign([3.0, 4.0])
    v.assign_add(1.0)
    v.assign_sub([0.5, 0.5])
    assert v.tolist() == [3.5, 4.5] and snap.tolist() == [1.0, 2.0] and v.name == "w"
    with pytest.raises(ValueError, match="assign"):
        v.assign([1.0, 2.0, 3.0])


def test_gradcheck_helper_catches_a_wrong_rule():
    wrong = ad.ops._core.OPS["exp"].vjp
    try:
        ad.ops._core.OPS["exp"].vjp = lambda g, n, needs: (ad.scale(2.0, g),)
        with pytest.raises(AssertionError):
            gradcheck(ad.exp, [rand((3,), seed=4)])
    finally:
        ad.ops._core.OPS["exp"].vjp = wrong

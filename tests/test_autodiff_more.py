"""custom_gradient, batch_jacobian, forward-mode jvp and the issue-17 ops, against float64 rules (no numpy)."""

import itertools
import math
import statistics

import pytest

import pyautodiff as ad
from conftest import rand


def close(a, b, tol=1e-9):
    a, b = (a.tolist() if isinstance(a, ad.Tensor) else a), (b.tolist() if isinstance(b, ad.Tensor) else b)
    if isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), (a, b)
        for x, y in zip(a, b):
            close(x, y, tol)
    else:
        assert abs(a - b) <= tol * max(1.0, abs(a), abs(b)), (a, b)


# --- custom_gradient --------------------------------------------------------------------------------------

@ad.custom_gradient
def log1pexp(x):
    """TensorFlow's example: the stable gradient 1 - 1 / (1 + e^x) where the plain one overflows."""
    e = ad.exp(x)

    def grad(upstream):
        return upstream * (1.0 - 1.0 / (1.0 + e))
    return ad.log(1.0 + e), grad


def test_custom_gradient_replaces_the_gradient():
    x = ad.array([0.0, 100.0], "float32")
    with ad.GradientTape() as tape:
        tape.watch(x)
        y = log1pexp(x)
    close(tape.gradient(y, x), [0.5, 1.0], 1e-6)  # the plain gradient e^x / (1 + e^x) is nan at 100


def test_custom_gradient_without_a_tape_is_the_function():
    close(log1pexp(ad.array([0.0], "float64")), [math.log(2.0)])


def test_custom_gradient_of_several_arguments_and_outputs():
    @ad.custom_gradient
    def f(a, b, k):
        def grad(ga, gb):  # one upstream per output; one gradient per argument (None for k)
            return 3.0 * ga + gb, 7.0 * gb, None
        return (a * 2.0, a * b * k), grad
    a, b = ad.array([1.0, 2.0], "float64"), ad.array([3.0, 4.0], "float64")
    with ad.GradientTape(persistent=True) as tape:
        tape.watch([a, b])
        p, q = f(a, b, 5.0)
        loss = ad.reduce_sum(p) + ad.reduce_sum(q * 2.0)
    close(p, [2.0, 4.0])
    close(q, [15.0, 40.0])
    ga, gb = tape.gradient(loss, [a, b])
    close(ga, [5.0, 5.0])
    close(gb, [14.0, 14.0])
    close(tape.gradient(p, a), [3.0, 3.0])  # an output without an upstream gets zeros
    assert tape.gradient(p, b) is None or tape.gradient(p, b).tolist() == [0.0, 0.0]


def test_custom_gradient_with_variables():
    w = ad.Variable(ad.array([2.0, 3.0], "float64"))

    @ad.custom_gradient
    def with_vars(x):
        def grad(g, variables=None):
            assert len(variables) == 1 and variables[0] is w
            return g * 10.0, [g * 100.0]
        return x * w, grad

    @ad.custom_gradient
    def without_vars(x):
        return x * w, lambda g: g * 10.0

    x = ad.array([1.0, 1.0], "float64")
    with ad.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y1, y2 = with_vars(x), without_vars(x)
    gx, gw = tape.gradient(y1, [x, w])
    close(gx, [10.0, 10.0])
    close(gw, [100.0, 100.0])
    gx, gw = tape.gradient(y2, [x, w])
    close(gx, [10.0, 10.0])
    assert gw is None  # the variable goes through f without a gradient when grad_fn takes no variables=


def test_custom_gradient_higher_order_through_nested_tapes():
    @ad.custom_gradient
    def cube(x):
        return x * x * x, lambda g: g * 3.0 * x * x
    x = ad.array([2.0, -1.0], "float64")
    with ad.GradientTape() as outer:
        outer.watch(x)
        with ad.GradientTape() as inner:
            inner.watch(x)
            y = cube(x)
        dy = inner.gradient(y, x)
    close(dy, [12.0, 3.0])
    close(outer.gradient(dy, x), [12.0, -6.0])


def test_custom_gradient_inside_a_function_trace():
    @ad.custom_gradient
    def clip_grad(x):
        return ad.tanh(x), lambda g: ad.clip_by_value(g, -0.5, 0.5) * 2.0

    step = ad.Function(lambda x: clip_grad(x) * 3.0)
    for values in ([0.1, -0.2], [1.0, 2.0], [0.1, -0.2]):
        x = ad.array(values, "float64")
        with ad.GradientTape() as tape:
            tape.watch(x)
            y = step(x)
        close(y, [3.0 * math.tanh(v) for v in values])
        close(tape.gradient(y, x), [1.0, 1.0])  # clip(3) * 2: the custom rule, replayed
    assert step.trace_count == 1


def test_custom_gradient_errors_name_the_function():
    @ad.custom_gradient
    def bad_shape(x):
        return x * 2.0, lambda g: ad.reduce_sum(g)

    @ad.custom_gradient
    def bad_count(x):
        return x * 2.0, lambda g: (g, g)
    x = ad.array([1.0, 2.0], "float64")
    for fn, message in ((bad_shape, "bad_shape.*shape"), (bad_count, "bad_count.*2 gradients for 1")):
        with ad.GradientTape() as tape:
            tape.watch(x)
            y = fn(x)
        with pytest.raises(ValueError, match=message):
            tape.gradient(y, x)


# --- batch_jacobian ---------------------------------------------------------------------------------------

def test_batch_jacobian_is_the_per_example_jacobian():
    x, w = rand((4, 3), seed=1), rand((3, 2, 2), seed=2)
    with ad.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = ad.tanh(ad.reshape(ad.matmul(x, ad.reshape(w, (3, 4))), (4, 2, 2)))  # (batch, 2, 2)
    bj = tape.batch_jacobian(y, x)
    assert bj.shape == (4, 2, 2, 3)
    full = tape.jacobian(y, x)  # (4, 2, 2, 4, 3)
    for i in range(4):
        close(bj[i], full[i, :, :, i])


def test_batch_jacobian_unconnected_and_errors():
    x, z = rand((2, 3), seed=3), rand((2, 3), seed=4)
    with ad.GradientTape(persistent=True) as tape:
        tape.watch([x, z])
        y = x * 2.0
    assert tape.batch_jacobian(y, z) is None
    zero = tape.batch_jacobian(y, z, unconnected_gradients="zero")
    assert zero.shape == (2, 3, 3) and zero.tolist() == [[[0.0] * 3] * 3] * 2
    close(tape.batch_jacobian(y, x)[1], [[2.0, 0, 0], [0, 2.0, 0], [0, 0, 2.0]])
    with pytest.raises(ValueError, match="batch"):
        tape.batch_jacobian(y, rand((3, 3), seed=5))
    with ad.GradientTape() as once:
        once.watch(x)
        y = x * x
    once.batch_jacobian(y, x)
    with pytest.raises(RuntimeError, match="once"):
        once.batch_jacobian(y, x)


# --- jvp ----------------------------------------------------------------------------------------------------

def _fn(a, b):
    return ad.tanh(ad.matmul(a, b)) * ad.reduce_sum(a), ad.exp(b)


def test_jvp_matches_finite_differences():
    a, b = rand((2, 3), seed=6), rand((3, 2), seed=7)
    ta, tb = rand((2, 3), seed=8), rand((3, 2), seed=9)
    outs, tangents = ad.jvp(_fn, (a, b), (ta, tb))
    close(outs[0], _fn(a, b)[0])
    eps = 1e-6
    plus, minus = _fn(a + ta * eps, b + tb * eps), _fn(a - ta * eps, b - tb * eps)
    for t, p, m in zip(tangents, plus, minus):
        close(t, (p - m) / (2 * eps), 1e-6)


def test_jvp_of_one_tensor_and_unconnected_outputs():
    x = ad.array([1.0, 2.0], "float64")
    y, t = ad.jvp(lambda v: ad.square(v), x, ad.array([1.0, 0.5], "float64"))
    close(y, [1.0, 4.0])
    close(t, [2.0, 2.0])
    (y, c), (t, tc) = ad.jvp(lambda v: (v * 3.0, ad.ones((2,), "float64")), [x], [ad.ones_like(x)])
    close(t, [3.0, 3.0])
    close(tc, [0.0, 0.0])


def test_jvp_errors():
    x = ad.array([1.0, 2.0], "float64")
    with pytest.raises(ValueError, match="jvp: tangent 0 has shape"):
        ad.jvp(ad.exp, (x,), (ad.ones((3,), "float64"),))
    with pytest.raises(ValueError, match="1 primals but 2 tangents"):
        ad.jvp(ad.exp, (x,), (x, x))
    with pytest.raises(TypeError, match="jvp: primals must be float"):
        ad.jvp(ad.exp, (ad.array([1, 2]),), (ad.array([1, 2]),))


# --- ops ----------------------------------------------------------------------------------------------------

def test_log1p_expm1_are_accurate_near_zero():
    for dtype, tol in (("float64", 1e-15), ("float32", 1e-6)):
        v = [1e-12, -1e-7, 0.5, 3.0]
        close(ad.log1p(ad.array(v, dtype)), [math.log1p(t) for t in v], tol)
        close(ad.expm1(ad.array(v, dtype)), [math.expm1(t) for t in v], tol)


def test_argmin_first_of_ties_and_nan():
    x = ad.array([[3.0, 1.0, 1.0], [2.0, float("nan"), -5.0]])
    assert ad.argmin(x).tolist() == [1, 1]
    assert ad.argmin(x, 0).tolist() == [1, 1, 1]  # a NaN is picked, as numpy's
    assert ad.argmin(ad.array([[4, -2], [-7, 9]]), 0).tolist() == [1, 0]
    with pytest.raises(ValueError, match="argmin: expects a tensor of rank"):
        ad.argmin(ad.array(1.0))


def test_reduce_prod_variance_std():
    rows = [[1.5, -2.0, 0.25], [3.0, 0.5, 4.0]]
    x = ad.array(rows, "float64")
    close(ad.reduce_prod(x, 1), [math.prod(r) for r in rows])
    close(ad.reduce_prod(x), math.prod(rows[0] + rows[1]))
    assert ad.reduce_prod(ad.array([[2, 3], [4, 5]]), 0).tolist() == [8, 15]
    assert ad.reduce_prod(ad.zeros((0, 2), "float64"), 0).tolist() == [1.0, 1.0]
    close(ad.reduce_variance(x, 1), [statistics.pvariance(r) for r in rows])
    close(ad.reduce_std(x, 0, keepdims=True), [[statistics.pstdev(c) for c in zip(*rows)]])
    with pytest.raises(TypeError, match="reduce_variance"):
        ad.reduce_variance(ad.array([1, 2]))


def test_norm_orders_and_axes():
    rows = [[1.5, -2.0, 0.25], [3.0, 0.5, -4.0]]
    x, flat = ad.array(rows, "float64"), rows[0] + rows[1]
    close(ad.norm(x), math.sqrt(sum(v * v for v in flat)))
    close(ad.norm(x, 1, axis=1), [sum(map(abs, r)) for r in rows])
    close(ad.norm(x, float("inf"), axis=0, keepdims=True), [[max(abs(a), abs(b)) for a, b in zip(*rows)]])
    close(ad.norm(x, 3, axis=-1), [sum(abs(v) ** 3 for v in r) ** (1 / 3) for r in rows])
    close(ad.norm(x, 1, axis=(0, 1)), max(abs(a) + abs(b) for a, b in zip(*rows)))  # max column sum
    close(ad.norm(x, float("inf"), axis=(-2, -1)), max(sum(map(abs, r)) for r in rows))  # max row sum
    assert ad.norm(x, "fro", axis=(0, 1), keepdims=True).shape == (1, 1)
    for bad in (0, -1, "nuc", True):
        with pytest.raises(ValueError, match="norm: ord"):
            ad.norm(x, bad)
    with pytest.raises(ValueError, match="norm: a matrix norm of ord 2"):
        ad.norm(x, 2, axis=(0, 1))
    with ad.GradientTape() as tape:
        tape.watch(x)
        n = ad.norm(x, axis=1)
    close(tape.gradient(n, x), [[v / math.sqrt(sum(t * t for t in r)) for v in r] for r in rows])


@pytest.mark.parametrize("exclusive,reverse", list(itertools.product([False, True], repeat=2)))
def test_cumsum_cumprod_match_the_rule(exclusive, reverse):
    rows = [[1.5, -2.0, 0.25, 2.0], [3.0, 0.5, -4.0, 1.0]]

    def rule(r, op, start):
        r = r[::-1] if reverse else r
        out = list(itertools.accumulate(r, op, initial=start))
        out = out[:-1] if exclusive else out[1:]
        return out[::-1] if reverse else out
    x = ad.array(rows, "float64")
    close(ad.cumsum(x, 1, exclusive, reverse), [rule(r, lambda a, b: a + b, 0.0) for r in rows])
    close(ad.cumprod(x, -1, exclusive=exclusive, reverse=reverse), [rule(r, lambda a, b: a * b, 1.0) for r in rows])
    close(ad.cumsum(x, 0, exclusive, reverse), [list(c) for c in zip(*[rule(list(c), lambda a, b: a + b, 0.0)
                                                                       for c in zip(*rows)])])
    assert ad.cumsum(ad.array([1, 2])).tolist() == [1, 3]  # integers too (as TensorFlow), bool not
    with pytest.raises(TypeError, match="cumsum: not defined for bool"):
        ad.cumsum(ad.array([True, False]))

"""ad.Function: traces equal eager results and gradients, retrace rules, Variables, training steps,
nesting, errors, and the C plan runner's kernel table (drift test)."""

import contextlib
import importlib
import io
import os
import random
import runpy
import warnings

import pytest

import pyautodiff as ad

F = importlib.import_module("pyautodiff.function")  # ad.function is the decorator
P = importlib.import_module("pyautodiff.plan")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def flat(v):
    v = v.tolist() if isinstance(v, ad.Tensor) else v
    if isinstance(v, list):
        return [x for item in v for x in flat(item)]
    return [v]


def assert_close(a, b, tol):
    fa, fb = flat(a), flat(b)
    assert len(fa) == len(fb)
    for x, y in zip(fa, fb):
        assert abs(x - y) <= tol * (1 + abs(y)), (fa, fb)


def tolerance(dtype):
    return 1e-5 if dtype == "float32" else 1e-12


def rand(shape, dtype, seed, lo=-1.0, hi=1.0):
    rng = random.Random(seed)
    n = 1
    for d in shape:
        n *= d
    return ad.reshape(ad.array([rng.uniform(lo, hi) for _ in range(n)], dtype=dtype), shape)


# --- results and gradients equal eager --------------------------------------------------------------

CASES = {
    "elementwise": (lambda a, b: ad.exp(ad.tanh(a)) * ad.sigmoid(b) - ad.square(a) / (2.0 + ad.relu(b)),
                    [(3, 4), (3, 4)]),
    "broadcast": (lambda a, b: ad.maximum(a + b, 0.1) * ad.minimum(a, b) - ad.abs(b), [(3, 4), (4,)]),
    "log_sqrt_pow": (lambda a, b: ad.log(ad.square(a) + 1.0) + ad.sqrt(ad.square(b) + 1.0)
                     + ad.pow(ad.square(a) + 1.0, 1.5), [(5,), (5,)]),
    "matmul_reduce": (lambda a, b: ad.reduce_mean(ad.matmul(a, b), axis=1) + ad.reduce_max(a, axis=1),
                      [(3, 4), (4, 2)]),
    "matmul_transposed": (lambda a, b: ad.reduce_sum(ad.matmul(a, b, transpose_a=True, transpose_b=True)),
                          [(4, 3), (2, 4)]),
    "softmax": (lambda a, b: ad.softmax(a * b, axis=-1) + ad.log_softmax(a, axis=0), [(3, 4), (3, 4)]),
    "shape_ops": (lambda a, b: ad.concat([ad.transpose(a), ad.reshape(b, (4, 3))], axis=1)[1:, ::2]
                  + ad.split(ad.expand_dims(ad.squeeze(ad.reshape(a, (1, 12))), 0), 3, axis=1)[1][0, 0],
                  [(3, 4), (12,)]),
    "where_clip": (lambda a, b: ad.where(a > b, ad.clip_by_value(a, -0.5, 0.5), ad.increment(b, 1.0, 3.0)),
                   [(6,), (6,)]),
    "gather": (lambda a, b: ad.gather(a, [2, 0, 2], axis=0) * ad.reduce_sum(b), [(3, 2), (2,)]),
    "mlp": (lambda x, w: ad.reduce_mean(ad.square(ad.matmul(ad.tanh(ad.matmul(x, w)), w, transpose_b=True)
                                                  - x)), [(5, 3), (3, 4)]),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_results_and_gradients_equal_eager(case, dtype):
    fn, shapes = CASES[case]
    f = ad.Function(fn)
    for call in range(3):  # the first call traces, the next ones replay with new values
        args = [rand(s, dtype, seed=10 * call + i) for i, s in enumerate(shapes)]
        with ad.GradientTape(persistent=True) as tape:
            tape.watch(args)
            eager = fn(*args)
            eager_loss = ad.reduce_sum(ad.square(eager))
        with ad.GradientTape(persistent=True) as ftape:
            ftape.watch(args)
            traced = f(*args)
            traced_loss = ad.reduce_sum(ad.square(traced))
        assert traced.shape == eager.shape and traced.dtype == eager.dtype
        assert_close(traced, eager, tolerance(dtype))
        expected = tape.gradient(eager_loss, args)
        got = ftape.gradient(traced_loss, args)
        for g, e in zip(got, expected):
            assert_close(g, e, 10 * tolerance(dtype))
    assert f.trace_count == 1


def test_seed_example_3():
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        runpy.run_path(os.path.join(ROOT, "examples", "calculation_graph.py"), run_name="__main__")
    assert out.getvalue().strip() == "z = 100 da = 60 db = 40"


def test_gradient_of_captured_variables_and_with_zero_upstream():
    w = ad.Variable([1.0, 2.0, 3.0])
    f = ad.Function(lambda x: ad.reduce_sum(w * x))
    x = ad.array([4.0, 5.0, 6.0])
    with ad.GradientTape() as tape:
        y = f(x)
    assert tape.gradient(y, w).tolist() == [4.0, 5.0, 6.0]


def test_calls_interleaved_before_gradient():
    f = ad.Function(lambda x: x * x * x)
    x1, x2 = ad.array([1.0, 2.0]), ad.array([3.0, 4.0])
    with ad.GradientTape(persistent=True) as tape:
        tape.watch([x1, x2])
        y1 = f(x1)
        y2 = f(x2)  # replays over the buffers the first call's backward reads: it must recompute
        total = ad.reduce_sum(y1) + ad.reduce_sum(y2)
    g1, g2 = tape.gradient(total, [x1, x2])
    assert g1.tolist() == [3.0, 12.0] and g2.tolist() == [27.0, 48.0]


def test_second_derivative_through_function():
    f = ad.Function(lambda x: x * x * x)
    x = ad.Variable(2.0)
    with ad.GradientTape() as outer:
        with ad.GradientTape() as inner:
            y = f(x)
        dy = inner.gradient(y, x)
    assert float(dy) == 12.0
    assert float(outer.gradient(dy, x)) == 12.0


def test_structured_outputs_and_kwargs():
    @ad.function
    def f(x, scale=2.0, extra=None):
        return {"double": x * scale, "parts": (x + 1.0, ad.reduce_sum(x)), "tag": "ok", "extra": extra}

    x = ad.array([1.0, 2.0])
    for _ in range(2):
        out = f(x, scale=3.0)
        assert out["double"].tolist() == [3.0, 6.0]
        assert out["parts"][0].tolist() == [2.0, 3.0] and float(out["parts"][1]) == 3.0
        assert out["tag"] == "ok" and out["extra"] is None
    assert f.trace_count == 1
    f(x, scale=4.0)
    assert f.trace_count == 2


def test_results_are_fresh_tensors():
    f = ad.Function(lambda x: x + 1.0)
    a = f(ad.array([1.0]))
    b = f(ad.array([5.0]))
    assert a.tolist() == [2.0] and b.tolist() == [6.0]


def test_identity_and_constant_outputs():
    k = ad.array([7.0])
    f = ad.Function(lambda x: (x, k))
    x, c = f(ad.array([1.0]))
    x2, _ = f(ad.array([2.0]))
    assert x.tolist() == [1.0] and x2.tolist() == [2.0] and c.tolist() == [7.0]


# --- tracing rules ------------------------------------------------------------------------------

def test_body_runs_once_per_signature():
    runs = []

    def body(x, n):
        runs.append(1)  # a Python side effect: only while tracing
        return x * n

    f = ad.Function(body)
    for v in ([1.0, 2.0], [3.0, 4.0], [5.0, 6.0]):
        assert f(ad.array(v), 2).tolist() == [2 * v[0], 2 * v[1]]
    assert len(runs) == 1 and f.trace_count == 1
    f(ad.array([1.0, 2.0, 3.0]), 2)  # new shape
    f(ad.array([1.0, 2.0], dtype="float64"), 2)  # new dtype
    f(ad.array([1.0, 2.0]), 3)  # new Python value
    assert len(runs) == 4 and f.trace_count == 4
    assert f(ad.array([1.0, 2.0], dtype="float64"), 2).dtype == "float64"
    assert len(runs) == 4


def test_python_values_read_while_tracing_are_frozen():
    f = ad.Function(lambda x: x * float(ad.reduce_sum(x)))
    assert f(ad.array([1.0, 1.0])).tolist() == [2.0, 2.0]
    assert f(ad.array([3.0, 3.0])).tolist() == [6.0, 6.0]  # the 2.0 was frozen at the trace


def test_variables_assigned_between_calls_are_seen():
    w = ad.Variable([1.0, 2.0])
    f = ad.Function(lambda x, v: x * w + v)
    v = ad.Variable([10.0, 10.0])
    assert f(ad.array([1.0, 1.0]), v).tolist() == [11.0, 12.0]
    w.assign([3.0, 4.0])
    v.assign_add([1.0, 1.0])
    assert f(ad.array([1.0, 1.0]), v).tolist() == [14.0, 15.0]
    assert f.trace_count == 1


def test_variables_written_by_the_body_persist_and_created_ones_are_not_reset():
    state = {}

    def step(x):
        if "acc" not in state:  # built on the first call: its initial value must not be replayed
            state["acc"] = ad.Variable(ad.ones((2,)))
        state["acc"].assign_add(x)
        return ad.reduce_sum(state["acc"])

    f = ad.Function(step)
    x = ad.array([1.0, 2.0])
    assert [float(f(x)) for _ in range(3)] == [5.0, 8.0, 11.0]
    assert state["acc"].tolist() == [4.0, 7.0]


def test_retrace_warning_only_when_retracing_keeps_happening():
    f = ad.Function(lambda x: x + 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(20):
            f(ad.zeros((2,)))
        for n in range(1, 5):
            f(ad.zeros((n,)))
    with pytest.warns(RuntimeWarning, match="lambda"):
        for n in range(5, 10):
            f(ad.zeros((n,)))


def test_trace_cache_is_bounded():
    f = ad.Function(lambda x: x * 2.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for n in range(F.MAX_TRACES + 5):
            f(ad.zeros((n + 1,)))
    assert len(f._traces) == F.MAX_TRACES and f.trace_count == F.MAX_TRACES + 5


def test_nested_functions():
    inner_runs = []

    @ad.function
    def inner(x):
        inner_runs.append(1)
        return ad.tanh(x) * 2.0

    @ad.function
    def outer(x, w):
        return ad.reduce_sum(inner(x * w) + inner(x))

    w = ad.Variable([0.5, -1.0])
    for v in ([1.0, 2.0], [0.3, -0.7]):
        x = ad.array(v)
        with ad.GradientTape() as tape:
            y = outer(x, w)
        with ad.GradientTape() as etape:
            ey = ad.reduce_sum(ad.tanh(x * w) * 2.0 + ad.tanh(x) * 2.0)
        assert_close(y, ey, 1e-6)
        assert_close(tape.gradient(y, w), etape.gradient(ey, w), 1e-6)
    assert outer.trace_count == 1 and len(inner_runs) == 2  # inlined into outer's one trace
    assert float(inner(ad.array(0.0))) == 0.0 and inner.trace_count == 1


def test_method_decorator():
    class Scaler:
        def __init__(self, k):
            self.k = ad.Variable(k)

        @ad.function
        def __call__(self, x):
            return x * self.k

    a, b = Scaler(2.0), Scaler(3.0)
    x = ad.array([1.0])
    assert a(x).tolist() == [2.0] and b(x).tolist() == [3.0] and a(x).tolist() == [2.0]


# --- a training step as a Function -------------------------------------------------------------------

def _seed_data():
    x = ad.array([[1, 3], [1, 4], [2, 4], [3, 1], [4, 1], [4, 2]], dtype="float32")
    y = ad.array([0, 0, 0, 1, 1, 1])
    return x, y


def _params(seed):
    rng = random.Random(seed)
    return [ad.Variable([[rng.uniform(-0.5, 0.5) for _ in range(16)] for _ in range(2)]),
            ad.Variable([0.0] * 16),
            ad.Variable([[rng.uniform(-0.5, 0.5) for _ in range(2)] for _ in range(16)]),
            ad.Variable([0.0] * 2)]


def _train_step(params, lr):
    w1, b1, w2, b2 = params

    def step(x, y):
        with ad.GradientTape() as tape:
            logits = ad.matmul(ad.sigmoid(ad.matmul(x, w1) + b1), w2) + b2
            loss = -ad.reduce_mean(ad.reduce_sum(ad.one_hot(y, 2) * ad.log_softmax(logits), axis=1))
        for p, g in zip(params, tape.gradient(loss, params)):
            p.assign_sub(ad.scale(lr, g))
        return loss

    return step


def test_training_step_as_function_equals_eager_loop():
    x, y = _seed_data()
    eager_params, traced_params = _params(1), _params(1)
    eager_step = _train_step(eager_params, 0.5)
    traced_step = ad.Function(_train_step(traced_params, 0.5))
    eager_losses = [float(eager_step(x, y)) for _ in range(30)]
    traced_losses = [float(traced_step(x, y)) for _ in range(30)]
    assert traced_step.trace_count == 1
    assert_close(traced_losses, eager_losses, 1e-5)
    assert traced_losses[-1] < traced_losses[0] / 2
    for p, q in zip(traced_params, eager_params):
        assert_close(p, q, 1e-5)


def test_training_step_with_model_layer():
    layers = getattr(ad, "layers", None)
    optimizers = getattr(ad, "optimizers", None)
    losses = getattr(ad, "losses", None)
    if layers is None or optimizers is None or losses is None or not hasattr(ad, "Sequential"):
        pytest.skip("the model layer has not landed")
    x, y = _seed_data()

    def make():
        model = ad.Sequential([layers.Dense(32, input_shape=(2,), activation="sigmoid",
                                            kernel_initializer="ones"),
                               layers.Dense(2, kernel_initializer="zeros")])
        model(x)
        return model, losses.SparseCategoricalCrossentropy(from_logits=True), optimizers.Adam(0.01)

    def make_step(model, lossfunc, opt):
        def step(inputs, trues):
            with ad.GradientTape() as tape:
                loss = lossfunc(trues, model(inputs, training=True))
            params = model.trainable_variables
            opt.update(params, tape.gradient(loss, params))
            return loss
        return step

    eager_step = make_step(*make())
    traced_step = ad.Function(make_step(*make()))
    eager = [float(eager_step(x, y)) for _ in range(20)]
    traced = [float(traced_step(x, y)) for _ in range(20)]
    assert traced_step.trace_count == 1
    assert_close(traced, eager, 1e-5)


# --- errors ------------------------------------------------------------------------------------------

def test_body_exception_surfaces_as_itself():
    class Boom(Exception):
        pass

    def body(x):
        raise Boom("from the body")

    f = ad.Function(body)
    with pytest.raises(Boom, match="from the body"):
        f(ad.array([1.0]))
    g = ad.Function(lambda a, b: a + b)
    with pytest.raises(ValueError, match="add"):
        g(ad.zeros((2,)), ad.zeros((3,)))
    assert f.trace_count == 0 and g.trace_count == 0
    assert ad.tape.state.tracer is None and g(ad.ones((2,)), ad.ones((2,))).tolist() == [2.0, 2.0]


def test_bad_arguments_name_the_function():
    @ad.function
    def affine(x, w):
        return x * w

    with pytest.raises(TypeError, match="affine"):
        affine(ad.array([1.0]))
    with pytest.raises(TypeError, match="affine"):
        affine(ad.array([1.0]), ad.array([1.0]), ad.array([1.0]))
    with pytest.raises(TypeError, match="affine.*set"):
        affine(ad.array([1.0]), {1.0})
    with pytest.raises(TypeError, match="callable"):
        ad.Function(3)


def test_bad_numpy_argument():
    np = pytest.importorskip("numpy")
    f = ad.Function(lambda x: x)
    with pytest.raises(TypeError, match="lambda.*numpy"):
        f(np.zeros(2))


def test_replay_error_names_function_and_op():
    f = ad.Function(lambda x, i: ad.gather(x, i))
    assert f(ad.array([1.0, 2.0]), ad.array([1])).tolist() == [2.0]
    with pytest.raises(ValueError, match="Function lambda: replay failed: gather: index out of range"):
        f(ad.array([1.0, 2.0]), ad.array([5]))


# --- the C plan ------------------------------------------------------------------------------------

def test_training_step_crosses_into_c_once():
    if not P._PLAN_OK:
        pytest.skip("the plan runner's table does not match the compiled kernels")
    x, y = _seed_data()
    f = ad.Function(_train_step(_params(2), 0.1))
    f(x, y)
    (trace,) = f._traces.values()
    assert trace.forward.kernel_calls > 20 and trace.forward.crossings == 1


def test_python_replay_equals_plan_replay(monkeypatch):
    x, y = _seed_data()
    f_plan = ad.Function(_train_step(_params(3), 0.3))
    plan_losses = [float(f_plan(x, y)) for _ in range(5)]
    monkeypatch.setattr(P, "_PLAN_OK", False)
    f_py = ad.Function(_train_step(_params(3), 0.3))
    py_losses = [float(f_py(x, y)) for _ in range(5)]
    (trace,) = f_py._traces.values()
    assert trace.forward.crossings == trace.forward.kernel_calls + 3  # and copies of x, y in, loss out
    assert plan_losses == py_losses


def _generator():
    path = os.path.join(ROOT, "tools", "gen_plan.py")
    if not os.path.exists(path):
        pytest.skip("tools/ is not here (installed package)")
    spec = importlib.util.spec_from_file_location("gen_plan", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_plan_table_matches_header():
    """Drift guard: every kernel declared in pyautodiff.h must be runnable by the plan (regenerate with
    `python tools/gen_plan.py` and rebuild when this fails)."""
    gen = _generator()
    with open(gen.HEADER) as f:
        text = f.read()
    c_text, py_text = gen.generate(text)
    with open(gen.C_OUT) as f:
        assert f.read() == c_text, "csrc/plan_kernels.h is stale: run tools/gen_plan.py"
    with open(gen.PY_OUT) as f:
        assert f.read() == py_text, "pyautodiff/_plan_table.py is stale: run tools/gen_plan.py"
    names = {name for name, _, _ in gen.parse(text)}
    kernels = {name for name, _ in gen.kernels(text)}
    assert names - kernels == gen.NOT_KERNELS | {n for n in names if n.startswith("ad_plan_")}
    assert ad._backend.lib.ad_plan_signature() == P.SIGNATURE, "rebuild the extension"


def test_gradient_after_a_later_call_refuses_to_repeat_the_bodys_writes():
    w = ad.Variable([2.0], name="w")
    counter = ad.Variable([0.0], name="counter", trainable=False)

    @ad.function
    def f(x):
        counter.assign_add(1.0)
        return x * w

    x = ad.array([3.0])
    with ad.GradientTape() as t1:
        y1 = f(x)
    f(ad.array([5.0]))
    with pytest.raises(RuntimeError, match="writes Variables"):
        t1.gradient(y1, w)
    assert counter.tolist() == [2.0]


@pytest.mark.parametrize("name", ["Adam", "SGD", "RMSprop", "Adagrad"])
def test_slots_built_while_tracing_cost_nothing_on_replay(name):
    """An optimizer whose slots the first (traced) call builds replays the same kernel calls as one built before
    tracing: the calls that filled the slots' initial values are not replayed (not even into a copy nobody reads),
    and the replays keep the slots' values (equal to eager steps)."""
    def make(prebuilt):
        w = ad.Variable([[0.5, -1.0], [2.0, 0.25]])
        opt = getattr(ad.optimizers, name)(learning_rate=0.1)
        if prebuilt:
            opt.build([w])

        def step(x):
            with ad.GradientTape() as tape:
                loss = ad.reduce_sum(ad.square(ad.matmul(x, w)))
            opt.apply_gradients(zip(tape.gradient(loss, [w]), [w]))
            return loss
        return w, step

    x = ad.array([[1.0, 2.0], [-0.5, 1.5]])
    (w_eager, eager), (w_fresh, fresh), (w_pre, pre) = make(False), make(False), make(True)
    fresh, pre = ad.function(fresh), ad.function(pre)
    for _ in range(4):
        assert float(eager(x)) == float(fresh(x)) == float(pre(x))
    assert w_eager.tolist() == w_fresh.tolist() == w_pre.tolist()
    (trace_fresh,), (trace_pre,) = fresh._traces.values(), pre._traces.values()
    assert trace_fresh.forward.kernel_calls == trace_pre.forward.kernel_calls

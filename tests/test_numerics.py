"""Numerics: softmax and the losses stay finite for huge logits, and ad.debug's checks turn the first
NaN or inf into an error naming the op (eagerly, in Function replays and in fit)."""

import math

import pytest

import pyautodiff as ad
from pyautodiff import _backend as B

FLT_MAX = 3.4028234663852886e38
# (dtype, magnitude): logits of +-1e4 overflow exp() in float32, the extremes overflow every naive formula
BIG = [("float32", 1e4), ("float32", 3.4e38), ("float32", FLT_MAX), ("float64", 1e4), ("float64", 1.7e308)]


def _flat(t):
    v = t.tolist()
    if not isinstance(v, list):
        return [v]
    while v and isinstance(v[0], list):
        v = [x for row in v for x in row]
    return v


def _finite(t) -> bool:
    return all(math.isfinite(x) for x in _flat(t))


@pytest.fixture(autouse=True)
def _checks_off():
    yield
    ad.debug.disable_check_numerics()


# --- softmax and the losses at extreme logits -------------------------------------------------------

@pytest.mark.parametrize("dtype,big", BIG)
def test_softmax_of_extreme_logits_is_exact_and_its_gradient_finite(dtype, big):
    logits = ad.Variable([[big, -big, 0.0], [-big, -big, -big], [big, big, -big], [0.0, big, big]], dtype=dtype)
    with ad.GradientTape() as tape:
        probs = ad.softmax(logits)
        weighted = ad.reduce_sum(probs * ad.array([[1.0, 2.0, 3.0]], dtype))
    assert probs.tolist() == [[1, 0, 0], pytest.approx([1 / 3] * 3), [0.5, 0.5, 0], [0, 0.5, 0.5]]
    assert _finite(tape.gradient(weighted, logits))


@pytest.mark.parametrize("dtype,big", BIG)
def test_log_softmax_of_extreme_logits_has_no_nan(dtype, big):
    logits = ad.Variable([[big, -big, 0.0], [big, big, big]], dtype=dtype)
    with ad.GradientTape() as tape:
        out = ad.log_softmax(logits)
    values = _flat(out)
    assert not any(math.isnan(v) for v in values)
    assert values[0] == 0 and values[3:] == [pytest.approx(-math.log(3))] * 3
    # -2 big where that is representable; -inf (the correctly rounded value) where it is not
    assert values[1] == (-2 * big if 2 * big < (FLT_MAX if dtype == "float32" else 1.8e308) else -math.inf)
    assert _finite(tape.gradient(out, logits))


def _losses(dtype):
    L = ad.losses
    return {
        "sparse": lambda labels, logits: L.SparseCategoricalCrossentropy(from_logits=True)(labels, logits),
        "categorical": lambda labels, logits: L.CategoricalCrossentropy(from_logits=True)(
            ad.one_hot(labels, 3, dtype), logits),
        "binary": lambda labels, logits: L.BinaryCrossentropy(from_logits=True)(ad.one_hot(labels, 3, dtype), logits),
        "sparse_probs": lambda labels, logits: L.SparseCategoricalCrossentropy()(labels, ad.softmax(logits)),
        "categorical_probs": lambda labels, logits: L.CategoricalCrossentropy()(
            ad.one_hot(labels, 3, dtype), ad.softmax(logits)),
        "binary_probs": lambda labels, logits: L.BinaryCrossentropy()(ad.one_hot(labels, 3, dtype),
                                                                      ad.sigmoid(logits)),
        "mse_probs": lambda labels, logits: L.MeanSquaredError()(ad.one_hot(labels, 3, dtype), ad.softmax(logits)),
        "huber": lambda labels, logits: L.Huber()(ad.one_hot(labels, 3, dtype), logits),
    }


def _loss_and_grad(fn, labels, logits):
    with ad.GradientTape() as tape:
        loss = fn(labels, logits)
    return loss, tape.gradient(loss, logits)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(_losses("float32")))
def test_losses_are_finite_for_logits_of_1e4(dtype, name):
    logits = ad.Variable([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4], [1e4, 1e4, -1e4], [0.0, -1e4, 1e4]], dtype=dtype)
    for labels in ([0, 1, 2, 1], [1, 0, 2, 0], [2, 2, 0, 2]):  # right, wrong and worst labels
        loss, grad = _loss_and_grad(_losses(dtype)[name], ad.array(labels), logits)
        assert _finite(loss) and _finite(grad), (labels, loss, grad)


@pytest.mark.parametrize("big", [3.4e38, FLT_MAX])
@pytest.mark.parametrize("name", sorted(_losses("float32")))
def test_losses_at_float32_extremes_never_nan_and_finite_when_representable(name, big):
    fn = _losses("float32")[name]
    logits = ad.Variable([[big, -big, 0.0], [-big, -big, -big], [big, big, -big], [0.0, big, big]])
    # labels at the largest logit: every exact loss is at most FLT_MAX (the mean of the binary and Huber
    # losses, which penalise every other logit too, is near it), so each must come out finite
    loss, grad = _loss_and_grad(fn, ad.array([0, 1, 0, 2]), logits)
    assert _finite(loss) and _finite(grad), (loss, grad)
    if name.startswith(("sparse", "categorical")):
        assert float(loss) < 1.0
    # wrong labels: the exact loss may exceed FLT_MAX (then inf is its correct rounding), never NaN
    for labels in ([1, 0, 2, 0], [2, 2, 2, 1]):
        loss, grad = _loss_and_grad(fn, ad.array(labels), logits)
        assert not math.isnan(float(loss)) and _finite(grad), (labels, loss, grad)


def test_mean_of_values_near_float32_max_is_finite():
    # the sum overflows float32, the mean does not: the kernel scales in double before rounding
    x = ad.full((9,), FLT_MAX)
    assert float(ad.reduce_mean(x)) == pytest.approx(FLT_MAX, rel=1e-6)
    assert ad.reduce_mean(ad.full((3, 4), 3e38), 1).tolist() == [pytest.approx(3e38, rel=1e-6)] * 3
    assert float(ad.losses.Huber()(ad.zeros((4, 3)), ad.full((4, 3), FLT_MAX))) == pytest.approx(FLT_MAX, rel=1e-6)
    assert math.isnan(float(ad.reduce_mean(ad.zeros((0,)))))  # the mean of nothing stays nan


# --- ad.debug -------------------------------------------------------------------------------------

def test_check_numerics_returns_the_tensor_or_raises_with_the_message():
    x = ad.array([1.0, 2.0])
    assert ad.debug.check_numerics(x, "x") is x
    assert ad.debug.check_numerics(ad.array([1, 2]), "ints").dtype == "int32"  # ints are always finite
    assert ad.debug.check_numerics(ad.zeros((0, 3)), "empty").shape == (0, 3)
    for bad in (math.nan, math.inf, -math.inf):
        for dtype in ("float32", "float64"):
            with pytest.raises(ad.debug.NumericsError,
                               match=rf"check_numerics: logits: tensor \(2, 2\) {dtype} holds NaN or inf"):
                ad.debug.check_numerics(ad.array([[0.0, 1.0], [bad, 2.0]], dtype), "logits")
    assert issubclass(ad.debug.NumericsError, FloatingPointError) and issubclass(ad.debug.NumericsError, ValueError)


def test_the_kernel_finds_one_bad_element_anywhere():
    for dtype, code in (("float32", B.C.AD_FLOAT32), ("float64", B.C.AD_FLOAT64)):
        for n in (1, 7, 64, 1001):
            for at in {0, n // 2, n - 1}:
                values = [1e30] * n
                values[at] = math.nan if at % 2 else -math.inf
                t = ad.array(values, dtype)
                assert B.lib.ad_all_finite(code, n, t._ptr) == B.C.AD_ENONFINITE
                assert B.lib.ad_all_finite(code, at, t._ptr) == B.C.AD_OK  # the elements before it
    t = ad.zeros((4,))
    assert B.lib.ad_all_finite(B.C.AD_FLOAT32, -1, t._ptr) == B.C.AD_EINVAL
    assert B.lib.ad_all_finite(7, 4, t._ptr) == B.C.AD_EDTYPE


def test_enabled_checks_name_the_first_op_that_made_nan_or_inf():
    x = ad.array([1.0, 0.0])
    assert not ad.debug.is_check_numerics_enabled()
    assert ad.log(x).tolist()[1] == -math.inf  # off: IEEE results as usual
    ad.debug.enable_check_numerics()
    assert ad.debug.is_check_numerics_enabled()
    with pytest.raises(ad.debug.NumericsError, match=r"op 'log' produced NaN or inf in its output \(2,\) float32 "
                                                     r"\(inputs: \(2,\) float32; its inputs were finite\)"):
        ad.exp(ad.log(x))
    with pytest.raises(ad.debug.NumericsError, match="op 'multiply'.*input 0 already held NaN or inf"):
        ad.array([math.nan]) * 2.0
    with pytest.raises(ad.debug.NumericsError, match="op 'divide'"):  # in a gradient: sqrt's vjp at 0
        v = ad.Variable([0.0, 4.0])
        with ad.GradientTape() as tape:
            y = ad.sqrt(v)
        tape.gradient(y, v)
    assert ad.exp(ad.array([1.0])).tolist() == [pytest.approx(math.e)]  # finite values pass
    ad.debug.disable_check_numerics()
    assert ad.log(x).tolist()[1] == -math.inf


def test_a_function_replays_the_checks_and_retraces_when_they_are_switched():
    f = ad.function(lambda x: ad.scale(2.0, ad.log(x)))
    assert f(ad.array([0.0])).tolist() == [-math.inf] and f.trace_count == 1
    ad.debug.enable_check_numerics()
    assert f(ad.array([1.0])).tolist() == [0.0] and f.trace_count == 2  # traced again, with the checks
    with pytest.raises(ad.debug.NumericsError, match="Function lambda: replay failed: check_numerics: op 'log'"):
        f(ad.array([0.0]))
    assert f.trace_count == 2  # that was a replay
    checked = ad.function(lambda x: ad.debug.check_numerics(ad.scale(2.0, x), "doubled"))
    ad.debug.disable_check_numerics()
    assert checked(ad.array([1.0])).tolist() == [2.0]
    with pytest.raises(ad.debug.NumericsError, match="replay failed: check_numerics: op \"check_numerics\\('doubled'"):
        checked(ad.array([math.inf]))
    assert f(ad.array([0.0])).tolist() == [-math.inf] and f.trace_count == 2  # the unchecked trace again


def _model():
    model = ad.Sequential([ad.layers.Dense(3, input_shape=(2,), activation="relu"), ad.layers.Dense(1)])
    model.compile(optimizer=ad.optimizers.SGD(0.1), loss="mse")
    return model


@pytest.mark.parametrize("run_eagerly", [False, True])
def test_fit_with_check_numerics_stops_before_the_update(run_eagerly):
    x = [[0.1, 0.2], [0.3, -0.1], [0.5, 0.5], [-0.2, 0.1], [0.0, 1.0], [1.0, 0.0], [0.4, 0.0], [0.2, 0.2]]
    y = [[0.5]] * 6 + [[1e20], [0.5]]  # finite data whose squared error overflows float32 in the second batch
    model = _model()
    model.compile(optimizer=ad.optimizers.SGD(0.1), loss="mse", run_eagerly=run_eagerly)

    class Keep:
        def on_batch_end(self, step, logs):
            self.weights = [v.tolist() for v in model.variables]

    keep = Keep()
    with pytest.raises(ad.debug.NumericsError, match="op 'square' produced NaN or inf"):
        model.fit(x, y, batch_size=4, shuffle=False, verbose=0, callbacks=[keep], check_numerics=True)
    assert [v.tolist() for v in model.variables] == keep.weights  # the bad batch changed nothing
    assert all(_finite(v) for v in model.variables)
    assert not ad.debug.is_check_numerics_enabled()  # fit switched the checks back off
    history = model.fit(x, y, batch_size=4, shuffle=False, verbose=0)  # unchecked: the inf goes through
    assert not math.isfinite(history.history["loss"][0])
    with pytest.raises(ad.debug.NumericsError, match="op 'slice'.*input 0 already held NaN or inf"):
        model.fit([[math.nan, 0.0]], [[0.0]], shuffle=False, verbose=0, check_numerics=True)  # bad data: caught when batched


def test_fit_with_check_numerics_trains_like_without():
    x, y = [[0.1, 0.2], [0.3, -0.1], [0.5, 0.5], [-0.2, 0.1]], [[0.5], [0.1], [0.9], [0.0]]
    a, b = _model(), _model()
    b.set_weights(a.get_weights())
    ha = a.fit(x, y, epochs=3, batch_size=2, shuffle=False, verbose=0)
    hb = b.fit(x, y, epochs=3, batch_size=2, shuffle=False, verbose=0, check_numerics=True)
    assert ha.history == hb.history
    assert [v.tolist() for v in a.variables] == [v.tolist() for v in b.variables]

"""Regularizers against Keras 3's formulas (computed here in Python floats, float64): L1 l1 * sum|x|, L2
l2 * sum x^2, L1L2 both, OrthogonalRegularizer factor * 0.5 * sum|off-diagonal of the normalized Gram matrix| /
(n (n - 1) / 2); layers' weight and activity regularizers in model.losses (the activity penalty over the batch
size) and in the loss fit and train_on_batch minimize, eagerly and traced (ad.Function)."""

import math

import pytest

import pyautodiff as ad
from pyautodiff import regularizers as R

from conftest import rand

X = [[0.5, -1.25, 2.0], [-0.75, 0.25, 1.5]]


def flat(rows):
    return [v for row in rows for v in row]


def orthogonal(rows, factor, mode):
    vectors = rows if mode == "rows" else [list(c) for c in zip(*rows)]
    unit = [[v / max(math.sqrt(sum(u * u for u in vec)), 1e-7) for v in vec] for vec in vectors]
    n = len(unit)
    off = sum(abs(sum(a * b for a, b in zip(unit[i], unit[j]))) for i in range(n) for j in range(n) if i != j)
    return factor * 0.5 * off / (n * (n - 1) / 2.0)


@pytest.mark.parametrize("reg, expected", [
    (R.L1(0.3), 0.3 * sum(map(abs, flat(X)))),
    (R.L2(0.2), 0.2 * sum(v * v for v in flat(X))),
    (R.L1L2(0.3, 0.2), 0.3 * sum(map(abs, flat(X))) + 0.2 * sum(v * v for v in flat(X))),
    (R.L1L2(), 0.0),
    (R.OrthogonalRegularizer(0.5, "rows"), orthogonal(X, 0.5, "rows")),
    (R.OrthogonalRegularizer(0.5, "columns"), orthogonal(X, 0.5, "columns")),
])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_penalties_follow_keras_formulas(reg, expected, dtype):
    value = reg(ad.array(X, dtype))
    assert value.shape == () and value.dtype == dtype
    assert value.item() == pytest.approx(expected, rel=1e-6 if dtype == "float32" else 1e-12, abs=1e-12)
    assert type(reg)(**reg.get_config()).get_config() == reg.get_config()


def test_names_and_defaults_as_keras():
    assert R.get("l1").get_config() == {"l1": 0.01} and R.get("l2").get_config() == {"l2": 0.01}
    assert R.get("l1_l2").get_config() == {"l1": 0.0, "l2": 0.0}  # L1L2()'s defaults, as Keras' get
    assert type(R.get("L1L2")) is R.L1L2 and type(R.get("orthogonal_regularizer")) is R.OrthogonalRegularizer
    assert R.get(None) is None and R.L1(None).l1 == 0.01
    fn = lambda x: ad.reduce_sum(x)  # noqa: E731 - a plain callable is used as it is
    assert R.get(fn) is fn
    for bad in ("l3", 3, R.L1):
        with pytest.raises(ValueError, match="unknown regularizer"):
            R.get(bad)
    for bad in (-1.0, float("nan"), "0.1", True):
        with pytest.raises(ValueError, match="l2 must be a finite number >= 0"):
            R.L2(bad)
    with pytest.raises(ValueError, match="mode must be 'rows' or 'columns'"):
        R.OrthogonalRegularizer(mode="diagonal")
    with pytest.raises(ValueError, match="rank-2"):
        R.OrthogonalRegularizer()(ad.ones((2, 2, 2)))


def test_orthogonal_rows_are_free_of_penalty_and_the_gradient_matches():
    assert R.OrthogonalRegularizer(1.0)(ad.array([[2.0, 0.0], [0.0, -3.0]])).item() == 0.0
    w = ad.Variable(rand((3, 4), seed=5))
    for reg in (R.L2(0.1), R.L1L2(0.05, 0.1), R.OrthogonalRegularizer(0.2, "columns")):
        with ad.GradientTape() as tape:
            value = reg(w)
        grad = tape.gradient(value, w)
        eps = 1e-6
        for i in (0, 5, 11):  # a few entries by central differences
            flat_w = ad.reshape(w, (12,)).tolist()
            up, down = list(flat_w), list(flat_w)
            up[i] += eps
            down[i] -= eps
            numeric = (reg(ad.reshape(ad.array(up, "float64"), (3, 4))).item() -
                       reg(ad.reshape(ad.array(down, "float64"), (3, 4))).item()) / (2 * eps)
            assert ad.reshape(grad, (12,)).tolist()[i] == pytest.approx(numeric, rel=1e-5, abs=1e-8)


def dense_model(**kwargs):
    model = ad.Sequential([ad.layers.Dense(2, input_shape=(3,), kernel_initializer=ad.initializers.Constant(0.5),
                                           bias_initializer=ad.initializers.Constant(-0.25), **kwargs)])
    return model


def test_weight_penalties_are_model_losses_computed_from_the_current_weights():
    model = dense_model(kernel_regularizer=R.L1(0.1), bias_regularizer="l2")
    kernel_penalty, bias_penalty = (t.item() for t in model.losses)
    assert kernel_penalty == pytest.approx(0.1 * 6 * 0.5) and bias_penalty == pytest.approx(0.01 * 2 * 0.0625)
    model.layers[0].kernel.assign(ad.ones((3, 2)))
    assert model.losses[0].item() == pytest.approx(0.1 * 6)
    assert dense_model().losses == []


def test_activity_penalty_over_the_batch_size_from_the_last_outermost_call():
    model = dense_model(activity_regularizer=R.L2(0.5))
    x = ad.array(X)
    out = model(x).tolist()
    expected = 0.5 * sum(v * v for v in flat(out)) / 2
    assert [t.item() for t in model.losses] == [pytest.approx(expected)]
    model(x)  # a new outermost call starts the penalties anew: they do not pile up
    assert [t.item() for t in model.losses] == [pytest.approx(expected)]
    assert model.layers[0].get_config()["activity_regularizer"] is model.layers[0].activity_regularizer


@pytest.mark.parametrize("make, weights", [
    (lambda r: ad.layers.Conv1D(2, 2, kernel_regularizer=r, bias_regularizer=r), ("kernel", "bias")),
    (lambda r: ad.layers.Conv2D(2, 2, kernel_regularizer=r), ("kernel",)),
    (lambda r: ad.layers.Conv2DTranspose(2, 2, kernel_regularizer=r), ("kernel",)),
    (lambda r: ad.layers.DepthwiseConv2D(2, depthwise_regularizer=r, bias_regularizer=r), ("kernel", "bias")),
    (lambda r: ad.layers.SeparableConv2D(2, 2, depthwise_regularizer=r, pointwise_regularizer=r),
     ("depthwise_kernel", "pointwise_kernel")),
    (lambda r: ad.layers.Embedding(5, 3, embeddings_regularizer=r), ("embeddings",)),
])
def test_every_layer_with_a_kernel_takes_regularizers(make, weights):
    layer = make(R.L2(0.25))
    is_embedding = isinstance(layer, ad.layers.Embedding)
    shape = (2, 4) if is_embedding else (2, 5, 3) if isinstance(layer, ad.layers.Conv1D) else (2, 5, 5, 3)
    layer(ad.zeros(shape, "int32") if is_embedding else ad.ones(shape))
    expected = [0.25 * sum(v * v for v in ad.reshape(getattr(layer, w), (-1,)).tolist()) for w in weights]
    assert [t.item() for t in layer.losses] == pytest.approx(expected)
    assert type(layer)(**layer.get_config()).get_config() == layer.get_config()


@pytest.mark.parametrize("make, names", [
    (lambda r: ad.layers.LSTM(3, kernel_regularizer=r, recurrent_regularizer=r, bias_regularizer=r),
     ("kernel", "recurrent_kernel", "bias")),
    (lambda r: ad.layers.GRU(3, recurrent_regularizer=r), ("recurrent_kernel",)),
    (lambda r: ad.layers.SimpleRNN(3, bias_regularizer=r, bias_initializer="ones"), ("bias",)),
    (lambda r: ad.layers.MultiHeadAttention(2, 3, kernel_regularizer=r), ("kernel",)),
    (lambda r: ad.layers.MultiHeadAttention(2, 3, bias_regularizer=r, bias_initializer="ones"), ("bias",)),
])
def test_recurrent_and_attention_layers_take_regularizers(make, names):
    layer = make(R.L2(0.25))
    x = ad.ones((2, 4, 5))
    layer(x, x) if isinstance(layer, ad.layers.MultiHeadAttention) else layer(x)
    expected = [0.25 * sum(v * v for v in ad.reshape(var, (-1,)).tolist())
                for path, var, _ in layer._walk() if path.rsplit(".", 1)[-1] in names]
    assert len(expected) == (4 if isinstance(layer, ad.layers.MultiHeadAttention) else len(names))
    assert sorted(t.item() for t in layer.losses) == pytest.approx(sorted(expected))
    assert type(layer)(**layer.get_config()).get_config() == layer.get_config()


@pytest.mark.parametrize("run_eagerly", [True, False])
def test_fit_minimizes_the_loss_plus_the_penalties(run_eagerly):
    """One SGD step: w -= lr * (d mse / dw + 2 l2 w); the reported loss is mse + penalty before the step."""
    model = dense_model(kernel_regularizer=R.L2(0.1))
    model.compile(ad.optimizers.SGD(0.1), "mse", run_eagerly=run_eagerly)
    x, y = ad.array(X), ad.array([[1.0, 0.0], [0.0, 1.0]])
    pred = model(x).tolist()
    mse = sum((p - t) ** 2 for p, t in zip(flat(pred), flat(y.tolist()))) / 4
    kernel = [[0.5] * 2 for _ in range(3)]
    loss = model.train_on_batch(x, y)
    assert loss == pytest.approx(mse + 0.1 * 6 * 0.25, rel=1e-6)
    # the gradient of the mse part, by hand: d/dW = x^T (pred - y) * 2 / 4
    d = [[(p - t) / 2 for p, t in zip(pr, tr)] for pr, tr in zip(pred, y.tolist())]
    for i in range(3):
        for j in range(2):
            g = sum(X[n][i] * d[n][j] for n in range(2)) + 2 * 0.1 * kernel[i][j]
            assert model.layers[0].kernel.value().tolist()[i][j] == pytest.approx(kernel[i][j] - 0.1 * g, rel=1e-5)
    assert model.evaluate(x, y)["loss"] == pytest.approx(  # evaluate counts the penalties too, as Keras
        model.test_on_batch(x, y), rel=1e-6)


def test_penalties_inside_a_traced_function_follow_the_weights():
    model = dense_model(kernel_regularizer=R.L1(1.0), activity_regularizer=R.L1(1.0))

    @ad.function
    def total(x):
        out = model(x)
        return ad.add_n(model.losses)

    x = ad.array(X)
    first = total(x).item()
    model.layers[0].kernel.assign(ad.ones((3, 2)))
    expected = 6.0 + sum(abs(v) for v in flat(model(x).tolist())) / 2
    assert first != pytest.approx(expected) and total(x).item() == pytest.approx(expected, rel=1e-6)

"""The functional API: ad.Input, layers called on symbolic tensors, Model(inputs, outputs); merge layers,
Permute, RepeatVector, Lambda (against the same computation written eagerly, and numpy)."""

import pytest
from conftest import rand

import pyautodiff as ad

L = ad.layers


def _np():
    return pytest.importorskip("numpy")


def _close(a, b, tol=1e-12):
    fa, fb = ad.reshape(a, (-1,)).tolist(), ad.reshape(b, (-1,)).tolist()
    assert a.shape == b.shape and all(abs(x - y) <= tol * (1 + abs(y)) for x, y in zip(fa, fb)), (a, b)


def two_in_two_out():
    """Two inputs, a layer shared by both branches, two outputs; and the same computation written eagerly."""
    a, b = ad.Input((3,), dtype="float64", name="a"), ad.Input((4,), dtype="float64", name="b")
    pa, shared = L.Dense(4, dtype="float64", name="pa"), L.Dense(5, activation="tanh", dtype="float64", name="sh")
    head = L.Dense(2, dtype="float64", name="head")
    ha, hb = shared(pa(a)), shared(b)
    model = ad.Model(inputs=[a, b], outputs=[head(L.Concatenate()([ha, hb])), L.Dot(axes=1)([ha, hb])], name="two")

    def eager(x, y):
        ea, eb = shared(pa(x)), shared(y)
        return [head(ad.concat([ea, eb], 1)), ad.reduce_sum(ea * eb, 1, keepdims=True)]
    return model, eager


def test_two_inputs_two_outputs_match_the_eager_computation_forward_and_gradients():
    model, eager = two_in_two_out()
    assert isinstance(model, ad.Model) and isinstance(model, ad.models.Model)
    assert [type(layer).__name__ for layer in model.layers] == ["Dense", "Dense", "Concatenate", "Dense", "Dot"]
    assert [layer.name for layer in model.layers][:2] == ["pa", "sh"]
    assert len(model.trainable_variables) == 6  # the shared layer's weights once
    x, y = rand((5, 3), seed=1), rand((5, 4), seed=2)
    results = []
    for run in (lambda: model([x, y]), lambda: eager(x, y)):
        with ad.GradientTape() as tape:
            o1, o2 = run()
            loss = ad.reduce_sum(o1 * o1) + ad.reduce_sum(o2)
        results.append([o1, o2] + tape.gradient(loss, model.trainable_variables))
    for got, want in zip(*results):
        _close(got, want)
    by_name = model({"a": x, "b": y})
    _close(by_name[1], results[0][1])


def test_a_traced_function_trains_the_two_output_model_like_eager_steps():
    model, _ = two_in_two_out()
    start = model.get_weights()
    x, y = rand((6, 3), seed=3), rand((6, 4), seed=4)

    def step(x, y):
        with ad.GradientTape() as tape:
            o1, o2 = model([x, y], training=True)
            loss = ad.reduce_mean(o1 * o1) + ad.reduce_mean(o2 * o2)
        grads = tape.gradient(loss, model.trainable_variables)
        for v, g in zip(model.trainable_variables, grads):
            v.assign_sub(0.1 * g)
        return loss
    eager_losses = [float(step(x, y)) for _ in range(3)]
    eager_end = model.get_weights()
    model.set_weights(start)
    traced = ad.function(step)
    traced_losses = [float(traced(x, y)) for _ in range(3)]
    assert traced.trace_count == 1
    assert traced_losses == pytest.approx(eager_losses, rel=1e-12)
    for got, want in zip(model.get_weights(), eager_end):
        _close(got, want)


def test_fit_trains_a_functional_model_with_branches():
    inp = ad.Input((4,))
    h = L.Dense(8, activation="relu", name="h")(inp)
    merged = L.Add()([L.Dense(8, name="left")(h), L.Dense(8, name="right")(h)])
    model = ad.Model(inp, L.Dense(1, name="out")(merged))
    x = rand((32, 4), seed=5, dtype="float32")
    y = ad.reduce_sum(x, 1, keepdims=True)
    model.compile(optimizer=ad.optimizers.Adam(0.01), loss="mse")
    history = model.fit(x, y, epochs=30, batch_size=8, verbose=0, seed=0)
    assert history.history["loss"][-1] < 0.2 * history.history["loss"][0]
    assert model._train_function is not None and model._train_function.trace_count >= 1  # the traced step ran
    assert model.predict(x).shape == (32, 1)


def test_functional_models_nest_and_subclassed_and_sequential_models_still_work():
    inner_in = ad.Input((3,))
    inner = ad.Model(inner_in, L.Dense(2, name="inner_dense")(inner_in), name="inner")
    outer_in = ad.Input((3,))
    outer = ad.Model(outer_in, L.Activation("relu")(inner(outer_in)), name="outer")
    x = rand((4, 3), seed=6, dtype="float32")
    _close(outer(x), ad.relu(inner(x)))
    assert outer.layers[0] is inner and len(outer.trainable_variables) == 2

    class Sub(ad.Model):
        def __init__(self):
            super().__init__(name="sub")
            self.d = L.Dense(2)

        def call(self, x, training=False):
            return self.d(x)
    assert type(Sub()) is Sub and Sub()(x).shape == (4, 2)
    assert type(ad.Model(name="plain")) is ad.Model
    assert ad.Sequential([L.Dense(2, input_shape=(3,))])(x).shape == (4, 2)


def test_config_round_trip_rebuilds_the_graph():
    model, _ = two_in_two_out()
    config = model.get_config()
    assert [n["layer"] for n in config["nodes"]].count("sh") == 2
    copy = ad.Model.from_config(config)
    assert copy is not model and [type(v).__name__ for v in copy.layers] == [type(v).__name__ for v in model.layers]
    copy.set_weights(model.get_weights())
    x, y = rand((3, 3), seed=7), rand((3, 4), seed=8)
    for got, want in zip(copy([x, y]), model([x, y])):
        _close(got, want)
    d_in = ad.Input((2,), name="d_in")
    dict_model = ad.Model({"d_in": d_in}, {"twice": L.Lambda(lambda t: t * 2.0)(d_in)})
    assert dict_model({"d_in": [[1.0, 2.0]]})["twice"].tolist() == [[2.0, 4.0]]


def test_summary_lists_output_shapes():
    inp = ad.Input((6,))
    out = L.Dense(4, name="d")(L.Reshape((3, 2))(inp))
    model = ad.Model(inp, L.Permute((2, 1))(out), name="summ")
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert "(None, 3, 2)" in text and "(None, 3, 4)" in text and "(None, 4, 3)" in text and "Total params: 12" in text
    assert model.output_shape == (None, 4, 3)


def test_errors_are_clear():
    a, b = ad.Input((3,), name="ea"), ad.Input((3,), name="eb")
    with pytest.raises(TypeError, match="mix of symbolic inputs"):
        L.Add()([a, ad.ones((1, 3))])
    with pytest.raises(ValueError, match="disconnected"):
        ad.Model(a, L.Add()([a, b]))
    with pytest.raises(ValueError, match="Concatenate.*along axis"):
        L.Concatenate()([a, ad.Input((2, 3))])
    with pytest.raises(ValueError, match="Subtract.*expects 2 inputs, got 3"):
        L.Subtract()([a, a, b])
    with pytest.raises(TypeError, match="symbolic tensors"):
        ad.Model(a, ad.ones((1, 3)))
    model = ad.Model([a, b], L.Add()([a, b]))
    with pytest.raises(ValueError, match="expects 2 inputs"):
        model(ad.ones((2, 3)))
    with pytest.raises(ValueError, match="input 'eb' expects shape"):
        model([ad.ones((2, 3)), ad.ones((2, 4))])
    with pytest.raises(ValueError, match="inputs named"):
        model({"ea": ad.ones((2, 3))})
    with pytest.raises(TypeError, match="no value"):
        bool(a)
    with pytest.raises(ValueError, match="Input: shape"):
        ad.Input(3)
    with pytest.raises(ValueError, match="Permute"):
        L.Permute((1, 3))
    with pytest.raises(ValueError, match="Dot.*rank 2 or 3"):
        L.Dot(1)([ad.ones((2, 2, 2, 2)), ad.ones((2, 2, 2, 2))])


MERGES = {"Add": lambda np, xs: sum(xs), "Subtract": lambda np, xs: xs[0] - xs[1],
          "Multiply": lambda np, xs: np.prod(xs, axis=0), "Average": lambda np, xs: np.mean(xs, axis=0),
          "Maximum": lambda np, xs: np.max(xs, axis=0), "Minimum": lambda np, xs: np.min(xs, axis=0)}


@pytest.mark.parametrize("name", sorted(MERGES))
def test_elementwise_merges_match_numpy_eagerly_and_in_a_model(gc, name):
    np = _np()
    count = 2 if name == "Subtract" else 3
    xs = [rand((2, 3, 4), seed=10 + i) for i in range(count)]
    want = MERGES[name](np, [x.numpy() for x in xs])
    layer = getattr(L, name)(dtype="float64")
    np.testing.assert_allclose(layer(xs).numpy(), want, rtol=1e-12)
    ins = [ad.Input((3, 4), dtype="float64") for _ in xs]
    model = ad.Model(ins, getattr(L, name)(dtype="float64")(ins))
    assert model.output_shape == (None, 3, 4)
    np.testing.assert_allclose(model(xs).numpy(), want, rtol=1e-12)
    gc(lambda *ts: layer(list(ts)), xs)


def test_merges_broadcast_lower_ranks_after_the_batch_axis_as_keras():
    np = _np()
    x, y = rand((2, 4), seed=20), rand((2, 3, 4), seed=21)
    np.testing.assert_allclose(L.Add(dtype="float64")([x, y]).numpy(), x.numpy()[:, None, :] + y.numpy())
    assert L.Add().compute_output_shape([(None, 4), (None, 3, 4)]) == (None, 3, 4)


def test_concatenate_matches_numpy(gc):
    np = _np()
    xs = [rand((2, 3, 4), seed=30), rand((2, 5, 4), seed=31)]
    layer = L.Concatenate(axis=1, dtype="float64")
    np.testing.assert_allclose(layer(xs).numpy(), np.concatenate([x.numpy() for x in xs], 1))
    assert layer.compute_output_shape([(None, 3, 4), (None, None, 4)]) == (None, None, 4)
    assert L.Concatenate.__name__ in ad.layers.__all__ and layer.get_config()["axis"] == 1
    gc(lambda a, b: layer([a, b]), xs)


@pytest.mark.parametrize("shapes,axes", [(((2, 4), (2, 4)), 1), (((2, 5, 3), (2, 3, 5)), (1, 2)),
                                         (((2, 3, 4), (2, 3, 5)), 1), (((2, 4), (2, 4, 6)), (1, 1)),
                                         (((2, 3, 4), (2, 4)), (-1, -1))])
@pytest.mark.parametrize("normalize", [False, True])
def test_dot_matches_numpy(gc, shapes, axes, normalize):
    np = _np()
    x, y = rand(shapes[0], seed=40), rand(shapes[1], seed=41)
    a1, a2 = (axes, axes) if isinstance(axes, int) else axes
    xn, yn = x.numpy(), y.numpy()
    if normalize:
        xn = xn / np.sqrt(np.maximum((xn ** 2).sum(a1, keepdims=True), 1e-12))
        yn = yn / np.sqrt(np.maximum((yn ** 2).sum(a2, keepdims=True), 1e-12))
    want = np.stack([np.tensordot(xn[i], yn[i], axes=([a1 % x.ndim - 1], [a2 % y.ndim - 1]))
                     for i in range(2)])
    want = want.reshape(2, -1) if want.ndim == 1 else want
    layer = L.Dot(axes, normalize=normalize, dtype="float64")
    got = layer([x, y])
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-10, atol=1e-12)
    assert layer.compute_output_shape([(None,) + shapes[0][1:], (None,) + shapes[1][1:]]) == (None,) + want.shape[1:]
    gc(lambda a, b: layer([a, b]), [x, y])


def test_permute_repeat_vector_and_lambda(gc):
    x = rand((2, 3, 4), seed=50)
    p = L.Permute((2, 1), dtype="float64")
    assert p(x).shape == (2, 4, 3) and p(x)[1, 2, 0].tolist() == x[1, 0, 2].tolist()
    v = rand((2, 3), seed=51)
    r = L.RepeatVector(4, dtype="float64")
    assert r(v).shape == (2, 4, 3) and r(v)[1, 3].tolist() == v[1].tolist()
    gc(lambda t: p(t), [x])
    gc(lambda t: r(t), [v])
    inp = ad.Input((3,))
    lam = L.Lambda(lambda t, k: ad.concat([t, t * k], 1), arguments={"k": 3.0})
    model = ad.Model(inp, lam(r(inp)))
    assert model.output_shape == (None, 8, 3)
    assert L.Lambda(lambda t: t, output_shape=(7,)).compute_output_shape((None, 2)) == (None, 7)
    got = model([[1.0, 2.0, 3.0]])
    assert got.shape == (1, 8, 3) and got[0, 7].tolist() == [3.0, 6.0, 9.0]
    with pytest.raises(ValueError, match="RepeatVector"):
        L.RepeatVector(2)(ad.Input((2, 3)))


@pytest.mark.parametrize("axis,expected", [(0, (2, 1, 3, 4)), (1, (2, 3, 1, 4)), (2, (2, 3, 4, 1)),
                                           (-1, (2, 3, 4, 1)), (-2, (2, 3, 1, 4)), (-3, (2, 1, 3, 4))])
def test_expand_dims_layer_counts_axes_of_a_sample(gc, axis, expected):
    """Rindow's ExpandDims: axis 0 -> (batch, 1, ...), -1 appends; the values are the input's, in order."""
    x = rand((2, 3, 4), seed=52)
    layer = L.ExpandDims(axis, dtype="float64")
    y = layer(x)
    assert y.shape == expected and ad.reshape(y, (-1,)).tolist() == ad.reshape(x, (-1,)).tolist()
    gc(lambda t: layer(t), [x])
    inp = ad.Input((3, 4))
    assert ad.Model(inp, L.ExpandDims(axis)(inp)).output_shape == (None,) + expected[1:]
    again = L.ExpandDims(**layer.get_config())
    assert again.axis == axis and again(x).shape == expected


def test_expand_dims_layer_refuses_bad_axes():
    with pytest.raises(ValueError, match=r"ExpandDims .*axis 3 is out of range for samples of shape \(3, 4\)"):
        L.ExpandDims(3)(ad.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match="ExpandDims"):
        L.ExpandDims(-4)(ad.Input((3, 4)))
    with pytest.raises(TypeError, match="ExpandDims .*axis must be an int"):
        L.ExpandDims(1.0)
    model = ad.Sequential([L.ExpandDims(-1, input_shape=(5,)), L.Conv1D(2, 3)])
    assert model(ad.zeros((4, 5))).shape == (4, 3, 2)

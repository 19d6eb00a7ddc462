"""Weight constraints (ad.constraints, as keras.constraints), per-output sample weights of multi-output models,
and load_model(compile=False). Keras' values come from tools/keras_constraint_refs.py (the block at the end)."""

import math
import pickle

import pytest

import pyautodiff as ad

np = pytest.importorskip("numpy")
C = ad.constraints
EPS = 1e-7  # keras.config.epsilon()


def array(shape, seed, scale=1.0):  # (tools/keras_constraint_refs.py: array)
    n = math.prod(shape)
    return np.array([scale * math.sin(0.731 * i + 1.9 * seed) for i in range(n)], dtype="float32").reshape(shape)


# --- constraints ------------------------------------------------------------------------------------------------
# (case, class name, kwargs, weight shape): Keras' outputs for array(shape, 3, 2.0) are recorded in KERAS
CONSTRAINTS = [
    ("max_norm", "MaxNorm", {}, (4, 3)),
    ("max_norm_small_axis1", "MaxNorm", {"max_value": 0.5, "axis": 1}, (4, 3)),
    ("max_norm_axes", "MaxNorm", {"max_value": 1.5, "axis": [0, 1, 2]}, (2, 2, 3, 2)),
    ("non_neg", "NonNeg", {}, (4, 3)),
    ("unit_norm", "UnitNorm", {}, (4, 3)),
    ("unit_norm_axis1", "UnitNorm", {"axis": 1}, (3, 5)),
    ("min_max_norm", "MinMaxNorm", {}, (4, 3)),
    ("min_max_norm_rate", "MinMaxNorm", {"min_value": 1.2, "max_value": 1.6, "rate": 0.3, "axis": 1}, (4, 3)),
]
LAYERS = [
    ("Dense", {"units": 2, "kernel_constraint": "max_norm", "bias_constraint": "non_neg"}),
    ("Conv2D", {"filters": 2, "kernel_size": 3, "kernel_constraint": "unit_norm"}),
    ("Conv1DTranspose", {"filters": 2, "kernel_size": 3, "bias_constraint": "non_neg"}),
    ("DepthwiseConv2D", {"kernel_size": 3, "depthwise_constraint": "non_neg", "bias_constraint": "max_norm"}),
    ("SeparableConv2D", {"filters": 2, "kernel_size": 3, "depthwise_constraint": "unit_norm",
                         "pointwise_constraint": "non_neg"}),
    ("Embedding", {"input_dim": 5, "output_dim": 2, "embeddings_constraint": "unit_norm"}),
    ("LSTM", {"units": 2, "kernel_constraint": "max_norm", "recurrent_constraint": "non_neg"}),
    ("GRU", {"units": 2, "bias_constraint": "non_neg"}),
    ("SimpleRNN", {"units": 2, "recurrent_constraint": "unit_norm"}),
    ("BatchNormalization", {"beta_constraint": "non_neg", "gamma_constraint": "max_norm"}),
    ("LayerNormalization", {"gamma_constraint": "non_neg"}),
    ("MultiHeadAttention", {"num_heads": 2, "key_dim": 2, "kernel_constraint": "max_norm",
                            "bias_constraint": "non_neg"}),
]
# (case, (optimizer class, config), epochs): a Dense with kernel MaxNorm(0.6) and bias "non_neg" fit on fixed data
TRAINING = [
    ("sgd", ("SGD", {"learning_rate": 0.1}), 2),
    ("adam", ("Adam", {"learning_rate": 0.05}), 3),
]


def numpy_constraint(name, kwargs, w):
    """Keras' formulas in float64 numpy."""
    axis = kwargs.get("axis", 0)
    axis = tuple(axis) if isinstance(axis, list) else axis
    norms = np.sqrt(np.sum(w * w, axis=axis, keepdims=True))
    if name == "NonNeg":
        return np.maximum(w, 0)
    if name == "UnitNorm":
        return w / (EPS + norms)
    if name == "MaxNorm":
        return w * np.clip(norms, 0, kwargs.get("max_value", 2)) / (EPS + norms)
    rate = kwargs.get("rate", 1.0)
    desired = rate * np.clip(norms, kwargs.get("min_value", 0.0), kwargs.get("max_value", 1.0)) + (1 - rate) * norms
    return w * desired / (EPS + norms)


@pytest.mark.parametrize("case,name,kwargs,shape", CONSTRAINTS, ids=[c[0] for c in CONSTRAINTS])
def test_constraint_matches_numpy_float64_and_keras(case, name, kwargs, shape):
    w = np.random.default_rng(len(case)).normal(size=shape) * 2
    got = getattr(C, name)(**kwargs)(ad.array(w, "float64"))
    assert got.dtype == "float64"
    np.testing.assert_allclose(np.asarray(got), numpy_constraint(name, kwargs, w), rtol=1e-12, atol=1e-15)
    keras_out = getattr(C, name)(**kwargs)(ad.array(array(shape, 3, 2.0)))
    np.testing.assert_allclose(np.asarray(keras_out).ravel(), KERAS["constraints"][case], rtol=2e-6, atol=1e-7)


def test_get_serialize_deserialize():
    for name, cls in (("max_norm", C.MaxNorm), ("non_neg", C.NonNeg), ("unit_norm", C.UnitNorm),
                      ("min_max_norm", C.MinMaxNorm), ("MaxNorm", C.MaxNorm), ("UnitNorm", C.UnitNorm),
                      ("Constraint", C.Constraint)):
        assert type(C.get(name)) is cls
    assert C.get(None) is None and C.max_norm is C.MaxNorm
    given = C.MinMaxNorm(0.1, 0.9, 0.5, axis=[0, 1])
    assert C.get(given) is given and C.get(C.NonNeg).__class__ is C.NonNeg

    def clip(w):
        return ad.clip_by_value(w, -1, 1)
    assert C.get(clip) is clip
    data = C.serialize(given)
    assert data == {"module": "constraints", "class_name": "MinMaxNorm",
                    "config": {"min_value": 0.1, "max_value": 0.9, "rate": 0.5, "axis": [0, 1]}}
    back = C.deserialize(data)
    assert type(back) is C.MinMaxNorm and back.get_config() == given.get_config()
    assert C.get({"class_name": "MaxNorm", "config": {"max_value": 3}}).max_value == 3  # Keras' dict form
    assert ad.saving.deserialize(ad.saving.serialize(given)).get_config() == given.get_config()
    for bad in ("nope", 3, {"class_name": "Nope", "config": {}}, int):
        with pytest.raises(ValueError):
            C.get(bad)
    with pytest.raises(ValueError, match="max_value"):
        C.MaxNorm(-1)
    with pytest.raises(ValueError, match="min_value"):
        C.MinMaxNorm(2.0, 1.0)
    with pytest.raises(ValueError, match="axis"):
        C.UnitNorm(axis="rows")
    with pytest.raises(ValueError, match="reduce_sum"):  # an axis the weight lacks: the reduction names itself
        C.UnitNorm(axis=3)(ad.ones((2, 2)))


def _built(cls, kwargs):
    layer = getattr(ad.layers, cls)(**kwargs)
    if cls == "MultiHeadAttention":
        layer(ad.ones((1, 3, 4)), ad.ones((1, 3, 4)))
    elif cls in ("LSTM", "GRU", "SimpleRNN", "Conv1DTranspose"):
        layer(ad.ones((1, 4, 3)))
    elif cls == "Embedding":
        layer(ad.array([[1, 2]]))
    elif cls.startswith(("Conv2D", "Depthwise", "Separable")):
        layer(ad.ones((1, 5, 5, 2)))
    else:
        layer(ad.ones((2, 4)))
    return layer


@pytest.mark.parametrize("cls,kwargs", LAYERS, ids=[c[0] for c in LAYERS])
def test_layer_constraints_config_and_weights(cls, kwargs):
    layer = _built(cls, kwargs)
    config = layer.get_config()
    ours = {k: None if v is None else {"class_name": type(v).__name__, "config": v.get_config()}
            for k, v in config.items() if k.endswith("constraint")}
    assert ours == KERAS["layers"][cls]
    arg = {"kernel": "depthwise_constraint" if cls == "DepthwiseConv2D" else "kernel_constraint",
           "recurrent_kernel": "recurrent_constraint"}  # the argument each weight's constraint comes from
    for v in layer.weights:  # (the moving statistics of BatchNormalization get none)
        short = v.name.rsplit("/", 1)[-1]
        given = kwargs.get(arg.get(short, short.replace("_kernel", "") + "_constraint"))
        assert type(v.constraint) is (type(C.get(given)) if given else type(None)), (v.name, v.constraint)
    rebuilt = ad.saving.deserialize(ad.saving.serialize(layer))
    assert {k: type(v) for k, v in rebuilt.get_config().items() if k.endswith("constraint")} == \
        {k: type(v) for k, v in config.items() if k.endswith("constraint")}


def test_optimizer_applies_the_constraint_eagerly_and_in_a_traced_step():
    w0 = np.random.default_rng(1).normal(size=(3, 2))
    x = np.random.default_rng(2).normal(size=(4, 3))
    for traced in (False, True):
        v = ad.Variable(w0, dtype="float64")
        v.constraint = C.MaxNorm(0.7)
        opt = ad.optimizers.SGD(0.5)

        def step(x):
            with ad.GradientTape() as tape:
                loss = ad.reduce_sum(ad.square(ad.matmul(x, v)))
            opt.apply_gradients([(tape.gradient(loss, v), v)])
        run = ad.Function(step) if traced else step
        expect = w0.copy()
        for _ in range(3):
            run(ad.array(x, "float64"))
            expect = numpy_constraint("MaxNorm", {"max_value": 0.7}, expect - 0.5 * 2 * x.T @ (x @ expect))
            np.testing.assert_allclose(np.asarray(v), expect, rtol=1e-12)
        if traced:
            assert run.trace_count == 1  # the later steps replayed the recorded constraint


@pytest.mark.parametrize("case,optimizer,epochs", TRAINING, ids=[c[0] for c in TRAINING])
@pytest.mark.parametrize("run_eagerly", [False, True])
def test_fit_applies_constraints_as_keras(case, optimizer, epochs, run_eagerly):
    dense = ad.layers.Dense(3, kernel_constraint=C.MaxNorm(0.6), bias_constraint="non_neg")
    model = ad.Sequential([dense])
    model.build((None, 4))
    dense.set_weights([array((4, 3), 5), array((3,), 6)])
    model.compile(getattr(ad.optimizers, optimizer[0])(**optimizer[1]), "mse", run_eagerly=run_eagerly)
    model.fit(array((6, 4), 7), array((6, 3), 8, 3.0), epochs=epochs, batch_size=3, shuffle=False, verbose=0)
    for got, want in zip(dense.get_weights(), KERAS["training"][case]):
        np.testing.assert_allclose(np.asarray(got).ravel(), want, rtol=1e-5, atol=1e-5)  # (float32 steps)


def test_constraints_survive_save_load_json_and_pickle(tmp_path):
    model = ad.Sequential([ad.layers.Dense(3, kernel_constraint=C.UnitNorm(axis=[0]), input_shape=(2,)),
                           ad.layers.Dense(1, bias_constraint=C.MinMaxNorm(0.2, 0.4))])
    model.compile("sgd", "mse")
    path = str(tmp_path / "m.safetensors")
    model.save(path)
    for other in (ad.models.load_model(path), ad.models.model_from_json(model.to_json())):
        k, b = other.layers[0].kernel.constraint, other.layers[1].bias.constraint
        assert type(k) is C.UnitNorm and k.axis == [0] and type(b) is C.MinMaxNorm and b.max_value == 0.4
        assert other.layers[0].bias.constraint is None
    assert type(pickle.loads(pickle.dumps(model.layers[1].bias)).constraint) is C.MinMaxNorm
    assert type(pickle.loads(pickle.dumps(model)).layers[1].bias.constraint) is C.MinMaxNorm


# --- per-output sample weights ------------------------------------------------------------------------------------
def _two_outputs():
    inp = ad.Input((3,))
    model = ad.Model(inp, [ad.layers.Dense(2, name="a")(inp), ad.layers.Dense(1, name="b")(inp)])
    model.compile(ad.optimizers.SGD(0.0), ["mse", "mae"], loss_weights=[0.5, 2.0])
    return model


def _hand_loss(model, x, ya, yb, wa, wb):
    pa, pb = (np.asarray(p, dtype="float64") for p in model(ad.array(x)))
    mse = np.mean((pa - ya) ** 2, axis=1)
    mae = np.mean(np.abs(pb - yb), axis=1)
    la = np.sum(mse * wa) / len(x)  # Keras' sum_over_batch_size: the weighted sum over the samples
    lb = np.sum(mae * wb) / len(x)
    return la, lb, 0.5 * la + 2.0 * lb


def test_per_output_sample_weights_list_and_dict():
    rng = np.random.default_rng(3)
    x, ya, yb = (rng.normal(size=s).astype("float32") for s in ((6, 3), (6, 2), (6, 1)))
    wa, wb = rng.uniform(0.1, 2, 6).astype("float32"), rng.uniform(0.1, 2, 6).astype("float32")
    model = _two_outputs()
    la, lb, total = _hand_loss(model, x, ya, yb, wa, wb)
    for weights in ([wa, wb], {"a": wa, "b": wb}):
        logs = model.evaluate(x, [ya, yb], sample_weight=weights, batch_size=6)
        assert logs["loss"] == pytest.approx(total, rel=1e-5)
        assert logs["a_loss"] == pytest.approx(la, rel=1e-5) and logs["b_loss"] == pytest.approx(lb, rel=1e-5)
        got = model.test_on_batch(x, {"a": ya, "b": yb}, sample_weight=weights, return_dict=True)
        assert got["loss"] == pytest.approx(total, rel=1e-5)
        got = model.train_on_batch(x, [ya, yb], sample_weight=weights, return_dict=True)  # (learning rate 0)
        assert got["loss"] == pytest.approx(total, rel=1e-5)
        history = model.fit(x, [ya, yb], sample_weight=weights, batch_size=6, epochs=1, verbose=0, shuffle=False)
        assert history.history["loss"][0] == pytest.approx(total, rel=1e-5)
    ones = np.ones(6, "float32")
    _, _, total_b = _hand_loss(model, x, ya, yb, ones, wb)  # a dict naming one output: the other unweighted
    assert model.test_on_batch(x, [ya, yb], sample_weight={"b": wb}, return_dict=True)["loss"] == \
        pytest.approx(total_b, rel=1e-5)
    _, _, shared = _hand_loss(model, x, ya, yb, wa, wa)  # one array weighs every output
    assert model.test_on_batch(x, [ya, yb], sample_weight=wa, return_dict=True)["loss"] == \
        pytest.approx(shared, rel=1e-5)
    with pytest.raises(ValueError, match="sample_weight"):
        model.test_on_batch(x, [ya, yb], sample_weight={"c": wa})
    with pytest.raises(ValueError, match="sample_weight"):
        model.test_on_batch(x, [ya, yb], sample_weight=[wa, wb, wa])


def test_per_output_sample_weights_train():
    """A zero weight on every sample of an output leaves that output's head untouched by fit."""
    rng = np.random.default_rng(4)
    x, ya, yb = (rng.normal(size=s).astype("float32") for s in ((8, 3), (8, 2), (8, 1)))
    model = _two_outputs()
    model.optimizer.learning_rate = 0.1
    b_before = [np.asarray(w) for w in model.layers[-1].get_weights()]
    a_before = [np.asarray(w) for w in model.layers[-2].get_weights()]
    model.fit(x, [ya, yb], sample_weight={"a": np.ones(8, "float32"), "b": np.zeros(8, "float32")}, epochs=2,
              batch_size=4, verbose=0)
    for w, before in zip(model.layers[-1].get_weights(), b_before):
        np.testing.assert_array_equal(np.asarray(w), before)
    assert any(not np.array_equal(np.asarray(w), b) for w, b in zip(model.layers[-2].get_weights(), a_before))


# --- load_model(compile=False) ------------------------------------------------------------------------------------
def test_load_model_compile_false_skips_unregistered_loss(tmp_path):
    def my_loss(y_true, y_pred):
        return ad.reduce_mean(ad.square(ad.subtract(y_true, y_pred)), axis=-1)
    model = ad.Sequential([ad.layers.Dense(2, input_shape=(3,))])
    model.compile("adam", my_loss, metrics=["mae"])
    model.fit(np.ones((4, 3), "float32"), np.zeros((4, 2), "float32"), epochs=1, verbose=0)
    path = str(tmp_path / "custom.safetensors")
    with pytest.raises(TypeError, match="register"):  # an unregistered function cannot be saved by name
        ad.saving.serialize(lambda y, p: y)
    ad.saving.register_keras_serializable("ExtrasTest")(my_loss)
    model.save(path)
    ad.saving._REGISTERED.pop("ExtrasTest>my_loss")  # as a fresh process that never registered it
    with pytest.raises(ValueError, match="my_loss"):
        ad.models.load_model(path)
    loaded = ad.models.load_model(path, compile=False)
    assert loaded.optimizer is None and loaded.loss is None
    for a, b in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    with pytest.raises(RuntimeError, match="compile"):
        loaded.fit(np.ones((4, 3), "float32"), np.zeros((4, 2), "float32"), verbose=0)
    again = ad.models.load_model(path, custom_objects={"ExtrasTest>my_loss": my_loss})  # compile=True restores
    assert again.loss is my_loss and again.optimizer.iterations == model.optimizer.iterations


# --- audit of issue 17 -------------------------------------------------------------------------------------------
def test_sequential_starts_with_an_input():
    """Keras' Sequential([keras.Input(shape), layer, ...]): the model is built from the Input's shape."""
    model = ad.Sequential([ad.Input((3,)), ad.layers.Dense(2), ad.layers.Dense(1)])
    assert model.built and model.layers[0].kernel.shape == (3, 2) and len(model.layers) == 2
    assert ad.models.model_from_json(model.to_json()).layers[1].kernel.shape == (2, 1)
    added = ad.Sequential()
    added.add(ad.Input((4,)))
    added.add(ad.layers.Dense(1))
    assert added.layers[0].kernel.shape == (4, 1)
    inp = ad.Input((2,))
    with pytest.raises(TypeError, match="Input"):  # only first, and only an Input (not a layer's output)
        ad.Sequential([ad.layers.Dense(1, input_shape=(2,)), ad.Input((1,))])
    with pytest.raises(TypeError, match="Input"):
        ad.Sequential([ad.layers.Dense(1)(inp)])


# --- generated by tools/keras_constraint_refs.py: do not edit ---
# Keras 3.15.1 (torch backend)
KERAS = {'constraints': {'max_norm': [-0.8303872, 0.226597, 1.044564, 1.506768, 1.104541, 0.09458447, -0.9259834, -1.51411,
                              -1.154817, -0.4273909, 0.6603884, 1.251534],
                 'max_norm_small_axis1': [-0.2874055, 0.07686461, 0.401858, 0.4054161, 0.291269, 0.02828768, -0.2133989,
                                          -0.3419829, -0.2958184, -0.1341693, 0.2031819, 0.4367101],
                 'max_norm_axes': [-0.3472311, 0.0931922, 0.4855077, 0.6322865, 0.4526657, 0.04411744, -0.3872052,
                                   -0.6227058, -0.5367526, -0.1793465, 0.270642, 0.5837582, 0.5955262, 0.3061176,
                                   -0.1413154, -0.5172806, -0.6262147, -0.4184521, 0.005324293, 0.4264081, 0.627371,
                                   0.5110524, 0.1309179, -0.315426],
                 'non_neg': [0.0, 0.294554, 1.539966, 1.998478, 1.435796, 0.1394427, 0.0, 0.0, 0.0, 0.0, 0.8584407,
                             1.845094],
                 'unit_norm': [-0.4151936, 0.1132985, 0.5222822, 0.7533839, 0.5522705, 0.04729223, -0.4629917,
                               -0.7570551, -0.5774086, -0.2136955, 0.3301942, 0.6257668],
                 'unit_norm_axis1': [-0.3531433, 0.09444571, 0.4937743, 0.6407913, 0.4603731, 0.04749026, -0.4182779,
                                     -0.6703121, -0.5798264, -0.1930577, 0.2886201, 0.6203471, 0.6350856, 0.3253044,
                                     -0.1507026],
                 'min_max_norm': [-0.4151936, 0.1132985, 0.5222822, 0.7533839, 0.5522705, 0.04729223, -0.4629917,
                                  -0.7570551, -0.5774086, -0.2136955, 0.3301942, 0.6257668],
                 'min_max_norm_rate': [-1.046869, 0.2799778, 1.46376, 1.788134, 1.284675, 0.1247661, -1.064578,
                                       -1.706041, -1.475742, -0.5256069, 0.7959632, 1.710807]},
 'layers': {'Dense': {'kernel_constraint': {'class_name': 'MaxNorm', 'config': {'max_value': 2, 'axis': 0}},
                      'bias_constraint': {'class_name': 'NonNeg', 'config': {}}},
            'Conv2D': {'kernel_constraint': {'class_name': 'UnitNorm', 'config': {'axis': 0}}, 'bias_constraint': None},
            'Conv1DTranspose': {'kernel_constraint': None, 'bias_constraint': {'class_name': 'NonNeg', 'config': {}}},
            'DepthwiseConv2D': {'depthwise_constraint': {'class_name': 'NonNeg', 'config': {}},
                                'bias_constraint': {'class_name': 'MaxNorm', 'config': {'max_value': 2, 'axis': 0}}},
            'SeparableConv2D': {'depthwise_constraint': {'class_name': 'UnitNorm', 'config': {'axis': 0}},
                                'pointwise_constraint': {'class_name': 'NonNeg', 'config': {}},
                                'bias_constraint': None},
            'Embedding': {'embeddings_constraint': {'class_name': 'UnitNorm', 'config': {'axis': 0}}},
            'LSTM': {'kernel_constraint': {'class_name': 'MaxNorm', 'config': {'max_value': 2, 'axis': 0}},
                     'recurrent_constraint': {'class_name': 'NonNeg', 'config': {}},
                     'bias_constraint': None},
            'GRU': {'kernel_constraint': None,
                    'recurrent_constraint': None,
                    'bias_constraint': {'class_name': 'NonNeg', 'config': {}}},
            'SimpleRNN': {'kernel_constraint': None,
                          'recurrent_constraint': {'class_name': 'UnitNorm', 'config': {'axis': 0}},
                          'bias_constraint': None},
            'BatchNormalization': {'beta_constraint': {'class_name': 'NonNeg', 'config': {}},
                                   'gamma_constraint': {'class_name': 'MaxNorm',
                                                        'config': {'max_value': 2, 'axis': 0}}},
            'LayerNormalization': {'beta_constraint': None, 'gamma_constraint': {'class_name': 'NonNeg', 'config': {}}},
            'MultiHeadAttention': {'kernel_constraint': {'class_name': 'MaxNorm',
                                                         'config': {'max_value': 2, 'axis': 0}},
                                   'bias_constraint': {'class_name': 'NonNeg', 'config': {}}}},
 'training': {'sgd': [[0.1292138, -0.1848009, -0.3846017, -0.2877321, 0.02372578, 0.275339, 0.3751712, 0.3724365,
                       0.2317458, -0.3324394, -0.4213624, -0.287339],
                      [0.03886859, 0.02149199, 0.2154814]],
              'adam': [[0.2053321, -0.03708782, -0.4291562, -0.2319336, 0.0998436, 0.2658449, 0.473993, 0.4641077,
                        0.3067215, -0.198434, -0.3592023, -0.1052294],
                       [0.1533435, 0.1409799, 0.0101389]]}}
# --- end of generated ---

"""Whole-model saving: get_config/from_config of every layer (and of losses, optimizers, metrics, initializers,
regularizers) round-trips through JSON; model.save / ad.models.load_model keep the architecture, the weights
and the compiled optimizer with its state, so that fit, save, load, fit ends where one uninterrupted fit does;
to_json / model_from_json; multi-input and multi-output functional models in fit/evaluate/predict; and loading
untrusted files and JSON: unknown names are never imported or evaluated, only ValueError comes out, and a
config cannot make the loader allocate much more than the file holds."""

import inspect
import json
import os
import struct

import pytest

import pyautodiff as ad
from pyautodiff import saving
from pyautodiff.layers.base import Layer

from conftest import rand


@saving.register_keras_serializable(package="test_saving")
def double(x):
    return ad.scale(2.0, x)


@saving.register_keras_serializable(package="test_saving")
class Scaled(ad.layers.Layer):
    """A custom layer: a trainable scalar times the input."""

    def __init__(self, start=1.0, **kwargs):
        super().__init__(**kwargs)
        self.start = start

    def build(self, input_shape):
        self.factor = self.add_weight("factor", (), ad.initializers.Constant(self.start))

    def call(self, inputs):
        return ad.multiply(inputs, self.factor)

    def get_config(self):
        return {**super().get_config(), "start": self.start}


@saving.register_keras_serializable(package="test_saving")
class TwoTower(ad.Model):
    """A subclassed model with get_config."""

    def __init__(self, units=3, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.left, self.right = ad.layers.Dense(units), ad.layers.Dense(units, activation="tanh")

    def call(self, inputs, training=False):
        return ad.add(self.left(inputs), self.right(inputs))

    def get_config(self):
        return {"name": self.name, "units": self.units}


# a value for each constructor parameter a layer requires (a new layer's required parameter goes here)
REQUIRED = {"units": 3, "activation": "relu", "rate": 0.25, "input_dim": 5, "output_dim": 3, "dims": (2, 1), "n": 2,
            "function": double, "axes": 1, "target_shape": (4,), "filters": 2, "kernel_size": 2}


def make(cls):
    params = inspect.signature(cls.__init__).parameters
    missing = [p for p, v in params.items() if p != "self" and v.default is inspect.Parameter.empty and
               v.kind not in (v.VAR_POSITIONAL, v.VAR_KEYWORD) and p not in REQUIRED]
    assert not missing, f"{cls.__name__}: add a value for {missing} to REQUIRED"
    return cls(**{p: REQUIRED[p] for p, v in params.items() if p in REQUIRED and v.default is inspect.Parameter.empty})


def constructor_args(cls) -> set:
    names = set()
    for klass in cls.__mro__:
        if "__init__" in vars(klass) and issubclass(klass, Layer):
            names |= {p for p, v in inspect.signature(klass.__init__).parameters.items()
                      if p != "self" and v.kind not in (v.VAR_POSITIONAL, v.VAR_KEYWORD)}
    return names - {"input_shape"}  # (Keras keeps it out of the config too: a model saves its build shape)


LAYERS = [getattr(ad.layers, n) for n in ad.layers.__all__ if n != "Layer"]


@pytest.mark.parametrize("cls", LAYERS + [Scaled], ids=lambda c: c.__name__)
def test_every_layer_config_holds_its_arguments_and_round_trips_through_json(cls):
    layer = make(cls)
    config = layer.get_config()
    assert constructor_args(cls) <= set(config), sorted(constructor_args(cls) - set(config))
    text = json.dumps(saving.serialize(layer))
    again = saving.deserialize(json.loads(text))
    assert type(again) is cls and json.dumps(saving.serialize(again)) == text
    assert json.dumps(saving.serialize(cls(**config))) == text  # Keras' contract: cls(**get_config()) rebuilds


def test_objects_of_every_kind_round_trip_by_name():
    objects = [ad.losses.Huber(delta=0.5, reduction="sum"), ad.losses.CategoricalCrossentropy(label_smoothing=0.1),
               ad.optimizers.Adam(0.01, amsgrad=True, clipnorm=1.0),
               ad.optimizers.SGD(ad.optimizers.schedules.ExponentialDecay(0.1, 10, 0.5), momentum=0.9),
               ad.metrics.AUC(num_thresholds=7, curve="PR"), ad.metrics.BinaryAccuracy(threshold=0.3),
               ad.metrics.TopKCategoricalAccuracy(k=2), ad.initializers.VarianceScaling(2.0, "fan_out", seed=4),
               ad.initializers.Orthogonal(gain=0.5), ad.regularizers.L1L2(0.1, 0.2)]
    for obj in objects:
        text = json.dumps(saving.serialize(obj))
        again = saving.deserialize(json.loads(text))
        assert type(again) is type(obj) and json.dumps(saving.serialize(again)) == text
    # the same class name in two modules: the module tells them apart
    assert type(saving.deserialize(saving.serialize(ad.metrics.MeanSquaredError()))) is ad.metrics.MeanSquaredError
    assert saving.deserialize(saving.serialize(double)) is double


def test_a_lambda_or_an_unregistered_class_is_named_and_refused_clearly():
    with pytest.raises(TypeError, match="a lambda cannot be saved"):
        saving.serialize(ad.layers.Dense(2, activation=lambda x: x))

    class Local(ad.layers.Layer):
        pass
    entry = saving.serialize(Local(name="local"))
    assert entry["module"] is None and entry["class_name"] == "Local"
    with pytest.raises(ValueError, match="unknown class 'Local'.*custom_objects"):
        saving.deserialize(entry)
    assert type(saving.deserialize(entry, {"Local": Local})) is Local
    with pytest.raises(ValueError, match="already registered"):
        saving.register_keras_serializable("test_saving", "double")(lambda x: x)


def blobs(n=48, seed=1):
    x = rand((n, 4), "float32", seed=seed)
    labels = ad.cast(ad.greater(ad.reduce_sum(x, -1), 0.0), "int32")
    return x, labels


def sequential():
    return ad.Sequential([ad.layers.Dense(8, input_shape=(4,), activation="relu",
                                          kernel_regularizer=ad.regularizers.L2(1e-3)),
                          ad.layers.BatchNormalization(), ad.layers.Dense(2)])


def same(a, b) -> bool:
    return all(x.tolist() == y.tolist() for x, y in zip(a.weights, b.weights)) and len(a.weights) == len(b.weights)


@pytest.mark.parametrize("optimizer", [
    lambda: ad.optimizers.Adam(0.01, amsgrad=True),
    lambda: ad.optimizers.SGD(0.05, momentum=0.9, nesterov=True),
    lambda: ad.optimizers.RMSprop(ad.optimizers.schedules.PiecewiseConstantDecay([3, 6], [0.01, 0.005, 0.001]),
                                  centered=True, momentum=0.5),
    lambda: ad.optimizers.Nadam(0.01, global_clipnorm=0.5),
    lambda: ad.optimizers.Adagrad(0.05),
], ids=["adam", "sgd", "rmsprop-schedule", "nadam-clipped", "adagrad"])
@pytest.mark.parametrize("run_eagerly", [False, True])
def test_fit_save_load_fit_ends_where_one_fit_does(tmp_path, optimizer, run_eagerly):
    x, y = blobs()
    loss = ad.losses.SparseCategoricalCrossentropy(from_logits=True)
    models = []
    for _ in range(2):
        m = sequential()
        m.compile(optimizer(), loss, metrics=["accuracy"], run_eagerly=run_eagerly)
        models.append(m)
    models[1].set_weights(models[0].get_weights())
    models[0].fit(x, y, epochs=2, batch_size=16, shuffle=False, verbose=0)
    models[1].fit(x, y, epochs=1, batch_size=16, shuffle=False, verbose=0)
    path = tmp_path / "model.safetensors"
    models[1].save(path)
    loaded = ad.models.load_model(path)
    assert type(loaded) is ad.Sequential and same(loaded, models[1])
    assert loaded.optimizer.iterations == 3 and loaded.optimizer.get_config() == models[1].optimizer.get_config()
    logs = loaded.fit(x, y, epochs=1, batch_size=16, shuffle=False, verbose=0).history
    assert same(loaded, models[0]) and set(logs) == {"loss", "accuracy"}


def test_every_optimizer_slot_is_restored(tmp_path):
    model = sequential()
    model.compile(ad.optimizers.Adam(0.01, use_ema=True, amsgrad=True), "sparse_categorical_crossentropy")
    model.fit(*blobs(), epochs=1, verbose=0)
    model.save(tmp_path / "ema.safetensors")
    loaded = ad.models.load_model(tmp_path / "ema.safetensors")
    for old, new in zip(model.trainable_variables, loaded.trainable_variables):
        for slot in ("m", "v", "vhat", "average"):
            assert loaded.optimizer.get_slot(new, slot).tolist() == model.optimizer.get_slot(old, slot).tolist()
    assert loaded.optimizer._block.tolist() == model.optimizer._block.tolist()


def test_load_model_restores_architecture_weights_and_predictions(tmp_path):
    model = sequential()
    x, y = blobs()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=1, verbose=0)
    path = tmp_path / "m.safetensors"
    model.save(path)
    loaded = ad.models.load_model(path, compile=False)
    assert loaded.optimizer is None and loaded.get_config() == model.get_config()
    assert loaded.predict(x).tolist() == model.predict(x).tolist()
    assert ad.models.model_from_json(model.to_json()).get_config() == model.get_config()
    rebuilt = ad.models.model_from_json(model.to_json())
    assert [w.shape for w in rebuilt.weights] == [w.shape for w in model.weights] and not same(rebuilt, model)
    with pytest.raises(ValueError, match="metadata holds no model"):
        model.save_weights(tmp_path / "w.safetensors")
        ad.models.load_model(tmp_path / "w.safetensors")
    with pytest.raises(ValueError, match="safetensors format"):
        model.save(tmp_path / "m.keras")


def test_functional_model_of_two_inputs_and_outputs_saves_and_trains_per_output(tmp_path):
    a, b = ad.Input((3,), name="a"), ad.Input((2,), name="b")
    h = ad.layers.Dense(6, activation=double, name="hidden")(ad.layers.Concatenate()([a, b]))
    reg, cls = ad.layers.Dense(1, name="reg")(h), ad.layers.Dense(3, activation="softmax", name="cls")(Scaled()(h))
    model = ad.Model({"a": a, "b": b}, {"reg": reg, "cls": cls})
    model.compile(ad.optimizers.Adam(0.01), loss={"reg": "mse", "cls": "sparse_categorical_crossentropy"},
                  loss_weights={"reg": 0.5}, metrics={"cls": ["accuracy"], "reg": ["mae"]})
    xa, xb, yr = rand((20, 3), "float32", seed=2), rand((20, 2), "float32", seed=3), rand((20, 1), "float32", seed=4)
    yc = ad.reshape(ad.cast(ad.greater(xa[:, 0:1], 0.0), "int32"), (20,))
    history = model.fit({"a": xa, "b": xb}, {"reg": yr, "cls": yc}, epochs=2, batch_size=8, verbose=0,
                        validation_split=0.25).history
    assert set(history) == {"loss", "reg_loss", "cls_loss", "reg_mean_absolute_error", "cls_accuracy", "val_loss",
                            "val_reg_loss", "val_cls_loss", "val_reg_mean_absolute_error", "val_cls_accuracy"}
    logs = model.evaluate({"a": xa, "b": xb}, {"reg": yr, "cls": yc})
    pred = model.predict({"a": xa, "b": xb}, batch_size=8)
    mse = sum((p - t) ** 2 for p, t in zip(ad.reshape(pred["reg"], (-1,)).tolist(), ad.reshape(yr, (-1,)).tolist()))
    cce = ad.losses.SparseCategoricalCrossentropy()(yc, pred["cls"]).item()
    assert logs["reg_loss"] == pytest.approx(mse / 20, rel=1e-5) and logs["cls_loss"] == pytest.approx(cce, rel=1e-5)
    assert logs["loss"] == pytest.approx(0.5 * logs["reg_loss"] + logs["cls_loss"] + sum(
        t.item() for t in model.losses), rel=1e-5)
    path = tmp_path / "f.safetensors"
    model.save(path)
    loaded = ad.models.load_model(path)
    assert loaded.evaluate({"a": xa, "b": xb}, {"reg": yr, "cls": yc}) == logs
    for m in (model, loaded):
        m.fit({"a": xa, "b": xb}, {"reg": yr, "cls": yc}, epochs=1, batch_size=8, shuffle=False, verbose=0)
    assert same(model, loaded)
    assert model.train_on_batch({"a": xa, "b": xb}, {"reg": yr, "cls": yc}, return_dict=True).keys() == logs.keys()


def test_list_forms_of_inputs_targets_and_losses():
    a, b = ad.Input((3,)), ad.Input((3,))
    o1, o2 = ad.layers.Dense(2)(ad.layers.Add()([a, b])), ad.layers.Dense(1)(a)
    model = ad.Model([a, b], [o1, o2])
    model.compile("sgd", ["mse", "mae"], loss_weights=[2.0, 0.0], metrics=[["mse"], []])
    x1, x2, y1, y2 = (rand(s, "float32", seed=k) for k, s in enumerate([(8, 3), (8, 3), (8, 2), (8, 1)]))
    logs = model.evaluate([x1, x2], [y1, y2])
    names = model.output_names
    assert logs["loss"] == pytest.approx(2.0 * logs[f"{names[0]}_loss"], rel=1e-6)
    assert logs[f"{names[0]}_mean_squared_error"] == pytest.approx(logs[f"{names[0]}_loss"], rel=1e-6)
    for bad, match in ((dict(loss={"nope": "mse"}), "unknown outputs"), (dict(loss=["mse"]), "1 entries for 2"),):
        with pytest.raises(ValueError, match=match):
            model.compile("sgd", **bad)
    with pytest.raises(ValueError, match="several outputs"):
        sequential().compile("sgd", ["mse"])


def test_subclassed_models_save_with_get_config_and_registration(tmp_path):
    model = TwoTower(units=2, name="towers")
    model.compile("adam", "mse")
    x, y = rand((6, 3), "float32", seed=7), rand((6, 2), "float32", seed=8)
    model.fit(x, y, epochs=1, verbose=0)
    path = tmp_path / "t.safetensors"
    model.save(path)
    loaded = ad.models.load_model(path)
    assert type(loaded) is TwoTower and loaded.units == 2 and same(loaded, model)
    assert loaded.predict(x).tolist() == model.predict(x).tolist()

    class Plain(ad.Model):
        def __init__(self):
            super().__init__()
            self.d = ad.layers.Dense(1)

        def call(self, inputs):
            return self.d(inputs)
    plain = Plain()
    plain(x)
    with pytest.raises(NotImplementedError, match="get_config"):
        plain.save(tmp_path / "p.safetensors")


# --- untrusted input --------------------------------------------------------------------------------------

def document(**config):
    return json.dumps({"module": "models", "class_name": "Sequential", "config": {
        "name": "s", "layers": [{"module": "layers", "class_name": "Dense", "config": {"units": 2, **config}}],
        "build_input_shape": [None, 3]}})


@pytest.mark.parametrize("text, match", [
    ("{", "not JSON"),
    ("[]", "class_name and config"),
    ("[" * 5000 + "]" * 5000, "nests deeper"),
    ('{"module": "models", "class_name": "Sequential", "config": {}, "config": {}}', "duplicate key"),
    (json.dumps({"module": None, "class_name": "os.system", "config": {}}), "unknown class 'os.system'"),
    (json.dumps({"module": "builtins", "class_name": "eval", "config": {}}), "unknown class 'eval'"),
    (json.dumps({"module": "layers", "class_name": "__class__", "config": {}}), "unknown class"),
    (json.dumps({"module": None, "class_name": "function", "config": "print"}), "unknown function 'print'"),
    (json.dumps({"module": "optimizers", "class_name": "Adam", "config": {}}), "not a model class"),
    (document(units=-3), "units must be a positive int"),
    (document(bogus=1), "unexpected keyword argument 'bogus'"),
    (document(units=2 ** 40), "exceed the"),
    (document(kernel_initializer={"module": "initializers", "class_name": "Tensor", "config": {}}), "unknown class"),
    (document(activation={"module": None, "class_name": "function", "config": "__import__"}), "unknown function"),
])
def test_model_from_json_refuses_hostile_text_with_a_value_error(text, match):
    with pytest.raises(ValueError, match=match) as info:
        ad.models.model_from_json(text)
    assert type(info.value) is ValueError and "model_from_json" in str(info.value)


def test_a_subclassed_model_build_shape_is_capped_too():
    text = json.dumps({"module": None, "class_name": "test_saving>TwoTower", "config": {"units": 2},
                       "build_config": {"input_shape": [None, 2 ** 40]}})
    with pytest.raises(ValueError, match="exceed"):
        ad.models.model_from_json(text)
    text = json.dumps({"module": None, "class_name": "test_saving>TwoTower", "config": {"units": 2},
                       "build_config": {"input_shape": [None, -1]}})
    with pytest.raises(ValueError, match="input shape"):
        ad.models.model_from_json(text)


def _rewrite(path, edit) -> None:
    """Rewrite a model file with edit(metadata document) applied to its JSON."""
    blob = path.read_bytes()
    size = struct.unpack("<Q", blob[:8])[0]
    header = json.loads(blob[8:8 + size])
    header["__metadata__"]["pyautodiff_model"] = edit(json.loads(header["__metadata__"]["pyautodiff_model"]))
    text = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(text)) + text + blob[8 + size:])


@pytest.mark.parametrize("edit, match", [
    (lambda d: "[" * 300 + "]" * 300, "the model's JSON nests deeper"),
    (lambda d: "{]", "the model's JSON is not JSON"),
    (lambda d: json.dumps({**d, "optimizer_slots": {"layers.0.kernel": ["m", "rm -rf"]}}), "not slots of Adam"),
    (lambda d: json.dumps({**d, "optimizer_slots": {"nowhere": ["m"]}}), "not a weight of the model"),
    (lambda d: json.dumps({**d, "compile_config": {**d["compile_config"], "loss": {
        "module": "losses", "class_name": "Nope", "config": {}}}}), "compile_config.*unknown class 'Nope'"),
    (lambda d: json.dumps({**d, "config": {**d["config"], "layers": d["config"]["layers"][:1]}}), "not a weight of the model"),
    (lambda d: json.dumps({**d, "config": {**d["config"], "build_input_shape": [None, 5]}}), "has shape"),
    (lambda d: 5, "metadata holds no model"),
])
def test_load_model_refuses_edited_files_and_names_them(tmp_path, edit, match):
    model = sequential()
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(*blobs(8), verbose=0)
    path = tmp_path / "hostile.safetensors"
    model.save(path)
    _rewrite(path, edit)
    with pytest.raises(ValueError, match=match) as info:
        ad.models.load_model(path)
    assert type(info.value) is ValueError and os.fspath(path) in str(info.value)


def test_mutated_model_files_load_exactly_or_fail_cleanly(tmp_path):
    """Byte flips anywhere in a model file (header, model JSON, data): a ValueError, or a model whose every
    weight is the file's."""
    model = sequential()
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(*blobs(8), verbose=0)
    path = tmp_path / "m.safetensors"
    model.save(path)
    blob = path.read_bytes()
    hostile = tmp_path / "mutated.safetensors"
    for k in range(0, len(blob), max(1, len(blob) // 300)):
        hostile.write_bytes(blob[:k] + bytes([blob[k] ^ (1 + k % 255)]) + blob[k + 1:])
        try:
            loaded = ad.models.load_model(hostile)
        except ValueError:
            continue
        assert len(loaded.weights) == len(model.weights)

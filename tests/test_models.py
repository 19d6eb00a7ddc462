"""Models: the seed's example 2, compile/fit/evaluate/predict, tracking, summary, weights lists."""

import os
import runpy

import pytest

import pyautodiff as ad

EXAMPLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples")


def _blobs(n, seed):
    noise = ad.initializers.RandomNormal(stddev=1.0, seed=seed)((2 * n, 2))
    centers = ad.concat([ad.full((n, 2), -1.5), ad.full((n, 2), 1.5)], 0)
    return noise + centers, ad.concat([ad.zeros((n,), "int32"), ad.ones((n,), "int32")], 0)


def test_seed_example_2_classifies_all_six_points(capsys):
    scope = runpy.run_path(os.path.join(EXAMPLES, "train_with_tape.py"), run_name="seed_example")
    out = capsys.readouterr().out
    assert "classified 6 of 6 points correctly" in out
    history = scope["history"]
    assert len(history) == 100 and history[-1] < history[0] / 3


def test_fit_on_two_blobs_reaches_95_percent():
    x, y = _blobs(100, seed=1)
    model = ad.Sequential([ad.layers.Dense(16, activation="relu", input_shape=(2,)), ad.layers.Dense(2)])
    model.compile(optimizer=ad.optimizers.Adam(0.01),
                  loss=ad.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    events = []

    class Recorder:
        def on_batch_end(self, batch, logs):
            events.append(("batch", batch))

        def on_epoch_end(self, epoch, logs):
            events.append(("epoch", epoch, sorted(logs)))

    vx, vy = _blobs(50, seed=2)
    history = model.fit(x, y, epochs=8, batch_size=32, validation_data=(vx, vy), verbose=0, callbacks=[Recorder()],
                        seed=0)
    assert sorted(history.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert len(history.history["loss"]) == 8 and history.history["loss"][-1] < history.history["loss"][0]
    assert history.history["accuracy"][-1] >= 0.95 and history.history["val_accuracy"][-1] >= 0.95
    assert events.count(("batch", 0)) == 8 and events[-1] == ("epoch", 7, sorted(history.history))
    result = model.evaluate(vx, vy, batch_size=64)
    assert set(result) == {"loss", "accuracy"} and result["accuracy"] >= 0.95
    predictions = model.predict(vx, batch_size=32)
    assert predictions.shape == (100, 2)


def test_fit_with_binary_and_mse_losses():
    x, y = _blobs(50, seed=3)
    labels = ad.reshape(ad.cast(y, "float32"), (100, 1))
    model = ad.Sequential([ad.layers.Dense(8, activation="tanh"), ad.layers.Dense(1)])
    model.compile("adam", ad.losses.BinaryCrossentropy(from_logits=True), metrics=["accuracy"])
    model.optimizer.learning_rate = 0.05
    hist = model.fit(x, labels, epochs=5, batch_size=25, verbose=0, seed=1)
    assert hist.history["accuracy"][-1] >= 0.9
    model.compile(ad.optimizers.SGD(0.05, momentum=0.9), "mse", metrics=["mse"])
    hist = model.fit(x, labels, epochs=3, batch_size=25, verbose=0, seed=1)
    assert set(hist.history) == {"loss", "mean_squared_error"}


def test_subclassed_model_tracks_attributes_lists_and_nested_models():
    class Inner(ad.Model):
        def __init__(self):
            super().__init__()
            self.dense = ad.layers.Dense(3)

        def call(self, x, training=False):
            return self.dense(x)

    class Outer(ad.Model):
        def __init__(self):
            super().__init__()
            self.inner = Inner()
            self.heads = [ad.layers.Dense(2), ad.layers.Dense(2)]
            self.norm = ad.layers.BatchNormalization()

        def call(self, x, training=False):
            h = self.norm(self.inner(x), training=training)
            return self.heads[0](h) + self.heads[1](h)

    model = Outer()
    assert model.trainable_variables == []  # built lazily on the first call
    out = model(ad.ones((4, 5)), training=True)
    assert out.shape == (4, 2)
    paths = [p for p, _, _ in model._walk()]
    assert paths == ["inner.dense.kernel", "inner.dense.bias", "heads.0.kernel", "heads.0.bias", "heads.1.kernel",
                     "heads.1.bias", "norm.gamma", "norm.beta", "norm.moving_mean", "norm.moving_variance"]
    assert len(model.trainable_variables) == 8 and len(model.variables) == 10
    assert model.layers == [model.inner, model.heads[0], model.heads[1], model.norm]


def test_summary_counts_parameters():
    model = ad.Sequential([ad.layers.Dense(128, input_shape=(2,), activation="sigmoid"), ad.layers.Dense(2),
                           ad.layers.BatchNormalization()], name="seedlike")
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert 'Model: "seedlike"' in text
    assert "(None, 128)" in text and "384" in text and "258" in text
    assert "Total params: 650" in text and "Trainable params: 646" in text and "Non-trainable params: 4" in text


def test_model_build_creates_weights():
    class Net(ad.Model):
        def __init__(self):
            super().__init__()
            self.dense = ad.layers.Dense(4)

        def call(self, x, training=False):
            return self.dense(x)

    net = Net()
    net.build((None, 3))
    assert net.built and net.count_params() == 16


def test_get_and_set_weights():
    model = ad.Sequential([ad.layers.Dense(2, input_shape=(3,))])
    weights = model.get_weights()
    assert [w.shape for w in weights] == [(3, 2), (2,)]
    model.set_weights([ad.ones((3, 2)), [1.0, 2.0]])
    assert model.layers[0].bias.tolist() == [1.0, 2.0]
    with pytest.raises(ValueError, match=r"set_weights: weight '.*/kernel' has shape \(3, 2\), got \(2, 3\)"):
        model.set_weights([ad.zeros((2, 3)), [0.0, 0.0]])
    assert model.layers[0].bias.tolist() == [1.0, 2.0]  # a failed set leaves everything unchanged
    with pytest.raises(ValueError, match="expected 2 arrays, got 1"):
        model.set_weights([ad.zeros((3, 2))])


def test_bad_usage_is_reported():
    model = ad.Sequential([ad.layers.Dense(2, input_shape=(3,))], name="net")
    with pytest.raises(RuntimeError, match=r"net.fit: call compile"):
        model.fit(ad.zeros((4, 3)), ad.array([0, 1, 0, 1]))
    model.compile("sgd", "sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match=r"net.fit: .*inputs of shape \(4, 3\) and tests of shape \(3,\)"):
        model.fit(ad.zeros((4, 3)), ad.array([0, 1, 0]), verbose=0)
    with pytest.raises(ValueError, match=r"Dense '.*': expected inputs with last dimension 3, got shape \(4, 5\)"):
        model.predict(ad.zeros((4, 5)))
    with pytest.raises(ValueError, match="unknown metric"):
        model.compile("sgd", "mse", metrics=["precision-ish"])
        model.fit(ad.zeros((4, 3)), ad.zeros((4, 2)), verbose=0)


def test_fit_prints_one_line_per_epoch(capsys):
    x, y = _blobs(10, seed=4)
    model = ad.Sequential([ad.layers.Dense(2)])
    model.compile("adam", ad.losses.SparseCategoricalCrossentropy(from_logits=True), ["accuracy"])
    model.fit(x, y, epochs=2, batch_size=8, verbose=1)
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 2 and out[0].startswith("Epoch 1/2 3/3 [") and " - loss: " in out[0] and "accuracy" in out[0]


def test_fit_runs_its_step_as_a_function_with_the_eager_results():
    def train(run_eagerly):
        model = ad.Sequential([ad.layers.Dense(8, activation="tanh", input_shape=(2,),
                                               kernel_initializer=ad.initializers.GlorotUniform(seed=3)),
                               ad.layers.Dense(2, kernel_initializer=ad.initializers.GlorotUniform(seed=4))])
        model.compile(optimizer=ad.optimizers.Adam(0.01),
                      loss=ad.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"],
                      run_eagerly=run_eagerly)
        x = ad.array([[1, 3], [1, 4], [2, 4], [3, 1], [4, 1], [4, 2], [0, 5]], dtype="float32")
        y = ad.array([0, 0, 0, 1, 1, 1, 0])
        history = model.fit(x, y, epochs=5, batch_size=3, shuffle=False, verbose=0)
        return model, history.history["loss"]
    graph_model, graph_loss = train(False)
    eager_model, eager_loss = train(True)
    assert graph_model._train_function is not None and graph_model._train_function.trace_count == 2  # 3 and 1
    for a, b in zip(graph_loss, eager_loss):
        assert abs(a - b) <= 1e-6 * max(1.0, abs(b))
    for a, b in zip(graph_model.get_weights(), eager_model.get_weights()):
        assert ad.reduce_max(ad.abs(ad.array(a) - ad.array(b))).item() <= 1e-5

"""ad.callbacks: hooks called at Keras' moments with Keras' logs, and EarlyStopping / ReduceLROnPlateau deciding
epoch by epoch exactly as Keras 3.15 does on the same loss sequence (numbers recorded from Keras itself, numpy
backend, driving the callbacks with these logs)."""

import math

import pytest

import pyautodiff as ad

SEQ = [1.0, 0.9, 0.95, 0.85, 0.86, 0.87, 0.849, 0.84, 0.9, 0.91, 0.92, 0.93, 0.5, 0.6, 0.7, 0.8]

# keyword arguments -> (epoch at which Keras stopped, its best_epoch, best, wait)
KERAS_EARLY_STOPPING = [
    ({}, (2, 1, 0.9, 1)),
    ({"patience": 2}, (5, 3, 0.85, 2)),
    ({"patience": 2, "min_delta": 0.02}, (5, 3, 0.85, 2)),
    ({"patience": 3, "baseline": 0.8}, (2, 1, 0.9, 3)),
    ({"patience": 2, "start_from_epoch": 4}, (9, 7, 0.84, 2)),
    ({"patience": 3, "mode": "max"}, (3, 0, 1.0, 3)),
    ({"patience": 1, "baseline": 0.95}, (2, 1, 0.9, 1)),
]
# keyword arguments -> Keras' learning rate after each epoch's on_epoch_end (from 1.0; Keras keeps it in float32)
KERAS_REDUCE_LR = [
    ({"patience": 1}, [1.0, 1.0, 0.1, 0.1, 0.01, 1e-3, 1e-3, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-7, 1e-8, 1e-9, 1e-10]),
    ({"patience": 2, "factor": 0.5, "cooldown": 2},
     [1.0, 1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.25, 0.25, 0.125, 0.125]),
    ({"patience": 1, "factor": 0.5, "min_lr": 0.2}, [1.0, 1.0, 0.5, 0.5, 0.25] + [0.2] * 11),
    ({"patience": 2, "factor": 0.5, "min_delta": 0.02},
     [1.0, 1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.25, 0.25, 0.125, 0.125, 0.0625, 0.0625, 0.0625, 0.03125, 0.03125]),
    ({"patience": 0, "factor": 0.5, "cooldown": 1, "mode": "max"}, [0.5 ** k for k in range(16)]),
]


def _model(lr=1.0):
    model = ad.Sequential([ad.layers.Dense(1, input_shape=(2,))])
    model.compile(ad.optimizers.SGD(lr), "mse")
    return model


@pytest.mark.parametrize("kwargs,expected", KERAS_EARLY_STOPPING)
def test_early_stopping_decides_as_keras(kwargs, expected):
    model = _model()
    cb = ad.callbacks.EarlyStopping(monitor="loss", **kwargs)
    cb.set_model(model)
    cb.on_train_begin({})
    stopped = None
    for epoch, value in enumerate(SEQ):
        cb.on_epoch_end(epoch, {"loss": value})
        if model.stop_training:
            stopped = epoch
            break
    assert (stopped, cb.best_epoch, cb.best, cb.wait) == expected


@pytest.mark.parametrize("kwargs,expected", KERAS_REDUCE_LR)
def test_reduce_lr_on_plateau_decides_as_keras(kwargs, expected):
    model = _model()
    cb = ad.callbacks.ReduceLROnPlateau(monitor="loss", **kwargs)
    cb.set_model(model)
    cb.on_train_begin({})
    rates = []
    for epoch, value in enumerate(SEQ):
        logs = {"loss": value}
        cb.on_epoch_end(epoch, logs)
        assert logs["learning_rate"] == pytest.approx(rates[-1] if rates else 1.0, rel=1e-6)  # before the change
        rates.append(model.optimizer.learning_rate)
    assert rates == pytest.approx(expected, rel=1e-6)


class Recorder(ad.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.events = []
        for hook in ad.callbacks._HOOKS:
            setattr(self, hook, self._recorder(hook))

    def _recorder(self, hook):
        def record(*args):
            self.events.append((hook,) + tuple(dict(a) if isinstance(a, dict) else a for a in args))
        return record


def _data(n=12):
    x = ad.reshape(ad.array([float(i) / n for i in range(2 * n)]), (n, 2))
    return x, ad.reduce_sum(x, 1, keepdims=True)


def test_every_hook_is_called_in_keras_order_with_keras_logs():
    model = _model(0.1)
    x, y = _data()
    rec = Recorder()
    model.fit(x, y, epochs=2, batch_size=6, validation_data=(x, y), verbose=0, callbacks=[rec], shuffle=False)
    names = [e[0] for e in rec.events]
    epoch = (["on_epoch_begin"] + ["on_train_batch_begin", "on_train_batch_end"] * 2 + ["on_test_begin"]
             + ["on_test_batch_begin", "on_test_batch_end"] * 2 + ["on_test_end", "on_epoch_end"])
    assert names == ["on_train_begin"] + epoch * 2 + ["on_train_end"]
    assert rec.model is model and rec.params == {"verbose": 0, "epochs": 2, "steps": 2}
    batch_end = [e for e in rec.events if e[0] == "on_train_batch_end"]
    assert [e[1] for e in batch_end] == [0, 1, 0, 1] and set(batch_end[0][2]) == {"loss"}
    epoch_end = [e for e in rec.events if e[0] == "on_epoch_end"]
    assert [e[1] for e in epoch_end] == [0, 1] and set(epoch_end[0][2]) == {"loss", "val_loss"}
    assert rec.events[-1][1] == epoch_end[-1][2]  # on_train_end gets the last epoch's logs
    assert model.history.history["loss"] == [e[2]["loss"] for e in epoch_end]
    rec.events.clear()
    model.evaluate(x, y, batch_size=12, callbacks=[rec])
    assert [e[0] for e in rec.events] == ["on_test_begin", "on_test_batch_begin", "on_test_batch_end", "on_test_end"]
    rec.events.clear()
    out = model.predict(x, batch_size=5, callbacks=[rec])
    names = [e[0] for e in rec.events]
    assert names == ["on_predict_begin"] + ["on_predict_batch_begin", "on_predict_batch_end"] * 3 + ["on_predict_end"]
    assert rec.events[2][2]["outputs"].shape == (5, 1) and out.shape == (12, 1)


def test_callbacks_keep_the_traced_step():
    model = _model(0.05)
    x, y = _data()
    cbs = [ad.callbacks.ReduceLROnPlateau(monitor="loss", patience=0, factor=0.5, min_delta=10.0),
           ad.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: None), ad.callbacks.TerminateOnNaN()]
    history = model.fit(x, y, epochs=4, batch_size=4, verbose=0, callbacks=cbs)
    assert model._train_function.trace_count == 1  # no retrace although the rate changed every epoch
    # the first epoch sets the best; each later one misses it by min_delta: halved (logs show the rate it ran at)
    assert history.history["learning_rate"] == pytest.approx([0.05, 0.05, 0.025, 0.0125])
    assert model.optimizer.learning_rate == pytest.approx(0.00625)


def test_early_stopping_in_fit_restores_the_best_weights():
    model = _model(0.1)
    x, y = _data()
    seen = []

    class Losses(ad.callbacks.Callback):  # the monitored values fit sees: worsening from epoch 1 on
        def on_epoch_end(self, epoch, logs=None):
            logs["score"] = [3.0, 1.0, 2.0, 2.5, 0.5][epoch]
            seen.append([w.tolist() for w in self.model.get_weights()])

    stop = ad.callbacks.EarlyStopping(monitor="score", mode="min", patience=2, restore_best_weights=True)
    history = model.fit(x, y, epochs=5, batch_size=4, verbose=0, callbacks=[Losses(), stop])
    assert history.epoch == [0, 1, 2, 3] and stop.stopped_epoch == 3 and stop.best_epoch == 1
    assert [w.tolist() for w in model.get_weights()] == seen[1]


def test_early_stopping_auto_mode_and_bad_arguments():
    model = _model()
    model.compile("sgd", "mse", metrics=["accuracy"])
    for monitor, maximize in (("val_loss", False), ("accuracy", True), ("val_mse", False)):
        cb = ad.callbacks.EarlyStopping(monitor=monitor)
        cb.set_model(model)
        assert cb.maximize is maximize
    cb = ad.callbacks.EarlyStopping(monitor="f1ish")
    cb.set_model(model)
    with pytest.raises(ValueError, match="pass mode='max' or mode='min'"):
        cb.on_epoch_end(0, {"f1ish": 1.0})
    with pytest.raises(ValueError, match="mode must be"):
        ad.callbacks.EarlyStopping(mode="up")
    with pytest.raises(ValueError, match="factor must be in"):
        ad.callbacks.ReduceLROnPlateau(factor=1.0)
    with pytest.warns(UserWarning, match="'val_loss', which is not in the logs; available: loss"):
        ad.callbacks.EarlyStopping().on_epoch_end(0, {"loss": 1.0})


def test_learning_rate_scheduler_and_its_errors():
    model = _model(0.5)
    x, y = _data()
    history = model.fit(x, y, epochs=3, verbose=0, callbacks=[
        ad.callbacks.LearningRateScheduler(lambda epoch, lr: lr * 0.1 if epoch else lr)])
    assert history.history["learning_rate"] == pytest.approx([0.5, 0.05, 0.005])
    model.fit(x, y, epochs=2, verbose=0, callbacks=[ad.callbacks.LearningRateScheduler(lambda epoch: 0.25)])
    assert model.optimizer.learning_rate == 0.25
    with pytest.raises(ValueError, match="learning_rate must be >= 0, got -1.0"):
        model.fit(x, y, verbose=0, callbacks=[ad.callbacks.LearningRateScheduler(lambda epoch, lr: -1.0)])
    with pytest.raises(ValueError, match="must return a float, got 'x'"):
        model.fit(x, y, verbose=0, callbacks=[ad.callbacks.LearningRateScheduler(lambda epoch, lr: "x")])


def test_model_checkpoint_formats_paths_and_saves_the_best(tmp_path):
    model = _model(0.1)
    x, y = _data()
    scores = iter([2.0, 1.0, 1.5, 0.5])
    score = ad.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: logs.update(score=next(scores)))
    every = ad.callbacks.ModelCheckpoint(str(tmp_path / "all" / "w{epoch:02d}-{loss:.2f}.safetensors"),
                                         monitor="score", mode="min")
    best = ad.callbacks.ModelCheckpoint(tmp_path / "best-{epoch}.safetensors", monitor="score", mode="min",
                                        save_best_only=True)
    model.fit(x, y, epochs=4, batch_size=4, verbose=0, callbacks=[score, every, best])
    assert len(list((tmp_path / "all").iterdir())) == 4
    assert sorted(p.name for p in tmp_path.glob("best-*")) == ["best-1.safetensors", "best-2.safetensors",
                                                              "best-4.safetensors"]
    weights = [w.tolist() for w in model.get_weights()]
    other = _model()
    other.load_weights(tmp_path / "best-4.safetensors")
    assert [w.tolist() for w in other.get_weights()] == weights
    whole = ad.callbacks.ModelCheckpoint(str(tmp_path / "whole.safetensors"), save_weights_only=False)
    model.fit(x, y, epochs=1, batch_size=4, verbose=0, callbacks=[whole])
    assert [w.tolist() for w in ad.models.load_model(tmp_path / "whole.safetensors").get_weights()] == \
        [w.tolist() for w in model.get_weights()]
    with pytest.raises(KeyError, match="missing 'val_acc'"):
        model.fit(x, y, verbose=0, callbacks=[ad.callbacks.ModelCheckpoint(str(tmp_path / "{val_acc}"))])


def test_csv_logger_writes_and_appends(tmp_path):
    model = _model(0.1)
    x, y = _data()
    path = tmp_path / "log.csv"
    history = model.fit(x, y, epochs=2, verbose=0, callbacks=[ad.callbacks.CSVLogger(path)])
    lines = path.read_text().splitlines()
    assert lines[0] == "epoch,loss,val_loss" and len(lines) == 3
    assert lines[1] == f"0,{history.history['loss'][0]},NA"
    model.fit(x, y, epochs=1, verbose=0, callbacks=[ad.callbacks.CSVLogger(path, separator=";", append=True)])
    lines = path.read_text().splitlines()
    assert len(lines) == 4 and lines[3].startswith("0;") and lines[3].endswith(";NA")


def test_terminate_on_nan_stops_or_raises():
    model = _model(1e30)  # the loss overflows to inf then NaN within a few batches
    x, y = _data()
    y = ad.scale(1e20, y)
    history = model.fit(x, y, epochs=3, batch_size=2, verbose=0, callbacks=[ad.callbacks.TerminateOnNaN()])
    assert len(history.epoch) == 1 and not math.isfinite(history.history["loss"][0])
    model = _model(1e30)
    with pytest.raises(RuntimeError, match="TerminateOnNaN: loss .* at batch"):
        model.fit(x, y, epochs=3, batch_size=2, verbose=0, callbacks=[ad.callbacks.TerminateOnNaN(raise_error=True)])


def test_lambda_callback_and_stop_training_within_an_epoch():
    model = _model(0.1)
    x, y = _data()
    batches = []

    def on_batch(batch, logs):
        batches.append(batch)
        if batch == 1:
            model.stop_training = True
    history = model.fit(x, y, epochs=3, batch_size=2, verbose=0,
                        callbacks=[ad.callbacks.LambdaCallback(on_train_batch_end=on_batch)])
    assert batches == [0, 1] and history.epoch == [0]
    with pytest.raises(TypeError, match="unknown hook 'on_epoch_ending'"):
        ad.callbacks.LambdaCallback(on_epoch_ending=print)

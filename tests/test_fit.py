"""fit, evaluate and predict on datasets and iterables of batches; validation_split, sample_weight (Keras 3's
reduction, numbers recorded from Keras 3.15 itself), class_weight, initial_epoch, steps_per_epoch; the one-batch
methods with Keras' return conventions."""

import pytest

import pyautodiff as ad


def _data(n=12, seed=0):
    x = ad.initializers.RandomNormal(seed=seed)((n, 2))
    return x, ad.reduce_sum(x, 1, keepdims=True)


def _model(lr=0.1, metrics=None, loss="mse"):
    model = ad.Sequential([ad.layers.Dense(1, input_shape=(2,),
                                           kernel_initializer=ad.initializers.GlorotUniform(seed=1))])
    model.compile(ad.optimizers.SGD(lr), loss, metrics=metrics)
    return model


def _weights(model):
    return [w.tolist() for w in model.get_weights()]


def test_fit_on_arrays_a_dataset_a_list_of_batches_and_a_generator_is_the_same_training():
    x, y = _data()
    reference = _model()
    ref_history = reference.fit(x, y, epochs=3, batch_size=4, shuffle=False, verbose=0)
    batches = [(x[i:i + 4], y[i:i + 4]) for i in range(0, 12, 4)]
    sources = {"dataset": ad.data.NDArrayDataset(x, y, batch_size=4, shuffle=False), "list": batches,
               "tuple": tuple(batches)}
    for name, source in sources.items():
        model = _model()
        history = model.fit(source, epochs=3, verbose=0)
        assert history.history["loss"] == ref_history.history["loss"], name
        assert _weights(model) == _weights(reference), name
    model = _model()
    history = model.fit((b for _ in range(3) for b in batches), epochs=3, steps_per_epoch=3, verbose=0)
    assert history.history["loss"] == ref_history.history["loss"] and _weights(model) == _weights(reference)
    assert model._train_function.trace_count == 1


def test_a_one_shot_generator_without_steps_runs_out_after_one_epoch():
    x, y = _data()
    model = _model()
    with pytest.warns(UserWarning, match="ran out of data at epoch 2"):
        history = model.fit(((x[i:i + 6], y[i:i + 6]) for i in (0, 6)), epochs=3, verbose=0)
    assert history.epoch == [0]
    with pytest.warns(UserWarning, match="ran out of data at epoch 2"):
        history = _model().fit(((x[i:i + 6], y[i:i + 6]) for i in (0, 6)), epochs=3, steps_per_epoch=2, verbose=0)
    assert history.epoch == [0]
    # a re-iterable source with steps_per_epoch continues where the last epoch stopped, starting over at its end
    seen = []
    model = _model()
    batches = [(x[i:i + 4], y[i:i + 4]) for i in range(0, 12, 4)]
    model.fit(batches, epochs=2, steps_per_epoch=2, verbose=0,
              callbacks=[ad.callbacks.LambdaCallback(on_train_batch_begin=lambda b, logs: seen.append(b))])
    assert seen == [0, 1, 0, 1]


def test_validation_data_as_arrays_a_dataset_or_batches_and_validation_split():
    x, y = _data(10)
    model = _model()
    vx, vy = x[8:], y[8:]
    ds = ad.data.NDArrayDataset(vx, vy, batch_size=1, shuffle=False)
    for val in ((vx, vy), ds, [(vx[:1], vy[:1]), (vx[1:], vy[1:])], (vx, vy, ad.ones((2,)))):
        history = model.fit(x[:8], y[:8], epochs=1, verbose=0, validation_data=val)
        assert history.history["val_loss"][0] == pytest.approx(model.evaluate(vx, vy)["loss"], rel=1e-6)
    # validation_split: the last 20% (the last 2 of 10 samples, taken before shuffling) validate; the rest trains
    split, apart = _model(), _model()
    history = split.fit(x, y, epochs=2, batch_size=4, validation_split=0.2, seed=3, verbose=0)
    apart_history = apart.fit(x[:8], y[:8], epochs=2, batch_size=4, validation_data=(vx, vy), seed=3, verbose=0)
    assert history.history == apart_history.history and _weights(split) == _weights(apart)
    with pytest.raises(ValueError, match="validation_split needs arrays x and y"):
        model.fit(ds, validation_split=0.5, verbose=0)
    with pytest.raises(ValueError, match="validation_split=0.95 of 10 samples leaves no training sample"):
        model.fit(x, y, validation_split=0.95, verbose=0)
    with pytest.raises(ValueError, match=r"validation_split must be a fraction in \(0, 1\), got 1.5"):
        model.fit(x, y, validation_split=1.5, verbose=0)
    with pytest.raises(ValueError, match="validation_data must be"):
        model.fit(x, y, validation_data=(vx,), verbose=0)


def test_sample_weight_reduces_as_keras():
    y = ad.array([[1.0, 2.0], [3.0, 4.0], [0.0, 1.0]], "float64")
    pred = ad.array([[1.5, 2.0], [2.0, 4.5], [1.0, 1.0]], "float64")
    model = ad.Sequential([ad.layers.Activation("linear")])
    model.compile("sgd", "mse")
    # Keras 3.15: MeanSquaredError()(y, pred, sample_weight=[2, 0.5, 1]) = sum(w * mse per sample) / 3
    assert model.test_on_batch(pred, y, sample_weight=[2.0, 0.5, 1.0]) == pytest.approx(0.3541666567325592)
    assert model.test_on_batch(pred, y, sample_weight=[[2.0], [0.5], [1.0]]) == pytest.approx(0.3541666567325592)
    model.compile("sgd", ad.losses.SparseCategoricalCrossentropy(from_logits=True))
    logits = ad.array([[1.0, 2.0, 0.5], [0.1, 0.2, 3.0], [2.0, -1.0, 0.0]], "float64")
    assert model.test_on_batch(logits, ad.array([0, 2, 1]), sample_weight=[1.0, 3.0, 0.0]) == \
        pytest.approx(0.5977243781089783)
    with pytest.raises(ValueError, match=r"sample_weight of shape \(2,\) must hold one weight per sample"):
        model.test_on_batch(logits, ad.array([0, 2, 1]), sample_weight=[1.0, 3.0])


def test_fit_with_sample_weight_traces_a_second_signature_and_weights_the_gradient():
    x, y = _data(8)
    doubled, scaled = _model(0.05), _model(0.1)
    doubled.fit(x, y, epochs=2, batch_size=4, shuffle=False, verbose=0, sample_weight=ad.full((8,), 2.0))
    scaled.fit(x, y, epochs=2, batch_size=4, shuffle=False, verbose=0)  # weight 2 = twice the rate for SGD
    for a, b in zip(sum(_weights(doubled), []), sum(_weights(scaled), [])):
        assert a == pytest.approx(b, rel=1e-5, abs=1e-6)
    doubled.fit(x, y, epochs=1, batch_size=4, verbose=0)
    assert doubled._train_function.trace_count == 2  # weighted and unweighted
    # a zero weight: that sample does not move the weights
    zero, dropped = _model(), _model()
    w = ad.array([1.0, 1.0, 1.0, 0.0])
    zero.fit(x[:4], y[:4], batch_size=4, verbose=0, sample_weight=w)
    dropped.compile(ad.optimizers.SGD(0.1 * 3 / 4), "mse")  # Keras divides by 4 samples, not 3: so does the rate
    dropped.fit(x[:3], y[:3], batch_size=4, verbose=0)
    for a, b in zip(sum(_weights(zero), []), sum(_weights(dropped), [])):
        assert a == pytest.approx(b, rel=1e-5, abs=1e-6)


def test_class_weight_is_sample_weight_from_the_labels():
    x = ad.initializers.RandomNormal(seed=5)((9, 2))
    labels = ad.array([0, 1, 2, 1, 0, 2, 2, 1, 0])
    weights = {0: 1.0, 1: 3.0}  # class 2 absent: weight 1
    sample = ad.array([{0: 1.0, 1: 3.0}.get(c, 1.0) for c in labels.tolist()])
    for y in (labels, ad.one_hot(labels, 3), ad.reshape(ad.cast(labels, "float32"), (9, 1))):
        loss = ad.losses.SparseCategoricalCrossentropy(from_logits=True) if y.ndim == 1 or y.shape[1] == 1 \
            else ad.losses.CategoricalCrossentropy(from_logits=True)
        a = ad.Sequential([ad.layers.Dense(3, input_shape=(2,), kernel_initializer=ad.initializers.Ones())])
        b = ad.Sequential([ad.layers.Dense(3, input_shape=(2,), kernel_initializer=ad.initializers.Ones())])
        a.compile("sgd", loss)
        b.compile("sgd", loss)
        ha = a.fit(x, y, epochs=2, batch_size=4, verbose=0, class_weight=weights, seed=1)
        hb = b.fit(x, y, epochs=2, batch_size=4, verbose=0, sample_weight=sample, seed=1)
        assert ha.history == hb.history and _weights(a) == _weights(b)
    with pytest.raises(ValueError, match="give sample_weight or class_weight, not both"):
        a.fit(x, labels, class_weight=weights, sample_weight=sample, verbose=0)
    with pytest.raises(ValueError, match="class_weight must be a dict from class indices"):
        a.fit(x, labels, class_weight={"cat": 2.0}, verbose=0)


def test_initial_epoch_and_the_history():
    x, y = _data()
    model = _model()
    history = model.fit(x, y, epochs=5, initial_epoch=2, verbose=0)
    assert history.epoch == [2, 3, 4] and len(history.history["loss"]) == 3 and model.history is history


def test_one_batch_methods_follow_keras_return_conventions():
    x, y = _data(6)
    model = _model()
    loss = model.test_on_batch(x, y)
    assert isinstance(loss, float) and loss == pytest.approx(model.evaluate(x, y)["loss"])
    trained = model.train_on_batch(x, y)
    assert trained == pytest.approx(loss) and model.test_on_batch(x, y) < loss
    model.compile(ad.optimizers.SGD(0.1), "mse", metrics=["mse"])
    both = model.train_on_batch(x, y)
    assert isinstance(both, list) and len(both) == 2 and both[0] == pytest.approx(both[1])
    logs = model.test_on_batch(x, y, return_dict=True)
    assert list(logs) == ["loss", "mean_squared_error"]
    assert model.predict_on_batch(x).tolist() == model.predict(x).tolist()
    assert model.predict_on_batch(x.tolist()).shape == (6, 1)
    with pytest.raises(ValueError, match="train_on_batch: expects inputs x and targets y"):
        model.train_on_batch(x)
    with pytest.raises(RuntimeError, match="call compile"):
        ad.Sequential([ad.layers.Dense(1)]).train_on_batch(x, y)


def test_evaluate_and_predict_on_batches_and_errors():
    x, y = _data()
    model = _model()
    batches = [(x[i:i + 5], y[i:i + 5]) for i in range(0, 12, 5)]
    assert model.evaluate(batches)["loss"] == pytest.approx(model.evaluate(x, y)["loss"], rel=1e-6)
    assert model.predict([(b[0],) for b in batches]).tolist() == model.predict(x).tolist()
    assert model.predict(iter([b[0] for b in batches])).tolist() == model.predict(x).tolist()
    with pytest.raises(ValueError, match="x yields batches, so y and sample_weight come in them"):
        model.fit(batches, y, verbose=0)
    with pytest.raises(ValueError, match=r"a batch must be \(x,\), \(x, y\) or \(x, y, sample_weight\)"):
        model.fit([(x, y, y, y)], verbose=0)
    with pytest.raises(ValueError, match="evaluate: the data yielded no batch"):
        model.evaluate(iter([]))
    with pytest.raises(ValueError, match="steps_per_epoch must be a positive int"):
        model.fit(batches, steps_per_epoch=0, verbose=0)

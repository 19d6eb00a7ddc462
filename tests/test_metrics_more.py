"""The metrics of issue 17 against Keras 3 (reference values recorded from keras 3.15 on its numpy backend, float32
there: hence rel=2e-6), their reset_state, names and directions."""

import pytest

import pyautodiff as ad

M = ad.metrics

Y_BIN = [1, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0, 1]
P_BIN = [0.9, 0.2, 0.6, 0.35, 0.5, 0.05, 0.8, 0.7, 0.5, 0.1, 0.65, 0.3]
W_BIN = [1, 2, 0.5, 1, 1, 0, 3, 1, 1, 2, 1, 0.5]

# name: (metric, result over two batches unweighted, result over one weighted batch)
CONFUSION = {
    "auc_roc": (lambda: M.AUC(), 0.7083333730697632, 0.8367346525192261),
    "auc_pr": (lambda: M.AUC(curve="PR"), 0.7306479215621948, 0.8600032329559326),
    "auc_roc_min": (lambda: M.AUC(summation_method="minoring"), 0.6944444179534912, 0.8265305757522583),
    "auc_pr_maj": (lambda: M.AUC(curve="PR", summation_method="majoring"), 0.7486110925674438, 0.8675245642662048),
    "auc_roc_7": (lambda: M.AUC(num_thresholds=7), 0.7083333134651184, 0.8112244606018066),
    "precision": (lambda: M.Precision(), 0.6000000238418579, 0.692307710647583),
    "recall": (lambda: M.Recall(), 0.5, 0.6428571343421936),
    "precision_t": (lambda: M.Precision(thresholds=[0.3, 0.55, 0.75]), [0.625, 0.6000000238418579, 1.0],
                    [0.6842105388641357, 0.692307710647583, 1.0]),
    "recall_t": (lambda: M.Recall(thresholds=[0.3, 0.55, 0.75]), [0.8333333134651184, 0.5, 0.3333333432674408],
                 [0.9285714030265808, 0.6428571343421936, 0.5714285969734192]),
}


@pytest.mark.parametrize("case", sorted(CONFUSION))
def test_confusion_metrics_match_keras(case):
    make, plain, weighted = CONFUSION[case]
    m = make()
    m.update_state(Y_BIN[:7], P_BIN[:7])
    m.update_state(ad.array(Y_BIN[7:], "float32"), ad.array(P_BIN[7:], "float32"))
    assert m.result() == pytest.approx(plain, rel=2e-6)
    m.reset_state()
    m.update_state(Y_BIN, P_BIN, sample_weight=W_BIN)
    assert m.result() == pytest.approx(weighted, rel=2e-6)
    assert m.direction == "up"


def test_auc_of_a_perfect_and_a_reversed_ranking_and_of_logits():
    m = M.AUC()
    m.update_state([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9])
    assert m.result() == pytest.approx(1.0)
    m.reset_state()
    m.update_state([1, 1, 0, 0], [0.1, 0.2, 0.8, 0.9])
    assert m.result() == pytest.approx(0.0)
    logits = M.AUC(from_logits=True)
    logits.update_state(Y_BIN, [2.0 * p - 1.0 for p in P_BIN])  # a monotone map keeps the ranking, not the buckets
    assert 0.6 < logits.result() < 0.8
    with pytest.raises(ValueError, match="curve"):
        M.AUC(curve="XY")
    with pytest.raises(ValueError, match="num_thresholds"):
        M.AUC(num_thresholds=1)


def test_precision_and_recall_are_zero_without_positives_and_weights_must_match():
    p, r = M.Precision(), M.Recall()
    p.update_state([0, 0], [0.1, 0.2])
    r.update_state([0, 0], [0.9, 0.2])
    assert p.result() == 0.0 and r.result() == 0.0
    with pytest.raises(ValueError, match="sample_weight"):
        p.update_state([0, 1], [0.1, 0.2], sample_weight=[1.0, 2.0, 3.0])


Y_CAT = [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1], [0, 1, 0, 0], [0, 0, 1, 0], [1, 0, 0, 0],
         [0, 0, 0, 1]]
P_CAT = [[.5, .2, .2, .1], [.1, .6, .2, .1], [.3, .3, .3, .1], [.4, .1, .3, .2], [.25, .25, .3, .2],
         [.1, .1, .1, .7], [.2, .5, .2, .1], [.05, .05, .1, .8]]
W_CAT = [1, 2, 1, 0.5, 1, 1, 3, 1.]


@pytest.mark.parametrize("k, expected", [(1, 0.5), (2, 0.875), (3, 1.0)])
def test_top_k_categorical_accuracy_matches_keras(k, expected):
    m = M.TopKCategoricalAccuracy(k=k)
    m.update_state(Y_CAT, P_CAT)
    assert m.result() == pytest.approx(expected)
    assert M.get("top_k_categorical_accuracy").k == 5


F1 = {
    (None, None): ([0.3999999463558197, 0.3999999463558197, 0.4999999403953552, 0.4999999403953552],
                   [0.3076922595500946, 0.4444444179534912, 0.4999999403953552, 0.5714284777641296]),
    (None, 0.25): ([0.3999999463558197, 0.3999999463558197, 0.3999999463558197, 0.4999999403953552],
                   [0.3076922595500946, 0.4444444179534912, 0.4444444179534912, 0.5714284777641296]),
    ("micro", None): (0.4444444179534912, 0.43478256464004517),
    ("micro", 0.25): (0.42105257511138916, 0.42553186416625977),
    ("macro", None): (0.44999992847442627, 0.45589131116867065),
    ("macro", 0.25): (0.4249999523162842, 0.44200241565704346),
    ("weighted", None): (0.44999992847442627, 0.42107096314430237),
    ("weighted", 0.25): (0.4249999523162842, 0.41048896312713623),
}


@pytest.mark.parametrize("average, threshold", sorted(F1, key=str))
def test_f1_score_matches_keras(average, threshold):
    plain, weighted = F1[(average, threshold)]
    m = M.F1Score(average=average, threshold=threshold)
    m.update_state(Y_CAT[:3], P_CAT[:3])
    m.update_state(Y_CAT[3:], P_CAT[3:])
    assert m.result() == pytest.approx(plain, rel=2e-6)
    m.reset_state()
    m.update_state(Y_CAT, P_CAT, sample_weight=W_CAT)
    assert m.result() == pytest.approx(weighted, rel=2e-6)
    with pytest.raises(ValueError, match="average"):
        M.F1Score(average="mean")


def test_mean_absolute_error_matches_keras_and_every_metric_resets():
    m = M.get("mae")
    m.update_state(P_CAT, Y_CAT)  # integer predictions are read as floats, as Keras casts them
    assert m.result() == pytest.approx(0.31562501192092896, rel=2e-6)
    updates = [(m, ([1.0], [0.7])), (M.Mean(), ([1.0, 2.0],)), (M.get("binary_accuracy"), ([1.0], [0.7])),
               (M.get("auc"), ([[1.0, 0.0]], [[0.7, 0.3]])), (M.F1Score(), ([[1.0, 0.0]], [[0.7, 0.3]])),
               (M.TopKCategoricalAccuracy(k=1), ([[1.0, 0.0]], [[0.7, 0.3]]))]
    for metric, args in updates:
        metric.update_state(*args)
        assert any(ad.reduce_max(ad.abs(v)).item() > 0 for v in metric.variables)
        metric.reset_state()
        assert all(ad.reduce_max(ad.abs(v)).item() == 0 for v in metric.variables)
        assert metric.result() in (0.0, [0.0, 0.0])


def test_names_and_directions():
    for name, cls, direction in [("mae", M.MeanAbsoluteError, "down"), ("mse", M.MeanSquaredError, "down"),
                                 ("auc", M.AUC, "up"), ("precision", M.Precision, "up"), ("recall", M.Recall, "up"),
                                 ("top_k_categorical_accuracy", M.TopKCategoricalAccuracy, "up"),
                                 ("f1_score", M.F1Score, "up"), ("mean_absolute_error", M.MeanAbsoluteError, "down"),
                                 ("binary_accuracy", M.BinaryAccuracy, "up")]:
        m = M.get(name)
        assert type(m) is cls and m.direction == direction and m.name == cls().name
    assert M.Mean().direction is None


def test_monitor_mode_auto_follows_the_metric_direction():
    model = ad.Sequential([ad.layers.Dense(1)])
    model.compile("sgd", "mse", metrics=["auc", "mae"])
    for monitor, up in [("val_auc", True), ("precision", True), ("val_f1_score", True), ("mae", False),
                        ("val_loss", False), ("val_accuracy", True)]:
        stop = ad.callbacks.EarlyStopping(monitor=monitor)
        stop.set_model(model)
        assert stop.maximize is up
    stop = ad.callbacks.EarlyStopping(monitor="val_mean")
    stop.set_model(model)
    with pytest.raises(ValueError, match="cannot tell"):
        stop.maximize

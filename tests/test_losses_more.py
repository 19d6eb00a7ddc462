"""The losses of issue 17, label_smoothing, sample_weight and reduction: against Keras' documented formulas in
float64 numpy, and against values recorded from Keras 3.15 (numpy backend, which computes these in float32:
rel=2e-6). Also names, gradients and the fused softmax paths."""

import math

import pytest

import pyautodiff as ad
from conftest import gradcheck

L = ad.losses

YT = [[0., 1., 0.], [1., 0., 0.], [0., 0., 1.], [0., 1., 0.]]
PP = [[0.2, 0.5, 0.3], [0.7, 0.1, 0.2], [0.05, 0.15, 0.8], [0.4, 0.4, 0.2]]
LOGITS = [[1., 2., -1.], [0.5, -0.3, 2.], [3., 0., -2.], [0.1, 0.2, 0.3]]
REG_T = [[1., -2., 0.5], [0., 3., -1.], [2., 2., 2.], [-0.5, 0.25, 1.]]
REG_P = [[0.5, -1., 2.], [0.1, 2., -3.], [2., 1., 0.], [4., -0.25, 1.5]]
HINGE_T = [[0., 1., 1.], [1., 0., 0.], [0., 0., 1.], [1., 1., 0.]]
POIS_T = [[1., 0., 3.], [0., 2., 1.], [2., 2., 0.], [0., 1., 1.]]
POIS_P = [[0.5, 1., 2.], [0.1, 2., 3.], [2., 1., 0.3], [4., 0.25, 1.5]]
SW = [1., 0.5, 0., 2.]


def _scaled(rows, k):
    return [[k * v for v in r] for r in rows]


# name: (loss, y_true, y_pred, Keras' default reduction, Keras' weighted by SW, Keras' reduction=None)
KERAS = {
    "mae": (lambda: L.MeanAbsoluteError(), REG_T, REG_P, 1.2166666984558105, 1.2958333492279053,
            [1.0, 1.0333333015441895, 1.0, 1.8333333730697632]),
    "mse": (lambda: L.MeanSquaredError(), REG_T, REG_P, 2.8550000190734863, 3.958750009536743,
            [1.1666666269302368, 1.6700000762939453, 1.6666666269302368, 6.916666507720947]),
    "kld": (lambda: L.KLDivergence(), [[0.9 * v + 0.03 for v in r] for r in YT], PP, 0.33719801902770996,
            0.45920330286026, [0.4511449933052063, 0.17118416726589203, 0.07642488926649094, 0.6500380635261536]),
    "hinge01": (lambda: L.Hinge(), HINGE_T, REG_P, 1.4291666746139526, 1.0791666507720947,
                [1.1666666269302368, 1.3000000715255737, 2.0, 1.25]),
    "hinge_pm": (lambda: L.Hinge(), [[2 * v - 1 for v in r] for r in HINGE_T], REG_P, 1.4291666746139526,
                 1.0791666507720947, [1.1666666269302368, 1.3000000715255737, 2.0, 1.25]),
    "sqhinge": (lambda: L.SquaredHinge(), HINGE_T, REG_P, 3.1560416221618652, 2.2316665649414062,
                [2.0833332538604736, 3.2699997425079346, 4.666666507720947, 2.6041667461395264]),
    "cosine": (lambda: L.CosineSimilarity(), REG_T, REG_P, -0.5288940668106079, -0.2079298198223114,
               [-0.6666666269302368, -0.7890486717224121, -0.7745966911315918, 0.11473584175109863]),
    "poisson": (lambda: L.Poisson(), POIS_T, POIS_P, 1.114444375038147, 1.4069091081619263,
                [0.7045684456825256, 0.871697723865509, 0.637901782989502, 2.243609666824341]),
    "logcosh": (lambda: L.LogCosh(), REG_T, _scaled(REG_P, 10), 12.965143203735352, 13.524492263793945,
                [9.806963920593262, 15.015828132629395, 8.646235466003418, 18.39154624938965]),
    "focal": (lambda: L.CategoricalFocalCrossentropy(), YT, PP, 0.0340111218392849, 0.05306665599346161,
              [0.043321698904037476, 0.008025186136364937, 0.002231435151770711, 0.08246616274118423]),
    "focal_logits_ls": (lambda: L.CategoricalFocalCrossentropy(alpha=0.5, gamma=1.5, from_logits=True,
                                                               label_smoothing=0.2), YT, LOGITS,
                        0.846529483795166, 0.27286267280578613,
                        [0.1586439609527588, 0.662339985370636, 2.264315605163574, 0.30081838369369507]),
    "cce_ls": (lambda: L.CategoricalCrossentropy(label_smoothing=0.1), YT, PP, 0.6286932826042175,
               0.7127894163131714, [0.7407177090644836, 0.46329739689826965, 0.3713623881340027, 0.9393956065177917]),
    "cce_logits_ls": (lambda: L.CategoricalCrossentropy(from_logits=True, label_smoothing=0.3), YT, LOGITS,
                      1.9790340662002563, 0.9519989490509033,
                      [0.7490121722221375, 1.7101958990097046, 4.354985237121582, 1.1019428968429565]),
    "bce_ls": (lambda: L.BinaryCrossentropy(label_smoothing=0.2), HINGE_T, PP, 0.5382645726203918,
               0.5804014205932617, [0.7247211337089539, 0.37608686089515686, 0.3478296995162964, 0.7044205069541931]),
    "bce_logits_ls": (lambda: L.BinaryCrossentropy(from_logits=True, label_smoothing=0.1), HINGE_T, LOGITS,
                      1.1303637027740479, 0.7079094648361206,
                      [0.9178171753883362, 1.031786561012268, 1.8728876113891602, 0.6989636421203613]),
    "scce": (lambda: L.SparseCategoricalCrossentropy(from_logits=True), [1, 0, 2, 1], LOGITS, 2.0715341567993164,
             0.8607489466667175, [0.34901221676818633, 1.7801958735626877, 5.054985235377147, 1.101942848229244]),
}


@pytest.mark.parametrize("case", sorted(KERAS))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_losses_match_keras_reductions_and_sample_weight(case, dtype):
    make, yt, yp, mean, weighted, per_sample = KERAS[case]
    loss, y_pred = make(), ad.array(yp, dtype)
    rel = 2e-6 if dtype == "float64" else 2e-5
    assert float(loss(yt, y_pred)) == pytest.approx(mean, rel=rel)
    assert float(loss(yt, y_pred, sample_weight=SW)) == pytest.approx(weighted, rel=rel)
    assert float(loss(yt, y_pred, sample_weight=[[w] for w in SW])) == pytest.approx(weighted, rel=rel)
    none = type(loss)(**{**loss.get_config(), "reduction": "none"})
    assert none(yt, y_pred).tolist() == pytest.approx(per_sample, rel=rel)
    assert none(yt, y_pred, sample_weight=SW).tolist() == pytest.approx([v * w for v, w in zip(per_sample, SW)],
                                                                        rel=rel)
    total = type(loss)(**{**loss.get_config(), "reduction": "sum"})
    assert float(total(yt, y_pred)) == pytest.approx(sum(per_sample), rel=rel)
    by_weight = type(loss)(**{**loss.get_config(), "reduction": "mean_with_sample_weight"})
    assert float(by_weight(yt, y_pred, sample_weight=SW)) == pytest.approx(weighted * len(SW) / sum(SW), rel=rel)


def _np():
    return pytest.importorskip("numpy")


def test_the_new_losses_are_keras_formulas_in_float64():
    np = _np()
    t, p = np.array(REG_T), np.array(REG_P)
    e, eps = p - t, 1e-7

    def check(loss, yt, yp, expected):
        got = loss(ad.array(yt.tolist(), "float64"), ad.array(yp.tolist(), "float64")).tolist()
        assert np.allclose(got, expected, rtol=1e-13, atol=1e-15)

    none = {"reduction": "none"}
    check(L.MeanAbsoluteError(**none), t, p, np.abs(e).mean(-1))
    check(L.LogCosh(**none), t, p * 30, np.log(np.cosh(p * 30 - t)).mean(-1))
    check(L.Poisson(**none), np.array(POIS_T), np.array(POIS_P),
          (np.array(POIS_P) - np.array(POIS_T) * np.log(np.array(POIS_P) + eps)).mean(-1))
    ht = np.array(HINGE_T)
    check(L.Hinge(**none), ht, p, np.maximum(1 - (2 * ht - 1) * p, 0).mean(-1))
    check(L.Hinge(**none), ht * 0.5, p, np.maximum(1 - 0.5 * ht * p, 0).mean(-1))  # not binary: unconverted
    check(L.SquaredHinge(**none), ht, p, np.square(np.maximum(1 - (2 * ht - 1) * p, 0)).mean(-1))
    kt, kp = np.clip(np.array(YT), eps, 1), np.clip(np.array(PP), eps, 1)
    check(L.KLDivergence(**none), np.array(YT), np.array(PP), (kt * np.log(kt / kp)).sum(-1))

    def unit(x, axis):
        return x / np.maximum(np.sqrt((x * x).sum(axis, keepdims=True)), eps)
    for axis in (-1, 0, 1):
        check(L.CosineSimilarity(axis=axis, **none), t, p, -(unit(t, axis) * unit(p, axis)).sum(axis))
    y, z = np.array(YT), np.array(LOGITS)
    for alpha, gamma, smoothing in [(0.25, 2.0, 0.0), (0.7, 0.5, 0.3)]:
        ys = y * (1 - smoothing) + smoothing / 3
        q = np.clip(np.exp(z) / np.exp(z).sum(-1, keepdims=True), eps, 1 - eps)
        check(L.CategoricalFocalCrossentropy(alpha, gamma, True, smoothing, **none), y, z,
              (-alpha * (1 - q) ** gamma * ys * np.log(q)).sum(-1))
    log_softmax = z - np.log(np.exp(z).sum(-1, keepdims=True))
    check(L.CategoricalCrossentropy(True, 0.2, **none), y, z, -((y * 0.8 + 0.2 / 3) * log_softmax).sum(-1))
    zs = y * 0.6 + 0.2
    check(L.BinaryCrossentropy(True, 0.4, **none), y, z,
          (np.maximum(z, 0) - z * zs + np.log1p(np.exp(-np.abs(z)))).mean(-1))


def test_zero_vectors_and_large_errors_stay_finite():
    cos = L.CosineSimilarity(reduction="none")([[0.0, 0.0], [1.0, 0.0]], ad.array([[1.0, 2.0], [0.0, 0.0]]))
    assert cos.tolist() == [0.0, 0.0]
    assert float(L.LogCosh()([[0.0]], ad.array([[1e4]], "float64"))) == pytest.approx(1e4 - math.log(2.0))
    assert math.isfinite(float(L.Poisson()([[1.0]], ad.array([[0.0]]))))


NEW = [L.MeanAbsoluteError(), L.KLDivergence(), L.Hinge(), L.SquaredHinge(), L.CosineSimilarity(), L.Poisson(),
       L.LogCosh(), L.CategoricalFocalCrossentropy(), L.CategoricalFocalCrossentropy(from_logits=True, gamma=1.5),
       L.CategoricalCrossentropy(label_smoothing=0.1), L.BinaryCrossentropy(from_logits=True, label_smoothing=0.2)]


@pytest.mark.parametrize("loss", NEW, ids=lambda loss: loss.name)
def test_gradients_match_finite_differences(loss):
    y = ad.array([[0.1, 0.7, 0.2], [0.6, 0.3, 0.1]], "float64")
    x = ad.array([[0.3, 1.2, 0.5], [0.8, 0.25, 0.6]], "float64")  # positive, off the kinks of hinge and clipping
    gradcheck(lambda x: loss(y, x, sample_weight=[0.5, 2.0]), [x])


NAMES = {"mae": L.MeanAbsoluteError, "mean_absolute_error": L.MeanAbsoluteError, "kld": L.KLDivergence,
         "kl_divergence": L.KLDivergence, "hinge": L.Hinge, "squared_hinge": L.SquaredHinge,
         "cosine_similarity": L.CosineSimilarity, "log_cosh": L.LogCosh, "poisson": L.Poisson,
         "categorical_focal_crossentropy": L.CategoricalFocalCrossentropy, "MeanAbsoluteError": L.MeanAbsoluteError,
         "mse": L.MeanSquaredError, "bce": L.BinaryCrossentropy, "huber": L.Huber}


def test_names_resolve_and_bad_arguments_are_refused():
    for name, cls in NAMES.items():
        assert type(L.get(name)) is cls
    with pytest.raises(ValueError, match="reduction"):
        L.MeanAbsoluteError(reduction="average")
    with pytest.raises(ValueError, match="label_smoothing"):
        L.CategoricalCrossentropy(label_smoothing=1.5)
    with pytest.raises(ValueError, match=r"sample_weight of shape \(3,\)"):
        L.MeanSquaredError()([[1.0], [2.0]], ad.array([[1.0], [2.0]]), sample_weight=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="axis 2 is out of range"):
        L.CosineSimilarity(axis=2)([[1.0, 2.0]], ad.array([[1.0, 2.0]]))
    assert L.CategoricalFocalCrossentropy(alpha=0.5).get_config() == {
        "name": "CategoricalFocalCrossentropy", "reduction": "sum_over_batch_size", "from_logits": False,
        "label_smoothing": 0.0, "alpha": 0.5, "gamma": 2.0}


def test_unweighted_softmax_losses_keep_their_fused_mean_and_sequences_give_per_step_losses(monkeypatch):
    """Without sample_weight the batch mean stays inside the softmax kernel (no separate reduce_mean); with
    label_smoothing too."""
    x = ad.array(LOGITS, "float64")
    expected = [float(loss(YT, x)) for loss in (L.CategoricalCrossentropy(True, 0.1), L.CategoricalCrossentropy())]

    def refuse(*args, **kwargs):
        raise AssertionError("the fused path must not call reduce_mean")
    monkeypatch.setattr(L.ops, "reduce_mean", refuse)
    assert [float(L.CategoricalCrossentropy(True, 0.1)(YT, x)), float(L.CategoricalCrossentropy()(YT, x))] == expected
    assert float(L.SparseCategoricalCrossentropy(True)([1, 0, 2, 1], x)) == pytest.approx(KERAS["scce"][3], rel=2e-6)
    monkeypatch.undo()
    seq = ad.array([LOGITS, LOGITS], "float64")  # (batch 2, steps 4, classes 3)
    per_step = L.SparseCategoricalCrossentropy(from_logits=True, reduction="none")([[1, 0, 2, 1]] * 2, seq)
    assert per_step.shape == (2, 4)
    weighted = L.SparseCategoricalCrossentropy(from_logits=True)([[1, 0, 2, 1]] * 2, seq, sample_weight=[1.0, 0.0])
    assert float(weighted) == pytest.approx(KERAS["scce"][3] / 2, rel=2e-6)


def test_model_training_uses_the_loss_reduction_with_sample_weight():
    model = ad.Sequential([ad.layers.Dense(1, kernel_initializer="ones", bias_initializer="zeros")])
    model.compile("sgd", L.MeanAbsoluteError(reduction="sum"))
    x, y = ad.array([[1.0], [2.0], [3.0]]), ad.array([[0.0], [0.0], [0.0]])
    assert model.test_on_batch(x, y, sample_weight=[1.0, 0.5, 2.0]) == pytest.approx(1.0 + 1.0 + 6.0)
    model.compile("sgd", "mae")
    assert model.test_on_batch(x, y, sample_weight=[1.0, 0.5, 2.0]) == pytest.approx(8.0 / 3)
    model.compile("sgd", lambda yt, yp: ad.abs(ad.subtract(yp, yt)))  # a plain function: Keras' default reduction
    assert model.test_on_batch(x, y, sample_weight=[1.0, 0.5, 2.0]) == pytest.approx(8.0 / 3)

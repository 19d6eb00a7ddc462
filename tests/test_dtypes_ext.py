"""int64 and bool as dtypes end to end: creation, casts, data movement, arithmetic, comparisons, logical ops,
reductions, indices, promotion, the Tensor protocols, saving and Function replays. Without numpy the rules are
checked against Python's own arithmetic; with it, against numpy too."""

import copy
import pickle

import pytest

import pyautodiff as ad

BIG = 2**40 + 3  # an int64 beyond int32 and exact in float64
HUGE = 2**62 + 1  # beyond float64's exact integers


def _np():
    return pytest.importorskip("numpy")


def test_creation_picks_int64_and_bool_as_tensorflow():
    assert ad.array([1, 2]).dtype == "int32" and ad.array([1, BIG]).dtype == "int64"
    assert ad.array([1, BIG]).tolist() == [1, BIG] and ad.array(HUGE).item() == HUGE
    assert ad.array([True, False]).dtype == "bool" and ad.array([True, False]).tolist() == [True, False]
    assert ad.array([True, 2]).dtype == "int32" and ad.array([True, 2.5]).dtype == "float32"
    assert ad.array(True).item() is True and ad.array([1, 0], bool).tolist() == [True, False]
    assert ad.array([0.0, -0.5, float("nan")], "bool").tolist() == [False, True, True]
    assert ad.array([3, -7], "int64").dtype == "int64" and ad.array([2.9, -2.9], "int64").tolist() == [2, -2]
    assert ad.full((2,), HUGE, "int64").tolist() == [HUGE, HUGE] and ad.zeros((2,), "bool").tolist() == [False] * 2
    assert ad.ones((1,), "int64").tolist() == [1] and ad.full((2,), 3, "bool").tolist() == [True, True]
    for dtype in ("int64", "long"):
        assert ad.zeros((1,), dtype).dtype == "int64"
    for bad, dtype in (([2**31], "int32"), ([2**63], "int64"), ([float("inf")], "int64"), ([float("nan")], "int32")):
        with pytest.raises(ValueError):
            ad.array(bad, dtype)
    with pytest.raises(ValueError, match="do not fit int64"):
        ad.array([-2**63 - 1])
    with pytest.raises(ValueError, match="out of range for int64"):
        ad.full((1,), 2**63, "int64")


def test_casts_between_every_pair_with_range_checks():
    values = {"float32": [1.5, -2.0, 0.0], "float64": [1.5, -2.0, 0.0], "int32": [1, -2, 0], "int64": [BIG, -2, 0],
              "bool": [True, False, False]}
    for src, vals in values.items():
        x = ad.array(vals, src)
        for dst in values:
            if dst == "int32" and src == "int64":
                with pytest.raises(ValueError, match="cast: NaN, inf or a value out of range"):
                    ad.cast(x, dst)
                continue
            want = [bool(v) if dst == "bool" else float(v) if dst.startswith("float") else int(v) for v in vals]
            got = ad.cast(x, dst)
            assert got.dtype == dst and got.tolist() == pytest.approx(want, rel=1e-6), (src, dst)
    assert ad.cast(ad.array([HUGE], "int64"), "int64").tolist() == [HUGE]  # exact, not through a double
    assert ad.cast(ad.array([-2**63], "int64"), "float64").tolist() == [-2.0**63]
    assert ad.cast(ad.array([-2.0**63], "float64"), "int64").tolist() == [-2**63]
    for bad in (2.0**63, float("inf"), float("nan")):
        with pytest.raises(ValueError):
            ad.cast(ad.array([bad], "float64"), "int64")


def test_data_movement_for_every_dtype():
    for dtype, vals in (("int64", [[1, BIG, 3], [4, 5, -HUGE]]), ("bool", [[True, False, True], [False, False, True]])):
        x = ad.array(vals, dtype)
        t = [list(r) for r in zip(*vals)]
        assert ad.transpose(x).tolist() == t and ad.reshape(x, (3, 2)).dtype == dtype
        assert x[1].tolist() == vals[1] and x[:, 1:].tolist() == [r[1:] for r in vals] and x[0, 1] == x[0][1]
        assert ad.concat([x, x], 0).tolist() == vals + vals and [p.tolist() for p in ad.split(x, 3, 1)] == \
            [[[r[i]] for r in vals] for i in range(3)]
        assert ad.tile(x, (1, 2)).tolist() == [r + r for r in vals]
        assert ad.pad(x, [[0, 0], [1, 0]]).tolist() == [[type(r[0])(0)] + r for r in vals]
        assert ad.gather(x, [1, 0]).tolist() == [vals[1], vals[0]]
        assert ad.gather_nd(x, [[1, 2], [0, 0]]).tolist() == [vals[1][2], vals[0][0]]
        assert ad.repeat(x, 2, axis=0).tolist() == [vals[0], vals[0], vals[1], vals[1]]
        assert ad.broadcast_to(x[0], (2, 3)).tolist() == [vals[0]] * 2
        assert ad.where([True, False, True], x, ad.zeros_like(x)).tolist() == \
            [[v if k else type(v)(0) for v, k in zip(r, (1, 0, 1))] for r in vals]
        assert ad.one_hot([1, 0], 2, dtype).tolist() == [[0, 1], [1, 0]]
        assert x[ad.array([[True, False, True], [False, True, False]])].tolist() == [vals[0][0], vals[0][2], vals[1][1]]
        assert copy.deepcopy(x).tolist() == vals and pickle.loads(pickle.dumps(x)).dtype == dtype
        v = ad.Variable(x)
        v.assign(ad.reverse(x, [0]) if hasattr(ad, "reverse") else x[::-1])
        assert v.tolist() == vals[::-1]


def test_int64_arithmetic_wraps_as_numpy():
    a, b = ad.array([BIG, -5, 2**62], "int64"), ad.array([7, 3, 4], "int64")
    assert ad.add(a, b).tolist() == [BIG + 7, -2, 2**62 + 4] and (a - b).tolist() == [BIG - 7, -8, 2**62 - 4]
    assert ad.multiply(a, b).tolist() == [BIG * 7, -15, 0]  # 2^64 wraps to 0
    assert ad.multiply(ad.array([2**62], "int64"), 2).tolist() == [-2**63]
    assert ad.maximum(a, b).tolist() == [BIG, 3, 2**62] and ad.abs(a).tolist() == [BIG, 5, 2**62]
    assert ad.negative(ad.array([-2**63], "int64")).tolist() == [-2**63] and ad.square(b).tolist() == [49, 9, 16]
    assert ad.add(ad.array([2**31 - 1]), 1).tolist() == [-2**31]  # int32 too
    assert ad.clip_by_value(a, -1, float("inf")).tolist() == [BIG, -1, 2**62]
    assert (a / b).dtype == "float32"  # true division, as int32's
    assert ad.reduce_sum(a).item() == BIG - 5 + 2**62 and ad.reduce_sum(ad.array([2**62] * 4, "int64")).item() == 0
    assert ad.reduce_prod(b).item() == 84 and ad.reduce_max(a).item() == 2**62 and ad.reduce_min(a).item() == -5
    assert ad.reduce_max(ad.array([-HUGE, -HUGE - 2], "int64")).item() == -HUGE  # exact identity, no double
    assert ad.argmax(a).item() == 2 and ad.argmin(a).item() == 1
    assert ad.cumsum(a).tolist() == [BIG, BIG - 5, BIG - 5 + 2**62] and ad.cumprod(b).tolist() == [7, 21, 84]
    assert ad.argsort(ad.array([HUGE, HUGE - 1, -HUGE], "int64")).tolist() == [2, 1, 0]  # exact beyond 2^53
    assert ad.sort(ad.array([3, -1, 2], "int64")).tolist() == [-1, 2, 3]
    with pytest.raises(TypeError, match="sqrt: expects float32 or float64 tensors, got \\(3,\\) int64"):
        ad.sqrt(a)
    with pytest.raises(TypeError, match="reduce_mean: expects float"):
        ad.reduce_mean(a)


def test_comparisons_return_bool_from_every_numeric_dtype():
    for dtype in ("float32", "float64", "int32", "int64"):
        a, b = ad.array([1, 2, 3], dtype), ad.array([3, 2, 1], dtype)
        for name, rule in (("equal", lambda u, v: u == v), ("not_equal", lambda u, v: u != v),
                           ("less", lambda u, v: u < v), ("less_equal", lambda u, v: u <= v),
                           ("greater", lambda u, v: u > v), ("greater_equal", lambda u, v: u >= v)):
            got = getattr(ad, name)(a, b)
            assert got.dtype == "bool" and got.tolist() == [rule(u, v) for u, v in zip([1, 2, 3], [3, 2, 1])]
        assert (a == 2).tolist() == [False, True, False] and (a < b).dtype == "bool"
    nan = ad.array([float("nan")])
    assert (nan == nan).tolist() == [False] and (nan != nan).tolist() == [True]
    assert ad.equal(ad.array([1, BIG], "int64"), ad.array([1, BIG + 1], "int64")).tolist() == [True, False]
    assert ad.less(ad.array([1, 2]), ad.array([1.5, 1.5])).tolist() == [True, False]  # int32 meets float32
    t, f = ad.array([True, True, False, False]), ad.array([True, False, True, False])
    assert ad.equal(t, f).tolist() == [True, False, False, True] and ad.not_equal(t, f).tolist() == \
        [False, True, True, False]


def test_logical_ops_and_any_all():
    t, f = ad.array([True, True, False, False]), ad.array([True, False, True, False])
    assert ad.logical_and(t, f).tolist() == [True, False, False, False]
    assert ad.logical_or(t, f).tolist() == [True, True, True, False]
    assert ad.logical_xor(t, f).tolist() == [False, True, True, False]
    assert ad.logical_not(t).tolist() == [False, False, True, True]
    assert ad.logical_and([2, 0], [0.5, 3.0]).tolist() == [True, False]  # numbers tested != 0, as numpy
    m = ad.array([[True, False], [True, True]])
    assert ad.reduce_any(m, 1).tolist() == [True, True] and ad.reduce_all(m, 1).tolist() == [False, True]
    assert ad.reduce_all(m, 0, keepdims=True).tolist() == [[True, False]] and ad.reduce_any(m).item() is True
    assert ad.reduce_any(ad.zeros((2, 0), "bool"), 1).tolist() == [False, False]
    assert ad.reduce_all(ad.zeros((2, 0), "bool"), 1).tolist() == [True, True]
    assert ad.reduce_any([0.0, float("nan")]).item() is True and ad.reduce_all([1, 0]).item() is False


def test_bool_arithmetic_is_a_type_error_naming_op_and_dtypes():
    t = ad.array([True, False])
    for fn, name in ((lambda: t + t, "add"), (lambda: ad.multiply(t, t), "multiply"), (lambda: -t, "negative"),
                     (lambda: ad.reduce_sum(t), "reduce_sum"), (lambda: ad.less(t, t), "less"),
                     (lambda: ad.cumsum(t), "cumsum"), (lambda: ad.maximum(t, t), "maximum")):
        with pytest.raises(TypeError, match=rf"{name}: not defined for bool tensors \(\(2,\) bool"):
            fn()
    # mixed with a number, bool promotes (numpy's order bool < int32 < int64 < float)
    assert (t + 1).tolist() == [2, 1] and (t * 1.5).tolist() == [1.5, 0.0] and (t * 1.5).dtype == "float32"
    assert ad.add(ad.array([1], "int32"), ad.array([BIG], "int64")).tolist() == [BIG + 1]
    assert ad.add(ad.array([1], "int64"), ad.array([0.5])).dtype == "float32"
    assert ad.multiply(ad.array([2.0], "float64"), t[:1]).dtype == "float64"


def test_tensor_protocols_of_the_new_dtypes():
    x, m = ad.array(BIG, "int64"), ad.array([[True], [False]])
    assert int(x) == BIG and float(x) == float(BIG) and bool(x) and [0, 1, 2][ad.array(1, "int64")] == 1
    assert repr(m) == "<Tensor shape=(2, 1) dtype=bool values=[[True], [False]]>"
    assert repr(ad.array([BIG], "int64")) == f"<Tensor shape=(1,) dtype=int64 values=[{BIG}]>"
    assert bool(ad.array(False)) is False and m.nbytes == 2 and m.strides == (1, 1)
    assert ad.array([1], "int64").strides == (8,) and pickle.loads(pickle.dumps(m)).tolist() == [[True], [False]]
    assert bytes(memoryview(m._memview())) == b"\x01\x00"


def test_numpy_interop_of_the_new_dtypes():
    np = _np()
    a = np.array([[1, 2**40]], np.int64)
    t = ad.array(a)
    assert t.dtype == "int64" and np.asarray(t).dtype == np.int64 and (t.numpy() == a).all()
    b = np.array([True, False])
    assert ad.array(b).dtype == "bool" and np.asarray(ad.array(b)).dtype == np.bool_
    assert (ad.array(b).numpy() == b).all() and ad.array(np.int64(5)).dtype == "int64"
    assert ad.zeros((1,), np.int64).dtype == "int64" and ad.zeros((1,), np.bool_).dtype == "bool"
    assert ad.zeros((1,), bool).dtype == "bool"
    x = np.arange(12.0).reshape(3, 4)
    got = ad.equal(ad.array(x), ad.array(x[:, :1]))
    assert np.asarray(got).dtype == np.bool_ and (got.numpy() == (x == x[:, :1])).all()
    with pytest.raises(ValueError, match="outside int32"):
        ad.array(a, "int32")


def test_int64_indices_everywhere():
    np = _np()
    x = ad.array([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]])
    idx = ad.array([2, 0], "int64")
    assert ad.gather(x, idx).tolist() == [[4.0, 5.0], [0.0, 1.0]] and x[idx].tolist() == [[4.0, 5.0], [0.0, 1.0]]
    assert ad.gather(x, np.array([1], np.int64)).tolist() == [[2.0, 3.0]]
    assert ad.gather_nd(x, ad.array([[1, 1]], "int64")).tolist() == [3.0]
    assert ad.one_hot(idx, 3).tolist() == [[0, 0, 1], [1, 0, 0]]
    assert ad.scatter_nd(ad.array([[1]], "int64"), [7.0], (3,)).tolist() == [0, 7.0, 0]
    emb = ad.layers.Embedding(4, 2, mask_zero=True)
    assert emb(ad.array([[3, 0]], "int64")).shape == (1, 2, 2)
    assert emb.compute_mask(ad.array([[3, 0]], "int64")).tolist() == [[True, False]]
    loss = ad.losses.SparseCategoricalCrossentropy(from_logits=True)
    assert loss(np.array([1, 0], np.int64), ad.array([[0.0, 9.0], [9.0, 0.0]])).item() < 1e-3
    with pytest.raises(ValueError, match="gather: int64 indices of shape \\(1,\\) hold values that do not fit int32"):
        ad.gather(x, ad.array([2**40], "int64"))
    with pytest.raises(TypeError, match="gather: indices must be int32 or int64, got bool"):
        ad.gather(x, ad.array([True]))


def test_masks_and_metrics_with_bool():
    np = _np()
    y = np.array([0, 1, 2, 1], np.int64)  # labels as sklearn gives them
    pred = ad.array(np.eye(3)[[0, 1, 1, 1]], "float32")
    acc = ad.metrics.SparseCategoricalAccuracy()
    acc.update_state(y, pred)
    assert acc.result() == 0.75
    x = ad.array(np.arange(6.0).reshape(1, 3, 2), "float32")
    pooled = ad.layers.GlobalAveragePooling1D()(x, mask=ad.array([[True, False, True]]))
    assert pooled.tolist() == [[2.0, 3.0]]
    att = ad.layers.Attention()
    q = ad.array(np.ones((1, 2, 2)), "float32")
    out = att([q, q], mask=[None, ad.array([[True, False]])])
    assert out.shape == (1, 2, 2)
    lo, hi = ad.array([0.5, 2.0], "float64"), ad.array([1.0, 1.0], "float64")
    with ad.GradientTape() as tape:
        tape.watch(lo)
        y = ad.reduce_sum(ad.maximum(lo, hi) + ad.clip_by_value(lo, 0.0, 1.0))
    assert tape.gradient(y, lo).tolist() == [1.0, 1.0]


class _Counts(ad.layers.Layer):
    """A layer holding an int64 and a bool weight (as a step counter and flags would be)."""

    def build(self, input_shape):
        self.steps = self.add_weight("steps", (1,), "zeros", False, "int64")
        self.flags = self.add_weight("flags", (2,), "zeros", False, "bool")

    def call(self, x, training=False):
        return x


def test_saving_int64_and_bool_weights(tmp_path):
    def model():
        m = ad.models.Sequential([_Counts()])
        m.build((None, 3))
        return m
    saved = model()
    saved.layers[0].steps.assign([BIG])
    saved.layers[0].flags.assign([True, False])
    saved.save_weights(str(tmp_path / "w.safetensors"))
    loaded = model()
    loaded.load_weights(str(tmp_path / "w.safetensors"))
    assert loaded.layers[0].steps.tolist() == [BIG] and loaded.layers[0].flags.tolist() == [True, False]
    pytest.importorskip("numpy")
    safetensors = pytest.importorskip("safetensors.numpy")
    data = safetensors.load_file(str(tmp_path / "w.safetensors"))
    assert sorted(str(v.dtype) for v in data.values()) == ["bool", "int64"]


def test_function_replays_the_new_dtypes():
    @ad.function
    def f(x, k):
        return ad.reduce_any(ad.greater(x, 0.5), axis=1), ad.gather(x, k), ad.cast(ad.less(x, 0.5), "int64")

    x = ad.array([[0.0, 1.0], [0.2, 0.3]])
    for _ in range(3):
        hit, rows, low = f(x, ad.array([1], "int64"))
        assert hit.tolist() == [True, False] and rows.tolist() == x[1:].tolist() and low.tolist() == [[1, 0], [1, 1]]
    x2 = ad.array([[0.9, 0.9], [0.0, 0.0]])
    hit, rows, low = f(x2, ad.array([0], "int64"))
    assert hit.tolist() == [True, False] and rows.tolist() == x2[:1].tolist() and low.tolist() == [[0, 0], [1, 1]]

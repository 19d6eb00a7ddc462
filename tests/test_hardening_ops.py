"""Issue 13, the ops: repeat in C with outputs checked before allocation, integral indices only, NaN through
relu, losses and metrics that refuse mismatched shapes, and int arguments (numpy integers too) validated in one
place. numpy appears only in the tests that say so."""

import math
import time

import pytest

import pyautodiff as ad
from pyautodiff import _backend as B

NAN = float("nan")


def _repeat_reference(rows, counts):
    """numpy's repeat along axis 0 of a nested list, one count per row."""
    return [row for row, c in zip(rows, counts) for _ in range(c)]


# --- repeat ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ["float32", "float64", "int32"])
def test_repeat_scalar_and_per_entry_counts_along_each_axis(dtype):
    rows = [[1, 2, 3], [4, 5, 6]]
    x = ad.array(rows, dtype)
    assert ad.repeat(x, 2).tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6]  # axis None flattens
    assert ad.repeat(x, 2, 0).tolist() == _repeat_reference(rows, [2, 2])
    assert ad.repeat(x, [0, 3], 0).tolist() == _repeat_reference(rows, [0, 3])
    assert ad.repeat(x, [1, 0, 2], -1).tolist() == [[1, 3, 3], [4, 6, 6]]
    assert ad.repeat(x, [3], 1).tolist() == [[v for v in r for _ in range(3)] for r in rows]  # one count for all
    assert ad.repeat(x, ad.array([2, 1]), 0).tolist() == _repeat_reference(rows, [2, 1])
    assert ad.repeat(x, 0, 1).shape == (2, 0)
    assert ad.repeat(x, [1, 2, 0, 1, 1, 1]).tolist() == [1, 2, 2, 4, 5, 6]
    assert ad.repeat(x, 2).dtype == dtype


def test_repeat_matches_numpy():
    np = pytest.importorskip("numpy")
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    for repeats, axis in [(3, None), (2, 1), ([1, 0, 4], 1), (np.array([2, 0, 1, 3]), -1), (np.int64(2), 0),
                          ([np.int32(1), np.int64(2)], np.int64(0))]:
        np.testing.assert_array_equal(np.asarray(ad.repeat(ad.array(x), repeats, axis)), np.repeat(x, repeats, axis))


def test_repeat_of_a_million_runs_in_c():
    start = time.perf_counter()
    y = ad.repeat(ad.ones((3,)), 10**6)
    assert y.shape == (3 * 10**6,) and ad.reduce_sum(y).item() == 3e6
    assert time.perf_counter() - start < 3  # a Python index list took 6 s and 0.5 GB


@pytest.mark.parametrize("shape,repeats,axis", [((3,), 10**18, None), ((2, 1000), [2**30, 2**30], 0),
                                                ((0, 3), 10**30, 1)])
def test_repeat_too_large_fails_before_allocating(shape, repeats, axis):
    start = time.perf_counter()
    with pytest.raises((MemoryError, ValueError), match=r"repeat: .*shape"):
        ad.repeat(ad.ones(shape), repeats, axis)
    assert time.perf_counter() - start < 1


def test_repeat_zero_size_input_with_a_large_count():
    y = ad.repeat(ad.ones((0, 3)), 10**6, 1)
    assert y.shape == (0, 3 * 10**6)


def test_repeat_argument_errors():
    x = ad.ones((2, 3))
    with pytest.raises(ValueError, match="repeat: repeats must be a non-negative int, got -1"):
        ad.repeat(x, -1)
    with pytest.raises(TypeError, match="repeat: repeats must be an int, got float 2.0"):
        ad.repeat(x, 2.0)
    with pytest.raises(TypeError, match="repeat: repeats must be an int, got bool"):
        ad.repeat(x, True)
    with pytest.raises(TypeError, match="repeat: repeats must be int32"):
        ad.repeat(x, [1.0, 2.0], 0)
    with pytest.raises(ValueError, match=r"repeat: repeats must be one non-negative int, or one per entry"):
        ad.repeat(x, [1, 2], 1)
    with pytest.raises(ValueError, match=r"repeat: repeats must be one non-negative int, or one per entry"):
        ad.repeat(x, [1, -1], 0)
    with pytest.raises(ValueError, match="repeat: axis 2 is out of range"):
        ad.repeat(x, 2, 2)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_repeat_gradient_sums_each_entrys_copies(dtype):
    x = ad.Variable(ad.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype))
    weights = ad.array([[1.0, 10.0, 100.0, 1000.0, 10000.0]] * 2, dtype)
    with ad.GradientTape() as tape:
        y = ad.reduce_sum(ad.repeat(x, [2, 0, 3], 1) * weights)
    assert tape.gradient(y, x).tolist() == [[11.0, 0.0, 11100.0]] * 2
    with ad.GradientTape() as tape:
        y = ad.reduce_sum(ad.repeat(x, 2) * ad.array(list(range(12)), dtype))
    assert tape.gradient(y, x).tolist() == [[1.0, 5.0, 9.0], [13.0, 17.0, 21.0]]


def test_repeat_second_order_gradient():
    x = ad.Variable(ad.array([1.0, 2.0], "float64"))
    with ad.GradientTape() as outer:
        with ad.GradientTape() as inner:
            y = ad.reduce_sum(ad.square(ad.repeat(x, [3, 1])))
        g = inner.gradient(y, x)  # 2 x * count
        z = ad.reduce_sum(g * g)
    assert g.tolist() == [6.0, 4.0]
    assert outer.gradient(z, x).tolist() == [2 * 6.0 * 6.0, 2 * 4.0 * 2.0]


def test_repeat_replays_in_a_function():
    f = ad.Function(lambda x: ad.repeat(x, [1, 2, 0], 0) * 2.0)
    assert f(ad.array([1.0, 2.0, 3.0])).tolist() == [2.0, 4.0, 4.0]
    assert f(ad.array([5.0, 6.0, 7.0])).tolist() == [10.0, 12.0, 12.0]


def test_repeat_kernel_validates_its_arguments():
    lib, C = B.lib, B.C
    x_owner, x = B.alloc(64)
    y_owner, y = B.alloc(64)
    c_owner, counts = B.alloc(8)
    lib.ad_fill(C.AD_FLOAT32, 4, 1.0, x)
    assert lib.ad_repeat(C.AD_FLOAT32, 0, 1, 2, 1, 2, B.NULL, 4, x, y) == C.AD_OK
    assert lib.ad_repeat(C.AD_FLOAT32, 0, 1, 2, 1, 2, B.NULL, 5, x, y) == C.AD_EINVAL  # m is not the total
    assert lib.ad_repeat(C.AD_FLOAT32, 0, 1, 2, 1, -1, B.NULL, 0, x, y) == C.AD_EINVAL
    assert lib.ad_repeat(C.AD_FLOAT32, 0, -1, 2, 1, 2, B.NULL, 4, x, y) == C.AD_EINVAL
    assert lib.ad_repeat(C.AD_FLOAT32, 0, 1, 2, 1, 2**62, B.NULL, 0, x, y) == C.AD_EINVAL  # n * count overflows
    lib.ad_fill(C.AD_INT32, 2, -1.0, counts)
    assert lib.ad_repeat(C.AD_FLOAT32, 0, 1, 2, 1, 0, counts, 0, x, y) == C.AD_EINVAL
    lib.ad_fill(C.AD_INT32, 2, 3.0, counts)
    assert lib.ad_repeat(C.AD_FLOAT32, 0, 1, 2, 1, 0, counts, 6, x, y) == C.AD_OK
    assert lib.ad_repeat(C.AD_FLOAT32, 0, 1, 2, 1, 0, counts, 5, x, y) == C.AD_EINVAL
    assert lib.ad_repeat(C.AD_INT32, 1, 1, 2, 1, 2, B.NULL, 4, x, y) == C.AD_EDTYPE  # adjoints are for floats
    assert lib.ad_repeat(77, 0, 1, 2, 1, 2, B.NULL, 4, x, y) == C.AD_EDTYPE


# --- indices ----------------------------------------------------------------------------------------

def test_float_indices_are_rejected_everywhere():
    x = ad.reshape(ad.array(list(range(15)), "float32"), (5, 3))
    for indices in ([1.7], [1.0], ad.array([1.0, 2.0]), ad.array([1.5], "float64"), 1.0):
        with pytest.raises(TypeError, match="gather: indices must be int32"):
            ad.gather(x, indices)
    with pytest.raises(TypeError, match="one_hot: indices must be int32"):
        ad.one_hot([0.5, 1.9], 3)
    with pytest.raises(TypeError, match="scatter_add: indices must be int32"):
        ad.ops.scatter_add(ad.ones((2, 3)), [0.0, 1.0], 0, 5)
    emb = ad.layers.Embedding(5, 3, name="emb")
    with pytest.raises(TypeError, match=r"Embedding 'emb': indices must be integers \(int32 or int64\), got \(2,\) float32"):
        emb(ad.array([1.7, 2.2]))
    assert emb(ad.array([1, 2])).shape == (2, 3)


def test_out_of_range_indices_raise():
    x = ad.ones((5, 3))
    for bad in ([5], [-1], [2**31 - 1]):
        with pytest.raises(ValueError, match="gather: index out of range"):
            ad.gather(x, bad)
    with pytest.raises(ValueError, match="gather: int64 indices of shape .* do not fit int32"):
        ad.gather(x, [2**33])
    with pytest.raises(ValueError, match="one_hot: index out of range"):
        ad.one_hot([3], 3)


def test_numpy_indices_beyond_int32_do_not_wrap():
    np = pytest.importorskip("numpy")
    x = ad.reshape(ad.array(list(range(15)), "float32"), (5, 3))
    for bad in (np.array([2**33]), np.array([2**32 + 1], np.uint64), np.array([-2**33])):
        with pytest.raises(ValueError, match="gather: (int64 indices .* do not fit int32|.*outside int64)"):
            ad.gather(x, bad)
    with pytest.raises(ValueError, match="one_hot: int64 indices .* do not fit int32"):
        ad.one_hot(np.array([2**32]), 3)
    with pytest.raises(TypeError, match="gather: indices must be integers, got a numpy array of dtype float64"):
        ad.gather(x, np.array([1.0]))
    with pytest.raises(TypeError, match="gather: indices must be integers, got a numpy array of dtype bool"):
        ad.gather(x, np.array([True, False]))
    assert ad.gather(x, np.array([4, 1], np.int64)).tolist() == [[12, 13, 14], [3, 4, 5]]
    assert ad.gather(x, np.int64(2)).tolist() == [6, 7, 8]


def test_embedding_numpy_index_beyond_int32_raises():
    np = pytest.importorskip("numpy")
    with pytest.raises(ValueError):
        ad.layers.Embedding(5, 3)(np.array([2**33]))


# --- NaN ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_relu_and_sign_keep_nan(dtype):
    x = ad.array([NAN, -1.0, 0.0, 2.0, float("inf"), -float("inf")] * 3, dtype)  # long enough for vector loops
    y = ad.relu(x).tolist()
    assert math.isnan(y[0]) and y[1:6] == [0.0, 0.0, 2.0, float("inf"), 0.0]
    s = ad.sign(x).tolist()
    assert math.isnan(s[0]) and s[1:6] == [-1.0, 0.0, 1.0, 1.0, -1.0]
    g = ad.relu_grad(x, ad.ones(x.shape, dtype)).tolist()
    assert math.isnan(g[0]) and g[1:6] == [0.0, 0.0, 1.0, 1.0, 0.0]
    v = ad.Variable(x)
    with ad.GradientTape() as tape:
        out = ad.reduce_sum(ad.relu(v))
    assert math.isnan(out.item()) and math.isnan(tape.gradient(out, v).tolist()[0])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_fused_dense_relu_keeps_nan(dtype):
    from pyautodiff.ops import nn
    x = ad.array([[NAN, 1.0], [-1.0, -2.0], [1.0, 2.0]], dtype)
    y = nn.dense(x, ad.ones((2, 4), dtype), ad.zeros((4,), dtype), "relu")
    assert all(math.isnan(v) for v in y.tolist()[0]) and y.tolist()[1:] == [[0.0] * 4, [3.0] * 4]
    dz, db = nn.bias_act_grad(y, ad.ones((3, 4), dtype), nn.FUSED["relu"])
    assert all(math.isnan(v) for v in dz.tolist()[0]) and dz.tolist()[1:] == [[0.0] * 4, [1.0] * 4]
    assert all(math.isnan(v) for v in db.tolist())


def test_maximum_minimum_clip_propagate_nan_like_numpy():
    a, b = ad.array([NAN, 1.0, 2.0, NAN]), ad.array([1.0, NAN, 1.0, NAN])
    for f in (ad.maximum, ad.minimum):
        got = f(a, b).tolist()
        assert math.isnan(got[0]) and math.isnan(got[1]) and not math.isnan(got[2]) and math.isnan(got[3])
    got = ad.clip_by_value(a, 0.0, 1.5).tolist()
    assert math.isnan(got[0]) and got[1:3] == [1.0, 1.5]
    assert math.isnan(ad.reduce_max(a).item()) and math.isnan(ad.reduce_min(a).item())


@pytest.mark.parametrize("loss,out,labels", [("mse", 1, [[0.0]] * 8), ("binary_crossentropy", 1, [[1.0]] * 8),
                                             ("sparse_categorical_crossentropy", 3, [1] * 8),
                                             ("categorical_crossentropy", 3, [[0.0, 1.0, 0.0]] * 8)])
def test_fit_on_nan_inputs_reports_a_nan_loss(loss, out, labels):
    final = "linear" if loss == "mse" else "sigmoid" if loss == "binary_crossentropy" else "softmax"
    model = ad.Sequential([ad.layers.Dense(4, activation="relu"), ad.layers.Dense(out, activation=final)])
    model.compile(optimizer="sgd", loss=loss)
    history = model.fit(ad.full((8, 3), NAN), ad.array(labels), epochs=1, batch_size=4, verbose=0)
    assert math.isnan(history.history["loss"][0])
    assert math.isnan(model.evaluate(ad.full((8, 3), NAN), ad.array(labels))["loss"])


# --- losses and metrics refuse mismatched shapes ---------------------------------------------------

LOSSES = [ad.losses.MeanSquaredError, ad.losses.Huber, ad.losses.BinaryCrossentropy,
          ad.losses.CategoricalCrossentropy]


@pytest.mark.parametrize("loss", LOSSES)
def test_losses_refuse_same_size_mismatched_shapes(loss):
    with pytest.raises(ValueError, match=rf"{loss.__name__}: y_true of shape \(4, 2, 3\) does not match y_pred of "
                                         r"shape \(4, 3, 2\)"):
        loss()(ad.full((4, 2, 3), 0.5), ad.full((4, 3, 2), 0.5))
    with pytest.raises(ValueError, match=loss.__name__):
        loss()(ad.full((4, 6), 0.5), ad.full((4, 2, 3), 0.5))
    with pytest.raises(ValueError, match=loss.__name__):
        loss()(ad.full((4,), 0.5), ad.full((4, 3), 0.5))


@pytest.mark.parametrize("loss", LOSSES)
def test_losses_accept_a_trailing_one_and_broadcasting(loss):
    y_true = ad.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    y_pred = ad.array([[0.7, 0.2, 0.1], [0.3, 0.6, 0.1]])
    column = ad.array([[0.2], [0.9]])
    if loss is not ad.losses.CategoricalCrossentropy:  # (whose last axis holds the classes)
        assert loss()(y_true, y_pred).item() == pytest.approx(loss()(ad.expand_dims(y_true, -1),
                                                                      ad.expand_dims(y_pred, -1)).item())
        assert loss()(column, ad.reshape(column, (2,))).item() == pytest.approx(loss()(column, column).item())
    assert loss()(ad.reshape(column, (2,)), column).item() == pytest.approx(loss()(column, column).item())
    wide = ad.broadcast_to(column, (2, 3))
    assert loss()(column, y_pred).item() == pytest.approx(loss()(wide, y_pred).item())


def test_mean_squared_error_of_mismatched_shapes_is_no_longer_zero():
    with pytest.raises(ValueError, match="MeanSquaredError"):
        ad.losses.MeanSquaredError()(ad.ones((4, 2, 3)), ad.ones((4, 3, 2)))
    assert ad.losses.MeanSquaredError()(ad.ones((4, 1)), ad.zeros((4, 3))).item() == 1.0


def test_sparse_losses_and_metrics_want_one_label_per_row():
    y_pred = ad.full((4, 2, 3), 1.0 / 3)
    sparse = ad.losses.SparseCategoricalCrossentropy()
    assert sparse(ad.zeros((4, 2), "int32"), y_pred).item() == pytest.approx(math.log(3), rel=1e-5)
    assert sparse(ad.zeros((4, 2, 1), "int32"), y_pred).item() == pytest.approx(math.log(3), rel=1e-5)
    with pytest.raises(ValueError, match=r"SparseCategoricalCrossentropy: labels of shape \(4, 2, 1, 1\) do not"):
        sparse(ad.zeros((4, 2, 1, 1), "int32"), y_pred)
    acc = ad.metrics.SparseCategoricalAccuracy()
    with pytest.raises(ValueError, match=r"sparse_categorical_accuracy: labels of shape \(8,\) do not match"):
        acc.update_state(ad.zeros((8,), "int32"), ad.full((8, 1, 3), 0.5))
    acc.update_state(ad.array([[0], [2]]), ad.array([[0.9, 0.0, 0.1], [0.8, 0.1, 0.1]]))
    assert acc.result() == 0.5


@pytest.mark.parametrize("metric", [ad.metrics.MeanSquaredError, ad.metrics.BinaryAccuracy])
def test_metrics_refuse_same_size_mismatched_shapes(metric):
    m = metric()
    with pytest.raises(ValueError, match=rf"{m.name}: y_true of shape \(4, 2, 3\) does not match y_pred"):
        m.update_state(ad.ones((4, 2, 3)), ad.ones((4, 3, 2)))
    m.update_state(ad.ones((4,)), ad.ones((4, 1)))
    assert m.result() == (0.0 if metric is ad.metrics.MeanSquaredError else 1.0)


# --- int arguments ------------------------------------------------------------------------------------

def test_shape_like_arguments_give_clear_errors():
    x = ad.ones((2, 3))
    with pytest.raises(TypeError, match="reshape: shape must be an int or a sequence of ints, got None"):
        ad.reshape(x, None)
    with pytest.raises(TypeError, match="reshape: each entry of shape must be an int, got float 3.0"):
        ad.reshape(x, (2, 3.0))
    with pytest.raises(TypeError, match="transpose: each entry of perm must be an int, got float 1.0"):
        ad.transpose(x, [1.0, 0.0])
    with pytest.raises(TypeError, match="cast: dtype must be float32, float64, int32, int64 or bool, got None"):
        ad.cast(x, None)
    with pytest.raises(TypeError, match="one_hot: dtype must be float32, float64, int32, int64 or bool, got None"):
        ad.one_hot([0], 2, None)
    with pytest.raises(TypeError, match="one_hot: depth must be an int, got bool True"):
        ad.one_hot([0], True)
    with pytest.raises(TypeError, match="one_hot: depth must be an int, got float 3.0"):
        ad.one_hot([0], 3.0)
    with pytest.raises(TypeError, match="reduce_sum: axis must be an int, got bool True"):
        ad.reduce_sum(x, True)
    with pytest.raises(TypeError, match="reduce_sum: axis must be an int, got str"):
        ad.reduce_sum(x, "0")
    with pytest.raises(TypeError, match="split: num_or_sizes must be an int, got float 1.5"):
        ad.split(x, 1.5, 1)
    with pytest.raises(TypeError, match="scatter_add: size must be an int"):
        ad.ops.scatter_add(x, [0, 1], 0, 2.0)
    with pytest.raises(TypeError, match="getitem: unsupported index 1.0"):
        x[1.0]


def test_outputs_sized_by_arguments_fail_naming_the_op():
    with pytest.raises(MemoryError, match=r"one_hot: cannot allocate an output of shape \(1, 10000000000000000000\)"):
        ad.one_hot([0], 10**19)
    with pytest.raises(MemoryError, match="broadcast_to"):
        ad.broadcast_to(ad.ones((1,)), (2**31, 2**31))
    with pytest.raises(MemoryError, match="scatter_add: cannot allocate"):
        ad.ops.scatter_add(ad.ones((1, 3)), [0], 0, 10**15)


def test_int32_tensors_work_as_int_arguments():
    x = ad.reshape(ad.array(list(range(6)), "float32"), (2, 3))
    assert ad.reduce_sum(x, ad.array(0)).tolist() == [3.0, 5.0, 7.0]
    assert ad.one_hot([1], ad.array(2)).tolist() == [[0.0, 1.0]]
    assert x[ad.array(1), ad.array(2)].item() == 5.0


def test_numpy_integer_scalars_are_accepted_everywhere():
    np = pytest.importorskip("numpy")
    i0, i1, i2, i3 = np.int64(0), np.int32(1), np.int64(2), np.int32(3)
    x = ad.reshape(ad.array(list(range(6)), "float32"), (2, 3))
    assert ad.reduce_sum(x, i0).tolist() == [3.0, 5.0, 7.0]
    assert ad.reduce_mean(x, (i0, i1)).item() == 2.5
    assert ad.reduce_max(x, [np.int64(-1)]).tolist() == [2.0, 5.0]
    assert ad.argmax(x, i1).tolist() == [2, 2] and ad.softmax(x, i0).shape == (2, 3)
    assert ad.reshape(x, (i3, i2)).shape == (3, 2) and ad.reshape(x, np.int64(6)).shape == (6,)
    assert ad.reshape(x, np.array([3, -1])).shape == (3, 2)
    assert ad.transpose(x, (i1, i0)).shape == (3, 2) and ad.transpose(x, np.array([1, 0])).shape == (3, 2)
    assert ad.expand_dims(x, i2).shape == (2, 3, 1) and ad.squeeze(ad.ones((1, 3)), i0).shape == (3,)
    assert ad.concat([x, x], i1).shape == (2, 6) and ad.stack([x, x], i2).shape == (2, 3, 2)
    assert [t.shape for t in ad.split(x, i3, i1)] == [(2, 1)] * 3
    assert [t.shape for t in ad.split(x, np.array([1, 2]), i1)] == [(2, 1), (2, 2)]
    assert ad.gather(x, [i1, i0], axis=i0).tolist() == [[3.0, 4.0, 5.0], [0.0, 1.0, 2.0]]
    assert ad.one_hot([i1], i3).tolist() == [[0.0, 1.0, 0.0]]
    assert ad.repeat(x, i2, i1).shape == (2, 6) and ad.repeat(x, np.array([1, 2]), i0).shape == (3, 3)
    assert x[i1, np.int32(-1)].item() == 5.0 and x[i0].tolist() == [0.0, 1.0, 2.0]
    assert ad.ops.scatter_add(ad.ones((2, 3)), [i0, i1], 0, np.int64(4)).shape == (4, 3)
    assert ad.broadcast_to(x, (i3, i2, np.int64(3))).shape == (3, 2, 3)


def test_set_num_threads_validates_its_range():
    before = ad.get_num_threads()
    try:
        for bad in (2**40, 10**6, 0, -1):
            with pytest.raises(ValueError, match=r"set_num_threads: expects 1 to \d+ threads"):
                ad.set_num_threads(bad)
        for bad in (1.5, True, "2", None):
            with pytest.raises(TypeError, match="set_num_threads: the thread count must be an int"):
                ad.set_num_threads(bad)
        ad.set_num_threads(1)
        assert ad.get_num_threads() == 1
        assert B.lib.ad_set_num_threads(B.C.AD_MAX_THREADS + 1) == B.C.AD_EINVAL
        assert ad.get_num_threads() == 1
    finally:
        ad.set_num_threads(before)


def test_set_num_threads_takes_numpy_integers():
    np = pytest.importorskip("numpy")
    before = ad.get_num_threads()
    try:
        ad.set_num_threads(np.int64(1))
        assert ad.get_num_threads() == 1
    finally:
        ad.set_num_threads(before)

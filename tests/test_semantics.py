"""Semantics a code review pinned down: snapshots of Variables, cache keys, promotion, bounds (no numpy)."""

import pytest

import pyautodiff as ad


def test_internal_ops_are_not_exported():
    for name in ("write_into", "scatter_add", "unbroadcast", "OPS", "ModuleType"):
        assert not hasattr(ad, name), name


def test_scatter_add_checks_its_arguments():
    with pytest.raises(ValueError, match="scatter_add"):
        ad.ops.scatter_add(ad.array([1.0, 2.0]), list(range(8)), 0, 8)
    with pytest.raises(ValueError, match="scatter_add"):
        ad.ops.scatter_add(ad.ones((2, 3)), [0, 1], -1, 2)
    assert ad.ops.scatter_add(ad.array([1.0, 2.0, 3.0]), [1, 1, 0], 0, 2).tolist() == [3.0, 3.0]


def test_no_op_paths_snapshot_variables():
    v = ad.Variable([1.0])
    s, c, b = ad.stop_gradient(v), ad.cast(v, "float32"), ad.broadcast_to(v, (1,))
    v.assign([5.0])
    assert s.tolist() == c.tolist() == b.tolist() == [1.0]
    assert not isinstance(c, ad.Variable) and not isinstance(b, ad.Variable)


def test_scalar_constants_keep_signed_zero_and_type():
    assert (ad.array([1.0]) / 0.0).tolist() == [float("inf")]
    assert (ad.array([1.0]) / -0.0).tolist() == [-float("inf")]
    f = ad.function(lambda x, s: x / s)
    x = ad.array([1.0])
    assert f(x, 0.0).tolist() == [float("inf")] and f(x, -0.0).tolist() == [-float("inf")]
    f(x, float("nan"))
    f(x, float("nan"))
    assert f.trace_count == 3


def test_int_tensor_meets_float_values():
    assert (ad.array([1, 2]) + [0.5, 0.5]).tolist() == [1.5, 2.5]
    assert (ad.array([1, 2]) * 0.5).tolist() == [0.5, 1.0]
    assert (ad.array([1, 2]) + 1).dtype == "int32"


def test_scalar_axis_is_out_of_range():
    for fn in (lambda s: ad.reduce_sum(s, 0), lambda s: ad.squeeze(s, 0), lambda s: ad.gather(s, [0], 0),
               lambda s: ad.concat([s, s], 0)):
        with pytest.raises(ValueError, match="out of range"):
            fn(ad.array(1.0))


def test_int32_extremes_are_defined():
    assert ad.clip_by_value(ad.array([1, 2, 3]), 0, float("inf")).tolist() == [1, 2, 3]
    with pytest.raises(ValueError, match="out of range for int32"):
        ad.full((2,), 2**31, "int32")


def test_numpy_views_of_tensors_are_read_only():
    np = pytest.importorskip("numpy")
    t = ad.array([1.0, 2.0])
    with pytest.raises(ValueError):
        np.asarray(t)[0] = 5.0
    v = ad.Variable([1.0, 2.0])
    with pytest.raises(ValueError):  # a Variable changes by assign only, which its version counts
        np.asarray(v)[0] = 5.0
    assert v.tolist() == [1.0, 2.0]


def test_gradient_through_a_variable_changed_after_use_is_refused():
    w = ad.Variable([1.0], name="w")
    with ad.GradientTape(persistent=True) as t:
        l1 = ad.reduce_sum(w * w)
        l2 = ad.reduce_sum(w * w * w)
    ad.optimizers.SGD(0.5).apply_gradients([(t.gradient(l1, w), w)])
    with pytest.raises(RuntimeError, match="variable 'w' .* was modified .* after op 'multiply'"):
        t.gradient(l2, w)
    v = ad.Variable([3.0], name="v")
    with ad.GradientTape() as t:
        y = v * v
    v.assign([10.0])
    with pytest.raises(RuntimeError, match="modified"):
        t.gradient(y, v)


def test_jacobian_of_an_unconnected_source():
    x, u = ad.Variable([1.0, 2.0]), ad.Variable([3.0])
    with ad.GradientTape(persistent=True) as t:
        y = x * x
    j, ju = t.jacobian(y, [x, u])
    assert j.tolist() == [[2.0, 0.0], [0.0, 4.0]] and ju is None
    assert t.jacobian(y, u, unconnected_gradients="zero").tolist() == [[0.0], [0.0]]


def test_assign_add_is_one_in_place_write_that_no_tape_records():
    v = ad.Variable([1.0, 2.0])
    with ad.GradientTape() as t:
        v.assign_add([1.0, 1.0])
        v.assign_sub(0.5)
    assert v.tolist() == [1.5, 2.5] and t._nodes == []


def test_a_spent_tape_stops_recording():
    x = ad.Variable(2.0)
    with ad.GradientTape() as t:
        y = x * x
        t.gradient(y, x)
        z = x * x * x
    assert t._nodes == []
    del z


def test_int32_reductions():
    x = ad.array([[1, 2, 3], [4, 5, 6]])
    assert ad.reduce_sum(x).tolist() == 21 and ad.reduce_sum(x, 0).tolist() == [5, 7, 9]
    assert ad.reduce_max(x, 1).tolist() == [3, 6] and ad.reduce_min(x).tolist() == 1
    assert ad.reduce_sum(ad.array([2**31 - 1, 1])).tolist() == -2**31  # wraps, as numpy's int32 sum
    assert ad.reduce_sum(ad.array([2**31 - 1, 1]), keepdims=True).dtype == "int32"
    with pytest.raises(TypeError, match="reduce_mean"):
        ad.reduce_mean(x)


def test_argmax_points_at_the_first_nan_as_numpy_does():
    nan = float("nan")
    assert ad.argmax(ad.array([1.0, nan, 3.0, nan])).tolist() == 1
    assert ad.argmax(ad.array([[nan, 5.0], [1.0, 2.0]]), 1).tolist() == [0, 1]

"""Indexing (ops/indexing.py, csrc/index.c): numpy's indexing of tensors and its gradients, gather_nd, gather with
batch_dims, the scatters, boolean masks, sorting and top_k against float64 numpy references; Variables' item writes;
hand-computed cases and the errors without numpy (they run in Pyodide too)."""

import math

import pytest

import pyautodiff as ad
from conftest import rand

try:
    import numpy as np
except ImportError:  # Pyodide: the numpy-free tests below still run
    np = None
needs_numpy = pytest.mark.skipif(np is None, reason="needs numpy")
NAN = float("nan")


def _grad(fn, x):
    with ad.GradientTape() as tape:
        tape.watch(x)
        y = fn(x)
    return y, tape.gradient(y, x, output_gradients=_weights(y.shape))


def _weights(shape):
    """Distinct upstream gradients (float64), so each lands where it should."""
    n = math.prod(shape)
    return ad.reshape(ad.array([float(i % 7) - 2.5 for i in range(n)], "float64"), shape) if n else \
        ad.zeros(shape, "float64")


# --- numpy's indexing ------------------------------------------------------------------------------

KEYS = [
    (None,), (Ellipsis, None), (None, 1), (slice(None), None, 2), ([0, 1, 1],), ([-1, 0],), (slice(None), [2, 0]),
    (0, slice(None), [1, 3]), ([1, 0], slice(None), [1, 3]), ([[0], [1]], [0, 2]), (slice(1, None), [[0, 1]], 3),
    (Ellipsis, [3, 0, 3]), (None, [0, 1], None, 2), ([1, 0], [2, 1], [3, 3]), ([],), (1, 2, [0, -1]),
    "mask0", "mask1", "mask01", "mask_after_int", "mask_and_array",
]


def _key(k):
    """numpy-only keys spelled lazily (numpy arrays cannot be built at import in Pyodide)."""
    return {"mask0": lambda: (np.array([True, False]),),
            "mask1": lambda: (slice(None), [True, False, True]),
            "mask01": lambda: (np.array([[True, False, True], [False, False, True]]),),
            "mask_after_int": lambda: (1, [True, False, True], slice(1, 3)),
            "mask_and_array": lambda: ([0, 1], np.array([True, False, True])),
            }.get(k, lambda: k)() if isinstance(k, str) else k


@needs_numpy
@pytest.mark.parametrize("key", KEYS, ids=str)
def test_getitem_matches_numpy_and_its_gradient_scatters_back(key):
    key = _key(key)
    a = np.random.default_rng(0).standard_normal((2, 3, 4))
    x = ad.array(a)
    y, g = _grad(lambda t: t[key], x)
    expect = a[key]
    assert y.shape == expect.shape
    np.testing.assert_array_equal(np.asarray(y), expect)
    ref = np.zeros_like(a)
    np.add.at(ref, key, np.asarray(_weights(expect.shape)))
    np.testing.assert_array_equal(np.asarray(g), ref)


@needs_numpy
def test_getitem_takes_numpy_and_int32_tensor_indices():
    a = np.arange(12.0).reshape(3, 4)
    x = ad.array(a)
    np.testing.assert_array_equal(np.asarray(x[np.array([2, 0])]), a[[2, 0]])
    np.testing.assert_array_equal(np.asarray(x[:, ad.array([[3], [1]])]), a[:, [[3], [1]]])
    np.testing.assert_array_equal(np.asarray(x[np.int64(1), ad.array(2)]), a[1, 2])


def test_getitem_by_hand():
    x = ad.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert x[None].shape == (1, 2, 3) and x[..., None].shape == (2, 3, 1)
    assert x[[1, 0, 1]].tolist() == [[4, 5, 6], [1, 2, 3], [4, 5, 6]]
    assert x[:, [2, -3]].tolist() == [[3, 1], [6, 4]]
    assert x[[0, 1], [2, 0]].tolist() == [3, 4]
    assert x[[True, False]].tolist() == [[1, 2, 3]]
    assert x[[[False, True, False], [True, False, True]]].tolist() == [2, 4, 6]
    assert x[[False, False]].shape == (0, 3)
    assert x[[]].shape == (0, 3)


def test_getitem_errors_name_the_index_and_the_shape():
    x = ad.zeros((2, 3))
    with pytest.raises(IndexError, match=r"getitem: index 3 is out of range for dimensions \(3,\) of shape \(2, 3\)"):
        x[:, [0, 3]]
    with pytest.raises(IndexError, match=r"getitem: index -3 is out of range"):
        x[[-3]]
    with pytest.raises(IndexError, match=r"boolean mask of shape \(3,\) does not match the axes from 0 on of shape"):
        x[[True, False, True]]
    with pytest.raises(IndexError, match=r"index arrays of shapes \(2,\), \(3,\) cannot be broadcast"):
        x[[0, 1], [0, 1, 2]]
    with pytest.raises(IndexError, match="too many indices"):
        x[[0], 0, 0]
    with pytest.raises(TypeError, match=r"getitem: a \(2,\) float32 tensor is no index.*ad.boolean_mask"):
        x[ad.array([1.0, 0.0])]
    with pytest.raises(TypeError, match="getitem: indices must be int32"):
        x[[0.5, 1.0]]
    with pytest.raises(TypeError, match="unsupported index"):
        x["a"]


# --- gather_nd, gather(batch_dims), the scatters ----------------------------------------------------

def _gather_nd_ref(params, indices, batch_dims=0):
    """tf.gather_nd, one batch element at a time."""
    lead = indices.shape[:batch_dims]
    out = np.empty(indices.shape[:-1] + params.shape[batch_dims + indices.shape[-1]:])
    for b in np.ndindex(*lead):
        for i in np.ndindex(*indices.shape[batch_dims:-1]):
            out[b + i] = params[b][tuple(indices[b + i])]
    return out


@needs_numpy
@pytest.mark.parametrize("pshape,ishape,batch_dims", [((4, 3), (5, 2), 0), ((4, 3, 2), (2, 3, 1), 0),
                                                      ((2, 4, 3), (2, 5, 1), 1), ((2, 3, 4, 2), (2, 3, 2), 2),
                                                      ((3, 2), (4, 0), 0), ((2, 3), (2, 2, 1), -2)])
def test_gather_nd_matches_tensorflows_rule(pshape, ishape, batch_dims):
    rng = np.random.default_rng(1)
    a = rng.standard_normal(pshape)
    b = batch_dims % len(ishape) if batch_dims < 0 else batch_dims
    dims = pshape[b:b + ishape[-1]]
    idx = np.stack([rng.integers(0, d, ishape[:-1]) for d in dims], -1).astype(np.int32) if dims else \
        np.zeros(ishape, np.int32)
    y, g = _grad(lambda t: ad.gather_nd(t, idx, batch_dims=batch_dims), ad.array(a))
    np.testing.assert_array_equal(np.asarray(y), _gather_nd_ref(a, idx, b))
    w, ref = np.asarray(_weights(y.shape)), np.zeros(pshape)
    for at in np.ndindex(*idx.shape[:-1]):  # each tuple's gradient row added back where it was taken
        ref[at[:b]][tuple(idx[at])] += w[at]
    np.testing.assert_array_equal(np.asarray(g), ref)


@needs_numpy
@pytest.mark.parametrize("axis,batch_dims", [(0, 0), (2, 0), (1, 1), (2, 1), (3, 1), (2, 2), (-1, -1)])
def test_gather_batch_dims_matches_tensorflows_rule(axis, batch_dims):
    rng = np.random.default_rng(2)
    a = rng.standard_normal((2, 3, 4, 5))
    ishape = (2, 3, 2)[:max(batch_dims % 3 if batch_dims < 0 else batch_dims, 0)] + (6,)
    b = batch_dims + len(ishape) if batch_dims < 0 else batch_dims
    ax = axis % 4
    idx = rng.integers(0, a.shape[ax], ishape).astype(np.int32)
    y = ad.gather(ad.array(a), idx, axis=axis, batch_dims=batch_dims)
    ref = np.stack([np.take(a[bi], idx[bi], axis=ax - b) for bi in np.ndindex(*idx.shape[:b])]).reshape(
        a.shape[:ax] + idx.shape[b:] + a.shape[ax + 1:]) if b else np.take(a, idx, axis=ax)
    np.testing.assert_array_equal(np.asarray(y), ref)


@needs_numpy
def test_scatters_match_numpy():
    rng = np.random.default_rng(3)
    idx = np.array([[1, 0], [2, 3], [1, 0], [0, 0]], np.int32)
    u = rng.standard_normal((4, 5))
    ref = np.zeros((3, 4, 5))
    np.add.at(ref, (idx[:, 0], idx[:, 1]), u)
    np.testing.assert_array_equal(np.asarray(ad.scatter_nd(idx, ad.array(u), (3, 4, 5))), ref)
    base = rng.standard_normal((3, 4, 5))
    np.testing.assert_array_equal(np.asarray(ad.tensor_scatter_nd_add(ad.array(base), idx, ad.array(u))), base + ref)
    upd = base.copy()
    for (i, j), row in zip(idx, u):  # the last of a duplicate wins
        upd[i, j] = row
    np.testing.assert_array_equal(np.asarray(ad.tensor_scatter_nd_update(ad.array(base), idx, ad.array(u))), upd)


def test_keras_spellings_scatter_and_scatter_update():
    """keras.ops.scatter(indices, values, shape) and scatter_update(inputs, indices, updates), differentiable."""
    x = ad.array([[1.0, 2.0], [3.0, 4.0]], "float64")
    u = ad.array([10.0, 20.0, 30.0], "float64")
    idx = [[0, 1], [1, 0], [0, 1]]
    assert ad.scatter(idx, u, (2, 2)).tolist() == [[0, 40], [20, 0]]
    with ad.GradientTape() as tape:
        tape.watch([x, u])
        y = ad.scatter_update(x, [[1, 1]], u[:1])
    assert y.tolist() == [[1, 2], [3, 10]]
    gx, gu = tape.gradient(y, [x, u])
    assert gx.tolist() == [[1, 1], [1, 0]] and gu.tolist() == [1, 0, 0]
    with pytest.raises(IndexError, match="scatter_nd"):
        ad.scatter([[2, 0]], [1.0], (2, 2))

def test_scatters_by_hand_and_their_gradients():
    x = ad.array([[1.0, 2.0], [3.0, 4.0]], "float64")
    u = ad.array([10.0, 20.0, 30.0], "float64")
    idx = [[0, 1], [1, 0], [0, 1]]
    assert ad.scatter_nd(idx, u, (2, 2)).tolist() == [[0, 40], [20, 0]]
    assert ad.tensor_scatter_nd_add(x, idx, u).tolist() == [[1, 42], [23, 4]]
    with ad.GradientTape(persistent=True) as tape:
        tape.watch([x, u])
        y = ad.tensor_scatter_nd_update(x, idx, u)
    assert y.tolist() == [[1, 30], [20, 4]]
    gx, gu = tape.gradient(y, [x, u], output_gradients=ad.array([[1.0, 2.0], [3.0, 4.0]], "float64"))
    assert gx.tolist() == [[1, 0], [0, 4]] and gu.tolist() == [2, 3, 2]
    assert ad.gather_nd([[1, 2], [3, 4]], [[1, 1], [0, 1]]).tolist() == [4, 2]
    assert ad.gather_nd([[1, 2], [3, 4]], [[1]]).tolist() == [[3, 4]]
    assert ad.gather([[1, 2, 3], [4, 5, 6]], [[2, 0], [1, 1]], axis=1, batch_dims=1).tolist() == [[3, 1], [5, 5]]


def test_gather_nd_and_scatter_errors():
    x = ad.zeros((2, 3))
    with pytest.raises(IndexError, match=r"gather_nd: index \(1, 3\) is out of range for dimensions \(2, 3\) of "
                                         r"shape \(2, 3\)"):
        ad.gather_nd(x, [[0, 0], [1, 3]])
    with pytest.raises(IndexError, match=r"gather_nd: index \(-1, 0\)"):  # TF: no negative tuples
        ad.gather_nd(x, [[-1, 0]])
    with pytest.raises(IndexError, match=r"scatter_nd: index 4 is out of range for dimensions \(4,\)"):
        ad.scatter_nd([[4]], [1.0], (4,))
    with pytest.raises(IndexError, match="tensor_scatter_nd_update: index 2"):
        ad.tensor_scatter_nd_update(x, [[2]], [[1.0, 2.0, 3.0]])
    with pytest.raises(ValueError, match=r"gather_nd: indices \(1, 3\) \(batch_dims=0\) do not index shape \(2, 3\)"):
        ad.gather_nd(x, [[0, 0, 0]])
    with pytest.raises(ValueError, match=r"scatter_nd: updates must have shape \(2, 3\) \(indices \(2, 1\) into "
                                         r"shape \(4, 3\)\), got \(2,\)"):
        ad.scatter_nd([[0], [1]], [1.0, 2.0], (4, 3))
    with pytest.raises(TypeError, match="tensor_scatter_nd_add: updates are float64, the tensor is float32"):
        ad.tensor_scatter_nd_add(x, [[0, 0]], ad.array([1.0], "float64"))
    with pytest.raises(TypeError, match="gather_nd: indices must be int32"):
        ad.gather_nd(x, [[0.0, 1.0]])
    with pytest.raises(ValueError, match="gather_nd: batch_dims 2 is out of range for indices of shape"):
        ad.gather_nd(x, [[0, 1]], batch_dims=2)
    with pytest.raises(ValueError, match="gather: indices .* must share batch_dims=1"):
        ad.gather(x, [[0], [1], [2]], axis=1, batch_dims=1)
    with pytest.raises(IndexError, match=r"gather: index 3 is out of range for dimensions \(3,\)"):
        ad.gather(x, [[0], [3]], axis=1, batch_dims=1)


# --- boolean_mask ---------------------------------------------------------------------------------

@needs_numpy
@pytest.mark.parametrize("mshape,axis", [((2,), 0), ((3,), 1), ((3, 4), 1), ((2, 3, 4), 0)])
def test_boolean_mask_matches_numpy(mshape, axis):
    rng = np.random.default_rng(4)
    a = rng.standard_normal((2, 3, 4))
    m = rng.random(mshape) < 0.5
    ref = a[(slice(None),) * axis + (m,)]
    for mask in (m, ad.array(m.astype(np.float32)), m.tolist()):
        np.testing.assert_array_equal(np.asarray(ad.boolean_mask(ad.array(a), mask, axis=axis)), ref)


def test_boolean_mask_by_hand_and_errors():
    x = ad.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    assert ad.boolean_mask(x, [True, False, True]).tolist() == [[1, 2], [5, 6]]
    assert ad.boolean_mask(x, x > 3.0).tolist() == [4, 5, 6]  # comparisons give 1/0: nonzero is True
    assert ad.boolean_mask(x, ad.array([NAN, 0.0]), axis=1).tolist() == [[1], [3], [5]]  # NaN is nonzero
    with pytest.raises(ValueError, match=r"boolean_mask: mask of shape \(2,\) does not match the axes from 0 on"):
        ad.boolean_mask(x, [True, False])
    f = ad.Function(lambda t, m: ad.boolean_mask(t, m))
    assert f(x, ad.array([1, 0, 1])).tolist() == [[1, 2], [5, 6]]
    assert f(x, ad.array([0, 1, 1])).tolist() == [[3, 4], [5, 6]]  # the same count: replayed
    with pytest.raises(ValueError, match="boolean_mask"):  # another count: the traced shapes no longer hold
        f(x, ad.array([1, 1, 1]))


# --- sorting ---------------------------------------------------------------------------------------

def _sort_ref(row, descending):
    """A stable order: NaN last ascending, first descending (the largest, as numpy)."""
    key = (lambda j: (not math.isnan(row[j]), -row[j] if not math.isnan(row[j]) else 0)) if descending else \
        (lambda j: (math.isnan(row[j]), row[j] if not math.isnan(row[j]) else 0))
    return sorted(range(len(row)), key=key)


@needs_numpy
@pytest.mark.parametrize("dtype", ["float32", "float64", "int32"])
@pytest.mark.parametrize("axis", [0, 1, -1])
@pytest.mark.parametrize("direction", ["ASCENDING", "DESCENDING"])
def test_sort_and_argsort_match_a_stable_reference(dtype, axis, direction):
    rng = np.random.default_rng(5)
    a = rng.integers(-3, 4, (7, 9)).astype(dtype)  # many ties: stability shows
    if dtype != "int32":
        a[rng.random(a.shape) < 0.1] = np.nan
    order = np.asarray(ad.argsort(ad.array(a), axis=axis, direction=direction))
    moved = np.moveaxis(a, axis, -1)
    ref = np.stack([_sort_ref(row.tolist(), direction == "DESCENDING") for row in moved.reshape(-1, moved.shape[-1])])
    ref = np.moveaxis(ref.reshape(moved.shape), -1, axis)
    np.testing.assert_array_equal(order, ref)
    np.testing.assert_array_equal(np.asarray(ad.sort(ad.array(a), axis=axis, direction=direction)),
                                  np.take_along_axis(a, ref, axis))
    if direction == "ASCENDING":
        np.testing.assert_array_equal(order, np.argsort(a, axis=axis, kind="stable"))


@needs_numpy
@pytest.mark.parametrize("k", [0, 1, 3, 9])
def test_top_k_matches_a_stable_reference(k):
    a = np.random.default_rng(6).integers(-3, 4, (4, 9)).astype(np.float64)
    a[1, 2] = np.nan
    values, indices = ad.top_k(ad.array(a), k)
    ref = np.array([_sort_ref(row.tolist(), True)[:k] for row in a], np.int32).reshape(4, k)
    np.testing.assert_array_equal(np.asarray(indices), ref)
    np.testing.assert_array_equal(np.asarray(values), np.take_along_axis(a, ref, 1))


def test_sorting_by_hand_and_gradients():
    x = ad.array([3.0, NAN, 1.0, 3.0, -2.0], "float64")
    assert ad.argsort(x).tolist() == [4, 2, 0, 3, 1]
    assert ad.argsort(x, direction="DESCENDING").tolist() == [1, 0, 3, 2, 4]
    assert str(ad.sort(x)) == "[-2, 1, 3, 3, nan]"
    values, indices = ad.top_k(ad.array([[1.0, 5.0, 5.0, 2.0]]), 2)
    assert values.tolist() == [[5, 5]] and indices.tolist() == [[1, 2]]
    y = ad.array([[0.5, -1.0, 2.0], [4.0, 3.0, 1.0]], "float64")
    with ad.GradientTape() as tape:
        tape.watch(y)
        top = ad.top_k(y, 2)[0]
    assert tape.gradient(top, y, output_gradients=ad.array([[1.0, 10.0], [100.0, 1000.0]], "float64")).tolist() == \
        [[10, 0, 1], [100, 1000, 0]]


def test_sorting_errors():
    with pytest.raises(ValueError, match="sort: direction must be 'ASCENDING' or 'DESCENDING', got 'up'"):
        ad.sort([1.0, 2.0], direction="up")
    with pytest.raises(ValueError, match=r"top_k: k=4 must lie in \[0, 3\] for x of shape \(3,\)"):
        ad.top_k([1.0, 2.0, 3.0], 4)
    with pytest.raises(ValueError, match="argsort: axis 1 is out of range"):
        ad.argsort([1.0, 2.0], axis=1)


# --- Variables: item writes ----------------------------------------------------------------------------

def test_variable_item_assignment():
    v = ad.Variable([[0.0, 0.0, 0.0, 0.0]] * 3)
    assert v[1:3].assign([[1.0, 2.0, 3.0, 4.0]]) is v
    v[0, [1, 3]] = 5.0
    v[[False, True, False], -1] = [9.0]
    v[..., 0] = ad.array([7.0, 8.0, 9.0])
    assert v.tolist() == [[7, 5, 0, 5], [8, 2, 3, 9], [9, 2, 3, 4]]
    v.scatter_update([2, 0], [[1.0] * 4, [2.0] * 4])
    v.scatter_add([2, 2], ad.ones((2, 4)))
    v.scatter_nd_update([[1, 1]], [6.0])
    v.scatter_nd_add([[1, 1], [1, 2]], [1.0, 1.0])
    assert v.tolist() == [[2, 2, 2, 2], [8, 7, 4, 9], [3, 3, 3, 3]]


def test_variable_writes_bump_the_version_so_stale_tapes_refuse():
    v = ad.Variable([1.0, 2.0, 3.0])
    with ad.GradientTape() as tape:
        y = ad.reduce_sum(v[1:] * v[1:])
    before = v.version
    v[0] = 4.0
    assert v.version == before + 1
    with pytest.raises(RuntimeError):
        tape.gradient(y, v)
    with ad.GradientTape() as tape:
        piece = v[[2, 1]]
        y = ad.reduce_sum(piece * piece)
    assert tape.gradient(y, v).tolist() == [0, 4, 6]


def test_item_writes_refuse_bad_input_and_write_nothing():
    v = ad.Variable([1.0, 2.0, 3.0])
    with pytest.raises(IndexError, match=r"setitem: index 3 is out of range"):
        v[[0, 3]] = 0.0
    with pytest.raises(IndexError, match=r"scatter_update: index 5 is out of range for dimensions \(3,\)"):
        v.scatter_update([0, 5], [0.0, 0.0])
    with pytest.raises(ValueError, match=r"setitem: updates of shape \(3,\) do not fit \(2,\)"):
        v[1:] = [1.0, 2.0, 3.0]
    with pytest.raises(TypeError, match="scatter_nd_update: variable .* is float32, updates are float64"):
        v.scatter_nd_update([[0]], ad.array([1.0], "float64"))
    assert v.tolist() == [1, 2, 3] and v.version == 0
    with pytest.raises(TypeError, match=r"a Tensor \(3,\) float32 is immutable: item assignment needs an ad.Variable"):
        ad.array([1.0, 2.0, 3.0])[0] = 1.0


def test_item_writes_replay_in_a_function():
    v = ad.Variable([0.0, 0.0, 0.0])

    @ad.function
    def bump(i):
        v[i] = v[i] + 1.0
        return v.value()
    bump(ad.array([2]))
    assert bump(ad.array([0])).tolist() == [1, 0, 1] and bump.trace_count == 1


def test_kernels_validate_their_arguments():
    from pyautodiff import _backend as B
    lib, C = B.lib, B.C
    x = ad.zeros((4,))
    idx = ad.array([[0], [4]])
    assert lib.ad_gather_nd(C.AD_ND_GATHER, C.AD_FLOAT32, 1, 2, 1, B.i64((4,)), 1, 0, idx._ptr, x._ptr, x._ptr) == \
        C.AD_EINDEX
    assert lib.ad_gather_nd(7, C.AD_FLOAT32, 1, 2, 1, B.i64((4,)), 1, 0, idx._ptr, x._ptr, x._ptr) == C.AD_EINVAL
    assert lib.ad_take_along(0, C.AD_FLOAT32, 1, 4, 1, 2, idx._ptr, x._ptr, x._ptr) == C.AD_EINDEX
    assert lib.ad_argsort(C.AD_FLOAT32, 0, 1, 4, 1, 5, x._ptr, idx._ptr) == C.AD_EINVAL
    count = B.i64_array((0,))
    assert lib.ad_nonzero(C.AD_FLOAT32, 4, x._ptr, 3, idx._ptr, count) == C.AD_EINVAL  # 0 nonzero, capacity 3
    assert lib.ad_random(C.AD_UNIFORM, C.AD_INT32, 4, 1, 0.5, 3.0, x._ptr) == C.AD_EINVAL
